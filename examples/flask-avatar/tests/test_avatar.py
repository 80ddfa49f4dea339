"""The direct upload (POST /api/profile/avatar), the avatar-version design and the /cdn route."""
import hashlib
import io
import struct
import zlib

import libthumb
import pytest

from conftest import AVATAR_PHOTO, corpus, login

CACHE_CONTROL = "public, max-age=31536000, immutable"


def png_header_only(width, height):
    """A pixel bomb: a valid PNG header claiming width x height, with a tiny IDAT."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")


def upload(client, auth, data, name="photo.jpg", content_type="image/jpeg"):
    return client.post("/api/profile/avatar", headers=auth,
                       data={"file": (io.BytesIO(data), name, content_type)}, content_type="multipart/form-data")


def test_upload_makes_the_versioned_avatar(client, alice, s3, app):
    auth, user = alice
    photo = AVATAR_PHOTO.read_bytes()
    r = upload(client, auth, photo)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["width"] == 512 and body["height"] == 512
    key = f"avatars/{user['uuid']}.jpg"
    assert body["avatar_url"] == f"/cdn/{key}?v={body['version']}"

    obj = s3.get_object(Bucket=app.config["ASSETS_BUCKET"], Key=key)
    jpeg = obj["Body"].read()
    assert body["version"] == hashlib.sha256(jpeg).hexdigest()[:16]
    assert obj["ContentType"] == "image/jpeg"
    assert obj["CacheControl"] == CACHE_CONTROL
    assert obj["Metadata"] == {"version": body["version"], "width": "512", "height": "512"}
    info = libthumb.info(jpeg)
    assert (info.format, info.width, info.height) == ("jpeg", 512, 512)
    # the same job as libthumb's own: the bytes are what thumbnail() makes of the photo
    assert jpeg == libthumb.thumbnail(photo, 512, 512, fit="cover", format="jpeg", quality=80)

    prof = client.get("/api/profile/alice").get_json()
    assert prof["avatar_url"] == body["avatar_url"] and prof["avatar_version"] == body["version"]

    cdn = client.get(body["avatar_url"])
    assert cdn.status_code == 200 and cdn.data == jpeg
    assert cdn.headers["Content-Type"] == "image/jpeg"
    assert cdn.headers["Cache-Control"] == CACHE_CONTROL
    assert cdn.headers["Content-Length"] == str(len(jpeg))
    again = client.get(body["avatar_url"], headers={"If-None-Match": cdn.headers["ETag"]})
    assert again.status_code == 304


def test_a_new_photo_is_a_new_url(client, alice):
    auth, _ = alice
    first = upload(client, auth, AVATAR_PHOTO.read_bytes()).get_json()
    second = upload(client, auth, corpus("photos/flowers.jpeg")).get_json()
    assert first["version"] != second["version"] and first["avatar_url"] != second["avatar_url"]
    assert client.get("/api/profile/alice").get_json()["avatar_url"] == second["avatar_url"]
    # the same photo again: the same version, the same URL (the CDN's cached copy stays right)
    third = upload(client, auth, corpus("photos/flowers.jpeg")).get_json()
    assert third["avatar_url"] == second["avatar_url"]


def test_raw_body_upload(client, alice):
    auth, _ = alice
    r = client.post("/api/profile/avatar", headers=auth, data=corpus("photos/concert.jpg"),
                    content_type="application/octet-stream")
    assert r.status_code == 200 and r.get_json()["width"] == 512


def test_format_is_sniffed_not_taken_from_the_name(client, alice, s3, app):
    auth, user = alice
    png = corpus("photos/logo.png")
    r = upload(client, auth, png, name="avatar.jpg", content_type="image/jpeg")  # a PNG named .jpg
    assert r.status_code == 200, r.get_json()
    obj = s3.get_object(Bucket=app.config["ASSETS_BUCKET"], Key=f"avatars/{user['uuid']}.jpg")
    assert obj["Body"].read()[:3] == b"\xff\xd8\xff"  # a JPEG avatar made from the PNG
    # a JPEG named .png, sent as text/plain
    r = upload(client, auth, corpus("photos/concert.jpg"), name="x.png", content_type="text/plain")
    assert r.status_code == 200


@pytest.mark.parametrize("data,name,ctype", [
    (b"just some text, not a picture\n" * 20, "notes.jpg", "image/jpeg"),
    (b"GIF89a" + b"\0" * 100, "anim.gif", "image/gif"),
    (b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 64, "a.webp", "image/webp"),
])
def test_unsupported_formats_are_415(client, alice, data, name, ctype):
    auth, _ = alice
    r = upload(client, auth, data, name, ctype)
    assert r.status_code == 415 and r.get_json()["error"] == "unsupported_format"


@pytest.mark.parametrize("rel", ["edge/corrupt-header.jpg", "edge/truncated.jpg", "edge/truncated.png",
                                 "edge/invalid-crc32.png", "edge/invalid-zlib.png"])
def test_corrupt_images_are_422(client, alice, s3, app, rel):
    auth, user = alice
    r = upload(client, auth, corpus(rel))
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == "corrupt_image" and body["code"] in ("ECORRUPT", "ETRUNCATED") and body["detail"]
    # nothing was written and the profile is unchanged
    listed = s3.list_objects_v2(Bucket=app.config["ASSETS_BUCKET"]).get("KeyCount", 0)
    assert listed == 0
    assert client.get("/api/profile/alice").get_json()["avatar_url"] is None


def test_a_cut_photo_is_422(client, alice):
    auth, _ = alice
    photo = AVATAR_PHOTO.read_bytes()
    r = upload(client, auth, photo[: len(photo) // 3])
    assert r.status_code == 422 and r.get_json()["code"] == "ETRUNCATED"


def test_size_cap_is_413(make_app):
    client = make_app(MAX_UPLOAD_BYTES=200_000).test_client()
    auth, _ = login(client)
    photo = AVATAR_PHOTO.read_bytes()  # 830 KB
    r = upload(client, auth, photo)
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"
    r = client.post("/api/profile/avatar", headers=auth, data=photo, content_type="image/jpeg")
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"
    ok = upload(client, auth, corpus("photos/concert.jpg"))  # 400x267, small
    assert ok.status_code == 200


def test_pixel_bombs_are_422_image_too_large(client, alice, make_app):
    auth, _ = alice
    bomb = png_header_only(20000, 20000)  # 400 Mpx claimed in a few hundred bytes
    assert len(bomb) < 2000
    r = upload(client, auth, bomb)
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == "image_too_large" and body["code"] == "ELIMIT_PIXELS"
    # the limit is the app's MAX_IMAGE_PIXELS: the 6 Mpx photo is refused under a 5 Mpx cap
    small = make_app(MAX_IMAGE_PIXELS=5_000_000).test_client()
    auth2, _ = login(small, "carol")
    r = upload(small, auth2, AVATAR_PHOTO.read_bytes())
    assert r.status_code == 422 and r.get_json()["code"] == "ELIMIT_PIXELS"


def test_no_file(client, alice):
    auth, _ = alice
    r = client.post("/api/profile/avatar", headers=auth, data={"other": "x"}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"] == "no_file"
    r = client.post("/api/profile/avatar", headers=auth, data=b"", content_type="image/jpeg")
    assert r.status_code == 400 and r.get_json()["error"] == "no_file"


def test_cdn_missing_object_is_404(client):
    r = client.get("/cdn/avatars/00000000-0000-4000-8000-000000000000.jpg?v=0123456789abcdef")
    assert r.status_code == 404 and r.get_json() == {"error": "not_found"}


def test_assets_base_url_is_configurable(make_app):
    client = make_app(ASSETS_BASE_URL="https://assets.example.com").test_client()
    auth, user = login(client)
    body = upload(client, auth, corpus("photos/concert.jpg")).get_json()
    assert body["avatar_url"] == f"https://assets.example.com/avatars/{user['uuid']}.jpg?v={body['version']}"


def test_storage_down_is_503(make_app):
    client = make_app(S3_ENDPOINT_URL="http://127.0.0.1:9", CREATE_BUCKETS=False).test_client()
    auth, _ = login(client)
    r = upload(client, auth, corpus("photos/concert.jpg"))
    assert r.status_code == 503 and r.get_json() == {"error": "storage_unavailable"}
    assert client.get("/api/profile/alice").get_json()["avatar_url"] is None  # nothing recorded
