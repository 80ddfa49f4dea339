/* The JPEG-out pipeline feeds the encoder row by row from the resampler (no output canvas).
 * The output must be the same bytes as encoding a whole canvas, and a stream sink must see
 * nothing when decoding fails half way (the encoder holds the file until the end). */
#include "internal.h"
#include "ref.h"
#include "tt.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct { size_t calls, bytes; } counter;

static int count_write(void *user, const void *buf, size_t n)
{
    (void)buf;
    counter *c = user;
    c->calls++;
    c->bytes += n;
    return 0;
}

typedef struct { const uint8_t *p; size_t n, pos; } reader;

static int64_t read_mem(void *user, void *buf, size_t n)
{
    reader *r = user;
    size_t k = r->n - r->pos < n ? r->n - r->pos : n;
    memcpy(buf, r->p + r->pos, k);
    r->pos += k;
    return (int64_t)k;
}

/* A JPEG back to RGB through the library's decoder (RGB rows, full scale); NULL unless it is
 * w x h. */
static uint8_t *decode_rgb_wh(thumb_ctx *ctx, const void *p, size_t n, uint32_t w, uint32_t h)
{
    thumb_options raw;
    thumb_options_init(&raw);
    tsrc src;
    tsrc_init_mem(&src, ctx, p, n, 0);
    tdec *d = NULL;
    uint8_t *px = NULL;
    if (thumb__jpeg_open(&d, ctx, &raw, &src) != THUMB_OK)
        return NULL;
    tdec_request req = {.scale_num = 8, .x0 = 0, .x1 = d->hdr.width, .y0 = 0, .y1 = d->hdr.height};
    int rc = d->ops->start(d, &req);
    if (rc == THUMB_OK && d->channels == 3 && d->w == w && d->h == h && !d->ycc && (px = malloc((size_t)w * h * 3)))
        for (uint32_t y = 0; rc == THUMB_OK && y < h; y++) {
            const uint8_t *row;
            rc = d->ops->next_row(d, &row);
            if (rc == THUMB_OK) memcpy(px + (size_t)y * w * 3, row, (size_t)w * 3);
        }
    d->ops->destroy(d);
    if (rc != THUMB_OK) {
        free(px);
        return NULL;
    }
    return px;
}

/* jpg with an EXIF APP1 segment holding orientation o spliced in after SOI */
static uint8_t *with_orientation(const uint8_t *jpg, size_t n, int o, size_t *out_n)
{
    static const uint8_t tiff[] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    size_t seg = 2 + 2 + 6 + sizeof tiff;
    uint8_t *p = malloc(n + seg);
    if (!p || n < 2)
        return free(p), NULL;
    uint8_t *q = p;
    memcpy(q, jpg, 2); /* SOI */
    q += 2;
    *q++ = 0xFF;
    *q++ = 0xE1;
    *q++ = (uint8_t)((seg - 2) >> 8);
    *q++ = (uint8_t)(seg - 2);
    memcpy(q, "Exif\0\0", 6);
    q += 6;
    memcpy(q, tiff, sizeof tiff);
    q[19] = (uint8_t)o; /* the SHORT value, big-endian, in the entry's value field */
    q += sizeof tiff;
    memcpy(q, jpg + 2, n - 2);
    *out_n = n + seg;
    return p;
}

static uint8_t *decode_rgb(thumb_ctx *ctx, const void *p, size_t n)
{
    return decode_rgb_wh(ctx, p, n, 512, 512);
}

/* PSNR of two w x h RGB images */
static double psnr_rgb(const uint8_t *a, const uint8_t *b, uint32_t w, uint32_t h, int *maxd)
{
    double se = 0;
    *maxd = 0;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        int dlt = a[i] - b[i];
        se += dlt * dlt;
        *maxd = abs(dlt) > *maxd ? abs(dlt) : *maxd;
    }
    return se > 0 ? 10 * log10(255.0 * 255.0 * (double)w * h * 3 / se) : 99;
}

/* A w x h job with fit twice: with the test knob *knob set (the path it turns off not taken),
 * then clear. */
