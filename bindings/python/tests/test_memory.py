"""No leak: resident memory stays flat over 10,000 calls (successes, failures, bad arguments)."""
import threading

import libthumb
from conftest import corpus


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_rss_stays_flat_over_10k_calls():
    small = libthumb.thumbnail(corpus("photos/coffee.png"), 64, 64)  # a 64x64 JPEG: quick calls
    cut = small[: len(small) // 2]
    png = libthumb.thumbnail(small, 48, format="png")

    def one():
        assert len(libthumb.thumbnail(small, 32, 32)) > 100
        libthumb.thumbnail(png, 24, fit="contain", background="#ff000080", format="png")
        libthumb.info(small)
        libthumb.sniff(small)
        try:
            libthumb.thumbnail(cut, 32)
        except libthumb.ThumbError as e:
            assert e.code == "ETRUNCATED"
        try:
            libthumb.thumbnail(small, 32, fit="bogus")
        except ValueError:
            pass

    for _ in range(1000):  # warm up: pymalloc arenas, the thread's context and its caches
        one()
    before = rss_bytes()
    for _ in range(10_000):
        one()
    growth = rss_bytes() - before
    # a leaked output (>= 300 bytes) or exception per call would be >= 3 MB
    assert growth < 1_000_000, f"RSS grew by {growth} bytes over 10,000 calls"


def test_thread_contexts_are_freed_when_threads_exit():
    data = libthumb.thumbnail(corpus("photos/flowers.jpeg"), 512, 512)

    def burst():
        ts = [threading.Thread(target=libthumb.thumbnail, args=(data, 256, 256)) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    for _ in range(5):
        burst()
    before = rss_bytes()
    for _ in range(40):  # 320 threads, each with its own context (about 0.3 MB of caches each)
        burst()
    growth = rss_bytes() - before
    assert growth < 8_000_000, f"RSS grew by {growth} bytes over 320 short-lived threads"
