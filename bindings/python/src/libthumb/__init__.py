"""libthumb: fast, safe, streaming JPEG/PNG thumbnails (Python bindings of the C library).

    import libthumb
    avatar = libthumb.thumbnail(upload_bytes, 512, 512)            # cover, centre, Lanczos3, JPEG q80
    libthumb.thumbnail_file("in.jpg", "out.png", 256, fit="inside")  # streamed, atomic output
    meta = libthumb.info(upload_bytes)                              # meta.width, meta.orientation, ...

Failures raise ThumbError, whose .code is the C error name without THUMB_ ('ETRUNCATED',
'ELIMIT_PIXELS', ... every name is a key of ERROR_CODES). Bad arguments raise TypeError or
ValueError. Every call releases the GIL while it decodes, resizes and encodes, so threads run in
parallel (each thread gets its own C context).
"""
from ._libthumb import (
    ERROR_CODES,
    Info,
    ThumbError,
    defaults,
    info,
    info_file,
    libthumb_version,
    libthumb_version_number,
    simd,
    sniff,
    thumbnail,
    thumbnail_file,
)

__version__ = "1.0.0"

__all__ = [
    "ERROR_CODES",
    "Info",
    "ThumbError",
    "defaults",
    "info",
    "info_file",
    "libthumb_version",
    "libthumb_version_number",
    "simd",
    "sniff",
    "thumbnail",
    "thumbnail_file",
    "__version__",
]
