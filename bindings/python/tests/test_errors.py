"""Errors: every failure is a ThumbError with its code, every bad argument a TypeError/ValueError."""
import array
import pathlib
import pickle
import re

import pytest

import libthumb
from libthumb import _libthumb
from conftest import REPO, corpus


def code_of(data, *args, **kw):
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.thumbnail(data, *(args or (64, 64)), **kw)
    return e.value


# ---------------------------------------------------------------- the C library's codes

def test_error_codes_cover_every_code_of_thumb_h():
    header = (REPO / "include" / "thumb.h").read_text()
    enum = header[header.index("enum thumb_error"):header.index("};", header.index("enum thumb_error"))]
    codes = {m.group(1): int(m.group(2)) for m in re.finditer(r"THUMB_(E\w+) = (\d+)", enum) if m.group(1) != "ERROR_COUNT_"}
    assert len(codes) >= 14
    assert libthumb.ERROR_CODES == codes
    for name, number in codes.items():
        err = _libthumb._error(number, "some detail")
        assert isinstance(err, libthumb.ThumbError) and isinstance(err, Exception)
        assert (err.code, err.number, err.detail) == (name, number, "some detail")
        assert str(err) == f"some detail ({name})"
    # no detail: the code's own text
    assert str(_libthumb._error(7)) == "image has more pixels than allowed (ELIMIT_PIXELS)"
    assert _libthumb._error(999).code == "EUNKNOWN"


