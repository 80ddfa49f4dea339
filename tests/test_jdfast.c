/* Our baseline decoder (libthumb/jdfast.h) against libjpeg-turbo itself:
 *  - every corpus JPEG it takes, at every scale it takes, RGB, YCbCr and grey, gives libjpeg's
 *    samples byte for byte (the whole image, and random windows of it);
 *  - so do files made here with libjpeg over sizes that leave every kind of partial MCU,
 *    qualities 1..100, 4:2:0, 4:4:4 and grey, with and without restart markers;
 *  - through the library, files cut short, cut by EOI, with markers lost or out of order and
 *    with bytes flipped end with the same result code as libjpeg's decode (ctx->no_jdfast), and
 *    the fast path is the one taken for the layouts it covers. */
#include "internal.h"
#include "jdfast.h"
#include "jref.h"
#include "tt.h"

#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

static int compared, windows_compared;
static unsigned features; /* kernels under test: THUMB_CPU_AVX2 or 0 */

/* jdfast over the window; compares each row with ref. Returns 1 compared, 0 not taken, -1 differs. */
static int fast_compare(const char *name, const uint8_t *data, size_t len, int scale, J_COLOR_SPACE cs,
                        const uint8_t *ref, uint32_t rw, int ch, uint32_t x0, uint32_t x1, uint32_t y0, uint32_t y1)
{
    struct jpeg_decompress_struct d;
    struct jerr e;
    err_setup(&d, &e);
    jdfast *volatile f = NULL;
    int result = 0;
    jpeg_create_decompress(&d);
    if (setjmp(e.jb)) {
        TT_CHECK(0, "%s: libjpeg error under jdfast", name);
        thumb__jdfast_free(f);
        jpeg_destroy_decompress(&d);
        return -1;
    }
    header_at(&d, data, len, scale, cs);
    if (!thumb__jdfast_usable(&d)) {
        jpeg_destroy_decompress(&d);
        return 0;
    }
    jdfast *ff;
    int rc = thumb__jdfast_start(&ff, NULL, &d, x0, x1, y0, y1, cs == JCS_YCbCr, features, NULL, NULL);
    if (rc != THUMB_OK) {
        TT_CHECK(0, "%s: start %d", name, rc);
        jpeg_destroy_decompress(&d);
        return -1;
    }
    f = ff;
    TT_CHECK(thumb__jdfast_channels(ff) == ch, "%s: channels %d, libjpeg %d", name, thumb__jdfast_channels(ff), ch);
    result = rows_compare(name, ff, scale, cs, ref, rw, ch, x0, x1, y0, y1);
    thumb__jdfast_free(ff);
    jpeg_destroy_decompress(&d);
    return result;
}

/* Whole image and a few random windows, at each scale and output space. */
static void check_file(const char *name, const uint8_t *data, size_t len, int windows)
{
    int not_taken = 0; /* layouts jdfast does not take (test_jdfast does not count them) */
    compare_scales(name, data, len, windows, 8, fast_compare, &compared, &windows_compared, &not_taken);
}

/* ---------------------------------------------------------------- files made here */

static int banded; /* encode(): noise and flat bands of 24 rows instead of the gradient picture */

static uint8_t *encode(uint32_t w, uint32_t h, int grey, int sub420, int quality, int restart_rows, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *buf = NULL;
    unsigned long n = 0;
    made_begin(&c, &e, &buf, &n, w, h, grey, sub420, quality, restart_rows);
    jpeg_start_compress(&c, TRUE);
    made_rows(&c, tt_rnd(), 15, banded);
    *len = n;
    return buf;
}

