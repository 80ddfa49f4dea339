/* Colour management (libthumb/icc.c) through the public pipeline: expected values come
 * from lcms2 in double precision or from the sRGB formulas, never from a previous run.
 * Inputs are made here (libjpeg, libspng, lcms2) or read from the corpus. */
#include "internal.h"
#include "tt.h"

#include <lcms2.h>
#include <math.h>
#include <spng.h>
#include <stdint.h>

#include <jpeglib.h>

/* TT_REQUIRE for void test functions: record the failure and leave this test. Evaluates
 * cond once (it often decodes). */
#define REQ(cond, ...) do { \
    tt_checks++; \
    if (!(cond)) { \
        tt_failures++; \
        fprintf(stderr, "%s:%d: required check failed: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); \
        fputc('\n', stderr); \
        return; \
    } \
} while (0)

/* ---------------------------------------------------------------- small helpers */

typedef struct buf {
    uint8_t *p;
    size_t n;
} buf;

typedef struct pix {
    uint8_t *px;
    uint32_t w, h;
    int ch;
    uint8_t *icc; /* copy of the embedded profile, or NULL */
    uint32_t icc_len;
    int is_cmyk;
} pix;

static void pix_free(pix *p) {
    free(p->px);
    free(p->icc);
    memset(p, 0, sizeof *p);
}

/* Whole image through the internal decoders at full scale (raw_cmyk: CMYK JPEG as ink). */
static int decode(const uint8_t *data, size_t len, int raw_cmyk, pix *out) {
    memset(out, 0, sizeof *out);
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o;
    thumb_options_init(&o);
    tsrc s;
    tsrc_init_mem(&s, ctx, data, len, 0);
    tdec *d = NULL;
    int fmt = thumb__sniff(data, len);
    int rc = fmt == THUMB_FORMAT_PNG ? thumb__png_open(&d, ctx, &o, &s) : thumb__jpeg_open(&d, ctx, &o, &s);
    if (rc) { thumb_ctx_free(ctx); return rc; }
    tdec_request req = {.scale_num = 8, .x0 = 0, .x1 = d->hdr.width, .y0 = 0, .y1 = d->hdr.height, .raw_cmyk = raw_cmyk};
    rc = d->ops->start(d, &req);
    if (!rc) {
        out->w = d->w;
        out->h = d->h;
        out->ch = d->channels;
        out->is_cmyk = d->hdr.is_cmyk;
        out->px = malloc((size_t)d->w * d->h * d->channels);
        for (uint32_t y = 0; !rc && y < d->h; y++) {
            const uint8_t *row;
            rc = d->ops->next_row(d, &row);
            if (!rc) memcpy(out->px + (size_t)y * d->w * d->channels, row, (size_t)d->w * d->channels);
        }
        if (d->hdr.icc) {
            out->icc = malloc(d->hdr.icc_len);
            memcpy(out->icc, d->hdr.icc, d->hdr.icc_len);
            out->icc_len = d->hdr.icc_len;
        }
    }
    d->ops->destroy(d);
    thumb_ctx_free(ctx);
    if (rc) pix_free(out);
    return rc;
}

/* thumb_thumbnail_mem with fit fill at w x h; colour: enum thumb_colour; stage: 0 or 1 + stage. */
static int thumb(const buf *in, uint32_t w, uint32_t h, int format, int colour, int embed, int stage, buf *out) {
    thumb_ctx *ctx = thumb_ctx_new();
    ctx->colour_stage = stage;
    thumb_options o;
    thumb_options_init(&o);
    o.width = w;
    o.height = h;
    o.fit = THUMB_FIT_FILL;
    o.format = format;
    o.quality = 95;
    o.chroma = THUMB_CHROMA_444;
    o.colour = colour;
    o.embed_srgb_profile = embed;
    void *p = NULL;
    size_t n = 0;
    int rc = thumb_thumbnail_mem(ctx, in->p, in->n, &o, &p, &n);
    if (rc) fprintf(stderr, "thumbnail: %s (%s)\n", thumb_error_name(rc), thumb_ctx_detail(ctx));
    thumb_ctx_free(ctx);
    out->p = p;
    out->n = n;
    return rc;
}

/* thumb() at the input's own size to PNG, decoded back. */
static int thumb_pixels(const buf *in, uint32_t w, uint32_t h, int colour, int stage, pix *out) {
    buf o;
    int rc = thumb(in, w, h, THUMB_FORMAT_PNG, colour, 0, stage, &o);
    if (rc) return rc;
    rc = decode(o.p, o.n, 0, out);
    thumb_free(o.p);
    return rc;
}

static buf save_profile(cmsHPROFILE p) {
    buf b = {0};
    cmsUInt32Number n = 0;
    if (!cmsSaveProfileToMem(p, NULL, &n)) return b;
    b.p = malloc(n);
    if (!cmsSaveProfileToMem(p, b.p, &n)) { free(b.p); b.p = NULL; return b; }
    b.n = n;
    return b;
}

static cmsToneCurve *srgb_trc(void) {
    static const double params[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    return cmsBuildParametricToneCurve(NULL, 4, params);
}

/* Display P3: DCI-P3 primaries, D65 white, the sRGB curve. */
static cmsHPROFILE p3_profile(void) {
    cmsCIExyY d65 = {0.3127, 0.3290, 1.0};
    cmsCIExyYTRIPLE prim = {{0.680, 0.320, 1.0}, {0.265, 0.690, 1.0}, {0.150, 0.060, 1.0}};
    cmsToneCurve *t = srgb_trc();
    cmsToneCurve *c[3] = {t, t, t};
    cmsHPROFILE p = cmsCreateRGBProfile(&d65, &prim, c);
    cmsFreeToneCurve(t);
    return p;
}

static cmsHPROFILE grey_profile(double gamma) {
    cmsToneCurve *t = cmsBuildGamma(NULL, gamma);
    cmsHPROFILE p = cmsCreateGrayProfile(cmsD50_xyY(), t);
    cmsFreeToneCurve(t);
    return p;
}

static double srgb_oetf(double v) {
    if (v <= 0) return 0;
    if (v >= 1) return 1;
    return v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1 / 2.4) - 0.055;
}

static uint8_t to8(double v) { return (uint8_t)lround(fmin(fmax(v, 0.0), 1.0) * 255.0); }

/* ---------------------------------------------------------------- crafting JPEG / PNG */

/* Encode px (w x h, ch 1/3/4; 4 = CMYK as given, adobe: with an Adobe marker) at quality q, 4:4:4,
 * with an ICC profile in APP2 when icc is non-NULL. */
static buf jpeg_make(const uint8_t *px, uint32_t w, uint32_t h, int ch, int q, const buf *icc, int adobe) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned char *mem = NULL;
    unsigned long mlen = 0;
    jpeg_mem_dest(&c, &mem, &mlen);
    c.image_width = w;
    c.image_height = h;
    c.input_components = ch;
    c.in_color_space = ch == 1 ? JCS_GRAYSCALE : ch == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, q, TRUE);
    for (int i = 0; i < c.num_components; i++) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    if (ch == 4) c.write_Adobe_marker = adobe ? TRUE : FALSE;
    jpeg_start_compress(&c, TRUE);
    if (icc && icc->p) jpeg_write_icc_profile(&c, icc->p, (unsigned)icc->n);
    for (uint32_t y = 0; y < h; y++) {
        JSAMPROW r = (JSAMPROW)(px + (size_t)y * w * ch);
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    buf b = {mem, mlen};
    return b;
}

/* A copy of a JPEG with every APP2 ICC_PROFILE segment removed. */
static buf jpeg_strip_icc(const buf *in) {
    buf b = {malloc(in->n), 0};
    size_t i = 2;
    memcpy(b.p, in->p, 2);
    b.n = 2;
    while (i + 4 <= in->n && in->p[i] == 0xFF) {
        int m = in->p[i + 1];
        size_t len = ((size_t)in->p[i + 2] << 8) | in->p[i + 3];
        if (m == 0xDA) break; /* SOS: the rest is copied as is */
        int icc = m == 0xE2 && len >= 16 && i + 4 + 12 <= in->n && !memcmp(in->p + i + 4, "ICC_PROFILE", 12);
        if (!icc) { memcpy(b.p + b.n, in->p + i, len + 2); b.n += len + 2; }
        i += len + 2;
    }
    memcpy(b.p + b.n, in->p + i, in->n - i);
    b.n += in->n - i;
    return b;
}

typedef struct png_chunks {
    const buf *icc;
    uint32_t gama; /* 0 = none */
    int srgb;
    const uint32_t *chrm; /* 8 values or NULL */
} png_chunks;

static buf png_make(const uint8_t *px, uint32_t w, uint32_t h, int ch, const png_chunks *k) {
    spng_ctx *c = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(c, SPNG_ENCODE_TO_BUFFER, 1);
    static const uint8_t ct[5] = {0, SPNG_COLOR_TYPE_GRAYSCALE, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA,
                                  SPNG_COLOR_TYPE_TRUECOLOR, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA};
    struct spng_ihdr ih = {.width = w, .height = h, .bit_depth = 8, .color_type = ct[ch]};
    spng_set_ihdr(c, &ih);
    if (k && k->icc) {
        struct spng_iccp iccp = {.profile_name = "test", .profile_len = k->icc->n, .profile = (char *)k->icc->p};
        spng_set_iccp(c, &iccp);
    }
    if (k && k->gama) spng_set_gama_int(c, k->gama);
    if (k && k->srgb) spng_set_srgb(c, 0);
    if (k && k->chrm) {
        struct spng_chrm_int ci = {k->chrm[0], k->chrm[1], k->chrm[2], k->chrm[3],
                                   k->chrm[4], k->chrm[5], k->chrm[6], k->chrm[7]};
        spng_set_chrm_int(c, &ci);
    }
    int rc = spng_encode_image(c, px, (size_t)w * h * ch, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    buf b = {0};
    int err = 0;
    if (!rc) b.p = spng_get_png_buffer(c, &b.n, &err);
    spng_ctx_free(c);
    return b;
}

/* ---------------------------------------------------------------- synthetic pictures */

/* Flat 8x8-aligned patches (exact through JPEG at q100 4:4:4), every colour of a 6-level
 * cube plus a grey ramp; returns the patch count. */
static uint8_t *patches(uint32_t *w, uint32_t *h) {
    static const uint8_t lv[6] = {0, 51, 102, 153, 204, 255};
    int n = 216 + 16, cols = 16, rows = (n + cols - 1) / cols;
    *w = cols * 8;
    *h = rows * 8;
    uint8_t *px = calloc((size_t)*w * *h * 3, 1);
    for (int i = 0; i < rows * cols; i++) {
        uint8_t r, g, b;
        if (i < 216) { r = lv[i / 36]; g = lv[i / 6 % 6]; b = lv[i % 6]; }
        else { r = g = b = (uint8_t)(i < n ? (i - 216) * 17 : 128); }
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) {
                uint8_t *p = px + (((size_t)(i / cols * 8 + y) * *w) + (size_t)(i % cols * 8 + x)) * 3;
                p[0] = r; p[1] = g; p[2] = b;
            }
    }
    return px;
}

/* Expected sRGB for each pixel of src (RGB or grey) through profile -> sRGB in double precision. */
static uint8_t *lcms_expect(const pix *src, cmsHPROFILE in, int intent) {
    int grey = src->ch == 1;
    cmsHPROFILE out;
    if (grey) {
        cmsToneCurve *t = srgb_trc();
        out = cmsCreateGrayProfile(cmsD50_xyY(), t);
        cmsFreeToneCurve(t);
    } else {
        out = cmsCreate_sRGBProfile();
    }
    cmsHTRANSFORM x = cmsCreateTransform(in, grey ? TYPE_GRAY_DBL : TYPE_RGB_DBL, out, grey ? TYPE_GRAY_DBL : TYPE_RGB_DBL,
                                         intent, cmsFLAGS_BLACKPOINTCOMPENSATION | cmsFLAGS_NOOPTIMIZE);
    cmsCloseProfile(out);
    size_t n = (size_t)src->w * src->h * src->ch;
    uint8_t *e = malloc(n);
    for (size_t i = 0; i < n; i += src->ch) {
        double v[3], r[3];
        for (int c = 0; c < src->ch; c++) v[c] = src->px[i + c] / 255.0;
        cmsDoTransform(x, v, r, 1);
        for (int c = 0; c < src->ch; c++) e[i + c] = to8(r[c]);
    }
    cmsDeleteTransform(x);
    return e;
}

static int max_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > m) m = d;
    }
    return m;
}

