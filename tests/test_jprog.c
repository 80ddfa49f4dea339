/* Our progressive decoder (libthumb/jprog.h) against libjpeg-turbo itself:
 *  - files made here with libjpeg (jpeg_simple_progression and scan scripts of spectral selection
 *    only, successive approximation, per-component scans), 4:2:0, 4:4:4 and grey, odd sizes,
 *    restart intervals, and the corpus's progressive files: at every scale jprog takes (1/8, 2/8,
 *    4/8), RGB, YCbCr and grey, whole images and random windows, the samples are libjpeg's byte
 *    for byte; so are the half-size chroma planes;
 *  - through the library, files cut short, cut by EOI, with bytes flipped, with scans missing
 *    and with bad scan parameters end with libjpeg's result code (ctx->no_jdfast), the scan limit
 *    holds, and the store is the size jprog.h says. */
#include "internal.h"
#include "jprog.h"
#include "jref.h"
#include "tt.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

static int compared, windows_compared, half_compared, not_taken;
static unsigned features;

static bool quiet;
static jdfast *live; /* thumb__jprog_start sets it before anything can longjmp */
static jprog_limits limits = {1000, 1ull << 34, &quiet};

/* jprog over the window against ref. 1 compared, 0 not taken, -1 differs. */
static int prog_compare(const char *name, const uint8_t *data, size_t len, int scale, J_COLOR_SPACE cs,
                        const uint8_t *ref, uint32_t rw, int ch, uint32_t x0, uint32_t x1, uint32_t y0, uint32_t y1)
{
    struct jpeg_decompress_struct d;
    struct jerr e;
    err_setup(&d, &e);
    live = NULL;
    jpeg_create_decompress(&d);
    if (setjmp(e.jb)) {
        TT_CHECK(0, "%s: libjpeg error under jprog", name);
        thumb__jdfast_free(live);
        jpeg_destroy_decompress(&d);
        return -1;
    }
    header_at(&d, data, len, scale, cs);
    if (!thumb__jprog_usable(&d)) {
        jpeg_destroy_decompress(&d);
        return 0;
    }
    int rc = thumb__jprog_start(&live, NULL, &d, x0, x1, y0, y1, cs == JCS_YCbCr, false, features, NULL, NULL, &limits);
    jdfast *ff = live;
    if (rc != THUMB_OK) {
        TT_CHECK(0, "%s scale %d: start %d", name, scale, rc);
        thumb__jdfast_free(ff);
        jpeg_destroy_decompress(&d);
        return -1;
    }
    int result = rows_compare(name, ff, scale, cs, ref, rw, ch, x0, x1, y0, y1);
    thumb__jdfast_free(ff);
    jpeg_destroy_decompress(&d);
    return result;
}

/* Half-size chroma planes: luma as libjpeg's decode at the scale, chroma as its decode at half */
static void half_compare(const char *name, const uint8_t *data, size_t len, int windows)
{
    for (int scale = 2; scale <= 4; scale *= 2) {
        uint32_t w, h, cw, chh;
        int ch, cch;
        uint8_t *ry = ref_decode(data, len, scale, JCS_YCbCr, &w, &h, &ch);
        uint8_t *rc = ref_decode(data, len, scale / 2, JCS_YCbCr, &cw, &chh, &cch);
        if (!ry || !rc || ch != 3 || cch != 3 || cw != (w + 1) / 2 || chh != (h + 1) / 2) {
            free(ry);
            free(rc);
            continue;
        }
        for (int win = 0; win <= windows; win++) {
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
            live = NULL;
            jpeg_create_decompress(&d);
            if (setjmp(e.jb)) {
                TT_CHECK(0, "%s: libjpeg error under jprog (half chroma)", name);
                thumb__jdfast_free(live);
                jpeg_destroy_decompress(&d);
                continue;
            }
            header_at(&d, data, len, scale, JCS_YCbCr);
            if (!thumb__jprog_usable(&d) || d.max_h_samp_factor != 2 || d.max_v_samp_factor != 2) {
                jpeg_destroy_decompress(&d);
                continue;
            }
            int r0 = thumb__jprog_start(&live, NULL, &d, x0, x1, y0, y1, true, true, features, NULL, NULL, &limits);
            jdfast *ff = live;
            if (r0 != THUMB_OK) {
                TT_CHECK(0, "%s half %d/8: start %d", name, scale, r0);
                thumb__jdfast_free(ff);
                jpeg_destroy_decompress(&d);
                continue;
            }
            half_compared += planes_compare(name, ff, scale, ry, w, rc, cw, x0, x1, y0, y1);
            thumb__jdfast_free(ff);
            jpeg_destroy_decompress(&d);
        }
        free(ry);
        free(rc);
    }
}

