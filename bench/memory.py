"""The memory bar of issue 2: `thumb` peak RSS <= 32 MB making 512x512 from an 8000x6000 PNG and a
12000x9000 baseline JPEG. sharp and Pillow measured the same way, for context.

  python bench/memory.py --thumb BUILD/thumb --data DIR [--node node] [--no-peers] [--md OUT.md]

The inputs are generated once into DIR (git-ignored bench/.peers/memdata by default): smooth content
(low-frequency waves and gradients) plus mild noise, so they compress like photographs rather than
like flat colour. Every run is one process under /usr/bin/time -v; "above bare" subtracts the RSS
of the same runtime with the module loaded and nothing else.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
BAR_MB = 32.0


def synth(w, h, seed):
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), dtype=np.uint8)
    x = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    step = 500
    for y0 in range(0, h, step):  # in strips, so generation stays small next to the image itself
        y = np.linspace(y0 / h, min(y0 + step, h) / h, min(step, h - y0), endpoint=False, dtype=np.float32)[:, None]
        for c in range(3):
            v = (128 + 60 * np.sin(2 * np.pi * (3 + c) * x + 5 * y) * np.cos(2 * np.pi * (2 + c) * y)
                 + 40 * np.sin(2 * np.pi * 40 * x * y + c) + 20 * (x - y))
            v = v + rng.normal(0.0, 4.0, size=v.shape).astype(np.float32)
            img[y0:y0 + v.shape[0], :, c] = np.clip(v, 0, 255).astype(np.uint8)
    return img


def make_inputs(d):
    os.makedirs(d, exist_ok=True)
    png = os.path.join(d, "big-8000x6000.png")
    jpg = os.path.join(d, "big-12000x9000.jpg")
    if not os.path.exists(png):
        print("memory: generating 8000x6000 PNG", file=sys.stderr, flush=True)
        Image.fromarray(synth(8000, 6000, 1)).save(png + ".tmp", "PNG", compress_level=6)
        os.replace(png + ".tmp", png)
    if not os.path.exists(jpg):
        print("memory: generating 12000x9000 baseline JPEG", file=sys.stderr, flush=True)
        Image.fromarray(synth(12000, 9000, 2)).save(jpg + ".tmp", "JPEG", quality=90, progressive=False)
        os.replace(jpg + ".tmp", jpg)
    return [("8000x6000 PNG", png), ("12000x9000 JPEG", jpg)]


def max_rss_kb(argv):
    r = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[-400:]}")
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--thumb", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, ".peers", "memdata"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--md", default=None)
    a = ap.parse_args()

    inputs = make_inputs(a.data)
    py = sys.executable
    sharp_js = os.path.join(HERE, "peers", "sharp_bench.js")
    pillow_py = os.path.join(HERE, "peers", "pillow_bench.py")
    sharp_mod = os.path.join(HERE, ".peers", "node", "node_modules", "sharp")
    lines = ["### Memory bar (issue 2): peak RSS making 512x512 cover JPEG, one process under `/usr/bin/time -v`", "",
             "| input | size | `thumb` max RSS | bar | | sharp (above bare node) | Pillow (above bare python) |",
             "|---|---:|---:|---:|---|---:|---:|"]
    bare = {}
    if not a.no_peers:
        bare["sharp"] = max_rss_kb([a.node, "-e", f"require({sharp_mod!r})"])
        bare["Pillow"] = max_rss_kb([py, "-c", "from PIL import Image, ImageOps"])
    with tempfile.TemporaryDirectory() as d:
        for label, path in inputs:
            out = os.path.join(d, "o.jpg")
            try:
                t = max_rss_kb([a.thumb, path, "-o", out, "-s", "512x512", "-q", "80"]) / 1024
                tcell, verdict = f"{t:.1f} MB", "met" if t <= BAR_MB else "**not met**"
            except RuntimeError as e:
                tcell, verdict = f"failed: {e}", "**not met**"
            peers = []
            for name, argv in (("sharp", [a.node, sharp_js, "--oneshot", path, out]),
                               ("Pillow", [py, pillow_py, "--oneshot", path, out])):
                if a.no_peers:
                    peers.append("not run (--quick)")
                    continue
                try:
                    kb = max_rss_kb(argv)
                    peers.append(f"{kb / 1024:.0f} MB ({(kb - bare[name]) / 1024:.0f} MB)")
                except RuntimeError as e:
                    peers.append(f"failed: {str(e)[-120:]}")
            lines.append(f"| {label} | {os.path.getsize(path) / 1e6:.1f} MB file | {tcell} | <= {BAR_MB:.0f} MB | "
                         f"{verdict} | {peers[0]} | {peers[1]} |")
    if bare:
        lines.append("")
        lines.append(f"Bare runtimes: node + sharp {bare['sharp'] / 1024:.0f} MB, python + Pillow {bare['Pillow'] / 1024:.0f} MB.")
    text = "\n".join(lines)
    print(text)
    if a.md:
        with open(a.md, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
