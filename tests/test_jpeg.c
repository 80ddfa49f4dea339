/* JPEG decoder and encoder, through the internal interfaces (thumb__jpeg_open, tdec ops,
 * thumb__jpeg_encode). Uses libjpeg directly only to craft inputs. */
#include "internal.h"
#include "tt.h"

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>

#include <jpeglib.h>

/* The documented defaults (thumb.h), filled here so this test links against the decoder
 * and the source alone, without the rest of the pipeline. */
static void opts_default(thumb_options *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->quality = 80;
    o->chroma = THUMB_CHROMA_420;
    o->optimize_coding = 1;
    o->max_input_pixels = 268402689ull;
    o->max_input_bytes = 256ull << 20;
    o->max_jpeg_scans = 100;
    o->max_frame_bytes = 512ull << 20;
    o->max_icc_bytes = 4u << 20;
}

/* ---------------------------------------------------------------- decode helpers */

typedef struct img {
    uint8_t *px;
    uint32_t w, h;      /* delivered window */
    int ch;
    uint32_t x0, y0;    /* actual window origin */
    uint32_t dec_w, dec_h;
    tdec_header hdr;    /* icc pointer not kept */
    uint32_t icc_len;
    uint8_t icc_head[40];
    uint32_t icc_hash;  /* FNV-1a of the whole profile */
    int stage;          /* 0 open, 1 start, 2 rows, 3 done: where it failed */
} img;

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

typedef struct win {
    int set;
    uint32_t x0, x1, y0, y1;
} win;

typedef struct memreader {
    const uint8_t *p;
    size_t len, pos, chunk;
} memreader;

static int64_t mem_read_cb(void *user, void *buf, size_t n)
{
    memreader *r = user;
    size_t left = r->len - r->pos;
    if (n > left) n = left;
    if (n > r->chunk) n = r->chunk;
    memcpy(buf, r->p + r->pos, n);
    r->pos += n;
    return (int64_t)n;
}

/* Decode data at scale/8 inside the window (whole image when !w.set). stream_chunk > 0
 * reads through a callback in pieces of that size. */
static int decode_ex(const uint8_t *data, size_t len, const thumb_options *opt, int scale, win w,
                     int raw_cmyk, size_t stream_chunk, thumb_ctx *ctx, img *out)
{
    memset(out, 0, sizeof *out);
    tsrc src;
    memreader mr = {data, len, 0, stream_chunk};
    if (stream_chunk)
        tsrc_init_stream(&src, ctx, mem_read_cb, &mr, opt->max_input_bytes);
    else
        tsrc_init_mem(&src, ctx, data, len, opt->max_input_bytes);
    tdec *d = NULL;
    int rc = thumb__jpeg_open(&d, ctx, opt, &src);
    if (rc != THUMB_OK) {
        if (d != NULL) fprintf(stderr, "open failed but returned a decoder\n");
        return rc;
    }
    out->hdr = d->hdr;
    out->icc_len = d->hdr.icc_len;
    if (d->hdr.icc && d->hdr.icc_len >= 40) memcpy(out->icc_head, d->hdr.icc, 40);
    out->icc_hash = fnv(d->hdr.icc, d->hdr.icc_len);
    out->hdr.icc = NULL;
    out->stage = 1;
    if (scale == 0) { /* header only */
        d->ops->destroy(d);
        return THUMB_OK;
    }
    tdec_request req = {0};
    req.scale_num = scale;
    req.raw_cmyk = raw_cmyk;
    uint32_t sw = (uint32_t)(((uint64_t)d->hdr.width * (uint64_t)scale + 7) / 8);
    uint32_t sh = (uint32_t)(((uint64_t)d->hdr.height * (uint64_t)scale + 7) / 8);
    if (w.set) {
        req.x0 = w.x0; req.x1 = w.x1; req.y0 = w.y0; req.y1 = w.y1;
    } else {
        req.x0 = 0; req.x1 = sw; req.y0 = 0; req.y1 = sh;
    }
    rc = d->ops->start(d, &req);
    if (rc != THUMB_OK) {
        d->ops->destroy(d);
        return rc;
    }
    out->stage = 2;
    out->w = d->w; out->h = d->h; out->ch = d->channels;
    out->x0 = d->x0; out->y0 = d->y0;
    out->dec_w = d->dec_w; out->dec_h = d->dec_h;
    size_t rowb = (size_t)d->w * (size_t)d->channels;
    out->px = malloc(rowb * d->h + 1);
    for (uint32_t y = 0; y < d->h; y++) {
        const uint8_t *row = NULL;
        rc = d->ops->next_row(d, &row);
        if (rc != THUMB_OK) {
            free(out->px);
            out->px = NULL;
            d->ops->destroy(d);
            return rc;
        }
        memcpy(out->px + rowb * y, row, rowb);
    }
    out->stage = 3;
    /* one row too many is a caller error */
    const uint8_t *extra = NULL;
    int rc_extra = d->ops->next_row(d, &extra);
    d->ops->destroy(d);
    if (rc_extra != THUMB_EINVAL) {
        fprintf(stderr, "next_row past the end gave %d\n", rc_extra);
        free(out->px);
        out->px = NULL;
        return -1;
    }
    return THUMB_OK;
}

static int decode(const uint8_t *data, size_t len, const thumb_options *opt, int scale, img *out)
{
    thumb_ctx ctx = {{0}};
    win w = {0};
    return decode_ex(data, len, opt, scale, w, 0, 0, &ctx, out);
}

static double channel_mean(const img *a, int c)
{
    double s = 0;
    size_t n = (size_t)a->w * a->h;
    for (size_t i = 0; i < n; i++) s += a->px[i * (size_t)a->ch + (size_t)c];
    return n ? s / (double)n : 0;
}

static double mean_abs_diff(const img *a, const img *b)
{
    if (a->w != b->w || a->h != b->h || a->ch != b->ch) return 1e9;
    size_t n = (size_t)a->w * a->h * (size_t)a->ch;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)a->px[i] - (double)b->px[i]);
    return s / (double)n;
}

