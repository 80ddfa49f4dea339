"""Every option of thumbnail() changes the output the way it says."""
import struct

import pytest
from PIL import Image

import libthumb
from conftest import corpus, decode, jpeg_bytes, mean_abs_diff, png_bytes


def halves(size, horizontal: bool) -> bytes:
    """A PNG black in its first half and white in its second (left/right or top/bottom)."""
    w, h = size
    im = Image.new("RGB", size, (0, 0, 0))
    if horizontal:
        im.paste((255, 255, 255), (w // 2, 0, w, h))
    else:
        im.paste((255, 255, 255), (0, h // 2, w, h))
    return png_bytes(im)


def mean_grey(im: Image.Image) -> float:
    g = im.convert("L").tobytes()
    return sum(g) / len(g)


def jpeg_sof(data: bytes):
    """(SOF marker, [(component id, h, v)...]) of a JPEG."""
    i = 2
    while i < len(data):
        assert data[i] == 0xFF
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            n = data[i + 9]
            comps = [(data[i + 10 + 3 * k], data[i + 11 + 3 * k] >> 4, data[i + 11 + 3 * k] & 15) for k in range(n)]
            return marker, comps
        i += 2 + length
    raise AssertionError("no SOF marker")


# ---------------------------------------------------------------- geometry

@pytest.mark.parametrize("fit, size", [
    ("cover", (100, 100)), ("contain", (100, 100)), ("fill", (100, 100)),
    ("inside", (100, 56)), ("outside", (178, 100)),  # 1920x1080: round-half-up of the other side
])
def test_fit_dimensions(flowers, fit, size):
    assert decode(libthumb.thumbnail(flowers, 100, 100, fit=fit)).size == size


def test_fit_outputs_differ(flowers):
    outs = {f: libthumb.thumbnail(flowers, 100, 100, fit=f, format="png") for f in ("cover", "contain", "fill")}
    assert len(set(outs.values())) == 3
    # fill squeezes the whole picture; cover keeps the aspect ratio and crops: different pixels
    assert mean_abs_diff(decode(outs["cover"]), decode(outs["fill"])) > 3


def test_one_side_derives_the_other(flowers):
    assert decode(libthumb.thumbnail(flowers, 100)).size == (100, 56)
    assert decode(libthumb.thumbnail(flowers, None, 100)).size == (178, 100)
    assert decode(libthumb.thumbnail(flowers, width=None, height=54)).size == (96, 54)
    assert decode(libthumb.thumbnail(flowers, None)).size == (1920, 1080)  # both None: input size


@pytest.mark.parametrize("position, dark", [
    ("west", True), ("left", True), ("northwest", True), ("southwest", True),
    ("east", False), ("right", False), ("northeast", False), ("southeast", False),
])
def test_position_crops_horizontally(position, dark):
    src = halves((400, 100), horizontal=True)  # left black, right white
    g = mean_grey(decode(libthumb.thumbnail(src, 50, 50, position=position, format="png")))
    assert (g < 10) if dark else (g > 245), (position, g)


@pytest.mark.parametrize("position, dark", [
    ("north", True), ("top", True), ("northeast", True), ("south", False), ("bottom", False), ("southwest", False),
])
def test_position_crops_vertically(position, dark):
    src = halves((100, 400), horizontal=False)  # top black, bottom white
    g = mean_grey(decode(libthumb.thumbnail(src, 50, 50, position=position, format="png")))
    assert (g < 10) if dark else (g > 245), (position, g)


def test_position_centre_and_spellings(flowers):
    centre = libthumb.thumbnail(flowers, 100, 100)
    assert libthumb.thumbnail(flowers, 100, 100, position="center") == centre
    # a landscape picture in a square is cropped left-right only: north and south crop like centre
    assert libthumb.thumbnail(flowers, 100, 100, position="north") == centre
    assert libthumb.thumbnail(flowers, 100, 100, position="south") == centre
    crops = {p: libthumb.thumbnail(flowers, 100, 100, position=p) for p in ("west", "centre", "east")}
    assert len(set(crops.values())) == 3


def test_position_places_contain_padding():
    src = png_bytes(Image.new("RGB", (200, 100), (0, 0, 0)))
    north = decode(libthumb.thumbnail(src, 100, 100, fit="contain", position="north", format="png"))
    south = decode(libthumb.thumbnail(src, 100, 100, fit="contain", position="south", format="png"))
    centre = decode(libthumb.thumbnail(src, 100, 100, fit="contain", format="png"))
    assert north.getpixel((50, 10)) == (0, 0, 0) and north.getpixel((50, 90)) == (255, 255, 255)
    assert south.getpixel((50, 10)) == (255, 255, 255) and south.getpixel((50, 90)) == (0, 0, 0)
    assert centre.getpixel((50, 10)) == (255, 255, 255) and centre.getpixel((50, 50)) == (0, 0, 0)
    assert centre.getpixel((50, 90)) == (255, 255, 255)


def checkerboard() -> bytes:
    im = Image.new("RGB", (8, 8))
    im.putdata([(255, 0, 0) if (x + y) % 2 else (0, 0, 255) for y in range(8) for x in range(8)])
    return png_bytes(im)


def test_kernels_differ_and_nearest_keeps_colours():
    src = checkerboard()
    outs = {k: libthumb.thumbnail(src, 40, 40, kernel=k, format="png") for k in ("nearest", "linear", "cubic", "lanczos3")}
    assert len(set(outs.values())) == 4
    assert libthumb.thumbnail(src, 40, 40, format="png") == outs["lanczos3"]  # the default
    px = decode(outs["nearest"]).convert("RGB").tobytes()
    assert {px[i:i + 3] for i in range(0, len(px), 3)} == {b"\xff\x00\x00", b"\x00\x00\xff"}
    px = decode(outs["lanczos3"]).convert("RGB").tobytes()
    assert len({px[i:i + 3] for i in range(0, len(px), 3)}) > 10


def test_without_enlargement():
    src = corpus("photos/concert.jpg")  # 400x267
    assert decode(libthumb.thumbnail(src, 800, 800, fit="inside")).size == (800, 534)
    assert decode(libthumb.thumbnail(src, 800, 800, fit="inside", without_enlargement=True)).size == (400, 267)
    # a shrink is not affected
    assert decode(libthumb.thumbnail(src, 200, 200, fit="inside", without_enlargement=True)).size == (200, 134)


# ---------------------------------------------------------------- output encoding

@pytest.mark.parametrize("fmt, magic, pil", [("jpeg", b"\xff\xd8\xff", "JPEG"), ("jpg", b"\xff\xd8\xff", "JPEG"),
                                             ("png", b"\x89PNG\r\n\x1a\n", "PNG"), ("PNG", b"\x89PNG\r\n\x1a\n", "PNG")])
def test_format(small_jpeg, fmt, magic, pil):
    out = libthumb.thumbnail(small_jpeg, 64, 64, format=fmt)
    assert out.startswith(magic)
    assert decode(out).format == pil


def test_default_format_is_jpeg(small_jpeg):
    assert libthumb.thumbnail(small_jpeg, 64).startswith(b"\xff\xd8\xff")
    assert libthumb.thumbnail(small_jpeg, 64, format=None).startswith(b"\xff\xd8\xff")


def test_quality_sets_the_quantisation_tables(avatar):
    q = {n: libthumb.thumbnail(avatar, 256, 256, quality=n) for n in (10, 50, 80, 100)}
    # libjpeg's scaling of the standard luminance table: DC 16 at q50, 1 at q100, 80 at q10
    assert decode(q[50]).quantization[0][0] == 16
    assert decode(q[100]).quantization[0][0] == 1
    assert decode(q[10]).quantization[0][0] == 80
    assert decode(q[80]).quantization[0][0] == 6
    assert libthumb.thumbnail(avatar, 256, 256) == q[80]  # the default
    assert len(q[10]) < len(q[50]) < len(q[80]) < len(q[100])


def test_progressive_jpeg(avatar):
    base = libthumb.thumbnail(avatar, 128, 128)
    prog = libthumb.thumbnail(avatar, 128, 128, progressive=True)
    assert jpeg_sof(base)[0] == 0xC0 and jpeg_sof(prog)[0] == 0xC2
    assert decode(prog).info.get("progressive") and not decode(base).info.get("progressive")
    # same picture in another scan order (libjpeg smooths progressive blocks when decoding)
    assert mean_abs_diff(decode(base), decode(prog)) < 3


def test_progressive_png_is_interlaced(small_jpeg):
    plain = libthumb.thumbnail(small_jpeg, 64, format="png")
    adam7 = libthumb.thumbnail(small_jpeg, 64, format="png", progressive=True)
    assert plain[28] == 0 and adam7[28] == 1  # IHDR interlace method
    assert decode(plain).tobytes() == decode(adam7).tobytes()


@pytest.mark.parametrize("value, sampling", [("4:2:0", (2, 2)), ("420", (2, 2)), ("4:4:4", (1, 1)), ("444", (1, 1))])
def test_chroma_subsampling(avatar, value, sampling):
    _, comps = jpeg_sof(libthumb.thumbnail(avatar, 128, 128, chroma_subsampling=value))
    assert comps[0][1:] == sampling and comps[1][1:] == (1, 1) and comps[2][1:] == (1, 1)


def test_optimize_coding(avatar):
    on = libthumb.thumbnail(avatar, 256, 256)
    off = libthumb.thumbnail(avatar, 256, 256, optimize_coding=False)
    assert len(on) < len(off)
    assert decode(on).quantization == decode(off).quantization
    assert mean_abs_diff(decode(on), decode(off)) < 1.5  # the same picture, other Huffman tables


def test_png_compression(small_jpeg):
    sizes = [len(libthumb.thumbnail(small_jpeg, 150, format="png", png_compression=n)) for n in (0, 6, 9)]
    assert sizes[0] > sizes[1] >= sizes[2]
    assert libthumb.thumbnail(small_jpeg, 150, format="png") == libthumb.thumbnail(
        small_jpeg, 150, format="png", png_compression=6)


# ---------------------------------------------------------------- background, alpha, colour

def test_background_in_contain_padding_of_an_alpha_png():
    src = corpus("photos/logo.png")  # 500x500 RGBA
    for bg, want in [((255, 0, 0), (255, 0, 0)), ("#00ff00", (0, 255, 0)), ((0, 0, 255, 255), (0, 0, 255))]:
        im = decode(libthumb.thumbnail(src, 200, 100, fit="contain", background=bg, format="jpeg"))
        assert im.size == (200, 100)
        px = im.convert("RGB").getpixel((10, 50))  # in the padding left of the square logo
        assert all(abs(a - b) <= 3 for a, b in zip(px, want)), (bg, px)
    white = decode(libthumb.thumbnail(src, 200, 100, fit="contain")).convert("RGB").getpixel((10, 50))
    assert all(v >= 252 for v in white)  # the default is opaque white


def test_background_flattens_transparency():
    src = corpus("edge/full-transparent.png")
    im = decode(libthumb.thumbnail(src, 50, 50, background=(10, 200, 30))).convert("RGB")
    r, g, b = im.getpixel((25, 25))
    assert abs(r - 10) <= 3 and abs(g - 200) <= 3 and abs(b - 30) <= 3


def test_png_output_keeps_alpha_and_pads_with_a_transparent_background():
    src = corpus("photos/logo.png")
    im = decode(libthumb.thumbnail(src, 200, 100, fit="contain", background=(0, 0, 0, 0), format="png"))
    assert im.mode in ("RGBA", "LA")
    assert im.getpixel((10, 50))[-1] == 0


def test_keep_colour(avatar):
    src = corpus("photos/rocket.jpg")  # has an embedded non-sRGB ICC profile
    converted = libthumb.thumbnail(src, 128, 128, format="png")
    kept = libthumb.thumbnail(src, 128, 128, format="png", keep_colour=True)
    assert converted != kept
    # without a profile there is nothing to convert
    assert libthumb.thumbnail(avatar, 64, 64, keep_colour=True) == libthumb.thumbnail(avatar, 64, 64)


def test_embed_srgb_profile(small_jpeg):
    assert "icc_profile" not in decode(libthumb.thumbnail(small_jpeg, 64)).info
    for fmt in ("jpeg", "png"):
        icc = decode(libthumb.thumbnail(small_jpeg, 64, format=fmt, embed_srgb_profile=True)).info.get("icc_profile")
        assert icc and b"acsp" in icc[:64], fmt


def test_fast_shrink(avatar):
    fast = libthumb.thumbnail(avatar, 512, 512)
    slow = libthumb.thumbnail(avatar, 512, 512, fast_shrink=False)
    assert fast != slow
    assert decode(slow).size == (512, 512)
    assert mean_abs_diff(decode(fast), decode(slow)) < 4  # two ways to the same picture


def test_auto_orient():
    o6 = corpus("exif/Landscape_6.jpg")  # stored 450x600, displayed 600x450
    assert decode(libthumb.thumbnail(o6, 100, 100, fit="inside")).size == (100, 75)
    assert decode(libthumb.thumbnail(o6, 100, 100, fit="inside", auto_orient=False)).size == (75, 100)


def test_max_pixels(avatar):  # 2725 x 2225 = 6,063,125 pixels
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.thumbnail(avatar, 64, max_pixels=6_063_124)
    assert e.value.code == "ELIMIT_PIXELS"
    assert "2725x2225" in str(e.value)
    assert decode(libthumb.thumbnail(avatar, 64, 64, max_pixels=6_063_125)).size == (64, 64)
    with pytest.raises(libthumb.ThumbError) as e:
        libthumb.info(avatar, max_pixels=1000)
    assert e.value.code == "ELIMIT_PIXELS"


def test_defaults_match_the_c_library():
    d = libthumb.defaults()
    assert d["fit"] == "cover" and d["position"] == "centre" and d["kernel"] == "lanczos3"
    assert d["quality"] == 80 and d["format"] == "jpeg" and d["max_pixels"] == 16383 * 16383
    assert d["background"] == (255, 255, 255, 255)
    # the stubs document the same defaults
    import inspect
    import pathlib
    stub = (pathlib.Path(libthumb.__file__).parent / "_libthumb.pyi").read_text()
    for name, value in d.items():
        if isinstance(value, (bool, int)) and not isinstance(value, tuple):
            assert f"    {name}: " in stub and f"= {value!r}," in stub, name
    assert inspect.isbuiltin(libthumb.thumbnail)
