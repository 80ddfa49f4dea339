"""Pillow as a long-lived benchmark worker; same line protocol as bench/bench_thumb.c:
  load PATH -> "ok INDEX"   run INDEX N -> "WALL_NS CPU_NS"   save INDEX PATH jpeg|png -> "ok BYTES"
  rss -> "HWM_KB RSS_KB"    quit
One-shot mode for the memory bar: python pillow_bench.py --oneshot IN OUT
Job, Pillow's best practice: open from memory, draft() to let libjpeg scale on load (JPEG only),
ImageOps.fit(..., LANCZOS) to 512x512, save JPEG q80 to memory.
"""
import sys
import time
from io import BytesIO

import PIL
from PIL import Image, ImageOps

Image.MAX_IMAGE_PIXELS = None  # the memory-bar inputs are larger than Pillow's bomb guard
LANCZOS = getattr(Image, "Resampling", Image).LANCZOS


def job(buf, fmt="jpeg"):
    im = Image.open(BytesIO(buf))
    im.draft("RGB", (512, 512))
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    out = BytesIO()
    fit = ImageOps.fit(im, (512, 512), LANCZOS)
    if fmt == "png":
        fit.save(out, "PNG")
    else:
        fit.save(out, "JPEG", quality=80)
    return out.getvalue()


def rss():
    hwm = cur = -1
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                cur = int(line.split()[1])
    return f"{hwm} {cur}"


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--oneshot":
        with open(sys.argv[2], "rb") as f:
            data = job(f.read(), "png" if sys.argv[3].endswith(".png") else "jpeg")
        with open(sys.argv[3], "wb") as f:
            f.write(data)
        return
    files = []

    def out(s):
        sys.stdout.write(s + "\n")
        sys.stdout.flush()

    out(f"ready Pillow {PIL.__version__}")
    for line in sys.stdin:
        a = line.split()
        if not a:
            continue
        try:
            if a[0] == "load":
                with open(line.strip()[5:], "rb") as f:
                    files.append(f.read())
                out(f"ok {len(files) - 1}")
            elif a[0] == "run":
                buf, n = files[int(a[1])], int(a[2])
                t0, c0 = time.perf_counter_ns(), time.process_time_ns()
                for _ in range(n):
                    if not job(buf):
                        raise RuntimeError("empty output")
                out(f"{time.perf_counter_ns() - t0} {time.process_time_ns() - c0}")
            elif a[0] == "save":
                data = job(files[int(a[1])], a[3] if len(a) > 3 else "jpeg")
                with open(a[2], "wb") as f:
                    f.write(data)
                out(f"ok {len(data)}")
            elif a[0] == "rss":
                out(rss())
            elif a[0] == "quit":
                break
            else:
                out("error bad command")
        except Exception as e:  # report, keep serving
            out(f"error {type(e).__name__}: {e}".replace("\n", " "))


if __name__ == "__main__":
    main()