static uint8_t *load(const char *rel, size_t *len)
{
    uint8_t *p = tt_read_file(tt_corpus(rel), len);
    if (!p) fprintf(stderr, "cannot read %s\n", tt_corpus(rel));
    return p;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* ---------------------------------------------------------------- variants, scales */

static void test_variants_scales(void)
{
    DIR *dir = opendir(tt_corpus("jpeg-variants"));
    TT_CHECK(dir != NULL, "cannot open %s", tt_corpus("jpeg-variants"));
    if (!dir) return;
    thumb_options opt;
    opts_default(&opt);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!has_suffix(e->d_name, ".jpeg") || strstr(e->d_name, "truncated")) continue;
        char rel[512];
        snprintf(rel, sizeof rel, "jpeg-variants/%s", e->d_name);
        size_t len;
        uint8_t *data = load(rel, &len);
        TT_CHECK(data != NULL, "%s", rel);
        if (!data) continue;
        files++;
        bool grey = strstr(e->d_name, "gray") != NULL;
        for (int s = 8; s >= 1; s /= 2) {
            img im;
            int rc = decode(data, len, &opt, s, &im);
            TT_CHECK(rc == THUMB_OK, "%s scale %d: rc %d", rel, s, rc);
            if (rc != THUMB_OK) continue;
            uint32_t ew = (im.hdr.width * (uint32_t)s + 7) / 8, eh = (im.hdr.height * (uint32_t)s + 7) / 8;
            TT_CHECK(im.hdr.width == 150 && im.hdr.height == 103, "%s: header %ux%u", rel, im.hdr.width, im.hdr.height);
            TT_CHECK(im.dec_w == ew && im.dec_h == eh, "%s scale %d: %ux%u, want %ux%u", rel, s, im.dec_w, im.dec_h, ew, eh);
            TT_CHECK(im.w == ew && im.h == eh && im.x0 == 0 && im.y0 == 0, "%s scale %d: window %u,%u %ux%u", rel, s, im.x0, im.y0, im.w, im.h);
            TT_CHECK(im.ch == (grey ? 1 : 3) && im.hdr.channels == im.ch, "%s: %d channels (hdr %d)", rel, im.ch, im.hdr.channels);
            TT_CHECK(im.hdr.format == THUMB_FORMAT_JPEG && im.hdr.bit_depth == 8 && !im.hdr.has_alpha, "%s: header fields", rel);
            TT_CHECK(im.hdr.progressive == (strstr(e->d_name, "progress") != NULL), "%s: progressive %d", rel, im.hdr.progressive);
            TT_CHECK(im.hdr.colour_space == (grey ? 1 : strstr(e->d_name, "cmyk") ? (im.hdr.colour_space == 5 ? 5 : 4)
                                              : strstr(e->d_name, "rgb") ? 3 : 2),
                     "%s: colour space %d", rel, im.hdr.colour_space);
            /* not a blank frame */
            double m = channel_mean(&im, 0);
            TT_CHECK(m > 20 && m < 235, "%s scale %d: mean %.1f", rel, s, m);
            free(im.px);
        }
        free(data);
    }
    closedir(dir);
    TT_CHECK(files >= 20, "only %d variant files", files);
}

/* Every colour variant of video-001 should look like the baseline. */
static void test_variants_pixels(void)
{
    thumb_options opt;
    opts_default(&opt);
    size_t blen;
    uint8_t *base = load("jpeg-variants/video-001.jpeg", &blen);
    TT_CHECK(base != NULL, "baseline");
    if (!base) return;
    img ref;
    TT_CHECK(decode(base, blen, &opt, 8, &ref) == THUMB_OK, "baseline decodes");
    if (!ref.px) { free(base); return; }

    static const struct { const char *name; double mean_tol, mad_tol; } v[] = {
        {"video-001.progressive.jpeg", 1.0, 2.0},
        {"video-001.separate.dc.progression.jpeg", 1.5, 3.0},
        {"video-001.separate.dc.progression.progressive.jpeg", 1.5, 3.0},
        {"video-001.221212.jpeg", 2.0, 5.0},
        {"video-001.rgb.jpeg", 2.0, 10.0},
        {"video-001.q50.420.jpeg", 2.0, 8.0},
        {"video-001.q50.420.progressive.jpeg", 2.0, 8.0},
        {"video-001.q50.444.jpeg", 2.0, 8.0},
        {"video-001.q50.410.progressive.jpeg", 3.0, 10.0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "jpeg-variants/%s", v[i].name);
        size_t len;
        uint8_t *data = load(rel, &len);
        if (!data) { TT_CHECK(0, "%s", rel); continue; }
        img im;
        int rc = decode(data, len, &opt, 8, &im);
        TT_CHECK(rc == THUMB_OK && im.ch == 3, "%s: rc %d ch %d", rel, rc, im.ch);
        if (rc == THUMB_OK) {
            for (int c = 0; c < 3; c++) {
                double a = channel_mean(&ref, c), b = channel_mean(&im, c);
                TT_CHECK(fabs(a - b) <= v[i].mean_tol, "%s channel %d: mean %.2f vs baseline %.2f", rel, c, b, a);
            }
            double mad = mean_abs_diff(&ref, &im);
            TT_CHECK(mad <= v[i].mad_tol, "%s: mean abs diff %.2f > %.2f", rel, mad, v[i].mad_tol);
            free(im.px);
        }
        free(data);
    }
    free(ref.px);
    free(base);
}

