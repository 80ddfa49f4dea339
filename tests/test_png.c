/* PNG decoder and encoder, through the internal API (tsrc + thumb__png_open + start/next_row,
 * thumb__png_encode + tsink). Reference images are made here with libspng's own encoder. */
#include "internal.h"
#include "tt.h"

#include <dirent.h>
#include <spng.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

/* ---------------------------------------------------------------- helpers */

/* TT_REQUIRE for the void test functions: check, and leave this test if it failed. */
#define REQUIRE(cond, ...) do { \
    int req_ok_ = (cond) ? 1 : 0; /* evaluated once: cond may decode */ \
    TT_CHECK(req_ok_, __VA_ARGS__); \
    if (!req_ok_) return; \
} while (0)

static uint8_t round16(uint16_t v) { return (uint8_t)(((uint32_t)v * 255u + 32767u) / 65535u); }

typedef struct memrd {
    const uint8_t *p;
    size_t len, pos, step; /* step: most bytes handed out per call, to exercise short reads */
} memrd;

static int64_t mem_read(void *user, void *buf, size_t n) {
    memrd *m = user;
    size_t left = m->len - m->pos;
    if (n > m->step) n = m->step;
    if (n > left) n = left;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (int64_t)n;
}

static int64_t fail_read(void *user, void *buf, size_t n) {
    memrd *m = user;
    if (m->pos >= m->step) return -1; /* fail after step bytes */
    return mem_read(user, buf, n);
}

typedef struct decoded {
    int code;
    tdec_header hdr;
    uint32_t w, h, x0, y0;
    int channels;
    uint8_t *px; /* w * h * channels */
    uint64_t consumed;
    char detail[256];
} decoded;

static void decoded_free(decoded *d) {
    free(d->px);
    d->px = NULL;
}

/* Decode from memory (step == 0) or from a read callback giving at most step bytes per call.
 * win: NULL for the whole image. */
static int decode_png(const uint8_t *buf, size_t len, size_t step, const thumb_options *opt, const tdec_request *win,
                      decoded *out) {
    memset(out, 0, sizeof *out);
    thumb_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    tsrc src;
    memrd m = {buf, len, 0, step};
    if (step) tsrc_init_stream(&src, &ctx, mem_read, &m, opt->max_input_bytes);
    else tsrc_init_mem(&src, &ctx, buf, len, opt->max_input_bytes);
    tdec *d = NULL;
    int rc = thumb__png_open(&d, &ctx, opt, &src);
    if (rc == THUMB_OK) {
        out->hdr = d->hdr;
        out->hdr.icc = NULL; /* owned by the decoder */
        tdec_request all = {8, 0, d->hdr.width, 0, d->hdr.height, 0};
        rc = d->ops->start(d, win ? win : &all);
        if (rc == THUMB_OK) {
            out->w = d->w, out->h = d->h, out->x0 = d->x0, out->y0 = d->y0, out->channels = d->channels;
            size_t rl = (size_t)d->w * (size_t)d->channels;
            out->px = malloc(rl * d->h);
            for (uint32_t y = 0; rc == THUMB_OK && y < d->h; y++) {
                const uint8_t *row = NULL;
                rc = d->ops->next_row(d, &row);
                if (rc == THUMB_OK) memcpy(out->px + rl * y, row, rl);
            }
        }
        d->ops->destroy(d);
    }
    out->code = rc;
    out->consumed = step ? m.pos : src.consumed;
    memcpy(out->detail, ctx.detail, sizeof out->detail);
    if (rc) decoded_free(out);
    return rc;
}

