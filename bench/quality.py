"""PSNR of 512x512 cover thumbnails against a float reference.

The reference: full-resolution decode (Pillow, no draft), then a separable Lanczos3 in float64 with
the exact geometry of libthumb's plan (libthumb/plan.c):
  - cover scale = max(box_w / W, box_h / H); the limiting axis gets the box exactly, the other
    round-half-up(len * scale);
  - centre crop offset = (resized - box + 1) // 2;
  - output pixel i is centred on source coordinate (i + crop + 0.5) * src / resized - 0.5;
  - when shrinking, the kernel is stretched by src / resized (support 3 * src / resized);
  - taps outside the image repeat the edge pixel; weights are normalised to sum 1;
  - values clamped to [0, 255], not rounded.
PSNR is over all three channels, against the reference as float.

  python bench/quality.py SOURCE.jpg THUMB [THUMB...]    prints one "PSNR  file" line per thumbnail
"""
import math
import sys

import numpy as np
from PIL import Image


def _lanczos3(x):
    x = np.abs(x)
    out = np.where(x < 1e-12, 1.0, 3.0 * np.sin(np.pi * x) * np.sin(np.pi * x / 3.0) / (np.pi * np.pi * x * x + 1e-300))
    return np.where(x < 3.0, out, 0.0)


def _round_half_up_div(num, den):
    return max(1, (2 * num + den) // (2 * den))


def cover_geometry(W, H, bw=512, bh=512):
    """(resized_w, resized_h, crop_x, crop_y) as libthumb's plan computes them for cover/centre."""
    if bw * H >= bh * W:  # width-limited: scale = bw / W
        rw, rh = bw, _round_half_up_div(H * bw, W)
    else:
        rw, rh = _round_half_up_div(W * bh, H), bh
    return rw, rh, (rw - bw + 1) // 2 if rw > bw else 0, (rh - bh + 1) // 2 if rh > bh else 0


def weights(src, resized, crop, out):
    """Dense (out, src) matrix of normalised Lanczos3 weights with edge repetition."""
    scale = src / resized
    f = max(scale, 1.0)
    support = 3.0 * f
    m = np.zeros((out, src), dtype=np.float64)
    for i in range(out):
        c = (i + crop + 0.5) * scale - 0.5
        j = np.arange(math.floor(c - support), math.ceil(c + support) + 1)
        w = _lanczos3((j - c) / f)
        np.add.at(m[i], np.clip(j, 0, src - 1), w)
        m[i] /= m[i].sum()
    return m


def reference(src_path, bw=512, bh=512):
    im = Image.open(src_path)
    im = im.convert("RGB")
    a = np.asarray(im, dtype=np.float64)
    H, W = a.shape[:2]
    rw, rh, cx, cy = cover_geometry(W, H, bw, bh)
    wx = weights(W, rw, cx, bw)
    wy = weights(H, rh, cy, bh)
    ref = np.empty((bh, bw, 3), dtype=np.float64)
    for ch in range(3):
        ref[:, :, ch] = wy @ a[:, :, ch] @ wx.T
    return np.clip(ref, 0.0, 255.0)


def psnr(ref, path):
    b = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    if b.shape != ref.shape:
        raise ValueError(f"{path}: {b.shape[1]}x{b.shape[0]}, expected {ref.shape[1]}x{ref.shape[0]}")
    mse = float(np.mean((b - ref) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0 * 255.0 / mse)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    ref = reference(argv[1])
    for p in argv[2:]:
        print(f"{psnr(ref, p):7.2f}  {p}")


if __name__ == "__main__":
    main(sys.argv)