static void test_cmyk(void)
{
    thumb_options opt;
    opts_default(&opt);
    size_t len;
    uint8_t *data = load("jpeg-variants/video-001.cmyk.jpeg", &len);
    if (!data) { TT_CHECK(0, "cmyk file"); return; }
    img rgb, raw;
    thumb_ctx ctx = {{0}};
    win w = {0};
    TT_CHECK(decode(data, len, &opt, 8, &rgb) == THUMB_OK, "cmyk decodes");
    TT_CHECK(rgb.hdr.is_cmyk && rgb.hdr.channels == 3 && rgb.ch == 3, "cmyk header: is_cmyk %d ch %d", rgb.hdr.is_cmyk, rgb.ch);
    int rc = decode_ex(data, len, &opt, 8, w, 1, 0, &ctx, &raw);
    TT_CHECK(rc == THUMB_OK && raw.ch == 4, "raw cmyk: rc %d ch %d", rc, raw.ch);
    if (rc == THUMB_OK && rgb.px) {
        /* raw CMYK is normalised to 0 = no ink, so R is about (255-C)(255-K)/255 */
        double worst = 0;
        for (size_t i = 0; i < (size_t)raw.w * raw.h; i++) {
            const uint8_t *k = raw.px + 4 * i;
            double r = (255.0 - k[0]) * (255.0 - k[3]) / 255.0;
            double dr = fabs(r - rgb.px[3 * i]);
            if (dr > worst) worst = dr;
        }
        TT_CHECK(worst <= 1.0, "raw CMYK and RGB disagree by %.1f", worst);
    }
    /* Against the YCbCr baseline: this file was separated with a colour profile, so the
     * naive conversion is darker, but it must be the same picture (high correlation of
     * every channel) and much closer than the wrong ink polarity would be. */
    size_t blen;
    uint8_t *base = load("jpeg-variants/video-001.jpeg", &blen);
    img ref;
    if (base && rgb.px && raw.px && decode(base, blen, &opt, 8, &ref) == THUMB_OK) {
        size_t n = (size_t)ref.w * ref.h;
        img wrong = rgb;
        wrong.px = malloc(n * 3);
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                wrong.px[3 * i + (size_t)c] = (uint8_t)(raw.px[4 * i + (size_t)c] * raw.px[4 * i + 3] / 255);
        double mad = mean_abs_diff(&rgb, &ref), mad_wrong = mean_abs_diff(&wrong, &ref);
        TT_CHECK(mad < 40 && mad * 2 < mad_wrong, "CMYK vs baseline: mean abs diff %.1f (wrong polarity %.1f)", mad, mad_wrong);
        for (int c = 0; c < 3; c++) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (size_t i = 0; i < n; i++) {
                double a = rgb.px[3 * i + (size_t)c], b = ref.px[3 * i + (size_t)c];
                sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b;
            }
            double cov = sab / n - sa / n * sb / n;
            double r = cov / sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
            TT_CHECK(r > 0.9, "CMYK channel %d correlation with the baseline %.3f", c, r);
        }
        free(wrong.px);
        free(ref.px);
    } else {
        TT_CHECK(0, "CMYK comparison could not run");
    }
    free(base);
    free(raw.px);
    free(rgb.px);
    free(data);

    /* a real Photoshop CMYK file with an ICC profile (Adobe APP14, inverted) */
    data = load("photos/Channel_digital_image_CMYK_color.jpg", &len);
    if (!data) { TT_CHECK(0, "CMYK photo"); return; }
    img ph;
    rc = decode(data, len, &opt, 4, &ph);
    TT_CHECK(rc == THUMB_OK, "CMYK photo: rc %d", rc);
    TT_CHECK(ph.hdr.is_cmyk && ph.ch == 3, "CMYK photo header");
    TT_CHECK(ph.icc_len > 128 && memcmp(ph.icc_head + 36, "acsp", 4) == 0, "CMYK photo ICC: %u bytes", ph.icc_len);
    TT_CHECK(memcmp(ph.icc_head + 16, "CMYK", 4) == 0, "ICC colour space is CMYK");
    if (rc == THUMB_OK) {
        /* the picture is mostly light: an inversion mistake would make it mostly dark */
        double m = (channel_mean(&ph, 0) + channel_mean(&ph, 1) + channel_mean(&ph, 2)) / 3;
        TT_CHECK(m > 100, "CMYK photo mean %.1f: inverted?", m);
    }
    free(ph.px);

    /* the ICC profile over max_icc_bytes */
    thumb_options small = opt;
    small.max_icc_bytes = 1000;
    thumb_ctx c2 = {{0}};
    img x;
    rc = decode_ex(data, len, &small, 0, w, 0, 0, &c2, &x);
    TT_CHECK(rc == THUMB_ELIMIT_CHUNK, "ICC over limit: rc %d", rc);
    TT_CHECK(strstr(c2.detail, "ICC profile over 1000 bytes") != NULL, "detail '%s'", c2.detail);
    free(data);
}

static void test_grey_and_exif(void)
{
    thumb_options opt;
    opts_default(&opt);
    size_t len;
    uint8_t *data = load("photos/concert.jpg", &len);
    if (data) {
        img im;
        int rc = decode(data, len, &opt, 8, &im);
        TT_CHECK(rc == THUMB_OK && im.ch == 1 && im.w == 400 && im.h == 267, "concert: rc %d ch %d %ux%u", rc, im.ch, im.w, im.h);
        TT_CHECK(im.hdr.colour_space == 1, "grey colour space %d", im.hdr.colour_space);
        free(im.px);
        free(data);
    } else {
        TT_CHECK(0, "concert.jpg");
    }
    for (int o = 1; o <= 8; o++) {
        char rel[64];
        snprintf(rel, sizeof rel, "exif/Landscape_%d.jpg", o);
        data = load(rel, &len);
        if (!data) { TT_CHECK(0, "%s", rel); continue; }
        img im;
        int rc = decode(data, len, &opt, 0, &im);
        TT_CHECK(rc == THUMB_OK && im.hdr.orientation == o && im.hdr.has_exif, "%s: rc %d orientation %d exif %d", rel, rc,
                 im.hdr.orientation, im.hdr.has_exif);
        free(data);
    }
    data = load("jpeg-variants/video-001.jpeg", &len);
    if (data) {
        img im;
        TT_CHECK(decode(data, len, &opt, 0, &im) == THUMB_OK && im.hdr.orientation == 1 && !im.hdr.has_exif && im.icc_len == 0,
                 "no EXIF: orientation %d exif %d", im.hdr.orientation, im.hdr.has_exif);
        free(data);
    }
}

/* ---------------------------------------------------------------- errors */

static bool typed_error(int rc)
{
    return rc > THUMB_OK && rc < THUMB_ERROR_COUNT_ && rc != THUMB_ENOMEM && rc != THUMB_EINVAL;
}