/* A PNG made by libspng's encoder from rows in the PNG's own layout (16-bit host-endian). */
static uint8_t *make_png(uint32_t w, uint32_t h, int ct, int bd, int interlace, const void *img, size_t img_len,
                         const struct spng_plte *plte, const struct spng_trns *trns, size_t *out_len) {
    spng_ctx *c = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(c, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ih = {w, h, (uint8_t)bd, (uint8_t)ct, 0, 0, (uint8_t)interlace};
    spng_set_ihdr(c, &ih);
    if (plte) spng_set_plte(c, (struct spng_plte *)plte);
    if (trns) spng_set_trns(c, (struct spng_trns *)trns);
    int ret = spng_encode_image(c, img, img_len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    int err = 0;
    uint8_t *png = ret ? NULL : spng_get_png_buffer(c, out_len, &err);
    if (ret || err) fprintf(stderr, "make_png: %s\n", spng_strerror(ret ? ret : err));
    spng_ctx_free(c);
    return png;
}

/* Growable byte buffer for hand-built PNGs. */
typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n) {
    if (n == 0) return;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_be32(bytes *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

/* A chunk whose length field says declared_len (the data written is only n bytes when it lies). */
static void put_chunk_len(bytes *b, const char *type, const void *data, size_t n, uint32_t declared_len) {
    put_be32(b, declared_len);
    put(b, type, 4);
    put(b, data, n);
    uLong crc = crc32(0, (const Bytef *)type, 4);
    if (n) crc = crc32(crc, data, (uInt)n); /* crc32(crc, NULL, 0) would restart at 0 */
    put_be32(b, (uint32_t)crc);
}

static void put_chunk(bytes *b, const char *type, const void *data, size_t n) { put_chunk_len(b, type, data, n, (uint32_t)n); }

/* PNG bytes with extra bytes inserted after IHDR (offset 33). */
static bytes with_chunks_after_ihdr(const uint8_t *png, size_t len, const bytes *extra) {
    bytes b = {0};
    put(&b, png, 33);
    put(&b, extra->p, extra->len);
    put(&b, png + 33, len - 33);
    return b;
}

static uint8_t *tiny_grey_png(size_t *len) {
    static const uint8_t px[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
    return make_png(4, 4, 0, 8, 0, px, sizeof px, NULL, NULL, len);
}

static thumb_options defaults(void) {
    thumb_options o;
    thumb_options_init(&o);
    return o;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- a 120 MB PNG, generated as it is read */

/* 8000 x 5000 RGB, filter 0, deflate stored blocks, one stored block per IDAT: 120 MB of image
 * data that never exists whole, here or (the point of the test) in the decoder. */
typedef struct bigpng {
    uint32_t w, h;
    uint8_t chunk[65536 + 64];
    size_t chunk_len, chunk_pos;
    uint64_t raw_pos, raw_total;   /* position in the filtered scanline stream */
    uLong adler;
    int stage;                     /* 0 header, 1 IDATs, 2 adler+IEND, 3 done */
} bigpng;

static uint8_t big_sample(const bigpng *g, uint64_t i) {
    uint64_t rl = (uint64_t)g->w * 3 + 1, y = i / rl, k = i % rl;
    if (k == 0) return 0; /* filter byte */
    return (uint8_t)((k - 1) * 7 + y * 3);
}

static void big_next_chunk(bigpng *g) {
    /* Straight into the fixed chunk buffer: no allocation churn to blur the RSS measurement. */
    bytes b = {g->chunk, 0, sizeof g->chunk};
    if (g->stage == 0) {
        static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
        put(&b, sig, 8);
        uint8_t ih[13] = {0};
        for (int i = 0; i < 4; i++) ih[i] = (uint8_t)(g->w >> (24 - 8 * i)), ih[4 + i] = (uint8_t)(g->h >> (24 - 8 * i));
        ih[8] = 8, ih[9] = 2;
        put_chunk(&b, "IHDR", ih, 13);
        static const uint8_t zhdr[2] = {0x78, 0x01};
        put_chunk(&b, "IDAT", zhdr, 2);
        g->adler = adler32(0, NULL, 0);
        g->stage = 1;
    } else if (g->stage == 1) {
        uint8_t data[65535 + 5];
        uint64_t left = g->raw_total - g->raw_pos;
        uint16_t n = left > 65535 ? 65535 : (uint16_t)left;
        data[0] = 0; /* stored, not final: the final empty block comes with the adler */
        data[1] = (uint8_t)n, data[2] = (uint8_t)(n >> 8), data[3] = (uint8_t)~n, data[4] = (uint8_t)(~n >> 8);
        for (uint16_t i = 0; i < n; i++) data[5 + i] = big_sample(g, g->raw_pos + i);
        g->adler = adler32(g->adler, data + 5, n);
        g->raw_pos += n;
        put_chunk(&b, "IDAT", data, (size_t)n + 5);
        if (g->raw_pos == g->raw_total) g->stage = 2;
    } else if (g->stage == 2) {
        uint8_t tail[9] = {1, 0, 0, 0xFF, 0xFF};
        for (int i = 0; i < 4; i++) tail[5 + i] = (uint8_t)(g->adler >> (24 - 8 * i));
        put_chunk(&b, "IDAT", tail, 9);
        put_chunk(&b, "IEND", NULL, 0);
        g->stage = 3;
    }
    g->chunk_len = b.len, g->chunk_pos = 0;
}

static int64_t big_read(void *user, void *buf, size_t n) {
    bigpng *g = user;
    if (g->chunk_pos == g->chunk_len) {
        if (g->stage == 3) return 0;
        big_next_chunk(g);
    }
    size_t k = g->chunk_len - g->chunk_pos;
    if (k > n) k = n;
    memcpy(buf, g->chunk + g->chunk_pos, k);
    g->chunk_pos += k;
    return (int64_t)k;
}

static long maxrss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_big_stream(void) {
    bigpng *g = calloc(1, sizeof *g);
    g->w = 8000, g->h = 5000;
    g->raw_total = ((uint64_t)g->w * 3 + 1) * g->h;
    long rss0 = maxrss_kb();
    thumb_options opt = defaults();
    opt.max_input_bytes = 0;
    thumb_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    tsrc src;
    tsrc_init_stream(&src, &ctx, big_read, g, 0);
    tdec *d = NULL;
    int rc = thumb__png_open(&d, &ctx, &opt, &src);
    TT_CHECK(rc == THUMB_OK, "big: open %d %s", rc, ctx.detail);
    if (rc == THUMB_OK) {
        tdec_request all = {8, 0, g->w, 0, g->h, 0};
        rc = d->ops->start(d, &all);
        TT_CHECK(rc == THUMB_OK, "big: start %d", rc);
        uint32_t bad = 0, y = 0;
        for (; rc == THUMB_OK && y < g->h; y++) {
            const uint8_t *row;
            rc = d->ops->next_row(d, &row);
            if (rc) break;
            for (uint32_t x = 0; x < g->w * 3; x += 997)
                if (row[x] != (uint8_t)(x * 7 + y * 3)) bad++;
        }
        TT_CHECK(rc == THUMB_OK && y == g->h, "big: rows %u rc %d %s", y, rc, ctx.detail);
        TT_CHECK(bad == 0, "big: %u wrong samples", bad);
        d->ops->destroy(d);
    }
    long grown = maxrss_kb() - rss0;
    /* 120 MB went through; a few rows (24 KB each) plus libspng and zlib state is all that may stay. */
    TT_CHECK(grown < 32 * 1024, "big: peak RSS grew by %ld KB while decoding a 120 MB PNG", grown);
    TT_CHECK(src.consumed > 120000000u, "big: only %llu bytes read", (unsigned long long)src.consumed);
    free(g);
}

/* ---------------------------------------------------------------- PngSuite */

/* Every pixel against libspng's own full-image RGBA16 decode, reduced with the rounding rule. */
static void check_against_reference(const char *name, const uint8_t *png, size_t len, const decoded *dd) {
    spng_ctx *c = spng_ctx_new(0);
    spng_set_png_buffer(c, png, len);
    size_t n = 0;
    spng_decoded_image_size(c, SPNG_FMT_RGBA16, &n);
    uint16_t *ref = malloc(n);
    int ret = spng_decode_image(c, ref, n, SPNG_FMT_RGBA16, SPNG_DECODE_TRNS);
    TT_CHECK(ret == 0, "%s: reference decode %s", name, spng_strerror(ret));
    static const int map[5][4] = {{0}, {0}, {0, 3}, {0, 1, 2}, {0, 1, 2, 3}};
    size_t bad = 0;
    for (uint32_t y = 0; ret == 0 && y < dd->h; y++)
        for (uint32_t x = 0; x < dd->w; x++)
            for (int k = 0; k < dd->channels; k++) {
                uint8_t want = round16(ref[((size_t)y * dd->w + x) * 4 + map[dd->channels][k]]);
                if (dd->px[((size_t)y * dd->w + x) * dd->channels + k] != want) bad++;
            }
    TT_CHECK(bad == 0, "%s: %zu samples differ from libspng's reference", name, bad);
    free(ref);
    spng_ctx_free(c);
}

static void test_pngsuite(void) {
    const char *dir = tt_corpus("pngsuite");
    DIR *dh = opendir(dir);
    TT_CHECK(dh != NULL, "cannot open %s", dir);
    if (!dh) return;
    thumb_options opt = defaults();
    int files = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        const char *nm = e->d_name;
        size_t nl = strlen(nm);
        if (nl < 5 || strcmp(nm + nl - 4, ".png")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        size_t len;
        uint8_t *png = tt_read_file(path, &len);
        TT_CHECK(png != NULL, "read %s", path);
        if (!png) continue;
        files++;
        /* Names: [n|i][colour type][g|c|p|a][depth], optional -SIZE[i] from Go's variants. */
        int ct = -1, bd = 0;
        for (size_t i = 0; i + 4 < nl; i++)
            if ((nm[i] == 'n' || nm[i] == 'i') && nm[i + 1] >= '0' && nm[i + 1] <= '6' && strchr("gcpa", nm[i + 2]) &&
                nm[i + 3] >= '0' && nm[i + 3] <= '9') {
                ct = nm[i + 1] - '0';
                bd = atoi(nm + i + 3);
                break;
            }
        const char *dash = strchr(nm, '-');
        uint32_t size = dash && dash[1] >= '0' && dash[1] <= '9' ? (uint32_t)atoi(dash + 1) : 32;
        int interlaced = nm[nl - 5] == 'i';
        int trns = !strncmp(nm, "ftb", 3) || !strncmp(nm, "ftp1", 4) || strstr(nm, "trns") != NULL;
        int want_ch = ct == 0 ? (trns ? 2 : 1) : ct == 4 ? 2 : ct == 6 ? 4 : trns ? 4 : 3;

        decoded a, b;
        decode_png(png, len, 0, &opt, NULL, &a);
        TT_CHECK(a.code == THUMB_OK, "%s: %d %s", nm, a.code, a.detail);
        if (a.code == THUMB_OK) {
            TT_CHECK(a.hdr.format == THUMB_FORMAT_PNG, "%s: format %d", nm, a.hdr.format);
            TT_CHECK(a.w == size && a.h == size && a.hdr.width == size && a.hdr.height == size, "%s: %ux%u, want %u", nm,
                     a.w, a.h, size);
            TT_CHECK(a.channels == want_ch && a.hdr.channels == want_ch, "%s: %d channels, want %d", nm, a.channels,
                     want_ch);
            TT_CHECK(a.hdr.has_alpha == (want_ch == 2 || want_ch == 4), "%s: has_alpha %d", nm, a.hdr.has_alpha);
            TT_CHECK(a.hdr.bit_depth == bd, "%s: depth %d want %d", nm, a.hdr.bit_depth, bd);
            TT_CHECK(a.hdr.colour_space == 100 + ct, "%s: colour_space %d", nm, a.hdr.colour_space);
            TT_CHECK(a.hdr.progressive == interlaced, "%s: progressive %d", nm, a.hdr.progressive);
            TT_CHECK(a.hdr.orientation == 1 && !a.hdr.has_exif && a.hdr.icc_len == 0, "%s: metadata", nm);
            check_against_reference(nm, png, len, &a);
            /* Stream mode, 7 bytes per callback, gives the same rows. */
            decode_png(png, len, 7, &opt, NULL, &b);
            TT_CHECK(b.code == THUMB_OK && b.w == a.w && b.h == a.h && b.channels == a.channels &&
                         !memcmp(a.px, b.px, (size_t)a.w * a.h * a.channels),
                     "%s: stream decode differs (%d)", nm, b.code);
            decoded_free(&b);
        }
        decoded_free(&a);
        free(png);
    }
    closedir(dh);
    TT_CHECK(files >= 30, "only %d PngSuite files", files);
}

static const uint8_t *pixel(const decoded *d, uint32_t x, uint32_t y) {
    return d->px + ((size_t)y * d->w + x) * d->channels;
}

/* Values worked out by hand from the files' raw samples (unfiltered outside libspng). */
static void test_known_values(void) {
    thumb_options opt = defaults();
    size_t len;
    decoded d;
    uint8_t *png;

    /* basn0g16: row 0 is 2304 * x up to x = 28; 34560 = 0x8700 is 134.47 -> 134 (v >> 8 would say 135). */
    png = tt_read_file(tt_corpus("pngsuite/basn0g16.png"), &len);
    REQUIRE(png && decode_png(png, len, 0, &opt, NULL, &d) == THUMB_OK, "basn0g16");
    for (uint32_t x = 0; x <= 28; x++) TT_CHECK(pixel(&d, x, 0)[0] == round16((uint16_t)(2304 * x)), "basn0g16 x=%u", x);
    TT_CHECK(pixel(&d, 15, 0)[0] == 134, "basn0g16 (15,0) = %u, want 134", pixel(&d, 15, 0)[0]);
    TT_CHECK(pixel(&d, 29, 0)[0] == 240, "basn0g16 (29,0): 61695 -> %u, want 240", pixel(&d, 29, 0)[0]);
    TT_CHECK(pixel(&d, 31, 31)[0] == 1, "basn0g16 (31,31): 255 -> %u, want 1", pixel(&d, 31, 31)[0]);
    decoded_free(&d);
    free(png);

    /* basn0g08: value x + 32 y (mod 256) in the top rows. basn0g16 is the same ramp idea at 16 bits. */
    png = tt_read_file(tt_corpus("pngsuite/basn0g08.png"), &len);
    REQUIRE(png && decode_png(png, len, 0, &opt, NULL, &d) == THUMB_OK, "basn0g08");
    for (uint32_t y = 0; y < 8; y++)
        for (uint32_t x = 0; x < 32; x++)
            TT_CHECK(pixel(&d, x, y)[0] == ((x + 32 * y) & 255), "basn0g08 (%u,%u) = %u", x, y, pixel(&d, x, y)[0]);
    decoded_free(&d);
    free(png);

    /* basn0g02: 2-bit grey expands to 0, 85, 170, 255 in runs of 4. */
    png = tt_read_file(tt_corpus("pngsuite/basn0g02.png"), &len);
    REQUIRE(png && decode_png(png, len, 0, &opt, NULL, &d) == THUMB_OK, "basn0g02");
    for (uint32_t x = 0; x < 16; x++) TT_CHECK(pixel(&d, x, 0)[0] == (x / 4) * 85, "basn0g02 x=%u: %u", x, pixel(&d, x, 0)[0]);
    decoded_free(&d);
    free(png);

    /* basn0g01: 1-bit, white above the diagonal. */
    png = tt_read_file(tt_corpus("pngsuite/basn0g01.png"), &len);
    REQUIRE(png && decode_png(png, len, 0, &opt, NULL, &d) == THUMB_OK, "basn0g01");
    TT_CHECK(pixel(&d, 0, 0)[0] == 255 && pixel(&d, 31, 0)[0] == 0 && pixel(&d, 0, 31)[0] == 0, "basn0g01 corners");
    decoded_free(&d);
    free(png);

    /* basn3p08-trns: palette index 5 = (2,22,19) alpha 4; 32 = (82,85,9) alpha 8; 19 = (0,54,252) alpha 213. */
    png = tt_read_file(tt_corpus("pngsuite/basn3p08-trns.png"), &len);
    REQUIRE(png && decode_png(png, len, 0, &opt, NULL, &d) == THUMB_OK, "basn3p08-trns");
    TT_CHECK(d.channels == 4, "basn3p08-trns channels %d", d.channels);
    TT_CHECK(!memcmp(pixel(&d, 0, 0), (uint8_t[]){2, 22, 19, 4}, 4), "basn3p08-trns (0,0)");
    TT_CHECK(!memcmp(pixel(&d, 1, 0), (uint8_t[]){82, 85, 9, 8}, 4), "basn3p08-trns (1,0)");
    TT_CHECK(!memcmp(pixel(&d, 3, 0), (uint8_t[]){247, 59, 7, 67}, 4), "basn3p08-trns (3,0)");
    TT_CHECK(!memcmp(pixel(&d, 31, 31), (uint8_t[]){0, 54, 252, 213}, 4), "basn3p08-trns (31,31)");
    decoded_free(&d);
    free(png);

    /* basn4a16 row 1: grey 4519 -> 17.58 -> 18 (v >> 8 = 17), alpha 4229 -> 16. */
    png = tt_read_file(tt_corpus("pngsuite/basn4a16.png"), &len);
    REQUIRE(png && decode_png(png, len, 0, &opt, NULL, &d) == THUMB_OK, "basn4a16");
    TT_CHECK(d.channels == 2 && pixel(&d, 2, 1)[0] == 18 && pixel(&d, 2, 1)[1] == 16, "basn4a16 (2,1) = %u,%u",
             pixel(&d, 2, 1)[0], pixel(&d, 2, 1)[1]);
    decoded_free(&d);
    free(png);
}

/* ---------------------------------------------------------------- 16-bit rounding */

static void test_rounding16(void) {
    thumb_options opt = defaults();
    static const uint16_t v[11] = {0, 0x0080, 0x0081, 0x00FF, 0x7FFF, 0x807F, 0x8080, 0xFF00, 0xFF7F, 0xFF80, 0xFFFF};
    static const uint8_t want[11] = {0, 0, 1, 1, 127, 128, 128, 254, 255, 255, 255};
    for (int i = 0; i < 11; i++) TT_CHECK(round16(v[i]) == want[i], "round16 table %d", i);

    /* Each colour type at 16 bits, every sample of the row from the table (rotated per channel). */
    static const int cts[4] = {0, 2, 4, 6}, chs[4] = {1, 3, 2, 4};
    for (int t = 0; t < 4; t++) {
        uint16_t img[11 * 4];
        for (int x = 0; x < 11; x++)
            for (int c = 0; c < chs[t]; c++) img[x * chs[t] + c] = v[(x + c * 3) % 11];
        size_t len;
        uint8_t *png = make_png(11, 1, cts[t], 16, 0, img, (size_t)11 * chs[t] * 2, NULL, NULL, &len);
        TT_CHECK(png != NULL, "make 16-bit ct %d", cts[t]);
        if (!png) continue;
        decoded d;
        decode_png(png, len, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_OK && d.channels == chs[t], "16-bit ct %d: %d, %d channels", cts[t], d.code, d.channels);
        if (d.code == THUMB_OK)
            for (int x = 0; x < 11; x++)
                for (int c = 0; c < chs[t]; c++)
                    TT_CHECK(d.px[x * chs[t] + c] == want[(x + c * 3) % 11], "ct %d x %d c %d: %u want %u", cts[t], x, c,
                             d.px[x * chs[t] + c], want[(x + c * 3) % 11]);
        decoded_free(&d);
        free(png);
    }

    /* 16-bit grey with tRNS: grey + alpha, alpha 0 exactly where the sample equals the key. */
    {
        struct spng_trns tr = {.gray = 0x807F};
        size_t len;
        uint16_t img[11];
        memcpy(img, v, sizeof img);
        uint8_t *png = make_png(11, 1, 0, 16, 0, img, sizeof img, NULL, &tr, &len);
        decoded d;
        decode_png(png, len, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_OK && d.channels == 2 && d.hdr.has_alpha, "grey16+tRNS: %d ch %d", d.code, d.channels);
        if (d.code == THUMB_OK)
            for (int x = 0; x < 11; x++)
                TT_CHECK(d.px[2 * x] == want[x] && d.px[2 * x + 1] == (x == 5 ? 0 : 255), "grey16+tRNS x %d: %u,%u", x,
                         d.px[2 * x], d.px[2 * x + 1]);
        decoded_free(&d);
        free(png);
    }
}

/* ---------------------------------------------------------------- interlaced == non-interlaced */

static uint32_t lcg(uint32_t *s) { return *s = *s * 1664525u + 1013904223u; }

static void test_interlace(void) {
    thumb_options opt = defaults();
    struct {
        int ct, bd, ch;
    } kinds[] = {{0, 1, 1}, {0, 4, 1}, {0, 8, 1}, {0, 16, 2}, {2, 8, 3}, {2, 16, 6}, {3, 8, 1}, {3, 2, 1},
                 {4, 8, 2}, {4, 16, 4}, {6, 8, 4}, {6, 16, 8}};
    const uint32_t W = 37, H = 23;
    struct spng_plte pl = {.n_entries = 256};
    for (int i = 0; i < 256; i++) pl.entries[i] = (struct spng_plte_entry){(uint8_t)i, (uint8_t)(255 - i), (uint8_t)(i * 7), 255};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        /* Raw rows in the PNG layout: packed for bd < 8 (bytes per row rounded up), host-endian for 16. */
        /* Raw rows in the PNG layout: packed below 8 bits, host-endian at 16 (ch = bytes per pixel there). */
        size_t rowb = kinds[k].bd == 16 ? (size_t)W * kinds[k].ch : ((size_t)W * kinds[k].ch * kinds[k].bd + 7) / 8;
        uint8_t *img = malloc(rowb * H);
        uint32_t s = 12345u + (uint32_t)k;
        for (size_t i = 0; i < rowb * H; i++) img[i] = (uint8_t)(lcg(&s) >> 24);
        if (kinds[k].ct == 3 && kinds[k].bd == 2) pl.n_entries = 4;
        else pl.n_entries = 256;
        size_t l0, l1;
        uint8_t *p0 = make_png(W, H, kinds[k].ct, kinds[k].bd, 0, img, rowb * H, kinds[k].ct == 3 ? &pl : NULL, NULL, &l0);
        uint8_t *p1 = make_png(W, H, kinds[k].ct, kinds[k].bd, 1, img, rowb * H, kinds[k].ct == 3 ? &pl : NULL, NULL, &l1);
        TT_CHECK(p0 && p1, "make ct %d bd %d", kinds[k].ct, kinds[k].bd);
        if (p0 && p1) {
            decoded a, b, c, w0;
            decode_png(p0, l0, 0, &opt, NULL, &a);
            decode_png(p1, l1, 0, &opt, NULL, &b);
            TT_CHECK(a.code == 0 && b.code == 0, "ct %d bd %d: %d %d %s", kinds[k].ct, kinds[k].bd, a.code, b.code, b.detail);
            TT_CHECK(b.hdr.progressive == 1 && a.hdr.progressive == 0, "progressive flags");
            if (a.code == 0 && b.code == 0) {
                TT_CHECK(a.channels == b.channels && !memcmp(a.px, b.px, (size_t)W * H * a.channels),
                         "ct %d bd %d: interlaced decode differs", kinds[k].ct, kinds[k].bd);
                check_against_reference("interlaced", p1, l1, &b);
                /* A window of the interlaced image is the same block of the whole. */
                tdec_request win = {8, 5, 30, 3, 17, 0};
                decode_png(p1, l1, 0, &opt, &win, &c);
                decode_png(p0, l0, 3, &opt, &win, &w0);
                TT_CHECK(c.code == 0 && c.x0 == 5 && c.y0 == 3 && c.w == 25 && c.h == 14, "window %d %u %u %u %u", c.code,
                         c.x0, c.y0, c.w, c.h);
                TT_CHECK(w0.code == 0 && w0.w == 25 && w0.h == 14, "window plain %d", w0.code);
                size_t bad = 0;
                for (uint32_t y = 0; c.code == 0 && w0.code == 0 && y < 14; y++)
                    if (memcmp(c.px + (size_t)y * 25 * a.channels, pixel(&a, 5, y + 3), (size_t)25 * a.channels) ||
                        memcmp(w0.px + (size_t)y * 25 * a.channels, pixel(&a, 5, y + 3), (size_t)25 * a.channels))
                        bad++;
                TT_CHECK(bad == 0, "ct %d bd %d: %zu window rows differ", kinds[k].ct, kinds[k].bd, bad);
                decoded_free(&c);
                decoded_free(&w0);
            }
            decoded_free(&a);
            decoded_free(&b);
        }
        free(p0);
        free(p1);
        free(img);
    }
}

/* ---------------------------------------------------------------- corpus/edge */

static void test_edge(void) {
    /* What each edge file gives. invalid-trunc lacks only the last byte of IEND's CRC: libspng
     * does not read it, but the decoder checks it is there (a cut file is truncated, as Go's image/png
     * test that ships this file expects). invalid-palette has indices past its
     * 255-entry palette; libspng, like libpng, shows them as opaque black. */
    static const struct {
        const char *name;
        int code;
    } want[] = {
        {"invalid-crc32.png", THUMB_ECORRUPT},  {"invalid-zlib.png", THUMB_ECORRUPT},
        {"invalid-noend.png", THUMB_ETRUNCATED}, {"truncated.png", THUMB_ETRUNCATED},
        {"invalid-trunc.png", THUMB_ETRUNCATED}, {"invalid-palette.png", THUMB_OK},
        {"16-bit-grey-alpha.png", THUMB_OK},     {"2x2_fdcce6.png", THUMB_OK},
        {"Flag_of_the_Netherlands-16bit.png", THUMB_OK}, {"foo3x5x4indexed.png", THUMB_OK},
        {"full-transparent.png", THUMB_OK},      {"grey-8bit-alpha.png", THUMB_OK},
        {"palette_color.png", THUMB_OK},         {"with-alpha.png", THUMB_OK},
    };
    thumb_options opt = defaults();
    const char *dir = tt_corpus("edge");
    DIR *dh = opendir(dir);
    TT_CHECK(dh != NULL, "open %s", dir);
    if (!dh) return;
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".png")) continue;
        int expect = -1;
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
            if (!strcmp(want[i].name, e->d_name)) expect = want[i].code;
        TT_CHECK(expect >= 0, "edge/%s has no documented result: add it", e->d_name);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *png = tt_read_file(path, &len);
        decoded a, b;
        decode_png(png, len, 0, &opt, NULL, &a);
        decode_png(png, len, 5, &opt, NULL, &b);
        TT_CHECK(a.code == expect, "edge/%s: memory %s (%s), want %s", e->d_name, thumb_error_name(a.code), a.detail,
                 thumb_error_name(expect));
        TT_CHECK(b.code == expect, "edge/%s: stream %s (%s), want %s", e->d_name, thumb_error_name(b.code), b.detail,
                 thumb_error_name(expect));
        if (a.code == 0 && b.code == 0)
            TT_CHECK(!memcmp(a.px, b.px, (size_t)a.w * a.h * a.channels), "edge/%s: stream rows differ", e->d_name);
        if (a.code == 0 && !strcmp(e->d_name, "invalid-palette.png")) {
            size_t black = 0;
            for (size_t i = 0; i < (size_t)a.w * a.h; i++) black += !memcmp(a.px + i * 3, "\0\0\0", 3);
            TT_CHECK(black > 0, "invalid-palette: no black pixels for the out-of-range indices");
        }
        if (a.code == 0 && !strcmp(e->d_name, "16-bit-grey-alpha.png"))
            TT_CHECK(a.channels == 2 && a.hdr.bit_depth == 16 && a.hdr.icc_len == 348, "16-bit-grey-alpha header");
        /* Despite its name, the stored samples are fd cc 6e (checked by hand from the IDAT). */
        if (a.code == 0 && !strcmp(e->d_name, "2x2_fdcce6.png"))
            for (int i = 0; i < 4; i++)
                TT_CHECK(a.channels == 3 && !memcmp(a.px + 3 * i, (uint8_t[]){0xfd, 0xcc, 0x6e}, 3),
                         "2x2_fdcce6 pixel %d = %u,%u,%u", i, a.px[3 * i], a.px[3 * i + 1], a.px[3 * i + 2]);
        if (a.code == 0 && !strcmp(e->d_name, "with-alpha.png"))
            TT_CHECK(a.channels == 4 && a.hdr.has_exif && a.hdr.orientation == 1, "with-alpha header");
        decoded_free(&a);
        decoded_free(&b);
        free(png);
        seen++;
    }
    closedir(dh);
    TT_CHECK(seen == (int)(sizeof want / sizeof want[0]), "saw %d edge PNGs, documented %zu", seen,
             sizeof want / sizeof want[0]);
}

/* ---------------------------------------------------------------- limits */

static void test_limits(void) {
    thumb_options opt = defaults();
    size_t tl;
    uint8_t *tiny = tiny_grey_png(&tl);
    REQUIRE(tiny != NULL, "tiny png");
    decoded d;

    /* IHDR 100000 x 100000 (10^10 pixels): refused from the header, fast. */
    {
        bytes b = {0};
        put(&b, tiny, 8);
        uint8_t ih[13] = {0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 0, 0, 0, 0};
        put_chunk(&b, "IHDR", ih, 13);
        put(&b, tiny + 33, tl - 33);
        double t0 = now();
        for (size_t step = 0; step <= 64; step += 64) {
            decode_png(b.p, b.len, step, &opt, NULL, &d);
            TT_CHECK(d.code == THUMB_ELIMIT_PIXELS, "100000^2: %s (%s)", thumb_error_name(d.code), d.detail);
            TT_CHECK(strstr(d.detail, "png:") == d.detail, "detail '%s'", d.detail);
        }
        TT_CHECK(now() - t0 < 0.5, "100000^2 took %.3f s", now() - t0);
        opt.max_input_pixels = 16;
        decode_png(tiny, tl, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_OK, "4x4 at a 16-pixel limit: %d", d.code);
        decoded_free(&d);
        opt.max_input_pixels = 15;
        decode_png(tiny, tl, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_ELIMIT_PIXELS, "4x4 at a 15-pixel limit: %d", d.code);
        opt = defaults();
        free(b.p);
    }

    /* A chunk claiming 100 MB, followed by only 16 bytes: the limit must trip from the length field
     * alone. Reading or allocating it would end as truncated instead, and the stream would be read on. */
    static const char *types[] = {"iCCP", "zTXt", "eXIf", "tEXt", "iTXt", "abCd"};
    for (int t = 0; t < 6; t++) {
        bytes b = {0};
        put(&b, tiny, 33);
        put_chunk_len(&b, types[t], "0123456789abcdef", 16, 100u << 20);
        for (size_t step = 0; step <= 4096; step += 4096) {
            double t0 = now();
            decode_png(b.p, b.len, step, &opt, NULL, &d);
            TT_CHECK(d.code == THUMB_ELIMIT_CHUNK, "100 MB %s (%s): %s (%s)", types[t], step ? "stream" : "memory",
                     thumb_error_name(d.code), d.detail);
            TT_CHECK(now() - t0 < 0.5, "100 MB %s took %.3f s", types[t], now() - t0);
            TT_CHECK(d.consumed <= b.len, "100 MB %s: consumed %llu", types[t], (unsigned long long)d.consumed);
        }
        free(b.p);
    }
    /* Just under the size limit is fine (a 1000-byte tEXt with max_png_chunk_size 1000). */
    {
        bytes ex = {0};
        char text[1000];
        memset(text, 'a', sizeof text);
        text[1] = 0;
        put_chunk(&ex, "tEXt", text, sizeof text);
        bytes b = with_chunks_after_ihdr(tiny, tl, &ex);
        opt.max_png_chunk_size = 1000;
        decode_png(b.p, b.len, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_OK, "1000-byte tEXt at limit 1000: %s", d.detail);
        decoded_free(&d);
        opt.max_png_chunk_size = 999;
        decode_png(b.p, b.len, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_ELIMIT_CHUNK, "1000-byte tEXt at limit 999: %d", d.code);
        opt = defaults();
        free(ex.p);
        free(b.p);
    }

    /* Chunk counts: 1000 ancillary chunks pass, 1001 fail; known (tEXt) and unknown (abCd) alike. */
    static const char *many[] = {"tEXt", "abCd"};
    for (int t = 0; t < 2; t++)
        for (int n = 1000; n <= 1001; n++) {
            bytes ex = {0};
            for (int i = 0; i < n; i++) {
                char kv[16];
                int kl = snprintf(kv, sizeof kv, "k%c%d", 0, i);
                put_chunk(&ex, many[t], kv, (size_t)kl);
            }
            bytes b = with_chunks_after_ihdr(tiny, tl, &ex);
            for (size_t step = 0; step <= 100; step += 100) {
                decode_png(b.p, b.len, step, &opt, NULL, &d);
                int want = n > 1000 ? THUMB_ELIMIT_CHUNK : THUMB_OK;
                TT_CHECK(d.code == want, "%d %s chunks (%s): %s (%s)", n, many[t], step ? "stream" : "memory",
                         thumb_error_name(d.code), d.detail);
                decoded_free(&d);
            }
            free(ex.p);
            free(b.p);
        }
    /* A caller's own count (libspng 0.7.3 cannot take one): 5 allowed, 6 refused. */
    for (int n = 5; n <= 6; n++) {
        bytes ex = {0};
        for (int i = 0; i < n; i++) put_chunk(&ex, "tEXt", "k\0v", 3);
        bytes b = with_chunks_after_ihdr(tiny, tl, &ex);
        opt.max_png_chunks = 5;
        decode_png(b.p, b.len, 0, &opt, NULL, &d);
        TT_CHECK(d.code == (n > 5 ? THUMB_ELIMIT_CHUNK : THUMB_OK), "%d tEXt, limit 5: %d", n, d.code);
        decoded_free(&d);
        opt = defaults();
        free(ex.p);
        free(b.p);
    }
    /* IDATs do not count: 3000 one-byte IDATs decode. */
    {
        uLongf zl = compressBound(20);
        uint8_t raw[20] = {0}, z[64];
        for (int y = 0; y < 4; y++) memcpy(raw + y * 5 + 1, (uint8_t[]){1, 2, 3, (uint8_t)y}, 4);
        compress(z, &zl, raw, 20);
        bytes b = {0};
        put(&b, tiny, 33);
        for (uLongf i = 0; i < zl; i++) put_chunk(&b, "IDAT", z + i, 1);
        for (int i = 0; i < 3000 - (int)zl; i++) put_chunk(&b, "IDAT", NULL, 0);
        put_chunk(&b, "IEND", NULL, 0);
        decode_png(b.p, b.len, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_OK && d.px[3] == 0 && d.px[15] == 3, "3000 IDATs: %d %s", d.code, d.detail);
        decoded_free(&d);
        free(b.p);
    }

    /* ICC: astronaut.png carries 3144 bytes; max_icc_bytes bounds the decompressed profile. */
    {
        size_t len;
        uint8_t *png = tt_read_file(tt_corpus("photos/astronaut.png"), &len);
        REQUIRE(png != NULL, "astronaut.png");
        opt.max_icc_bytes = 3144;
        decode_png(png, len, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_OK && d.hdr.icc_len == 3144, "icc at its limit: %d %u", d.code, d.hdr.icc_len);
        decoded_free(&d);
        opt.max_icc_bytes = 3143;
        decode_png(png, len, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_ELIMIT_CHUNK, "icc over its limit: %d", d.code);
        opt = defaults();
        free(png);
    }

    /* Frame memory: interlaced holds the window, plain does not. */
    {
        uint8_t img[64 * 64];
        for (int i = 0; i < 64 * 64; i++) img[i] = (uint8_t)i;
        size_t l0, l1;
        uint8_t *p0 = make_png(64, 64, 0, 8, 0, img, sizeof img, NULL, NULL, &l0);
        uint8_t *p1 = make_png(64, 64, 0, 8, 1, img, sizeof img, NULL, NULL, &l1);
        opt.max_frame_bytes = 4000;
        decode_png(p1, l1, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_ELIMIT_MEMORY, "interlaced 64x64 in 4000 bytes: %d", d.code);
        tdec_request win = {8, 0, 64, 10, 70 - 10 - 10, 0}; /* 64 x 40 = 2560 bytes */
        decode_png(p1, l1, 0, &opt, &win, &d);
        TT_CHECK(d.code == THUMB_OK && d.px[0] == (uint8_t)(10 * 64), "interlaced 64x40 window in 4000 bytes: %d", d.code);
        decoded_free(&d);
        decode_png(p0, l0, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_OK, "plain 64x64 in 4000 bytes: %d", d.code);
        decoded_free(&d);
        opt = defaults();
        free(p0);
        free(p1);
    }

    /* Input bytes: the stream stops at the limit; memory is refused up front. */
    {
        opt.max_input_bytes = tl - 1;
        decode_png(tiny, tl, 0, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_ELIMIT_BYTES, "memory over max_input_bytes: %d", d.code);
        decode_png(tiny, tl, 10, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_ELIMIT_BYTES, "stream over max_input_bytes: %d %s", d.code, d.detail);
        opt.max_input_bytes = tl;
        decode_png(tiny, tl, 10, &opt, NULL, &d);
        TT_CHECK(d.code == THUMB_OK, "stream at max_input_bytes: %d %s", d.code, d.detail);
        decoded_free(&d);
        opt = defaults();
    }

    /* A read callback that fails is THUMB_ECALLBACK, at the header or mid-image. */
    for (size_t at = 10; at <= 60; at += 50) {
        thumb_ctx ctx;
        memset(&ctx, 0, sizeof ctx);
        memrd m = {tiny, tl, 0, at};
        tsrc src;
        tsrc_init_stream(&src, &ctx, fail_read, &m, 0);
        tdec *dec = NULL;
        int rc = thumb__png_open(&dec, &ctx, &opt, &src);
        if (rc == THUMB_OK) {
            tdec_request all = {8, 0, 4, 0, 4, 0};
            rc = dec->ops->start(dec, &all);
            for (int y = 0; rc == THUMB_OK && y < 4; y++) {
                const uint8_t *row;
                rc = dec->ops->next_row(dec, &row);
            }
            dec->ops->destroy(dec);
        }
        TT_CHECK(rc == THUMB_ECALLBACK, "read failing after %zu bytes: %s", at, thumb_error_name(rc));
    }
    free(tiny);
}

/* ---------------------------------------------------------------- EXIF orientation */

static void test_exif(void) {
    thumb_options opt = defaults();
    size_t tl;
    uint8_t *tiny = tiny_grey_png(&tl);
    /* Big-endian TIFF, IFD0 with one entry: Orientation (0x0112) SHORT 1 = 6. */
    static const uint8_t tiff[26] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0};
    bytes ex = {0};
    put_chunk(&ex, "eXIf", tiff, sizeof tiff);
    bytes b = with_chunks_after_ihdr(tiny, tl, &ex);
    decoded d;
    decode_png(b.p, b.len, 0, &opt, NULL, &d);
    TT_CHECK(d.code == THUMB_OK && d.hdr.has_exif == 1 && d.hdr.orientation == 6, "eXIf orientation 6: %d %d %d", d.code,
             d.hdr.has_exif, d.hdr.orientation);
    decoded_free(&d);
    decode_png(tiny, tl, 0, &opt, NULL, &d);
    TT_CHECK(d.code == THUMB_OK && d.hdr.has_exif == 0 && d.hdr.orientation == 1, "no eXIf: orientation %d",
             d.hdr.orientation);
    decoded_free(&d);
    free(ex.p);
    free(b.p);
    free(tiny);
}

