"""The migrations tool on SQLite and PostgreSQL: order, transactions, rollback, the CLI."""
import datetime as dt
import os
import subprocess
import sys

import pytest

from conftest import APP_DIR
from cruddur import migrate as m
from cruddur.db import connect

SHIPPED = ["20230301000000", "20230315000000", "20261203000000"]


@pytest.fixture
def conn(db_url):
    c = connect(db_url)
    yield c
    c.close()


def write(d, version, name, up, down):
    (d / f"{version}_{name}.py").write_text(
        f"def migrate_sql():\n    return {up!r}\n\n\ndef rollback_sql():\n    return {down!r}\n"
    )


def test_shipped_migrations_build_the_schema_and_roll_back_one_at_a_time(conn):
    applied = m.migrate(conn)
    assert [x.version for x in applied] == SHIPPED
    cols = conn.table_columns("users")
    for c in ("uuid", "display_name", "handle", "email", "cognito_user_id", "created_at", "bio",
              "avatar_version", "avatar_pending_since"):
        assert c in cols
    assert m.migrate(conn) == []  # idempotent

    # the seed's rollback named no column; ours drops the avatar columns only, then bio only
    assert [x.version for x in m.rollback(conn)] == ["20261203000000"]
    cols = conn.table_columns("users")
    assert "bio" in cols and "avatar_version" not in cols and "avatar_pending_since" not in cols
    assert m.applied_versions(conn) == SHIPPED[:2]
    assert [x.version for x in m.rollback(conn)] == ["20230315000000"]
    assert conn.table_columns("users") == ["uuid", "display_name", "handle", "email", "cognito_user_id",
                                           "created_at"]
    assert [x.version for x in m.rollback(conn)] == ["20230301000000"]
    assert conn.table_columns("users") == []
    assert m.rollback(conn) == []  # nothing left to undo
    assert [x.version for x in m.migrate(conn)] == SHIPPED


def test_data_survives_the_bio_rollback_and_reapply(conn):
    m.migrate(conn)
    conn.execute("INSERT INTO users (uuid, handle, display_name, bio) VALUES (?, ?, ?, ?)",
                 ("11111111-1111-1111-1111-111111111111", "bob", "Bob", "hello"))
    m.rollback(conn, steps=2)
    assert conn.one("SELECT handle, display_name FROM users") == {"handle": "bob", "display_name": "Bob"}
    m.migrate(conn)
    assert conn.one("SELECT bio, avatar_version FROM users") == {"bio": None, "avatar_version": None}


def test_sorted_order_and_out_of_order_files(conn, tmp_path):
    # the later migration needs the earlier one's table: applied in file order it would fail
    write(tmp_path, "20240102000000", "fill", "INSERT INTO things (id, label) VALUES (1, 'a;b');",
          "DELETE FROM things WHERE id = 1;")
    write(tmp_path, "20240101000000", "things", "CREATE TABLE things (id INTEGER PRIMARY KEY, label TEXT);",
          "DROP TABLE things;")
    assert [x.name for x in m.migrate(conn, str(tmp_path))] == ["things", "fill"]
    assert conn.one("SELECT label FROM things") == {"label": "a;b"}  # ';' inside a string kept
    # a migration merged later with an older timestamp is still applied (the seed skipped it)
    write(tmp_path, "20231231000000", "older", "CREATE TABLE older (id INTEGER);", "DROP TABLE older;")
    assert [x.name for x in m.migrate(conn, str(tmp_path))] == ["older"]
    assert [(x.version, ok) for x, ok in m.status(conn, str(tmp_path))] == [
        ("20231231000000", True), ("20240101000000", True), ("20240102000000", True)]
    # rollback undoes the newest applied (by version), then the next
    assert [x.name for x in m.rollback(conn, str(tmp_path))] == ["fill"]
    assert conn.execute("SELECT * FROM things") == []
    assert [x.name for x in m.rollback(conn, str(tmp_path))] == ["things"]
    assert conn.table_columns("things") == []
    assert m.applied_versions(conn) == ["20231231000000"]


