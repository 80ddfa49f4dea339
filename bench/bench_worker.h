/* bench_worker.h: the line protocol every benchmark worker speaks on stdin/stdout.
 *
 * The harness (bench/harness.py) drives every contender with it, so process start-up and library
 * loading never count and the rounds can interleave:
 *   load PATH          -> "ok INDEX ..."      read the file into memory once (a worker may add fields)
 *   run INDEX N        -> "WALL_NS CPU_NS"    N jobs on that file; CPU = this process, all threads
 *   save INDEX PATH F  -> "ok BYTES"          one output written to PATH, F = jpeg | png (workers that save)
 *   rss                -> "HWM_KB RSS_KB"     VmHWM and VmRSS of this process
 *   quit
 * A failure, or any other line, answers "error ...". A worker prints its "ready ..." line, fills a
 * bench_worker and calls bench_serve. Header-only: every function is static.
 */
#ifndef BENCH_WORKER_H
#define BENCH_WORKER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_FILES 8

typedef struct bench_worker {
    const int *n_files;                                 /* files loaded so far: the valid INDEX values */
    void (*load)(const char *path);                     /* prints "ok INDEX ..." or "error ..." */
    int (*run_one)(int idx, char *msg, size_t msg_len); /* one job: 0, or non-zero with msg set */
    void (*save)(int idx, const char *path, const char *line); /* NULL: no save; prints its answer */
} bench_worker;

static unsigned long long bench_clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* The whole file into a fresh buffer; 0 or -1. */
static int bench_read_file(const char *path, unsigned char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) { fclose(f); return -1; }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        cap *= 2;
        unsigned char *nb = realloc(buf, cap);
        if (!nb) free(buf);
        buf = nb;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); return -1; }
    *data = buf;
    *len = n;
    return 0;
}

static void bench_print_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long hwm = -1, rss = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) hwm = strtol(line + 6, NULL, 10);
        if (strncmp(line, "VmRSS:", 6) == 0) rss = strtol(line + 6, NULL, 10);
    }
    if (f) fclose(f);
    printf("%ld %ld\n", hwm, rss);
}

/* Answer the protocol's lines until quit or the end of stdin. */
static void bench_serve(const bench_worker *w) {
    char line[4096], arg[4096];
    while (fgets(line, sizeof line, stdin)) {
        int idx;
        unsigned long n;
        if (sscanf(line, "load %4095[^\n]", arg) == 1) {
            w->load(arg);
        } else if (sscanf(line, "run %d %lu", &idx, &n) == 2 && idx >= 0 && idx < *w->n_files) {
            char msg[1024] = "";
            int rc = 0;
            unsigned long long t0 = bench_clock_ns(CLOCK_MONOTONIC), c0 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
            for (unsigned long i = 0; i < n && rc == 0; i++) rc = w->run_one(idx, msg, sizeof msg);
            unsigned long long t1 = bench_clock_ns(CLOCK_MONOTONIC), c1 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
            if (rc) printf("error %s\n", msg);
            else printf("%llu %llu\n", t1 - t0, c1 - c0);
        } else if (w->save && sscanf(line, "save %d %4095s", &idx, arg) == 2 && idx >= 0 && idx < *w->n_files) {
            w->save(idx, arg, line);
        } else if (strncmp(line, "rss", 3) == 0) {
            bench_print_rss();
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            printf("error bad command\n");
        }
        fflush(stdout);
    }
}

#endif
