/* The pipeline end to end, through the public API: corpus coverage, dimensions, orientation,
 * accuracy against a float reference, alpha, metadata stripping, limits, truncation, threads,
 * the stream/file entry points and argument checking. Outputs are always decoded back (spng for
 * PNG, libthumb's own libjpeg decoder at full scale for JPEG) before anything is said about them. */
#define _GNU_SOURCE
#include "tt.h"
#include "ref.h"
#include "thumb.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <spng.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---------------------------------------------------------------- helpers */

typedef struct result {
    int rc;
    uint8_t *out;
    size_t len;
    char detail[256];
} result;

static result run_mem(const void *data, size_t len, const thumb_options *o) {
    result r = {0};
    thumb_ctx *ctx = thumb_ctx_new();
    if (!ctx) { r.rc = -1; return r; }
    void *out = NULL;
    r.rc = thumb_thumbnail_mem(ctx, data, len, o, &out, &r.len);
    r.out = out;
    snprintf(r.detail, sizeof r.detail, "%s", thumb_ctx_detail(ctx));
    thumb_ctx_free(ctx);
    return r;
}
static void result_free(result *r) { thumb_free(r->out); r->out = NULL; }

static uint8_t *load(const char *rel, size_t *len) {
    uint8_t *p = tt_read_file(tt_corpus(rel), len);
    TT_CHECK(p != NULL, "cannot read corpus file %s", tt_corpus(rel));
    return p;
}

static int has_suffix(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static thumb_options opts(uint32_t w, uint32_t h, int format) {
    thumb_options o;
    thumb_options_init(&o);
    o.width = w;
    o.height = h;
    o.format = format;
    return o;
}

/* Decode an output (PNG or JPEG) to doubles with ch channels (3 = RGB, 4 = RGBA). */
static int decode_out(const uint8_t *p, size_t n, int ch, ref_img *im) {
    int f = thumb_sniff(p, n);
    if (f == THUMB_FORMAT_PNG) return ref_decode_png(p, n, ch == 4, im);
    if (f != THUMB_FORMAT_JPEG) return -1;
    ref_img j;
    if (ref_decode_jpeg(p, n, &j)) return -1;
    im->w = j.w; im->h = j.h; im->ch = ch;
    im->px = malloc((size_t)j.w * j.h * ch * sizeof(double));
    if (!im->px) { ref_img_free(&j); return -1; }
    for (size_t i = 0; i < (size_t)j.w * j.h; i++) {
        for (int k = 0; k < 3; k++) im->px[i * ch + k] = j.px[i * j.ch + (j.ch == 1 ? 0 : k)];
        if (ch == 4) im->px[i * ch + 3] = 255.0;
    }
    ref_img_free(&j);
    return 0;
}

/* Encode 8-bit pixels as a PNG with libspng (colour type 0, 2, 4 or 6). */
static uint8_t *png_encode(const uint8_t *px, uint32_t w, uint32_t h, int colour_type, size_t *len) {
    int ch = colour_type == 0 ? 1 : colour_type == 2 ? 3 : colour_type == 4 ? 2 : 4;
    spng_ctx *c = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!c) return NULL;
    spng_set_option(c, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ih = {.width = w, .height = h, .bit_depth = 8, .color_type = (uint8_t)colour_type};
    int rc = spng_set_ihdr(c, &ih);
    if (!rc) rc = spng_encode_image(c, px, (size_t)w * h * ch, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    void *out = NULL;
    if (!rc) out = spng_get_png_buffer(c, len, &rc);
    spng_ctx_free(c);
    if (rc) { free(out); return NULL; }
    return out;
}

/* A w x h RGB PNG with a diagonal gradient (so orientation and crops show). */
static uint8_t *gradient_png(uint32_t w, uint32_t h, size_t *len) {
    uint8_t *px = malloc((size_t)w * h * 3);
    if (!px) return NULL;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(w > 1 ? x * 255 / (w - 1) : 128);
            p[1] = (uint8_t)(h > 1 ? y * 255 / (h - 1) : 64);
            p[2] = (uint8_t)((x + y) & 0xff);
        }
    uint8_t *png = png_encode(px, w, h, 2, len);
    free(px);
    return png;
}

static uint8_t *solid_png(uint32_t w, uint32_t h, int colour_type, const uint8_t *pix, size_t *len) {
    int ch = colour_type == 0 ? 1 : colour_type == 2 ? 3 : colour_type == 4 ? 2 : 4;
    uint8_t *px = malloc((size_t)w * h * ch);
    if (!px) return NULL;
    for (size_t i = 0; i < (size_t)w * h; i++) memcpy(px + i * ch, pix, ch);
    uint8_t *png = png_encode(px, w, h, colour_type, len);
    free(px);
    return png;
}

static int info_of(const uint8_t *p, size_t n, thumb_info *info) {
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_info_init(info);
    int rc = thumb_info_mem(ctx, p, n, NULL, info);
    thumb_ctx_free(ctx);
    return rc;
}

/* TT_REQUIRE for functions returning void */
/* (evaluates cond once: TT_REQUIRE evaluates it twice, which breaks mkdtemp and decoders) */
#define REQ(cond, ...) do { if (!(cond)) { TT_CHECK(!#cond, __VA_ARGS__); return; } tt_checks++; } while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double mean_abs_diff(const ref_img *a, const ref_img *b) {
    if (a->w != b->w || a->h != b->h || a->ch != b->ch) return 1e9;
    size_t n = (size_t)a->w * a->h * a->ch;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs(a->px[i] - b->px[i]);
    return s / (double)n;
}

/* The same, leaving out a central rectangle (fractions of the size). */
static double mean_abs_diff_outside(const ref_img *a, const ref_img *b, double fx0, double fy0, double fx1, double fy1) {
    if (a->w != b->w || a->h != b->h || a->ch != b->ch) return 1e9;
    double s = 0;
    size_t n = 0;
    for (uint32_t y = 0; y < a->h; y++)
        for (uint32_t x = 0; x < a->w; x++) {
            if (x >= fx0 * a->w && x < fx1 * a->w && y >= fy0 * a->h && y < fy1 * a->h) continue;
            for (int k = 0; k < a->ch; k++) {
                size_t i = ((size_t)y * a->w + x) * a->ch + k;
                s += fabs(a->px[i] - b->px[i]);
                n++;
            }
        }
    return n ? s / (double)n : 1e9;
}

/* ---------------------------------------------------------------- corpus */

/* Every pngsuite and jpeg-variants file (and every photo) makes a 64x64 and a 300x200 cover
 * thumbnail, as JPEG and as PNG, and the outputs say so when read back. */
static void test_corpus_decodes(void) {
    static const char *dirs[] = {"pngsuite", "jpeg-variants", "photos"};
    int files = 0;
    for (int d = 0; d < 3; d++) {
        DIR *dh = opendir(tt_corpus(dirs[d]));
        TT_CHECK(dh != NULL, "opendir %s", tt_corpus(dirs[d]));
        if (!dh) continue;
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            if (!has_suffix(e->d_name, ".png") && !has_suffix(e->d_name, ".jpeg") && !has_suffix(e->d_name, ".jpg"))
                continue;
            /* Documented: an incomplete progressive file is THUMB_ETRUNCATED (see test_truncation). */
            if (strstr(e->d_name, "truncated")) continue;
            char rel[600];
            snprintf(rel, sizeof rel, "%s/%s", dirs[d], e->d_name);
            size_t len;
            uint8_t *data = load(rel, &len);
            if (!data) continue;
            files++;
            static const uint32_t box[][2] = {{64, 64}, {300, 200}};
            int nbox = d == 2 ? 1 : 2;  /* photos: one size is enough */
            for (int b = 0; b < nbox; b++)
                for (int f = THUMB_FORMAT_JPEG; f <= THUMB_FORMAT_PNG; f++) {
                    thumb_options o = opts(box[b][0], box[b][1], f);
                    result r = run_mem(data, len, &o);
                    TT_CHECK(r.rc == THUMB_OK, "%s -> %ux%u %s: %s (%s)", rel, box[b][0], box[b][1], thumb_format_name(f),
                             thumb_error_name(r.rc), r.detail);
                    if (r.rc == THUMB_OK) {
                        thumb_info info;
                        int rc = info_of(r.out, r.len, &info);
                        TT_CHECK(rc == THUMB_OK && info.format == f && info.width == box[b][0] &&
                                     info.height == box[b][1],
                                 "%s -> %ux%u %s: output reads back as rc %d format %d %ux%u", rel, box[b][0], box[b][1],
                                 thumb_format_name(f), rc, info.format, info.width, info.height);
                        ref_img im;
                        rc = decode_out(r.out, r.len, 3, &im);
                        TT_CHECK(rc == 0 && im.w == box[b][0] && im.h == box[b][1], "%s: output does not decode", rel);
                        if (rc == 0) ref_img_free(&im);
                    }
                    result_free(&r);
                }
            free(data);
        }
        closedir(dh);
    }
    TT_CHECK(files >= 70, "only %d corpus files found", files);
}