static void check_file(const char *name, const uint8_t *data, size_t len, int windows)
{
    compare_scales(name, data, len, windows, 4, prog_compare, &compared, &windows_compared, &not_taken);
    half_compare(name, data, len, windows / 2);
}

/* ---------------------------------------------------------------- files made here */

/* scan scripts: 0 jpeg_simple_progression, 1 spectral selection only, 2 successive approximation
 * with DC and AC refinements, 3 one component a scan (DC too), narrow bands */
static const jpeg_scan_info script_spectral[] = {
    {3, {0, 1, 2}, 0, 0, 0, 0}, {1, {0}, 1, 5, 0, 0},  {1, {0}, 6, 63, 0, 0},
    {1, {1}, 1, 63, 0, 0},      {1, {2}, 1, 63, 0, 0},
};
static const jpeg_scan_info script_sa[] = {
    {3, {0, 1, 2}, 0, 0, 0, 2}, {1, {0}, 1, 9, 0, 3},  {1, {0}, 10, 63, 0, 2}, {1, {0}, 1, 9, 3, 2},
    {1, {0}, 1, 63, 2, 1},      {1, {1}, 1, 63, 0, 1}, {1, {2}, 1, 63, 0, 2},  {3, {0, 1, 2}, 0, 0, 2, 1},
    {1, {2}, 1, 63, 2, 1},      {1, {0}, 1, 63, 1, 0}, {1, {1}, 1, 63, 1, 0},  {1, {2}, 1, 63, 1, 0},
    {3, {0, 1, 2}, 0, 0, 1, 0},
};
static const jpeg_scan_info script_percomp[] = {
    {1, {0}, 0, 0, 0, 1}, {1, {2}, 0, 0, 0, 0},  {1, {1}, 0, 0, 0, 0},  {1, {0}, 1, 1, 0, 0},
    {1, {0}, 2, 2, 0, 0}, {1, {0}, 3, 20, 0, 1}, {1, {0}, 21, 63, 0, 0}, {1, {1}, 1, 63, 0, 0},
    {1, {0}, 0, 0, 1, 0}, {1, {2}, 1, 40, 0, 0}, {1, {2}, 41, 63, 0, 0}, {1, {0}, 3, 20, 1, 0},
};
static const jpeg_scan_info script_grey_sa[] = {
    {1, {0}, 0, 0, 0, 1}, {1, {0}, 1, 2, 0, 2}, {1, {0}, 3, 63, 0, 1}, {1, {0}, 1, 2, 2, 1},
    {1, {0}, 0, 0, 1, 0}, {1, {0}, 1, 63, 1, 0},
};

static int std_tables; /* encode_prog: the standard Huffman tables, not optimised ones */

static uint8_t *encode_prog(uint32_t w, uint32_t h, int kind, int script, int quality, int restart, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *buf = NULL;
    unsigned long n = 0;
    bool grey = kind == 2;
    made_begin(&c, &e, &buf, &n, w, h, grey, kind == 0, quality, restart);
    if (script == 0 || (grey && script != 2)) {
        jpeg_simple_progression(&c);
    } else if (grey) {
        c.scan_info = script_grey_sa;
        c.num_scans = (int)(sizeof script_grey_sa / sizeof script_grey_sa[0]);
    } else if (script == 1) {
        c.scan_info = script_spectral;
        c.num_scans = (int)(sizeof script_spectral / sizeof script_spectral[0]);
    } else if (script == 2) {
        c.scan_info = script_sa;
        c.num_scans = (int)(sizeof script_sa / sizeof script_sa[0]);
    } else {
        c.scan_info = script_percomp;
        c.num_scans = (int)(sizeof script_percomp / sizeof script_percomp[0]);
    }
    c.optimize_coding = !std_tables;
    jpeg_start_compress(&c, TRUE);
    made_rows(&c, 0, 20, false);
    *len = n;
    return buf;
}