static void check_made(void)
{
    static const uint32_t sizes[][2] = {{1, 1}, {7, 9}, {8, 8}, {15, 17}, {16, 16}, {17, 15}, {33, 31}, {64, 48},
                                        {100, 75}, {129, 67}, {255, 257}, {300, 200}};
    int made = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int kind = 0; kind < 3; kind++) { /* 4:2:0, 4:4:4, grey */
            int restart = (int)(tt_rnd() % 4);
            int rs = restart == 0 ? 0 : restart == 1 ? 1 : restart == 2 ? -1 : -3;
            int q = 1 + (int)(tt_rnd() % 100);
            size_t len;
            uint8_t *data = encode(sizes[i][0], sizes[i][1], kind == 2, kind == 0, q, rs, &len);
            char name[96];
            snprintf(name, sizeof name, "made %ux%u kind %d q %d restart %d", (unsigned)sizes[i][0],
                     (unsigned)sizes[i][1], kind, q, rs);
            check_file(name, data, len, 3);
            free(data);
            made++;
        }
    }
    TT_CHECK(made == 36, "made %d files", made);
    /* Noise and flat bands: the scan is read in 16 KB pieces, and a piece ending in a flat band
     * means a refill while the bit buffer still holds bits of the bytes before it (the reader's
     * bit position relative to the new piece is negative): fuzz_roundtrip found jdfast calling
     * that "data cut short" (tests/crashers/roundtrip-jdfast-bit-position-after-refill). */
    banded = 1;
    for (int i = 0; i < 3; i++) {
        size_t len;
        uint8_t *data = encode(700 + 37 * (uint32_t)i, 600, i == 2, i == 0, 90, 0, &len);
        char name[64];
        snprintf(name, sizeof name, "banded %d (%zu bytes)", i, len);
        int before = compared;
        check_file(name, data, len, 2);
        TT_CHECK(compared - before >= 4, "%s: %d decodes compared", name, compared - before);
        free(data);
    }
    banded = 0;
}

/* ---------------------------------------------------------------- corrupt data, through the library */

static int run(thumb_ctx *ctx, const uint8_t *data, size_t len, int fast, size_t *out_len)
{
    ctx->no_jdfast = !fast;
    thumb_options o;
    thumb_options_init(&o);
    o.width = 128;
    o.height = 128;
    o.fit = THUMB_FIT_COVER;
    void *out = NULL;
    size_t n = 0;
    int rc = thumb_thumbnail_mem(ctx, data, len, &o, &out, &n);
    if (out_len)
        *out_len = n;
    thumb_free(out);
    return rc;
}