/* Every edge/ file: success or its documented error; never anything else. */
static void test_edge(void) {
    static const struct {
        const char *name;
        int code;
    } want[] = {
        /* PNG: as documented in tests/test_png.c. invalid-trunc lacks only the last byte of the IEND
         * CRC: truncated. invalid-palette has indices past
         * its palette, shown as opaque black as libpng does. */
        {"invalid-crc32.png", THUMB_ECORRUPT},
        {"invalid-zlib.png", THUMB_ECORRUPT},
        {"invalid-noend.png", THUMB_ETRUNCATED},
        {"truncated.png", THUMB_ETRUNCATED},
        {"invalid-trunc.png", THUMB_ETRUNCATED},
        {"invalid-palette.png", THUMB_OK},
        {"16-bit-grey-alpha.png", THUMB_OK},
        {"2x2_fdcce6.png", THUMB_OK},
        {"Flag_of_the_Netherlands-16bit.png", THUMB_OK},
        {"foo3x5x4indexed.png", THUMB_OK},
        {"full-transparent.png", THUMB_OK},
        {"grey-8bit-alpha.png", THUMB_OK},
        {"palette_color.png", THUMB_OK},
        {"with-alpha.png", THUMB_OK},
        /* JPEG: truncated.jpg and truncated-small.jpg stop inside the entropy-coded data;
         * corrupt-header.jpg is the first 1024 bytes of photos/Channel_digital_image_CMYK_color.jpg,
         * cut inside its 9544-byte APP1: the input ends early, so truncated, not corrupt. */
        {"truncated.jpg", THUMB_ETRUNCATED},
        {"truncated-small.jpg", THUMB_ETRUNCATED},
        {"corrupt-header.jpg", THUMB_ETRUNCATED},
    };
    DIR *dh = opendir(tt_corpus("edge"));
    TT_CHECK(dh != NULL, "opendir edge");
    if (!dh) return;
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.') continue;
        int expect = -1;
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
            if (strcmp(want[i].name, e->d_name) == 0) expect = want[i].code;
        TT_CHECK(expect >= 0, "edge/%s has no documented result: add it to this table", e->d_name);
        if (expect < 0) continue;
        seen++;
        char rel[600];
        snprintf(rel, sizeof rel, "edge/%s", e->d_name);
        size_t len;
        uint8_t *data = load(rel, &len);
        if (!data) continue;
        for (int f = THUMB_FORMAT_JPEG; f <= THUMB_FORMAT_PNG; f++) {
            thumb_options o = opts(64, 64, f);
            result r = run_mem(data, len, &o);
            TT_CHECK(r.rc == expect, "edge/%s -> %s: %s (%s), want %s", e->d_name, thumb_format_name(f),
                     thumb_error_name(r.rc), r.detail, thumb_error_name(expect));
            if (r.rc != THUMB_OK) {
                TT_CHECK(r.out == NULL && r.len == 0, "edge/%s: output on failure", e->d_name);
                TT_CHECK(r.detail[0] != '\0', "edge/%s: error without a detail", e->d_name);
            } else {
                thumb_info info;
                TT_CHECK(info_of(r.out, r.len, &info) == 0 && info.width == 64 && info.height == 64,
                         "edge/%s: output is not 64x64", e->d_name);
            }
            result_free(&r);
        }
        free(data);
    }
    closedir(dh);
    TT_CHECK(seen == (int)(sizeof want / sizeof *want), "saw %d of %zu edge files", seen, sizeof want / sizeof *want);

    /* 2x2_fdcce6.png is flat (its pixels are #fdcc6e, whatever the name says): any size of it
     * is that one colour. */
    size_t len;
    uint8_t *data = load("edge/2x2_fdcce6.png", &len);
    if (data) {
        ref_img src;
        TT_CHECK(ref_decode_png(data, len, 0, &src) == 0 && src.w == 2 && src.h == 2, "decode 2x2_fdcce6");
        double c[3] = {src.px[0], src.px[1], src.px[2]};
        for (int i = 0; i < 12; i++) TT_CHECK(src.px[i] == c[i % 3], "2x2_fdcce6 is not flat");
        ref_img_free(&src);
        thumb_options o = opts(37, 23, THUMB_FORMAT_PNG);
        result r = run_mem(data, len, &o);
        ref_img im;
        TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 3, &im) == 0, "2x2_fdcce6 -> 37x23 png: %s",
                 thumb_error_name(r.rc));
        if (r.rc == 0 && im.px) {
            double worst = 0;
            for (size_t i = 0; i < (size_t)im.w * im.h * 3; i++) worst = fmax(worst, fabs(im.px[i] - c[i % 3]));
            TT_CHECK(worst <= 1.0, "2x2_fdcce6 enlarged: a pixel is %g away from the flat colour", worst);
            ref_img_free(&im);
        }
        result_free(&r);
        free(data);
    }
}

/* ---------------------------------------------------------------- dimensions */

typedef struct dim_case {
    uint32_t sw, sh;          /* generated input */
    uint32_t tw, th;
    int fit, we;
    int rc;                   /* expected */
    uint32_t ow, oh;
} dim_case;