static void test_truncated_and_corrupt(void)
{
    thumb_options opt;
    opts_default(&opt);
    static const char *trunc[] = {"edge/truncated.jpg", "edge/truncated-small.jpg",
                                  "jpeg-variants/video-001.progressive.truncated.jpeg"};
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        uint8_t *data = load(trunc[i], &len);
        if (!data) { TT_CHECK(0, "%s", trunc[i]); continue; }
        for (int mode = 0; mode < 2; mode++) {
            thumb_ctx ctx = {{0}};
            win w = {0};
            img im;
            int rc = decode_ex(data, len, &opt, 8, w, 0, mode ? 1000 : 0, &ctx, &im);
            TT_CHECK(rc == THUMB_ETRUNCATED, "%s (%s): rc %d detail '%s'", trunc[i], mode ? "stream" : "mem", rc, ctx.detail);
            TT_CHECK(strncmp(ctx.detail, "jpeg: ", 6) == 0, "%s: detail '%s'", trunc[i], ctx.detail);
            free(im.px);
        }
        free(data);
    }
    /* the first 100 rows of the 10000-byte truncated photo are there: a window inside
     * them decodes (nothing after the window is read) */
    size_t len;
    uint8_t *data = load("edge/truncated.jpg", &len);
    if (data) {
        thumb_ctx ctx = {{0}};
        win w = {1, 0, 100, 0, 8};
        img im;
        int rc = decode_ex(data, len, &opt, 8, w, 0, 0, &ctx, &im);
        TT_CHECK(rc == THUMB_OK, "top rows of truncated.jpg: rc %d '%s'", rc, ctx.detail);
        free(im.px);
        /* cut inside the header */
        rc = decode_ex(data, 300, &opt, 8, (win){0}, 0, 0, &ctx, &im);
        TT_CHECK(rc == THUMB_ETRUNCATED && im.stage == 0, "header cut: rc %d stage %d", rc, im.stage);
        free(data);
    }

    data = load("edge/corrupt-header.jpg", &len);
    if (data) {
        thumb_ctx ctx = {{0}};
        img im;
        int rc = decode_ex(data, len, &opt, 8, (win){0}, 0, 0, &ctx, &im);
        TT_CHECK(typed_error(rc), "corrupt-header.jpg: rc %d '%s'", rc, ctx.detail);
        TT_CHECK(strncmp(ctx.detail, "jpeg: ", 6) == 0, "corrupt-header detail '%s'", ctx.detail);
        free(im.px);
        free(data);
    }
    /* empty and garbage input */
    {
        thumb_ctx ctx = {{0}};
        img im;
        static const uint8_t junk[] = {0xFF, 0xD8, 0xFF, 0x00, 0x12, 0x34, 0x56};
        int rc = decode_ex(junk, sizeof junk, &opt, 8, (win){0}, 0, 0, &ctx, &im);
        TT_CHECK(typed_error(rc), "junk: rc %d", rc);
        rc = decode_ex((const uint8_t *)"", 0, &opt, 8, (win){0}, 0, 0, &ctx, &im);
        TT_CHECK(typed_error(rc), "empty: rc %d", rc);
    }
    /* max_input_bytes in memory mode and stream mode */
    data = load("jpeg-variants/video-001.jpeg", &len);
    if (data) {
        thumb_options o2 = opt;
        o2.max_input_bytes = 5000;
        for (int mode = 0; mode < 2; mode++) {
            thumb_ctx ctx = {{0}};
            img im;
            int rc = decode_ex(data, len, &o2, 8, (win){0}, 0, mode ? 4096 : 0, &ctx, &im);
            TT_CHECK(rc == THUMB_ELIMIT_BYTES, "byte limit (%d): rc %d '%s'", mode, rc, ctx.detail);
            free(im.px);
        }
        free(data);
    }
}

/* ---------------------------------------------------------------- crafted inputs */

typedef struct membuf {
    uint8_t *p;
    size_t len;
} membuf;

/* Our encoder into a memory sink. */
static int encode(const thumb_options *opt, const uint8_t *px, uint32_t w, uint32_t h, int ch, membuf *out)
{
    thumb_ctx ctx = {{0}};
    tsink sink;
    memset(&sink, 0, sizeof sink);
    sink.ctx = &ctx;
    int rc = thumb__jpeg_encode(&ctx, opt, px, w, h, ch, (size_t)w * (size_t)ch, &sink);
    out->p = sink.buf;
    out->len = sink.len;
    return rc;
}

static uint8_t *gradient(uint32_t w, uint32_t h, int ch)
{
    uint8_t *p = malloc((size_t)w * h * (size_t)ch);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                double v = c == 0 ? 255.0 * x / (w - 1) : c == 1 ? 255.0 * y / (h - 1) : 127.5 + 100 * sin((x + y) * 0.02);
                p[((size_t)y * w + x) * (size_t)ch + (size_t)c] = (uint8_t)lrint(v);
            }
    return p;
}

/* Offset of the first marker m (after SOI, before SOS), or -1. */
static long find_marker(const uint8_t *p, size_t len, int m)
{
    size_t i = 2;
    while (i + 4 <= len && p[i] == 0xFF) {
        int mk = p[i + 1];
        if (mk == m) return (long)i;
        if (mk == 0xDA) break;
        i += 2 + ((size_t)p[i + 2] << 8 | p[i + 3]);
    }
    return -1;
}

static void test_pixel_limit(void)
{
    thumb_options opt;
    opts_default(&opt);
    uint8_t *px = gradient(16, 16, 3);
    membuf jb;
    TT_CHECK(encode(&opt, px, 16, 16, 3, &jb) == THUMB_OK, "encode 16x16");
    free(px);
    long sof = find_marker(jb.p, jb.len, 0xC0);
    TT_CHECK(sof > 0, "SOF0 in our output");
    if (sof > 0) {
        /* claim 65000x65000 */
        jb.p[sof + 5] = 65000 >> 8; jb.p[sof + 6] = 65000 & 255;
        jb.p[sof + 7] = 65000 >> 8; jb.p[sof + 8] = 65000 & 255;
        thumb_ctx ctx = {{0}};
        img im;
        clock_t t0 = clock();
        int rc = decode_ex(jb.p, jb.len, &opt, 8, (win){0}, 0, 0, &ctx, &im);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        TT_CHECK(rc == THUMB_ELIMIT_PIXELS && im.stage == 0, "65000x65000: rc %d stage %d", rc, im.stage);
        TT_CHECK(secs < 0.5, "65000x65000 took %.2f s", secs);
        TT_CHECK(strstr(ctx.detail, "65000x65000") != NULL, "detail '%s'", ctx.detail);
        /* with the limit raised, the header passes (and decoding the fake data fails or not,
         * but the limit is not what stops it) */
        thumb_options big = opt;
        big.max_input_pixels = 65000ull * 65000ull;
        rc = decode_ex(jb.p, jb.len, &big, 0, (win){0}, 0, 0, &ctx, &im);
        TT_CHECK(rc == THUMB_OK && im.hdr.width == 65000, "65000x65000 under a raised limit: rc %d", rc);
    }
    free(jb.p);
}

/* A greyscale progressive JPEG with 1 + 63 + 63 scans: each AC coefficient in its own
 * band, first at Al=1 then refined. Written with libjpeg itself. */