static void check_corrupt(void)
{
    thumb_ctx *ctx = thumb_ctx_new();
    size_t len;
    /* a made file with restart markers every MCU row, and a corpus photo without */
    uint8_t *rst = encode(300, 200, 0, 1, 85, 1, &len);
    size_t s0 = scan_start(rst, len);
    NEED(s0 > 0 && s0 < len, "scan start");
    size_t out_len;
    TT_CHECK(run(ctx, rst, len, 1, &out_len) == THUMB_OK && out_len > 0, "clean file");

    /* cut short: every length from the scan start to the end */
    int cut_same = 0, cut_total = 0;
    for (size_t l = s0; l < len - 2; l += 97) {
        int a = run(ctx, rst, l, 1, NULL), b = run(ctx, rst, l, 0, NULL);
        TT_CHECK(a == THUMB_ETRUNCATED, "cut at %zu: fast %s", l, thumb_error_name(a));
        cut_same += a == b;
        cut_total++;
    }
    TT_CHECK(cut_same == cut_total, "cut: %d of %d agree with libjpeg", cut_same, cut_total);

    /* cut by EOI inside the data */
    uint8_t *m = malloc(len);
    for (size_t at = s0 + 10; at < len - 4; at += 211) {
        memcpy(m, rst, at);
        m[at] = 0xFF;
        m[at + 1] = 0xD9;
        int a = run(ctx, m, at + 2, 1, NULL), b = run(ctx, m, at + 2, 0, NULL);
        TT_CHECK(a == THUMB_ETRUNCATED && a == b, "EOI at %zu: fast %s, libjpeg %s", at, thumb_error_name(a),
                 thumb_error_name(b));
    }

    /* restart markers dropped, renumbered, or doubled; a stray marker */
    int n_rst = 0;
    for (size_t i = s0; i + 1 < len; i++)
        if (rst[i] == 0xFF && rst[i + 1] >= 0xD0 && rst[i + 1] <= 0xD7)
            n_rst++;
    TT_CHECK(n_rst >= 10, "%d restart markers", n_rst);
    int agree = 0, cases = 0;
    for (int which = 0; which < n_rst; which += 3) {
        for (int how = 0; how < 4; how++) {
            int k = -1;
            size_t at = 0;
            for (size_t i = s0; i + 1 < len; i++)
                if (rst[i] == 0xFF && rst[i + 1] >= 0xD0 && rst[i + 1] <= 0xD7 && ++k == which) {
                    at = i;
                    break;
                }
            size_t ml = len;
            memcpy(m, rst, len);
            if (how == 0) { /* dropped */
                memmove(m + at, m + at + 2, len - at - 2);
                ml = len - 2;
            } else if (how == 1) { /* wrong number */
                m[at + 1] = (uint8_t)(0xD0 + ((m[at + 1] - 0xD0 + 3) & 7));
            } else if (how == 2) { /* another kind of marker */
                m[at + 1] = 0xC4;
            } else { /* garbage before it */
                m[at - 1] ^= 0x55;
                m[at - 2] ^= 0x55;
            }
            int a = run(ctx, m, ml, 1, NULL), b = run(ctx, m, ml, 0, NULL);
            TT_CHECK(a == THUMB_OK || a == THUMB_ECORRUPT || a == THUMB_ETRUNCATED, "restart %d how %d: %s", which,
                     how, thumb_error_name(a));
            agree += a == b;
            cases++;
        }
    }
    TT_CHECK(agree == cases, "restart damage: %d of %d agree with libjpeg", agree, cases);

    /* flipped bytes in the entropy data: never a crash; the result code as libjpeg's */
    size_t plen;
    uint8_t *photo = tt_read_file(tt_corpus("photos/flowers.jpeg"), &plen);
    NEED(photo, "flowers");
    size_t p0 = scan_start(photo, plen);
    uint8_t *pm = malloc(plen);
    agree = 0;
    cases = 0;
    for (int i = 0; i < 60; i++) {
        const uint8_t *src = i % 2 ? photo : rst;
        size_t sl = i % 2 ? plen : len, st = i % 2 ? p0 : s0;
        uint8_t *dst = i % 2 ? pm : m;
        memcpy(dst, src, sl);
        for (int j = 0; j < 1 + i % 5; j++)
            dst[st + tt_rnd() % (sl - st - 2)] ^= (uint8_t)(1 + tt_rnd() % 255);
        int a = run(ctx, dst, sl, 1, NULL), b = run(ctx, dst, sl, 0, NULL);
        TT_CHECK(a == THUMB_OK || a == THUMB_ECORRUPT || a == THUMB_ETRUNCATED, "flip %d: %s", i, thumb_error_name(a));
        agree += a == b;
        cases++;
    }
    /* libjpeg's own fast and slow Huffman paths treat bad codes differently, so a rare
     * disagreement is possible; most must agree */
    TT_CHECK(agree * 10 >= cases * 9, "flipped bytes: %d of %d agree with libjpeg", agree, cases);
    printf("corrupt: cut %d, restart damage %d, flips %d of %d agree\n", cut_total, n_rst, agree, cases);
    free(pm);
    free(photo);
    free(m);
    free(rst);
    ctx->no_jdfast = 0;
    thumb_ctx_free(ctx);
}

/* The AVX2 IDCTs against the scalar ones on blocks a valid file holds: the DCT of random 8x8
 * pixel blocks (noise, flat, edges, extremes) quantised with random tables. The kernels work in
 * 32 bits where the scalar code uses 64; both saturate as libjpeg's SIMD does. */
static void dct_block(const int px[64], const int16_t q[64], int16_t out[64])
{
    for (int u = 0; u < 8; u++)
        for (int v = 0; v < 8; v++) {
            double sum = 0;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                    sum += (px[y * 8 + x] - 128) * cos((2 * y + 1) * u * M_PI / 16) * cos((2 * x + 1) * v * M_PI / 16);
            double cu = u ? 1 : M_SQRT1_2, cv = v ? 1 : M_SQRT1_2;
            out[u * 8 + v] = (int16_t)lround(sum * cu * cv / 4 / q[u * 8 + v]);
        }
}

