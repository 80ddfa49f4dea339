"""The benchmark driver behind bench/run: every contender as a long-lived worker process, interleaved
rounds, medians, ratios against the peers from the same run, peak RSS, 2 workers vs 1, quality.

Workers speak one line protocol on stdin/stdout (see bench/bench_worker.h):
  load PATH -> "ok INDEX ..."   run INDEX N -> "WALL_NS CPU_NS"   save INDEX PATH jpeg|png   rss   quit
Wall time is the figure; CPU time (the worker process, all its threads) is printed beside it, because
other work on the machine inflates wall time more than CPU time.
A worker that prints "unavailable REASON" instead of "ready ..." is skipped (the bindings, until they exist).
"""
import argparse
import datetime
import os
import platform
import resource
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import quality  # noqa: E402

JOBS = [
    ("avatar", "photos/2569067123_aca715a2ee_o.jpg"),
    ("small-photo", "photos/flowers.jpeg"),
    # Progressive JPEGs (issue 18), made at run time by bench/make_progressive from the avatar
    # (libjpeg, q90 4:2:0, jpeg_simple_progression): "made:" paths are in the --made directory.
    ("avatar-progressive", "made:avatar-progressive.jpg"),
    ("photo4000-progressive", "made:photo4000-progressive.jpg"),
]
# What bench/make_progressive makes for the "made:" jobs: name, width, height, quality, mode
MADE = [
    ("avatar-progressive.jpg", 2725, 2225, 90, "progressive"),
    ("photo4000-progressive.jpg", 4000, 3266, 90, "progressive"),
    ("photo12000-progressive.jpg", 12000, 9000, 90, "progressive"),  # memory only (see the memory section)
]

# Targets from issue 3: (label, job, numerator, denominator, kind, bound)
#   kind "ops": ops/s(num) / ops/s(den) >= bound;  kind "time": time(num) / time(den) <= bound
TARGETS = [
    ("libthumb / sharp, avatar", "avatar", "libthumb C API", "sharp", "ops", 2.2),
    ("libthumb / Pillow, avatar", "avatar", "libthumb C API", "Pillow", "ops", 2.5),
    ("libthumb / sharp, small-photo", "small-photo", "libthumb C API", "sharp", "ops", 3.5),
    ("libthumb time / floor, avatar", "avatar", "libthumb C API", "floor (libjpeg-turbo decode)", "time", 1.25),
    ("libthumb time / floor, small-photo", "small-photo", "libthumb C API", "floor (libjpeg-turbo decode)", "time", 1.25),
    ("libthumb / sharp, avatar-progressive", "avatar-progressive", "libthumb C API", "sharp", "ops", 4.0),
    ("libthumb / sharp, photo4000-progressive", "photo4000-progressive", "libthumb C API", "sharp", "ops", 4.0),
    # issue 18: at least 3x the path progressive files took before it (libjpeg's decode, same API)
    ("libthumb / its libjpeg path, avatar-progressive", "avatar-progressive", "libthumb C API",
     "libthumb C API, libjpeg's path", "ops", 3.0),
    ("libthumb / its libjpeg path, photo4000-progressive", "photo4000-progressive", "libthumb C API",
     "libthumb C API, libjpeg's path", "ops", 3.0),
]


class Unavailable(Exception):
    pass


class Worker:
    """A contender process speaking the line protocol."""

    def __init__(self, name, argv, env=None):
        self.name = name
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                  env=env, cwd=HERE)
        first = self.p.stdout.readline().strip()
        if first.startswith("unavailable") or not first.startswith("ready"):
            self.close()
            raise Unavailable(first[len("unavailable"):].strip() if first.startswith("unavailable")
                              else f"did not start ({' '.join(argv)}): {first!r}")
        self.version = first[len("ready "):]
        self.index = {}
        self.load_info = {}

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def recv(self):
        r = self.p.stdout.readline().strip()
        if not r or r.startswith("error"):
            raise RuntimeError(f"{self.name}: {r or 'worker died'}")
        return r

    def cmd(self, line):
        self.send(line)
        return self.recv()

    def load(self, job, path):
        r = self.cmd(f"load {path}").split()
        self.index[job] = int(r[1])
        self.load_info[job] = " ".join(r[2:])

    def run(self, job, n):
        """(wall seconds, CPU seconds) for n operations."""
        v = [int(x) / 1e9 for x in self.cmd(f"run {self.index[job]} {n}").split()]
        return v[0], v[1] if len(v) > 1 else float("nan")

    def save(self, job, path, fmt):
        self.cmd(f"save {self.index[job]} {path} {fmt}")

    def rss(self):
        hwm, cur = self.cmd("rss").split()
        return int(hwm), int(cur)

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()


