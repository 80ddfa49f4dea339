"""The GIL is released for the whole decode-resize-encode: threads run in C at the same time.

No timing targets here (bench/python_vs_pillow.py measures 2 threads against 1). The checks look at
when threads run, not how fast, so they hold on a loaded machine too. (Process CPU time over wall
time is not one of them: with the kernel's autogroup scheduling, a session's threads share one CPU
share, so under other sessions' load two threads get no more CPU than one, GIL or not.)
"""
import threading
import time

import pytest

import libthumb
from conftest import AVATAR, corpus

BIG_PNG = "photos/alpha-premultiply-2048x1536-paper.png"


def long_call():
    """A call of a few hundred ms: a 2048x1536 RGBA PNG re-encoded at full size."""
    return libthumb.thumbnail(corpus_cache["big"], None, format="png")


corpus_cache = {}


@pytest.fixture(autouse=True, scope="module")
def _load():
    corpus_cache["big"] = corpus(BIG_PNG)
    corpus_cache["avatar"] = corpus(AVATAR)


def test_main_thread_runs_python_while_a_call_is_in_c():
    """While a worker is inside one long C call, the main thread keeps running Python. If the call
    held the GIL, the main thread would stall for the whole call (one gap as long as the call)."""
    for attempt in range(3):
        span = {}

        def worker():
            span["t0"] = time.perf_counter()
            long_call()
            span["t1"] = time.perf_counter()

        t = threading.Thread(target=worker)
        stamps = []
        t.start()
        while t.is_alive():
            stamps.append(time.perf_counter())
            sum(range(200))  # a little Python work per step
        t.join()
        t0, t1 = span["t0"], span["t1"]
        duration = t1 - t0
        inside = [s for s in stamps if t0 <= s <= t1]
        gaps = [b - a for a, b in zip([t0] + inside, inside + [t1])]
        ok = duration > 0.05 and len(inside) > 100 and max(gaps) < 0.5 * duration
        if ok:
            return
    pytest.fail(f"the main thread stalled during the C call: call {duration * 1000:.0f} ms, "
                f"{len(inside)} main-thread steps during it, longest gap {max(gaps) * 1000:.0f} ms")


def test_another_thread_makes_calls_while_one_call_runs():
    """Thread B keeps completing small libthumb calls while thread A is inside one long one: both
    are in the C library at the same time. With the GIL held, B could not finish any call (nor run
    at all) until A's call returned."""
    small = libthumb.thumbnail(corpus_cache["avatar"], 128, 128)
    for attempt in range(3):
        span, done = {}, []
        stop = threading.Event()

        def long_worker():
            span["t0"] = time.perf_counter()
            long_call()
            span["t1"] = time.perf_counter()
            stop.set()

        def short_worker():
            while not stop.is_set():
                libthumb.thumbnail(small, 64, 64)
                done.append(time.perf_counter())

        a = threading.Thread(target=long_worker)
        b = threading.Thread(target=short_worker)
        b.start()
        a.start()
        a.join()
        b.join()
        t0, t1 = span["t0"], span["t1"]
        duration = t1 - t0
        inside = [s for s in done if t0 <= s <= t1]
        gaps = [y - x for x, y in zip([t0] + inside, inside + [t1])]
        if duration > 0.05 and len(inside) >= 5 and max(gaps) < 0.5 * duration:
            return
    pytest.fail(f"no calls completed in parallel: the long call took {duration * 1000:.0f} ms, the other "
                f"thread finished {len(inside)} calls during it, longest gap {max(gaps) * 1000:.0f} ms")


def test_threads_give_the_same_bytes():
    names = ["photos/flowers.jpeg", "photos/logo.png", "exif/Landscape_6.jpg", "pngsuite/basn3p04-31i.png",
             "jpeg-variants/video-001.progressive.jpeg", "photos/rocket.jpg", "edge/truncated.jpg"]
    inputs = [corpus(n) for n in names]

    def job(d):
        try:
            return libthumb.thumbnail(d, 96, 80, fit="contain", background=(9, 8, 7))
        except libthumb.ThumbError as e:
            return e.code

    want = [job(d) for d in inputs]
    got = [[] for _ in range(4)]

    def worker(k):
        for _ in range(5):
            got[k].append([job(d) for d in inputs])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for rounds in got:
        assert rounds == [want] * 5
    assert want[-1] == "ETRUNCATED"
