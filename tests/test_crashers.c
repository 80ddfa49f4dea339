/* Replays every file in tests/crashers/ (fuzzer findings and hand-made hostile inputs) through
 * thumb_info_mem and thumbnails in both output formats. Each must end in THUMB_OK with a readable
 * image or a typed THUMB_E* code (files named ok-* must succeed); memory errors and leaks are the ASan/LSan build's to catch. */
#define _GNU_SOURCE
#include "thumb.h"
#include "tt.h"
#include "../fuzz/fuzz_options.h"

#include <dirent.h>
#include <libgen.h>

static int known_code(int rc) { return rc >= THUMB_OK && rc < THUMB_ERROR_COUNT_; }

static void replay(const char *name, const unsigned char *d, size_t n) {
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o;
    thumb_options_init(&o);
    /* The fuzzers' limits, so a finding made under them replays the same way. */
    o.max_input_pixels = 4u << 20;
    o.max_frame_bytes = 64u << 20;
    thumb_info info;
    thumb_info_init(&info);
    int rc = thumb_info_mem(ctx, d, n, &o, &info);
    TT_CHECK(known_code(rc), "%s: thumb_info_mem returned %d", name, rc);
    static const int fits[] = {THUMB_FIT_COVER, THUMB_FIT_CONTAIN, THUMB_FIT_INSIDE};
    for (int f = 0; f < 3; f++) {
        o.width = 32;
        o.height = 24;
        o.fit = fits[f];
        o.format = f == 1 ? THUMB_FORMAT_PNG : THUMB_FORMAT_JPEG;
        void *out = NULL;
        size_t ol = 0;
        int rc2 = thumb_thumbnail_mem(ctx, d, n, &o, &out, &ol);
        TT_CHECK(known_code(rc2), "%s: thumbnail returned %d", name, rc2);
        /* "ok-*" files are valid images that once failed: they must keep working. */
        if (strncmp(name, "ok-", 3) == 0)
            TT_CHECK(rc2 == THUMB_OK, "%s: %s (%s)", name, thumb_error_name(rc2), thumb_ctx_detail(ctx));
        if (rc2 == THUMB_OK) {
            thumb_info oi;
            thumb_info_init(&oi);
            int rc3 = thumb_info_mem(ctx, out, ol, NULL, &oi);
            TT_CHECK(rc3 == THUMB_OK && oi.format == o.format && oi.width >= 1 && oi.width <= 32 && oi.height >= 1 &&
                         oi.height <= 24,
                     "%s: output does not parse (%s) or is %ux%u", name, thumb_error_name(rc3), oi.width, oi.height);
            thumb_free(out);
        }
        fprintf(stderr, "%-48s info %-22s fit %d -> %s\n", name, thumb_error_name(rc), fits[f], thumb_error_name(rc2));
    }
    thumb_ctx_free(ctx);
}

/* "thumbnail-*" files are fuzz_thumbnail inputs: option bytes, then the image, replayed with the
 * options that harness draws from them (fuzz/fuzz_options.h), as the finding was found. */
static void replay_thumbnail(const char *name, const unsigned char *b, size_t n) {
    if (n < FUZZ_PARAM_BYTES) return;
    thumb_options o;
    thumb_options_init(&o);
    o.max_input_pixels = 4u << 20;
    o.max_frame_bytes = 64u << 20;
    fuzz_thumbnail_options(b, &o);
    thumb_ctx *ctx = thumb_ctx_new();
    void *out = NULL;
    size_t ol = 0;
    int rc = thumb_thumbnail_mem(ctx, b + FUZZ_PARAM_BYTES, n - FUZZ_PARAM_BYTES, &o, &out, &ol);
    TT_CHECK(known_code(rc), "%s: thumbnail returned %d", name, rc);
    fprintf(stderr, "%-48s as fuzz_thumbnail input -> %s\n", name, thumb_error_name(rc));
    thumb_free(out);
    thumb_ctx_free(ctx);
}

int main(void) {
    char dir[4096];
    const char *env = getenv("THUMB_CRASHERS");
    if (env) {
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        char here[4096];
        snprintf(here, sizeof here, "%s", __FILE__); /* CMake compiles tests by absolute path */
        snprintf(dir, sizeof dir, "%s/crashers", dirname(here));
    }
    DIR *dp = opendir(dir);
    TT_REQUIRE(dp != NULL, "cannot open %s (set THUMB_CRASHERS)", dir);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.') continue; /* ., .., .gitkeep */
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n = 0;
        unsigned char *d = tt_read_file(path, &n);
        TT_CHECK(d != NULL, "cannot read %s", path);
        if (!d) continue;
        /* An exact-size copy, so ASan sees a read one byte past the end. */
        unsigned char *exact = malloc(n ? n : 1);
        memcpy(exact, d, n);
        free(d);
        replay(e->d_name, exact, n);
        if (strncmp(e->d_name, "thumbnail-", 10) == 0) replay_thumbnail(e->d_name, exact, n);
        free(exact);
        files++;
    }
    closedir(dp);
    fprintf(stderr, "%d files replayed from %s\n", files, dir);
    return tt_report(__FILE__);
}