/* ---------------------------------------------------------------- stream == memory on photos */

static void test_photos(void) {
    static const char *names[] = {"photos/astronaut.png", "photos/logo.png", "photos/embedgravitybird.png",
                                  "photos/alpha-premultiply-2048x1536-paper.png"};
    thumb_options opt = defaults();
    for (int i = 0; i < 4; i++) {
        size_t len;
        uint8_t *png = tt_read_file(tt_corpus(names[i]), &len);
        TT_CHECK(png != NULL, "read %s", names[i]);
        if (!png) continue;
        decoded a, b;
        decode_png(png, len, 0, &opt, NULL, &a);
        decode_png(png, len, 4093, &opt, NULL, &b);
        TT_CHECK(a.code == 0 && b.code == 0, "%s: %d %d", names[i], a.code, b.code);
        if (a.code == 0 && b.code == 0) {
            TT_CHECK(a.w == b.w && a.h == b.h && a.channels == b.channels &&
                         !memcmp(a.px, b.px, (size_t)a.w * a.h * a.channels),
                     "%s: stream and memory rows differ", names[i]);
            check_against_reference(names[i], png, len, &a);
        }
        decoded_free(&a);
        decoded_free(&b);
        free(png);
    }
}

/* ---------------------------------------------------------------- encoder */