typedef struct lj_err { struct jpeg_error_mgr pub; jmp_buf jb; } lj_err;
static void lj_error_exit(j_common_ptr c) { longjmp(((lj_err *)c->err)->jb, 1); }

static int many_scans_jpeg(membuf *out, int *nscans)
{
    struct jpeg_compress_struct c;
    lj_err err;
    static jpeg_scan_info scans[127];
    int n = 0;
    scans[n++] = (jpeg_scan_info){1, {0}, 0, 0, 0, 0};
    for (int k = 1; k <= 63; k++) scans[n++] = (jpeg_scan_info){1, {0}, k, k, 0, 1};
    for (int k = 1; k <= 63; k++) scans[n++] = (jpeg_scan_info){1, {0}, k, k, 1, 0};
    *nscans = n;
    unsigned char *buf = NULL;
    unsigned long len = 0;
    c.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = lj_error_exit;
    if (setjmp(err.jb)) {
        jpeg_destroy_compress(&c);
        free(buf);
        return -1;
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, &len);
    c.image_width = 32;
    c.image_height = 24;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    c.scan_info = scans;
    c.num_scans = n;
    jpeg_start_compress(&c, TRUE);
    uint8_t row[32];
    while (c.next_scanline < c.image_height) {
        for (int x = 0; x < 32; x++) row[x] = (uint8_t)(x * 7 + c.next_scanline * 5);
        JSAMPROW rp = row;
        jpeg_write_scanlines(&c, &rp, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    out->p = buf;
    out->len = len;
    return 0;
}

static void test_scan_limit(void)
{
    thumb_options opt;
    opts_default(&opt);
    membuf jb;
    int nscans = 0;
    TT_CHECK(many_scans_jpeg(&jb, &nscans) == 0 && nscans == 127, "craft a 127-scan file");
    if (!jb.p) return;
    thumb_ctx ctx = {{0}};
    img im;
    int rc = decode_ex(jb.p, jb.len, &opt, 8, (win){0}, 0, 0, &ctx, &im);
    TT_CHECK(rc == THUMB_ELIMIT_SCANS, "127 scans, limit 100: rc %d '%s'", rc, ctx.detail);
    TT_CHECK(strcmp(ctx.detail, "jpeg: more than 100 progressive scans") == 0, "detail '%s'", ctx.detail);
    free(im.px);
    thumb_options more = opt;
    more.max_jpeg_scans = 127;
    rc = decode(jb.p, jb.len, &more, 8, &im);
    TT_CHECK(rc == THUMB_OK && im.w == 32 && im.h == 24 && im.ch == 1, "127 scans, limit 127: rc %d", rc);
    if (rc == THUMB_OK) {
        int worst = 0;
        for (uint32_t y = 0; y < 24; y++)
            for (uint32_t x = 0; x < 32; x++) {
                int d = abs((int)im.px[y * 32 + x] - (int)(uint8_t)(x * 7 + y * 5));
                if (d > worst) worst = d;
            }
        /* the crafted pattern wraps (sharp edges), so only a loose bound */
        TT_CHECK(worst < 128, "127-scan decode off by %d", worst);
        free(im.px);
    }
    free(jb.p);
}

static void test_frame_limit(void)
{
    thumb_options opt;
    opts_default(&opt);
    opt.max_frame_bytes = 20000; /* video-001 progressive needs about 3 * 19*13*128 + ... */
    size_t len;
    uint8_t *prog = load("jpeg-variants/video-001.progressive.jpeg", &len);
    if (prog) {
        thumb_ctx ctx = {{0}};
        img im;
        int rc = decode_ex(prog, len, &opt, 8, (win){0}, 0, 0, &ctx, &im);
        TT_CHECK(rc == THUMB_ELIMIT_MEMORY && im.stage == 1, "progressive over frame limit: rc %d stage %d", rc, im.stage);
        free(im.px);
        /* header only still works: thumb_info needs no frame */
        rc = decode_ex(prog, len, &opt, 0, (win){0}, 0, 0, &ctx, &im);
        TT_CHECK(rc == THUMB_OK, "progressive header under a frame limit: rc %d", rc);
        free(prog);
    }
    uint8_t *base = load("jpeg-variants/video-001.jpeg", &len);
    if (base) {
        img im;
        int rc = decode(base, len, &opt, 8, &im);
        TT_CHECK(rc == THUMB_OK, "baseline needs no frame: rc %d", rc);
        free(im.px);
        free(base);
    }
}

/* Our encoder's output with extra segments spliced in after JFIF APP0. */
static membuf with_segments(const uint8_t *segs, size_t segs_len)
{
    thumb_options opt;
    opts_default(&opt);
    uint8_t *px = gradient(40, 30, 3);
    membuf jb = {0}, out = {0};
    encode(&opt, px, 40, 30, 3, &jb);
    free(px);
    if (!jb.p) return out;
    size_t at = 2 + 2 + ((size_t)jb.p[4] << 8 | jb.p[5]); /* SOI, APP0 */
    out.len = jb.len + segs_len;
    out.p = malloc(out.len);
    memcpy(out.p, jb.p, at);
    memcpy(out.p + at, segs, segs_len);
    memcpy(out.p + at + segs_len, jb.p + at, jb.len - at);
    free(jb.p);
    return out;
}

static size_t put_segment(uint8_t *dst, int marker, const uint8_t *head, size_t head_len, const uint8_t *body,
                          size_t body_len)
{
    size_t len = 2 + head_len + body_len;
    dst[0] = 0xFF; dst[1] = (uint8_t)marker; dst[2] = (uint8_t)(len >> 8); dst[3] = (uint8_t)len;
    memcpy(dst + 4, head, head_len);
    if (body_len) memcpy(dst + 4 + head_len, body, body_len);
    return 2 + len;
}

static size_t put_icc(uint8_t *dst, int seq, int count, const uint8_t *body, size_t n)
{
    uint8_t head[14];
    memcpy(head, "ICC_PROFILE\0", 12);
    head[12] = (uint8_t)seq;
    head[13] = (uint8_t)count;
    return put_segment(dst, 0xE2, head, 14, body, n);
}

static void test_metadata_markers(void)
{
    thumb_options opt;
    opts_default(&opt);
    const size_t N = 70000, H1 = 40000;
    uint8_t *prof = malloc(N);
    for (size_t i = 0; i < N; i++) prof[i] = (uint8_t)(i * 131 + (i >> 8));
    uint8_t *segs = malloc(4 * 65536);
    img im;
    thumb_ctx ctx = {{0}};

    /* two segments stored in reverse order are joined in sequence order */
    size_t n = put_icc(segs, 2, 2, prof + H1, N - H1);
    n += put_icc(segs + n, 1, 2, prof, H1);
    membuf f = with_segments(segs, n);
    int rc = decode_ex(f.p, f.len, &opt, 8, (win){0}, 0, 0, &ctx, &im);
    TT_CHECK(rc == THUMB_OK && im.icc_len == N && im.icc_hash == fnv(prof, N), "ICC 2 segments: rc %d len %u", rc, im.icc_len);
    free(im.px);
    /* the same through the stream source (segments straddle 64 KiB refills) */
    rc = decode_ex(f.p, f.len, &opt, 0, (win){0}, 0, 1000, &ctx, &im);
    TT_CHECK(rc == THUMB_OK && im.icc_len == N && im.icc_hash == fnv(prof, N), "ICC 2 segments, stream: rc %d", rc);
    /* over max_icc_bytes */
    thumb_options small = opt;
    small.max_icc_bytes = (uint32_t)N - 1;
    rc = decode_ex(f.p, f.len, &small, 0, (win){0}, 0, 0, &ctx, &im);
    TT_CHECK(rc == THUMB_ELIMIT_CHUNK, "ICC over limit: rc %d", rc);
    small.max_icc_bytes = (uint32_t)N;
    rc = decode_ex(f.p, f.len, &small, 0, (win){0}, 0, 0, &ctx, &im);
    TT_CHECK(rc == THUMB_OK && im.icc_len == N, "ICC at the limit: rc %d", rc);
    free(f.p);

    /* a duplicate segment, or a missing one: no profile, but the image decodes */
    n = put_icc(segs, 1, 2, prof, H1);
    n += put_icc(segs + n, 1, 2, prof, H1);
    n += put_icc(segs + n, 2, 2, prof + H1, N - H1);
    f = with_segments(segs, n);
    rc = decode_ex(f.p, f.len, &opt, 8, (win){0}, 0, 0, &ctx, &im);
    TT_CHECK(rc == THUMB_OK && im.icc_len == 0, "ICC duplicate: rc %d len %u", rc, im.icc_len);
    free(im.px);
    free(f.p);
    n = put_icc(segs, 1, 3, prof, H1);
    n += put_icc(segs + n, 3, 3, prof + H1, N - H1);
    f = with_segments(segs, n);
    rc = decode_ex(f.p, f.len, &opt, 8, (win){0}, 0, 0, &ctx, &im);
    TT_CHECK(rc == THUMB_OK && im.icc_len == 0, "ICC missing segment: rc %d len %u", rc, im.icc_len);
    free(im.px);
    free(f.p);

    /* EXIF after an XMP APP1, then a second EXIF that must be ignored */
    static const uint8_t tiff3[] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0};
    static const uint8_t tiff6[] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0};
    static const char xmp[] = "http://ns.adobe.com/xap/1.0/";
    n = put_segment(segs, 0xE1, (const uint8_t *)xmp, sizeof xmp, (const uint8_t *)"<x:xmpmeta/>", 12);
    n += put_segment(segs + n, 0xE1, (const uint8_t *)"Exif\0\0", 6, tiff3, sizeof tiff3);
    n += put_segment(segs + n, 0xE1, (const uint8_t *)"Exif\0\0", 6, tiff6, sizeof tiff6);
    f = with_segments(segs, n);
    rc = decode_ex(f.p, f.len, &opt, 0, (win){0}, 0, 0, &ctx, &im);
    TT_CHECK(rc == THUMB_OK && im.hdr.has_exif && im.hdr.orientation == 3, "EXIF: rc %d orientation %d", rc, im.hdr.orientation);
    free(f.p);

    /* an APP1 whose length field runs past the end of the file */
    n = put_segment(segs, 0xE1, (const uint8_t *)"Exif\0\0", 6, tiff3, sizeof tiff3);
    segs[2] = 0xFF;
    f = with_segments(segs, n);
    f.len = 20 + n; /* cut right after the broken segment */
    rc = decode_ex(f.p, f.len, &opt, 0, (win){0}, 0, 0, &ctx, &im);
    TT_CHECK(rc == THUMB_ETRUNCATED, "APP1 past the end: rc %d", rc);
    free(f.p);

    /* thousands of big APP1/APP2 markers are skipped, not kept */
    size_t big = 3000 * (size_t)(4 + 60000);
    uint8_t *many = malloc(big);
    memset(prof, 'x', 60000 - 14);
    n = 0;
    for (int i = 0; i < 3000; i++)
        n += i & 1 ? put_segment(many + n, 0xE1, (const uint8_t *)xmp, sizeof xmp, prof, 60000 - 2 - sizeof xmp)
                   : put_segment(many + n, 0xE2, (const uint8_t *)"NOT_A_PROFILE", 14, prof, 60000 - 16);
    f = with_segments(many, n);
    free(many);
    clock_t t0 = clock();
    rc = decode_ex(f.p, f.len, &opt, 8, (win){0}, 0, 0, &ctx, &im);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    TT_CHECK(rc == THUMB_OK && im.icc_len == 0 && !im.hdr.has_exif, "3000 big markers: rc %d", rc);
    TT_CHECK(secs < 2, "3000 big markers took %.2f s", secs);
    free(im.px);
    free(f.p);
    free(segs);
    free(prof);
}