static int same_buf(const buf *a, const buf *b) { return a->n == b->n && !memcmp(a->p, b->p, a->n); }

/* ---------------------------------------------------------------- tests */

/* A synthetic Display P3 image, in a PNG (iCCP) and a JPEG (APP2): the converted pixels
 * are lcms2's double-precision values for the pixels as decoded. */
static void test_p3(void) {
    cmsHPROFILE p3 = p3_profile();
    buf icc = save_profile(p3);
    TT_CHECK(icc.p && thumb__icc_is_srgb(icc.p, icc.n) == 0, "the P3 profile is not sRGB");
    uint32_t w, h;
    uint8_t *px = patches(&w, &h);
    png_chunks k = {.icc = &icc};
    buf ins[2] = {png_make(px, w, h, 3, &k), jpeg_make(px, w, h, 3, 100, &icc, 0)};
    const char *names[2] = {"PNG iCCP", "JPEG APP2"};
    for (int f = 0; f < 2; f++) {
        pix kept, conv;
        TT_CHECK(ins[f].p != NULL, "%s made", names[f]);
        if (!ins[f].p) continue;
        /* The unconverted pixels at the same size: KEEP, the decoder's values. */
        if (thumb_pixels(&ins[f], w, h, THUMB_COLOUR_KEEP, 0, &kept) || thumb_pixels(&ins[f], w, h, THUMB_COLOUR_SRGB, 0, &conv)) {
            TT_CHECK(0, "%s: thumbnail failed", names[f]);
            continue;
        }
        TT_CHECK(kept.ch == 3 && conv.ch == 3 && conv.w == w && conv.h == h, "%s: RGB at %ux%u", names[f], w, h);
        size_t n = (size_t)w * h * 3;
        TT_CHECK(max_diff(kept.px, px, n) <= 2, "%s: KEEP gives the stored pixels (max diff %d)", names[f], max_diff(kept.px, px, n));
        uint8_t *want = lcms_expect(&kept, p3, INTENT_RELATIVE_COLORIMETRIC);
        int md = max_diff(conv.px, want, n);
        TT_CHECK(md <= 2, "%s: converted pixels within 2 of lcms2 double precision (max diff %d)", names[f], md);
        TT_CHECK(max_diff(conv.px, kept.px, n) >= 20, "%s: the conversion changed saturated colours", names[f]);
        /* Patch 180 is (255,0,0): P3 red is outside sRGB and clips to sRGB red. Patch 216+8 is grey 136. */
        const uint8_t *red = conv.px + (((size_t)(180 / 16 * 8 + 4) * w) + (180 % 16 * 8 + 4)) * 3;
        TT_CHECK(red[0] >= 250 && red[1] <= 8 && red[2] <= 8, "%s: P3 red -> sRGB red (%d,%d,%d)", names[f], red[0], red[1], red[2]);
        const uint8_t *grey = conv.px + (((size_t)(224 / 16 * 8 + 4) * w) + (224 % 16 * 8 + 4)) * 3;
        const uint8_t *gk = kept.px + (((size_t)(224 / 16 * 8 + 4) * w) + (224 % 16 * 8 + 4)) * 3;
        TT_CHECK(abs(grey[0] - grey[1]) <= 1 && abs(grey[1] - grey[2]) <= 1 && abs(grey[0] - gk[0]) <= 1,
                 "%s: mid grey stays grey (%d,%d,%d from %d)", names[f], grey[0], grey[1], grey[2], gk[0]);
        free(want);
        pix_free(&kept);
        pix_free(&conv);
    }
    /* Where the conversion runs (on the output, or per decoded row) gives the same pixels at 1:1. */
    pix a, b;
    if (!thumb_pixels(&ins[0], w, h, THUMB_COLOUR_SRGB, 1 + THUMB_COLOUR_STAGE_DECODE, &a)) {
        if (!thumb_pixels(&ins[0], w, h, THUMB_COLOUR_SRGB, 1 + THUMB_COLOUR_STAGE_OUTPUT, &b)) {
            TT_CHECK(max_diff(a.px, b.px, (size_t)w * h * 3) == 0, "per-row and on-output agree at 1:1");
            pix_free(&b);
        }
        pix_free(&a);
    }
    /* KEEP is the unconverted path: byte-identical to the same file without its profile. */
    buf stripped = jpeg_strip_icc(&ins[1]), o1, o2;
    TT_CHECK(stripped.n < ins[1].n, "profile stripped");
    if (!thumb(&ins[1], w / 2, h / 2, THUMB_FORMAT_JPEG, THUMB_COLOUR_KEEP, 0, 0, &o1)) {
        if (!thumb(&stripped, w / 2, h / 2, THUMB_FORMAT_JPEG, THUMB_COLOUR_SRGB, 0, 0, &o2)) {
            TT_CHECK(same_buf(&o1, &o2), "KEEP output equals the output of the untagged file");
            thumb_free(o2.p);
        }
        thumb_free(o1.p);
    }
    free(stripped.p);
    free(ins[0].p);
    free(ins[1].p);
    free(px);
    free(icc.p);
    cmsCloseProfile(p3);
}