static void check_made(void)
{
    static const uint32_t sizes[][2] = {{1, 1}, {7, 9}, {16, 16}, {17, 15}, {33, 31}, {100, 75}, {129, 67}, {255, 257}};
    int made = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int kind = 0; kind < 3; kind++)
            for (int script = 0; script < 4; script++) {
                int r = (int)(tt_rnd() % 4);
                int rs = r == 0 ? 0 : r == 1 ? 1 : r == 2 ? -1 : -5;
                int q = 5 + (int)(tt_rnd() % 96);
                size_t len;
                uint8_t *data = encode_prog(sizes[i][0], sizes[i][1], kind, script, q, rs, &len);
                char name[96];
                snprintf(name, sizeof name, "made %ux%u kind %d script %d q %d restart %d", (unsigned)sizes[i][0],
                         (unsigned)sizes[i][1], kind, script, q, rs);
                check_file(name, data, len, 3);
                const char *seeds = getenv("JPROG_SEEDS"); /* fuzz/make-seeds takes them from there */
                if (seeds && len < 20000) {
                    char path[700];
                    snprintf(path, sizeof path, "%s/made-%d.jpg", seeds, made);
                    FILE *fp = fopen(path, "wb");
                    if (fp) {
                        fwrite(data, 1, len, fp);
                        fclose(fp);
                    }
                }
                free(data);
                made++;
            }
    TT_CHECK(made == 96, "made %d files", made);
}

/* The store is what jprog.h says: grey 256x200 (32x25 blocks), whole image: 1/8 keeps 2 bytes a
 * block, 2/8 25 coefficients, the slot for those not kept and a nonzero mask (60), 4/8 49, the
 * slot and the mask (108); a window of 8x8 output pixels at 2/8 keeps the 4x4 blocks under it
 * (the mask still covers them all). */