/* ---------------------------------------------------------------- crop windows */

static void check_crop(const char *rel, const uint8_t *data, size_t len, int scale, win w)
{
    thumb_options opt;
    opts_default(&opt);
    img full, part;
    thumb_ctx ctx = {{0}};
    int rc = decode(data, len, &opt, scale, &full);
    TT_CHECK(rc == THUMB_OK, "%s full decode at %d: rc %d", rel, scale, rc);
    if (rc != THUMB_OK) return;
    if (w.x1 > full.w) w.x1 = full.w;
    if (w.y1 > full.h) w.y1 = full.h;
    rc = decode_ex(data, len, &opt, scale, w, 0, 0, &ctx, &part);
    TT_CHECK(rc == THUMB_OK, "%s window at %d: rc %d '%s'", rel, scale, rc, ctx.detail);
    if (rc == THUMB_OK) {
        TT_CHECK(part.x0 <= w.x0 && part.x0 + part.w >= w.x1 && part.y0 == w.y0 && part.h == w.y1 - w.y0,
                 "%s window: asked [%u,%u)x[%u,%u), got x0 %u w %u y0 %u h %u", rel, w.x0, w.x1, w.y0, w.y1, part.x0,
                 part.w, part.y0, part.h);
        TT_CHECK(part.x0 + part.w <= full.w, "%s window past the right edge", rel);
        long bad = 0;
        int ch = full.ch;
        for (uint32_t y = 0; y < part.h && part.x0 + part.w <= full.w; y++) {
            const uint8_t *a = part.px + (size_t)y * part.w * (size_t)ch;
            const uint8_t *b = full.px + ((size_t)(part.y0 + y) * full.w + part.x0) * (size_t)ch;
            for (size_t i = 0; i < (size_t)part.w * (size_t)ch; i++) bad += a[i] != b[i];
        }
        TT_CHECK(bad == 0, "%s scale %d window [%u,%u)x[%u,%u): %ld samples differ from the full decode", rel, scale,
                 w.x0, w.x1, w.y0, w.y1, bad);
        free(part.px);
    }
    free(full.px);
}

