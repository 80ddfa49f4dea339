#!/usr/bin/env python3
"""libthumb's Python module against Pillow on the avatar job, in one process.

    PY=$(bash scripts/pyenv)                                  # the dev venv: Pillow (latest at creation)
    "$PY" -m pip install ./bindings/python                    # libthumb (bindings/python/run-tests does it)
    "$PY" bench/python_vs_pillow.py [--quick] [--rounds N] [--seconds S] [--input FILE]

The job: a 2725x2225 JPEG upload (bytes in memory) -> 512x512 cover (centre crop), Lanczos3, JPEG q80,
bytes out. Pillow does it its best way: Image.open on the bytes, draft('RGB', (512, 512)) so libjpeg
scales on load, ImageOps.fit(..., LANCZOS), save JPEG quality=80. libthumb: libthumb.thumbnail(data,
512, 512) (its defaults are that job).

Rounds alternate the contenders (ABBA order) so drifts in machine load hit both; the figure is the
median of the rounds' ops/s, with CPU ms per op beside it (less sensitive to other load than wall
time). Then 2 threads against 1 through libthumb (the GIL is released inside each call), the same way.
Peak RSS is measured in a fresh process per contender (this script re-run with --rss NAME).
Targets (issue 12): libthumb / Pillow >= 2.5x ops/s; libthumb 2 threads / 1 thread >= 1.6x.
Prints a markdown table on stdout.
"""
import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_INPUT = os.path.join(os.environ.get("THUMB_CORPUS", os.path.join(ROOT, "..", "shared", "corpus")),
                             "photos", "2569067123_aca715a2ee_o.jpg")
TARGET_PILLOW = 2.5
TARGET_THREADS = 1.6


def need(module):
    try:
        return __import__(module)
    except ImportError as e:
        hint = ("pip install ./bindings/python (or run bindings/python/run-tests)" if module == "libthumb"
                else "pip install Pillow")
        sys.exit(f"python_vs_pillow: cannot import {module} ({e}); {hint} into {sys.executable}'s environment")


libthumb = need("libthumb")
PIL = need("PIL")
from PIL import Image, ImageOps  # noqa: E402

LANCZOS = getattr(Image, "Resampling", Image).LANCZOS


def pillow_job(data):
    im = Image.open(io.BytesIO(data))
    im.draft("RGB", (512, 512))
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    out = io.BytesIO()
    ImageOps.fit(im, (512, 512), LANCZOS).save(out, "JPEG", quality=80)
    return out.getvalue()


def libthumb_job(data):
    return libthumb.thumbnail(data, 512, 512)


JOBS = {"libthumb": libthumb_job, "Pillow": pillow_job}


def timed(job, data, seconds):
    """Run job for about `seconds`; (ops/s, CPU ms per op)."""
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    deadline = t0 + seconds
    while True:
        job(data)
        n += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    return n / (now - t0), (time.process_time() - c0) * 1000 / n


