"""The users table: one connection per request (flask.g), SQL shared by SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as _dt
import re
import uuid as _uuid

from flask import current_app, g

from .db import Connection, DatabaseError, connect

HANDLE_RE = re.compile(r"^[a-z0-9_]{1,32}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
COLUMNS = "uuid, handle, display_name, bio, email, cognito_user_id, avatar_version, avatar_width, " \
          "avatar_height, avatar_pending_since"


def db() -> Connection:
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE_URL"])
    return g.db


def close_db(_exc=None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s: str) -> _dt.datetime:
    return _dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)


def by_uuid(user_uuid: str) -> dict | None:
    if not UUID_RE.match(user_uuid or ""):
        return None
    return db().one(f"SELECT {COLUMNS} FROM users WHERE uuid = ?", (user_uuid,))


def by_handle(handle: str) -> dict | None:
    return db().one(f"SELECT {COLUMNS} FROM users WHERE handle = ?", (handle.lower(),))


def find(handle_or_uuid: str) -> dict | None:
    key = handle_or_uuid.strip().lower()
    if UUID_RE.match(key):
        u = by_uuid(key)
        if u is not None:
            return u
    return by_handle(key)


def get_or_create(handle: str, display_name: str) -> dict:
    handle = handle.lower()
    u = by_handle(handle)
    if u is not None:
        return u
    try:
        db().execute(
            "INSERT INTO users (uuid, handle, display_name) VALUES (?, ?, ?)",
            (str(_uuid.uuid4()), handle, display_name),
        )
    except DatabaseError:
        u = by_handle(handle)  # created by a concurrent request
        if u is None:
            raise
        return u
    return by_handle(handle)


def update_profile(user_uuid: str, display_name: str, bio: str | None, set_bio: bool) -> dict:
    if set_bio:
        row = db().one(
            "UPDATE users SET display_name = ?, bio = ? WHERE uuid = ? RETURNING handle, display_name, bio",
            (display_name, bio, user_uuid),
        )
    else:
        row = db().one(
            "UPDATE users SET display_name = ? WHERE uuid = ? RETURNING handle, display_name, bio",
            (display_name, user_uuid),
        )
    return row


def set_avatar(user_uuid: str, version: str, width: int | None, height: int | None) -> None:
    db().execute(
        "UPDATE users SET avatar_version = ?, avatar_width = ?, avatar_height = ?, "
        "avatar_pending_since = NULL WHERE uuid = ?",
        (version, width, height, user_uuid),
    )


def mark_pending(user_uuid: str) -> None:
    db().execute("UPDATE users SET avatar_pending_since = ? WHERE uuid = ?", (now_iso(), user_uuid))


def clear_pending(user_uuid: str) -> None:
    db().execute("UPDATE users SET avatar_pending_since = NULL WHERE uuid = ?", (user_uuid,))


def avatar_url(user: dict) -> str | None:
    v = user.get("avatar_version")
    if not v:
        return None
    cfg = current_app.config
    out = cfg["FOLDER_OUTPUT"]
    key = f"{out}/{user['uuid']}.jpg" if out else f"{user['uuid']}.jpg"
    return f"{cfg['ASSETS_BASE_URL']}/{key}?v={v}"


def profile(user: dict) -> dict:
    return {
        "uuid": user["uuid"],
        "handle": user["handle"],
        "display_name": user["display_name"],
        "bio": user.get("bio"),
        "avatar_url": avatar_url(user),
        "avatar_version": user.get("avatar_version"),
        "avatar_pending": bool(user.get("avatar_pending_since")),
    }