static void test_crop(void)
{
    static const char *files[] = {
        "jpeg-variants/video-001.jpeg",            "jpeg-variants/video-001.progressive.jpeg",
        "jpeg-variants/video-001.q50.422.jpeg",    "jpeg-variants/video-001.q50.440.jpeg",
        "jpeg-variants/video-001.q50.411.jpeg",    "jpeg-variants/video-005.gray.q50.2x2.jpeg",
        "jpeg-variants/video-001.cmyk.jpeg",       "jpeg-variants/video-001.q50.444.progressive.jpeg",
    };
    static const win wins[] = {
        {1, 37, 91, 13, 77}, {1, 0, 40, 0, 30}, {1, 100, 150, 60, 103}, {1, 17, 18, 50, 51},
        {1, 5, 149, 1, 102}, /* wide: no crop_scanline */
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        uint8_t *data = load(files[f], &len);
        if (!data) { TT_CHECK(0, "%s", files[f]); continue; }
        for (int s = 8; s >= 2; s /= 2)
            for (size_t i = 0; i < sizeof wins / sizeof wins[0]; i++) {
                win w = wins[i];
                w.x0 = w.x0 * (uint32_t)s / 8; w.x1 = (w.x1 * (uint32_t)s + 7) / 8;
                w.y0 = w.y0 * (uint32_t)s / 8; w.y1 = (w.y1 * (uint32_t)s + 7) / 8;
                if (w.x1 <= w.x0) w.x1 = w.x0 + 1;
                if (w.y1 <= w.y0) w.y1 = w.y0 + 1;
                check_crop(files[f], data, len, s, w);
            }
        free(data);
    }
    /* a big 4:2:0 photo, a window in the middle, at full and 1/2 scale */
    size_t len;
    uint8_t *data = load("photos/2569067123_aca715a2ee_o.jpg", &len);
    if (data) {
        check_crop("big photo", data, len, 8, (win){1, 1001, 1333, 700, 777});
        check_crop("big photo", data, len, 4, (win){1, 123, 555, 900, 1000});
        /* stream mode (64 KiB refills, odd chunking) gives the same pixels as memory mode */
        thumb_options opt;
        opts_default(&opt);
        img a, b;
        thumb_ctx ctx = {{0}};
        int ra = decode(data, len, &opt, 1, &a);
        int rb = decode_ex(data, len, &opt, 1, (win){0}, 0, 777, &ctx, &b);
        TT_CHECK(ra == THUMB_OK && rb == THUMB_OK && a.w == 341 && a.h == 279, "big photo at 1/8: %d %d %ux%u", ra, rb, a.w, a.h);
        if (ra == THUMB_OK && rb == THUMB_OK)
            TT_CHECK(a.w == b.w && a.h == b.h && memcmp(a.px, b.px, (size_t)a.w * a.h * 3) == 0, "stream == memory");
        free(a.px);
        free(b.px);
        free(data);
    }
}

/* ---------------------------------------------------------------- encoder */

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        se += d * d;
    }
    if (se == 0) return 99;
    return 10 * log10(255.0 * 255.0 / (se / (double)n));
}

static void check_markers(const membuf *jb, int progressive, int ch, int chroma, const char *what)
{
    TT_CHECK(jb->len > 4 && jb->p[0] == 0xFF && jb->p[1] == 0xD8, "%s: SOI", what);
    TT_CHECK(jb->p[jb->len - 2] == 0xFF && jb->p[jb->len - 1] == 0xD9, "%s: EOI", what);
    long app0 = find_marker(jb->p, jb->len, 0xE0);
    TT_CHECK(app0 == 2 && memcmp(jb->p + app0 + 4, "JFIF\0", 5) == 0, "%s: JFIF APP0 first", what);
    for (int m = 0xE1; m <= 0xEF; m++)
        TT_CHECK(find_marker(jb->p, jb->len, m) < 0, "%s: APP%d present", what, m - 0xE0);
    TT_CHECK(find_marker(jb->p, jb->len, 0xFE) < 0, "%s: COM present", what);
    long sof = find_marker(jb->p, jb->len, progressive ? 0xC2 : 0xC0);
    TT_CHECK(sof > 0, "%s: SOF%d missing", what, progressive ? 2 : 0);
    if (sof > 0) {
        TT_CHECK(jb->p[sof + 9] == ch, "%s: %d components", what, jb->p[sof + 9]);
        int samp = jb->p[sof + 11];
        TT_CHECK(ch == 1 || samp == (chroma == THUMB_CHROMA_444 ? 0x11 : 0x22), "%s: luma sampling %#x", what, samp);
    }
}

static int failing_writer(void *user, const void *buf, size_t n);