static void test_dimensions(void) {
    /* Worked out by hand from plan.c's rules (round half up, at least 1). */
    static const dim_case cases[] = {
        /* 601x401: odd sizes */
        {601, 401, 64, 64, THUMB_FIT_COVER, 0, 0, 64, 64},
        {601, 401, 64, 64, THUMB_FIT_CONTAIN, 0, 0, 64, 64},
        {601, 401, 64, 64, THUMB_FIT_FILL, 0, 0, 64, 64},
        {601, 401, 64, 64, THUMB_FIT_INSIDE, 0, 0, 64, 43},      /* 401*64/601 = 42.70 */
        {601, 401, 64, 64, THUMB_FIT_OUTSIDE, 0, 0, 96, 64},     /* 601*64/401 = 95.92 */
        {601, 401, 100, 0, THUMB_FIT_COVER, 0, 0, 100, 67},      /* 401*100/601 = 66.72 */
        {601, 401, 0, 100, THUMB_FIT_COVER, 0, 0, 150, 100},     /* 601*100/401 = 149.88 */
        {601, 401, 0, 0, THUMB_FIT_COVER, 0, 0, 601, 401},
        {601, 401, 1000, 1000, THUMB_FIT_INSIDE, 0, 0, 1000, 667},   /* enlarged: 401000/601 = 667.22 */
        {601, 401, 1000, 1000, THUMB_FIT_INSIDE, 1, 0, 601, 401},
        {601, 401, 1000, 1000, THUMB_FIT_COVER, 0, 0, 1000, 1000},
        {601, 401, 1000, 1000, THUMB_FIT_COVER, 1, 0, 601, 401},
        {601, 401, 1000, 1000, THUMB_FIT_CONTAIN, 0, 0, 1000, 1000},
        {601, 401, 1000, 1000, THUMB_FIT_CONTAIN, 1, 0, 601, 401},
        {601, 401, 1000, 300, THUMB_FIT_FILL, 1, 0, 601, 300},
        {601, 401, 1000, 300, THUMB_FIT_FILL, 0, 0, 1000, 300},
        {4, 3, 2, 0, THUMB_FIT_COVER, 0, 0, 2, 2},               /* 3*2/4 = 1.5: half rounds up */
        {4, 3, 0, 1, THUMB_FIT_COVER, 0, 0, 1, 1},               /* 4/3 = 1.33 */
        /* 3x7 */
        {3, 7, 64, 64, THUMB_FIT_COVER, 0, 0, 64, 64},
        {3, 7, 64, 64, THUMB_FIT_INSIDE, 0, 0, 27, 64},          /* 3*64/7 = 27.43 */
        {3, 7, 64, 64, THUMB_FIT_OUTSIDE, 0, 0, 64, 149},        /* 7*64/3 = 149.33 */
        {3, 7, 5, 5, THUMB_FIT_FILL, 0, 0, 5, 5},
        {3, 7, 10, 10, THUMB_FIT_CONTAIN, 0, 0, 10, 10},
        {3, 7, 2, 2, THUMB_FIT_INSIDE, 0, 0, 1, 2},              /* 3*2/7 = 0.86 */
        /* 1x1 */
        {1, 1, 64, 64, THUMB_FIT_COVER, 0, 0, 64, 64},
        {1, 1, 300, 200, THUMB_FIT_INSIDE, 0, 0, 200, 200},
        {1, 1, 300, 200, THUMB_FIT_OUTSIDE, 0, 0, 300, 300},
        {1, 1, 300, 200, THUMB_FIT_COVER, 1, 0, 1, 1},
        {1, 1, 300, 200, THUMB_FIT_CONTAIN, 0, 0, 300, 200},
        {1, 1, 1, 1, THUMB_FIT_COVER, 0, 0, 1, 1},
        /* 1x5000 and 5000x1 */
        {1, 5000, 64, 64, THUMB_FIT_COVER, 0, 0, 64, 64},
        {1, 5000, 64, 64, THUMB_FIT_INSIDE, 0, 0, 1, 64},        /* 64/5000 -> at least 1 */
        {1, 5000, 64, 64, THUMB_FIT_CONTAIN, 0, 0, 64, 64},
        {1, 5000, 10, 10, THUMB_FIT_FILL, 0, 0, 10, 10},
        {1, 5000, 0, 100, THUMB_FIT_COVER, 0, 0, 1, 100},
        {1, 5000, 1, 0, THUMB_FIT_COVER, 0, 0, 1, 5000},
        {5000, 1, 64, 64, THUMB_FIT_COVER, 0, 0, 64, 64},
        {5000, 1, 64, 64, THUMB_FIT_INSIDE, 0, 0, 64, 1},
        {5000, 1, 64, 64, THUMB_FIT_OUTSIDE, 0, THUMB_ELIMIT_OUTPUT, 0, 0}, /* 320000 wide */
        {5000, 1, 0, 1, THUMB_FIT_COVER, 0, 0, 5000, 1},
        {5000, 1, 300, 0, THUMB_FIT_CONTAIN, 0, 0, 300, 1},
    };
    for (int as_jpeg = 0; as_jpeg <= 1; as_jpeg++) {
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            dim_case c = cases[i];
            size_t plen;
            uint8_t *png = gradient_png(c.sw, c.sh, &plen);
            TT_CHECK(png != NULL, "cannot build a %ux%u PNG", c.sw, c.sh);
            if (!png) continue;
            uint8_t *in = png;
            size_t inlen = plen;
            result conv = {0};
            if (as_jpeg) {
                /* the same picture as a JPEG, made by the library itself at its own size */
                thumb_options keep = opts(0, 0, THUMB_FORMAT_JPEG);
                keep.quality = 95;
                conv = run_mem(png, plen, &keep);
                TT_CHECK(conv.rc == 0, "%ux%u PNG -> JPEG at its own size: %s (%s)", c.sw, c.sh,
                         thumb_error_name(conv.rc), conv.detail);
                if (conv.rc) { free(png); continue; }
                thumb_info info;
                TT_CHECK(info_of(conv.out, conv.len, &info) == 0 && info.width == c.sw && info.height == c.sh,
                         "%ux%u PNG -> JPEG keeps the size: got %ux%u", c.sw, c.sh, info.width, info.height);
                in = conv.out;
                inlen = conv.len;
            }
            for (int f = THUMB_FORMAT_JPEG; f <= THUMB_FORMAT_PNG; f++) {
                thumb_options o = opts(c.tw, c.th, f);
                o.fit = c.fit;
                o.without_enlargement = c.we;
                result r = run_mem(in, inlen, &o);
                TT_CHECK(r.rc == c.rc, "%s %ux%u -> %ux%u fit %d we %d %s: %s (%s), want %s", as_jpeg ? "jpeg" : "png",
                         c.sw, c.sh, c.tw, c.th, c.fit, c.we, thumb_format_name(f), thumb_error_name(r.rc), r.detail,
                         thumb_error_name(c.rc));
                if (r.rc == 0 && c.rc == 0) {
                    ref_img im;
                    int rc = decode_out(r.out, r.len, 3, &im);
                    TT_CHECK(rc == 0 && im.w == c.ow && im.h == c.oh,
                             "%s %ux%u -> %ux%u fit %d we %d %s: output %ux%u, want %ux%u", as_jpeg ? "jpeg" : "png",
                             c.sw, c.sh, c.tw, c.th, c.fit, c.we, thumb_format_name(f), rc ? 0 : im.w, rc ? 0 : im.h,
                             c.ow, c.oh);
                    if (rc == 0) ref_img_free(&im);
                }
                result_free(&r);
            }
            result_free(&conv);
            free(png);
        }
    }

    /* Crop position, seen in the pixels: a 200x100 image, left half black, right half white.
     * Cover 100x100 west keeps black, east keeps white, centre keeps both halves. */
    uint8_t *px = malloc(200 * 100 * 3);
    for (int y = 0; y < 100; y++)
        for (int x = 0; x < 200; x++) memset(px + (y * 200 + x) * 3, x < 100 ? 0 : 255, 3);
    size_t len;
    uint8_t *png = png_encode(px, 200, 100, 2, &len);
    free(px);
    REQ(png != NULL, "halves png");
    static const struct { int pos; double lo, hi; } grav[] = {
        {THUMB_POS_WEST, 0, 2}, {THUMB_POS_EAST, 253, 255}, {THUMB_POS_CENTRE, 120, 135}};
    for (int g = 0; g < 3; g++) {
        thumb_options o = opts(100, 100, THUMB_FORMAT_PNG);
        o.position = grav[g].pos;
        result r = run_mem(png, len, &o);
        ref_img im;
        TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 3, &im) == 0, "halves gravity %d", grav[g].pos);
        if (r.rc == 0 && im.px) {
            double s = 0;
            for (size_t i = 0; i < (size_t)im.w * im.h * 3; i++) s += im.px[i];
            s /= (double)im.w * im.h * 3;
            TT_CHECK(s >= grav[g].lo && s <= grav[g].hi, "halves gravity %d: mean %g not in [%g, %g]", grav[g].pos, s,
                     grav[g].lo, grav[g].hi);
            ref_img_free(&im);
        }
        result_free(&r);
    }
    free(png);
}

/* ---------------------------------------------------------------- orientation */

static int landscape(int n, int auto_orient, ref_img *im, thumb_info *info) {
    char rel[64];
    snprintf(rel, sizeof rel, "exif/Landscape_%d.jpg", n);
    size_t len;
    uint8_t *data = load(rel, &len);
    if (!data) return -1;
    thumb_options o = opts(300, 0, THUMB_FORMAT_PNG);
    o.auto_orient = auto_orient;
    if (info) {
        thumb_ctx *ctx = thumb_ctx_new();
        thumb_info_init(info);
        int rc = thumb_info_mem(ctx, data, len, &o, info);
        thumb_ctx_free(ctx);
        TT_CHECK(rc == 0, "info %s", rel);
    }
    result r = run_mem(data, len, &o);
    free(data);
    TT_CHECK(r.rc == 0, "%s: %s (%s)", rel, thumb_error_name(r.rc), r.detail);
    int rc = r.rc == 0 ? decode_out(r.out, r.len, 3, im) : -1;
    result_free(&r);
    return rc;
}


/* At full size (no resampling) the output is exactly the decoded image, oriented by the table. */
static void test_orientation_exact(void) {
    for (int n = 1; n <= 8; n++) {
        char rel[64];
        snprintf(rel, sizeof rel, "exif/Landscape_%d.jpg", n);
        size_t len;
        uint8_t *data = load(rel, &len);
        if (!data) continue;
        ref_img s, g;
        int rc = ref_decode_jpeg(data, len, &s);
        thumb_options o = opts(0, 0, THUMB_FORMAT_PNG);
        o.colour = THUMB_COLOUR_KEEP;
        result r = run_mem(data, len, &o);
        TT_CHECK(rc == 0 && r.rc == 0, "%s full size: %s", rel, thumb_error_name(r.rc));
        if (rc == 0 && r.rc == 0 && decode_out(r.out, r.len, 3, &g) == 0) {
            uint32_t ow = n >= 5 ? s.h : s.w, oh = n >= 5 ? s.w : s.h;
            TT_CHECK(g.w == ow && g.h == oh, "%s full size: %ux%u, want %ux%u", rel, g.w, g.h, ow, oh);
            size_t wrong = 0;
            for (uint32_t y = 0; g.w == ow && g.h == oh && y < s.h; y++)
                for (uint32_t x = 0; x < s.w; x++) {
                    uint64_t X, Y;
                    tt_displayed_of(n, x, y, s.w, s.h, &X, &Y);
                    for (int k = 0; k < 3; k++)
                        if (g.px[((size_t)Y * ow + X) * 3 + k] != s.px[((size_t)y * s.w + x) * 3 + k]) wrong++;
                }
            TT_CHECK(wrong == 0, "%s full size: %zu samples are not where orientation %d puts them", rel, wrong, n);
            ref_img_free(&g);
        }
        if (rc == 0) ref_img_free(&s);
        result_free(&r);
        free(data);
    }
}

