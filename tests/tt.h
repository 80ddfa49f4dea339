/* A tiny test harness: TT_CHECK records a failure and goes on; main returns non-zero if any failed. */
#ifndef TT_H
#define TT_H
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
#endif
