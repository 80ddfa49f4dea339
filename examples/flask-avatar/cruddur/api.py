"""The JSON API (see docs/readme/flask-backend.md for the contract)."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import urllib.request

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, Response, current_app, g, request

from . import auth, sns, users
from .images import AvatarError, make_avatar
from .storage import CONTENT_TYPES

bp = Blueprint("api", __name__)
VERSION_RE = re.compile(r"^[0-9a-f]{16}$")
DISPLAY_NAME_MAX = 64
BIO_MAX = 300


def storage():
    return current_app.extensions["cruddur.storage"]


def json_body() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def invalid_json():
    return {"error": "invalid_json"}, 400


@bp.errorhandler(ClientError)
@bp.errorhandler(BotoCoreError)
def storage_unavailable(e):
    current_app.logger.error("S3 request failed: %s", e)
    return {"error": "storage_unavailable"}, 503


# ---------------------------------------------------------------- identity


@bp.post("/api/auth/dev-login")
def dev_login():
    if not current_app.config["DEV_LOGIN"]:
        return {"error": "not_found"}, 404
    body = json_body()
    if body is None:
        return invalid_json()
    errors = []
    handle = body.get("handle")
    if not isinstance(handle, str) or not users.HANDLE_RE.match(handle.strip().lower()):
        errors.append("handle_invalid")
    name = body.get("display_name")
    if name is None or (isinstance(name, str) and not name.strip()):
        name = handle.strip() if isinstance(handle, str) else ""
    elif not isinstance(name, str):
        errors.append("display_name_invalid")
    elif len(name.strip()) > DISPLAY_NAME_MAX:
        errors.append("display_name_too_long")
    if errors:
        return {"errors": errors}, 422
    user = users.get_or_create(handle.strip(), name.strip())
    return {"token": auth.issue(user["uuid"]), "user": users.profile(user)}


# ---------------------------------------------------------------- profile


@bp.post("/api/profile/update")
@auth.required
def update_profile():
    body = json_body()
    if body is None:
        return invalid_json()
    errors = []
    name = body.get("display_name")
    if name is None or (isinstance(name, str) and not name.strip()):
        errors.append("display_name_blank")
    elif not isinstance(name, str):
        errors.append("display_name_invalid")
    elif len(name.strip()) > DISPLAY_NAME_MAX:
        errors.append("display_name_too_long")
    set_bio = "bio" in body
    bio = body.get("bio")
    if bio is not None and not isinstance(bio, str):
        errors.append("bio_invalid")
    elif isinstance(bio, str):
        bio = bio.strip()
        if len(bio) > BIO_MAX:
            errors.append("bio_too_long")
    if errors:
        return {"errors": errors}, 422
    row = users.update_profile(g.user["uuid"], name.strip(), bio, set_bio)
    if row is None:  # deleted since the token was checked
        return auth.unauthorized()
    return {"handle": row["handle"], "display_name": row["display_name"], "bio": row["bio"]}


def _reconcile_pending(user: dict) -> dict:
    """The seed's way without a webhook: while an upload is pending, a HEAD of the assets object
    tells whether the Lambda has written a new avatar; its version metadata is adopted."""
    cfg = current_app.config
    since = users.parse_iso(user["avatar_pending_since"])
    try:
        head = storage().head_avatar(user["uuid"])
    except Exception as e:  # S3 down: the profile is still served, with the version it had
        current_app.logger.warning("HEAD of the avatar of %s failed: %s", user["uuid"], e)
        return user
    written_since = False
    if head is not None:
        lm = head["last_modified"]
        written_since = lm is not None and lm > since  # both to the second: same second = older
        meta = head["metadata"]
        version = meta.get("version")
        if not (version and VERSION_RE.match(version)) and written_since:
            # a writer that set no version metadata: hash the object itself
            obj = storage().get_asset(storage().avatar_key(user["uuid"]))
            version = hashlib.sha256(obj["Body"].read()).hexdigest()[:16] if obj else None
        if version and VERSION_RE.match(version) and version != user.get("avatar_version"):
            w, h = meta.get("width"), meta.get("height")
            users.set_avatar(user["uuid"], version, int(w) if str(w).isdigit() else None,
                             int(h) if str(h).isdigit() else None)
            return users.by_uuid(user["uuid"])
    age = (_dt.datetime.now(_dt.timezone.utc) - since).total_seconds()
    if written_since or age > cfg["PENDING_TTL_SECONDS"]:
        users.clear_pending(user["uuid"])  # same picture again, or the upload never got processed
        return users.by_uuid(user["uuid"])
    return user


@bp.get("/api/profile/<handle>")
def show_profile(handle):
    user = users.find(handle)
    if user is None:
        return {"error": "not_found"}, 404
    if user.get("avatar_pending_since"):
        user = _reconcile_pending(user)
    return users.profile(user)


# ---------------------------------------------------------------- avatars


@bp.post("/api/avatars/key_upload")
@auth.required
def key_upload():
    body = json_body()
    if body is None:
        return invalid_json()
    ext = body.get("extension")
    ext = ext.strip().lstrip(".").lower() if isinstance(ext, str) else None
    if ext not in CONTENT_TYPES:
        return {"error": "invalid_extension", "allowed": sorted(CONTENT_TYPES)}, 400
    key = storage().upload_key(g.user["uuid"], ext)
    ctype = CONTENT_TYPES[ext]
    url = storage().presign_put(key, ctype)
    users.mark_pending(g.user["uuid"])
    return {
        "url": url,
        "key": key,
        "bucket": current_app.config["UPLOADS_BUCKET"],
        "method": "PUT",
        "headers": {"Content-Type": ctype},
        "expires_in": current_app.config["PRESIGN_EXPIRES_SECONDS"],
    }


@bp.post("/api/profile/avatar")
@auth.required
def upload_avatar():
    cfg = current_app.config
    if request.mimetype == "multipart/form-data":
        f = request.files.get("file")
        if f is None:
            return {"error": "no_file", "detail": "multipart field 'file' is missing"}, 400
        data = f.read(cfg["MAX_UPLOAD_BYTES"] + 1)
    else:
        data = request.get_data(cache=False)
    if len(data) > cfg["MAX_UPLOAD_BYTES"]:
        return {"error": "too_large", "max_bytes": cfg["MAX_UPLOAD_BYTES"]}, 413
    if not data:
        return {"error": "no_file", "detail": "empty upload"}, 400
    try:
        jpeg, w, h, version = make_avatar(
            data, cfg["AVATAR_SIZE"], cfg["AVATAR_QUALITY"], cfg["MAX_IMAGE_PIXELS"]
        )
    except AvatarError as e:
        return e.body, e.status
    storage().put_avatar(g.user["uuid"], jpeg, version, w, h)
    users.set_avatar(g.user["uuid"], version, w, h)
    user = users.by_uuid(g.user["uuid"])
    return {"avatar_url": users.avatar_url(user), "version": version, "width": w, "height": h}


# ---------------------------------------------------------------- SNS webhook


def _sns_fail(e: sns.SnsError):
    body = {"error": e.code}
    if e.detail:
        body["detail"] = e.detail
    return body, e.status


@bp.post("/api/webhooks/avatar-processed")
def avatar_processed():
    cfg = current_app.config
    try:
        msg = sns.parse(request.get_data(cache=False))
        allowed = cfg["SNS_TOPIC_ARNS"]
        if "*" not in allowed and msg["TopicArn"] not in allowed:
            raise sns.SnsError(403, "topic_not_allowed", msg["TopicArn"])
        if cfg["SNS_VERIFY_SIGNATURES"]:
            sns.verify(msg, current_app.extensions["cruddur.sns_certs"])
    except sns.SnsError as e:
        return _sns_fail(e)

    if msg["Type"] == "SubscriptionConfirmation":
        url = msg.get("SubscribeURL") or ""
        if not sns.subscribe_url_allowed(url, cfg["SNS_CONFIRM_URL_PREFIXES"]):
            return {"error": "invalid_message", "detail": "SubscribeURL not allowed"}, 400
        try:
            with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (URL checked above)
                r.read(65536)
        except Exception as e:
            return {"error": "confirm_failed", "detail": str(e)}, 502
        return {"status": "subscribed"}
    if msg["Type"] == "UnsubscribeConfirmation":
        return {"status": "ignored"}

    try:
        event = json.loads(msg["Message"])
    except ValueError:
        return {"error": "invalid_message", "detail": "Message is not JSON"}, 400
    if not isinstance(event, dict):
        return {"error": "invalid_message", "detail": "Message is not an object"}, 400
    name, key, version = event.get("name"), event.get("key"), event.get("version")
    if not (isinstance(name, str) and isinstance(version, str) and VERSION_RE.match(version)):
        return {"error": "invalid_message", "detail": "name and a 16-hex-digit version are required"}, 400
    if key is not None and key != storage().avatar_key(name):
        return {"status": "ignored", "detail": "not an avatar key"}
    if event.get("bucket") not in (None, cfg["ASSETS_BUCKET"]):
        return {"status": "ignored", "detail": "not the assets bucket"}
    user = users.by_uuid(name)
    if user is None:
        return {"status": "ignored", "detail": "no such user"}
    # A message can arrive late or twice: adopt its version only while the object still has it.
    head = storage().head_avatar(name)
    if head is None or head["metadata"].get("version") != version:
        return {"status": "ignored", "detail": "the object no longer has this version"}
    w, h = event.get("width"), event.get("height")
    users.set_avatar(name, version, w if isinstance(w, int) else None, h if isinstance(h, int) else None)
    return {"status": "updated", "version": version}


# ---------------------------------------------------------------- the CloudFront stand-in


@bp.get("/cdn/<path:key>")
def cdn(key):
    obj = storage().get_asset(key)
    if obj is None:
        return {"error": "not_found"}, 404
    etag = obj.get("ETag")
    if etag and request.headers.get("If-None-Match") == etag:
        obj["Body"].close()
        return Response(status=304, headers={"ETag": etag, "Cache-Control": obj.get("CacheControl", "")})
    headers = {"Content-Length": str(obj["ContentLength"])}
    if obj.get("CacheControl"):
        headers["Cache-Control"] = obj["CacheControl"]
    if etag:
        headers["ETag"] = etag
    body = obj["Body"]

    def chunks():
        try:
            yield from body.iter_chunks(64 * 1024)
        finally:
            body.close()

    return Response(chunks(), headers=headers, content_type=obj.get("ContentType", "application/octet-stream"))