/* CIE76 between two Lab values. */
static double de76(const cmsCIELab *a, const cmsCIELab *b) {
    double dl = a->L - b->L, da = a->a - b->a, db = a->b - b->b;
    return sqrt(dl * dl + da * da + db * db);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Mean and 99th percentile ΔE76 of an sRGB image against reference Lab values. */
static void de_stats(const pix *rgb, const cmsCIELab *ref, double *mean, double *p99) {
    cmsHPROFILE s = cmsCreate_sRGBProfile(), lab = cmsCreateLab4Profile(NULL);
    cmsHTRANSFORM x = cmsCreateTransform(s, TYPE_RGB_DBL, lab, TYPE_Lab_DBL, INTENT_RELATIVE_COLORIMETRIC, cmsFLAGS_NOOPTIMIZE);
    size_t n = (size_t)rgb->w * rgb->h;
    double *d = malloc(n * sizeof *d), sum = 0;
    for (size_t i = 0; i < n; i++) {
        double v[3] = {rgb->px[3 * i] / 255.0, rgb->px[3 * i + 1] / 255.0, rgb->px[3 * i + 2] / 255.0};
        cmsCIELab l;
        cmsDoTransform(x, v, &l, 1);
        d[i] = de76(&l, &ref[i]);
        sum += d[i];
    }
    qsort(d, n, sizeof *d, cmp_double);
    *mean = sum / n;
    *p99 = d[n * 99 / 100];
    free(d);
    cmsDeleteTransform(x);
    cmsCloseProfile(s);
    cmsCloseProfile(lab);
}

/* The corpus CMYK photo (U.S. Web Coated (SWOP) v2 embedded) against lcms2 in double
 * precision from the raw ink values to Lab, with the intent icc.c uses for a profile with
 * a perceptual table. The bound: mean ΔE76 < 1.5 and 99th percentile < 5. A difference of
 * about 1 is the smallest visible; the 8-bit pipeline adds a 17-point CLUT interpolation, 8-bit
 * rounding and sRGB gamut clipping of the few press colours outside sRGB, which the
 * 99th percentile allows for. The naive formula the decoder uses without a profile must fail it. */
static void test_cmyk_profiled(void) {
    size_t n;
    buf in = {0};
    in.p = tt_read_file(tt_corpus("photos/Channel_digital_image_CMYK_color.jpg"), &n);
    in.n = n;
    REQ(in.p, "corpus CMYK photo");
    pix raw;
    REQ(decode(in.p, in.n, 1, &raw) == 0 && raw.ch == 4 && raw.is_cmyk && raw.icc, "raw CMYK decode with profile");
    cmsHPROFILE prof = cmsOpenProfileFromMem(raw.icc, raw.icc_len), lab = cmsCreateLab4Profile(NULL);
    REQ(prof && cmsGetColorSpace(prof) == cmsSigCmykData, "the embedded profile is CMYK");
    int intent = cmsIsCLUT(prof, INTENT_PERCEPTUAL, LCMS_USED_AS_INPUT) ? INTENT_PERCEPTUAL : INTENT_RELATIVE_COLORIMETRIC;
    cmsHTRANSFORM x = cmsCreateTransform(prof, TYPE_CMYK_DBL, lab, TYPE_Lab_DBL, intent,
                                         cmsFLAGS_BLACKPOINTCOMPENSATION | cmsFLAGS_NOOPTIMIZE);
    REQ(x, "reference transform");
    size_t np = (size_t)raw.w * raw.h;
    cmsCIELab *ref = malloc(np * sizeof *ref);
    for (size_t i = 0; i < np; i++) {
        double ink[4];
        for (int c = 0; c < 4; c++) ink[c] = raw.px[4 * i + c] * 100.0 / 255.0; /* TYPE_CMYK_DBL is 0..100 % */
        cmsDoTransform(x, ink, &ref[i], 1);
    }
    pix ours, naive;
    REQ(thumb_pixels(&in, raw.w, raw.h, THUMB_COLOUR_SRGB, 0, &ours) == 0 && ours.ch == 3 && ours.w == raw.w,
               "libthumb CMYK -> sRGB");
    REQ(thumb_pixels(&in, raw.w, raw.h, THUMB_COLOUR_KEEP, 0, &naive) == 0 && naive.ch == 3, "naive CMYK -> RGB");
    double mean, p99, nmean, np99;
    de_stats(&ours, ref, &mean, &p99);
    de_stats(&naive, ref, &nmean, &np99);
    fprintf(stderr, "CMYK photo vs lcms2 double: mean dE76 %.2f, p99 %.2f; naive formula: mean %.2f, p99 %.2f\n", mean,
            p99, nmean, np99);
    TT_CHECK(mean < 1.5 && p99 < 5.0, "profiled CMYK within the bound (mean %.2f, p99 %.2f)", mean, p99);
    TT_CHECK(!(nmean < 1.5 && np99 < 5.0), "the bound rejects the naive conversion (mean %.2f, p99 %.2f)", nmean, np99);
    free(ref);
    cmsDeleteTransform(x);
    cmsCloseProfile(prof);
    cmsCloseProfile(lab);
    pix_free(&ours);
    pix_free(&naive);
    pix_free(&raw);
    free(in.p);
}

/* CMYK JPEGs without a profile, plain and Adobe-inverted: the naive formula. */
static void test_cmyk_unprofiled(void) {
    static const uint8_t lv[4] = {0, 85, 170, 255};
    uint32_t w = 16 * 8, h = 16 * 8;
    uint8_t *ink = malloc((size_t)w * h * 4), *inv = malloc((size_t)w * h * 4);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            int i = (int)(y / 8 * 16 + x / 8); /* 256 patches: every 4-level C,M,Y,K */
            uint8_t *p = ink + ((size_t)y * w + x) * 4;
            p[0] = lv[i & 3]; p[1] = lv[i >> 2 & 3]; p[2] = lv[i >> 4 & 3]; p[3] = lv[i >> 6 & 3];
            for (int c = 0; c < 4; c++) inv[((size_t)y * w + x) * 4 + c] = (uint8_t)(255 - p[c]);
        }
    buf plain = jpeg_make(ink, w, h, 4, 100, NULL, 0), adobe = jpeg_make(inv, w, h, 4, 100, NULL, 1);
    const buf *ins[2] = {&plain, &adobe};
    pix out[2];
    for (int f = 0; f < 2; f++) {
        thumb_info info;
        thumb_info_init(&info);
        thumb_ctx *ctx = thumb_ctx_new();
        TT_CHECK(thumb_info_mem(ctx, ins[f]->p, ins[f]->n, NULL, &info) == 0 && info.colour_space == 4 && !info.has_icc,
                 "%s: a CMYK JPEG without a profile", f ? "Adobe" : "plain");
        thumb_ctx_free(ctx);
        REQ(thumb_pixels(ins[f], w, h, THUMB_COLOUR_SRGB, 0, &out[f]) == 0 && out[f].ch == 3, "CMYK thumbnail");
        int worst = 0;
        for (size_t i = 0; i < (size_t)w * h; i++) {
            const uint8_t *k = ink + 4 * i;
            for (int c = 0; c < 3; c++) {
                double want = (255.0 - k[c]) * (255.0 - k[3]) / 255.0;
                int d = abs((int)lround(want) - out[f].px[3 * i + c]);
                if (d > worst) worst = d;
            }
        }
        TT_CHECK(worst <= 3, "%s: RGB = (255-ink)(255-K)/255 within 3 (worst %d)", f ? "Adobe" : "plain", worst);
    }
    TT_CHECK(max_diff(out[0].px, out[1].px, (size_t)w * h * 3) <= 2, "Adobe-inverted and plain CMYK agree");
    pix_free(&out[0]);
    pix_free(&out[1]);
    free(plain.p);
    free(adobe.p);
    free(ink);
    free(inv);
}

