"""The Cruddur Flask back end on libthumb: create_app(config) is the app factory."""
from __future__ import annotations

import logging
import os

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from . import migrate as _migrate
from .config import from_env
from .db import connect, default_sqlite_url
from .sns import CertCache
from .storage import Storage
from .users import close_db

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # examples/flask-avatar: templates/ and static/ are the page's


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    cfg = from_env()
    cfg.update(config or {})
    cfg["DATABASE_URL"] = cfg.get("DATABASE_URL") or default_sqlite_url()
    # multipart framing on top of the file; the file itself is capped at MAX_UPLOAD_BYTES in the view
    cfg["MAX_CONTENT_LENGTH"] = int(cfg["MAX_UPLOAD_BYTES"]) + 64 * 1024
    cfg.setdefault("JSON_SORT_KEYS", False)
    app.config.update(cfg)
    if cfg.get("JWT_SECRET_GENERATED"):
        app.logger.warning("APP_JWT_SECRET is not set: tokens are signed with a random per-process key")

    app.extensions["cruddur.storage"] = Storage(app.config)
    app.extensions["cruddur.sns_certs"] = cfg.get("SNS_CERT_CACHE") or CertCache()

    if cfg["AUTO_MIGRATE"]:
        conn = connect(cfg["DATABASE_URL"])
        try:
            for m in _migrate.migrate(conn):
                app.logger.info("applied migration %s %s", m.version, m.name)
        finally:
            conn.close()
    if cfg["CREATE_BUCKETS"]:
        app.extensions["cruddur.storage"].ensure_buckets()

    from .api import bp

    app.register_blueprint(bp)
    app.teardown_appcontext(close_db)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            e.code, (e.name or "error").lower().replace(" ", "_")
        )
        return {"error": code}, e.code

    @app.errorhandler(Exception)
    def internal_error(e: Exception):
        if isinstance(e, HTTPException):
            return http_error(e)
        app.logger.exception("unhandled error")
        return {"error": "internal"}, 500

    # The page (templates/index.html, static/) is the front end's; served when present.
    def page(handle=None):
        if not os.path.exists(os.path.join(ROOT, "templates", "index.html")):
            return {"error": "not_found"}, 404
        return render_template("index.html", handle=handle)

    app.add_url_rule("/", "page", page)
    app.add_url_rule("/profile/<handle>", "profile_page", page)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    return app