def test_truncated():
    for name in ("edge/truncated.jpg", "edge/truncated.png", "edge/truncated-small.jpg",
                 "jpeg-variants/video-001.progressive.truncated.jpeg", "edge/invalid-trunc.png"):
        e = code_of(corpus(name))
        assert e.code == "ETRUNCATED", (name, e)
        assert e.number == 6 and e.detail and e.detail in str(e)
    whole = corpus("photos/flowers.jpeg")
    assert code_of(whole[: len(whole) // 2]).code == "ETRUNCATED"
    assert code_of(b"").code == "ETRUNCATED" and "empty" in str(code_of(b""))


def test_corrupt():
    for name in ("edge/invalid-crc32.png", "edge/invalid-zlib.png"):
        assert code_of(corpus(name)).code == "ECORRUPT", name
    broken = bytearray(corpus("photos/coffee.png"))
    broken[17] ^= 0x01  # IHDR width: the header chunk's CRC no longer matches
    assert code_of(bytes(broken)).code == "ECORRUPT"


def test_unsupported_formats():
    gif = code_of(b"GIF89a" + bytes(64))
    assert gif.code == "EUNSUPPORTED" and "gif" in str(gif)
    webp = code_of(b"RIFF\0\0\0\0WEBPVP8 " + bytes(64))
    assert webp.code == "EUNSUPPORTED" and "webp" in str(webp)
    assert code_of(b"hello, this is not an image at all").code == "EUNSUPPORTED"
    assert libthumb.sniff(b"GIF89a" + bytes(10)) == "gif"
    assert libthumb.sniff(b"nothing") is None


def test_limits(avatar):
    cases = [
        (avatar, dict(max_pixels=1_000_000), "ELIMIT_PIXELS"),
        (avatar, dict(max_input_bytes=1000), "ELIMIT_BYTES"),
        (corpus("jpeg-variants/video-001.progressive.jpeg"), dict(max_jpeg_scans=2), "ELIMIT_SCANS"),
        (corpus("photos/astronaut.png"), dict(max_png_chunk_size=100, max_png_chunk_cache=100), "ELIMIT_CHUNK"),
        (corpus("photos/astronaut.png"), dict(max_png_chunks=1), "ELIMIT_CHUNK"),
        (corpus("photos/astronaut.png"), dict(max_icc_bytes=100), "ELIMIT_CHUNK"),
        (avatar, dict(max_output_width=32), "ELIMIT_OUTPUT"),
        (avatar, dict(max_output_height=32), "ELIMIT_OUTPUT"),
        (avatar, dict(max_output_pixels=64 * 64 - 1), "ELIMIT_OUTPUT"),
        (corpus("jpeg-variants/video-001.progressive.jpeg"), dict(max_frame_bytes=1000), "ELIMIT_MEMORY"),
        (corpus("pngsuite/basn3p04-31i.png"), dict(max_frame_bytes=100), "ELIMIT_MEMORY"),
    ]
    for data, kw, want in cases:
        e = code_of(data, 64, 64, **kw)
        assert e.code == want, (kw, e)
        assert e.number == libthumb.ERROR_CODES[want]
    # the same inputs under the default limits are fine
    for data, kw, _ in cases:
        assert libthumb.thumbnail(data, 64, 64)


def test_output_limit_on_the_box(small_jpeg):
    assert code_of(small_jpeg, 20000, 100).code == "ELIMIT_OUTPUT"
    assert code_of(small_jpeg, 5000, 5000).code == "ELIMIT_OUTPUT"  # over 4096 x 4096 pixels


def test_info_errors():
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.info(corpus("edge/corrupt-header.jpg"))
    assert e.value.code == "ETRUNCATED"
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.info(b"GIF89a" + bytes(64))
    assert e.value.code == "EUNSUPPORTED"
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.info_file("/nonexistent/x.jpg")
    assert e.value.code == "EIO" and e.value.path == "/nonexistent/x.jpg"
    assert "No such file" in str(e.value)


def test_error_is_picklable_enough_and_catchable_as_exception():
    e = _libthumb._error(5, "png: bad")
    try:
        raise e
    except Exception as caught:  # noqa: BLE001 - a plain Exception subclass
        assert caught is e
    assert pickle.loads(pickle.dumps(e)).args == e.args


# ---------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("kw, exc, message", [
    (dict(width="a"), TypeError, "width must be an int or None, not str"),
    (dict(width=1.5), TypeError, "width must be an int or None, not float"),
    (dict(width=True), TypeError, "width must be an int or None, not bool"),
    (dict(width=0), ValueError, "width must be in 1..4294967295, not 0"),
    (dict(width=-3), ValueError, "width must be in 1..4294967295, not -3"),
    (dict(width=2**40), ValueError, "width must be in 1..4294967295"),
    (dict(width=64, height="x"), TypeError, "height must be an int or None, not str"),
    (dict(width=64, quality=500), ValueError, "quality must be in 1..100, not 500"),
    (dict(width=64, quality=0), ValueError, "quality must be in 1..100, not 0"),
    (dict(width=64, quality="80"), TypeError, "quality must be an int, not str"),
    (dict(width=64, fit="bogus"), ValueError, "fit must be one of 'cover', 'contain', 'fill', 'inside', 'outside', not 'bogus'"),
    (dict(width=64, fit=None), TypeError, "fit must be a str, not NoneType"),
    (dict(width=64, position="middle"), ValueError, "position must be one of 'centre', 'north'"),
    (dict(width=64, kernel="mitchell"), ValueError, "kernel must be one of 'lanczos3', 'nearest', 'linear', 'cubic'"),
    (dict(width=64, format="gif"), ValueError, "format must be one of 'jpeg', 'png', not 'gif'"),
    (dict(width=64, format=1), TypeError, "format must be a str, not int"),
    (dict(width=64, background=(1, 2)), ValueError, "background must have 3 (r, g, b) or 4 (r, g, b, a) values, not 2"),
    (dict(width=64, background=(1, 2, 300)), ValueError, "each background value must be in 0..255, not 300"),
    (dict(width=64, background=(1, 2, "x")), TypeError, "each background value must be an int, not str"),
    (dict(width=64, background=7), TypeError, "background must be an (r, g, b) or (r, g, b, a) tuple"),
    (dict(width=64, background="red"), ValueError, "background must be '#rrggbb' or '#rrggbbaa', not 'red'"),
    (dict(width=64, background="#12345g"), ValueError, "background must be '#rrggbb'"),
    (dict(width=64, chroma_subsampling="4:2:2"), ValueError, "chroma_subsampling must be one of '4:2:0', '4:4:4'"),
    (dict(width=64, png_compression=10), ValueError, "png_compression must be in 0..9, not 10"),
    (dict(width=64, max_pixels=0), ValueError, "max_pixels must be in 1..18446744073709551615, not 0"),
    (dict(width=64, max_pixels=2**64), ValueError, "max_pixels must be in 1.."),
    (dict(width=64, max_pixels=None), TypeError, "max_pixels must be an int, not NoneType"),
    (dict(width=64, max_png_chunk_cache=10), ValueError, "max_png_chunk_cache (10) must be at least max_png_chunk_size"),
    (dict(width=64, bogus=1), TypeError, "thumbnail() got an unexpected keyword argument 'bogus'"),
    (dict(), TypeError, "thumbnail() missing required argument 'width'"),
])
def test_bad_arguments(small_jpeg, kw, exc, message):
    with pytest.raises(exc) as e:
        libthumb.thumbnail(small_jpeg, **kw)
    assert message in str(e.value)


