/* The JPEG encoder's own front end (libthumb/jfront.h) against libjpeg itself:
 *  - a file made through the front end (scalar and AVX2 kernels, and through thumb__jpeg_encode)
 *    is byte-identical to libjpeg-turbo's optimize_coding output with the same settings, over
 *    sizes that leave every kind of partial MCU, qualities 1..100, 4:2:0, 4:4:4 and grey;
 *  - each AVX2 kernel gives the scalar kernel's bytes on random and extreme inputs;
 *  - the Huffman table builder keeps every symbol, stays within 16 bits and is a prefix code,
 *    also for counts that make Annex K's tree deeper than 32. */
#include "internal.h"
#include "jfront.h"
#include "tt.h"

#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>


/* ---------------------------------------------------------------- images */

static uint8_t *photo;           /* a corpus photo decoded at 1/2, RGB */
static uint32_t photo_w, photo_h;

static void load_photo(void)
{
    size_t len;
    unsigned char *data = tt_read_file(tt_corpus("photos/flowers.jpeg"), &len);
    if (!data)
        return;
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr e;
    d.err = jpeg_std_error(&e);
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, (unsigned long)len);
    jpeg_read_header(&d, TRUE);
    d.scale_num = 4;
    d.scale_denom = 8;
    d.out_color_space = JCS_RGB;
    jpeg_start_decompress(&d);
    photo_w = d.output_width;
    photo_h = d.output_height;
    photo = malloc((size_t)photo_w * photo_h * 3);
    while (d.output_scanline < d.output_height) {
        JSAMPROW r = photo + (size_t)d.output_scanline * photo_w * 3;
        jpeg_read_scanlines(&d, &r, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    free(data);
}

/* kind 0: photo crop, 1: noise, 2: flat, 3: gradient with noise, 4: saturated stripes */
static uint8_t *make_image(int kind, uint32_t w, uint32_t h, int ch)
{
    uint8_t *p = malloc((size_t)w * h * ch);
    uint32_t ox = photo_w > w ? tt_rnd() % (photo_w - w + 1) : 0, oy = photo_h > h ? tt_rnd() % (photo_h - h + 1) : 0;
    uint8_t flat[3] = {(uint8_t)tt_rnd(), (uint8_t)tt_rnd(), (uint8_t)tt_rnd()};
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                uint8_t v;
                switch (kind) {
                case 0:
                    v = photo ? photo[((size_t)((oy + y) % photo_h) * photo_w + (ox + x) % photo_w) * 3 + (size_t)c]
                              : (uint8_t)(x * 3 + y);
                    break;
                case 1: v = (uint8_t)tt_rnd(); break;
                case 2: v = flat[c]; break;
                case 3: v = (uint8_t)((x * 255 / (w ? w : 1) + y * 2 + c * 40 + tt_rnd() % 9) & 255); break;
                default: v = ((x / 3 + y / 5 + (uint32_t)c) & 1) ? 255 : 0; break;
                }
                p[((size_t)y * w + x) * ch + c] = v;
            }
    return p;
}

/* ---------------------------------------------------------------- encoders */

struct membuf { unsigned char *p; unsigned long n; };

static void setup_params(struct jpeg_compress_struct *c, uint32_t w, uint32_t h, int ch, int q, int sub420)
{
    c->image_width = w;
    c->image_height = h;
    c->input_components = ch;
    c->in_color_space = ch == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, q, TRUE);
    if (ch == 3) {
        int f = sub420 ? 2 : 1;
        c->comp_info[0].h_samp_factor = c->comp_info[0].v_samp_factor = f;
        c->comp_info[1].h_samp_factor = c->comp_info[1].v_samp_factor = 1;
        c->comp_info[2].h_samp_factor = c->comp_info[2].v_samp_factor = 1;
    }
    c->dct_method = JDCT_ISLOW;
}

/* a compress object writing to m, with the settings libthumb's encoder uses */
static void begin(struct jpeg_compress_struct *c, struct jpeg_error_mgr *e, struct membuf *m, uint32_t w, uint32_t h,
                  int ch, int q, int sub420)
{
    c->err = jpeg_std_error(e);
    jpeg_create_compress(c);
    jpeg_mem_dest(c, &m->p, &m->n);
    setup_params(c, w, h, ch, q, sub420);
}

