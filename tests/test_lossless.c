/* Lossless JPEG (SOF3, libthumb/jlossless.c): samples exact for every predictor, precision,
 * component count, point transform and restart interval our test encoder (lossless/ljenc.h)
 * writes, through both ways in; the reduction to 8 bits; colour; windows; the public API against
 * the same pixels as a PNG; streaming input; EXIF before SOF3; and the typed errors (12-bit DCT,
 * unsupported processes, bad headers, truncation). The cross-check against libjpeg-turbo 3 is
 * tests/lossless/test_oracle.py. */
#include "internal.h"
#include "jlossless.h"
#include "lossless/ljenc.h"
#include "tt.h"

#include <stdbool.h>

static int known_code(int rc) { return rc >= THUMB_OK && rc < THUMB_ERROR_COUNT_; }

/* Decode every row's stored samples; via jpeg.c (libjpeg up to SOF3) or our own reader. */
static int decode_raw(const uint8_t *d, size_t n, bool via_jpeg, uint16_t **out, tdec_header *hdr, char *detail)
{
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o;
    thumb_options_init(&o);
    tsrc src;
    tdec *dec = NULL;
    int rc;
    if (via_jpeg) {
        tsrc_init_mem(&src, ctx, d, n, 0);
        rc = thumb__jpeg_open(&dec, ctx, &o, &src);
        if (rc == THUMB_OK && !thumb__jll_is(dec))
            rc = THUMB_EINVAL;
    } else {
        rc = thumb__jll_open_mem(&dec, ctx, &o, d, n);
    }
    *out = NULL;
    if (rc == THUMB_OK) {
        *hdr = dec->hdr;
        tdec_request req = {.scale_num = 8, .x1 = dec->hdr.width, .y1 = dec->hdr.height};
        rc = dec->ops->start(dec, &req);
    }
    for (uint32_t y = 0; rc == THUMB_OK && y < dec->hdr.height; y++) {
        const uint16_t *row;
        int nf;
        rc = thumb__jll_next_raw(dec, &row, &nf);
        if (rc != THUMB_OK)
            break;
        size_t rn = (size_t)dec->hdr.width * (size_t)nf;
        if (!*out)
            *out = malloc(rn * dec->hdr.height * 2);
        memcpy(*out + rn * y, row, rn * 2);
    }
    if (detail)
        snprintf(detail, 256, "%s", thumb_ctx_detail(ctx));
    if (dec)
        dec->ops->destroy(dec);
    thumb_ctx_free(ctx);
    if (rc != THUMB_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- exact samples */

static int g_cases;

static void roundtrip(uint32_t w, uint32_t h, int nf, ljenc_opt o, unsigned seed, int noise)
{
    uint16_t *s = ljenc_picture(w, h, nf, o.prec, seed, noise);
    size_t len, n = (size_t)w * h * (size_t)nf;
    uint8_t *jpg = ljenc(s, w, h, nf, &o, &len);
    for (size_t i = 0; i < n; i++)
        s[i] = (uint16_t)(s[i] >> o.pt << o.pt);
    for (int via = 0; via < 2; via++) {
        uint16_t *got;
        tdec_header hdr;
        char detail[256];
        int rc = decode_raw(jpg, len, via, &got, &hdr, detail);
        TT_CHECK(rc == THUMB_OK, "%ux%u nf %d P %d pred %d pt %d rst %u via %d: %s (%s)", w, h, nf, o.prec, o.pred,
                 o.pt, o.restart, via, thumb_error_name(rc), detail);
        if (rc == THUMB_OK) {
            TT_CHECK(memcmp(got, s, n * 2) == 0, "%ux%u nf %d P %d pred %d pt %d rst %u via %d: samples differ", w, h,
                     nf, o.prec, o.pred, o.pt, o.restart, via);
            TT_CHECK(hdr.lossless == 1 && hdr.bit_depth == o.prec && hdr.width == w && hdr.height == h,
                     "header %ux%u depth %d", hdr.width, hdr.height, hdr.bit_depth);
        }
        free(got);
        g_cases++;
    }
    free(jpg);
    free(s);
}

static void test_exact(void)
{
    static const int precs[] = {2, 3, 5, 8, 9, 12, 15, 16};
    static const uint32_t sizes[][2] = {{13, 9}, {1, 1}, {1, 7}, {7, 1}, {32, 3}};
    int before = g_cases;
    for (int pred = 1; pred <= 7; pred++)
        for (size_t pi = 0; pi < sizeof precs / sizeof *precs; pi++)
            for (int nf = 1; nf <= 4; nf += (nf == 1 ? 2 : 1)) {
                int prec = precs[pi];
                ljenc_opt o = {.prec = prec, .pred = pred, .adobe = nf == 4 ? 0 : -1, .ids_rgb = nf == 3};
                size_t si = (size_t)(pred + pi + (size_t)nf) % (sizeof sizes / sizeof *sizes);
                roundtrip(sizes[si][0], sizes[si][1], nf, o, (unsigned)(pred * 100 + prec), pred & 1);
                o.pt = prec / 2;
                o.restart = 1 + (unsigned)(pred % 3);
                o.tables_first = pred & 1;
                roundtrip(11, 10, nf, o, (unsigned)(pred * 100 + prec + 1), 0);
            }
    /* the full difference range: noise at 16 bits gives differences of 32768 (SSSS 16) */
    ljenc_opt o = {.prec = 16, .pred = 4, .adobe = -1};
    roundtrip(64, 16, 1, o, 99, 1);
    fprintf(stderr, "exact samples: %d decodes\n", g_cases - before);
}

/* ---------------------------------------------------------------- rows, colour, windows */

/* Rows of the window through the tdec interface. */
static uint8_t *decode_rows(const uint8_t *d, size_t n, tdec_request req, int *channels, int *ycc)
{
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o;
    thumb_options_init(&o);
    tsrc src;
    tsrc_init_mem(&src, ctx, d, n, 0);
    tdec *dec = NULL;
    uint8_t *out = NULL;
    int rc = thumb__jpeg_open(&dec, ctx, &o, &src);
    if (rc == THUMB_OK)
        rc = dec->ops->start(dec, &req);
    if (rc == THUMB_OK) {
        *channels = dec->channels;
        *ycc = dec->ycc;
        size_t rb = (size_t)dec->w * (size_t)dec->channels;
        out = malloc(rb * dec->h);
        for (uint32_t y = 0; rc == THUMB_OK && y < dec->h; y++) {
            const uint8_t *row;
            rc = dec->ops->next_row(dec, &row);
            if (rc == THUMB_OK)
                memcpy(out + rb * y, row, rb);
        }
    }
    TT_CHECK(rc == THUMB_OK, "rows: %s (%s)", thumb_error_name(rc), thumb_ctx_detail(ctx));
    if (dec)
        dec->ops->destroy(dec);
    thumb_ctx_free(ctx);
    if (rc != THUMB_OK) {
        free(out);
        out = NULL;
    }
    return out;
}

static uint8_t reduce(uint32_t v, int prec)
{
    uint32_t maxv = (1u << prec) - 1;
    return (uint8_t)(((uint64_t)v * 255 + maxv / 2) / maxv);
}

static int clampi(double v) { return v < 0 ? 0 : v > 255 ? 255 : (int)(v + 0.5); }

static void test_rows(void)
{
    const uint32_t w = 29, h = 17;
    for (int prec = 2; prec <= 16; prec += 7) {
        for (int adobe = -1; adobe <= 1; adobe++) {
            int nf = adobe < 0 ? 1 : 3;
            ljenc_opt o = {.prec = prec, .pred = 6, .adobe = adobe};
            uint16_t *s = ljenc_picture(w, h, nf, prec, 7, 0);
            size_t len;
            uint8_t *jpg = ljenc(s, w, h, nf, &o, &len);
            int ch = 0, ycc = 0, bad = 0, far = 0;
            tdec_request req = {.scale_num = 8, .x1 = w, .y1 = h};
            uint8_t *rows = decode_rows(jpg, len, req, &ch, &ycc);
            TT_CHECK(rows && ch == (nf == 1 ? 1 : 3) && !ycc, "P %d adobe %d: channels %d ycc %d", prec, adobe, ch, ycc);
            for (size_t i = 0; rows && i < (size_t)w * h; i++) {
                const uint16_t *p = s + i * (size_t)nf;
                if (nf == 1 || adobe == 0) {
                    for (int c = 0; c < nf; c++)
                        bad += rows[i * (size_t)ch + (size_t)c] != reduce(p[c], prec);
                } else { /* YCbCr -> RGB, against the JFIF formulas in floating point: within 1 */
                    double Y = reduce(p[0], prec), cb = reduce(p[1], prec) - 128.0, cr = reduce(p[2], prec) - 128.0;
                    int want[3] = {clampi(Y + 1.402 * cr), clampi(Y - 0.344136 * cb - 0.714136 * cr),
                                   clampi(Y + 1.772 * cb)};
                    for (int c = 0; c < 3; c++)
                        far += abs(rows[i * 3 + (size_t)c] - want[c]) > 1;
                }
            }
            TT_CHECK(bad == 0 && far == 0, "P %d adobe %d: %d samples not reduced exactly, %d colours off by > 1", prec,
                     adobe, bad, far);
            if (rows && nf == 3 && adobe == 1) {
                /* YCbCr rows when welcome: the reduced samples themselves */
                req.ycc = 1;
                uint8_t *yrows = decode_rows(jpg, len, req, &ch, &ycc);
                TT_CHECK(yrows && ycc == 1 && ch == 3 && yrows[3] == reduce(s[3], prec), "YCbCr rows not taken up");
                free(yrows);
            }
            if (rows) {
                /* a window: the same samples as the whole decode's */
                tdec_request win = {.scale_num = 8, .x0 = 5, .x1 = 21, .y0 = 3, .y1 = 11};
                uint8_t *wr = decode_rows(jpg, len, win, &ch, &ycc);
                int diff = 0;
                for (uint32_t y = 0; wr && y < 8; y++)
                    diff += memcmp(wr + (size_t)y * 16 * (size_t)ch, rows + ((size_t)(y + 3) * w + 5) * (size_t)ch,
                                   16 * (size_t)ch) != 0;
                TT_CHECK(wr && diff == 0, "P %d adobe %d: window rows differ from the whole decode's (%d)", prec, adobe,
                         diff);
                free(wr);
            }
            free(rows);
            free(jpg);
            free(s);
        }
    }
    /* full scale of every precision: 0 -> 0, 2^P - 1 -> 255 */
    for (int prec = 2; prec <= 16; prec++) {
        uint16_t px[2] = {0, (uint16_t)((1u << prec) - 1)};
        ljenc_opt o = {.prec = prec, .pred = 1, .adobe = -1};
        size_t len;
        uint8_t *jpg = ljenc(px, 2, 1, 1, &o, &len);
        int ch, ycc;
        tdec_request req = {.scale_num = 8, .x1 = 2, .y1 = 1};
        uint8_t *r = decode_rows(jpg, len, req, &ch, &ycc);
        TT_CHECK(r && r[0] == 0 && r[1] == 255, "P %d: black/white gave %d/%d", prec, r ? r[0] : -1, r ? r[1] : -1);
        free(r);
        free(jpg);
    }
}

/* ---------------------------------------------------------------- the public API */

typedef struct { const uint8_t *p; size_t n, pos; } reader;
static int64_t read_some(void *user, void *buf, size_t n)
{
    reader *r = user;
    size_t k = (r->pos * 7 + 3) % 13 + 1; /* 1..13 bytes a call */
    if (k > n) k = n;
    if (k > r->n - r->pos) k = r->n - r->pos;
    memcpy(buf, r->p + r->pos, k);
    r->pos += k;
    return (int64_t)k;
}
typedef struct { uint8_t *p; size_t n; } sinkbuf;
static int write_all(void *user, const void *buf, size_t n)
{
    sinkbuf *s = user;
    s->p = realloc(s->p, s->n + n);
    memcpy(s->p + s->n, buf, n);
    s->n += n;
    return 0;
}

static void test_api(void)
{
    const uint32_t w = 300, h = 200;
    ljenc_opt o = {.prec = 12, .pred = 7, .adobe = -1, .ids_rgb = 1, .restart = 5};
    uint16_t *s = ljenc_picture(w, h, 3, 12, 3, 0);
    size_t len;
    uint8_t *jpg = ljenc(s, w, h, 3, &o, &len);
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_info info;
    thumb_info_init(&info);
    int rc = thumb_info_mem(ctx, jpg, len, NULL, &info);
    TT_CHECK(rc == THUMB_OK && info.lossless == 1 && info.bit_depth == 12 && info.width == w && info.height == h &&
                 info.channels == 3 && info.colour_space == 3 && !info.progressive,
             "info: %s lossless %d depth %d %ux%u", thumb_error_name(rc), info.lossless, info.bit_depth, info.width,
             info.height);

    /* the same pixels as an 8-bit PNG: the thumbnails must be the same bytes */
    uint8_t *px = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        px[i] = reduce(s[i], 12);
    tsink sk = {.ctx = ctx};
    thumb_options po;
    thumb_options_init(&po);
    rc = thumb__png_encode(ctx, &po, px, w, h, 3, (size_t)w * 3, &sk);
    TT_CHECK(rc == THUMB_OK, "png encode: %s", thumb_error_name(rc));
    thumb_options opt;
    thumb_options_init(&opt);
    opt.width = 64;
    opt.height = 48;
    for (int fit = THUMB_FIT_COVER; fit <= THUMB_FIT_INSIDE; fit++) {
        opt.fit = fit;
        opt.width = fit == THUMB_FIT_COVER ? 64 : 80;
        void *a = NULL, *b = NULL;
        size_t an = 0, bn = 0;
        int ra = thumb_thumbnail_mem(ctx, jpg, len, &opt, &a, &an);
        int rb = thumb_thumbnail_mem(ctx, sk.buf, sk.len, &opt, &b, &bn);
        TT_CHECK(ra == THUMB_OK && rb == THUMB_OK && an == bn && memcmp(a, b, an) == 0,
                 "fit %d: lossless %s (%zu bytes) vs png %s (%zu bytes)", fit, thumb_error_name(ra), an,
                 thumb_error_name(rb), bn);
        if (fit == THUMB_FIT_COVER) {
            /* streamed input in small pieces: the same bytes again */
            reader r = {jpg, len, 0};
            sinkbuf out = {0};
            int rs = thumb_thumbnail_stream(ctx, read_some, &r, &opt, write_all, &out);
            TT_CHECK(rs == THUMB_OK && out.n == an && a && memcmp(out.p, a, an) == 0, "stream: %s (%s), %zu bytes",
                     thumb_error_name(rs), thumb_ctx_detail(ctx), out.n);
            free(out.p);
            /* and the byte limit, counted while streaming */
            thumb_options lim = opt;
            lim.max_input_bytes = len / 2;
            r.pos = 0;
            out = (sinkbuf){0};
            rs = thumb_thumbnail_stream(ctx, read_some, &r, &lim, write_all, &out);
            TT_CHECK(rs == THUMB_ELIMIT_BYTES, "stream over max_input_bytes: %s", thumb_error_name(rs));
            free(out.p);
        }
        thumb_free(a);
        thumb_free(b);
    }
    /* the pixel limit */
    opt.max_input_pixels = (uint64_t)w * h - 1;
    void *a = NULL;
    size_t an = 0;
    rc = thumb_thumbnail_mem(ctx, jpg, len, &opt, &a, &an);
    TT_CHECK(rc == THUMB_ELIMIT_PIXELS, "pixel limit: %s", thumb_error_name(rc));
    free(sk.buf);
    free(px);

    /* EXIF orientation 6 in an APP1 before SOF3 (read by jpeg.c's marker processor) */
    static const uint8_t app1[] = {0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                                   0x12, 1, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0};
    uint8_t *ex = malloc(len + sizeof app1);
    memcpy(ex, jpg, 2);
    memcpy(ex + 2, app1, sizeof app1);
    memcpy(ex + 2 + sizeof app1, jpg + 2, len - 2);
    thumb_info_init(&info);
    rc = thumb_info_mem(ctx, ex, len + sizeof app1, NULL, &info);
    TT_CHECK(rc == THUMB_OK && info.orientation == 6 && info.has_exif && info.width == h && info.height == w,
             "EXIF before SOF3: %s orientation %d %ux%u", thumb_error_name(rc), info.orientation, info.width,
             info.height);
    opt = (thumb_options){0};
    thumb_options_init(&opt);
    opt.width = 40;
    opt.height = 60;
    rc = thumb_thumbnail_mem(ctx, ex, len + sizeof app1, &opt, &a, &an);
    thumb_info_init(&info);
    TT_CHECK(rc == THUMB_OK && thumb_info_mem(ctx, a, an, NULL, &info) == THUMB_OK && info.width == 40 &&
                 info.height == 60, "turned thumbnail: %s %ux%u", thumb_error_name(rc), info.width, info.height);
    if (rc == THUMB_OK)
        thumb_free(a);
    free(ex);
    free(jpg);
    free(s);
    thumb_ctx_free(ctx);
}

/* ---------------------------------------------------------------- typed errors */

static int thumb_rc(const uint8_t *d, size_t n, char *detail)
{
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o;
    thumb_options_init(&o);
    o.width = o.height = 16;
    void *out = NULL;
    size_t on = 0;
    int rc = thumb_thumbnail_mem(ctx, d, n, &o, &out, &on);
    snprintf(detail, 256, "%s", thumb_ctx_detail(ctx));
    if (rc == THUMB_OK)
        thumb_free(out);
    thumb_ctx_free(ctx);
    return rc;
}

/* Offset of the first byte after marker m's 0xFF m. */
static size_t find_marker(const uint8_t *d, size_t n, int m)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (d[i] == 0xFF && d[i + 1] == m)
            return i + 2;
    return 0;
}

static void expect(const uint8_t *d, size_t n, int want, const char *needle, const char *what)
{
    char detail[256];
    int rc = thumb_rc(d, n, detail);
    TT_CHECK(rc == want && (!needle || strstr(detail, needle)), "%s: %s (%s), wanted %s with \"%s\"", what,
             thumb_error_name(rc), detail, thumb_error_name(want), needle ? needle : "");
}

static void test_errors(void)
{
    /* 12-bit DCT: a baseline JPEG of ours with its SOF precision byte set to 12 (libjpeg reads the
     * header, then stops at the precision: 8-bit only in Debian's build) */
    thumb_ctx *ctx = thumb_ctx_new();
    uint8_t px[16 * 16 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 7);
    thumb_options eo;
    thumb_options_init(&eo);
    tsink sk = {.ctx = ctx};
    TT_CHECK(thumb__jpeg_encode(ctx, &eo, px, 16, 16, 3, 48, &sk) == THUMB_OK, "jpeg encode");
    size_t at = find_marker(sk.buf, sk.len, 0xC0);
    TT_CHECK(at > 0, "no SOF0 in our JPEG");
    if (at) {
        sk.buf[at + 2] = 12;
        expect(sk.buf, sk.len, THUMB_EUNSUPPORTED, "12-bit JPEG", "SOF0 precision 12");
        sk.buf[at - 1] = 0xC1; /* extended sequential, as 12-bit files are */
        expect(sk.buf, sk.len, THUMB_EUNSUPPORTED, "12-bit JPEG", "SOF1 precision 12");
        sk.buf[at - 1] = 0xC2;
        expect(sk.buf, sk.len, THUMB_EUNSUPPORTED, "12-bit JPEG", "SOF2 precision 12");
        thumb_info info;
        thumb_info_init(&info);
        int rc = thumb_info_mem(ctx, sk.buf, sk.len, NULL, &info);
        TT_CHECK(rc == THUMB_EUNSUPPORTED, "info of a 12-bit JPEG: %s", thumb_error_name(rc));
        sk.buf[at + 2] = 8;
        sk.buf[at - 1] = 0xC7; /* differential lossless (hierarchical) */
        expect(sk.buf, sk.len, THUMB_EUNSUPPORTED, "SOF type 0xc7", "SOF7");
        sk.buf[at - 1] = 0xCB; /* lossless, arithmetic-coded */
        expect(sk.buf, sk.len, THUMB_EUNSUPPORTED, "SOF type 0xcb", "SOF11");
    }
    free(sk.buf);
    thumb_ctx_free(ctx);

    uint16_t *s = ljenc_picture(10, 6, 3, 8, 1, 0);
    ljenc_opt o = {.prec = 8, .pred = 1, .adobe = -1, .restart = 2};
    size_t len;
    uint8_t *jpg = ljenc(s, 10, 6, 3, &o, &len);
    uint8_t *m = malloc(len);
    size_t sof = find_marker(jpg, len, 0xC3), sos = find_marker(jpg, len, 0xDA), dri = find_marker(jpg, len, 0xDD);
    size_t rst = find_marker(jpg, len, 0xD0);
    TT_CHECK(sof && sos && dri && rst, "markers of the test file");
    expect(jpg, len, THUMB_OK, NULL, "the unmodified file");
#define MUT(off, val, want, needle, what) do { memcpy(m, jpg, len); m[(off)] = (uint8_t)(val); \
        expect(m, len, want, needle, what); } while (0)
    MUT(sof + 2, 1, THUMB_ECORRUPT, "precision 1", "precision 1");
    MUT(sof + 2, 17, THUMB_ECORRUPT, "precision 17", "precision 17");
    MUT(sof + 4, 0, THUMB_ECORRUPT, NULL, "height 0 (DNL)"); /* libjpeg: "Empty JPEG image (DNL not supported)" */
    MUT(sos + 3 + 2 * 3, 0, THUMB_ECORRUPT, "predictor 0", "predictor 0");
    MUT(sos + 3 + 2 * 3, 8, THUMB_ECORRUPT, "predictor 8", "predictor 8");
    MUT(sos + 3 + 2 * 3 + 2, 8, THUMB_ECORRUPT, "point transform 8", "point transform 8 of 8 bits");
    MUT(sos + 4, 0x30, THUMB_ECORRUPT, "Huffman table 3", "undefined Huffman table");
    MUT(dri + 3, 7, THUMB_ECORRUPT, "restart interval 7", "restart interval not a whole row");
    MUT(rst - 1, 0xD3, THUMB_ECORRUPT, "expected RST0", "RST3 where RST0 belongs");
    MUT(sof + 3 + 2 + 2 + 1 + 1, 0x22, THUMB_EUNSUPPORTED, "subsampled", "2x2 sampling");
    memcpy(m, jpg, len);
    m[rst - 1] = 0xD9; /* EOI where the restart marker is: a file cut and closed */
    expect(m, len, THUMB_ETRUNCATED, NULL, "EOI in place of RST0");
    expect(jpg, rst - 2, THUMB_ETRUNCATED, NULL, "cut before RST0");
    expect(jpg, len - 3, THUMB_ETRUNCATED, NULL, "cut in the last interval");
    free(m);
    free(jpg);
    free(s);

    /* 2 components; one component per scan */
    s = ljenc_picture(6, 4, 2, 8, 1, 0);
    o = (ljenc_opt){.prec = 8, .pred = 1, .adobe = -1};
    jpg = ljenc(s, 6, 4, 2, &o, &len);
    expect(jpg, len, THUMB_EUNSUPPORTED, "2 components", "two components");
    free(jpg);
    free(s);
    s = ljenc_picture(6, 4, 3, 8, 1, 0);
    jpg = ljenc(s, 6, 4, 3, &o, &len);
    sos = find_marker(jpg, len, 0xDA);
    /* SOS for component 1 alone (the rest of the scan stays: it will not be reached) */
    uint8_t one[] = {0, 8, 1, 1, 0, 1, 0, 0};
    memcpy(jpg + sos, one, sizeof one);
    memmove(jpg + sos + sizeof one, jpg + sos + 12, len - sos - 12);
    expect(jpg, len - 4, THUMB_EUNSUPPORTED, "one component per scan", "non-interleaved scans");
    free(jpg);
    free(s);
}

int main(void)
{
    test_exact();
    test_rows();
    test_api();
    test_errors();
    return tt_report(__FILE__);
}
