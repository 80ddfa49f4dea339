"""The seed's way: a presigned PUT to the uploads bucket, then the Lambda's output is found by a
HEAD of the assets object while the upload is pending."""
import datetime as dt
import hashlib

import libthumb
import pytest
import requests

from conftest import AVATAR_PHOTO, corpus
from cruddur.db import connect


def lambda_output(s3, app, user_uuid, photo, metadata=True):
    """What the process-images Lambda writes (the avatar-version design)."""
    jpeg = libthumb.thumbnail(photo, 512, 512, fit="cover", format="jpeg", quality=80)
    version = hashlib.sha256(jpeg).hexdigest()[:16]
    extra = {"Metadata": {"version": version, "width": "512", "height": "512"}} if metadata else {}
    s3.put_object(Bucket=app.config["ASSETS_BUCKET"], Key=f"avatars/{user_uuid}.jpg", Body=jpeg,
                  ContentType="image/jpeg", CacheControl="public, max-age=31536000, immutable", **extra)
    return version


def set_pending_since(app, user_uuid, ago_seconds):
    t = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=ago_seconds)
    c = connect(app.config["DATABASE_URL"])
    try:
        c.execute("UPDATE users SET avatar_pending_since = ? WHERE uuid = ?",
                  (t.strftime("%Y-%m-%dT%H:%M:%SZ"), user_uuid))
    finally:
        c.close()


@pytest.mark.parametrize("ext,ctype", [("jpg", "image/jpeg"), ("JPEG", "image/jpeg"), (".png", "image/png")])
def test_key_upload_url_accepts_the_put(client, alice, s3, app, ext, ctype):
    auth, user = alice
    r = client.post("/api/avatars/key_upload", headers=auth, json={"extension": ext})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    clean = ext.lstrip(".").lower()
    assert body["key"] == f"avatars/original/{user['uuid']}.{clean}"
    assert body["method"] == "PUT" and body["headers"] == {"Content-Type": ctype}
    assert body["expires_in"] == 300 and "X-Amz-Signature=" in body["url"]
    photo = corpus("photos/concert.jpg")
    put = requests.put(body["url"], data=photo, headers=body["headers"], timeout=30)
    assert put.status_code == 200, put.text
    obj = s3.get_object(Bucket=app.config["UPLOADS_BUCKET"], Key=body["key"])
    assert obj["Body"].read() == photo and obj["ContentType"] == ctype
    assert client.get("/api/profile/alice").get_json()["avatar_pending"] is True