static void test_orientation(void) {
    test_orientation_exact();
    ref_img one;
    REQ(landscape(1, 1, &one, NULL) == 0, "Landscape_1");
    TT_CHECK(one.w == 300 && one.h == 225, "Landscape_1 -> %ux%u, want 300x225", one.w, one.h);
    /* Each file is its own JPEG encoding of the picture, so some difference remains; a right
     * orientation is within a few levels on average, a wrong one is tens of levels away. */
    const double good = 4.0, bad = 20.0;
    for (int n = 1; n <= 8; n++) {
        ref_img im;
        thumb_info info;
        if (landscape(n, 1, &im, &info) != 0) { TT_CHECK(0, "Landscape_%d failed", n); continue; }
        TT_CHECK(info.orientation == n, "Landscape_%d: info.orientation %d", n, info.orientation);
        TT_CHECK(info.width == 600 && info.height == 450, "Landscape_%d: info %ux%u, want 600x450", n, info.width,
                 info.height);
        TT_CHECK(info.stored_width == (n >= 5 ? 450u : 600u), "Landscape_%d: stored width %u", n, info.stored_width);
        /* each file has its own number drawn in the middle: leave that out */
        double d = mean_abs_diff_outside(&one, &im, 0.4, 0.35, 0.6, 0.65);
        fprintf(stderr, "Landscape_%d vs Landscape_1: mean abs diff %.2f (%.2f with the middle)\n", n, d,
                mean_abs_diff(&one, &im));
        TT_CHECK(d < good, "Landscape_%d does not look like Landscape_1: mean abs diff %.2f >= %.1f", n, d, good);
        ref_img_free(&im);
    }
    /* The measure can see a wrong orientation: Landscape_3 (stored upside down) and Landscape_2
     * (stored mirrored) with orientation ignored, and Landscape_6 orientation applied then flipped. */
    for (int n = 2; n <= 4; n++) {
        ref_img im;
        if (landscape(n, 0, &im, NULL) != 0) continue;
        double d = mean_abs_diff(&one, &im);
        fprintf(stderr, "Landscape_%d unoriented vs Landscape_1: mean abs diff %.2f\n", n, d);
        TT_CHECK(d > bad, "Landscape_%d unoriented is only %.2f from Landscape_1: the check cannot see orientation", n,
                 d);
        ref_img_free(&im);
    }
    ref_img six;
    if (landscape(6, 1, &six, NULL) == 0) {
        ref_img flipped = six;
        flipped.px = malloc((size_t)six.w * six.h * 3 * sizeof(double));
        for (uint32_t y = 0; y < six.h; y++)
            for (uint32_t x = 0; x < six.w; x++)
                memcpy(flipped.px + ((size_t)y * six.w + x) * 3, six.px + ((size_t)y * six.w + (six.w - 1 - x)) * 3,
                       3 * sizeof(double));
        double d = mean_abs_diff(&one, &flipped);
        TT_CHECK(d > bad, "Landscape_6 mirrored is only %.2f from Landscape_1", d);
        ref_img_free(&flipped);
        ref_img_free(&six);
    }
    ref_img_free(&one);
}

/* ---------------------------------------------------------------- accuracy */

static double accuracy_png(const char *rel, uint32_t tw, uint32_t th) {
    size_t len;
    uint8_t *data = load(rel, &len);
    if (!data) return -1;
    ref_img src, ref = {0}, got = {0};
    TT_CHECK(ref_decode_png(data, len, 0, &src) == 0, "decode %s", rel);
    thumb_options o = opts(tw, th, THUMB_FORMAT_PNG);
    o.colour = THUMB_COLOUR_KEEP; /* compare resampling only */
    result r = run_mem(data, len, &o);
    free(data);
    double psnr = -1;
    TT_CHECK(r.rc == 0, "%s -> %ux%u: %s (%s)", rel, tw, th, thumb_error_name(r.rc), r.detail);
    if (r.rc == 0 && src.px && decode_out(r.out, r.len, 3, &got) == 0) {
        uint32_t rw, rh, cx, cy;
        ref_cover_geometry(src.w, src.h, tw, th, &rw, &rh, &cx, &cy);
        if (ref_resize(&src, rw, rh, cx, cy, tw, th, &ref) == 0) psnr = ref_psnr(&ref, &got);
        fprintf(stderr, "accuracy %s -> %ux%u (resized %ux%u, crop %u,%u): PSNR %.2f dB\n", rel, tw, th, rw, rh, cx, cy,
                psnr);
    }
    ref_img_free(&src);
    ref_img_free(&ref);
    ref_img_free(&got);
    result_free(&r);
    return psnr;
}

static void test_accuracy(void) {
    static const struct { const char *rel; uint32_t w, h; } c[] = {
        {"photos/coffee.png", 157, 101},
        {"photos/chelsea.png", 200, 200},
        {"photos/astronaut.png", 123, 77},
        {"photos/coffee.png", 1000, 700},   /* enlargement */
        {"photos/chelsea.png", 37, 300},    /* shrink one way, stretch the other */
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        double p = accuracy_png(c[i].rel, c[i].w, c[i].h);
        TT_CHECK(p >= 40.0, "%s -> %ux%u: PSNR %.2f dB < 40 against the float Lanczos3 reference", c[i].rel, c[i].w,
                 c[i].h, p);
    }
}

/* Issue 2's quality bar: the 512x512 cover avatar of the sharp benchmark photo. */
static void test_avatar_quality(void) {
    const char *rel = "photos/2569067123_aca715a2ee_o.jpg";
    size_t len;
    uint8_t *data = load(rel, &len);
    if (!data) return;
    ref_img src, ref = {0};
    int rc = ref_decode_jpeg(data, len, &src);
    TT_CHECK(rc == 0 && src.w == 2725 && src.h == 2225 && src.ch == 3, "full decode of the avatar photo: rc %d", rc);
    if (rc == 0) {
        uint32_t rw, rh, cx, cy;
        ref_cover_geometry(src.w, src.h, 512, 512, &rw, &rh, &cx, &cy);
        TT_CHECK(rw == 627 && rh == 512 && cx == 58 && cy == 0, "avatar geometry %ux%u crop %u,%u", rw, rh, cx, cy);
        TT_CHECK(ref_resize(&src, rw, rh, cx, cy, 512, 512, &ref) == 0, "reference resize");
        ref_img_free(&src);
        static const struct { int format; double bar; } out[] = {{THUMB_FORMAT_PNG, 41.0}, {THUMB_FORMAT_JPEG, 35.0}};
        for (int i = 0; i < 2 && ref.px; i++) {
            thumb_options o = opts(512, 512, out[i].format);
            o.quality = 80;
            result r = run_mem(data, len, &o);
            ref_img got;
            TT_CHECK(r.rc == 0, "avatar %s: %s (%s)", thumb_format_name(out[i].format), thumb_error_name(r.rc), r.detail);
            if (r.rc == 0 && decode_out(r.out, r.len, 3, &got) == 0) {
                double p = ref_psnr(&ref, &got);
                fprintf(stderr, "avatar 512x512 cover as %s: PSNR %.2f dB against the full-decode float Lanczos3 "
                                "reference (bar %.1f)\n", thumb_format_name(out[i].format), p, out[i].bar);
                TT_CHECK(p >= out[i].bar, "avatar as %s: PSNR %.2f dB < %.1f", thumb_format_name(out[i].format), p,
                         out[i].bar);
                ref_img_free(&got);
            }
            result_free(&r);
        }
    }
    ref_img_free(&ref);
    free(data);
}

/* ---------------------------------------------------------------- alpha */

/* Every pixel's channel k within tol of want[k]. Returns the worst difference. */
static double worst_vs(const ref_img *im, const double *want, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
    double worst = 0;
    for (uint32_t y = y0; y < y1; y++)
        for (uint32_t x = x0; x < x1; x++)
            for (int k = 0; k < im->ch; k++)
                worst = fmax(worst, fabs(im->px[((size_t)y * im->w + x) * im->ch + k] - want[k]));
    return worst;
}

static int png_colour_type(const uint8_t *p, size_t n) { return n > 25 ? p[25] : -1; }