def test_bad_positional_arguments(small_jpeg):
    with pytest.raises(TypeError, match=r"takes at most 3 positional arguments \(4 given\)"):
        libthumb.thumbnail(small_jpeg, 1, 2, 3)
    with pytest.raises(TypeError, match="multiple values for argument 'width'"):
        libthumb.thumbnail(small_jpeg, 64, width=64)
    with pytest.raises(TypeError, match="missing required argument 'data'"):
        libthumb.thumbnail(width=64)
    with pytest.raises(TypeError, match="unexpected keyword argument 'width'"):
        libthumb.info(small_jpeg, width=64)
    with pytest.raises(TypeError, match="takes at most 1 positional arguments"):
        libthumb.info(small_jpeg, 64)
    # data by keyword is fine
    assert libthumb.thumbnail(data=small_jpeg, width=32)


@pytest.mark.parametrize("data, exc, message", [
    (None, TypeError, "data must be a bytes-like object (bytes, bytearray, memoryview, mmap...), not NoneType"),
    ("not bytes", TypeError, "not str (to read a file, use thumbnail_file"),
    (12, TypeError, "not int"),
    ([1, 2, 3], TypeError, "not list"),
    (memoryview(b"abcdefgh" * 4)[::2], BufferError, "data must be a contiguous buffer"),
])
def test_bad_data(data, exc, message):
    for call in (lambda: libthumb.thumbnail(data, 64), lambda: libthumb.info(data), lambda: libthumb.sniff(data)):
        with pytest.raises(exc) as e:
            call()
        assert message in str(e.value)


def test_buffer_of_wider_items_is_read_as_bytes(small_jpeg):
    padded = small_jpeg + bytes(-len(small_jpeg) % 4)
    words = array.array("I", padded)
    assert libthumb.thumbnail(words, 32) == libthumb.thumbnail(padded, 32)


def test_bad_paths(tmp_path):
    src = str(pathlib.Path(corpus.__globals__["CORPUS"]) / "photos" / "coffee.png")
    with pytest.raises(TypeError, match="src must be a path"):
        libthumb.thumbnail_file(None, tmp_path / "x.jpg", 64)
    with pytest.raises(TypeError, match="dst must be a path"):
        libthumb.thumbnail_file(src, 3, 64)
    with pytest.raises(ValueError, match="embedded null"):
        libthumb.thumbnail_file(src, str(tmp_path / "a\0b.jpg"), 64)
    with pytest.raises(ValueError, match="dst is an empty path"):
        libthumb.thumbnail_file(src, "", 64)
    with pytest.raises(TypeError, match="missing required argument 'dst'"):
        libthumb.thumbnail_file(src, width=64)
    assert list(tmp_path.iterdir()) == []
