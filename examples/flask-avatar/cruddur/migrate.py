"""The migrations tool: timestamped Python files with migrate_sql()/rollback_sql().

    python -m cruddur.migrate [--database-url URL] [--dir DIR] generate NAME
    python -m cruddur.migrate [--database-url URL] [--dir DIR] migrate
    python -m cruddur.migrate [--database-url URL] [--dir DIR] rollback [--steps N]
    python -m cruddur.migrate [--database-url URL] [--dir DIR] status

What it fixes in the seed's bin/db/migrate and bin/db/rollback:
- schema_information holds one row per applied migration (version, name, applied_at), not only the
  last timestamp, so a rollback undoes exactly the last applied migration and the one before it
  becomes the last; a migration merged with an older timestamp than the newest applied one is
  still applied (the seed skipped it);
- migrations run in sorted version order (the seed took the directory's order);
- each migration runs in one transaction together with its schema_information row: a failing
  migration leaves nothing applied (DDL is transactional on SQLite and PostgreSQL);
- the SQL is the files' own; the generated template's rollback names what it drops.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import os
import re
import sys
from dataclasses import dataclass

from .db import Connection, DatabaseError, connect

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
_FILE_RE = re.compile(r"^(\d{14})_([a-z][a-z0-9_]*)\.py$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

TEMPLATE = '''"""Migration {version}: {name}."""


def migrate_sql():
    return """
    -- e.g. ALTER TABLE users ADD COLUMN example TEXT;
    """


def rollback_sql():
    # undo exactly what migrate_sql() did, naming what it drops
    return """
    -- e.g. ALTER TABLE users DROP COLUMN example;
    """
'''

SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS schema_information (
  version VARCHAR(14) PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)
"""


