"""The direct-upload avatar: sniff the bytes, make the 512x512 cover JPEG with libthumb.

The format comes from the content's magic bytes only; the file name and Content-Type are never
read. libthumb releases the GIL around decode+resize+encode, so the threaded server keeps serving
other requests while an avatar is made.
"""
from __future__ import annotations

import hashlib

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# libthumb error codes (include/thumb.h) -> (HTTP status, error code of the API)
_CORRUPT = {"ECORRUPT", "ETRUNCATED", "EICC"}
_LIMITS = {"ELIMIT_PIXELS", "ELIMIT_BYTES", "ELIMIT_SCANS", "ELIMIT_CHUNK", "ELIMIT_MEMORY", "ELIMIT_OUTPUT"}


class AvatarError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(body.get("error"))
        self.status, self.body = status, body


def sniff(data: bytes) -> str | None:
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    return None


def version_of(jpeg: bytes) -> str:
    """The avatar-version design: the first 16 hex digits of sha256 of the JPEG bytes."""
    return hashlib.sha256(jpeg).hexdigest()[:16]


def _dims(info) -> tuple[int, int]:
    if isinstance(info, dict):
        return int(info["width"]), int(info["height"])
    return int(info.width), int(info.height)


def _error(e) -> AvatarError:
    code = getattr(e, "code", None) or "EUNKNOWN"
    detail = getattr(e, "detail", None) or str(e)
    if code == "EUNSUPPORTED":
        return AvatarError(415, {"error": "unsupported_format", "detail": detail})
    if code in _CORRUPT:
        return AvatarError(422, {"error": "corrupt_image", "code": code, "detail": detail})
    if code in _LIMITS:
        return AvatarError(422, {"error": "image_too_large", "code": code, "detail": detail})
    return AvatarError(422, {"error": "image_rejected", "code": code, "detail": detail})


def make_avatar(data: bytes, size: int = 512, quality: int = 80, max_pixels: int = 50_000_000):
    """(jpeg bytes, width, height, version) of the size x size cover avatar; AvatarError otherwise."""
    import libthumb

    if sniff(data) is None:
        raise AvatarError(415, {"error": "unsupported_format", "detail": "not a JPEG or PNG image"})
    try:
        # the pixel limit is libthumb's own (checked from the header, before any decoding)
        out = libthumb.thumbnail(data, size, size, fit="cover", format="jpeg", quality=quality,
                                 max_pixels=max_pixels)
        ow, oh = _dims(libthumb.info(out))
    except libthumb.ThumbError as e:
        raise _error(e) from e
    return out, ow, oh, version_of(out)