def test_a_failing_migration_leaves_nothing_applied(conn, tmp_path):
    write(tmp_path, "20240101000000", "base", "CREATE TABLE base (id INTEGER);", "DROP TABLE base;")
    write(tmp_path, "20240102000000", "broken",
          "ALTER TABLE base ADD COLUMN extra TEXT; INSERT INTO base (id) VALUES (7); "
          "ALTER TABLE no_such_table ADD COLUMN x TEXT;",
          "ALTER TABLE base DROP COLUMN extra;")
    write(tmp_path, "20240103000000", "after", "CREATE TABLE after_it (id INTEGER);", "DROP TABLE after_it;")
    with pytest.raises(m.MigrationError, match="20240102000000_broken"):
        m.migrate(conn, str(tmp_path))
    assert m.applied_versions(conn) == ["20240101000000"]
    assert conn.table_columns("base") == ["id"]  # the ADD COLUMN was rolled back
    assert conn.execute("SELECT * FROM base") == []  # and the INSERT
    assert conn.table_columns("after_it") == []  # nothing after the failure ran


def test_a_failing_rollback_keeps_the_migration_applied(conn, tmp_path):
    write(tmp_path, "20240101000000", "base", "CREATE TABLE base (id INTEGER); CREATE TABLE b2 (id INTEGER);",
          "DROP TABLE b2; DROP TABLE no_such_table;")
    m.migrate(conn, str(tmp_path))
    with pytest.raises(m.MigrationError, match="rollback"):
        m.rollback(conn, str(tmp_path))
    assert m.applied_versions(conn) == ["20240101000000"]
    assert conn.table_columns("b2") == ["id"]  # the DROP of b2 was rolled back with it


def test_generate(tmp_path):
    t = dt.datetime(2026, 12, 3, 10, 0, 0, tzinfo=dt.timezone.utc)
    p1 = m.generate("Add_Bio_Column", str(tmp_path), now=t)
    assert os.path.basename(p1) == "20261203100000_add_bio_column.py"
    p2 = m.generate("second", str(tmp_path), now=t)  # same second: the next free one, after the newest
    assert os.path.basename(p2) == "20261203100001_second.py"
    mig = m.discover(str(tmp_path))[0].load()
    assert "DROP COLUMN example" in mig.rollback_sql()
    with pytest.raises(m.MigrationError):
        m.generate("bad name; drop", str(tmp_path))
    with pytest.raises(m.MigrationError):
        m.generate("1starts_with_digit", str(tmp_path))


def test_cli(db_url, tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "cruddur.migrate", "--database-url", db_url,
                               "--dir", str(tmp_path), *args], cwd=APP_DIR, capture_output=True, text=True)

    r = run("generate", "create_notes")
    assert r.returncode == 0, r.stderr
    path = r.stdout.strip()
    assert os.path.exists(path)
    with open(path, "w") as f:
        f.write("def migrate_sql():\n    return 'CREATE TABLE notes (id INTEGER, body TEXT);'\n\n"
                "def rollback_sql():\n    return 'DROP TABLE notes;'\n")
    version = os.path.basename(path)[:14]
    r = run("status")
    assert r.returncode == 0 and f"pending   {version} create_notes" in r.stdout
    r = run("migrate")
    assert r.returncode == 0 and "1 migration(s) applied" in r.stdout
    r = run("status")
    assert f"applied   {version} create_notes" in r.stdout
    conn = connect(db_url)
    try:
        assert conn.table_columns("notes") == ["id", "body"]
        r = run("rollback")
        assert r.returncode == 0 and f"rolled back {version} create_notes" in r.stdout
        assert conn.table_columns("notes") == []
    finally:
        conn.close()
    r = run("generate", "no good")
    assert r.returncode == 1 and "migrate:" in r.stderr


def test_two_processes_migrating_at_once(db_url):
    procs = [subprocess.Popen([sys.executable, "-m", "cruddur.migrate", "--database-url", db_url, "migrate"],
                              cwd=APP_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    counts = sorted(int(o.strip().splitlines()[-1].split()[0]) for o, _ in outs)
    assert sum(counts) == len(SHIPPED)  # each migration applied by exactly one of them
    conn = connect(db_url)
    try:
        assert m.applied_versions(conn) == SHIPPED
    finally:
        conn.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite has no dollar quoting
def test_postgresql_takes_dollar_quoted_bodies(conn, tmp_path):
    assert conn.dialect == "postgresql"
    write(tmp_path, "20240101000000", "fn",
          "CREATE FUNCTION two() RETURNS integer AS $$ BEGIN RETURN 2; END; $$ LANGUAGE plpgsql; "
          "CREATE TABLE t2 (v integer DEFAULT two());",
          "DROP TABLE t2; DROP FUNCTION two();")
    m.migrate(conn, str(tmp_path))
    assert conn.one("SELECT two() AS v") == {"v": 2}
    m.rollback(conn, str(tmp_path))
    assert conn.table_columns("t2") == []