static void test_encoder(void)
{
    const uint32_t W = 97, H = 61;
    for (int ch = 1; ch <= 3; ch += 2)
        for (int chroma = 0; chroma < 2; chroma++)
            for (int prog = 0; prog < 2; prog++) {
                char what[64];
                snprintf(what, sizeof what, "ch %d %s %s", ch, chroma ? "444" : "420", prog ? "progressive" : "baseline");
                thumb_options opt;
                opts_default(&opt);
                opt.quality = 90;
                opt.chroma = chroma;
                opt.progressive = prog;
                opt.optimize_coding = (ch + chroma) & 1;
                uint8_t *px = gradient(W, H, ch);
                membuf jb = {0};
                int rc = encode(&opt, px, W, H, ch, &jb);
                TT_CHECK(rc == THUMB_OK && jb.len > 100, "%s: encode rc %d len %zu", what, rc, jb.len);
                if (rc == THUMB_OK) {
                    check_markers(&jb, prog, ch, chroma, what);
                    img im;
                    rc = decode(jb.p, jb.len, &opt, 8, &im);
                    TT_CHECK(rc == THUMB_OK && im.w == W && im.h == H && im.ch == ch, "%s: decode back rc %d %ux%u ch %d", what,
                             rc, im.w, im.h, im.ch);
                    TT_CHECK(im.hdr.progressive == prog, "%s: progressive flag %d", what, im.hdr.progressive);
                    if (rc == THUMB_OK) {
                        double p = psnr(px, im.px, (size_t)W * H * (size_t)ch);
                        TT_CHECK(p > 35, "%s: PSNR %.1f dB", what, p);
                        free(im.px);
                    }
                }
                free(jb.p);
                /* noise: every path still round-trips */
                for (size_t i = 0; i < (size_t)W * H * (size_t)ch; i++) px[i] = (uint8_t)(rand() >> 7);
                jb = (membuf){0};
                rc = encode(&opt, px, W, H, ch, &jb);
                TT_CHECK(rc == THUMB_OK, "%s noise: encode rc %d", what, rc);
                if (rc == THUMB_OK) {
                    img im;
                    rc = decode(jb.p, jb.len, &opt, 8, &im);
                    TT_CHECK(rc == THUMB_OK && im.w == W && im.h == H, "%s noise: decode back rc %d", what, rc);
                    free(im.px);
                }
                free(jb.p);
                free(px);
            }

    /* quality is honoured: q20 is smaller than q95 */
    thumb_options opt;
    opts_default(&opt);
    uint8_t *px = gradient(200, 150, 3);
    membuf lo = {0}, hi = {0};
    opt.quality = 20;
    encode(&opt, px, 200, 150, 3, &lo);
    opt.quality = 95;
    encode(&opt, px, 200, 150, 3, &hi);
    TT_CHECK(lo.len > 0 && hi.len > lo.len, "q20 %zu bytes, q95 %zu bytes", lo.len, hi.len);
    free(lo.p);
    free(hi.p);

    /* a large enough output to need several 64 KiB blocks, through a failing writer */
    uint8_t *noise = malloc(512 * 512 * 3);
    for (size_t i = 0; i < 512 * 512 * 3; i++) noise[i] = (uint8_t)(rand() >> 5);
    thumb_ctx ctx = {{0}};
    tsink sink;
    memset(&sink, 0, sizeof sink);
    sink.ctx = &ctx;
    sink.write = NULL;
    opt.quality = 100;
    int rc = thumb__jpeg_encode(&ctx, &opt, noise, 512, 512, 3, 512 * 3, &sink);
    TT_CHECK(rc == THUMB_OK && sink.len > 3 * 65536, "big encode: rc %d, %zu bytes", rc, sink.len);
    free(sink.buf);
    memset(&sink, 0, sizeof sink);
    sink.ctx = &ctx;
    /* a failing callback */
    int calls = 0;
    sink.user = &calls;
    sink.write = failing_writer;
    rc = thumb__jpeg_encode(&ctx, &opt, noise, 512, 512, 3, 512 * 3, &sink);
    TT_CHECK(rc == THUMB_ECALLBACK && calls == 2, "failing writer: rc %d after %d calls", rc, calls);
    free(noise);

    /* embed_srgb_profile: JFIF APP0, then the profile as APP2 ICC_PROFILE, nothing else */
    {
        thumb_options o2;
        opts_default(&o2);
        o2.embed_srgb_profile = 1;
        membuf jb = {0};
        rc = encode(&o2, px, 200, 150, 3, &jb);
        TT_CHECK(rc == THUMB_OK, "encode with sRGB profile: rc %d", rc);
        long app2 = find_marker(jb.p, jb.len, 0xE2);
        TT_CHECK(app2 > 0 && memcmp(jb.p + app2 + 4, "ICC_PROFILE\0\1\1", 14) == 0, "APP2 ICC_PROFILE 1/1");
        TT_CHECK(find_marker(jb.p, jb.len, 0xE1) < 0 && find_marker(jb.p, jb.len, 0xFE) < 0, "no APP1/COM with a profile");
        const uint8_t *srgb;
        size_t srgb_len;
        TT_CHECK(thumb__srgb_profile(&srgb, &srgb_len) == THUMB_OK, "sRGB profile available");
        thumb_ctx c3 = {{0}};
        img back;
        rc = decode_ex(jb.p, jb.len, &o2, 0, (win){0}, 0, 0, &c3, &back);
        TT_CHECK(rc == THUMB_OK && back.icc_len == srgb_len && srgb_len >= 40 && memcmp(back.icc_head, srgb, 40) == 0,
                 "sRGB profile round trip: rc %d, %u of %zu bytes", rc, back.icc_len, srgb_len);
        free(jb.p);
        /* without the option: no APP2 */
        jb = (membuf){0};
        o2.embed_srgb_profile = 0;
        encode(&o2, px, 200, 150, 3, &jb);
        TT_CHECK(jb.len > 0 && find_marker(jb.p, jb.len, 0xE2) < 0, "no profile unless asked");
        free(jb.p);
    }

    /* bad arguments */
    TT_CHECK(thumb__jpeg_encode(&ctx, &opt, px, 200, 150, 4, 800, &sink) == THUMB_EINVAL, "4 channels");
    TT_CHECK(thumb__jpeg_encode(&ctx, &opt, px, 0, 150, 3, 600, &sink) == THUMB_EINVAL, "zero width");
    TT_CHECK(thumb__jpeg_encode(&ctx, &opt, px, 200, 150, 3, 100, &sink) == THUMB_EINVAL, "short stride");
    free(px);
}

/* succeeds once, then fails */
static int failing_writer(void *user, const void *buf, size_t n)
{
    (void)buf;
    (void)n;
    int *calls = user;
    return ++*calls > 1 ? -1 : 0;
}

int main(void)
{
    test_variants_scales();
    test_variants_pixels();
    test_cmyk();
    test_grey_and_exif();
    test_truncated_and_corrupt();
    test_pixel_limit();
    test_scan_limit();
    test_frame_limit();
    test_metadata_markers();
    test_crop();
    test_encoder();
    return tt_report(__FILE__);
}