static void check_kernels(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (!(thumb__cpu_features() & THUMB_CPU_AVX2)) {
        printf("no AVX2 here: kernels not compared\n");
        return;
    }
    const jd_idct *a = &thumb__jd_idct_scalar, *b = &thumb__jd_idct_avx2;
    int same = 0, total = 0;
    for (int i = 0; i < 6000; i++) {
        int16_t blk[64], q[64];
        int px[64];
        int kind = i % 5;
        for (int k = 0; k < 64; k++) {
            q[k] = (int16_t)(1 + tt_rnd() % (i % 3 == 0 ? 4 : i % 3 == 1 ? 40 : 255));
            int x = k % 8, y = k / 8;
            px[k] = kind == 0   ? (int)(tt_rnd() % 256)                    /* noise */
                    : kind == 1 ? 200                                       /* flat */
                    : kind == 2 ? ((x + y) % 2 ? 255 : 0)                   /* checkerboard */
                    : kind == 3 ? (x < 4 ? 0 : 255)                         /* edge */
                                : (int)((x * 32 + y * 4 + tt_rnd() % 9) & 255); /* ramp */
        }
        dct_block(px, q, blk);
        for (int s = 0; s < 3; s++) {
            uint8_t o1[64], o2[64];
            jd_idct_fn fa = s == 0 ? a->idct2 : s == 1 ? a->idct4 : a->idct8;
            jd_idct_fn fb = s == 0 ? b->idct2 : s == 1 ? b->idct4 : b->idct8;
            memset(o1, 7, sizeof o1);
            memset(o2, 7, sizeof o2);
            fa(blk, q, o1, 8);
            fb(blk, q, o2, 8);
            same += memcmp(o1, o2, sizeof o1) == 0;
            total++;
        }
    }
    TT_CHECK(same == total, "AVX2 IDCTs: %d of %d blocks as scalar", same, total);

    /* The run functions (the AVX2 ones take blocks in pairs): batches of up to 16 blocks, each
     * with or without AC terms, strided as the decoder lays them out; same samples as the
     * scalar run and every block left zeroed. */
    enum { NB = 16, BSTEP = 6 * 80, OSTEP = 8, STRIDE = NB * OSTEP };
    static int16_t ba[NB * BSTEP], bb[NB * BSTEP];
    static uint8_t oa[8 * STRIDE], ob[8 * STRIDE];
    int runs_same = 0, runs = 0, zeroed = 1;
    for (int i = 0; i < 1200; i++) {
        int16_t q[64];
        bool ac[NB * 6];
        uint32_t n = 1 + tt_rnd() % NB;
        int s = i % 4;
        for (int k = 0; k < 64; k++)
            q[k] = (int16_t)(1 + tt_rnd() % (i % 3 == 0 ? 4 : 60));
        memset(ba, 0, sizeof ba);
        for (uint32_t m = 0; m < n; m++) {
            int px[64];
            int kind = (int)(tt_rnd() % 4); /* 0: DC only; else a patterned block */
            for (int k = 0; k < 64; k++)
                px[k] = kind == 0 ? 90 : kind == 1 ? (int)(tt_rnd() % 256) : ((k % 8 + k / 8 * 3) * 11) & 255;
            int16_t blk[64];
            dct_block(px, q, blk);
            if (kind == 0)
                memset(blk + 1, 0, 63 * sizeof blk[0]);
            memcpy(ba + m * BSTEP, blk, sizeof blk);
            ac[m * 6] = kind != 0;
        }
        memcpy(bb, ba, sizeof ba);
        memset(oa, 7, sizeof oa);
        memset(ob, 7, sizeof ob);
        a->run[s](ba, BSTEP, ac, 6, n, q, oa, OSTEP, STRIDE);
        b->run[s](bb, BSTEP, ac, 6, n, q, ob, OSTEP, STRIDE);
        runs_same += memcmp(oa, ob, sizeof oa) == 0;
        runs++;
        for (size_t k = 0; k < sizeof ba / sizeof ba[0]; k++)
            if (ba[k] || bb[k])
                zeroed = 0;
    }
    TT_CHECK(runs_same == runs, "AVX2 IDCT runs: %d of %d batches as scalar", runs_same, runs);
    TT_CHECK(zeroed, "IDCT runs leave their blocks zeroed");
#endif
}

/* ---------------------------------------------------------------- through the library */

/* RGB all the way (no_ycc): jdfast's rows are libjpeg's, so the thumbnail is libjpeg's byte for
 * byte, from memory and from a stream read in random short pieces; a cut stream is ETRUNCATED. */