static void test_alpha(void) {
    /* half-transparent red, 40x30 */
    static const uint8_t red_half[4] = {255, 0, 0, 128};
    size_t len;
    uint8_t *png = solid_png(40, 30, 6, red_half, &len);
    REQ(png != NULL, "red png");
    ref_img im;

    /* JPEG onto white (default): r 255, g = b = 255*127/255 = 127 */
    thumb_options o = opts(20, 15, THUMB_FORMAT_JPEG);
    o.quality = 95;
    o.chroma = THUMB_CHROMA_444;
    result r = run_mem(png, len, &o);
    TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 3, &im) == 0, "red -> jpeg: %s", thumb_error_name(r.rc));
    if (r.rc == 0 && im.px) {
        static const double w[3] = {255, 127, 127};
        double d = worst_vs(&im, w, 0, 0, im.w, im.h);
        TT_CHECK(d <= 4, "half red on white: %g levels from (255,127,127)", d);
        ref_img_free(&im);
    }
    result_free(&r);

    /* JPEG onto blue: r = 255*128/255 = 128, g 0, b = 255*127/255 = 127 */
    o.background[0] = 0; o.background[1] = 0; o.background[2] = 255; o.background[3] = 255;
    r = run_mem(png, len, &o);
    TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 3, &im) == 0, "red -> jpeg on blue: %s", thumb_error_name(r.rc));
    if (r.rc == 0 && im.px) {
        static const double w[3] = {128, 0, 127};
        double d = worst_vs(&im, w, 0, 0, im.w, im.h);
        TT_CHECK(d <= 4, "half red on blue: %g levels from (128,0,127)", d);
        ref_img_free(&im);
    }
    result_free(&r);

    /* PNG output keeps alpha */
    o = opts(20, 15, THUMB_FORMAT_PNG);
    r = run_mem(png, len, &o);
    TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 4, &im) == 0, "red -> png: %s", thumb_error_name(r.rc));
    if (r.rc == 0 && im.px) {
        TT_CHECK(png_colour_type(r.out, r.len) == 6, "half red png output colour type %d, want 6 (RGBA)",
                 png_colour_type(r.out, r.len));
        static const double w[4] = {255, 0, 0, 128};
        double d = worst_vs(&im, w, 0, 0, im.w, im.h);
        TT_CHECK(d <= 2, "half red png: %g levels from (255,0,0,128)", d);
        ref_img_free(&im);
    }
    result_free(&r);
    free(png);

    /* Fully transparent input onto a background: exactly the background */
    static const uint8_t clear[4] = {12, 200, 40, 0};
    png = solid_png(16, 16, 6, clear, &len);
    o = opts(8, 8, THUMB_FORMAT_JPEG);
    o.quality = 100;
    o.chroma = THUMB_CHROMA_444;
    o.background[0] = 200; o.background[1] = 100; o.background[2] = 50;
    r = run_mem(png, len, &o);
    TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 3, &im) == 0, "clear -> jpeg: %s", thumb_error_name(r.rc));
    if (r.rc == 0 && im.px) {
        static const double w[3] = {200, 100, 50};
        double d = worst_vs(&im, w, 0, 0, im.w, im.h);
        TT_CHECK(d <= 2, "transparent onto (200,100,50): %g levels off", d);
        ref_img_free(&im);
    }
    result_free(&r);
    free(png);

    /* Corpus alpha: with-alpha.png and grey+alpha keep alpha as PNG and flatten as JPEG */
    static const char *alpha_files[] = {"edge/with-alpha.png", "edge/grey-8bit-alpha.png", "pngsuite/basn6a16.png"};
    for (int i = 0; i < 3; i++) {
        uint8_t *data = load(alpha_files[i], &len);
        if (!data) continue;
        o = opts(32, 32, THUMB_FORMAT_PNG);
        r = run_mem(data, len, &o);
        int ct = r.rc == 0 ? png_colour_type(r.out, r.len) : -1;
        TT_CHECK(ct == 4 || ct == 6, "%s -> png: colour type %d, want 4 or 6 (rc %s)", alpha_files[i], ct,
                 thumb_error_name(r.rc));
        result_free(&r);
        free(data);
    }

    /* Contain pads with the background: opaque green 100x50 in a 100x100 box */
    static const uint8_t green[3] = {0, 255, 0};
    png = solid_png(100, 50, 2, green, &len);
    o = opts(100, 100, THUMB_FORMAT_PNG);
    o.fit = THUMB_FIT_CONTAIN;
    o.background[0] = 10; o.background[1] = 20; o.background[2] = 30; o.background[3] = 255;
    r = run_mem(png, len, &o);
    TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 4, &im) == 0, "contain png: %s", thumb_error_name(r.rc));
    if (r.rc == 0 && im.px) {
        static const double bg[4] = {10, 20, 30, 255}, g[4] = {0, 255, 0, 255};
        TT_CHECK(im.w == 100 && im.h == 100, "contain %ux%u", im.w, im.h);
        TT_CHECK(worst_vs(&im, bg, 0, 0, 100, 25) == 0, "top padding is not exactly the background");
        TT_CHECK(worst_vs(&im, bg, 0, 75, 100, 100) == 0, "bottom padding is not exactly the background");
        TT_CHECK(worst_vs(&im, g, 0, 25, 100, 75) <= 1, "the image part is not green");
        ref_img_free(&im);
    }
    result_free(&r);
    /* ... in JPEG too (away from the edge, where JPEG blurs) */
    o.format = THUMB_FORMAT_JPEG;
    o.quality = 95;
    o.chroma = THUMB_CHROMA_444;
    r = run_mem(png, len, &o);
    TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 3, &im) == 0, "contain jpeg: %s", thumb_error_name(r.rc));
    if (r.rc == 0 && im.px) {
        static const double bg[3] = {10, 20, 30}, g[3] = {0, 255, 0};
        TT_CHECK(worst_vs(&im, bg, 0, 0, 100, 16) <= 4, "jpeg top padding is not the background");
        TT_CHECK(worst_vs(&im, g, 0, 32, 100, 64) <= 4, "jpeg image part is not green");
        ref_img_free(&im);
    }
    result_free(&r);
    /* ... and a transparent background makes transparent padding in PNG */
    o.format = THUMB_FORMAT_PNG;
    o.background[3] = 0;
    r = run_mem(png, len, &o);
    TT_CHECK(r.rc == 0 && decode_out(r.out, r.len, 4, &im) == 0, "contain png clear: %s", thumb_error_name(r.rc));
    if (r.rc == 0 && im.px) {
        double amax = 0, amin_img = 255;
        for (uint32_t y = 0; y < 100; y++)
            for (uint32_t x = 0; x < 100; x++) {
                double a = im.px[((size_t)y * 100 + x) * 4 + 3];
                if (y < 25 || y >= 75) amax = fmax(amax, a);
                else amin_img = fmin(amin_img, a);
            }
        TT_CHECK(amax == 0 && amin_img == 255, "transparent padding: pad alpha up to %g, image alpha down to %g", amax,
                 amin_img);
        ref_img_free(&im);
    }
    result_free(&r);
    free(png);
}

/* ---------------------------------------------------------------- metadata */

/* JPEG: SOI, then only APP0 "JFIF", tables, frame and scans, EOI, nothing after. */
static int jpeg_clean(const uint8_t *p, size_t n, char *why, size_t whylen) {
    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) { snprintf(why, whylen, "no SOI"); return 0; }
    size_t i = 2;
    while (i + 1 < n) {
        if (p[i] != 0xFF) { snprintf(why, whylen, "no marker at %zu", i); return 0; }
        while (i + 1 < n && p[i + 1] == 0xFF) i++;
        uint8_t m = p[i + 1];
        if (m == 0xD9) {
            if (i + 2 != n) { snprintf(why, whylen, "%zu bytes after EOI", n - i - 2); return 0; }
            return 1;
        }
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) { i += 2; continue; }
        if (i + 3 >= n) break;
        size_t L = (size_t)p[i + 2] << 8 | p[i + 3];
        if ((m >= 0xE1 && m <= 0xEF) || m == 0xFE) { snprintf(why, whylen, "marker FF%02X (APPn/COM)", m); return 0; }
        if (m == 0xE0 && (L < 7 || i + 9 > n || memcmp(p + i + 4, "JFIF\0", 5) != 0)) {
            snprintf(why, whylen, "APP0 that is not JFIF");
            return 0;
        }
        i += 2 + L;
        if (m == 0xDA) {  /* entropy-coded data up to the next real marker */
            while (i + 1 < n && !(p[i] == 0xFF && p[i + 1] != 0 && !(p[i + 1] >= 0xD0 && p[i + 1] <= 0xD7))) i++;
        }
    }
    snprintf(why, whylen, "no EOI");
    return 0;
}

/* PNG: only IHDR, PLTE, IDAT, IEND, nothing after IEND. */
static int png_clean(const uint8_t *p, size_t n, char *why, size_t whylen) {
    if (n < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0) { snprintf(why, whylen, "no signature"); return 0; }
    size_t i = 8;
    while (i + 12 <= n) {
        size_t L = (size_t)p[i] << 24 | (size_t)p[i + 1] << 16 | (size_t)p[i + 2] << 8 | p[i + 3];
        char t[5] = {0};
        memcpy(t, p + i + 4, 4);
        if (strcmp(t, "IHDR") && strcmp(t, "PLTE") && strcmp(t, "IDAT") && strcmp(t, "IEND")) {
            snprintf(why, whylen, "chunk %s", t);
            return 0;
        }
        i += 12 + L;
        if (!strcmp(t, "IEND")) {
            if (i != n) { snprintf(why, whylen, "%zu bytes after IEND", n - i); return 0; }
            return 1;
        }
    }
    snprintf(why, whylen, "no IEND");
    return 0;
}

static void test_metadata(void) {
    static const char *inputs[] = {
        "photos/flowers.jpeg", "photos/concert.jpg", "photos/rocket.jpg", "photos/hubble_deep_field.jpg",
        "photos/Channel_digital_image_CMYK_color.jpg", "photos/astronaut.png", "photos/chelsea.png",
        "exif/Landscape_1.jpg", "exif/Landscape_2.jpg", "exif/Landscape_3.jpg", "exif/Landscape_4.jpg",
        "exif/Landscape_5.jpg", "exif/Landscape_6.jpg", "exif/Landscape_7.jpg", "exif/Landscape_8.jpg",
        "exif/Landscape_9.jpg",
    };
    /* the inputs do carry metadata */
    size_t len;
    uint8_t *fl = load("photos/flowers.jpeg", &len);
    if (fl) {
        thumb_info info;
        TT_CHECK(info_of(fl, len, &info) == 0 && info.has_exif, "flowers.jpeg has EXIF");
        char why[128];
        TT_CHECK(!jpeg_clean(fl, len, why, sizeof why), "the checker passes flowers.jpeg itself, which has EXIF");
        free(fl);
    }
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        uint8_t *data = load(inputs[i], &len);
        if (!data) continue;
        for (int v = 0; v < 3; v++) {
            thumb_options o = opts(120, 90, v == 2 ? THUMB_FORMAT_PNG : THUMB_FORMAT_JPEG);
            o.progressive = v == 1;
            result r = run_mem(data, len, &o);
            TT_CHECK(r.rc == 0, "%s (%d): %s (%s)", inputs[i], v, thumb_error_name(r.rc), r.detail);
            if (r.rc == 0) {
                char why[128] = "";
                int ok = v == 2 ? png_clean(r.out, r.len, why, sizeof why) : jpeg_clean(r.out, r.len, why, sizeof why);
                TT_CHECK(ok, "%s -> %s%s output carries %s", inputs[i], v == 2 ? "png" : "jpeg",
                         v == 1 ? " progressive" : "", why);
                thumb_info info;
                TT_CHECK(info_of(r.out, r.len, &info) == 0 && !info.has_exif && !info.has_icc && info.orientation == 1,
                         "%s: output has exif %d icc %d orientation %d", inputs[i], info.has_exif, info.has_icc,
                         info.orientation);
            }
            result_free(&r);
        }
        free(data);
    }
}