typedef struct chunk_list {
    char types[64][5];
    int n;
    int bad_crc;
    uint8_t ihdr[13];
} chunk_list;

static void parse_chunks(const uint8_t *p, size_t len, chunk_list *cl) {
    memset(cl, 0, sizeof *cl);
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    if (len < 8 || memcmp(p, sig, 8)) {
        cl->bad_crc = -1;
        return;
    }
    size_t pos = 8;
    while (pos + 12 <= len && cl->n < 64) {
        uint32_t l = (uint32_t)p[pos] << 24 | (uint32_t)p[pos + 1] << 16 | (uint32_t)p[pos + 2] << 8 | p[pos + 3];
        if (l > len - pos - 12) {
            cl->bad_crc = -1;
            return;
        }
        memcpy(cl->types[cl->n], p + pos + 4, 4);
        if (!memcmp(p + pos + 4, "IHDR", 4) && l == 13) memcpy(cl->ihdr, p + pos + 8, 13);
        uint32_t crc = (uint32_t)crc32(0, p + pos + 4, l + 4);
        const uint8_t *c = p + pos + 8 + l;
        if (crc != ((uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3])) cl->bad_crc++;
        cl->n++;
        pos += 12 + (size_t)l;
    }
    if (pos != len) cl->bad_crc = -1;
}