static void check_library_data(const char *rel, const uint8_t *data, size_t len, int *same, int *total)
{
    thumb_ctx *ctx = thumb_ctx_new();
    ctx->no_ycc = 1;
    static const uint32_t boxes[][2] = {{512, 512}, {200, 120}, {64, 300}};
    for (int b = 0; b < 3; b++) {
        thumb_options o;
        thumb_options_init(&o);
        o.width = boxes[b][0];
        o.height = boxes[b][1];
        void *x = NULL, *y = NULL;
        size_t xn = 0, yn = 0;
        ctx->no_jdfast = 0;
        int a = thumb_thumbnail_mem(ctx, data, len, &o, &x, &xn);
        ctx->no_jdfast = 1;
        int c = thumb_thumbnail_mem(ctx, data, len, &o, &y, &yn);
        TT_CHECK(a == c, "%s %ux%u: jdfast %s, libjpeg %s", rel, o.width, o.height, thumb_error_name(a),
                 thumb_error_name(c));
        if (a == THUMB_OK && c == THUMB_OK) {
            (*total)++;
            *same += xn == yn && !memcmp(x, y, xn);
            ctx->no_jdfast = 0;
            reader r = {data, len, 0, 3000};
            sink s = {NULL, 0, 0};
            int rc = thumb_thumbnail_stream(ctx, read_some, &r, &o, write_all, &s);
            TT_CHECK(rc == THUMB_OK && s.n == xn && !memcmp(s.p, x, xn), "%s: stream %s, %zu bytes vs %zu", rel,
                     thumb_error_name(rc), s.n, xn);
            free(s.p);
            if (b == 0) {
                reader cut = {data, len * 2 / 3, 0, 3000};
                sink t = {NULL, 0, 0};
                rc = thumb_thumbnail_stream(ctx, read_some, &cut, &o, write_all, &t);
                TT_CHECK(rc == THUMB_ETRUNCATED, "%s cut to 2/3: %s", rel, thumb_error_name(rc));
                free(t.p);
            }
        }
        thumb_free(x);
        thumb_free(y);
    }
    thumb_ctx_free(ctx);
}

static void check_library(const char *rel, int *same, int *total)
{
    size_t len;
    unsigned char *data = tt_read_file(tt_corpus(rel), &len);
    NEED(data, "read %s", rel);
    check_library_data(rel, data, len, same, total);
    free(data);
}

/* Half-resolution chroma (thumb__jdfast_start_half) against libjpeg: the luma planes are
 * libjpeg's decode at the scale, the chroma planes its decode at half the scale (where its
 * chroma IDCT has the size ours takes here: 2x2 at 2/8, 4x4 at 4/8, 8x8 at 8/8), over the whole
 * image and windows with odd edges. Returns the windows compared. */
static int check_half(const char *name, const uint8_t *data, size_t len)
{
    int done = 0;
    for (int scale = 2; scale <= 8; scale *= 2) {
        uint32_t w, h, cw, chh;
        int ch, cch;
        uint8_t *ry = ref_decode(data, len, scale, JCS_YCbCr, &w, &h, &ch);
        uint8_t *rc = ref_decode(data, len, scale / 2, JCS_YCbCr, &cw, &chh, &cch);
        if (!ry || !rc || ch != 3 || cch != 3 || cw != (w + 1) / 2 || chh != (h + 1) / 2) {
            free(ry);
            free(rc);
            continue;
        }
        for (int win = 0; win < 4; win++) {
            uint32_t x0 = 0, x1 = w, y0 = 0, y1 = h;
            if (win > 0) {
                x0 = tt_rnd() % w;
                x1 = x0 + 1 + tt_rnd() % (w - x0);
                y0 = tt_rnd() % h;
                y1 = y0 + 1 + tt_rnd() % (h - y0);
            }
            struct jpeg_decompress_struct d;
            struct jerr e;
            err_setup(&d, &e);
            jdfast *volatile f = NULL;
            jpeg_create_decompress(&d);
            if (setjmp(e.jb)) {
                TT_CHECK(0, "%s: libjpeg error under jdfast (half chroma)", name);
                thumb__jdfast_free(f);
                jpeg_destroy_decompress(&d);
                continue;
            }
            header_at(&d, data, len, scale, JCS_YCbCr);
            jdfast *ff = NULL;
            if (!thumb__jdfast_usable(&d) ||
                thumb__jdfast_start_half(&ff, NULL, &d, x0, x1, y0, y1, features, NULL, NULL) != THUMB_OK) {
                jpeg_destroy_decompress(&d);
                continue;
            }
            f = ff;
            done += planes_compare(name, ff, scale, ry, w, rc, cw, x0, x1, y0, y1);
            thumb__jdfast_free(ff);
            jpeg_destroy_decompress(&d);
        }
        free(ry);
        free(rc);
    }
    return done;
}