/* libjpeg's own optimised encode */
static struct membuf enc_libjpeg(const uint8_t *px, uint32_t w, uint32_t h, int ch, int q, int sub420)
{
    struct membuf m = {0};
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    begin(&c, &e, &m, w, h, ch, q, sub420);
    c.optimize_coding = TRUE;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < h) {
        JSAMPROW r = (JSAMPROW)(px + (size_t)c.next_scanline * w * ch);
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return m;
}

/* the front end with the given kernels, rows fed in uneven batches */
static struct membuf enc_front(const uint8_t *px, uint32_t w, uint32_t h, int ch, int q, int sub420,
                               unsigned features)
{
    struct membuf m = {0};
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    begin(&c, &e, &m, w, h, ch, q, sub420);
    jf_enc *f;
    if (thumb__jf_enc_new(&f, &c, w, h, ch, features) != THUMB_OK) {
        thumb__jf_enc_free(f);
        jpeg_destroy_compress(&c);
        return m;
    }
    const uint8_t *rows[7];
    for (uint32_t y = 0; y < h;) {
        uint32_t n = 1 + tt_rnd() % 7;
        if (n > h - y)
            n = h - y;
        for (uint32_t i = 0; i < n; i++)
            rows[i] = px + (size_t)(y + i) * w * ch;
        thumb__jf_enc_rows(f, rows, n);
        y += n;
    }
    thumb__jf_enc_finish(f, &c);
    jpeg_finish_compress(&c);
    thumb__jf_enc_free(f);
    jpeg_destroy_compress(&c);
    return m;
}

/* through the library's encoder (the pipeline's path) */
static struct membuf enc_thumb(const uint8_t *px, uint32_t w, uint32_t h, int ch, int q, int sub420)
{
    struct membuf m = {0};
    thumb_options opt;
    thumb_options_init(&opt);
    opt.quality = q;
    opt.chroma = sub420 ? THUMB_CHROMA_420 : THUMB_CHROMA_444;
    thumb_ctx ctx = {{0}};
    tsink s = {.ctx = &ctx};
    if (thumb__jpeg_encode(&ctx, &opt, px, w, h, ch, (size_t)w * ch, &s) == THUMB_OK) {
        m.p = s.buf;
        m.n = (unsigned long)s.len;
    } else {
        fprintf(stderr, "thumb__jpeg_encode: %s\n", ctx.detail);
        free(s.buf);
    }
    return m;
}

static int same(struct membuf a, struct membuf b)
{
    return a.p && b.p && a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static void test_identical_files(void)
{
    static const uint32_t sizes[][2] = {
        {1, 1}, {1, 17}, {17, 1}, {7, 9}, {8, 8}, {9, 8}, {15, 16}, {16, 15}, {16, 16}, {17, 33},
        {31, 47}, {33, 17}, {100, 75}, {64, 200}, {257, 129}, {512, 512}, {511, 509},
    };
    static const int qualities[] = {1, 10, 50, 75, 80, 90, 95, 100};
    const unsigned avx2 = thumb__cpu_features() & THUMB_CPU_AVX2;
    int files = 0, diffs = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int mode = 0; mode < 3; mode++) { /* 4:2:0, 4:4:4, grey */
            int ch = mode == 2 ? 1 : 3, sub = mode == 0;
            int kind = (int)(tt_rnd() % 5);
            int q = qualities[tt_rnd() % (sizeof qualities / sizeof qualities[0])];
            uint32_t w = sizes[s][0], h = sizes[s][1];
            uint8_t *px = make_image(kind, w, h, ch);
            struct membuf ref = enc_libjpeg(px, w, h, ch, q, sub);
            struct membuf a = enc_front(px, w, h, ch, q, sub, 0);
            struct membuf b = enc_front(px, w, h, ch, q, sub, THUMB_CPU_AVX2);
            struct membuf t = enc_thumb(px, w, h, ch, q, sub);
            files++;
            int ok = same(ref, a) && same(ref, b) && same(ref, t);
            if (!ok)
                diffs++;
            TT_CHECK(ok, "%ux%u %s q%d kind %d: libjpeg %lu B, scalar %lu B (%s), %s %lu B (%s), thumb %lu B (%s)",
                     (unsigned)w, (unsigned)h, mode == 0 ? "4:2:0" : mode == 1 ? "4:4:4" : "grey", q, kind, ref.n,
                     a.n, same(ref, a) ? "same" : "differs", avx2 ? "avx2" : "scalar(no avx2)", b.n,
                     same(ref, b) ? "same" : "differs", t.n, same(ref, t) ? "same" : "differs");
            free(ref.p);
            free(a.p);
            free(b.p);
            free(t.p);
            free(px);
        }
    /* random sizes and settings */
    for (int k = 0; k < 150; k++) {
        uint32_t w = 1 + tt_rnd() % 90, h = 1 + tt_rnd() % 90;
        int mode = (int)(tt_rnd() % 3), ch = mode == 2 ? 1 : 3, sub = mode == 0;
        int q = 1 + (int)(tt_rnd() % 100);
        uint8_t *px = make_image((int)(tt_rnd() % 5), w, h, ch);
        struct membuf ref = enc_libjpeg(px, w, h, ch, q, sub);
        struct membuf a = enc_front(px, w, h, ch, q, sub, 0);
        struct membuf b = enc_front(px, w, h, ch, q, sub, THUMB_CPU_AVX2);
        files++;
        int ok = same(ref, a) && same(ref, b);
        if (!ok)
            diffs++;
        TT_CHECK(ok, "random %ux%u mode %d q%d: libjpeg %lu B, scalar %lu B, avx2 %lu B", (unsigned)w, (unsigned)h,
                 mode, q, ref.n, a.n, b.n);
        free(ref.p);
        free(a.p);
        free(b.p);
        free(px);
    }
    fprintf(stderr, "identical files: %d of %d (kernels: scalar, %s)\n", files - diffs, files,
            avx2 ? "avx2" : "avx2 unavailable, scalar twice");
}