static int fail_write(void *user, const void *buf, size_t n) {
    (void)buf;
    size_t *budget = user;
    if (n > *budget) return -1;
    *budget -= n;
    return 0;
}

static void test_encoder(void) {
    const uint32_t W = 41, H = 19;
    size_t sizes[2][5] = {{0}};
    for (int ch = 1; ch <= 4; ch++) {
        size_t stride = (size_t)W * ch + 13; /* padding that must not be written */
        uint8_t *img = malloc(stride * H);
        uint32_t s = 99u + (uint32_t)ch;
        for (uint32_t y = 0; y < H; y++)
            for (size_t i = 0; i < stride; i++)
                img[y * stride + i] = i < (size_t)W * ch ? (uint8_t)((i / ch + y) * 5 + (lcg(&s) >> 30)) : 0xEE;
        for (int prog = 0; prog <= 1; prog++)
            for (int level = 0; level <= 9; level += 9)
                for (int srgb = 0; srgb <= 1; srgb++) {
                    thumb_options opt = defaults();
                    opt.format = THUMB_FORMAT_PNG;
                    opt.progressive = prog;
                    opt.png_compression = level;
                    opt.embed_srgb_profile = srgb;
                    thumb_ctx ctx;
                    memset(&ctx, 0, sizeof ctx);
                    tsink sink;
                    memset(&sink, 0, sizeof sink);
                    sink.ctx = &ctx;
                    int rc = thumb__png_encode(&ctx, &opt, img, W, H, ch, stride, &sink);
                    TT_CHECK(rc == THUMB_OK, "encode ch %d prog %d level %d: %d %s", ch, prog, level, rc, ctx.detail);
                    if (rc) {
                        free(sink.buf);
                        continue;
                    }
                    if (!srgb) sizes[level ? 1 : 0][ch] = sink.len;
                    chunk_list cl;
                    parse_chunks(sink.buf, sink.len, &cl);
                    TT_CHECK(cl.bad_crc == 0, "ch %d: bad structure or CRC (%d)", ch, cl.bad_crc);
                    /* IHDR, then iCCP exactly when an sRGB profile was asked for on colour output
                     * (PNG allows no RGB profile in a grey image), then IDATs, then IEND. */
                    int want_iccp = srgb && ch >= 3;
                    int first_idat = want_iccp ? 2 : 1;
                    int only = cl.n >= 3 + want_iccp && !strcmp(cl.types[0], "IHDR") && !strcmp(cl.types[cl.n - 1], "IEND");
                    if (only && want_iccp) only = !strcmp(cl.types[1], "iCCP");
                    for (int i = first_idat; only && i < cl.n - 1; i++) only &= !strcmp(cl.types[i], "IDAT");
                    TT_CHECK(only, "ch %d prog %d srgb %d: chunks other than IHDR/%sIDAT/IEND (first %s, %d chunks)", ch,
                             prog, srgb, want_iccp ? "iCCP/" : "", cl.types[0], cl.n);
                    static const uint8_t ct[5] = {0, 0, 4, 2, 6};
                    TT_CHECK(cl.ihdr[8] == 8 && cl.ihdr[9] == ct[ch] && cl.ihdr[12] == prog, "ch %d: IHDR depth %u type %u il %u",
                             ch, cl.ihdr[8], cl.ihdr[9], cl.ihdr[12]);
                    decoded d;
                    decode_png(sink.buf, sink.len, 0, &opt, NULL, &d);
                    TT_CHECK(d.code == THUMB_OK && d.w == W && d.h == H && d.channels == ch && d.hdr.progressive == prog,
                             "ch %d prog %d: decode back %d", ch, prog, d.code);
                    size_t bad = 0;
                    for (uint32_t y = 0; d.code == 0 && y < H; y++)
                        bad += memcmp(d.px + (size_t)y * W * ch, img + y * stride, (size_t)W * ch) != 0;
                    TT_CHECK(bad == 0, "ch %d prog %d level %d: %zu rows differ", ch, prog, level, bad);
                    decoded_free(&d);
                    free(sink.buf);
                }
        free(img);
    }
    for (int ch = 1; ch <= 4; ch++)
        TT_CHECK(sizes[1][ch] < sizes[0][ch], "ch %d: level 9 (%zu bytes) not smaller than level 0 (%zu)", ch, sizes[1][ch],
                 sizes[0][ch]);

    /* Bad arguments and a failing sink. */
    thumb_options opt = defaults();
    thumb_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    uint8_t px[16] = {0};
    tsink sink;
    memset(&sink, 0, sizeof sink);
    sink.ctx = &ctx;
    TT_CHECK(thumb__png_encode(&ctx, &opt, px, 2, 2, 5, 10, &sink) == THUMB_EINVAL, "5 channels");
    TT_CHECK(thumb__png_encode(&ctx, &opt, px, 4, 2, 3, 11, &sink) == THUMB_EINVAL, "stride < row");
    TT_CHECK(thumb__png_encode(&ctx, &opt, px, 0, 2, 1, 4, &sink) == THUMB_EINVAL, "zero width");
    free(sink.buf);
    for (size_t budget0 = 0; budget0 <= 40; budget0 += 40) {
        size_t budget = budget0;
        memset(&sink, 0, sizeof sink);
        memset(&ctx, 0, sizeof ctx);
        sink.ctx = &ctx;
        sink.write = fail_write;
        sink.user = &budget;
        int rc = thumb__png_encode(&ctx, &opt, px, 4, 4, 1, 4, &sink);
        TT_CHECK(rc == THUMB_ECALLBACK, "failing write after %zu bytes: %s", budget0, thumb_error_name(rc));
    }
}

int main(void) {
    test_big_stream(); /* first: it measures peak RSS growth */
    test_pngsuite();
    test_known_values();
    test_rounding16();
    test_interlace();
    test_edge();
    test_limits();
    test_exif();
    test_photos();
    test_encoder();
    return tt_report(__FILE__);
}
