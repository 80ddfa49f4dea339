/* bench_thumb: libthumb's C API as a long-lived benchmark worker.
 *
 * The harness (bench/harness.py) drives every contender with the same line protocol on stdin/stdout,
 * so process start-up and library loading never count and the rounds can interleave:
 *   load PATH          -> "ok INDEX"          read the file into memory once
 *   run INDEX N        -> "WALL_NS CPU_NS"    N thumbnails of that buffer, output to memory;
 *                                            CPU = this process, all threads
 *   save INDEX PATH F  -> "ok BYTES"          one thumbnail written to PATH, F = jpeg | png
 *   rss                -> "HWM_KB RSS_KB"     VmHWM and VmRSS of this process
 *   quit
 * Job: 512x512 cover, JPEG q80, every other option at its default. One context, reused.
 */
#define _POSIX_C_SOURCE 200809L
#include "thumb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FILES 8

static struct { unsigned char *data; size_t len; } files[MAX_FILES];
static int n_files;

static unsigned long long clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static int read_file(const char *path, unsigned char **data, size_t *len) {
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

static void print_rss(void) {
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

int main(void) {
    thumb_ctx *ctx = thumb_ctx_new();
    if (!ctx) { fprintf(stderr, "bench_thumb: out of memory\n"); return 1; }
    thumb_options opt;
    thumb_options_init(&opt);
    opt.width = 512;
    opt.height = 512;
    opt.fit = THUMB_FIT_COVER;
    opt.quality = 80;

    printf("ready libthumb %s %s\n", thumb_version_string(), thumb_simd_name());
    fflush(stdout);

    char line[4096], arg[4096];
    while (fgets(line, sizeof line, stdin)) {
        int idx;
        unsigned long n;
        if (sscanf(line, "load %4095[^\n]", arg) == 1) {
            if (n_files == MAX_FILES || read_file(arg, &files[n_files].data, &files[n_files].len)) {
                printf("error cannot read %s\n", arg);
            } else {
                printf("ok %d\n", n_files++);
            }
        } else if (sscanf(line, "run %d %lu", &idx, &n) == 2 && idx >= 0 && idx < n_files) {
            unsigned long long t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
            int rc = THUMB_OK;
            for (unsigned long i = 0; i < n && rc == THUMB_OK; i++) {
                void *out = NULL;
                size_t out_len = 0;
                rc = thumb_thumbnail_mem(ctx, files[idx].data, files[idx].len, &opt, &out, &out_len);
                if (rc == THUMB_OK && out_len == 0) rc = THUMB_EIO;
                thumb_free(out);
            }
            unsigned long long t1 = clock_ns(CLOCK_MONOTONIC), c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
            if (rc) printf("error %s %s\n", thumb_error_name(rc), thumb_ctx_detail(ctx));
            else printf("%llu %llu\n", t1 - t0, c1 - c0);
        } else if (sscanf(line, "save %d %4095s", &idx, arg) == 2 && idx >= 0 && idx < n_files) {
            thumb_options o = opt;
            if (strstr(line, " png")) o.format = THUMB_FORMAT_PNG;
            void *out = NULL;
            size_t out_len = 0;
            int rc = thumb_thumbnail_mem(ctx, files[idx].data, files[idx].len, &o, &out, &out_len);
            FILE *f = rc == THUMB_OK ? fopen(arg, "wb") : NULL;
            if (rc) printf("error %s %s\n", thumb_error_name(rc), thumb_ctx_detail(ctx));
            else if (!f || fwrite(out, 1, out_len, f) != out_len) printf("error cannot write %s\n", arg);
            else printf("ok %zu\n", out_len);
            if (f) fclose(f);
            thumb_free(out);
        } else if (strncmp(line, "rss", 3) == 0) {
            print_rss();
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            printf("error bad command\n");
        }
        fflush(stdout);
    }
    for (int i = 0; i < n_files; i++) free(files[i].data);
    thumb_ctx_free(ctx);
    return 0;
}