int main(void)
{
    check_kernels();
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: the AVX2 kernels (when present), pass 1: scalar */
        features = pass == 0 ? (thumb__cpu_features() & THUMB_CPU_AVX2) : 0;
        if (pass == 0 && !features)
            continue;
        compared = windows_compared = 0;
        check_dir("photos", 4, check_file);
        check_dir("exif", 1, check_file);
        check_dir("jpeg-variants", 2, check_file);
        check_dir("edge", 0, check_file);
        int corpus = compared;
        check_made();
        static const char *half_files[] = {"photos/2569067123_aca715a2ee_o.jpg", "photos/flowers.jpeg",
                                           "photos/retina.jpg", "jpeg-variants/video-001.q50.420.jpeg"};
        int halves = 0;
        for (size_t i = 0; i < sizeof half_files / sizeof half_files[0]; i++) {
            size_t n;
            uint8_t *data = tt_read_file(tt_corpus(half_files[i]), &n);
            TT_CHECK(data != NULL, "missing %s", half_files[i]);
            if (data)
                halves += check_half(half_files[i], data, n);
            free(data);
        }
        for (int i = 0; i < 3; i++) { /* 4:2:0 made here, odd sizes, one with restart markers */
            size_t n;
            uint8_t *data = encode(333 + 50 * (uint32_t)i, 219 + 31 * (uint32_t)i, 0, true, 90, i == 2 ? 1 : 0, &n);
            if (data)
                halves += check_half("made 4:2:0", data, n);
            free(data);
        }
        printf("%s: %d half-resolution chroma windows identical to libjpeg's planes\n", features ? "avx2" : "scalar",
               halves);
        TT_CHECK(halves >= 40, "only %d half-resolution chroma windows compared", halves);
        printf("%s: compared %d whole images (%d from the corpus) and %d windows with libjpeg\n",
               features ? "avx2" : "scalar", compared, corpus, windows_compared);
        TT_CHECK(corpus >= 60, "only %d corpus decodes went through jdfast", corpus);
    }
    check_corrupt();
    static const char *lib_files[] = {"photos/2569067123_aca715a2ee_o.jpg", "photos/flowers.jpeg",
                                      "photos/rocket.jpg", "photos/retina.jpg", "photos/concert.jpg",
                                      "exif/Landscape_6.jpg", "jpeg-variants/video-001.q50.444.jpeg",
                                      "jpeg-variants/video-005.gray.q50.jpeg"};
    int same = 0, total = 0;
    for (size_t i = 0; i < sizeof lib_files / sizeof lib_files[0]; i++)
        check_library(lib_files[i], &same, &total);
    /* made here: restart markers every MCU row and every 3 MCUs, and banded content, so restart
     * markers and flat stretches fall on the stream's read boundaries */
    for (int i = 0; i < 4; i++) {
        size_t len;
        banded = i >= 2;
        uint8_t *data = encode(640 + 13 * (uint32_t)i, 480, 0, i % 2 == 0, 85, i % 2 ? -3 : 1, &len);
        banded = 0;
        char name[64];
        snprintf(name, sizeof name, "made library %d (%zu bytes)", i, len);
        check_library_data(name, data, len, &same, &total);
        free(data);
    }
    printf("library: %d of %d thumbnails byte-identical to libjpeg's decode\n", same, total);
    TT_CHECK(total >= 32 && same == total, "library: %d of %d thumbnails as libjpeg's", same, total);
    return tt_report("test_jdfast");
}
