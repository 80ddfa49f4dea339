/* One test per bug found outside the focused suites, each named after what broke. */
#include "internal.h"
#include "tt.h"
#include "ref.h"

#include <pthread.h>
#include <spng.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Encode a grey gradient PNG of w x h with libspng. */
static unsigned char *make_png(uint32_t w, uint32_t h, size_t *len) {
    spng_ctx *e = spng_ctx_new(SPNG_CTX_ENCODER);
    struct spng_ihdr ihdr = {.width = w, .height = h, .bit_depth = 8, .color_type = SPNG_COLOR_TYPE_GRAYSCALE};
    spng_set_ihdr(e, &ihdr);
    spng_set_option(e, SPNG_ENCODE_TO_BUFFER, 1);
    unsigned char *px = malloc((size_t)w * h);
    for (size_t i = 0; i < (size_t)w * h; i++) px[i] = (unsigned char)(i * 7);
    int rc = spng_encode_image(e, px, (size_t)w * h, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    free(px);
    unsigned char *out = rc ? NULL : spng_get_png_buffer(e, len, &rc);
    spng_ctx_free(e);
    return out;
}

/* A 6000x6000 image to 8x8 wants a 375x375 box: the resampler takes at most 65536 pixels
 * per box, and the plan used to ask for more, failing with THUMB_EINVAL. */
static void box_factor_capped(void) {
    thumb_options opt;
    thumb_options_init(&opt);
    opt.width = 8;
    opt.height = 8;
    tdec_header hdr = {.format = THUMB_FORMAT_PNG, .width = 6000, .height = 6000, .orientation = 1, .channels = 1};
    tplan p;
    TT_CHECK(thumb__plan(NULL, &opt, &hdr, &p) == THUMB_OK, "plan");
    TT_CHECK(p.x.box <= 256 && p.y.box <= 256, "box %u x %u", p.x.box, p.y.box);

    size_t len = 0;
    unsigned char *png = make_png(6000, 6000, &len);
    if (!png) { TT_CHECK(0, "encode the input"); return; }
    thumb_ctx *ctx = thumb_ctx_new();
    void *out = NULL;
    size_t out_len = 0;
    int rc = thumb_thumbnail_mem(ctx, png, len, &opt, &out, &out_len);
    TT_CHECK(rc == THUMB_OK, "6000x6000 -> 8x8: %s (%s)", thumb_error_name(rc), thumb_ctx_detail(ctx));
    thumb_info info;
    thumb_info_init(&info);
    if (rc == THUMB_OK) {
        TT_CHECK(thumb_info_mem(ctx, out, out_len, NULL, &info) == THUMB_OK && info.width == 8 && info.height == 8,
                 "output is %ux%u", info.width, info.height);
    }
    thumb_free(out);
    thumb_ctx_free(ctx);
    free(png);
}

/* PSNR of a PNG thumbnail of a JPEG against the full-decode float Lanczos3 reference. */
static double thumb_psnr(const unsigned char *jpg, size_t len, uint32_t tw, uint32_t th, int fast) {
    ref_img full = {0}, ref = {0}, got = {0};
    double psnr = -1;
    if (ref_decode_jpeg(jpg, len, &full) != 0) return -1;
    uint32_t rw, rh, cx, cy;
    ref_cover_geometry(full.w, full.h, tw, th, &rw, &rh, &cx, &cy);
    thumb_options opt;
    thumb_options_init(&opt);
    opt.width = tw;
    opt.height = th;
    opt.format = THUMB_FORMAT_PNG;
    opt.fast_shrink_on_load = fast;
    thumb_ctx *ctx = thumb_ctx_new();
    void *out = NULL;
    size_t out_len = 0;
    if (ref_resize(&full, rw, rh, cx, cy, tw, th, &ref) == 0 &&
        thumb_thumbnail_mem(ctx, jpg, len, &opt, &out, &out_len) == THUMB_OK &&
        ref_decode_png(out, out_len, 0, &got) == 0)
        psnr = ref_psnr(&ref, &got);
    thumb_free(out);
    thumb_ctx_free(ctx);
    ref_img_free(&full);
    ref_img_free(&ref);
    ref_img_free(&got);
    return psnr;
}

/* When the DCT-scaled size is about the output size, the kernel has nothing left to do and
 * the output inherits the scaled IDCT's aliasing: Landscape_1 600x450 -> 300x225 decodes at
 * 1/2 and measured 34.9 dB against the reference. fast_shrink_on_load = 0 leaves the kernel a
 * factor of 2 and must bring it to the level of a full decode. */
static void fidelity_shrink_on_load(void) {
    size_t len = 0;
    unsigned char *jpg = tt_read_file(tt_corpus("exif/Landscape_1.jpg"), &len);
    if (!jpg) { TT_CHECK(0, "read Landscape_1.jpg"); return; }
    double fast = thumb_psnr(jpg, len, 300, 225, 1);
    double exact = thumb_psnr(jpg, len, 300, 225, 0);
    fprintf(stderr, "Landscape_1 300x225: fast_shrink_on_load %.2f dB, off %.2f dB\n", fast, exact);
    TT_CHECK(fast > 0 && exact > 0, "psnr computed");
    TT_CHECK(exact >= 40.0, "without fast shrink-on-load: %.2f dB", exact);
    TT_CHECK(exact > fast + 3.0, "the option must matter: %.2f vs %.2f dB", exact, fast);
    free(jpg);
}

static int has_icc_app2(const unsigned char *p, size_t n) {
    for (size_t i = 0; i + 16 < n; i++)
        if (p[i] == 0xFF && p[i + 1] == 0xE2 && memcmp(p + i + 4, "ICC_PROFILE", 12) == 0) return 1;
    return 0;
}

/* embed_srgb_profile wrote the RGB sRGB profile into greyscale JPEGs too, which is invalid:
 * a profile's colour space must match the image's. */
static void no_rgb_profile_in_grey_jpeg(void) {
    static const struct { const char *file; int want; } cases[] = {
        {"photos/concert.jpg", 0},   /* greyscale */
        {"photos/flowers.jpeg", 1},  /* colour */
    };
    thumb_ctx *ctx = thumb_ctx_new();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = 0;
        unsigned char *in = tt_read_file(tt_corpus(cases[i].file), &len);
        if (!in) { TT_CHECK(0, "read %s", cases[i].file); continue; }
        thumb_options opt;
        thumb_options_init(&opt);
        opt.width = 64;
        opt.height = 64;
        opt.embed_srgb_profile = 1;
        void *out = NULL;
        size_t out_len = 0;
        int rc = thumb_thumbnail_mem(ctx, in, len, &opt, &out, &out_len);
        TT_CHECK(rc == THUMB_OK, "%s: %s", cases[i].file, thumb_error_name(rc));
        if (rc == THUMB_OK)
            TT_CHECK(has_icc_app2(out, out_len) == cases[i].want, "%s: ICC profile %s", cases[i].file,
                     cases[i].want ? "missing" : "present in a greyscale JPEG");
        thumb_free(out);
        free(in);
    }
    thumb_ctx_free(ctx);
}