static void two_runs(thumb_ctx *ctx, const uint8_t *in, size_t n, uint32_t w, uint32_t h, int fit, int *knob,
                     void **p0, size_t *n0, int *r0, void **p1, size_t *n1, int *r1)
{
    thumb_options opt, *q = &opt;
    thumb_options_init(q);
    q->width = w;
    q->height = h;
    q->fit = fit;
    *p0 = *p1 = NULL;
    *n0 = *n1 = 0;
    *knob = 1;
    *r0 = thumb_thumbnail_mem(ctx, in, n, q, p0, n0);
    *knob = 0;
    *r1 = thumb_thumbnail_mem(ctx, in, n, q, p1, n1);
}

int main(void)
{
    size_t len = 0;
    uint8_t *data = tt_read_file(tt_corpus("photos/2569067123_aca715a2ee_o.jpg"), &len);
    TT_REQUIRE(data, "avatar input missing");
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o;
    thumb_options_init(&o);
    o.width = o.height = 512;
    o.format = THUMB_FORMAT_JPEG;

    /* streamed (direct path) vs the canvas path's encoder on the same pixels: PNG output of the
     * same job gives the pixels, thumb__jpeg_encode the reference bytes. In RGB: the YCbCr path
     * (checked below) never makes the PNG's pixels. */
    ctx->no_ycc = 1;
    void *jpg = NULL, *png = NULL;
    size_t jn = 0, pn = 0;
    TT_CHECK(thumb_thumbnail_mem(ctx, data, len, &o, &jpg, &jn) == THUMB_OK, "%s", thumb_ctx_detail(ctx));
    thumb_options op = o;
    op.format = THUMB_FORMAT_PNG;
    TT_CHECK(thumb_thumbnail_mem(ctx, data, len, &op, &png, &pn) == THUMB_OK, "%s", thumb_ctx_detail(ctx));
    if (png) {
        void *px = NULL;
        size_t pxn = 0;
        thumb_options raw;
        thumb_options_init(&raw);
        /* decode the PNG back to RGB through libthumb's own decoder at full scale */
        tsrc src;
        tsrc_init_mem(&src, ctx, png, pn, 0);
        tdec *d = NULL;
        int rc = thumb__png_open(&d, ctx, &raw, &src);
        TT_CHECK(rc == THUMB_OK && d, "png open %d", rc);
        if (rc == THUMB_OK) {
            tdec_request req = {.scale_num = 8, .x0 = 0, .x1 = d->hdr.width, .y0 = 0, .y1 = d->hdr.height};
            rc = d->ops->start(d, &req);
            TT_CHECK(rc == THUMB_OK && d->channels == 3 && d->w == 512 && d->h == 512, "png start %d", rc);
            px = malloc(512 * 512 * 3);
            for (uint32_t y = 0; rc == THUMB_OK && y < 512; y++) {
                const uint8_t *row;
                rc = d->ops->next_row(d, &row);
                if (rc == THUMB_OK) memcpy((uint8_t *)px + (size_t)y * 1536, row, 1536);
            }
            pxn = rc == THUMB_OK ? 512 * 512 * 3 : 0;
            d->ops->destroy(d);
        }
        if (pxn) {
            tsink s = {.ctx = ctx};
            TT_CHECK(thumb__jpeg_encode(ctx, &o, px, 512, 512, 3, 1536, &s) == THUMB_OK, "encode");
            TT_CHECK(s.len == jn && memcmp(s.buf, jpg, jn) == 0,
                     "streamed JPEG (%zu bytes) differs from the whole-canvas encode (%zu bytes)", jn, s.len);
            free(s.buf);
        }
        free(px);
    }
    /* the YCbCr path (the default for this job) against the RGB path: the same picture up to
     * rounding */
    ctx->no_ycc = 0;
    void *yjpg = NULL;
    size_t yn = 0;
    TT_CHECK(thumb_thumbnail_mem(ctx, data, len, &o, &yjpg, &yn) == THUMB_OK, "%s", thumb_ctx_detail(ctx));
    if (yjpg && jpg) {
        uint8_t *a = decode_rgb(ctx, jpg, jn), *b = decode_rgb(ctx, yjpg, yn);
        TT_CHECK(a && b, "decode both outputs");
        if (a && b) {
            int maxd;
            double psnr = psnr_rgb(a, b, 512, 512, &maxd);
            fprintf(stderr, "YCbCr path vs RGB path: PSNR %.2f dB, max difference %d (%zu vs %zu bytes)\n", psnr, maxd,
                    yn, jn);
            TT_CHECK(yn != jn || memcmp(yjpg, jpg, jn) != 0, "the YCbCr path was not taken (same bytes as RGB)");
            TT_CHECK(psnr > 40.0, "YCbCr path output strays from the RGB path's: %.2f dB", psnr);
        }
        free(a);
        free(b);
    }
    thumb_free(yjpg);
    thumb_free(jpg);
    thumb_free(png);

    /* every JPEG layout of the corpus, a few sizes, both paths: the same picture up to rounding
     * (the YCbCr path is taken where every component decodes at the output size; elsewhere the
     * two runs are the same path and must be the same bytes) */
    {
        static const char *files[] = {
            "jpeg-variants/video-001.q50.410.jpeg", "jpeg-variants/video-001.q50.411.jpeg",
            "jpeg-variants/video-001.q50.420.jpeg", "jpeg-variants/video-001.q50.422.jpeg",
            "jpeg-variants/video-001.q50.440.jpeg", "jpeg-variants/video-001.q50.444.jpeg",
            "jpeg-variants/video-001.221212.jpeg", "jpeg-variants/video-001.progressive.jpeg",
            "jpeg-variants/video-001.rgb.jpeg", "jpeg-variants/video-005.gray.jpeg",
            "photos/flowers.jpeg", "photos/concert.jpg", "photos/retina.jpg", "photos/hubble_deep_field.jpg",
            "photos/rocket.jpg", "exif/Landscape_1.jpg", "exif/Landscape_6.jpg", "edge/truncated.jpg"};
        static const uint32_t sz[][2] = {{64, 64}, {100, 60}, {37, 91}, {150, 150}, {0, 40}};
        int paths = 0;
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            size_t n;
            uint8_t *in = tt_read_file(tt_corpus(files[f]), &n);
            TT_CHECK(in != NULL, "missing %s", files[f]);
            if (!in)
                continue;
            for (size_t k = 0; k < sizeof sz / sizeof sz[0]; k++) {
                void *p0, *p1;
                size_t n0, n1;
                int r0, r1;
                two_runs(ctx, in, n, sz[k][0], sz[k][1], THUMB_FIT_COVER, &ctx->no_ycc, &p0, &n0, &r0, &p1, &n1, &r1);
                TT_CHECK(r0 == r1, "%s %ux%u: RGB path %d, YCbCr path %d", files[f], sz[k][0], sz[k][1], r0, r1);
                if (r0 == THUMB_OK && r1 == THUMB_OK) {
                    thumb_info i0, i1;
                    thumb_info_init(&i0);
                    thumb_info_init(&i1);
                    TT_CHECK(thumb_info_mem(ctx, p0, n0, NULL, &i0) == THUMB_OK &&
                                 thumb_info_mem(ctx, p1, n1, NULL, &i1) == THUMB_OK && i0.width == i1.width &&
                                 i0.height == i1.height,
                             "%s %ux%u: outputs %ux%u and %ux%u", files[f], sz[k][0], sz[k][1], i0.width, i0.height,
                             i1.width, i1.height);
                    paths += n0 != n1 || memcmp(p0, p1, n0) != 0;
                }
                thumb_free(p0);
                thumb_free(p1);
            }
            free(in);
        }
        fprintf(stderr, "corpus: %d jobs took the YCbCr path\n", paths);
        TT_CHECK(paths > 20, "only %d corpus jobs took the YCbCr path", paths);
    }

    /* 4:2:0 chroma at its own size (the default for a 4:2:0 photo made into a 4:2:0 JPEG) against
     * the same YCbCr path with the chroma scaled up in the IDCT and halved by the encoder: the
     * same picture up to the chroma's resampling (a chroma plane shifted by half a sample, or Cb
     * and Cr swapped, falls far below the bar). The 4:2:0 photos of the corpus, and 4:2:0 JPEGs of
     * odd sizes made here from the corpus's PNGs; crops on either axis, odd output sizes, every
     * fit that neither pads nor turns. */
    {
        typedef struct {
            const char *name;
            uint32_t w, h; /* 0: the file as it is; else a q95 JPEG of this size made from it */
        } src_t;
        static const src_t files[] = {{"photos/2569067123_aca715a2ee_o.jpg", 0, 0},
                                      {"photos/flowers.jpeg", 0, 0},
                                      {"photos/retina.jpg", 0, 0},
                                      {"jpeg-variants/video-001.q50.420.jpeg", 0, 0},
                                      {"photos/astronaut.png", 999, 701},
                                      {"photos/coffee.png", 1201, 803},
                                      {"photos/chelsea.png", 641, 479}};
        static const uint32_t sz[][3] = {{512, 512, 0}, {64, 64, 0}, {101, 37, 0}, {37, 101, 0}, {300, 200, 1},
                                         {33, 17, 0},   {1, 1, 0},   {2, 3, 0},    {150, 150, 2}, {211, 97, 3}};
        int taken = 0;
        double worst = 99;
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            size_t n;
            uint8_t *in = tt_read_file(tt_corpus(files[f].name), &n);
            TT_CHECK(in != NULL, "missing %s", files[f].name);
            if (in && files[f].w) {
                thumb_options mk;
                thumb_options_init(&mk);
                mk.width = files[f].w;
                mk.height = files[f].h;
                mk.fit = THUMB_FIT_FILL;
                mk.quality = 95;
                void *jp = NULL;
                size_t jn2 = 0;
                TT_CHECK(thumb_thumbnail_mem(ctx, in, n, &mk, &jp, &jn2) == THUMB_OK, "make a %ux%u JPEG of %s",
                         files[f].w, files[f].h, files[f].name);
                free(in);
                in = NULL;
                if (jp) {
                    in = malloc(jn2);
                    if (in)
                        memcpy(in, jp, jn2);
                    n = jn2;
                    thumb_free(jp);
                }
            }
            if (!in)
                continue;
            for (size_t k = 0; k < sizeof sz / sizeof sz[0]; k++) {
                int fit = sz[k][2] == 1   ? THUMB_FIT_INSIDE
                          : sz[k][2] == 2 ? THUMB_FIT_FILL
                          : sz[k][2] == 3 ? THUMB_FIT_OUTSIDE
                                          : THUMB_FIT_COVER;
                void *p0, *p1;
                size_t n0, n1;
                int r0, r1;
                two_runs(ctx, in, n, sz[k][0], sz[k][1], fit, &ctx->no_half_chroma, &p0, &n0, &r0, &p1, &n1, &r1);
                TT_CHECK(r0 == THUMB_OK && r1 == THUMB_OK, "%s %ux%u: full chroma %d, half %d", files[f].name,
                         sz[k][0], sz[k][1], r0, r1);
                thumb_info i0;
                thumb_info_init(&i0);
                if (r0 == THUMB_OK && r1 == THUMB_OK && thumb_info_mem(ctx, p0, n0, NULL, &i0) == THUMB_OK) {
                    uint8_t *a = decode_rgb_wh(ctx, p0, n0, i0.width, i0.height);
                    uint8_t *b = decode_rgb_wh(ctx, p1, n1, i0.width, i0.height);
                    TT_CHECK(a && b, "%s %ux%u: decode both outputs (%ux%u)", files[f].name, sz[k][0], sz[k][1],
                             i0.width, i0.height);
                    if (a && b && (n0 != n1 || memcmp(p0, p1, n0) != 0)) {
                        int maxd;
                        double psnr = psnr_rgb(a, b, i0.width, i0.height, &maxd);
                        taken++;
                        /* tiny outputs average whole chroma blocks differently; the bar is for
                         * pictures, and tightest at 512x512 from photos, where a chroma plane
                         * off by a quarter of a sample loses 2.7-3.3 dB (49.1 -> 46.4 on the
                         * avatar, 49.2 -> 45.9 on retina) */
                        uint32_t area = i0.width * i0.height;
                        double bar = area >= 250000 ? 48.0 : area >= 1000 ? 37.0 : 28.0;
                        if (i0.width * i0.height >= 1000)
                            worst = psnr < worst ? psnr : worst;
                        TT_CHECK(psnr > bar, "%s %ux%u: half-size chroma strays from full-size: %.2f dB (max %d)",
                                 files[f].name, i0.width, i0.height, psnr, maxd);
                        if (getenv("TT_VERBOSE") || sz[k][0] == 512)
                            fprintf(stderr, "%s %ux%u: half-size chroma vs full-size PSNR %.2f dB, max %d\n",
                                    files[f].name, i0.width, i0.height, psnr, maxd);
                    }
                    free(a);
                    free(b);
                }
                thumb_free(p0);
                thumb_free(p1);
            }
            free(in);
        }
        fprintf(stderr, "corpus: %d jobs took the half-size chroma path, lowest PSNR of the pictures %.2f dB\n",
                taken, worst);
        TT_CHECK(taken >= 40, "only %d corpus jobs took the half-size chroma path", taken);
    }

    /* ... and turned: every EXIF orientation of the avatar, odd output sizes (an axis the turn
     * reverses then moves the chroma's sites by half a luma pixel, which the path corrects),
     * against the full-size chroma path */
    for (int n = 1; n <= 8; n++) {
        size_t in_n;
        uint8_t *in = with_orientation(data, len, n, &in_n);
        TT_CHECK(in != NULL, "orientation %d: out of memory", n);
        static const uint32_t osz[][2] = {{511, 509}, {99, 77}, {512, 300}};
        for (size_t k = 0; in && k < sizeof osz / sizeof osz[0]; k++) {
            void *p0, *p1;
            size_t n0, n1;
            int r0, r1;
            uint32_t w = osz[k][0], h = osz[k][1];
            two_runs(ctx, in, in_n, w, h, THUMB_FIT_COVER, &ctx->no_half_chroma, &p0, &n0, &r0, &p1, &n1, &r1);
            TT_CHECK(r0 == THUMB_OK && r1 == THUMB_OK, "orientation %d %ux%u: full chroma %d, half %d", n, w, h, r0, r1);
            uint8_t *a = r0 == THUMB_OK ? decode_rgb_wh(ctx, p0, n0, w, h) : NULL;
            uint8_t *b = r1 == THUMB_OK ? decode_rgb_wh(ctx, p1, n1, w, h) : NULL;
            TT_CHECK(a && b, "orientation %d %ux%u: decode both outputs", n, w, h);
            if (a && b) {
                TT_CHECK(n0 != n1 || memcmp(p0, p1, n0) != 0, "orientation %d %ux%u: half-size chroma not taken", n, w,
                         h);
                int maxd;
                double psnr = psnr_rgb(a, b, w, h, &maxd);
                /* measured 48.3-49.1 dB at the big sizes; without the correction for reversed
                 * odd axes 42.3-44.3 */
                double bar = w * h >= 150000 ? 47.0 : 37.0;
                if (getenv("TT_VERBOSE"))
                    fprintf(stderr, "orientation %d %ux%u: half-size chroma vs full-size PSNR %.2f dB\n", n, w, h, psnr);
                TT_CHECK(psnr > bar, "orientation %d %ux%u: half-size chroma strays from full-size: %.2f dB (max %d)",
                         n, w, h, psnr, maxd);
            }
            free(a);
            free(b);
            thumb_free(p0);
            thumb_free(p1);
        }
        free(in);
    }

    /* EXIF-turned photos (what phones upload) take the YCbCr path too: the resized image is
     * turned in YCbCr and encoded from YCbCr. Against the RGB path, each orientation: the same
     * picture up to rounding (a wrong turn, or YCbCr read as RGB, is far below the bar). */
    for (int n = 1; n <= 8; n++) {
        /* the Landscape_N files carry an ICC profile (colour work: RGB); the avatar has none, so
         * it gets an EXIF orientation of n here */
        char rel[64];
        snprintf(rel, sizeof rel, "the avatar turned by EXIF orientation %d", n);
        size_t in_n;
        uint8_t *in = with_orientation(data, len, n, &in_n);
        TT_CHECK(in != NULL, "%s: out of memory", rel);
        if (!in)
            continue;
        thumb_options q;
        thumb_options_init(&q);
        q.width = 160;
        q.height = 200; /* cover: a crop on either side of a turned picture */
        void *p0 = NULL, *p1 = NULL;
        size_t n0 = 0, n1 = 0;
        ctx->no_ycc = 1;
        int r0 = thumb_thumbnail_mem(ctx, in, in_n, &q, &p0, &n0);
        ctx->no_ycc = 0;
        int r1 = thumb_thumbnail_mem(ctx, in, in_n, &q, &p1, &n1);
        TT_CHECK(r0 == THUMB_OK && r1 == THUMB_OK, "%s: RGB path %d, YCbCr path %d", rel, r0, r1);
        if (r0 == THUMB_OK && r1 == THUMB_OK) {
            TT_CHECK(n0 != n1 || memcmp(p0, p1, n0) != 0, "%s: the YCbCr path was not taken", rel);
            uint8_t *a = decode_rgb_wh(ctx, p0, n0, 160, 200), *b = decode_rgb_wh(ctx, p1, n1, 160, 200);
            TT_CHECK(a && b, "%s: decode both outputs (160x200)", rel);
            if (a && b) {
                int maxd;
                double psnr = psnr_rgb(a, b, 160, 200, &maxd);
                fprintf(stderr, "%s: YCbCr path vs RGB path PSNR %.2f dB, max difference %d\n", rel, psnr, maxd);
                TT_CHECK(psnr > 40.0, "%s: YCbCr path strays from the RGB path: %.2f dB", rel, psnr);
                /* both JPEG paths turn rows on their way to the encoder; the PNG path turns a
                 * whole canvas (test_pipeline checks that one sample by sample): the JPEG must
                 * be that picture, up to JPEG's loss */
                thumb_options qp = q;
                qp.format = THUMB_FORMAT_PNG;
                void *pp = NULL;
                size_t pn = 0;
                ref_img png;
                TT_CHECK(thumb_thumbnail_mem(ctx, in, in_n, &qp, &pp, &pn) == THUMB_OK &&
                             ref_decode_png(pp, pn, 0, &png) == 0 && png.w == 160 && png.h == 200,
                         "%s: PNG output", rel);
                if (png.px && png.w == 160 && png.h == 200) {
                    uint8_t *c = malloc(160 * 200 * 3);
                    for (size_t i = 0; c && i < 160 * 200 * 3; i++)
                        c[i] = (uint8_t)png.px[i];
                    double pj = c ? psnr_rgb(c, b, 160, 200, &maxd) : 0;
                    fprintf(stderr, "%s: JPEG (YCbCr path) vs PNG output PSNR %.2f dB\n", rel, pj);
                    TT_CHECK(pj > 30.0, "%s: the JPEG is not the PNG's picture: %.2f dB", rel, pj);
                    free(c);
                }
                ref_img_free(&png);
                thumb_free(pp);
            }
            free(a);
            free(b);
        }
        thumb_free(p0);
        thumb_free(p1);
        free(in);
    }

    /* truncated input: an error, and the write callback never called; an output bigger than
     * the encoder's 64 KB buffer, which would otherwise be flushed half way */
    o.width = o.height = 1400;
    o.quality = 95;
    o.optimize_coding = 0; /* with it on, libjpeg itself writes nothing before the end */
    for (size_t cut = len / 8; cut < len; cut += len / 4) {
        counter c = {0};
        reader r = {data, cut, 0};
        int rc = thumb_thumbnail_stream(ctx, read_mem, &r, &o, count_write, &c);
        TT_CHECK(rc != THUMB_OK, "cut at %zu: success", cut);
        TT_CHECK(c.calls == 0, "cut at %zu: rc %d but %zu bytes written before the error", cut, rc, c.bytes);
    }
    /* whole input through the stream API: written once, whole */
    counter c = {0};
    reader r = {data, len, 0};
    TT_CHECK(thumb_thumbnail_stream(ctx, read_mem, &r, &o, count_write, &c) == THUMB_OK, "%s", thumb_ctx_detail(ctx));
    TT_CHECK(c.bytes > 65536 && c.calls >= 1, "stream wrote %zu bytes", c.bytes);

    thumb_ctx_free(ctx);
    free(data);
    return tt_report("test_streamed_jpeg");
}