/* sRGB profiles are recognised and no transform runs; others are not taken for sRGB. */
static void test_srgb_recognition(void) {
    cmsHPROFILE s = cmsCreate_sRGBProfile();
    buf sb = save_profile(s);
    TT_CHECK(thumb__icc_is_srgb(sb.p, sb.n) == 1, "lcms2's sRGB profile is sRGB");
    cmsSetProfileVersion(s, 2.1);
    buf sb2 = save_profile(s);
    TT_CHECK(thumb__icc_is_srgb(sb2.p, sb2.n) == 1, "lcms2's sRGB profile saved as v2 is sRGB");
    const uint8_t *emb;
    size_t emb_len;
    TT_CHECK(thumb__srgb_profile(&emb, &emb_len) == 0 && thumb__icc_is_srgb(emb, emb_len) == 1,
             "the embeddable profile is sRGB (%zu bytes)", emb_len);
    cmsToneCurve *g22 = cmsBuildGamma(NULL, 2.2);
    cmsCIExyY d65 = {0.3127, 0.3290, 1.0};
    cmsCIExyYTRIPLE srgb_prim = {{0.64, 0.33, 1.0}, {0.30, 0.60, 1.0}, {0.15, 0.06, 1.0}};
    cmsToneCurve *c3[3] = {g22, g22, g22};
    cmsHPROFILE g = cmsCreateRGBProfile(&d65, &srgb_prim, c3);
    buf gb = save_profile(g);
    TT_CHECK(thumb__icc_is_srgb(gb.p, gb.n) == 0, "sRGB primaries with a gamma 2.2 curve are not sRGB");
    uint8_t junk[200] = {0};
    TT_CHECK(thumb__icc_is_srgb(junk, sizeof junk) == -1, "garbage is unreadable");
    TT_CHECK(thumb__icc_is_srgb(NULL, 0) == -1, "NULL is unreadable");

    size_t n;
    buf hub = {0}, rocket = {0};
    hub.p = tt_read_file(tt_corpus("photos/hubble_deep_field.jpg"), &n);
    hub.n = n;
    rocket.p = tt_read_file(tt_corpus("photos/rocket.jpg"), &n);
    rocket.n = n;
    REQ(hub.p && rocket.p, "corpus photos");
    pix h;
    if (decode(hub.p, hub.n, 0, &h) == 0) {
        TT_CHECK(h.icc && thumb__icc_is_srgb(h.icc, h.icc_len) == 1, "hubble_deep_field.jpg's v2 profile is sRGB");
        pix_free(&h);
    }
    if (decode(rocket.p, rocket.n, 0, &h) == 0) {
        TT_CHECK(h.icc && thumb__icc_is_srgb(h.icc, h.icc_len) == 0, "rocket.jpg's Adobe RGB (1998) is not sRGB");
        pix_free(&h);
    }
    /* Tagged sRGB == untagged, byte for byte; Adobe RGB is converted, so it differs. */
    buf hs = jpeg_strip_icc(&hub), rs = jpeg_strip_icc(&rocket), a, b;
    if (!thumb(&hub, 300, 200, THUMB_FORMAT_JPEG, THUMB_COLOUR_SRGB, 0, 0, &a)) {
        if (!thumb(&hs, 300, 200, THUMB_FORMAT_JPEG, THUMB_COLOUR_SRGB, 0, 0, &b)) {
            TT_CHECK(same_buf(&a, &b), "sRGB-tagged output is byte-identical to untagged");
            thumb_free(b.p);
        }
        thumb_free(a.p);
    }
    if (!thumb(&rocket, 300, 200, THUMB_FORMAT_JPEG, THUMB_COLOUR_SRGB, 0, 0, &a)) {
        if (!thumb(&rs, 300, 200, THUMB_FORMAT_JPEG, THUMB_COLOUR_SRGB, 0, 0, &b)) {
            TT_CHECK(!same_buf(&a, &b), "Adobe RGB-tagged output is converted");
            thumb_free(b.p);
        }
        thumb_free(a.p);
    }
    /* A profile that does not match the pixels (P3 on a grey JPEG) and an unparseable one are ignored. */
    uint8_t greypx[64 * 64];
    for (int i = 0; i < 64 * 64; i++) greypx[i] = (uint8_t)(i % 64 * 4);
    cmsHPROFILE p3 = p3_profile();
    buf p3b = save_profile(p3);
    buf junkicc = {malloc(300), 300};
    memset(junkicc.p, 0x5a, 300);
    buf gplain = jpeg_make(greypx, 64, 64, 1, 90, NULL, 0), gp3 = jpeg_make(greypx, 64, 64, 1, 90, &p3b, 0),
        gjunk = jpeg_make(greypx, 64, 64, 1, 90, &junkicc, 0), o0, o1;
    if (!thumb(&gplain, 32, 32, THUMB_FORMAT_PNG, THUMB_COLOUR_SRGB, 0, 0, &o0)) {
        if (!thumb(&gp3, 32, 32, THUMB_FORMAT_PNG, THUMB_COLOUR_SRGB, 0, 0, &o1)) {
            TT_CHECK(same_buf(&o0, &o1), "an RGB profile on grey pixels is ignored");
            thumb_free(o1.p);
        } else TT_CHECK(0, "grey JPEG with an RGB profile fails");
        if (!thumb(&gjunk, 32, 32, THUMB_FORMAT_PNG, THUMB_COLOUR_SRGB, 0, 0, &o1)) {
            TT_CHECK(same_buf(&o0, &o1), "an unparseable profile is ignored");
            thumb_free(o1.p);
        } else TT_CHECK(0, "a JPEG with an unparseable profile fails");
        thumb_free(o0.p);
    }
    free(gplain.p); free(gp3.p); free(gjunk.p); free(junkicc.p); free(p3b.p);
    cmsCloseProfile(p3);
    free(hs.p); free(rs.p); free(hub.p); free(rocket.p);
    free(sb.p); free(sb2.p); free(gb.p);
    cmsCloseProfile(s);
    cmsCloseProfile(g);
    cmsFreeToneCurve(g22);
}

