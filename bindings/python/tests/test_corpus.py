"""The whole corpus: every file gives a thumbnail of the right size or a ThumbError with a code."""
import pytest

import libthumb
from conftest import CORPUS, corpus, decode, mean_abs_diff

IMAGES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*")
                if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def must_decode(name: str) -> bool:
    """The corpus README: every file outside edge/ decodes (but for the one truncated variant)."""
    return not name.startswith("edge/") and "truncated" not in name


def test_corpus_is_there():
    assert len(IMAGES) > 90
    assert sum(map(must_decode, IMAGES)) > 70


@pytest.mark.parametrize("name", IMAGES)
def test_every_file(name):
    data = corpus(name)
    for kw, size in ((dict(width=64, height=64), lambda w, h: (64, 64)),
                     (dict(width=80, height=80, fit="inside", format="png"),
                      lambda w, h: (80, max(1, (2 * h * 80 + w) // (2 * w))) if w >= h
                      else (max(1, (2 * w * 80 + h) // (2 * h)), 80))):
        try:
            meta = libthumb.info(data)
            out = libthumb.thumbnail(data, **kw)
        except libthumb.ThumbError as e:
            assert not must_decode(name), f"{name}: {e}"
            assert e.code in libthumb.ERROR_CODES and e.code != "EINVAL", (name, e.code)
            assert e.detail
            continue
        im = decode(out)
        assert im.format == ("PNG" if kw.get("format") == "png" else "JPEG")
        assert im.size == size(meta.width, meta.height), (name, kw, meta)


def test_edge_files_that_fail_say_why():
    codes = {}
    for name in IMAGES:
        if name.startswith("edge/"):
            try:
                libthumb.thumbnail(corpus(name), 32)
            except libthumb.ThumbError as e:
                codes[name] = e.code
    assert codes["edge/truncated.jpg"] == "ETRUNCATED"
    assert codes["edge/invalid-crc32.png"] == "ECORRUPT"
    assert codes["edge/invalid-zlib.png"] == "ECORRUPT"
    assert set(codes.values()) <= {"ETRUNCATED", "ECORRUPT"}


@pytest.mark.parametrize("n", range(1, 9))
def test_exif_orientation(n):
    """Landscape_N.jpg stores one picture under EXIF orientation N: all come out like Landscape_1."""
    data = corpus(f"exif/Landscape_{n}.jpg")
    meta = libthumb.info(data)
    assert meta.orientation == n and (meta.width, meta.height) == (600, 450)
    assert (meta.stored_width, meta.stored_height) == ((600, 450) if n <= 4 else (450, 600))
    ref = decode(libthumb.thumbnail(corpus("exif/Landscape_1.jpg"), 120, 90, format="png"))
    out = decode(libthumb.thumbnail(data, 120, 90, format="png"))
    assert out.size == (120, 90)
    assert mean_abs_diff(out, ref) < 6, n
    if n != 1:
        raw = decode(libthumb.thumbnail(data, 120, 90, fit="fill", format="png", auto_orient=False))
        assert mean_abs_diff(raw, ref) > 20, n  # not turned: another picture
    unturned = libthumb.info(data, auto_orient=False)
    assert (unturned.width, unturned.height) == (meta.stored_width, meta.stored_height)


def test_info_fields():
    m = libthumb.info(corpus("photos/logo.png"))
    assert (m.format, m.width, m.height, m.channels, m.bit_depth) == ("png", 500, 500, 4, 8)
    assert m.has_alpha is True and m.progressive is False and m.colour_space == "rgba"
    assert isinstance(m, libthumb.Info) and m[0] == "png" and len(m) == 14
    j = libthumb.info(corpus("jpeg-variants/video-001.progressive.jpeg"))
    assert (j.format, j.progressive, j.has_alpha, j.colour_space) == ("jpeg", True, False, "ycbcr")
    c = libthumb.info(corpus("photos/Channel_digital_image_CMYK_color.jpg"))
    assert c.has_icc and c.icc_size > 1000 and c.has_exif and c.colour_space == "ycck"
    g = libthumb.info(corpus("pngsuite/basn0g16.png"))
    assert (g.channels, g.bit_depth, g.colour_space) == (1, 16, "grey")
    assert libthumb.info(corpus("pngsuite/basn3p04-31i.png")).progressive is True
    assert libthumb.info_file(CORPUS / "photos" / "logo.png") == m
