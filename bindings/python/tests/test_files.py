"""thumbnail_file (streamed, atomic), and the buffer types thumbnail() takes."""
import mmap
import os
import pathlib

import pytest

import libthumb
from conftest import AVATAR, CORPUS, corpus, decode


def test_thumbnail_file_str_and_pathlike(tmp_path):
    src = CORPUS / AVATAR
    out1, out2, out3 = tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg"
    assert libthumb.thumbnail_file(str(src), str(out1), 512, 512) is None
    libthumb.thumbnail_file(src, out2, 512, 512)  # os.PathLike
    libthumb.thumbnail_file(os.fsencode(src), os.fsencode(out3), 512, 512)  # bytes paths
    mem = libthumb.thumbnail(src.read_bytes(), 512, 512)
    assert out1.read_bytes() == out2.read_bytes() == out3.read_bytes() == mem


def test_thumbnail_file_format_follows_the_extension(tmp_path):
    src = CORPUS / "photos" / "coffee.png"
    libthumb.thumbnail_file(src, tmp_path / "x.png", 64)
    libthumb.thumbnail_file(src, tmp_path / "x.PNG.jpg", 64)
    libthumb.thumbnail_file(src, tmp_path / "forced.png", 64, format="jpeg")
    assert decode((tmp_path / "x.png").read_bytes()).format == "PNG"
    assert decode((tmp_path / "x.PNG.jpg").read_bytes()).format == "JPEG"
    assert decode((tmp_path / "forced.png").read_bytes()).format == "JPEG"


def test_thumbnail_file_takes_every_option(tmp_path):
    src = CORPUS / "photos" / "flowers.jpeg"
    libthumb.thumbnail_file(src, tmp_path / "o.png", 100, 100, fit="inside", kernel="nearest", png_compression=9)
    assert (tmp_path / "o.png").read_bytes() == libthumb.thumbnail(
        src.read_bytes(), 100, 100, fit="inside", kernel="nearest", format="png", png_compression=9)


@pytest.mark.parametrize("name", ["edge/truncated.jpg", "edge/invalid-zlib.png", "jpeg-variants/video-001.progressive.truncated.jpeg"])
def test_thumbnail_file_leaves_no_partial_file(tmp_path, name):
    dst = tmp_path / "out.jpg"
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.thumbnail_file(CORPUS / name, dst, 256, 256)
    assert e.value.code in ("ETRUNCATED", "ECORRUPT")
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temporary file


def test_thumbnail_file_keeps_the_old_file_on_failure(tmp_path):
    dst = tmp_path / "avatar.jpg"
    dst.write_bytes(b"the previous avatar")
    with pytest.raises(libthumb.ThumbError):
        libthumb.thumbnail_file(CORPUS / "edge" / "truncated.jpg", dst, 256)
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.thumbnail_file(CORPUS / AVATAR, dst, 256, max_pixels=1000)
    assert e.value.code == "ELIMIT_PIXELS"
    assert dst.read_bytes() == b"the previous avatar"
    assert [p.name for p in tmp_path.iterdir()] == ["avatar.jpg"]
    libthumb.thumbnail_file(CORPUS / AVATAR, dst, 256)
    assert decode(dst.read_bytes()).size == (256, 209)


def test_thumbnail_file_io_errors(tmp_path):
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.thumbnail_file(tmp_path / "missing.jpg", tmp_path / "out.jpg", 64)
    assert e.value.code == "EIO" and "missing.jpg" in str(e.value)
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.thumbnail_file(CORPUS / AVATAR, tmp_path / "no" / "such" / "dir.jpg", 64)
    assert e.value.code == "EIO" and "dir.jpg" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_a_file_named_dash_is_a_file_not_stdin(tmp_path, monkeypatch):
    (tmp_path / "-").write_bytes(corpus("photos/coffee.png"))
    monkeypatch.chdir(tmp_path)
    libthumb.thumbnail_file("-", "out.jpg", 32)
    assert decode((tmp_path / "out.jpg").read_bytes()).size == (32, 21)


# ---------------------------------------------------------------- buffers

def test_buffer_inputs(tmp_path):
    data = corpus("photos/coffee.png")
    want = libthumb.thumbnail(data, 100, 100)
    assert libthumb.thumbnail(bytearray(data), 100, 100) == want
    assert libthumb.thumbnail(memoryview(data), 100, 100) == want
    assert libthumb.thumbnail(memoryview(b"junk" + data)[4:], 100, 100) == want  # a contiguous slice
    path = tmp_path / "in.png"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert libthumb.thumbnail(m, 100, 100) == want
        assert libthumb.info(m).width == 600
        assert libthumb.sniff(m) == "png"


def test_the_buffer_is_released_after_every_call():
    """A bytearray can be resized again after a call, successful or not: no export is leaked."""
    data = bytearray(corpus("photos/coffee.png"))
    libthumb.thumbnail(data, 32)
    libthumb.info(data)
    libthumb.sniff(data)
    data += b"trailing"
    bad = bytearray(corpus("edge/truncated.png"))
    with pytest.raises(libthumb.ThumbError):
        libthumb.thumbnail(bad, 32)
    with pytest.raises(ValueError):
        libthumb.thumbnail(bad, 32, quality=0)
    bad[10:] = b""  # raises BufferError if an export were still held
    with memoryview(data) as view:
        libthumb.thumbnail(view, 32)
    data[4:] = b""
    assert len(data) == 4 and len(bad) == 10