def timed_threads(job, data, seconds, threads):
    """Run job in `threads` threads for about `seconds`; total ops/s."""
    counts = [0] * threads
    stop = threading.Event()
    barrier = threading.Barrier(threads + 1)

    def worker(k):
        barrier.wait()
        while not stop.is_set():
            job(data)
            counts[k] += 1

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in ts:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def peak_rss_kb(name, path, calls):
    """VmHWM of a fresh process that imports both modules and makes `calls` calls of one job."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--rss", name, "--input", path,
                          "--calls", str(calls)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1])


def rss_child(name, path, calls):
    data = open(path, "rb").read()
    job = JOBS.get(name)
    for _ in range(calls if job else 0):
        job(data)
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    print(hwm)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="sanity run: 2 rounds of 0.3 s")
    ap.add_argument("--rounds", type=int, help="rounds per comparison (default 8; --quick 2)")
    ap.add_argument("--seconds", type=float, help="seconds per contender per round (default 1.5; --quick 0.3)")
    ap.add_argument("--input", default=DEFAULT_INPUT, help="the upload (default: the corpus avatar photo)")
    ap.add_argument("--rss", help=argparse.SUPPRESS)
    ap.add_argument("--calls", type=int, default=50, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.rss:
        return rss_child(a.rss, a.input, a.calls)
    rounds = a.rounds or (2 if a.quick else 8)
    seconds = a.seconds or (0.3 if a.quick else 1.5)
    data = open(a.input, "rb").read()

    # the two make the same thing
    for name, job in JOBS.items():
        im = Image.open(io.BytesIO(job(data)))
        if im.size != (512, 512) or im.format != "JPEG":
            sys.exit(f"python_vs_pillow: {name} made a {im.format} {im.size}, not a 512x512 JPEG")
    for name, job in JOBS.items():  # warm up: caches, the thread's libthumb context, page faults
        timed(job, data, min(seconds, 0.5))

    res = {name: [] for name in JOBS}
    order = list(JOBS)
    for r in range(rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            res[name].append(timed(JOBS[name], data, seconds))
    thr = {1: [], 2: []}
    for r in range(rounds):
        for n in ((1, 2) if r % 2 == 0 else (2, 1)):
            thr[n].append(timed_threads(libthumb_job, data, seconds, n))

    ops = {name: statistics.median(v[0] for v in res[name]) for name in JOBS}
    cpu = {name: statistics.median(v[1] for v in res[name]) for name in JOBS}
    # per-round ratios (same round, adjacent in time), then their median
    ratio = statistics.median(lt[0] / pl[0] for lt, pl in zip(res["libthumb"], res["Pillow"]))
    tops = {n: statistics.median(v) for n, v in thr.items()}
    tratio = statistics.median(b / a for a, b in zip(thr[1], thr[2]))
    calls = 20 if a.quick else 100
    base = peak_rss_kb("none", a.input, 0)
    rss = {name: peak_rss_kb(name, a.input, calls) for name in JOBS}

    w, h = Image.open(a.input).size
    met = lambda x, target: "met" if x >= target else "**not met**"  # noqa: E731
    print(f"## libthumb (Python) vs Pillow: {os.path.basename(a.input)} ({w}x{h}) -> 512x512 cover JPEG q80\n")
    print(f"Python {platform.python_version()}, libthumb {libthumb.__version__} (C {libthumb.libthumb_version}, "
          f"{libthumb.simd}), Pillow {PIL.__version__}; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; {rounds} alternating rounds of "
          f"{seconds:g} s{' (--quick: a sanity run, not a measurement)' if a.quick else ''}.\n")
    print("| contender | ops/s (median) | ms/op | CPU ms/op | peak RSS, own process |")
    print("|---|---:|---:|---:|---:|")
    for name in JOBS:
        print(f"| {name} | {ops[name]:.1f} | {1000 / ops[name]:.2f} | {cpu[name]:.2f} | "
              f"{rss[name] / 1024:.1f} MB (+{(rss[name] - base) / 1024:.1f} over import) |")
    print(f"| libthumb, 1 thread | {tops[1]:.1f} | {1000 / tops[1]:.2f} | | |")
    print(f"| libthumb, 2 threads | {tops[2]:.1f} | {1000 / tops[2]:.2f} | | |")
    print()
    print("| ratio | value | target | |")
    print("|---|---:|---:|---|")
    print(f"| libthumb / Pillow, ops/s | {ratio:.2f}x | >= {TARGET_PILLOW}x | {met(ratio, TARGET_PILLOW)} |")
    print(f"| libthumb / Pillow, CPU per op | {cpu['Pillow'] / cpu['libthumb']:.2f}x | | |")
    print(f"| libthumb 2 threads / 1 thread | {tratio:.2f}x | >= {TARGET_THREADS}x | {met(tratio, TARGET_THREADS)} |")
    print(f"\nPeak RSS of a process that imports both modules and does nothing: {base / 1024:.1f} MB; each "
          f"contender's figure is a fresh such process after {calls} jobs.")


if __name__ == "__main__":
    main()
