"""One small database layer over SQLite (the embedded default) and PostgreSQL (psycopg 3).

SQL is written once with `?` placeholders; PostgreSQL gets them as `%s`. Both connections run in
autocommit mode and `transaction()` issues BEGIN/COMMIT/ROLLBACK itself, so a block of DDL and DML
(a migration) is one transaction on both engines.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
from urllib.parse import urlparse


class DatabaseError(Exception):
    """A statement failed (either engine's error, wrapped)."""


def split_sql(script: str) -> list[str]:
    """Split a script into statements on `;` outside quotes and `--` comments."""
    out, cur, i, n = [], [], 0, len(script)
    quote = None
    while i < n:
        c = script[i]
        if quote:
            cur.append(c)
            if c == quote:
                if i + 1 < n and script[i + 1] == quote:  # '' inside a string
                    cur.append(script[i + 1])
                    i += 1
                else:
                    quote = None
        elif c in ("'", '"'):
            quote = c
            cur.append(c)
        elif c == "-" and script.startswith("--", i):
            j = script.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c == ";":
            stmt = "".join(cur).strip()
            if stmt:
                out.append(stmt)
            cur = []
        else:
            cur.append(c)
        i += 1
    stmt = "".join(cur).strip()
    if stmt:
        out.append(stmt)
    return out


class Connection:
    """A connection of either engine with the same small interface."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith(("postgresql://", "postgres://")):
            import psycopg
            from psycopg.rows import dict_row

            self.dialect = "postgresql"
            self._errors = (psycopg.Error,)
            self._raw = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=10)
        elif url.startswith("sqlite:///"):
            path = url[len("sqlite:///"):]
            if path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.dialect = "sqlite"
            self._errors = (sqlite3.Error,)
            self._raw = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
            self._raw.row_factory = sqlite3.Row
            self._raw.execute("PRAGMA foreign_keys = ON")
        else:
            raise ValueError(f"unsupported DATABASE_URL scheme: {urlparse(url).scheme or url!r}")
        self._depth = 0

    def _sql(self, sql: str, has_params: bool) -> str:
        if self.dialect == "postgresql" and has_params:
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    def execute(self, sql: str, params=()) -> list[dict]:
        """Run one statement; returns its rows (empty for statements without any)."""
        params = tuple(params)
        try:
            if self.dialect == "postgresql":
                # no parameters: psycopg then takes the text as it is (no % escaping)
                cur = self._raw.execute(self._sql(sql, bool(params)), params or None)
            else:
                cur = self._raw.execute(sql, params)
            if cur.description is None:
                return []
            return [dict(r) for r in cur.fetchall()]
        except self._errors as e:
            raise DatabaseError(f"{type(e).__name__}: {e}".strip()) from e

    def one(self, sql: str, params=()) -> dict | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def script(self, script: str) -> None:
        """Run every statement of a script (no parameters), in order. PostgreSQL takes the script
        whole (so dollar-quoted bodies need no splitting); SQLite's driver runs one statement a call."""
        if self.dialect == "postgresql":
            if split_sql(script):
                self.execute(script)
            return
        for stmt in split_sql(script):
            self.execute(stmt)

    @contextlib.contextmanager
    def transaction(self, exclusive: bool = False):
        """BEGIN ... COMMIT, or ROLLBACK when the block raises. Nested blocks join the outer one.
        exclusive: one such transaction at a time across processes (SQLite: BEGIN IMMEDIATE takes
        the write lock; PostgreSQL: a transaction-scoped advisory lock)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN IMMEDIATE" if exclusive and self.dialect == "sqlite" else "BEGIN")
        self._depth = 1
        if exclusive and self.dialect == "postgresql":
            try:
                self.execute("SELECT pg_advisory_xact_lock(7263001)")
            except BaseException:
                self._depth = 0
                self.execute("ROLLBACK")
                raise
        try:
            yield self
        except BaseException:
            self._depth = 0
            try:
                self.execute("ROLLBACK")
            except DatabaseError:
                pass
            raise
        self._depth = 0
        self.execute("COMMIT")

    def table_columns(self, table: str) -> list[str]:
        """The column names of a table (empty when it does not exist)."""
        if self.dialect == "sqlite":
            return [r["name"] for r in self.execute(f"PRAGMA table_info({table})")]
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [r["column_name"] for r in rows]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.close()


def default_sqlite_url() -> str:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return "sqlite:///" + os.path.join(here, "instance", "cruddur.sqlite3")


def connect(url: str | None = None) -> Connection:
    return Connection(url or os.environ.get("DATABASE_URL") or default_sqlite_url())
