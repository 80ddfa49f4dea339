"""libthumb's Python module as a benchmark worker (same line protocol as bench/bench_thumb.c).

Prints "unavailable REASON" and exits while the module cannot be imported; the harness then lists it
as not measured. bench/run pip-installs bindings/python into the bench venv.
The job: libthumb.thumbnail(data, 512, 512) - cover, centre, Lanczos3, JPEG q80 are its defaults.
"""
import sys
import time

try:
    import libthumb as thumbmod
    if not hasattr(thumbmod, "thumbnail"):
        raise ImportError(f"{thumbmod.__name__} has no thumbnail()")
except Exception as e:  # noqa: BLE001 - any failure means "not there yet"
    print(f"unavailable python module: {type(e).__name__}: {e}".replace("\n", " "), flush=True)
    sys.exit(0)


def job(buf, fmt="jpeg"):
    return thumbmod.thumbnail(buf, 512, 512, fit="cover", format=fmt, quality=80)


def rss():
    vals = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "VmRSS:")):
                vals[line[:5]] = int(line.split()[1])
    return f"{vals.get('VmHWM', -1)} {vals.get('VmRSS', -1)}"


def main():
    files = []

    def out(s):
        sys.stdout.write(s + "\n")
        sys.stdout.flush()

    out(f"ready libthumb-python {thumbmod.__version__} (C {thumbmod.libthumb_version}, {thumbmod.simd})")
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
                    job(buf)
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
        except Exception as e:  # noqa: BLE001
            out(f"error {type(e).__name__}: {e}".replace("\n", " "))


if __name__ == "__main__":
    main()
