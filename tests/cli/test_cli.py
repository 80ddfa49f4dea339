#!/usr/bin/env python3
"""Tests of the `thumb` command line tool. Plain Python 3 stdlib.

usage: test_cli.py PATH/TO/thumb      (THUMB_CORPUS names the corpus; default ../shared/corpus beside the checkout)

Output dimensions are checked twice: with `thumb info --json` and by parsing the JPEG SOF / PNG IHDR
here, so a bug shared by the CLI and the info path cannot hide itself.
"""
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

THUMB = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.environ.get("THUMB_CORPUS") or os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus"))


def corpus(rel):
    return os.path.join(CORPUS, rel)


# ------------------------------------------------------------------ harness

class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run(args, stdin=None, cwd=None, timeout=300):
    p = subprocess.run([THUMB] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       cwd=cwd, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_ok(args, **kw):
    rc, out, err = run(args, **kw)
    check(rc == 0, "thumb %s: exit %d, stderr: %s" % (" ".join(args), rc, err.strip()))
    return out, err


# ------------------------------------------------------------------ header parsing (independent of libthumb)

def png_header(data):
    """(width, height, bit_depth, colour_type, interlace) from IHDR."""
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature")
    length, ctype = struct.unpack(">I4s", data[8:16])
    check(ctype == b"IHDR" and length == 13, "first chunk is not IHDR")
    w, h, depth, colour, _comp, _filt, interlace = struct.unpack(">IIBBBBB", data[16:29])
    return {"width": w, "height": h, "bit_depth": depth, "colour_type": colour, "interlace": interlace}


def jpeg_header(data):
    """Walk the markers up to the first SOF: its type, size and per-component sampling factors."""
    check(data[:2] == b"\xff\xd8", "not a JPEG SOI")
    i = 2
    while i + 4 <= len(data):
        check(data[i] == 0xFF, "marker expected at offset %d" % i)
        while i < len(data) and data[i] == 0xFF:
            i += 1
        m = data[i]
        i += 1
        if m == 0x01 or 0xD0 <= m <= 0xD7:
            continue
        (seglen,) = struct.unpack(">H", data[i:i + 2])
        if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):
            precision, h, w, ncomp = struct.unpack(">BHHB", data[i + 2:i + 8])
            comps = []
            for k in range(ncomp):
                cid, hv, _tq = struct.unpack(">BBB", data[i + 8 + 3 * k:i + 11 + 3 * k])
                comps.append((cid, hv >> 4, hv & 15))
            return {"sof": m, "width": w, "height": h, "precision": precision, "components": comps}
        check(m != 0xD9 and m != 0xDA, "no SOF before SOS/EOI")
        i += seglen
    raise Failure("no SOF marker found")