static void check_store(void)
{
    size_t len;
    uint8_t *data = encode_prog(256, 200, 2, 0, 80, 0, &len);
    static const struct { int scale; uint32_t x0, x1, y0, y1; uint64_t bytes; } cases[] = {
        {1, 0, 32, 0, 25, 800 * 2},
        {2, 0, 64, 0, 50, 800 * 60},
        {4, 0, 128, 0, 100, 800 * 108},
        {2, 10, 18, 20, 28, 26 * 2 * 4 * 4 + 800 * 8}, /* [10,18) and [20,28): blocks 5..8 and 10..13 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct jpeg_decompress_struct d;
        struct jerr e;
        err_setup(&d, &e);
        live = NULL;
        jpeg_create_decompress(&d);
        if (setjmp(e.jb)) {
            TT_CHECK(0, "store case %zu: libjpeg error", i);
            thumb__jdfast_free(live);
            jpeg_destroy_decompress(&d);
            continue;
        }
        header_at(&d, data, len, cases[i].scale, JCS_GRAYSCALE);
        int rc = thumb__jprog_start(&live, NULL, &d, cases[i].x0, cases[i].x1, cases[i].y0, cases[i].y1, false, false,
                                    features, NULL, NULL, &limits);
        uint64_t got = thumb__jprog_bytes(live);
        TT_CHECK(rc == THUMB_OK && got == cases[i].bytes, "store case %zu (%d/8): rc %d, %llu bytes, expected %llu", i,
                 cases[i].scale, rc, (unsigned long long)got, (unsigned long long)cases[i].bytes);
        thumb__jdfast_free(live);
        live = NULL;
        jpeg_destroy_decompress(&d);
    }
    free(data);
}

/* ---------------------------------------------------------------- through the library */

static int run(thumb_ctx *ctx, const uint8_t *data, size_t len, int fast, uint32_t box, const void **out, size_t *n)
{
    ctx->no_jdfast = !fast;
    thumb_options o;
    thumb_options_init(&o);
    o.width = box;
    o.height = box;
    o.fit = THUMB_FIT_COVER;
    void *p = NULL;
    size_t pn = 0;
    int rc = thumb_thumbnail_mem(ctx, data, len, &o, &p, &pn);
    if (out) {
        *out = p;
        *n = pn;
    } else {
        thumb_free(p);
    }
    return rc;
}

/* thumbnails as libjpeg's, from memory and from a stream read in short pieces; damage ends with
 * libjpeg's code */
static void check_library(void)
{
    thumb_ctx *ctx = thumb_ctx_new();
    int streamed = 0;
    ctx->no_ycc = 1; /* RGB rows: libjpeg's path then makes the same pixels (YCbCr and half chroma: above) */
    int same = 0, total = 0;
    for (int kind = 0; kind < 3; kind++)
        for (int script = 0; script < 4; script++) {
            size_t len;
            uint8_t *data = encode_prog(640 + 7u * (uint32_t)script, 480, kind, script, 90, script == 3 ? 2 : 0, &len);
            static const uint32_t boxes[] = {64, 150, 300};
            for (int b = 0; b < 3; b++) {
                const void *x, *y;
                size_t xn, yn;
                int a = run(ctx, data, len, 1, boxes[b], &x, &xn), c = run(ctx, data, len, 0, boxes[b], &y, &yn);
                TT_CHECK(a == THUMB_OK && c == THUMB_OK, "kind %d script %d box %u: %s / %s", kind, script,
                         (unsigned)boxes[b], thumb_error_name(a), thumb_error_name(c));
                total++;
                same += xn == yn && !memcmp(x, y, xn);
                if (b == 1) {
                    ctx->no_jdfast = 0;
                    thumb_options o;
                    thumb_options_init(&o);
                    o.width = o.height = boxes[b];
                    o.fit = THUMB_FIT_COVER;
                    reader rd = {data, len, 0, 700};
                    sink sk = {NULL, 0, 0};
                    int rs = thumb_thumbnail_stream(ctx, read_some, &rd, &o, write_all, &sk);
                    TT_CHECK(rs == THUMB_OK && sk.n == xn && !memcmp(sk.p, x, xn), "kind %d script %d: stream %s",
                             kind, script, thumb_error_name(rs));
                    free(sk.p);
                    reader cut = {data, len * 3 / 4, 0, 700};
                    sink sc = {NULL, 0, 0};
                    rs = thumb_thumbnail_stream(ctx, read_some, &cut, &o, write_all, &sc);
                    TT_CHECK(rs == THUMB_ETRUNCATED, "kind %d script %d: stream cut to 3/4: %s", kind, script,
                             thumb_error_name(rs));
                    free(sc.p);
                    streamed++;
                }
                thumb_free((void *)x);
                thumb_free((void *)y);
            }
            free(data);
        }
    TT_CHECK(same == total, "thumbnails: %d of %d as libjpeg's", same, total);

    size_t len;
    uint8_t *data = encode_prog(300, 200, 0, 2, 85, -7, &len);
    size_t s0 = scan_start(data, len);
    NEED(s0 > 0, "scan start");
    int agree = 0, cases = 0;
    for (size_t l = s0; l < len - 2; l += 53) {
        int a = run(ctx, data, l, 1, 64, NULL, NULL), b = run(ctx, data, l, 0, 64, NULL, NULL);
        TT_CHECK(a == THUMB_ETRUNCATED, "cut at %zu: %s", l, thumb_error_name(a));
        agree += a == b;
        cases++;
    }
    TT_CHECK(agree == cases, "cut: %d of %d as libjpeg", agree, cases);
    uint8_t *m = malloc(len + 2);
    agree = cases = 0;
    for (size_t at = s0 + 5; at < len - 4; at += 101) {
        memcpy(m, data, at);
        m[at] = 0xFF;
        m[at + 1] = 0xD9;
        int a = run(ctx, m, at + 2, 1, 100, NULL, NULL), b = run(ctx, m, at + 2, 0, 100, NULL, NULL);
        TT_CHECK(a == b, "EOI at %zu: jprog %s, libjpeg %s", at, thumb_error_name(a), thumb_error_name(b));
        agree += a == b;
        cases++;
    }
    int flips_same = 0, flips = 0;
    for (int i = 0; i < 150; i++) {
        memcpy(m, data, len);
        for (int j = 0; j < 1 + i % 4; j++)
            m[s0 + tt_rnd() % (len - s0 - 2)] ^= (uint8_t)(1 + tt_rnd() % 255);
        uint32_t box = i % 3 == 0 ? 40 : i % 3 == 1 ? 80 : 150;
        int a = run(ctx, m, len, 1, box, NULL, NULL), b = run(ctx, m, len, 0, box, NULL, NULL);
        TT_CHECK(a == THUMB_OK || a == THUMB_ECORRUPT || a == THUMB_ETRUNCATED, "flip %d: %s", i, thumb_error_name(a));
        flips_same += a == b;
        flips++;
    }
    /* jprog skips the AC scans a 1/8 decode does not need, where libjpeg may warn about damage */
    TT_CHECK(flips_same * 10 >= flips * 9, "flips: %d of %d as libjpeg", flips_same, flips);
    printf("library: %d thumbnails (%d also streamed), cut and EOI %d, flips %d of %d agree\n", total, streamed,
           cases, flips_same, flips);

    /* Huffman tables missing: every DHT segment after the first scan dropped in turn (the file has
     * the standard tables, sent before the first scan that uses each) */
    std_tables = 1;
    size_t sl;
    uint8_t *sd = encode_prog(200, 120, 0, 0, 80, 0, &sl);
    std_tables = 0;
    size_t s1 = scan_start(sd, sl);
    int dropped = 0, dropped_same = 0;
    for (size_t i = s1; i + 4 < sl; i++) {
        if (sd[i] != 0xFF || sd[i + 1] != 0xC4)
            continue;
        size_t seg = 2 + ((size_t)sd[i + 2] << 8 | sd[i + 3]);
        uint8_t *dm = malloc(sl);
        memcpy(dm, sd, i);
        memcpy(dm + i, sd + i + seg, sl - i - seg);
        for (uint32_t box = 30; box <= 120; box *= 2) {
            int a = run(ctx, dm, sl - seg, 1, box, NULL, NULL), b = run(ctx, dm, sl - seg, 0, box, NULL, NULL);
            TT_CHECK(a == b, "DHT at %zu dropped, box %u: jprog %s, libjpeg %s", i, (unsigned)box, thumb_error_name(a),
                     thumb_error_name(b));
            dropped_same += a == b;
            dropped++;
        }
        free(dm);
    }
    TT_CHECK(dropped >= 6, "%d DHT cases", dropped);
    free(sd);

    /* the scan limit */
    thumb_options o;
    thumb_options_init(&o);
    o.width = o.height = 64;
    o.max_jpeg_scans = 5;
    void *p = NULL;
    size_t pn;
    ctx->no_jdfast = 0;
    int rc = thumb_thumbnail_mem(ctx, data, len, &o, &p, &pn);
    thumb_free(p);
    TT_CHECK(rc == THUMB_ELIMIT_SCANS, "13 scans over a limit of 5: %s", thumb_error_name(rc));
    o.max_jpeg_scans = 13;
    p = NULL;
    rc = thumb_thumbnail_mem(ctx, data, len, &o, &p, &pn);
    thumb_free(p);
    TT_CHECK(rc == THUMB_OK, "13 scans at a limit of 13: %s", thumb_error_name(rc));
    free(m);
    free(data);
    ctx->no_jdfast = 0;
    thumb_ctx_free(ctx);
}

int main(void)
{
    for (int pass = 0; pass < 2; pass++) {
        features = pass ? (thumb__cpu_features() & THUMB_CPU_AVX2) : 0;
        if (pass && !features)
            break;
        check_made();
        check_dir("jpeg-variants", 3, check_file);
        check_dir("photos", 1, check_file);
    }
    check_store();
    check_library();
    printf("jprog: %d decodes and %d windows as libjpeg's, %d half-chroma windows, %d not taken\n", compared,
           windows_compared, half_compared, not_taken);
    TT_CHECK(compared > 500, "%d decodes compared", compared);
    return tt_report("test_jprog");
}