/* Grey: concert.jpg's Gray Gamma 2.2 against lcms2 double precision, and a gamma-1.0 grey
 * profile made here against the sRGB formula. */
static void test_grey(void) {
    size_t n;
    buf in = {0};
    in.p = tt_read_file(tt_corpus("photos/concert.jpg"), &n);
    in.n = n;
    REQ(in.p, "concert.jpg");
    pix src, kept, conv;
    REQ(decode(in.p, in.n, 0, &src) == 0 && src.ch == 1 && src.icc, "concert.jpg is grey with a profile");
    cmsHPROFILE gp = cmsOpenProfileFromMem(src.icc, src.icc_len);
    REQ(gp && cmsGetColorSpace(gp) == cmsSigGrayData, "its profile is grey");
    if (!thumb_pixels(&in, src.w, src.h, THUMB_COLOUR_KEEP, 0, &kept) && !thumb_pixels(&in, src.w, src.h, THUMB_COLOUR_SRGB, 0, &conv)) {
        TT_CHECK(kept.ch == 1 && conv.ch == 1, "grey stays one channel");
        uint8_t *want = lcms_expect(&kept, gp, INTENT_RELATIVE_COLORIMETRIC);
        size_t np = (size_t)src.w * src.h;
        int md = max_diff(conv.px, want, np);
        TT_CHECK(md <= 2, "Gray Gamma 2.2 -> sRGB grey within 2 of lcms2 double (max %d)", md);
        TT_CHECK(max_diff(conv.px, kept.px, np) >= 3, "gamma 2.2 grey is converted");
        free(want);
        pix_free(&kept);
        pix_free(&conv);
    } else TT_CHECK(0, "concert.jpg thumbnails");
    cmsCloseProfile(gp);
    pix_free(&src);
    free(in.p);

    /* Gamma 1.0 grey in a PNG iCCP and a JPEG APP2: every value is the sRGB encoding of linear. */
    uint8_t ramp[256 * 8];
    for (int i = 0; i < 256 * 8; i++) ramp[i] = (uint8_t)(i % 256);
    cmsHPROFILE lin = grey_profile(1.0);
    buf lb = save_profile(lin);
    png_chunks k = {.icc = &lb};
    buf pin = png_make(ramp, 256, 8, 1, &k);
    pix o;
    if (!thumb_pixels(&pin, 256, 8, THUMB_COLOUR_SRGB, 0, &o)) {
        int worst = 0;
        for (int i = 0; i < 256; i++) {
            int d = abs(o.px[i] - to8(srgb_oetf(i / 255.0)));
            if (d > worst) worst = d;
        }
        TT_CHECK(worst <= 2, "linear grey -> sRGB within 2 of the formula (worst %d)", worst);
        TT_CHECK(abs(o.px[128] - 188) <= 2, "linear 128 -> about 188 (%d)", o.px[128]);
        pix_free(&o);
    } else TT_CHECK(0, "linear grey PNG");
    cmsCloseProfile(lin);
    free(lb.p);
    free(pin.p);
}