def image_header(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\xff\xd8":
        h = jpeg_header(data)
        h["format"] = "jpeg"
    else:
        h = png_header(data)
        h["format"] = "png"
    return h


def info_json(path):
    out, _ = run_ok(["info", "--json", path])
    return json.loads(out)


def check_dims(path, w, h, fmt, slack=0):
    """The output at path is fmt and w x h (each side within slack), by both readers."""
    check(os.path.isfile(path), "%s was not written" % path)
    hdr = image_header(path)
    js = info_json(path)
    for what, d in (("header", hdr), ("info --json", js)):
        check(d["format"] == fmt, "%s: %s says format %s, expected %s" % (path, what, d["format"], fmt))
        check(abs(d["width"] - w) <= slack and abs(d["height"] - h) <= slack,
              "%s: %s says %dx%d, expected %dx%d" % (path, what, d["width"], d["height"], w, h))
    check((hdr["width"], hdr["height"]) == (js["width"], js["height"]), "%s: header and info disagree" % path)
    return hdr


def listing(d):
    return sorted(os.listdir(d))


def check_no_stray_files(d):
    """Nothing hidden (temporaries, staging dirs) and nothing empty in an output directory."""
    for name in listing(d):
        check(not name.startswith("."), "stray file %r left in %s" % (name, d))
        p = os.path.join(d, name)
        check(os.path.isfile(p) and os.path.getsize(p) > 0, "%s is not a non-empty file" % p)


# ------------------------------------------------------------------ tests

def test_version_and_help(tmp):
    out, _ = run_ok(["--version"])
    check(re.match(r"thumb \d+\.\d+\.\d+ \(libthumb \d+\.\d+\.\d+, simd (avx2|scalar)\)$", out.strip()),
          "unexpected --version: %r" % out)
    out, _ = run_ok(["--help"])
    check("usage: thumb" in out and "--fit" in out and "info" in out, "--help lacks the usage")


def test_single_jpeg_sizes(tmp):
    src = corpus("photos/flowers.jpeg")  # 1920x1080
    iw, ih = image_header(src)["width"], image_header(src)["height"]
    cases = [("512x512", 512, 512), ("512x", 512, round(ih * 512 / iw)), ("x300", round(iw * 300 / ih), 300),
             ("200", 200, 200)]
    for size, w, h in cases:
        out = os.path.join(tmp, "f_%s.jpg" % size)
        run_ok([src, "-o", out, "-s", size])
        check_dims(out, w, h, "jpeg", slack=0 if size in ("512x512", "200") else 1)


def test_single_png_sizes(tmp):
    src = corpus("photos/coffee.png")  # 600x400
    iw, ih = image_header(src)["width"], image_header(src)["height"]
    cases = [("512x512", 512, 512), ("512x", 512, round(ih * 512 / iw)), ("x300", round(iw * 300 / ih), 300)]
    for size, w, h in cases:
        out = os.path.join(tmp, "c_%s.png" % size)
        run_ok([src, "-o", out, "-s", size])
        hdr = check_dims(out, w, h, "png", slack=0 if size == "512x512" else 1)
        check(hdr["colour_type"] == 2, "RGB input should give an RGB PNG, got colour type %d" % hdr["colour_type"])


def fit_expectation(iw, ih, bw, bh, fit):
    if fit in ("cover", "contain", "fill"):
        return bw, bh
    s = min(bw / iw, bh / ih) if fit == "inside" else max(bw / iw, bh / ih)
    return iw * s, ih * s


def test_fit_modes(tmp):
    for rel, ext, fmt in (("photos/flowers.jpeg", "jpg", "jpeg"), ("photos/coffee.png", "png", "png")):
        src = corpus(rel)
        hdr = image_header(src)
        for fit in ("cover", "contain", "fill", "inside", "outside"):
            out = os.path.join(tmp, "fit_%s_%s.%s" % (os.path.basename(rel), fit, ext))
            run_ok([src, "-o", out, "-s", "512x512", "--fit", fit])
            w, h = fit_expectation(hdr["width"], hdr["height"], 512, 512, fit)
            got = image_header(out)
            # The side that meets the box is exact; the other is the real value rounded either way.
            check(abs(got["width"] - w) < 1 and abs(got["height"] - h) < 1,
                  "%s --fit %s: %dx%d, expected about %.2fx%.2f" % (rel, fit, got["width"], got["height"], w, h))
            check(got["width"] == 512 or got["height"] == 512, "%s --fit %s: no side meets the box" % (rel, fit))
            check_dims(out, got["width"], got["height"], fmt)


def test_exif_orientation(tmp):
    src = corpus("exif/Landscape_6.jpg")
    hdr = image_header(src)  # stored portrait, displayed landscape
    out = os.path.join(tmp, "l6.jpg")
    run_ok([src, "-o", out, "-s", "300x"])
    check_dims(out, 300, round(hdr["width"] * 300 / hdr["height"]), "jpeg", slack=1)
    out = os.path.join(tmp, "l6_raw.jpg")
    run_ok([src, "-o", out, "-s", "300x", "--no-orient"])
    check_dims(out, 300, round(hdr["height"] * 300 / hdr["width"]), "jpeg", slack=1)


def test_format_flag_and_options(tmp):
    src = corpus("photos/flowers.jpeg")
    out = os.path.join(tmp, "named.jpg")
    run_ok([src, "-o", out, "-s", "64", "--format", "png"])
    check(image_header(out)["format"] == "png", "--format png must win over the .jpg name")
    # --progressive -> SOF2; default -> SOF0 (baseline)
    base, prog = os.path.join(tmp, "base.jpg"), os.path.join(tmp, "prog.jpg")
    run_ok([src, "-o", base, "-s", "128"])
    run_ok([src, "-o", prog, "-s", "128", "--progressive"])
    check(image_header(base)["sof"] in (0xC0, 0xC1), "default output is not baseline")
    check(image_header(prog)["sof"] == 0xC2, "--progressive output is not SOF2")
    check(info_json(prog)["progressive"] is True, "info does not report the progressive output")
    # --chroma: luma sampling factors 2x2 for 4:2:0, 1x1 for 4:4:4
    c444 = os.path.join(tmp, "c444.jpg")
    run_ok([src, "-o", c444, "-s", "128", "--chroma", "444"])
    check(image_header(base)["components"][0][1:] == (2, 2), "default chroma is not 4:2:0")
    check(image_header(c444)["components"][0][1:] == (1, 1), "--chroma 444 is not 4:4:4")
    # -q changes the size
    q30, q95 = os.path.join(tmp, "q30.jpg"), os.path.join(tmp, "q95.jpg")
    run_ok([src, "-o", q30, "-s", "256", "-q", "30"])
    run_ok([src, "-o", q95, "-s", "256", "-q", "95"])
    check(os.path.getsize(q95) > os.path.getsize(q30), "-q 95 is not larger than -q 30")
    # --png-compression 0 stores, 9 compresses
    p0, p9 = os.path.join(tmp, "p0.png"), os.path.join(tmp, "p9.png")
    run_ok([src, "-o", p0, "-s", "256", "--png-compression", "0"])
    run_ok([src, "-o", p9, "-s", "256", "--png-compression", "9"])
    check(os.path.getsize(p0) > os.path.getsize(p9), "--png-compression 0 is not larger than 9")
    # --background with alpha, padding a PNG: the output gains an alpha channel
    pad = os.path.join(tmp, "pad.png")
    run_ok([src, "-o", pad, "-s", "256x256", "--fit", "contain", "--background", "#ff000000"])
    check(png_header(open(pad, "rb").read())["colour_type"] == 6, "transparent padding should give RGBA")
    pad2 = os.path.join(tmp, "pad2.png")
    run_ok([src, "-o", pad2, "-s", "256x256", "--fit", "contain", "--background", "#ff0000"])
    check(png_header(open(pad2, "rb").read())["colour_type"] == 2, "opaque padding should stay RGB")
    # --position: north and south crops of a landscape photo to a wide strip differ
    north, south = os.path.join(tmp, "north.png"), os.path.join(tmp, "south.png")
    run_ok([src, "-o", north, "-s", "200x40", "--position", "north"])
    run_ok([src, "-o", south, "-s", "200x40", "--position", "south"])
    check(open(north, "rb").read() != open(south, "rb").read(), "--position north and south gave the same image")
    # every kernel works
    for k in ("lanczos3", "nearest", "linear", "cubic"):
        out = os.path.join(tmp, "k_%s.jpg" % k)
        run_ok([src, "-o", out, "-s", "100x80", "--kernel", k])
        check_dims(out, 100, 80, "jpeg")
    # --without-enlargement keeps a 500x500 image at 500x500
    logo = corpus("photos/logo.png")
    big = os.path.join(tmp, "big.png")
    run_ok([logo, "-o", big, "-s", "1000", "--fit", "inside", "--without-enlargement"])
    check_dims(big, 500, 500, "png")
    run_ok([logo, "-o", big, "-s", "1000", "--fit", "inside"])
    check_dims(big, 1000, 1000, "png")
    # --keep-colour is accepted and produces an image
    kc = os.path.join(tmp, "kc.jpg")
    run_ok([corpus("photos/Channel_digital_image_CMYK_color.jpg"), "-o", kc, "-s", "64", "--keep-colour"])
    check_dims(kc, 64, 64, "jpeg")


def test_max_pixels_and_stdin_input(tmp):
    out = os.path.join(tmp, "mp.jpg")
    rc, _, err = run([corpus("photos/flowers.jpeg"), "-o", out, "-s", "64", "--max-pixels", "1000"])
    check(rc == 1, "--max-pixels 1000 should fail with exit 1, got %d" % rc)
    check("THUMB_ELIMIT_PIXELS" in err and "flowers.jpeg" in err, "limit error not reported: %r" % err)
    check(not os.path.exists(out), "an output appeared for a failed input")
    check_no_stray_files(tmp)
    with open(corpus("photos/chelsea.png"), "rb") as f:
        data = f.read()
    out = os.path.join(tmp, "stdin.png")
    run_ok(["-", "-o", out, "-s", "50x"], stdin=data)
    check(image_header(out)["width"] == 50, "stdin input gave the wrong width")


def test_batch(tmp):
    inputs = sorted(os.path.join(corpus("photos"), n) for n in os.listdir(corpus("photos")))
    inputs += sorted(os.path.join(corpus("exif"), n) for n in os.listdir(corpus("exif")))
    out_dir = os.path.join(tmp, "batch", "nested")  # created, parents included
    t0 = time.time()
    _, err = run_ok(inputs + ["-o", out_dir, "-s", "128x128", "-j", "2"])
    expected = sorted(os.path.splitext(os.path.basename(p))[0] + ".jpg" for p in inputs)
    check(listing(out_dir) == expected, "batch outputs %s, expected %s" % (listing(out_dir), expected))
    check_no_stray_files(out_dir)
    for name in expected:
        check_dims(os.path.join(out_dir, name), 128, 128, "jpeg")
    m = re.search(r"(\d+) done, (\d+) failed in ([\d.]+) s \(([\d.]+) files/s\)", err)
    check(m, "no summary on stderr: %r" % err)
    check(int(m.group(1)) == len(inputs) and int(m.group(2)) == 0, "summary counts wrong: %s" % m.group(0))
    check(0 < float(m.group(3)) <= time.time() - t0 + 0.5, "summary time implausible: %s" % m.group(0))
    check("\r" not in err, "progress bar drawn although stderr is not a TTY")
    # --format png names the outputs .png; -j 0 means one job per CPU
    png_dir = os.path.join(tmp, "batch_png")
    run_ok(inputs[:3] + ["-o", png_dir, "-s", "32", "--format", "png", "-j", "0"])
    check(listing(png_dir) == sorted(os.path.splitext(os.path.basename(p))[0] + ".png" for p in inputs[:3]),
          "--format png batch names: %s" % listing(png_dir))


def test_batch_from_stdin_list(tmp):
    names = [corpus("photos/concert.jpg"), corpus("photos/logo.png")]
    out_dir = os.path.join(tmp, "at")
    run_ok(["-@", "-o", out_dir, "-s", "40"], stdin=("\n".join(names) + "\n").encode())
    check(listing(out_dir) == ["concert.jpg", "logo.jpg"], "-@ outputs: %s" % listing(out_dir))


def test_batch_with_failures(tmp):
    text = os.path.join(tmp, "notes.txt")
    with open(text, "w") as f:
        f.write("This is a plain text file, not an image; libthumb must refuse it by its magic bytes.\n")
    truncated = corpus("edge/truncated.jpg")
    good = [corpus("photos/concert.jpg"), corpus("photos/logo.png"), corpus("exif/Landscape_3.jpg")]
    out_dir = os.path.join(tmp, "mixed")
    rc, _, err = run([good[0], truncated, text, good[1], good[2], "-o", out_dir, "-s", "64", "-j", "2"])
    check(rc == 1, "a batch with failures should exit 1, got %d" % rc)
    lines = err.splitlines()
    t_line = [l for l in lines if truncated in l]
    x_line = [l for l in lines if text in l]
    check(len(t_line) == 1 and re.search(r": THUMB_E(TRUNCATED|CORRUPT): \S", t_line[0]),
          "truncated.jpg not reported with its code: %r" % err)
    check(len(x_line) == 1 and ": THUMB_EUNSUPPORTED: " in x_line[0], "text file not reported as unsupported: %r" % err)
    check(re.search(r"\b3 done, 2 failed\b", err), "summary does not count 3 done, 2 failed: %r" % err)
    check(listing(out_dir) == ["Landscape_3.jpg", "concert.jpg", "logo.jpg"], "outputs: %s" % listing(out_dir))
    check_no_stray_files(out_dir)
    # A failing single file leaves nothing behind either.
    single = os.path.join(tmp, "single")
    os.mkdir(single)
    rc, _, err = run([truncated, "-o", os.path.join(single, "t.jpg"), "-s", "64"])
    check(rc == 1 and truncated in err and "THUMB_E" in err, "single failure: exit %d, %r" % (rc, err))
    check(listing(single) == [], "files left after a failed single conversion: %s" % listing(single))


def test_batch_name_collision(tmp):
    a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    os.mkdir(a)
    os.mkdir(b)
    os.symlink(corpus("photos/concert.jpg"), os.path.join(a, "x.jpg"))
    os.symlink(corpus("photos/logo.png"), os.path.join(b, "x.png"))
    out_dir = os.path.join(tmp, "coll")
    rc, _, err = run([os.path.join(a, "x.jpg"), os.path.join(b, "x.png"), "-o", out_dir, "-s", "30"])
    check(rc == 1 and "same output name" in err, "collision not reported: exit %d, %r" % (rc, err))
    check(listing(out_dir) == ["x.jpg"], "collision outputs: %s" % listing(out_dir))
    check(image_header(os.path.join(out_dir, "x.jpg"))["components"].__len__() == 1,
          "x.jpg should come from the first input (greyscale concert.jpg)")


def test_output_never_replaces_its_input(tmp):
    src = os.path.join(tmp, "in.jpg")
    shutil.copyfile(corpus("photos/concert.jpg"), src)
    before = open(src, "rb").read()
    rc, _, err = run([src, os.path.join(tmp, ".", "in.jpg"), "-o", tmp, "-s", "20"])
    check(rc == 1 and "overwrite the input" in err, "batch onto its own input: exit %d, %r" % (rc, err))
    rc, _, err = run([src, "-o", os.path.join(tmp, ".", "in.jpg"), "-s", "20"])
    check(rc == 2 and "overwrite the input" in err, "single onto its own input: exit %d, %r" % (rc, err))
    check(open(src, "rb").read() == before, "the input was replaced")
    check(listing(tmp) == ["in.jpg"], "files left: %s" % listing(tmp))


def test_usage_errors(tmp):
    src = corpus("photos/concert.jpg")
    afile = os.path.join(tmp, "afile.jpg")
    with open(afile, "w") as f:
        f.write("x")
    out = os.path.join(tmp, "u", "o.jpg")
    os.mkdir(os.path.join(tmp, "u"))
    bad = [
        [src, "-o", out, "--bogus"],
        [src, "-o", out, "-s", "0"],
        [src, "-o", out, "-s", "abc"],
        [src, "-o", out, "-s", "x"],
        [src, "-o", out, "-s", "12x34x5"],
        [src, "-o", out, "-s", "-5"],
        [src, "-o", out, "-s"],
        [src, "-s", "64"],
        ["-o", out, "-s", "64"],
        [src, src, "-o", afile, "-s", "64"],
        [src, "-o", out, "--fit", "squash"],
        [src, "-o", out, "--position", "up"],
        [src, "-o", out, "--kernel", "mitchell"],
        [src, "-o", out, "-q", "0"],
        [src, "-o", out, "-q", "101"],
        [src, "-o", out, "--format", "gif"],
        [src, "-o", os.path.join(tmp, "u", "o.gif")],
        [src, "-o", out, "--chroma", "422"],
        [src, "-o", out, "--background", "red"],
        [src, "-o", out, "--png-compression", "10"],
        [src, "-o", out, "-j", "-1"],
        [src, "-o", out, "--progressive=yes"],
        ["info"],
        ["info", "--bogus", src],
    ]
    for args in bad:
        rc, stdout, err = run(args)
        check(rc == 2, "thumb %s: expected exit 2, got %d" % (" ".join(args), rc))
        check(err.startswith("thumb: ") and stdout == "", "thumb %s: usage message not on stderr" % " ".join(args))
    check(listing(os.path.join(tmp, "u")) == [], "usage errors created files: %s" % listing(os.path.join(tmp, "u")))
    check(open(afile).read() == "x", "-o FILE with several inputs touched the file")


def test_info_json(tmp):
    # PNG with alpha, against IHDR
    logo = corpus("photos/logo.png")
    js = info_json(logo)
    hdr = image_header(logo)
    check(js["file"] == logo and js["format"] == "png", "logo.png: %r" % js)
    check(js["has_alpha"] is True and js["channels"] == 4, "logo.png alpha: %r" % js)
    check((js["width"], js["height"]) == (hdr["width"], hdr["height"]) == (js["stored_width"], js["stored_height"]),
          "logo.png size: %r vs IHDR %r" % (js, hdr))
    check(js["bit_depth"] == hdr["bit_depth"] and js["orientation"] == 1, "logo.png depth/orientation: %r" % js)
    check(js["progressive"] is (hdr["interlace"] == 1), "logo.png interlace: %r" % js)
    ga = info_json(corpus("edge/grey-8bit-alpha.png"))
    check(ga["channels"] == 2 and ga["has_alpha"] is True, "grey+alpha: %r" % ga)
    # EXIF orientation 6: displayed size is the stored size transposed
    l6 = corpus("exif/Landscape_6.jpg")
    js = info_json(l6)
    sof = image_header(l6)
    check(js["format"] == "jpeg" and js["orientation"] == 6 and js["has_exif"] is True, "Landscape_6: %r" % js)
    check((js["stored_width"], js["stored_height"]) == (sof["width"], sof["height"]), "stored size vs SOF: %r" % js)
    check((js["width"], js["height"]) == (sof["height"], sof["width"]), "displayed size not swapped: %r" % js)
    for key, typ in (("bit_depth", int), ("channels", int), ("has_icc", bool), ("icc_size", int),
                     ("progressive", bool), ("colour_space", int)):
        check(isinstance(js[key], typ), "%s is not %s: %r" % (key, typ.__name__, js))
    check(js["has_icc"] == (js["icc_size"] > 0), "has_icc and icc_size disagree: %r" % js)
    l1 = info_json(corpus("exif/Landscape_1.jpg"))
    check(l1["orientation"] == 1 and (l1["width"], l1["height"]) == (js["width"], js["height"]),
          "Landscape_1 and Landscape_6 should display the same size")
    # Several files: a JSON array, one entry per argument, failures included, exit 1
    files = [logo, corpus("edge/truncated-small.jpg"), l6]
    rc, out, err = run(["info", "--json"] + files)
    arr = json.loads(out)
    check(isinstance(arr, list) and [o["file"] for o in arr] == files, "array entries: %r" % out)
    check(rc == 1 and "truncated-small.jpg" in err and "THUMB_E" in err, "failed info not reported: %d %r" % (rc, err))
    check("error" in arr[1] and arr[1]["error"].startswith("THUMB_E") and "width" not in arr[1], "error entry: %r" % arr[1])
    check(arr[2]["orientation"] == 6, "third entry: %r" % arr[2])
    # Text output names the fields
    out, _ = run_ok(["info", l6])
    for word in ("jpeg", "600x450", "450x600", "orientation", "icc", "exif"):
        check(word in out, "text info lacks %r: %r" % (word, out))


def test_info_json_escaping(tmp):
    names = [b'quote"back\\slash', b"new\nline\ttab", "caf\u00e9 \u6771".encode(), b"bad\xffbyte"]
    paths = []
    for n in names:
        p = os.path.join(tmp.encode(), n + b".png")
        os.symlink(corpus("photos/logo.png").encode(), p)
        paths.append(p)
    p = subprocess.run([THUMB.encode(), b"info", b"--json"] + paths, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "info on odd names failed: %r" % p.stderr)
    arr = json.loads(p.stdout.decode("utf-8"))  # must be valid UTF-8 and valid JSON
    check([o["file"] for o in arr[:3]] == [x.decode() for x in paths[:3]], "names did not round-trip: %r" % arr)
    check(arr[3]["file"] == os.path.join(tmp, "bad\ufffdbyte.png"), "invalid UTF-8 not replaced: %r" % arr[3]["file"])


def test_progress_bar_on_tty(tmp):
    inputs = [corpus("photos/concert.jpg"), corpus("photos/logo.png"), corpus("photos/chelsea.png")]
    master, slave = pty.openpty()
    p = subprocess.Popen([THUMB] + inputs + ["-o", os.path.join(tmp, "tty"), "-s", "32"],
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    buf = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO once the child closed the pty
            break
        if not chunk:
            break
        buf += chunk
    rc = p.wait(60)
    os.close(master)
    text = buf.decode("utf-8", "replace")
    check(rc == 0, "tty batch exit %d" % rc)
    check("\r[" in text and "3/3" in text and "#" in text, "no progress bar on a TTY: %r" % text)
    check(re.search(r"3 done, 0 failed", text), "no summary on a TTY: %r" % text)


def _interrupt_batch(tmp, tag, second_after, size, hold_first=False):
    """A 2-worker batch of 200 avatars, SIGINT once work is under way and, second_after seconds
    later, again. hold_first: the first input is a FIFO that gets the first 60 KB of the photo
    and is then held open, so its job stays in flight (blocked reading) for as long as the test
    wants: the second signal meets a job in progress on any machine, however fast the others go."""
    links = os.path.join(tmp, "links_" + tag)
    os.mkdir(links)
    n = 200
    photo = corpus("photos/2569067123_aca715a2ee_o.jpg")
    held = None
    for k in range(n):
        path = os.path.join(links, "p%03d.jpg" % k)
        if hold_first and k == 0:
            os.mkfifo(path)
            held = os.open(path, os.O_RDWR)  # Linux: never blocks, and the reader never sees EOF
            with open(photo, "rb") as f:
                os.write(held, f.read(60000))
        else:
            os.symlink(photo, path)
    inputs = sorted(os.path.join(links, x) for x in os.listdir(links))
    out_dir = os.path.join(tmp, "sig_" + tag)
    try:
        p = subprocess.Popen([THUMB] + inputs + ["-o", out_dir, "-s", str(size), "-j", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:  # interrupt once work is under way
            if os.path.isdir(out_dir) and any(not x.startswith(".") for x in os.listdir(out_dir)):
                break
            time.sleep(0.01)
        time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        if second_after is not None:
            time.sleep(second_after)
            if hold_first:
                check(p.poll() is None, "the batch ended while a job was still reading its input")
            p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
    finally:
        if held is not None:
            os.close(held)
    err = err.decode("utf-8", "replace")
    check(p.returncode == -signal.SIGINT, "interrupted batch should die by SIGINT, got %d" % p.returncode)
    done = listing(out_dir)
    check(0 < len(done) < n, "interrupt did not stop the batch: %d of %d outputs" % (len(done), n))
    check_no_stray_files(out_dir)
    for name in done:  # every output that exists is whole
        hdr = image_header(os.path.join(out_dir, name))
        check((hdr["width"], hdr["height"]) == (size, size), "%s is not a whole %dx%d JPEG" % (name, size, size))
        with open(os.path.join(out_dir, name), "rb") as f:
            check(f.read()[-2:] == b"\xff\xd9", "%s does not end with EOI" % name)
    return err


def test_sigint_finishes_in_flight_jobs(tmp):
    err = _interrupt_batch(tmp, "one", None, 300)
    check("interrupted" in err and "not started" in err, "no interruption summary: %r" % err)


def test_second_sigint_aborts_without_partial_files(tmp):
    # The first input's job is held in flight (a FIFO left open after part of a photo), so the
    # first SIGINT leaves the batch waiting on it and only the second can end it: at once, with
    # no summary, and nothing partial or hidden left in the directory. (Timing it with big
    # outputs instead was a race: with a faster decoder both in-flight jobs could finish inside
    # the 20 ms between the signals, and the batch ended with its summary.)
    err = _interrupt_batch(tmp, "two", 0.3, 300, hold_first=True)
    check("not started" not in err, "the second SIGINT did not abort at once: %r" % err)


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def main():
    if not THUMB or not os.access(THUMB, os.X_OK):
        print("usage: test_cli.py PATH/TO/thumb", file=sys.stderr)
        return 2
    if not os.path.isdir(CORPUS):
        print("corpus not found at %s (set THUMB_CORPUS)" % CORPUS, file=sys.stderr)
        return 2
    only = sys.argv[2:]
    passed = failed = 0
    for t in TESTS:
        if only and t.__name__ not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="thumb_cli_")
        try:
            t(tmp)
            passed += 1
            print("ok   %s" % t.__name__)
        except Failure as e:
            failed += 1
            print("FAIL %s: %s" % (t.__name__, e))
        except Exception:
            failed += 1
            print("FAIL %s: exception\n%s" % (t.__name__, traceback.format_exc()))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