def test_presigned_url_signs_key_type_and_expiry(client, alice, app, moto_url):
    # (moto_server does not check presigned signatures, so what is signed is checked here)
    from urllib.parse import parse_qs, urlparse

    auth, user = alice
    body = client.post("/api/avatars/key_upload", headers=auth, json={"extension": "png"}).get_json()
    u = urlparse(body["url"])
    assert f"{u.scheme}://{u.netloc}" == moto_url  # path-style on the configured endpoint
    assert u.path == f"/{app.config['UPLOADS_BUCKET']}/avatars/original/{user['uuid']}.png"
    q = parse_qs(u.query)
    assert q["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and q["X-Amz-Expires"] == ["300"]
    assert q["X-Amz-SignedHeaders"] == ["content-type;host"]  # the Content-Type is part of the signature
    assert "/us-east-1/s3/aws4_request" in q["X-Amz-Credential"][0]
    assert not any(k.lower().startswith("x-amz-checksum") or k.lower() == "x-amz-sdk-checksum-algorithm" for k in q)


def test_public_endpoint_for_presigned_urls(make_app):
    client = make_app(S3_PUBLIC_ENDPOINT_URL="http://localhost:4566").test_client()
    from conftest import login

    auth, _ = login(client)
    body = client.post("/api/avatars/key_upload", headers=auth, json={"extension": "jpg"}).get_json()
    assert body["url"].startswith("http://localhost:4566/")


@pytest.mark.parametrize("body", [{"extension": "gif"}, {"extension": "jpg/../x"}, {"extension": 3}, {}])
def test_key_upload_refuses_other_extensions(client, alice, body):
    auth, _ = alice
    r = client.post("/api/avatars/key_upload", headers=auth, json=body)
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_extension"
    assert client.get("/api/profile/alice").get_json()["avatar_pending"] is False


def test_pending_upload_adopts_the_lambdas_version(client, alice, s3, app):
    auth, user = alice
    body = client.post("/api/avatars/key_upload", headers=auth, json={"extension": "jpg"}).get_json()
    assert requests.put(body["url"], data=AVATAR_PHOTO.read_bytes(), headers=body["headers"], timeout=30).ok
    # the Lambda has not run yet: no avatar, still pending
    p = client.get("/api/profile/alice").get_json()
    assert p["avatar_url"] is None and p["avatar_pending"] is True
    v1 = lambda_output(s3, app, user["uuid"], AVATAR_PHOTO.read_bytes())
    p = client.get(f"/api/profile/{user['uuid']}").get_json()
    assert p["avatar_version"] == v1 and p["avatar_pending"] is False
    assert p["avatar_url"] == f"/cdn/avatars/{user['uuid']}.jpg?v={v1}"
    assert client.get(p["avatar_url"]).status_code == 200

    # a second upload of another photo: the URL changes as soon as the Lambda wrote it
    client.post("/api/avatars/key_upload", headers=auth, json={"extension": "jpg"})
    assert client.get("/api/profile/alice").get_json()["avatar_version"] == v1  # old object, same version
    v2 = lambda_output(s3, app, user["uuid"], corpus("photos/flowers.jpeg"))
    p = client.get("/api/profile/alice").get_json()
    assert v2 != v1 and p["avatar_version"] == v2 and p["avatar_url"].endswith(f"?v={v2}")


def test_without_a_pending_upload_no_head_is_made(client, alice, s3, app):
    _, user = alice
    lambda_output(s3, app, user["uuid"], AVATAR_PHOTO.read_bytes())  # written behind the app's back
    assert client.get("/api/profile/alice").get_json()["avatar_version"] is None


def test_same_picture_again_clears_the_pending_flag(client, alice, s3, app):
    import time

    auth, user = alice
    v1 = lambda_output(s3, app, user["uuid"], AVATAR_PHOTO.read_bytes())
    client.post("/api/avatars/key_upload", headers=auth, json={"extension": "jpg"})
    assert client.get("/api/profile/alice").get_json()["avatar_version"] == v1  # adopted
    client.post("/api/avatars/key_upload", headers=auth, json={"extension": "jpg"})
    p = client.get("/api/profile/alice").get_json()
    assert p["avatar_pending"] is True  # the object is not newer than the upload: keep looking
    time.sleep(1.1)  # S3 times are to the second
    assert lambda_output(s3, app, user["uuid"], AVATAR_PHOTO.read_bytes()) == v1  # rewritten, same bytes
    p = client.get("/api/profile/alice").get_json()
    assert p["avatar_pending"] is False and p["avatar_version"] == v1


def test_output_without_version_metadata_is_hashed(client, alice, s3, app):
    auth, user = alice
    client.post("/api/avatars/key_upload", headers=auth, json={"extension": "jpg"})
    set_pending_since(app, user["uuid"], 60)
    v = lambda_output(s3, app, user["uuid"], AVATAR_PHOTO.read_bytes(), metadata=False)  # the seed's Lambda
    p = client.get("/api/profile/alice").get_json()
    assert p["avatar_version"] == v and p["avatar_pending"] is False


def test_pending_expires(client, alice, app):
    auth, user = alice
    client.post("/api/avatars/key_upload", headers=auth, json={"extension": "png"})
    set_pending_since(app, user["uuid"], 2 * 3600)  # never processed (e.g. a corrupt upload)
    p = client.get("/api/profile/alice").get_json()
    assert p["avatar_pending"] is False and p["avatar_url"] is None
