"""Configuration from the environment (every key can be overridden by create_app(config))."""
from __future__ import annotations

import os
import secrets


def _bool(v: str | None, default: bool) -> bool:
    if v is None or v.strip() == "":
        return default
    return v.strip().lower() not in ("0", "false", "no", "off")


def _int(name: str, default: int) -> int:
    v = os.environ.get(name)
    if v is None or v.strip() == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise ValueError(f"{name}={v!r} is not an integer") from None


def _folder(v: str) -> str:
    # the seed's Lambda broke on a leading '/' in FOLDER_INPUT: keys never start with one
    return v.strip().strip("/")


def from_env() -> dict:
    env = os.environ.get
    secret = env("APP_JWT_SECRET")
    return {
        "DATABASE_URL": env("DATABASE_URL") or None,  # None: the SQLite file in instance/
        "JWT_SECRET": secret or secrets.token_urlsafe(32),
        "JWT_SECRET_GENERATED": not secret,
        "JWT_ISSUER": env("APP_JWT_ISSUER", "cruddur-dev"),
        "JWT_AUDIENCE": env("APP_JWT_AUDIENCE", "cruddur"),
        "JWT_TTL_SECONDS": _int("APP_JWT_TTL_SECONDS", 3600),
        "DEV_LOGIN": _bool(env("APP_DEV_LOGIN"), True),
        "AUTO_MIGRATE": _bool(env("APP_AUTO_MIGRATE"), True),
        "CREATE_BUCKETS": _bool(env("APP_CREATE_BUCKETS"), False),
        "UPLOADS_BUCKET": env("UPLOADS_BUCKET", "cruddur-uploaded-avatars"),
        "ASSETS_BUCKET": env("ASSETS_BUCKET", "assets.cruddur.local"),
        "FOLDER_INPUT": _folder(env("FOLDER_INPUT", "avatars/original")),
        "FOLDER_OUTPUT": _folder(env("FOLDER_OUTPUT", "avatars")),
        "S3_ENDPOINT_URL": env("AWS_ENDPOINT_URL_S3") or env("AWS_ENDPOINT_URL") or None,
        "S3_PUBLIC_ENDPOINT_URL": env("AWS_ENDPOINT_URL_S3_PUBLIC") or None,
        "AWS_REGION": env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1",
        "ASSETS_BASE_URL": (env("ASSETS_BASE_URL") or "/cdn").rstrip("/"),
        "MAX_UPLOAD_BYTES": _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
        "MAX_IMAGE_PIXELS": _int("MAX_IMAGE_PIXELS", 50_000_000),
        "PRESIGN_EXPIRES_SECONDS": _int("PRESIGN_EXPIRES_SECONDS", 300),
        "PENDING_TTL_SECONDS": _int("AVATAR_PENDING_TTL_SECONDS", 3600),
        "AVATAR_SIZE": _int("PROCESS_WIDTH", 512),
        "AVATAR_QUALITY": _int("AVATAR_QUALITY", 80),
        "SNS_TOPIC_ARNS": [a.strip() for a in env("SNS_TOPIC_ARNS", "").split(",") if a.strip()],
        "SNS_VERIFY_SIGNATURES": _bool(env("SNS_VERIFY_SIGNATURES"), True),
        # SubscribeURL prefixes the webhook may GET to confirm a subscription besides AWS's own
        "SNS_CONFIRM_URL_PREFIXES": [
            a.strip() for a in env("SNS_CONFIRM_URL_PREFIXES", "").split(",") if a.strip()
        ],
    }
