/* A tiny test harness: TT_CHECK records a failure and goes on; main returns non-zero if any failed. */
#ifndef TT_H
#define TT_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tt_failures = 0;
static int tt_checks = 0;

#define TT_CHECK(cond, ...) do { \
    tt_checks++; \
    if (!(cond)) { \
        tt_failures++; \
        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); \
        fputc('\n', stderr); \
    } \
} while (0)

/* Evaluates cond once; on failure ends main() with the report (use it in main or int-returning helpers). */
#define TT_REQUIRE(cond, ...) do { \
    int tt_ok_ = !!(cond); \
    TT_CHECK(tt_ok_ && #cond, __VA_ARGS__); \
    if (!tt_ok_) { fprintf(stderr, "aborting this test\n"); return tt_report(__FILE__); } \
} while (0)

static inline int tt_report(const char *name) {
    fprintf(stderr, "%s: %d checks, %d failed\n", name, tt_checks, tt_failures);
    return tt_failures ? 1 : 0;
}

/* Path of a corpus file: THUMB_CORPUS is set by CMake (../shared/corpus beside the checkout). */
static inline const char *tt_corpus(const char *rel) {
    static char buf[4][4096];
    static int i = 0;
    i = (i + 1) & 3;
    const char *root = getenv("THUMB_CORPUS");
#ifdef THUMB_CORPUS_DIR
    if (!root) root = THUMB_CORPUS_DIR;
#endif
    if (!root) root = "../shared/corpus";
    snprintf(buf[i], sizeof buf[i], "%s/%s", root, rel);
    return buf[i];
}

/* Read a whole file; NULL on failure. */
static inline unsigned char *tt_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0) { fclose(f); return NULL; }
    rewind(f);
    unsigned char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p) *len = (size_t)n;
    return p;
}

/* xorshift64 for deterministic test data; each test file has its own state (set it for a seed). */
static uint64_t tt_rng = 0x9E3779B97F4A7C15ull;
static inline uint32_t tt_rnd(void) {
    tt_rng ^= tt_rng << 13;
    tt_rng ^= tt_rng >> 7;
    tt_rng ^= tt_rng << 17;
    return (uint32_t)(tt_rng >> 11);
}

/* EXIF orientation, written apart from libthumb/orient.c so the tests have their own oracle:
 * where stored pixel (x, y) of a sw x sh image is displayed. */
static inline void tt_displayed_of(int o, uint64_t x, uint64_t y, uint64_t sw, uint64_t sh, uint64_t *X, uint64_t *Y) {
    switch (o) {
    case 1: *X = x; *Y = y; break;                     /* row 0 top, column 0 left */
    case 2: *X = sw - 1 - x; *Y = y; break;            /* row 0 top, column 0 right */
    case 3: *X = sw - 1 - x; *Y = sh - 1 - y; break;   /* row 0 bottom, column 0 right */
    case 4: *X = x; *Y = sh - 1 - y; break;            /* row 0 bottom, column 0 left */
    case 5: *X = y; *Y = x; break;                     /* row 0 left, column 0 top */
    case 6: *X = sh - 1 - y; *Y = x; break;            /* row 0 right, column 0 top */
    case 7: *X = sh - 1 - y; *Y = sw - 1 - x; break;   /* row 0 right, column 0 bottom */
    default: *X = y; *Y = sw - 1 - x; break;           /* 8: row 0 left, column 0 bottom */
    }
}
#endif
