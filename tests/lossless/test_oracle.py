"""Lossless JPEG against a reference decoder: libjpeg-turbo 3 as bundled in the imagecodecs wheel
(a test oracle only; libthumb never uses it).

* Files written by libjpeg-turbo 3 (imagecodecs.jpeg8_encode(lossless=True)) for every predictor
  1-7, every precision 2-16, 1 and 3 components, odd sizes: libthumb's stored samples (before the
  reduction to 8 bits, through tests/lossless/lltool) equal imagecodecs' decode exactly.
* Files written by our own test encoder (tests/lossless/ljenc.h) for what imagecodecs cannot
  write (restart intervals, point transforms, YCbCr/CMYK/YCCK markers, tables before SOF3):
  imagecodecs decodes them to the samples the encoder meant, and so does libthumb.
* The CLI makes the 512x512 avatar of a lossless copy of the avatar-job photo, byte for byte the
  avatar of a PNG of the same pixels, and `thumb info` reports it lossless with its precision.
* A 12-bit DCT JPEG fails with THUMB_EUNSUPPORTED naming "12-bit JPEG".

Environment: LLTOOL and THUMB (paths of the built tools), THUMB_CORPUS.
"""
import json
import os
import subprocess

import imagecodecs
import numpy as np
import pytest

LLTOOL = os.environ["LLTOOL"]
THUMB = os.environ["THUMB"]
CORPUS = os.environ["THUMB_CORPUS"]
PHOTO = os.path.join(CORPUS, "photos", "2569067123_aca715a2ee_o.jpg")


def read_raw(path):
    with open(path, "rb") as f:
        data = f.read()
    nl = data.index(b"\n")
    w, h, c, prec = map(int, data[:nl].split())
    return np.frombuffer(data[nl + 1:], "<u2").reshape(h, w, c), prec