/* ---------------------------------------------------------------- kernels, AVX2 against scalar */

static void test_kernels(void)
{
    const jf_kernels *s = &thumb__jf_scalar, *v = thumb__jf_kernels(THUMB_CPU_AVX2);
    if (v == s) {
        fprintf(stderr, "no AVX2 here: kernel comparison skipped, scalar checked against libjpeg above\n");
        return;
    }
    int bad = 0;
    for (int k = 0; k < 2000; k++) {
        size_t n = tt_rnd() % 70;
        uint8_t rgb[3 * 70], y0[70], y1[70], b0[70], b1[70], r0[70], r1[70];
        for (size_t i = 0; i < 3 * n; i++)
            rgb[i] = k < 8 ? (uint8_t)(k & 1 ? 255 : 0) : (uint8_t)tt_rnd();
        s->rgb_ycc(rgb, y0, b0, r0, n);
        v->rgb_ycc(rgb, y1, b1, r1, n);
        bad += memcmp(y0, y1, n) || memcmp(b0, b1, n) || memcmp(r0, r1, n);

        uint8_t a[140], b[140], o0[70], o1[70];
        for (size_t i = 0; i < 2 * n; i++) {
            a[i] = (uint8_t)tt_rnd();
            b[i] = k < 8 ? 255 : (uint8_t)tt_rnd();
        }
        s->down2(a, b, o0, n);
        v->down2(a, b, o1, n);
        bad += memcmp(o0, o1, n) != 0;
    }
    TT_CHECK(bad == 0, "%d colour/reduce cases differ", bad);
    /* every RGB value once, through both */
    {
        static uint8_t rgb[256 * 256 * 3], ys[256 * 256], yv[256 * 256], cbs[256 * 256], cbv[256 * 256],
            crs[256 * 256], crv[256 * 256];
        int diff = 0;
        for (int r = 0; r < 256; r++) {
            for (int i = 0; i < 256 * 256; i++) {
                rgb[3 * i] = (uint8_t)r;
                rgb[3 * i + 1] = (uint8_t)(i >> 8);
                rgb[3 * i + 2] = (uint8_t)i;
            }
            s->rgb_ycc(rgb, ys, cbs, crs, 256 * 256);
            v->rgb_ycc(rgb, yv, cbv, crv, 256 * 256);
            diff += memcmp(ys, yv, sizeof ys) || memcmp(cbs, cbv, sizeof cbs) || memcmp(crs, crv, sizeof crs);
        }
        TT_CHECK(diff == 0, "rgb_ycc differs over all 2^24 colours (%d slices)", diff);
    }
    bad = 0;
    for (int k = 0; k < 20000; k++) {
        uint16_t qv[64];
        int qk = (int)(tt_rnd() % 4);
        for (int i = 0; i < 64; i++)
            qv[i] = (uint16_t)(qk == 0 ? 1 : qk == 1 ? 255 : qk == 2 ? 1 + tt_rnd() % 255 : 1u << (tt_rnd() % 8));
        jf_quant q;
        thumb__jf_quant_init(&q, qv);
        /* three blocks side by side (stride 24, 8 bytes slack): random, stripes, checkers, noise
         * bits, and the sign pattern of one DCT basis function (the extreme for its output) */
        uint8_t px[8 * 24 + 8];
        int pk = (int)(tt_rnd() % 5), basis = (int)(tt_rnd() % 64), inv = (int)(tt_rnd() % 2);
        for (int i = 0; i < 8 * 24 + 8; i++) {
            int r = i / 24 % 8, c = i % 24 % 8;
            double cu = cos((2 * c + 1) * (basis % 8) * 3.14159265358979 / 16);
            double cv = cos((2 * r + 1) * (basis / 8) * 3.14159265358979 / 16);
            px[i] = pk == 0 ? (uint8_t)tt_rnd() : pk == 1 ? (uint8_t)((i & 1) ? 255 : 0)
                  : pk == 2 ? (uint8_t)(((i % 24) ^ (i / 24)) & 1 ? 255 : 0)
                  : pk == 3 ? (uint8_t)(tt_rnd() & 1 ? 255 : 0)
                            : (uint8_t)(((cu * cv >= 0) ^ inv) ? 255 : 0);
        }
        int16_t c0[3 * 64], c1[3 * 64];
        size_t nb = 1 + tt_rnd() % 3;
        s->fdct_quant(px, 24, &q, c0, nb);
        v->fdct_quant(px, 24, &q, c1, nb);
        bad += memcmp(c0, c1, nb * 64 * sizeof(int16_t)) != 0;
        uint32_t n0[256] = {0}, n1[256] = {0};
        int16_t blk[64];
        int density = (int)(tt_rnd() % 65);
        for (int i = 0; i < 64; i++)
            blk[i] = (int)(tt_rnd() % 64) < density ? (int16_t)((int)(tt_rnd() % 2047) - 1023) : 0;
        s->ac_stats(blk, n0);
        v->ac_stats(blk, n1);
        s->ac_stats(c0, n0);
        v->ac_stats(c0, n1);
        bad += memcmp(n0, n1, sizeof n0) != 0;
    }
    TT_CHECK(bad == 0, "%d transform/statistics cases differ", bad);
}