/* PNG gAMA / cHRM / sRGB chunks without iCCP. */
static void test_png_chunks(void) {
    uint32_t w = 256, h = 4;
    uint8_t *rgb = malloc((size_t)w * h * 3), grey[256 * 4];
    for (uint32_t i = 0; i < w * h; i++) {
        rgb[3 * i] = (uint8_t)(i % 256);
        rgb[3 * i + 1] = (uint8_t)(255 - i % 256);
        rgb[3 * i + 2] = (uint8_t)(i % 256 / 2);
        grey[i] = (uint8_t)(i % 256);
    }
    png_chunks lin = {.gama = 100000};
    buf b = png_make(rgb, w, h, 3, &lin);
    pix o;
    if (!thumb_pixels(&b, w, h, THUMB_COLOUR_SRGB, 0, &o)) {
        int worst = 0;
        for (size_t i = 0; i < (size_t)w * h * 3; i++) {
            int d = abs(o.px[i] - to8(srgb_oetf(rgb[i] / 255.0)));
            if (d > worst) worst = d;
        }
        TT_CHECK(worst <= 2, "gAMA 1.0: sRGB encoding of linear values within 2 (worst %d)", worst);
        TT_CHECK(abs(o.px[3 * 128] - 188) <= 2, "gAMA 1.0: 128 -> about 188 (%d)", o.px[3 * 128]);
        pix_free(&o);
    } else TT_CHECK(0, "gAMA 1.0 PNG");
    free(b.p);

    b = png_make(grey, 256, 4, 1, &lin);
    if (!thumb_pixels(&b, 256, 4, THUMB_COLOUR_SRGB, 0, &o)) {
        TT_CHECK(o.ch == 1 && abs(o.px[128] - 188) <= 2, "grey gAMA 1.0: 128 -> about 188 (%d)", o.px[128]);
        pix_free(&o);
    } else TT_CHECK(0, "grey gAMA 1.0 PNG");
    free(b.p);

    /* Untouched: gAMA 1/2.2 alone, an sRGB chunk (even beside gAMA 1.0), no chunk. */
    png_chunks keep[3] = {{.gama = 45455}, {.srgb = 1, .gama = 100000}, {0}};
    const char *kn[3] = {"gAMA 45455", "sRGB + gAMA 1.0", "no chunk"};
    for (int i = 0; i < 3; i++) {
        b = png_make(rgb, w, h, 3, &keep[i]);
        if (!thumb_pixels(&b, w, h, THUMB_COLOUR_SRGB, 0, &o)) {
            TT_CHECK(max_diff(o.px, rgb, (size_t)w * h * 3) == 0, "%s: pixels untouched", kn[i]);
            pix_free(&o);
        } else TT_CHECK(0, "%s PNG", kn[i]);
        free(b.p);
    }

    /* gAMA 1/2.2 with P3's cHRM: honoured, compared with lcms2 on a gamma-2.2 P3 profile. */
    static const uint32_t p3chrm[8] = {31270, 32900, 68000, 32000, 26500, 69000, 15000, 6000};
    png_chunks pc = {.gama = 45455, .chrm = p3chrm};
    b = png_make(rgb, w, h, 3, &pc);
    if (!thumb_pixels(&b, w, h, THUMB_COLOUR_SRGB, 0, &o)) {
        cmsCIExyY d65 = {0.3127, 0.3290, 1.0};
        cmsCIExyYTRIPLE prim = {{0.680, 0.320, 1.0}, {0.265, 0.690, 1.0}, {0.150, 0.060, 1.0}};
        cmsToneCurve *t = cmsBuildGamma(NULL, 100000.0 / 45455);
        cmsToneCurve *c3[3] = {t, t, t};
        cmsHPROFILE p = cmsCreateRGBProfile(&d65, &prim, c3);
        pix src = {.px = rgb, .w = w, .h = h, .ch = 3};
        uint8_t *want = lcms_expect(&src, p, INTENT_RELATIVE_COLORIMETRIC);
        int md = max_diff(o.px, want, (size_t)w * h * 3);
        TT_CHECK(md <= 2, "gAMA + P3 cHRM within 2 of lcms2 double (max %d)", md);
        TT_CHECK(max_diff(o.px, rgb, (size_t)w * h * 3) >= 10, "gAMA + P3 cHRM converts");
        free(want);
        cmsCloseProfile(p);
        cmsFreeToneCurve(t);
        pix_free(&o);
    } else TT_CHECK(0, "cHRM PNG");
    free(b.p);
    free(rgb);
}