def libthumb_samples(tmp_path, jpeg_bytes):
    src = tmp_path / "in.jpg"
    out = tmp_path / "out.raw"
    src.write_bytes(jpeg_bytes)
    r = subprocess.run([LLTOOL, "raw", str(src), str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return read_raw(out)


def picture(h, w, comps, bps, seed):
    """A smooth picture with noise: what a photo's statistics look like to a predictor."""
    rng = np.random.default_rng(seed)
    maxv = (1 << bps) - 1
    yy, xx = np.mgrid[0:h, 0:w]
    base = (xx * 7 + yy * 3) * maxv // (7 * w + 3 * h)
    if comps > 1:
        base = np.stack([base, maxv - base, (base * 3) % (maxv + 1)], axis=-1)
    noise = rng.integers(-3, 4, size=base.shape)
    a = np.clip(base + noise, 0, maxv)
    return a.astype(np.uint8 if bps <= 8 else np.uint16)


IC_CASES = [(pred, bps, comps) for pred in range(1, 8) for bps in range(2, 17) for comps in (1, 3)]


@pytest.mark.parametrize("pred,bps,comps", IC_CASES)
def test_libjpeg_turbo_files(tmp_path, pred, bps, comps):
    h, w = 5 + (pred * 3 + bps) % 13, 3 + (pred * 5 + bps * 3) % 29  # odd and even, 3..31 wide
    a = picture(h, w, comps, bps, seed=pred * 100 + bps)
    data = imagecodecs.jpeg8_encode(a, lossless=True, predictor=pred, bitspersample=bps)
    assert data[:2] == b"\xff\xd8" and b"\xff\xc3" in data
    ref = imagecodecs.jpeg8_decode(data)
    assert np.array_equal(ref, a)  # the oracle itself is lossless
    got, prec = libthumb_samples(tmp_path, data)
    assert prec == bps
    assert np.array_equal(got.reshape(ref.shape), ref)


# W H components precision predictor point-transform restart-rows Adobe(-1 none) tables-first seed
OWN_CASES = [
    (13, 11, 1, 8, 1, 0, 1, -1, 0, 1),
    (13, 11, 1, 12, 4, 3, 2, -1, 1, 2),
    (9, 16, 1, 16, 7, 0, 5, -1, 0, 3),
    (31, 7, 3, 8, 2, 0, 3, 0, 0, 4),        # Adobe RGB, restarts
    (31, 7, 3, 10, 5, 2, 1, 0, 1, 5),       # point transform 2, restart every row
    (17, 9, 3, 8, 6, 0, 2, 1, 0, 6),        # YCbCr (Adobe transform 1)
    (17, 9, 3, 14, 3, 1, 4, -1, 1, 7),      # RGB by component ids, tables before SOF3
    (11, 5, 4, 8, 4, 0, 0, 0, 0, 8),        # CMYK
    (11, 5, 4, 16, 7, 4, 2, 2, 1, 9),       # YCCK, 16 bits
    (1, 1, 1, 2, 1, 0, 0, -1, 0, 10),
    (1, 9, 3, 5, 6, 0, 1, 0, 0, 11),
    (40, 1, 1, 15, 5, 0, 0, -1, 0, 12),
]
SPACE = {(1, -1): None, (3, 0): "RGB", (3, -1): "RGB", (3, 1): "YCbCr", (4, 0): "CMYK", (4, 2): "YCCK"}


@pytest.mark.parametrize("case", OWN_CASES, ids=lambda c: "x".join(map(str, c)))
def test_own_encoder_files(tmp_path, case):
    w, h, nf, prec, pred, pt, rst, adobe, first, seed = case
    out = tmp_path / "own.jpg"
    args = [LLTOOL, "enc"] + [str(v) for v in (w, h, nf, prec, pred, pt, rst, adobe, first, seed)] + [str(out)]
    subprocess.run(args, check=True)
    want, wprec = read_raw(str(out) + ".src")
    assert wprec == prec
    data = out.read_bytes()
    if rst:
        assert b"\xff\xdd" in data and b"\xff\xd0" in data or h <= rst
    space = SPACE[(nf, adobe)]
    ref = imagecodecs.jpeg8_decode(data, colorspace=space, outcolorspace=space) if space else imagecodecs.jpeg8_decode(data)
    assert np.array_equal(ref.reshape(want.shape), want)  # the oracle agrees with what we meant
    got, gprec = libthumb_samples(tmp_path, data)
    assert gprec == prec
    assert np.array_equal(got, want)


def thumb(*args):
    return subprocess.run([THUMB] + list(args), capture_output=True, text=True)


def jpeg_size(path):
    a = imagecodecs.jpeg8_decode(open(path, "rb").read())
    return a.shape[1], a.shape[0]


@pytest.mark.parametrize("bps", [8, 12, 16])
def test_cli_avatar_of_a_lossless_photo(tmp_path, bps):
    rgb = imagecodecs.jpeg8_decode(open(PHOTO, "rb").read())
    assert rgb.shape == (2225, 2725, 3)
    # a lossless copy at bps bits whose reduction to 8 bits is exactly rgb
    if bps == 8:
        deep = rgb
    else:
        maxv = (1 << bps) - 1
        deep = ((rgb.astype(np.uint32) * maxv + 127) // 255).astype(np.uint16)
        assert np.array_equal(((deep.astype(np.uint64) * 255 + maxv // 2) // maxv).astype(np.uint8), rgb)
    ll = tmp_path / ("photo-lossless-%d.jpg" % bps)
    ll.write_bytes(imagecodecs.jpeg8_encode(deep, lossless=True, predictor=6, bitspersample=bps))
    png = tmp_path / "photo.png"
    png.write_bytes(imagecodecs.png_encode(rgb))

    r = thumb("info", "--json", str(ll))
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["lossless"] is True and info["bit_depth"] == bps
    assert (info["width"], info["height"], info["channels"]) == (2725, 2225, 3)
    r = thumb("info", str(ll))
    assert "lossless     yes" in r.stdout and ("bit depth    %d" % bps) in r.stdout

    a1, a2 = tmp_path / "avatar-lossless.jpg", tmp_path / "avatar-png.jpg"
    r = thumb(str(ll), "-o", str(a1), "-s", "512x512")
    assert r.returncode == 0, r.stderr
    r = thumb(str(png), "-o", str(a2), "-s", "512x512")
    assert r.returncode == 0, r.stderr
    assert jpeg_size(a1) == (512, 512)
    assert a1.read_bytes() == a2.read_bytes()  # same pixels in, same avatar out


def test_12bit_dct_is_typed(tmp_path):
    a = picture(24, 40, 3, 12, seed=1)
    for kw in ({}, {"level": 95}):
        p = tmp_path / "dct12.jpg"
        p.write_bytes(imagecodecs.jpeg8_encode(a, bitspersample=12, **kw))
        assert imagecodecs.jpeg8_decode(p.read_bytes()).dtype == np.uint16  # a real 12-bit JPEG
        for args in (["info", str(p)], [str(p), "-o", str(tmp_path / "o.jpg"), "-s", "64x64"]):
            r = thumb(*args)
            assert r.returncode == 1
            assert "THUMB_EUNSUPPORTED" in r.stderr and "12-bit JPEG" in r.stderr, r.stderr
        assert not (tmp_path / "o.jpg").exists()