class CliBatch:
    """`thumb -j J -s 512x512 -q 80 -o DIR` over N symlinks of the input: files/s from wall time."""

    def __init__(self, name, thumb, jobs=1):
        self.name, self.thumb, self.jobs = name, thumb, jobs
        self.version = subprocess.run([thumb, "--version"], capture_output=True, text=True).stdout.strip()
        self.tmp = tempfile.mkdtemp(prefix="thumb-bench-cli-")
        self.src = {}
        self.load_info = {}

    def load(self, job, path):
        self.src[job] = path

    def links(self, job, n):
        d = os.path.join(self.tmp, job)
        os.makedirs(d, exist_ok=True)
        ext = os.path.splitext(self.src[job])[1]
        names = [os.path.join(d, f"in{i:05d}{ext}") for i in range(n)]
        for p in names:
            if not os.path.lexists(p):
                os.symlink(self.src[job], p)
        return names

    def run(self, job, n):
        names = self.links(job, n)
        out = os.path.join(self.tmp, "out")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        argv = [self.thumb, *names, "-o", out, "-s", "512x512", "-q", "80", "-j", str(self.jobs)]
        u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        t = time.perf_counter() - t0
        u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
        return t, (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)

    def save(self, job, path, fmt):
        r = subprocess.run([self.thumb, self.src[job], "-o", path, "-s", "512x512", "-q", "80", "--format", fmt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: {r.stderr.strip()}")

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def time_v(argv, env=None):
    """Max RSS in kB of a one-shot command under /usr/bin/time -v."""
    r = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True, env=env)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[-400:]}")
    return int(m.group(1))


def calibrate(c, job, target):
    """Iterations per measurement so one measurement lasts about `target` seconds (after a warm-up)."""
    c.run(job, 1)
    n, t = 1, c.run(job, 1)[0]
    while t < target / 4 and n < 100000:
        n *= 4
        t = c.run(job, n)[0]
    return max(1, round(n * target / t))


def fmt_ops(x):
    return f"{x:.1f}" if x < 1000 else f"{x:.0f}"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.platform()}"