/* The child's half of srgb_profile_ignores_the_clock: flowers.jpeg as a JPEG and as a PNG thumbnail,
 * both with the embedded profile, written one after the other to stdout. */
static int embed_srgb_child(void) {
    size_t len = 0;
    unsigned char *in = tt_read_file(tt_corpus("photos/flowers.jpeg"), &len);
    if (!in) return 1;
    thumb_ctx *ctx = thumb_ctx_new();
    int rc = THUMB_OK;
    for (int png = 0; png <= 1 && rc == THUMB_OK; png++) {
        thumb_options opt;
        thumb_options_init(&opt);
        opt.width = 32;
        opt.height = 32;
        opt.format = png ? THUMB_FORMAT_PNG : THUMB_FORMAT_JPEG;
        opt.embed_srgb_profile = 1;
        void *out = NULL;
        size_t out_len = 0;
        rc = thumb_thumbnail_mem(ctx, in, len, &opt, &out, &out_len);
        if (rc == THUMB_OK && fwrite(out, 1, out_len, stdout) != out_len) rc = THUMB_EIO;
        thumb_free(out);
    }
    thumb_ctx_free(ctx);
    free(in);
    return rc != THUMB_OK || fflush(stdout) != 0;
}

/* This test binary run again as embed_srgb_child, in a fresh process (so the profile is built anew):
 * its stdout, or NULL if it failed. */