/* opt.embed_srgb_profile: an sRGB profile in the output (JPEG APP2, PNG iCCP); none without. */
static void test_embed(void) {
    cmsHPROFILE p3 = p3_profile();
    buf icc = save_profile(p3);
    uint32_t w, h;
    uint8_t *px = patches(&w, &h);
    buf in = jpeg_make(px, w, h, 3, 90, &icc, 0);
    int fmts[2] = {THUMB_FORMAT_JPEG, THUMB_FORMAT_PNG};
    for (int f = 0; f < 2; f++)
        for (int embed = 0; embed <= 1; embed++) {
            buf o;
            if (thumb(&in, 64, 64, fmts[f], THUMB_COLOUR_SRGB, embed, 0, &o)) { TT_CHECK(0, "thumbnail"); continue; }
            TT_CHECK(thumb_sniff(o.p, o.n) == fmts[f], "output format");
            pix d;
            if (decode(o.p, o.n, 0, &d) == 0) {
                if (embed)
                    TT_CHECK(d.icc && thumb__icc_is_srgb(d.icc, d.icc_len) == 1, "%s: embedded profile is sRGB",
                             thumb_format_name(fmts[f]));
                else
                    TT_CHECK(d.icc == NULL, "%s: no profile by default", thumb_format_name(fmts[f]));
                pix_free(&d);
            } else TT_CHECK(0, "output decodes");
            thumb_free(o.p);
        }
    free(in.p);
    free(px);
    free(icc.p);
    cmsCloseProfile(p3);
}