def make_made(bench_bin, source, d):
    """The made: inputs (MADE), from source, unless already there"""
    os.makedirs(d, exist_ok=True)
    for name, w, h, q, mode in MADE:
        p = os.path.join(d, name)
        if not os.path.exists(p):
            subprocess.run([os.path.join(bench_bin, "make_progressive"), source, p, str(w), str(h), str(q)] +
                           ([] if mode == "progressive" else [mode]), check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--build", required=True, help="libthumb build dir (thumb CLI, bench/ programs)")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("--results", default=os.path.join(HERE, "results.md"))
    ap.add_argument("--command", default="bench/run")
    ap.add_argument("--memory-md", default=None, help="markdown from bench/memory.py to append")
    ap.add_argument("--made", default=None, help="directory for the made: inputs (bench/make_progressive)")
    a = ap.parse_args()

    rounds = 2 if a.quick else 7
    target = 0.25 if a.quick else 1.0
    py = sys.executable
    thumb = os.path.join(a.build, "thumb")
    bench_bin = os.path.join(a.build, "bench")
    made_dir = a.made or tempfile.mkdtemp(prefix="thumb-bench-made.")
    make_made(bench_bin, os.path.join(a.corpus, JOBS[0][1]), made_dir)
    paths = {job: os.path.join(made_dir, rel[5:]) if rel.startswith("made:") else os.path.join(a.corpus, rel)
             for job, rel in JOBS}
    lines = []

    def out(s=""):
        print(s, flush=True)
        lines.append(s)

    specs = [
        ("libthumb C API", lambda: Worker("libthumb C API", [os.path.join(bench_bin, "bench_thumb")])),
        # the same API with libjpeg decoding every JPEG: progressive files' path before issue 18
        ("libthumb C API, libjpeg's path", lambda: Worker("libthumb C API, libjpeg's path",
                                                          [os.path.join(bench_bin, "bench_thumb"), "--libjpeg-path"])),
        ("libthumb CLI -j 1", lambda: CliBatch("libthumb CLI -j 1", thumb, 1)),
        # The bindings: each worker prints "unavailable ..." until its binding can be imported.
        ("libthumb Python", lambda: Worker("libthumb Python", [py, os.path.join(HERE, "peers", "thumb_python_bench.py")])),
        ("libthumb Node", lambda: Worker("libthumb Node", [a.node, os.path.join(HERE, "peers", "thumb_node_bench.js")])),
        ("sharp", lambda: Worker("sharp", [a.node, os.path.join(HERE, "peers", "sharp_bench.js")])),
        ("Pillow", lambda: Worker("Pillow", [py, os.path.join(HERE, "peers", "pillow_bench.py")])),
        ("floor (libjpeg-turbo decode)", lambda: Worker("floor", [os.path.join(bench_bin, "bench_floor")])),
    ]
    contenders, skipped = [], []
    for name, make in specs:
        try:
            c = make()
            c.name = name
            for job, _ in JOBS:
                c.load(job, paths[job])
            contenders.append(c)
        except (Unavailable, RuntimeError, OSError) as e:
            skipped.append((name, str(e)))
    names = [c.name for c in contenders]

    out(f"## libthumb benchmark ({'quick' if a.quick else 'full'})")
    out()
    out(f"Command: `{a.command}`  ")
    out(f"Date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, commit "
        f"{subprocess.run(['git', '-C', HERE, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}  ")
    out(f"Machine: {machine()}, load average before the run {os.getloadavg()[0]:.2f}  ")
    out(f"Jobs: 512x512 cover JPEG q80, single-threaded, input in memory, output to memory (the CLI: files). "
        f"{rounds} interleaved rounds of ~{target:g} s per contender per job; median per-op time of the rounds.  ")
    for c in contenders:
        extra = "; ".join(f"{j}: {c.load_info[j]}" for j in c.load_info if c.load_info[j])
        out(f"- {c.name}: {c.version}{f' ({extra})' if extra else ''}")
    for name, why in skipped:
        out(f"- {name}: not measured - {why}")
    out()

    # ---- calibration, then interleaved rounds: for each round, each job, each contender.
    # A contender that fails here is reported and left out, so one broken build does not hide the rest.
    counts = {}
    for c in list(contenders):
        try:
            for job, _ in JOBS:
                counts[(c.name, job)] = calibrate(c, job, target)
        except RuntimeError as e:
            out(f"- {c.name}: FAILED, left out - {e}")
            contenders.remove(c)
            c.close()
    names = [c.name for c in contenders]
    per_op = {(c.name, job): [] for c in contenders for job, _ in JOBS}
    cpu_op = {(c.name, job): [] for c in contenders for job, _ in JOBS}
    load_before = os.getloadavg()[0]
    for r in range(rounds):
        for job, _ in JOBS:
            for c in contenders:
                n = counts[(c.name, job)]
                wall, cpu = c.run(job, n)
                per_op[(c.name, job)].append(wall / n)
                cpu_op[(c.name, job)].append(cpu / n)
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    med = {k: statistics.median(v) for k, v in per_op.items()}
    cmed = {k: statistics.median(v) for k, v in cpu_op.items()}

    def spread(k):
        v = per_op[k]
        return (max(v) - min(v)) / statistics.median(v) * 100

    out("### Throughput (ops/s = 1 / median time per op; spread = (max - min) / median over the rounds)")
    out()
    out("| contender | " + " | ".join(f"{job} ops/s | ms/op | spread | CPU ms/op" for job, _ in JOBS) + " |")
    out("|---|" + "---:|---:|---:|---:|" * len(JOBS))
    for n in names:
        out(f"| {n} | " + " | ".join(
            f"{fmt_ops(1 / med[(n, job)])} | {med[(n, job)] * 1e3:.2f} | {spread((n, job)):.0f}% | "
            f"{cmed[(n, job)] * 1e3:.2f}" for job, _ in JOBS) + " |")
    out()
    out(f"Load average (1 min): {load_before:.2f} when the rounds started, {os.getloadavg()[0]:.2f} when they ended.")
    out()

    out("### Ratios against the peers measured in the same run (targets: issue 3)")
    out()
    out("| ratio | measured (wall) | target | | by CPU time (context) |")
    out("|---|---:|---:|---|---:|")
    verdicts = []
    for label, job, num, den, kind, bound in TARGETS:
        if (num, job) not in med or (den, job) not in med:
            out(f"| {label} | n/a | {'>=' if kind == 'ops' else '<='} {bound}x | not measured |")
            continue
        ratio = med[(den, job)] / med[(num, job)] if kind == "ops" else med[(num, job)] / med[(den, job)]
        cratio = cmed[(den, job)] / cmed[(num, job)] if kind == "ops" else cmed[(num, job)] / cmed[(den, job)]
        ok = ratio >= bound if kind == "ops" else ratio <= bound
        verdicts.append(ok)
        out(f"| {label} | {ratio:.2f}x | {'>=' if kind == 'ops' else '<='} {bound}x | {'met' if ok else '**not met**'} | {cratio:.2f}x |")
    for job, _ in JOBS:  # context, no target
        for num in names:
            if num.startswith("libthumb") and num != "libthumb C API" and "libjpeg" not in num:
                for den in ("sharp", "Pillow"):
                    if den in names:
                        out(f"| {num} / {den}, {job} | {med[(den, job)] / med[(num, job)]:.2f}x | - | context | "
                            f"{cmed[(den, job)] / cmed[(num, job)]:.2f}x |")
        if "Pillow" in names and "libthumb C API" in names and job != "avatar":
            out(f"| libthumb / Pillow, {job} | {med[('Pillow', job)] / med[('libthumb C API', job)]:.2f}x | - | context | "
                f"{cmed[('Pillow', job)] / cmed[('libthumb C API', job)]:.2f}x |")
    out()

    # ---- 2 workers vs 1: two bench_thumb processes at once vs one; and thumb -j 2 vs -j 1
    tw = [c for c in contenders if c.name == "libthumb C API"]
    if tw:
        A = tw[0]
        B = Worker("libthumb C API #2", [os.path.join(bench_bin, "bench_thumb")])
        B.load("avatar", paths["avatar"])
        n = counts[("libthumb C API", "avatar")]
        B.run("avatar", 1)
        ratios, cpu_ratios = [], []
        load2 = os.getloadavg()[0]
        for _ in range(max(3, rounds)):
            t0 = time.perf_counter()
            c1 = A.run("avatar", n)[1]
            t1 = time.perf_counter() - t0
            t0 = time.perf_counter()
            A.send(f"run {A.index['avatar']} {n}")
            B.send(f"run {B.index['avatar']} {n}")
            ca = int(A.recv().split()[1]) / 1e9
            cb = int(B.recv().split()[1]) / 1e9
            t2 = time.perf_counter() - t0
            ratios.append((2 * n / t2) / (n / t1))
            cpu_ratios.append(c1 / ((ca + cb) / 2))
        B.close()
        cli_ratios = []
        cli1, cli2 = CliBatch("cli1", thumb, 1), CliBatch("cli2", thumb, 2)
        cn = 2 * counts.get(("libthumb CLI -j 1", "avatar"), n)
        for c in (cli1, cli2):
            c.load("avatar", paths["avatar"])
        for _ in range(max(3, rounds // 2)):
            t1 = cli1.run("avatar", cn)[0]
            t2 = cli2.run("avatar", cn)[0]
            cli_ratios.append(t1 / t2)
        cli1.close()
        cli2.close()
        out("### 2 workers vs 1 (avatar; throughput ratio, median of the rounds; target >= 1.8x)")
        out()
        out(f"Wall-clock scaling needs a second idle core: load average {load2:.2f} at the start of this part, "
            f"{os.getloadavg()[0]:.2f} at its end, on {os.cpu_count()} CPUs.")
        out()
        out("| how | ratio | target | |")
        out("|---|---:|---:|---|")
        for label, v in (("two bench_thumb processes vs one", ratios), (f"`thumb -j 2` vs `-j 1` over {cn} files", cli_ratios)):
            m = statistics.median(v)
            out(f"| {label} | {m:.2f}x | >= 1.8x | {'met' if m >= 1.8 else '**not met**'} |")
        out(f"| context: CPU time per op, one worker alone / each of two at once (1.00 = no slowdown from sharing) "
            f"| {statistics.median(cpu_ratios):.2f} | - | context |")
        out()

    # ---- peak RSS on the avatar job: fresh worker, bare RSS, then a few runs
    out("### Peak RSS, avatar job")
    out()
    out("| contender | peak RSS (VmHWM) | bare process (runtime + module loaded) | peak - bare |")
    out("|---|---:|---:|---:|")
    for name, make in specs:
        if name not in names or name.startswith("libthumb CLI"):
            continue
        w = make()
        bare = w.rss()[0]
        w.load("avatar", paths["avatar"])
        w.run("avatar", 5)
        peak = w.rss()[0]
        w.close()
        out(f"| {name} | {peak / 1024:.1f} MB | {bare / 1024:.1f} MB | {(peak - bare) / 1024:.1f} MB |")
    if "libthumb CLI -j 1" in names:
        with tempfile.TemporaryDirectory() as d:
            kb = time_v([thumb, paths["avatar"], "-o", os.path.join(d, "a.jpg"), "-s", "512x512", "-q", "80"])
        out(f"| `thumb` one file (/usr/bin/time -v) | {kb / 1024:.1f} MB | | |")
        with tempfile.TemporaryDirectory() as d:
            for job in ("photo4000-progressive", "photo12000-progressive"):
                src = paths.get(job) or os.path.join(made_dir, job + ".jpg")
                kb = time_v([thumb, src, "-o", os.path.join(d, "a.jpg"), "-s", "512x512", "-q", "80"])
                bar = " (bar: 16 MB, issue 18)" if job == "photo12000-progressive" else ""
                out(f"| `thumb` {job} -> 512x512 (/usr/bin/time -v){bar} | {kb / 1024:.1f} MB | | |")
    out()

    # ---- quality of the avatar against the float reference
    out("### Quality: PSNR of the avatar against the float Lanczos3 reference (bench/quality.py)")
    out()
    out("| contender | PNG | JPEG q80 |")
    out("|---|---:|---:|")
    ref = quality.reference(paths["avatar"])
    qual = {}
    with tempfile.TemporaryDirectory() as d:
        for c in contenders:
            if c.name.startswith("floor"):
                continue
            row = []
            for fmt in ("png", "jpeg"):
                p = os.path.join(d, f"q.{fmt}")
                try:
                    c.save("avatar", p, fmt)
                    v = quality.psnr(ref, p)
                    qual[(c.name, fmt)] = v
                    row.append(f"{v:.2f} dB")
                except RuntimeError as e:
                    row.append(f"n/a ({e})")
            out(f"| {c.name} | {row[0]} | {row[1]} |")
    out()
    out("| quality bar (issue 2) | measured | bar | |")
    out("|---|---:|---:|---|")
    for fmt, bar in (("png", 41.0), ("jpeg", 35.0)):
        v = qual.get(("libthumb C API", fmt))
        if v is None:
            out(f"| libthumb avatar as {fmt.upper()} | n/a | >= {bar} dB | not measured |")
        else:
            out(f"| libthumb avatar as {fmt.upper()} | {v:.2f} dB | >= {bar} dB | {'met' if v >= bar else '**not met**'} |")
    out()

    for c in contenders:
        c.close()

    if a.memory_md and os.path.exists(a.memory_md):
        with open(a.memory_md) as f:
            for line in f.read().rstrip("\n").split("\n"):
                out(line)
        out()

    with open(a.results, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"(written to {os.path.relpath(a.results)})", file=sys.stderr)


if __name__ == "__main__":
    main()