/* ---------------------------------------------------------------- Huffman tables */

/* Kraft sum and lengths from bits[]: a valid table has every symbol, lengths <= 16 and leaves
 * the all-ones code unused (sum over 2^-len < 1). */
static void check_table(const uint32_t freq[256], const char *what)
{
    uint8_t bits[17], val[256];
    int n = thumb__jf_huff_table(freq, bits, val);
    int want = 0, total = 0;
    for (int i = 0; i < 256; i++)
        want += freq[i] != 0;
    double kraft = 0;
    for (int l = 1; l <= 16; l++) {
        total += bits[l];
        kraft += bits[l] / (double)(1 << l);
    }
    int seen[256] = {0}, dup = 0, missing = 0;
    for (int i = 0; i < n; i++)
        dup += seen[val[i]]++;
    for (int i = 0; i < 256; i++)
        missing += freq[i] && !seen[i];
    TT_CHECK(n == want && total == n && bits[0] == 0 && kraft < 1.0 && !dup && !missing,
             "%s: %d symbols of %d, bits total %d, Kraft %.6f, %d duplicated, %d missing", what, n, want, total,
             kraft, dup, missing);
}

static void test_huffman(void)
{
    uint32_t f[256];
    memset(f, 0, sizeof f);
    f[0] = 5;
    check_table(f, "one symbol");
    for (int i = 0; i < 256; i++)
        f[i] = 1;
    check_table(f, "all equal");
    /* Fibonacci counts: Annex K's tree gets as deep as the symbol count */
    memset(f, 0, sizeof f);
    uint32_t a = 1, b = 1;
    for (int i = 0; i < 40; i++) {
        f[i] = a;
        uint32_t t = a + b;
        a = b;
        b = t;
    }
    check_table(f, "40 Fibonacci counts (tree depth over 32)");
    for (int k = 0; k < 200; k++) {
        for (int i = 0; i < 256; i++)
            f[i] = tt_rnd() % 3 == 0 ? 0 : tt_rnd() % (1u << (tt_rnd() % 24));
        check_table(f, "random");
    }
}

int main(void)
{
    load_photo();
    TT_CHECK(photo != NULL, "corpus photo missing: %s", tt_corpus("photos/flowers.jpeg"));
    test_huffman();
    test_kernels();
    test_identical_files();
    free(photo);
    return tt_report(__FILE__);
}