/* A photo-like P3 picture (smooth saturated gradients, texture, hard edges), 1024x768 ->
 * 300x225 (DCT scale 3/8, then Lanczos3): the two placements differ measurably at saturated
 * edges (icc.c records the PSNR), so the library converts this window per decoded row, the
 * reference order; and the two stay close overall (a broken forced path would not). */
static void test_placement(void) {
    uint32_t w = 1024, h = 768;
    uint8_t *px = malloc((size_t)w * h * 3);
    uint32_t seed = 12345;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            seed = seed * 1664525u + 1013904223u;
            int noise = (int)(seed >> 28) - 8;
            double u = x / (double)w, v = y / (double)h;
            double r = 0.5 + 0.5 * sin(6.0 * u + 1.0), g = 0.5 + 0.5 * sin(5.0 * v + 2.0 * u), b = 0.5 + 0.5 * cos(7.0 * u * v);
            if (((x / 64) + (y / 64)) % 5 == 0) { r = 1.0; g = 0.05; b = 0.1; } /* saturated blocks with hard edges */
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)fmin(255, fmax(0, r * 255 + noise));
            p[1] = (uint8_t)fmin(255, fmax(0, g * 255 + noise));
            p[2] = (uint8_t)fmin(255, fmax(0, b * 255 + noise));
        }
    cmsHPROFILE p3 = p3_profile();
    buf icc = save_profile(p3);
    buf in = jpeg_make(px, w, h, 3, 90, &icc, 0);
    pix a, b;
    if (!thumb_pixels(&in, 300, 225, THUMB_COLOUR_SRGB, 1 + THUMB_COLOUR_STAGE_DECODE, &a)) {
        if (!thumb_pixels(&in, 300, 225, THUMB_COLOUR_SRGB, 1 + THUMB_COLOUR_STAGE_OUTPUT, &b)) {
            double se = 0;
            size_t n = (size_t)300 * 225 * 3;
            for (size_t i = 0; i < n; i++) se += ((double)a.px[i] - b.px[i]) * ((double)a.px[i] - b.px[i]);
            double psnr = se ? 10 * log10(255.0 * 255.0 / (se / n)) : 99;
            fprintf(stderr, "placement: per-row vs on-output PSNR %.1f dB\n", psnr);
            TT_CHECK(psnr >= 30.0, "per-row and on-output conversion stay close (PSNR %.1f dB)", psnr);
            pix c;
            if (!thumb_pixels(&in, 300, 225, THUMB_COLOUR_SRGB, 0, &c)) {
                TT_CHECK(max_diff(c.px, a.px, n) == 0, "a 0.8-Mpixel window is converted per decoded row");
                pix_free(&c);
            }
            pix_free(&b);
        }
        pix_free(&a);
    }
    free(in.p);
    free(icc.p);
    free(px);
    cmsCloseProfile(p3);
}

int main(void) {
    test_p3();
    test_cmyk_profiled();
    test_cmyk_unprofiled();
    test_srgb_recognition();
    test_grey();
    test_png_chunks();
    test_embed();
    test_placement();
    return tt_report(__FILE__);
}