class MigrationError(Exception):
    """A migration could not be found, loaded or applied; nothing of it was kept."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: str

    def load(self):
        spec = importlib.util.spec_from_file_location(f"_migration_{self.version}", self.path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception as e:  # a syntax error in a migration is the user's error, reported
            raise MigrationError(f"{os.path.basename(self.path)}: cannot load: {e}") from e
        for fn in ("migrate_sql", "rollback_sql"):
            if not callable(getattr(mod, fn, None)):
                raise MigrationError(f"{os.path.basename(self.path)}: no {fn}() function")
        return mod


def discover(directory: str = DEFAULT_DIR) -> list[Migration]:
    """The migration files of a directory, in version order. Other files are ignored."""
    found = []
    for fn in os.listdir(directory):
        m = _FILE_RE.match(fn)
        if m:
            found.append(Migration(m.group(1), m.group(2), os.path.join(directory, fn)))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    dup = {v for v in versions if versions.count(v) > 1}
    if dup:
        raise MigrationError(f"two migrations share the version {sorted(dup)[0]}")
    return found


def ensure_schema_table(conn: Connection) -> None:
    # under the lock: PostgreSQL's CREATE TABLE IF NOT EXISTS can still collide with a concurrent one
    with conn.transaction(exclusive=True):
        conn.execute(SCHEMA_TABLE.strip())


def applied_versions(conn: Connection) -> list[str]:
    ensure_schema_table(conn)
    return [r["version"] for r in conn.execute("SELECT version FROM schema_information ORDER BY version")]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def migrate(conn: Connection, directory: str = DEFAULT_DIR) -> list[Migration]:
    """Apply every pending migration in version order, each in its own transaction.
    Returns the ones applied; raises MigrationError at the first failure (earlier ones stay)."""
    done = set(applied_versions(conn))
    applied = []
    for mig in discover(directory):
        if mig.version in done:
            continue
        mod = mig.load()
        try:
            with conn.transaction(exclusive=True):
                # two processes migrating at once (two app workers starting): the second one waits
                # for the lock, then finds the migration applied
                if conn.one("SELECT version FROM schema_information WHERE version = ?", (mig.version,)):
                    continue
                conn.script(mod.migrate_sql())
                conn.execute(
                    "INSERT INTO schema_information (version, name, applied_at) VALUES (?, ?, ?)",
                    (mig.version, mig.name, _now()),
                )
        except DatabaseError as e:
            raise MigrationError(f"{os.path.basename(mig.path)}: {e}") from e
        applied.append(mig)
    return applied


def rollback(conn: Connection, directory: str = DEFAULT_DIR, steps: int = 1) -> list[Migration]:
    """Undo the last `steps` applied migrations, newest first, each in its own transaction."""
    by_version = {m.version: m for m in discover(directory)}
    undone = []
    for _ in range(steps):
        versions = applied_versions(conn)
        if not versions:
            break
        last = versions[-1]
        mig = by_version.get(last)
        if mig is None:
            raise MigrationError(f"the last applied migration {last} has no file in {directory}")
        mod = mig.load()
        try:
            with conn.transaction(exclusive=True):
                if not conn.one("SELECT version FROM schema_information WHERE version = ?", (last,)):
                    continue
                conn.script(mod.rollback_sql())
                conn.execute("DELETE FROM schema_information WHERE version = ?", (last,))
        except DatabaseError as e:
            raise MigrationError(f"{os.path.basename(mig.path)} (rollback): {e}") from e
        undone.append(mig)
    return undone


def status(conn: Connection, directory: str = DEFAULT_DIR) -> list[tuple[Migration, bool]]:
    done = set(applied_versions(conn))
    return [(m, m.version in done) for m in discover(directory)]


def generate(name: str, directory: str = DEFAULT_DIR, now: _dt.datetime | None = None) -> str:
    """Write a new migration file named <UTC timestamp>_<name>.py; returns its path."""
    name = name.strip().lower()
    if not _NAME_RE.match(name):
        raise MigrationError(f"migration name {name!r}: use letters, digits and _ (starting with a letter)")
    os.makedirs(directory, exist_ok=True)
    t = now or _dt.datetime.now(_dt.timezone.utc)
    taken = {m.version for m in discover(directory)}
    version = t.strftime("%Y%m%d%H%M%S")
    while version in taken or (taken and version <= max(taken)):  # always after the newest
        t += _dt.timedelta(seconds=1)
        version = t.strftime("%Y%m%d%H%M%S")
    path = os.path.join(directory, f"{version}_{name}.py")
    with open(path, "x") as f:
        f.write(TEMPLATE.format(version=version, name=name))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cruddur.migrate", description=__doc__.split("\n")[0])
    p.add_argument("--database-url", default=None, help="default: $DATABASE_URL, else the SQLite file")
    p.add_argument("--dir", default=DEFAULT_DIR, help="the migrations directory")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write a new migration file")
    g.add_argument("name")
    sub.add_parser("migrate", help="apply the pending migrations")
    r = sub.add_parser("rollback", help="undo the last applied migration(s)")
    r.add_argument("--steps", type=int, default=1)
    sub.add_parser("status", help="list the migrations, applied or pending")
    a = p.parse_args(argv)
    try:
        if a.cmd == "generate":
            print(generate(a.name, a.dir))
            return 0
        conn = connect(a.database_url)
        try:
            if a.cmd == "migrate":
                done = migrate(conn, a.dir)
                for m in done:
                    print(f"applied   {m.version} {m.name}")
                print(f"{len(done)} migration(s) applied")
            elif a.cmd == "rollback":
                if a.steps < 1:
                    raise MigrationError("--steps must be at least 1")
                done = rollback(conn, a.dir, a.steps)
                for m in done:
                    print(f"rolled back {m.version} {m.name}")
                print(f"{len(done)} migration(s) rolled back")
            else:
                for m, ok in status(conn, a.dir):
                    print(f"{'applied' if ok else 'pending':9} {m.version} {m.name}")
        finally:
            conn.close()
    except (MigrationError, DatabaseError, ValueError, OSError) as e:
        print(f"migrate: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