static unsigned char *run_embed_srgb_child(size_t *len) {
    int fd[2];
    if (pipe(fd) != 0) return NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execl("/proc/self/exe", "test_regressions", "--embed-srgb-child", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = pid > 0 ? malloc(cap) : NULL;
    ssize_t got = 0;
    while (buf && (got = read(fd[0], buf + n, cap - n)) > 0)
        if ((n += (size_t)got) == cap) {
            unsigned char *b = realloc(buf, cap *= 2);
            if (!b) { free(buf); buf = NULL; }
            else buf = b;
        }
    close(fd[0]);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    if (!buf || got < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) { free(buf); return NULL; }
    *len = n;
    return buf;
}

/* The embedded sRGB profile is built once per process by lcms, which stamps the ICC header's
 * creation date with the current time: the same input gave different bytes in two processes a second
 * apart, and the app uses the output's sha256 as the avatar's cache version. */
static void srgb_profile_ignores_the_clock(void) {
    size_t len1 = 0, len2 = 0;
    unsigned char *a = run_embed_srgb_child(&len1);
    time_t done = time(NULL);
    while (time(NULL) == done) usleep(20000); /* the header's date has a resolution of one second */
    unsigned char *b = run_embed_srgb_child(&len2);
    TT_CHECK(a && b, "the child processes failed");
    if (a && b) {
        TT_CHECK(has_icc_app2(a, len1), "the JPEG has no ICC profile");
        size_t diff = 0;
        while (diff < len1 && diff < len2 && a[diff] == b[diff]) diff++;
        TT_CHECK(len1 == len2 && diff == len1, "two processes a second apart: %zu and %zu bytes, first difference at %zu",
                 len1, len2, diff);
    }
    free(a);
    free(b);
    /* A v2 profile has no profile ID (an MD5 that would cover the date): bytes 84-99 stay zero. */
    const uint8_t *icc = NULL;
    size_t icc_len = 0;
    TT_CHECK(thumb__srgb_profile(&icc, &icc_len) == THUMB_OK && icc_len >= 128, "the sRGB profile");
    if (icc && icc_len >= 128) {
        static const uint8_t zero[16];
        TT_CHECK(icc[8] == 2 && memcmp(icc + 84, zero, 16) == 0, "version %u, a profile ID set", icc[8]);
    }
}

/* thumb_thumbnail_file follows a .png output name, but thumb_options_init used to set JPEG
 * explicitly, so callers who initialised their options always got JPEG in a .png file. */
static void file_format_follows_name(void) {
    char dir[] = "/tmp/thumb-regress-XXXXXX";
    if (!mkdtemp(dir)) { TT_CHECK(0, "mkdtemp"); return; }
    char out_png[256], out_jpg[256];
    snprintf(out_png, sizeof out_png, "%s/a.png", dir);
    snprintf(out_jpg, sizeof out_jpg, "%s/a.jpg", dir);
    thumb_options opt;
    thumb_options_init(&opt);
    opt.width = 32;
    opt.height = 32;
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_info info;
    const char *in = tt_corpus("photos/flowers.jpeg");
    TT_CHECK(thumb_thumbnail_file(ctx, in, out_png, &opt) == THUMB_OK, "to .png: %s", thumb_ctx_detail(ctx));
    thumb_info_init(&info);
    TT_CHECK(thumb_info_file(ctx, out_png, NULL, &info) == THUMB_OK && info.format == THUMB_FORMAT_PNG,
             ".png output is %s", thumb_format_name(info.format));
    TT_CHECK(thumb_thumbnail_file(ctx, in, out_jpg, &opt) == THUMB_OK, "to .jpg");
    thumb_info_init(&info);
    TT_CHECK(thumb_info_file(ctx, out_jpg, NULL, &info) == THUMB_OK && info.format == THUMB_FORMAT_JPEG,
             ".jpg output is %s", thumb_format_name(info.format));
    opt.format = THUMB_FORMAT_JPEG; /* an explicit format wins over the name */
    TT_CHECK(thumb_thumbnail_file(ctx, in, out_png, &opt) == THUMB_OK, "explicit JPEG");
    thumb_info_init(&info);
    TT_CHECK(thumb_info_file(ctx, out_png, NULL, &info) == THUMB_OK && info.format == THUMB_FORMAT_JPEG,
             "explicit JPEG to a .png name gave %s", thumb_format_name(info.format));
    unlink(out_png);
    unlink(out_jpg);
    rmdir(dir);
    thumb_ctx_free(ctx);
}

/* The process umask, read without changing it (Linux >= 4.7 shows it in /proc/self/status). */
static int umask_now(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    int um = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Umask:", 6)) { um = (int)strtol(line + 6, NULL, 8); break; }
    fclose(f);
    return um;
}

static atomic_int umask_watch_stop;
static void *umask_watch(void *arg) {
    int *seen_other = arg;
    while (!atomic_load(&umask_watch_stop)) {
        int um = umask_now();
        if (um >= 0 && um != 022) { *seen_other = um; break; }
    }
    return NULL;
}

/* thumb_thumbnail_file read the umask with umask(0) then umask(um) to give its temporary file the
 * mode open() would have: the process-wide umask was 0 for a moment, so a file another thread (or a
 * second thumbnail_file in a binding) created then got 0666, and two calls racing could leave 0 for
 * good. The umask must never change, and the output must have the mode the umask gives. */
static void file_leaves_umask_alone(void) {
    if (umask_now() < 0) { TT_CHECK(0, "no Umask: line in /proc/self/status"); return; }
    mode_t old = umask(022);
    char dir[] = "/tmp/thumb-umask-XXXXXX";
    if (!mkdtemp(dir)) { TT_CHECK(0, "mkdtemp"); umask(old); return; }
    char out[256];
    snprintf(out, sizeof out, "%s/a.jpg", dir);
    thumb_options opt;
    thumb_options_init(&opt);
    opt.width = 16;
    opt.height = 16;
    thumb_ctx *ctx = thumb_ctx_new();
    int seen_other = -1;
    atomic_store(&umask_watch_stop, 0);
    pthread_t t;
    pthread_create(&t, NULL, umask_watch, &seen_other);
    int rc = THUMB_OK;
    for (int i = 0; i < 300 && rc == THUMB_OK && seen_other < 0; i++)
        rc = thumb_thumbnail_file(ctx, tt_corpus("edge/2x2_fdcce6.png"), out, &opt);
    atomic_store(&umask_watch_stop, 1);
    pthread_join(t, NULL);
    TT_CHECK(rc == THUMB_OK, "thumbnail_file: %s", thumb_ctx_detail(ctx));
    TT_CHECK(seen_other < 0, "the process umask was %03o during thumb_thumbnail_file (set: 022)", seen_other);
    TT_CHECK(umask_now() == 022, "umask after the calls: %03o", umask_now());
    struct stat st;
    TT_CHECK(stat(out, &st) == 0 && (st.st_mode & 0777) == 0644, "output mode %03o, want 644",
             (unsigned)(st.st_mode & 0777));
    unlink(out);
    rmdir(dir);
    thumb_ctx_free(ctx);
    umask(old);
}

static int64_t buf_read(void *user, void *dst, size_t n) {
    struct { const unsigned char *p; size_t len, pos; } *b = user;
    size_t left = b->len - b->pos;
    if (n > left) n = left;
    if (n > 7) n = 7; /* small reads: the stream path must not depend on read sizes */
    memcpy(dst, b->p + b->pos, n);
    b->pos += n;
    return (int64_t)n;
}
static int discard_write(void *user, const void *p, size_t n) { (void)user; (void)p; (void)n; return 0; }

/* libspng never reads IEND's CRC, so a PNG cut inside its last four bytes decoded as whole. */
static void png_cut_inside_iend_crc(void) {
    size_t len = 0;
    unsigned char *png = tt_read_file(tt_corpus("photos/coffee.png"), &len);
    if (!png) { TT_CHECK(0, "read coffee.png"); return; }
    thumb_options opt;
    thumb_options_init(&opt);
    opt.width = 32;
    opt.height = 32;
    thumb_ctx *ctx = thumb_ctx_new();
    for (size_t cut = 0; cut <= 4; cut++) {
        void *out = NULL;
        size_t out_len = 0;
        int want = cut ? THUMB_ETRUNCATED : THUMB_OK;
        int rc = thumb_thumbnail_mem(ctx, png, len - cut, &opt, &out, &out_len);
        TT_CHECK(rc == want, "memory, %zu bytes cut: %s", cut, thumb_error_name(rc));
        thumb_free(out);
        struct { const unsigned char *p; size_t len, pos; } b = {png, len - cut, 0};
        rc = thumb_thumbnail_stream(ctx, buf_read, &b, &opt, discard_write, NULL);
        TT_CHECK(rc == want, "stream, %zu bytes cut: %s", cut, thumb_error_name(rc));
    }
    thumb_ctx_free(ctx);
    free(png);
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--embed-srgb-child")) return embed_srgb_child();
    srgb_profile_ignores_the_clock();
    png_cut_inside_iend_crc();
    file_format_follows_name();
    file_leaves_umask_alone();
    no_rgb_profile_in_grey_jpeg();
    box_factor_capped();
    fidelity_shrink_on_load();
    return tt_report(__FILE__);
}