/* ---------------------------------------------------------------- limits */

static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = (uint8_t)v; }

static void test_limits(void) {
    /* A real small PNG with its IHDR rewritten to 100000 x 100000 (CRC fixed). */
    size_t len;
    uint8_t *png = gradient_png(8, 8, &len);
    REQ(png && memcmp(png + 12, "IHDR", 4) == 0, "small png");
    put32(png + 16, 100000);
    put32(png + 20, 100000);
    put32(png + 29, (uint32_t)crc32(0, png + 12, 17));
    for (int mode = 0; mode < 2; mode++) {
        double t0 = now_s();
        thumb_options o = opts(64, 64, THUMB_FORMAT_JPEG);
        int rc;
        char detail[256];
        if (mode == 0) {
            result r = run_mem(png, len, &o);
            rc = r.rc;
            snprintf(detail, sizeof detail, "%s", r.detail);
            result_free(&r);
        } else {
            thumb_ctx *ctx = thumb_ctx_new();
            thumb_info info;
            thumb_info_init(&info);
            rc = thumb_info_mem(ctx, png, len, &o, &info);
            snprintf(detail, sizeof detail, "%s", thumb_ctx_detail(ctx));
            thumb_ctx_free(ctx);
        }
        double dt = now_s() - t0;
        TT_CHECK(rc == THUMB_ELIMIT_PIXELS, "100000x100000 PNG (%s): %s (%s)", mode ? "info" : "thumbnail",
                 thumb_error_name(rc), detail);
        TT_CHECK(dt < 0.5, "100000x100000 PNG rejected in %.3f s", dt);
    }
    free(png);

    /* A real small JPEG with its SOF rewritten to 65000 x 65000. */
    png = gradient_png(16, 16, &len);
    thumb_options o = opts(0, 0, THUMB_FORMAT_JPEG);
    result j = run_mem(png, len, &o);
    free(png);
    REQ(j.rc == 0, "make a small jpeg");
    size_t sof = 0;
    for (size_t i = 2; i + 9 < j.len; i++)
        if (j.out[i] == 0xFF && (j.out[i + 1] == 0xC0 || j.out[i + 1] == 0xC1 || j.out[i + 1] == 0xC2)) { sof = i; break; }
    REQ(sof, "SOF in the small jpeg");
    j.out[sof + 5] = 65000 >> 8; j.out[sof + 6] = 65000 & 0xff;
    j.out[sof + 7] = 65000 >> 8; j.out[sof + 8] = 65000 & 0xff;
    {
        double t0 = now_s();
        thumb_options t = opts(64, 64, THUMB_FORMAT_JPEG);
        result r = run_mem(j.out, j.len, &t);
        double dt = now_s() - t0;
        TT_CHECK(r.rc == THUMB_ELIMIT_PIXELS, "65000x65000 JPEG: %s (%s)", thumb_error_name(r.rc), r.detail);
        TT_CHECK(dt < 0.5, "65000x65000 JPEG rejected in %.3f s", dt);
        result_free(&r);
    }
    result_free(&j);

    /* max_input_pixels at the boundary, on a real file */
    uint8_t *data = load("photos/concert.jpg", &len);  /* 400x267 */
    if (data) {
        thumb_options t = opts(64, 64, THUMB_FORMAT_JPEG);
        t.max_input_pixels = 400 * 267 - 1;
        result r = run_mem(data, len, &t);
        TT_CHECK(r.rc == THUMB_ELIMIT_PIXELS, "one pixel over max_input_pixels: %s", thumb_error_name(r.rc));
        result_free(&r);
        t.max_input_pixels = 400 * 267;
        r = run_mem(data, len, &t);
        TT_CHECK(r.rc == THUMB_OK, "exactly max_input_pixels: %s (%s)", thumb_error_name(r.rc), r.detail);
        result_free(&r);

        /* max_input_bytes: memory and stream */
        t = opts(64, 64, THUMB_FORMAT_JPEG);
        t.max_input_bytes = len - 1;
        r = run_mem(data, len, &t);
        TT_CHECK(r.rc == THUMB_ELIMIT_BYTES, "max_input_bytes len-1 (mem): %s", thumb_error_name(r.rc));
        result_free(&r);
        t.max_input_bytes = len;
        r = run_mem(data, len, &t);
        TT_CHECK(r.rc == THUMB_OK, "max_input_bytes len (mem): %s (%s)", thumb_error_name(r.rc), r.detail);
        result_free(&r);
        free(data);
    }

    /* too many progressive scans */
    data = load("jpeg-variants/video-001.progressive.jpeg", &len);
    if (data) {
        thumb_options t = opts(64, 64, THUMB_FORMAT_JPEG);
        t.max_jpeg_scans = 2;
        double t0 = now_s();
        result r = run_mem(data, len, &t);
        TT_CHECK(r.rc == THUMB_ELIMIT_SCANS, "progressive with max_jpeg_scans 2: %s (%s)", thumb_error_name(r.rc),
                 r.detail);
        TT_CHECK(now_s() - t0 < 0.5, "scan limit took %.3f s", now_s() - t0);
        result_free(&r);
        free(data);
    }
}

/* ---------------------------------------------------------------- stream helpers */

typedef struct rd { const uint8_t *p; size_t n, pos, chunk, fail_after; } rd;
static int64_t rd_fn(void *u, void *buf, size_t n) {
    rd *r = u;
    if (r->fail_after && r->pos >= r->fail_after) return -1;
    size_t k = r->n - r->pos;
    if (k > n) k = n;
    if (r->chunk && k > r->chunk) k = r->chunk;
    memcpy(buf, r->p + r->pos, k);
    r->pos += k;
    return (int64_t)k;
}
typedef struct wr { uint8_t *p; size_t n, cap; size_t fail_after; int calls; } wr;
static int wr_fn(void *u, const void *buf, size_t n) {
    wr *w = u;
    w->calls++;
    if (w->fail_after != (size_t)-1 && w->n + n > w->fail_after) return 1;
    if (w->n + n > w->cap) {
        size_t c = (w->n + n) * 2;
        uint8_t *q = realloc(w->p, c);
        if (!q) return 1;
        w->p = q;
        w->cap = c;
    }
    memcpy(w->p + w->n, buf, n);
    w->n += n;
    return 0;
}

static int run_stream(const uint8_t *data, size_t len, size_t chunk, const thumb_options *o, wr *w, char *detail) {
    thumb_ctx *ctx = thumb_ctx_new();
    rd r = {data, len, 0, chunk, 0};
    int rc = thumb_thumbnail_stream(ctx, rd_fn, &r, o, wr_fn, w);
    if (detail) snprintf(detail, 256, "%s", thumb_ctx_detail(ctx));
    thumb_ctx_free(ctx);
    return rc;
}

/* ---------------------------------------------------------------- truncation */

static void test_truncation(void) {
    static const char *files[] = {
        "photos/2569067123_aca715a2ee_o.jpg",        /* baseline JPEG */
        "jpeg-variants/video-001.progressive.jpeg",  /* progressive JPEG */
        "photos/coffee.png",                         /* PNG */
        "pngsuite/basn3p04-31i.png",                 /* interlaced PNG */
        "edge/with-alpha.png",
    };
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        size_t len;
        uint8_t *data = load(files[f], &len);
        if (!data) continue;
        int bad = 0;
        for (int k = 0; k < 64; k++) {
            size_t n = len * k / 64;
            uint8_t *copy = malloc(n ? n : 1);  /* exact-size copy: ASan sees any read past the end */
            memcpy(copy, data, n);
            for (int mode = 0; mode < 2; mode++) {
                thumb_options o = opts(64, 64, k & 1 ? THUMB_FORMAT_PNG : THUMB_FORMAT_JPEG);
                int rc;
                char detail[256];
                if (mode == 0) {
                    result r = run_mem(copy, n, &o);
                    rc = r.rc;
                    snprintf(detail, sizeof detail, "%s", r.detail);
                    TT_CHECK(rc == THUMB_OK || r.out == NULL, "output on failure");
                    result_free(&r);
                } else {
                    wr w = {0};
                    w.fail_after = (size_t)-1;
                    rc = run_stream(copy, n, 4096, &o, &w, detail);
                    free(w.p);
                }
                int ok = rc == THUMB_ETRUNCATED || rc == THUMB_ECORRUPT;
                if (!ok && bad++ < 5)
                    TT_CHECK(ok, "%s cut to %d/64 (%zu bytes, %s): %s (%s), want ETRUNCATED or ECORRUPT", files[f], k, n,
                             mode ? "stream" : "mem", thumb_error_name(rc), detail);
                else
                    TT_CHECK(ok, "%s", "truncation");
            }
            free(copy);
        }
        free(data);
    }
    /* The incomplete progressive file of the corpus is documented as truncated. */
    size_t len;
    uint8_t *data = load("jpeg-variants/video-001.progressive.truncated.jpeg", &len);
    if (data) {
        thumb_options o = opts(64, 64, THUMB_FORMAT_JPEG);
        result r = run_mem(data, len, &o);
        TT_CHECK(r.rc == THUMB_ETRUNCATED, "video-001.progressive.truncated.jpeg: %s (%s)", thumb_error_name(r.rc),
                 r.detail);
        result_free(&r);
        free(data);
    }
}

