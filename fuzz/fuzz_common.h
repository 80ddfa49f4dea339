/* Shared checks for the fuzz harnesses. A failed check calls abort(), which libFuzzer
 * (and the replay driver, through the sanitizers or the exit status) reports as a crash. */
#ifndef THUMB_FUZZ_COMMON_H
#define THUMB_FUZZ_COMMON_H

#include "thumb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: fuzz check failed: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); \
        fputc('\n', stderr); \
        abort(); \
    } \
} while (0)

/* Every return value must be one of the documented codes. */
static inline int fuzz_known_code(int rc) { return rc >= THUMB_OK && rc < THUMB_ERROR_COUNT_; }

/* Limits small enough that a legitimate-but-huge header is rejected instead of exhausting
 * the fuzzer's memory (libFuzzer's default -rss_limit_mb is 2048). */
static inline void fuzz_tight_limits(thumb_options *o) {
    o->max_input_pixels = 4u << 20;
    o->max_frame_bytes = 64u << 20;
    o->max_output_pixels = 1u << 20;
    o->max_icc_bytes = 1u << 20;
    o->max_png_chunk_size = 4u << 20;
    o->max_png_chunk_cache = 8u << 20;
}

/* A successful thumbnail must itself be a readable image of the requested format. */
static inline void fuzz_check_output(const void *out, size_t len, int format, thumb_info *info) {
    thumb_ctx *c = thumb_ctx_new();
    FUZZ_CHECK(c != NULL, "thumb_ctx_new");
    thumb_info_init(info);
    int rc = thumb_info_mem(c, out, len, NULL, info);
    FUZZ_CHECK(rc == THUMB_OK, "output (%zu bytes) does not parse: %s (%s)", len, thumb_error_name(rc),
               thumb_ctx_detail(c));
    FUZZ_CHECK(info->format == format, "output format %d, wanted %d", info->format, format);
    FUZZ_CHECK(info->width >= 1 && info->height >= 1, "output %ux%u", info->width, info->height);
    thumb_ctx_free(c);
}

#endif