/* ---------------------------------------------------------------- threads */

typedef struct job_in { uint8_t *data; size_t len; thumb_options o; result want; } job_in;
typedef struct thread_arg { job_in *jobs; int n; int mismatches; int failures; } thread_arg;

static void *thread_main(void *p) {
    thread_arg *a = p;
    thumb_ctx *ctx = thumb_ctx_new();
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < a->n; i++) {
            void *out = NULL;
            size_t n = 0;
            int rc = thumb_thumbnail_mem(ctx, a->jobs[i].data, a->jobs[i].len, &a->jobs[i].o, &out, &n);
            if (rc) a->failures++;
            else if (n != a->jobs[i].want.len || memcmp(out, a->jobs[i].want.out, n) != 0) a->mismatches++;
            thumb_free(out);
        }
    thumb_ctx_free(ctx);
    return NULL;
}

static void test_threads(void) {
    static const struct { const char *rel; uint32_t w, h; int f; } in[] = {
        {"photos/2569067123_aca715a2ee_o.jpg", 512, 512, THUMB_FORMAT_JPEG},
        {"photos/coffee.png", 200, 150, THUMB_FORMAT_PNG},
        {"edge/with-alpha.png", 100, 100, THUMB_FORMAT_JPEG},
        {"jpeg-variants/video-001.progressive.jpeg", 64, 48, THUMB_FORMAT_PNG},
        {"exif/Landscape_6.jpg", 120, 120, THUMB_FORMAT_JPEG},
        {"photos/Channel_digital_image_CMYK_color.jpg", 100, 0, THUMB_FORMAT_JPEG},
    };
    enum { N = sizeof in / sizeof *in };
    job_in jobs[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        jobs[i].data = load(in[i].rel, &jobs[i].len);
        jobs[i].o = opts(in[i].w, in[i].h, in[i].f);
        if (jobs[i].data) jobs[i].want = run_mem(jobs[i].data, jobs[i].len, &jobs[i].o);
        REQ(jobs[i].data && jobs[i].want.rc == 0, "thread input %s: %s", in[i].rel,
                   thumb_error_name(jobs[i].want.rc));
    }
    pthread_t t[4];
    thread_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (thread_arg){jobs, N, 0, 0};
        TT_CHECK(pthread_create(&t[i], NULL, thread_main, &a[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        TT_CHECK(a[i].failures == 0 && a[i].mismatches == 0, "thread %d: %d failures, %d outputs differ from the "
                 "single-threaded ones", i, a[i].failures, a[i].mismatches);
    }
    for (int i = 0; i < N; i++) { free(jobs[i].data); result_free(&jobs[i].want); }
}

/* ---------------------------------------------------------------- API */

static int dir_entries(const char *dir, char names[][256], int max) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n < max) snprintf(names[n], 256, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void test_api(void) {
    size_t len;
    uint8_t *jpg = load("photos/flowers.jpeg", &len);
    size_t plen;
    uint8_t *png = load("pngsuite/basn3p04-31i.png", &plen);
    REQ(jpg && png, "api inputs");

    /* stream == mem, byte for byte, whatever the read sizes */
    static const struct { int f; size_t chunk; } sv[] = {{THUMB_FORMAT_JPEG, 1000}, {THUMB_FORMAT_PNG, 7},
                                                         {THUMB_FORMAT_JPEG, 0}, {THUMB_FORMAT_PNG, 1}};
    for (int i = 0; i < 4; i++) {
        const uint8_t *d = i < 3 ? jpg : png;
        size_t n = i < 3 ? len : plen;
        if (sv[i].chunk == 7 || sv[i].chunk == 1) { d = png; n = plen; }
        thumb_options o = opts(150, 100, sv[i].f);
        result m = run_mem(d, n, &o);
        wr w = {0};
        w.fail_after = (size_t)-1;
        char detail[256];
        int rc = run_stream(d, n, sv[i].chunk, &o, &w, detail);
        TT_CHECK(m.rc == 0 && rc == 0, "stream case %d: mem %s, stream %s (%s)", i, thumb_error_name(m.rc),
                 thumb_error_name(rc), detail);
        TT_CHECK(m.rc == 0 && rc == 0 && w.n == m.len && memcmp(w.p, m.out, m.len) == 0,
                 "stream case %d: stream output (%zu bytes) differs from memory output (%zu bytes)", i, w.n, m.len);
        free(w.p);
        result_free(&m);
    }

    /* a read callback error -> THUMB_ECALLBACK, at the start and in the middle */
    static const size_t fail_at[] = {1, 100, 5000, 60000};
    for (int i = 0; i < 4; i++) {
        thumb_ctx *ctx = thumb_ctx_new();
        rd r = {jpg, len, 0, 1000, fail_at[i]};
        wr w = {0};
        w.fail_after = (size_t)-1;
        thumb_options o = opts(64, 64, THUMB_FORMAT_JPEG);
        int rc = thumb_thumbnail_stream(ctx, rd_fn, &r, &o, wr_fn, &w);
        TT_CHECK(rc == THUMB_ECALLBACK, "read fails after %zu bytes: %s (%s)", fail_at[i], thumb_error_name(rc),
                 thumb_ctx_detail(ctx));
        free(w.p);
        thumb_ctx_free(ctx);
    }
    /* a write callback error -> THUMB_ECALLBACK, on the first write and later */
    static const size_t wfail[] = {0, 100, 2000};
    for (int i = 0; i < 3; i++)
        for (int f = THUMB_FORMAT_JPEG; f <= THUMB_FORMAT_PNG; f++) {
            wr w = {0};
            w.fail_after = wfail[i];
            thumb_options o = opts(300, 200, f);
            o.png_compression = 0;   /* big enough output to reach the later failure points */
            char detail[256];
            int rc = run_stream(jpg, len, 0, &o, &w, detail);
            TT_CHECK(rc == THUMB_ECALLBACK, "write fails after %zu bytes (%s): %s (%s)", wfail[i], thumb_format_name(f),
                     thumb_error_name(rc), detail);
            TT_CHECK(w.n <= wfail[i], "wrote %zu bytes past a failed write", w.n);
            free(w.p);
        }

    /* thumb_thumbnail_file: no file on failure, no temporaries ever */
    char dir[] = "/tmp/thumb-test-XXXXXX";
    REQ(mkdtemp(dir) != NULL, "mkdtemp");
    char bad[512], out[512], good_out[512];
    snprintf(bad, sizeof bad, "%s/bad.png", dir);
    snprintf(out, sizeof out, "%s/out.jpg", dir);
    snprintf(good_out, sizeof good_out, "%s/good.png", dir);
    FILE *fp = fopen(bad, "wb");
    REQ(fp != NULL, "write bad input");
    fwrite(png, 1, plen / 2, fp);   /* a PNG cut in half */
    fclose(fp);
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o = opts(64, 64, THUMB_FORMAT_UNKNOWN);
    int rc = thumb_thumbnail_file(ctx, bad, out, &o);
    TT_CHECK(rc == THUMB_ETRUNCATED || rc == THUMB_ECORRUPT, "half a PNG to a file: %s (%s)", thumb_error_name(rc),
             thumb_ctx_detail(ctx));
    char names[8][256];
    int n = dir_entries(dir, names, 8);
    TT_CHECK(n == 1 && !strcmp(names[0], "bad.png"), "after a failed thumb_thumbnail_file the directory has %d entries "
             "(first: %s)", n, n > 0 ? names[0] : "");
    /* a missing input: EIO, nothing written */
    char missing[512];
    snprintf(missing, sizeof missing, "%s/missing.jpg", dir);
    rc = thumb_thumbnail_file(ctx, missing, out, &o);
    TT_CHECK(rc == THUMB_EIO, "missing input: %s", thumb_error_name(rc));
    n = dir_entries(dir, names, 8);
    TT_CHECK(n == 1, "after a missing input the directory has %d entries", n);
    /* a good input: the output appears, as PNG because of its name, and nothing else */
    rc = thumb_thumbnail_file(ctx, tt_corpus("photos/flowers.jpeg"), good_out, &o);
    TT_CHECK(rc == THUMB_OK, "good file: %s (%s)", thumb_error_name(rc), thumb_ctx_detail(ctx));
    n = dir_entries(dir, names, 8);
    TT_CHECK(n == 2, "after a good thumb_thumbnail_file the directory has %d entries", n);
    size_t glen;
    uint8_t *g = tt_read_file(good_out, &glen);
    thumb_info info;
    TT_CHECK(g && info_of(g, glen, &info) == 0 && info.format == THUMB_FORMAT_PNG && info.width == 64,
             "good.png is a 64-wide PNG");
    free(g);
    /* a failure does not clobber an existing output */
    rc = thumb_thumbnail_file(ctx, bad, good_out, &o);
    TT_CHECK(rc != THUMB_OK, "bad over good");
    g = tt_read_file(good_out, &glen);
    TT_CHECK(g && info_of(g, glen, &info) == 0 && info.format == THUMB_FORMAT_PNG, "good.png survives a failed run");
    free(g);
    n = dir_entries(dir, names, 8);
    TT_CHECK(n == 2, "after a failed overwrite the directory has %d entries", n);
    unlink(good_out);
    unlink(bad);
    rmdir(dir);

    /* bad options */
    o = opts(64, 64, THUMB_FORMAT_JPEG);
    o.size = 0;
    void *buf = NULL;
    size_t blen = 0;
    rc = thumb_thumbnail_mem(ctx, jpg, len, &o, &buf, &blen);
    TT_CHECK(rc == THUMB_EINVAL && buf == NULL, "options.size 0: %s", thumb_error_name(rc));
    o = opts(64, 64, THUMB_FORMAT_JPEG);
    o.quality = 0;
    rc = thumb_thumbnail_mem(ctx, jpg, len, &o, &buf, &blen);
    TT_CHECK(rc == THUMB_EINVAL && buf == NULL, "quality 0: %s", thumb_error_name(rc));
    o.quality = 101;
    rc = thumb_thumbnail_mem(ctx, jpg, len, &o, &buf, &blen);
    TT_CHECK(rc == THUMB_EINVAL, "quality 101: %s", thumb_error_name(rc));
    o = opts(64, 64, THUMB_FORMAT_GIF);
    rc = thumb_thumbnail_mem(ctx, jpg, len, &o, &buf, &blen);
    TT_CHECK(rc == THUMB_EINVAL, "GIF output: %s", thumb_error_name(rc));
    o = opts(64, 64, THUMB_FORMAT_JPEG);
    o.fit = 99;
    rc = thumb_thumbnail_mem(ctx, jpg, len, &o, &buf, &blen);
    TT_CHECK(rc == THUMB_EINVAL, "fit 99: %s", thumb_error_name(rc));
    /* NULL options mean defaults: the input size, as JPEG */
    rc = thumb_thumbnail_mem(ctx, png, plen, NULL, &buf, &blen);
    TT_CHECK(rc == THUMB_OK && info_of(buf, blen, &info) == 0 && info.format == THUMB_FORMAT_JPEG && info.width == 31,
             "NULL options: %s", thumb_error_name(rc));
    thumb_free(buf);
    buf = NULL;

    /* unsupported formats, named in the detail */
    static const struct { const char *magic; size_t n; const char *name; } un[] = {
        {"GIF89a\x10\0\x10\0", 10, "gif"},
        {"GIF87a\x10\0\x10\0", 10, "gif"},
        {"RIFF\x24\0\0\0WEBPVP8 ", 16, "webp"},
        {"BM\x36\0\0\0\0\0\0\0\x36\0\0\0", 14, "bmp"},
        {"II*\0\x08\0\0\0", 8, "tiff"},
        {"MM\0*\0\0\0\x08", 8, "tiff"},
        {"\0\0\0\x18" "ftypheic\0\0\0\0", 16, "hei"},
        {"\0\0\0\x1c" "ftypavif\0\0\0\0", 16, "avif"},
    };
    for (size_t i = 0; i < sizeof un / sizeof *un; i++) {
        uint8_t b[64] = {0};
        memcpy(b, un[i].magic, un[i].n);
        rc = thumb_thumbnail_mem(ctx, b, sizeof b, NULL, &buf, &blen);
        const char *det = thumb_ctx_detail(ctx);
        TT_CHECK(rc == THUMB_EUNSUPPORTED, "%s magic: %s (%s)", un[i].name, thumb_error_name(rc), det);
        TT_CHECK(strcasestr(det, un[i].name) != NULL, "%s magic: detail '%s' does not name the type", un[i].name, det);
        thumb_info_init(&info);
        rc = thumb_info_mem(ctx, b, sizeof b, NULL, &info);
        TT_CHECK(rc == THUMB_EUNSUPPORTED, "%s magic (info): %s", un[i].name, thumb_error_name(rc));
    }
    /* random bytes: unsupported, not a crash */
    uint8_t junk[100];
    for (int i = 0; i < 100; i++) junk[i] = (uint8_t)(i * 37 + 11);
    rc = thumb_thumbnail_mem(ctx, junk, sizeof junk, NULL, &buf, &blen);
    TT_CHECK(rc == THUMB_EUNSUPPORTED, "junk: %s", thumb_error_name(rc));
    rc = thumb_thumbnail_mem(ctx, junk, 0, NULL, &buf, &blen);
    TT_CHECK(rc == THUMB_ETRUNCATED, "empty input: %s", thumb_error_name(rc));
    thumb_ctx_free(ctx);

    /* error texts */
    for (int a = 0; a < THUMB_ERROR_COUNT_; a++) {
        const char *s = thumb_strerror(a), *nm = thumb_error_name(a);
        TT_CHECK(s && s[0] && nm && nm[0], "code %d has empty text", a);
        TT_CHECK(nm && strncmp(nm, "THUMB_", 6) == 0, "code %d name '%s'", a, nm ? nm : "(null)");
        for (int b = 0; b < a; b++) {
            TT_CHECK(strcmp(thumb_strerror(a), thumb_strerror(b)) != 0, "codes %d and %d share a text", a, b);
            TT_CHECK(strcmp(thumb_error_name(a), thumb_error_name(b)) != 0, "codes %d and %d share a name", a, b);
        }
    }
    TT_CHECK(!strcmp(thumb_error_name(THUMB_ELIMIT_PIXELS), "THUMB_ELIMIT_PIXELS"), "ELIMIT_PIXELS name");
    TT_CHECK(thumb_strerror(-1) != NULL && thumb_strerror(9999) != NULL && thumb_error_name(9999) != NULL,
             "unknown codes give text");
    TT_CHECK(!strcmp(thumb_version_string(), "1.0.0") && thumb_version_number() == THUMB_VERSION_NUMBER, "version");
    thumb_ctx_free(NULL);
    free(jpg);
    free(png);
}

/* One context for a run of different jobs (the resampler keeps its last weight tables in it):
 * every output must equal the same job on a fresh context, byte for byte. */
static void test_ctx_reuse(void) {
    static const char *files[] = {"photos/flowers.jpeg", "photos/2569067123_aca715a2ee_o.jpg"};
    static const struct { uint32_t w, h; int fit, kernel, format; } jobs[] = {
        {512, 512, THUMB_FIT_COVER, THUMB_KERNEL_LANCZOS3, THUMB_FORMAT_JPEG},
        {512, 512, THUMB_FIT_COVER, THUMB_KERNEL_LANCZOS3, THUMB_FORMAT_PNG},
        {300, 200, THUMB_FIT_CONTAIN, THUMB_KERNEL_LANCZOS3, THUMB_FORMAT_PNG},
        {512, 512, THUMB_FIT_COVER, THUMB_KERNEL_CUBIC, THUMB_FORMAT_JPEG},
        {512, 512, THUMB_FIT_COVER, THUMB_KERNEL_LANCZOS3, THUMB_FORMAT_JPEG},
        {64, 64, THUMB_FIT_FILL, THUMB_KERNEL_LINEAR, THUMB_FORMAT_PNG},
        {512, 512, THUMB_FIT_COVER, THUMB_KERNEL_LANCZOS3, THUMB_FORMAT_JPEG},
    };
    thumb_ctx *ctx = thumb_ctx_new();
    TT_CHECK(ctx != NULL, "thumb_ctx_new");
    if (!ctx) return;
    int same = 0, runs = 0;
    for (int round = 0; round < 2; round++)
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            size_t len;
            uint8_t *data = load(files[f], &len);
            if (!data) continue;
            for (size_t j = 0; j < sizeof jobs / sizeof jobs[0]; j++) {
                thumb_options o = opts(jobs[j].w, jobs[j].h, jobs[j].format);
                o.fit = jobs[j].fit;
                o.kernel = jobs[j].kernel;
                void *out = NULL;
                size_t n = 0;
                int rc = thumb_thumbnail_mem(ctx, data, len, &o, &out, &n);
                result fresh = run_mem(data, len, &o);
                runs++;
                int ok = rc == THUMB_OK && fresh.rc == THUMB_OK && n == fresh.len && memcmp(out, fresh.out, n) == 0;
                same += ok;
                TT_CHECK(ok, "%s job %zu round %d: reused context %d (%zu B) vs fresh %d (%zu B)", files[f], j, round,
                         rc, n, fresh.rc, fresh.len);
                thumb_free(out);
                result_free(&fresh);
            }
            free(data);
        }
    fprintf(stderr, "context reuse: %d of %d outputs identical to a fresh context's\n", same, runs);
    thumb_ctx_free(ctx);
}

int main(int argc, char **argv) {
    /* optional: run one part by name */
    const char *only = argc > 1 ? argv[1] : NULL;
#define PART(name) if (!only || !strcmp(only, #name)) { fprintf(stderr, "-- %s\n", #name); name(); }
    PART(test_api);
    PART(test_corpus_decodes);
    PART(test_edge);
    PART(test_dimensions);
    PART(test_orientation);
    PART(test_accuracy);
    PART(test_avatar_quality);
    PART(test_alpha);
    PART(test_metadata);
    PART(test_limits);
    PART(test_truncation);
    PART(test_threads);
    PART(test_ctx_reuse);
#undef PART
    return tt_report(__FILE__);
}
