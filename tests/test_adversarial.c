/* Issue 4's adversarial suite: truncation and byte flips, bombs, allocation failure injection,
 * privacy. Every case must end in THUMB_OK with a readable image or in a typed THUMB_E* code;
 * memory errors and leaks are the ASan/LSan build's to catch. */
#define _GNU_SOURCE
#include "internal.h"
#include "tt.h"
#include "lossless/ljenc.h"

#include <jpeglib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* TT_REQUIRE for void functions: record the failure and leave this part of the test. */
#define REQ(cond, ...) do { TT_CHECK(cond, __VA_ARGS__); if (!(cond)) return; } while (0)

/* ================================================================ allocation failure injection
 * malloc/calloc/realloc are defined here, so libthumb, libjpeg, libspng, zlib and lcms2 all come
 * through them. They forward to the real allocator (the sanitizer's when there is one) and fail the
 * Nth call after arming. */
#if defined(__SANITIZE_THREAD__)
#define ADV_NO_INJECTION 1 /* TSan's runtime calls malloc before it can forward: do not interpose */
#elif defined(__SANITIZE_ADDRESS__)
#define ADV_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define ADV_NO_INJECTION 1
#elif __has_feature(address_sanitizer)
#define ADV_SANITIZER 1
#endif
#endif

static volatile int inj_armed;
static volatile long inj_count, inj_fail_at, inj_failed;

#ifndef ADV_NO_INJECTION
#ifdef ADV_SANITIZER
extern void *__interceptor_malloc(size_t);
extern void *__interceptor_calloc(size_t, size_t);
extern void *__interceptor_realloc(void *, size_t);
#define REAL_MALLOC __interceptor_malloc
#define REAL_CALLOC __interceptor_calloc
#define REAL_REALLOC __interceptor_realloc
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
#define REAL_MALLOC __libc_malloc
#define REAL_CALLOC __libc_calloc
#define REAL_REALLOC __libc_realloc
#endif

static bool inj_should_fail(void) {
    if (!inj_armed) return false;
    if (++inj_count != inj_fail_at) return false;
    inj_failed++;
    return true;
}
void *malloc(size_t n) { return inj_should_fail() ? NULL : REAL_MALLOC(n); }
void *calloc(size_t a, size_t b) { return inj_should_fail() ? NULL : REAL_CALLOC(a, b); }
void *realloc(void *p, size_t n) { return inj_should_fail() ? NULL : REAL_REALLOC(p, n); }
#endif

/* ================================================================ helpers */

typedef struct { uint8_t *p; size_t n, cap; } buf;

static void buf_put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) { perror("realloc"); exit(2); }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void buf_be16(buf *b, unsigned v) { uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v}; buf_put(b, x, 2); }
static void buf_be32(buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    buf_put(b, x, 4);
}
static void buf_str(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static bool known_code(int rc) { return rc >= THUMB_OK && rc < THUMB_ERROR_COUNT_; }
static bool limit_code(int rc) { return rc >= THUMB_ELIMIT_PIXELS && rc <= THUMB_ELIMIT_MEMORY; }

/* Deterministic pixels with some structure, so the codecs have real work to do. */
static uint8_t *make_pixels(uint32_t w, uint32_t h, int c) {
    uint8_t *px = malloc((size_t)w * h * c);
    uint32_t s = 12345;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                s = s * 1103515245u + 12345u;
                px[((size_t)y * w + x) * c + k] = (uint8_t)((x * 7 + y * 3 + k * 50) ^ (s >> 27));
            }
    return px;
}

/* Encode with the library's own encoders into a malloc'd buffer. */
static uint8_t *encode(int format, uint32_t w, uint32_t h, int c, int progressive, size_t *len) {
    thumb_options o;
    thumb_options_init(&o);
    o.progressive = progressive;
    o.quality = 75;
    uint8_t *px = make_pixels(w, h, c);
    tsink s = {0};
    int rc = format == THUMB_FORMAT_PNG ? thumb__png_encode(NULL, &o, px, w, h, c, (size_t)w * c, &s)
                                        : thumb__jpeg_encode(NULL, &o, px, w, h, c, (size_t)w * c, &s);
    free(px);
    if (rc != THUMB_OK) { free(s.buf); return NULL; }
    *len = s.len;
    return s.buf;
}

/* The check of the truncation/flip loops: a typed code, and on success a readable output. */
static int g_ok, g_err;
static void check_case(thumb_ctx *ctx, const uint8_t *d, size_t n, const char *what, size_t at) {
    thumb_options o;
    thumb_options_init(&o);
    o.width = 24;
    o.height = 24;
    o.quality = 60;
    void *out = NULL;
    size_t out_len = 0;
    /* Exact-size heap copy: ASan then sees a read one byte past the cut. */
    uint8_t *cp = malloc(n ? n : 1);
    memcpy(cp, d, n);
    int rc = thumb_thumbnail_mem(ctx, cp, n, &o, &out, &out_len);
    free(cp);
    TT_CHECK(known_code(rc), "%s at %zu: rc %d", what, at, rc);
    if (rc == THUMB_OK) {
        g_ok++;
        thumb_info info;
        thumb_info_init(&info);
        int rc2 = thumb_info_mem(ctx, out, out_len, NULL, &info);
        TT_CHECK(rc2 == THUMB_OK && info.width == 24 && info.height == 24, "%s at %zu: output does not parse (%s) or is %ux%u",
                 what, at, thumb_error_name(rc2), info.width, info.height);
        thumb_free(out);
    } else {
        g_err++;
    }
}

static void truncate_and_flip(const uint8_t *d, size_t n, const char *what) {
    thumb_ctx *ctx = thumb_ctx_new();
    g_ok = g_err = 0;
    double t0 = now_ms();
    for (size_t cut = 0; cut < n; cut++) check_case(ctx, d, cut, what, cut);
    int cut_ok = g_ok, cut_err = g_err;
    /* Cutting nothing but the last byte of an image still makes it truncated at best. */
    TT_CHECK(cut_err >= (int)(n / 2), "%s: only %d of %zu truncations failed", what, cut_err, n);
    g_ok = g_err = 0;
    uint8_t *m = malloc(n);
    memcpy(m, d, n);
    size_t lim = n < 2048 ? n : 2048;
    for (size_t i = 0; i < lim; i++) {
        uint8_t orig = m[i];
        m[i] = (uint8_t)(orig ^ 0xFF);
        check_case(ctx, m, n, what, i);
        m[i] = (uint8_t)(orig ^ 0x01);
        check_case(ctx, m, n, what, i);
        m[i] = orig;
    }
    free(m);
    fprintf(stderr, "%s (%zu bytes): %zu cuts (%d ok, %d typed errors), %zu flips x2 (%d ok, %d typed errors), %.0f ms\n",
            what, n, n, cut_ok, cut_err, lim, g_ok, g_err, now_ms() - t0);
    thumb_ctx_free(ctx);
}

/* ================================================================ bombs */

typedef struct { int rc; double ms; long rss_kb; } bomb_result;

/* Run one thumbnail in a child so its peak RSS is its own; report code, time and RSS growth. */
static bomb_result run_bomb(const uint8_t *d, size_t n, const thumb_options *opt) {
    bomb_result r = {-1, 0, 0};
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); return r; }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        /* Reset the inherited high-water mark to the current RSS (Linux >= 4.0). */
        FILE *f = fopen("/proc/self/clear_refs", "w");
        if (f) { fputs("5", f); fclose(f); }
        thumb_ctx *ctx = thumb_ctx_new();
        struct rusage u0, u1;
        getrusage(RUSAGE_SELF, &u0);
        void *out = NULL;
        size_t out_len = 0;
        double t0 = now_ms();
        r.rc = thumb_thumbnail_mem(ctx, d, n, opt, &out, &out_len);
        r.ms = now_ms() - t0;
        getrusage(RUSAGE_SELF, &u1);
        r.rss_kb = u1.ru_maxrss - u0.ru_maxrss;
        if (r.rc == THUMB_OK) thumb_free(out);
        else fprintf(stderr, "  detail: %s\n", thumb_ctx_detail(ctx));
        thumb_ctx_free(ctx);
        if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r) _exit(3);
        _exit(0);
    }
    close(fds[1]);
    if (pid < 0 || read(fds[0], &r, sizeof r) != (ssize_t)sizeof r) r.rc = -1;
    close(fds[0]);
    int st = 0;
    if (pid > 0) waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) r.rc = -2; /* crashed */
    return r;
}

static void expect_bomb(const char *name, const uint8_t *d, size_t n, const thumb_options *opt) {
    thumb_options def;
    thumb_options_init(&def);
    def.width = 64;
    def.height = 64;
    if (!opt) opt = &def;
    bomb_result r = run_bomb(d, n, opt);
    fprintf(stderr, "bomb %-44s %-20s %7.2f ms  +%ld KB RSS\n", name, r.rc >= 0 ? thumb_error_name(r.rc) : "CRASH", r.ms,
            r.rss_kb);
    TT_CHECK(limit_code(r.rc), "%s: rc %d (%s), wanted THUMB_ELIMIT_*", name, r.rc, r.rc >= 0 ? thumb_error_name(r.rc) : "crash");
    TT_CHECK(r.ms < 50.0, "%s: %.2f ms", name, r.ms);
    TT_CHECK(r.rss_kb < 8 * 1024, "%s: RSS grew %ld KB", name, r.rss_kb);
}

/* PNG building blocks. */
static void test_lossless_bombs(void);

static void png_chunk(buf *b, const char *type, const void *data, uint32_t len) {
    buf_be32(b, len);
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)type, 4);
    buf_put(b, type, 4);
    if (len) {
        buf_put(b, data, len);
        crc = (uint32_t)crc32(crc, data, len);
    }
    buf_be32(b, crc);
}
/* A chunk header that declares len bytes, followed by only a few. */
static void png_chunk_claim(buf *b, const char *type, uint32_t len) {
    buf_be32(b, len);
    buf_put(b, type, 4);
    buf_put(b, "\0\0\0\0\0\0\0\0", 8);
}
static void png_start(buf *b, uint32_t w, uint32_t h, int depth, int ctype, int interlace) {
    buf_put(b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13];
    ihdr[0] = (uint8_t)(w >> 24); ihdr[1] = (uint8_t)(w >> 16); ihdr[2] = (uint8_t)(w >> 8); ihdr[3] = (uint8_t)w;
    ihdr[4] = (uint8_t)(h >> 24); ihdr[5] = (uint8_t)(h >> 16); ihdr[6] = (uint8_t)(h >> 8); ihdr[7] = (uint8_t)h;
    ihdr[8] = (uint8_t)depth; ihdr[9] = (uint8_t)ctype; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = (uint8_t)interlace;
    png_chunk(b, "IHDR", ihdr, 13);
}
/* A little real image data (a few zero rows, compressed) and IEND. */
static void png_finish(buf *b) {
    uint8_t raw[4096] = {0}, z[8192];
    uLongf zl = sizeof z;
    compress(z, &zl, raw, sizeof raw);
    png_chunk(b, "IDAT", z, (uint32_t)zl);
    png_chunk(b, "IEND", NULL, 0);
}

/* Offset of the first JPEG marker m (0xFFm) found by walking the segments; 0 if none. */
static size_t jpeg_find(const uint8_t *d, size_t n, int m) {
    size_t i = 2;
    while (i + 4 <= n && d[i] == 0xFF) {
        if (d[i + 1] == m) return i;
        if (d[i + 1] == 0xDA) return 0; /* past the headers */
        i += 2 + ((size_t)d[i + 2] << 8 | d[i + 3]);
    }
    return 0;
}

/* Set the dimensions in a JPEG's SOF. */
static bool jpeg_set_dims(uint8_t *d, size_t n, unsigned w, unsigned h) {
    for (int m = 0xC0; m <= 0xC2; m++) {
        size_t at = jpeg_find(d, n, m);
        if (!at) continue;
        d[at + 5] = (uint8_t)(h >> 8); d[at + 6] = (uint8_t)h;
        d[at + 7] = (uint8_t)(w >> 8); d[at + 8] = (uint8_t)w;
        return true;
    }
    return false;
}

/* A greyscale progressive JPEG whose scans are all "first" scans with no successive
 * approximation (Ah = Al = 0): a repeat of one of them is legal to libjpeg's decoder (no
 * bogus-progression warning), so repeating the AC scan makes an n-scan file. */
static uint8_t *many_scan_jpeg(int nscans, size_t *len) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *mem = NULL;
    unsigned long mlen = 0;
    jpeg_mem_dest(&c, &mem, &mlen);
    c.image_width = 16;
    c.image_height = 16;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    static jpeg_scan_info scans[2] = {{1, {0}, 0, 0, 0, 0}, {1, {0}, 1, 63, 0, 0}};
    c.scan_info = scans;
    c.num_scans = 2;
    jpeg_start_compress(&c, TRUE);
    uint8_t *px = make_pixels(16, 16, 1);
    for (int y = 0; y < 16; y++) {
        JSAMPROW row = px + y * 16;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(px);
    /* The AC scan is the part between the end of the DC scan's data and EOI: find the second SOS,
     * and back up to a DHT right before it if there is one. */
    size_t sos[2] = {0, 0}, ns = 0, prev_seg = 0, ac_start = 0;
    size_t i = 2;
    while (i + 4 <= mlen && ns < 2) {
        if (mem[i] != 0xFF) break;
        size_t seg = i, l = (size_t)mem[i + 2] << 8 | mem[i + 3];
        if (mem[i + 1] == 0xDA) {
            sos[ns++] = seg;
            if (ns == 2) { ac_start = (mem[prev_seg + 1] == 0xC4 && prev_seg > sos[0]) ? prev_seg : seg; break; }
            i += 2 + l;
            while (i + 1 < mlen && !(mem[i] == 0xFF && mem[i + 1] != 0 && !(mem[i + 1] >= 0xD0 && mem[i + 1] <= 0xD7))) i++;
        } else {
            i += 2 + l;
        }
        prev_seg = seg;
    }
    if (ns != 2 || mlen < 2 || mem[mlen - 2] != 0xFF || mem[mlen - 1] != 0xD9) { free(mem); return NULL; }
    size_t block = mlen - 2 - ac_start;
    buf b = {0};
    buf_put(&b, mem, ac_start);
    for (int k = 0; k < nscans - 1; k++) buf_put(&b, mem + ac_start, block);
    buf_put(&b, "\xFF\xD9", 2);
    free(mem);
    *len = b.n;
    return b.p;
}

static void test_bombs(void) {
    size_t n;
    buf b = {0};

    /* SOF dimensions are 16-bit, so 10^5 x 10^5 cannot be written; libjpeg refuses anything over
     * 65500 as corrupt, so 65500 x 65500 (4.3e9 pixels) is the largest that reaches our limits. */
    uint8_t *j = encode(THUMB_FORMAT_JPEG, 16, 16, 3, 0, &n);
    REQ(j && jpeg_set_dims(j, n, 65500, 65500), "baseline jpeg");
    expect_bomb("jpeg SOF0 65500x65500", j, n, NULL);
    free(j);
    j = encode(THUMB_FORMAT_JPEG, 16, 16, 3, 1, &n);
    REQ(j && jpeg_set_dims(j, n, 65500, 65500), "progressive jpeg");
    expect_bomb("jpeg SOF2 65500x65500", j, n, NULL);
    /* 65500*65500*3 overflows 32 bits; with the pixel limit out of the way, the frame budget
     * (the whole-image coefficient buffer) must catch it. */
    thumb_options huge;
    thumb_options_init(&huge);
    huge.width = 64;
    huge.height = 64;
    huge.max_input_pixels = UINT64_MAX;
    expect_bomb("jpeg SOF2 65500x65500x3 (>32 bit), no pixel limit", j, n, &huge);
    /* Over libjpeg's 65500: a typed error is enough (it is not ours to call it a limit). */
    jpeg_set_dims(j, n, 65535, 65535);
    bomb_result r = run_bomb(j, n, NULL);
    TT_CHECK(r.rc > THUMB_OK && known_code(r.rc) && r.ms < 50.0, "jpeg 65535x65535: rc %d, %.2f ms", r.rc, r.ms);
    free(j);

    /* Control for the measurement itself: a legitimate 2048x2048 progressive JPEG made into a
     * 1024x1024 thumbnail is decoded at 4/8, where jprog keeps 49 coefficients of each block (about
     * 10 MB; libjpeg's whole-image buffer is 12 MB), and the child's RSS growth must show it. */
    j = encode(THUMB_FORMAT_JPEG, 2048, 2048, 3, 1, &n);
    REQ(j != NULL, "2048x2048 progressive jpeg");
    huge.width = huge.height = 1024;
    bomb_result ctl = run_bomb(j, n, &huge);
    huge.width = huge.height = 64;
    fprintf(stderr, "control: 2048x2048 progressive jpeg   %-20s %7.2f ms  +%ld KB RSS\n",
            ctl.rc >= 0 ? thumb_error_name(ctl.rc) : "CRASH", ctl.ms, ctl.rss_kb);
    TT_CHECK(ctl.rc == THUMB_OK && ctl.rss_kb > 8 * 1024, "control: rc %d, RSS +%ld KB: the RSS measurement does not see a real frame buffer", ctl.rc, ctl.rss_kb);
    free(j);

    png_start(&b, 100000, 100000, 8, 2, 0);
    png_finish(&b);
    expect_bomb("png IHDR 100000x100000", b.p, b.n, NULL);
    b.n = 0;

    j = many_scan_jpeg(10000, &n);
    REQ(j != NULL, "10000-scan jpeg");
    {
        /* Sanity: the same construction with 3 scans is a valid image, so the bomb is the scans. */
        size_t n3;
        uint8_t *j3 = many_scan_jpeg(3, &n3);
        thumb_ctx *ctx = thumb_ctx_new();
        thumb_options o;
        thumb_options_init(&o);
        o.width = 8;
        void *out = NULL;
        size_t ol = 0;
        int rc = thumb_thumbnail_mem(ctx, j3, n3, &o, &out, &ol);
        TT_CHECK(rc == THUMB_OK, "3-scan jpeg: %s (%s)", thumb_error_name(rc), thumb_ctx_detail(ctx));
        if (rc == THUMB_OK) thumb_free(out);
        thumb_ctx_free(ctx);
        free(j3);
    }
    expect_bomb("jpeg 10000 progressive scans", j, n, NULL);
    TT_CHECK(run_bomb(j, n, NULL).rc == THUMB_ELIMIT_SCANS, "10000 scans is THUMB_ELIMIT_SCANS");
    /* The same scans over a frame of 8000x8000 (64 Mpixels, under the pixel limit): every scan's
     * data ends at once, so each is a walk over a million blocks with nothing to decode. At 1/8
     * (a 64x64 thumbnail) jprog skips the AC scans unread; at 2/8 (2000x2000) it walks them. Both
     * end at the scan limit, fast, without a frame buffer (1/8 keeps 2 MB of DCs, mostly
     * untouched; 2/8 would keep 58 MB, over the 16 MB frame budget set here). */
    REQ(jpeg_set_dims(j, n, 8000, 8000), "8000x8000 scans");
    expect_bomb("jpeg 10000 progressive scans, SOF 8000x8000", j, n, NULL);
    thumb_options big2;
    thumb_options_init(&big2);
    big2.width = big2.height = 2000;
    big2.max_frame_bytes = 16u << 20;
    expect_bomb("jpeg 10000 scans, SOF 8000x8000, to 2000x2000", j, n, &big2);
    big2.max_frame_bytes = 512u << 20;
    bomb_result walk = run_bomb(j, n, &big2);
    fprintf(stderr, "bomb %-44s %-20s %7.2f ms  +%ld KB RSS\n", "same, 512 MB frame budget",
            walk.rc >= 0 ? thumb_error_name(walk.rc) : "CRASH", walk.ms, walk.rss_kb);
    TT_CHECK(walk.rc == THUMB_ELIMIT_SCANS && walk.ms < 2000.0, "8000x8000 scans at 2/8: rc %d, %.2f ms", walk.rc, walk.ms);
    free(j);

    static const char *big[] = {"iCCP", "zTXt", "eXIf"};
    for (int k = 0; k < 3; k++) {
        png_start(&b, 16, 16, 8, 2, 0);
        png_chunk_claim(&b, big[k], 100u << 20);
        char name[64];
        snprintf(name, sizeof name, "png %s declaring 100 MB", big[k]);
        expect_bomb(name, b.p, b.n, NULL);
        b.n = 0;
        /* The same chunk after IDAT. */
        png_start(&b, 16, 16, 8, 2, 0);
        uint8_t raw[16 * 49] = {0}, z[2048];
        uLongf zl = sizeof z;
        compress(z, &zl, raw, sizeof raw);
        png_chunk(&b, "IDAT", z, (uint32_t)zl);
        png_chunk_claim(&b, big[k], 100u << 20);
        snprintf(name, sizeof name, "png %s declaring 100 MB after IDAT", big[k]);
        if (k != 0) expect_bomb(name, b.p, b.n, NULL); /* iCCP after IDAT is just misplaced */
        b.n = 0;
    }

    png_start(&b, 16, 16, 8, 2, 0);
    for (int k = 0; k < 1500; k++) {
        char t[32];
        int l = snprintf(t, sizeof t, "k%d", k) + 1;
        memcpy(t + l, "v", 1);
        png_chunk(&b, "tEXt", t, (uint32_t)l + 1);
    }
    png_finish(&b);
    expect_bomb("png 1500 tEXt chunks", b.p, b.n, NULL);
    b.n = 0;
    png_start(&b, 16, 16, 8, 2, 0);
    for (int k = 0; k < 1500; k++) png_chunk(&b, "prVt", "x", 1); /* unknown ancillary, private */
    png_finish(&b);
    expect_bomb("png 1500 unknown ancillary chunks", b.p, b.n, NULL);
    b.n = 0;

    /* w*h*c over 32 bits: 65536 x 65536 RGBA, interlaced so a whole frame would be needed. */
    png_start(&b, 65536, 65536, 8, 6, 1);
    png_finish(&b);
    expect_bomb("png 65536x65536x4 Adam7 (>32 bit), no pixel limit", b.p, b.n, &huge);
    b.n = 0;
    /* w*h*c over 64 bits: (2^31-1)^2 pixels of 16-bit RGBA is 2^65 bytes. */
    png_start(&b, 0x7FFFFFFF, 0x7FFFFFFF, 16, 6, 1);
    png_finish(&b);
    expect_bomb("png 2^31x2^31x8 Adam7 (>64 bit), no pixel limit", b.p, b.n, &huge);
    b.n = 0;
    png_start(&b, 0x7FFFFFFF, 0x7FFFFFFF, 16, 6, 0);
    png_finish(&b);
    expect_bomb("png 2^31x2^31x8 (>64 bit), no pixel limit", b.p, b.n, &huge);
    b.n = 0;
    free(b.p);
    test_lossless_bombs();
}

/* ---- lossless JPEG (SOF3, jlossless.c) bombs: each refused by a limit, or typed, at once */

/* Expected code (not necessarily a limit), quickly and in little memory. */
static void expect_fast(const char *name, const uint8_t *d, size_t n, const thumb_options *opt, int want) {
    bomb_result r = run_bomb(d, n, opt);
    fprintf(stderr, "bomb %-44s %-20s %7.2f ms  +%ld KB RSS\n", name, r.rc >= 0 ? thumb_error_name(r.rc) : "CRASH", r.ms,
            r.rss_kb);
    TT_CHECK(r.rc == want, "%s: rc %d (%s), wanted %s", name, r.rc, r.rc >= 0 ? thumb_error_name(r.rc) : "crash",
             thumb_error_name(want));
    TT_CHECK(r.ms < 50.0, "%s: %.2f ms", name, r.ms);
    TT_CHECK(r.rss_kb < 8 * 1024, "%s: RSS grew %ld KB", name, r.rss_kb);
}

/* SOI, SOF3 w x h x nf (8 bits), [DRI], n_dht copies of a DHT with 4 full tables, the test
 * encoder's table 0, SOS (predictor 1), then data_len bytes of entropy data and no EOI. */
static void lossless_bomb(buf *b, unsigned w, unsigned h, int nf, unsigned dri, int n_dht, size_t data_len) {
    b->n = 0;
    buf_be16(b, 0xFFD8);
    buf_be16(b, 0xFFC3);
    buf_be16(b, 8 + 3 * (unsigned)nf);
    uint8_t f[6] = {8, (uint8_t)(h >> 8), (uint8_t)h, (uint8_t)(w >> 8), (uint8_t)w, (uint8_t)nf};
    buf_put(b, f, 6);
    for (int c = 0; c < nf; c++) { uint8_t ci[3] = {(uint8_t)(c + 1), 0x11, 0}; buf_put(b, ci, 3); }
    if (dri) { buf_be16(b, 0xFFDD); buf_be16(b, 4); buf_be16(b, dri); }
    for (int k = 0; k < n_dht; k++) {
        buf_be16(b, 0xFFC4);
        buf_be16(b, 2 + 4 * (17 + 256));
        for (int t = 0; t < 4; t++) {
            uint8_t counts[17] = {(uint8_t)t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            counts[9] = 255; counts[16] = 1; /* 256 codes: 255 of 9 bits, 1 of 16 */
            buf_put(b, counts, 17);
            for (int v = 0; v < 256; v++) { uint8_t x = (uint8_t)(v % 17); buf_put(b, &x, 1); }
        }
    }
    buf_be16(b, 0xFFC4);
    buf_be16(b, 2 + 17 + 17);
    uint8_t z = 0;
    buf_put(b, &z, 1);
    buf_put(b, lj_counts + 1, 16);
    for (int v = 0; v <= 16; v++) { uint8_t x = (uint8_t)v; buf_put(b, &x, 1); }
    buf_be16(b, 0xFFDA);
    buf_be16(b, 6 + 2 * (unsigned)nf);
    uint8_t ns = (uint8_t)nf;
    buf_put(b, &ns, 1);
    for (int c = 0; c < nf; c++) { uint8_t cs[2] = {(uint8_t)(c + 1), 0}; buf_put(b, cs, 2); }
    uint8_t tail[3] = {1, 0, 0};
    buf_put(b, tail, 3);
    for (size_t i = 0; i < data_len; i++) { uint8_t x = 0x24; buf_put(b, &x, 1); } /* "00 1 00 1 00": small diffs */
}

static void test_lossless_bombs(void) {
    buf b = {0};
    thumb_options big;
    thumb_options_init(&big);
    big.width = big.height = 64;
    lossless_bomb(&b, 65535, 65535, 3, 0, 0, 64);
    expect_bomb("lossless SOF3 65535x65535", b.p, b.n, NULL);
    /* without the pixel limit: O(width) rows, so the missing data fails at row 0 */
    big.max_input_pixels = UINT64_MAX;
    expect_fast("lossless SOF3 65535x65535, no pixel limit", b.p, b.n, &big, THUMB_ETRUNCATED);
    lossless_bomb(&b, 65535, 65535, 4, 0, 0, 64);
    expect_fast("lossless CMYK 65535x65535, no pixel limit", b.p, b.n, &big, THUMB_ETRUNCATED);
    lossless_bomb(&b, 64, 64, 3, 65535, 0, 64);
    expect_fast("lossless restart interval 65535 (not whole rows)", b.p, b.n, NULL, THUMB_ECORRUPT);
    lossless_bomb(&b, 1, 65535, 1, 1, 0, 64);
    expect_fast("lossless 1x65535, restart every row, 64 bytes", b.p, b.n, &big, THUMB_ETRUNCATED);
    lossless_bomb(&b, 7, 9000, 3, 7 * 9000, 0, 64);
    expect_fast("lossless restart interval of the whole image", b.p, b.n, &big, THUMB_ETRUNCATED);
    /* a huge Huffman table set: 3000 DHT segments of 4 full tables each (3.3 MB) */
    lossless_bomb(&b, 64, 64, 3, 0, 3000, 64);
    thumb_options lim;
    thumb_options_init(&lim);
    lim.width = lim.height = 64;
    lim.max_input_bytes = 1u << 20;
    expect_bomb("lossless 3000 DHT segments (3.3 MB), 1 MiB limit", b.p, b.n, &lim);
    /* and under the default 256 MiB: parsed in one pass (tables are built only at SOS) */
    expect_fast("lossless 3000 DHT segments (3.3 MB)", b.p, b.n, &big, THUMB_ETRUNCATED);
    free(b.p);
}

/* ================================================================ allocation failures */

static void inject(const char *what, const uint8_t *d, size_t n, int format) {
    thumb_options o;
    thumb_options_init(&o);
    o.width = 40;
    o.height = 30;
    o.format = format;
    long n_fail = 0, last = 0;
    bool done = false;
    for (long k = 1; k <= 20000 && !done; k++) {
        thumb_ctx *ctx = thumb_ctx_new();
        void *out = NULL;
        size_t out_len = 0;
        inj_count = 0;
        inj_failed = 0;
        inj_fail_at = k;
        inj_armed = 1;
        int rc = thumb_thumbnail_mem(ctx, d, n, &o, &out, &out_len);
        inj_armed = 0;
        if (inj_failed == 0) {
            /* Fewer than k allocations: the run was clean and must have worked. */
            TT_CHECK(rc == THUMB_OK, "%s: clean run failed: %s (%s)", what, thumb_error_name(rc), thumb_ctx_detail(ctx));
            done = true;
        } else {
            TT_CHECK(rc != THUMB_OK && known_code(rc) || rc == THUMB_OK,
                     "%s: allocation %ld failed: rc %d", what, k, rc);
            if (rc != THUMB_OK) n_fail++;
        }
        if (rc == THUMB_OK) {
            thumb_info info;
            thumb_info_init(&info);
            TT_CHECK(thumb_info_mem(ctx, out, out_len, NULL, &info) == THUMB_OK && info.width == 40 &&
                         info.height == 30, "%s: output with allocation %ld failed is not a 40x30 image", what, k);
            thumb_free(out);
        }
        thumb_ctx_free(ctx);
        last = k;
    }
    TT_CHECK(done, "%s: no clean run within %ld allocations", what, last);
    TT_CHECK(n_fail > 0, "%s: no allocation failure was ever reported (interposition not working?)", what);
    fprintf(stderr, "%s: %ld allocations, each failed in turn: %ld runs ended in an error, the rest recovered\n", what,
            last - 1, n_fail);
}

static void test_alloc_failures(void) {
#ifdef ADV_NO_INJECTION
    fprintf(stderr, "allocation failure injection: skipped under this sanitizer (runs in the plain and ASan builds)\n");
    return;
#endif
    size_t n;
    uint8_t *j = encode(THUMB_FORMAT_JPEG, 96, 80, 3, 0, &n);
    uint8_t *jp = NULL, *p = NULL, *pi = NULL;
    size_t njp, np, npi;
    jp = encode(THUMB_FORMAT_JPEG, 96, 80, 3, 1, &njp);
    p = encode(THUMB_FORMAT_PNG, 96, 80, 4, 0, &np);
    pi = encode(THUMB_FORMAT_PNG, 96, 80, 3, 1, &npi);
    REQ(j && jp && p && pi, "encode inputs");
    inject("alloc-fail jpeg -> jpeg", j, n, THUMB_FORMAT_JPEG);
    inject("alloc-fail progressive jpeg -> png", jp, njp, THUMB_FORMAT_PNG);
    inject("alloc-fail png rgba -> jpeg", p, np, THUMB_FORMAT_JPEG);
    inject("alloc-fail interlaced png -> png", pi, npi, THUMB_FORMAT_PNG);
    free(j);
    free(jp);
    free(p);
    free(pi);
}

/* ================================================================ privacy */

static const char COMMENT[] = "privacy-canary comment: meet at the old mill";
static const char GPS_TEXT[] = "GPS-CANARY 51.5074N 0.1278W";
static const char XMP[] =
    "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
    "xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description "
    "xmlns:exif='http://ns.adobe.com/exif/1.0/' exif:GPSLatitude='51,30.44N'/></rdf:RDF></x:xmpmeta>";
static const char TRAILER_ZIP[] = "PK\3\4\x14\0\0\0\x08\0secret.txt";
static const char TRAILER_HTML[] = "<html><script>alert(1)</script></html>";

/* A little-endian TIFF block: IFD0 with Orientation 1 and a GPS IFD pointer; the GPS IFD has
 * GPSLatitudeRef 'N' and a GPSProcessingMethod string (the canary). */
static void tiff_with_gps(buf *t) {
    uint8_t le[4];
    #define P16(v) (le[0] = (uint8_t)(v), le[1] = (uint8_t)((v) >> 8), buf_put(t, le, 2))
    #define P32(v) (le[0] = (uint8_t)(v), le[1] = (uint8_t)((v) >> 8), le[2] = (uint8_t)((v) >> 16), le[3] = (uint8_t)((v) >> 24), buf_put(t, le, 4))
    buf_put(t, "II*\0", 4);
    P32(8);
    P16(2);                              /* IFD0 at 8: 2 entries */
    P16(0x0112); P16(3); P32(1); P16(1); P16(0);
    P16(0x8825); P16(4); P32(1); P32(8 + 2 + 24 + 4); /* GPS IFD right after IFD0 */
    P32(0);
    uint32_t gps = 8 + 2 + 24 + 4, text_at = gps + 2 + 24 + 4;
    P16(2);
    P16(0x0001); P16(2); P32(2); buf_put(t, "N\0\0\0", 4);
    P16(0x001B); P16(7); P32((uint32_t)sizeof GPS_TEXT); P32(text_at);
    P32(0);
    buf_put(t, GPS_TEXT, sizeof GPS_TEXT);
    #undef P16
    #undef P32
}

static bool contains(const uint8_t *h, size_t hn, const void *needle, size_t nn) {
    return nn <= hn && memmem(h, hn, needle, nn) != NULL;
}

/* Nothing private may be in the output, whatever the format. */
static void check_clean(const char *what, const uint8_t *o, size_t n, const uint8_t *gps_entry) {
    TT_CHECK(!contains(o, n, "Exif", 4), "%s: output contains \"Exif\"", what);
    TT_CHECK(!contains(o, n, "eXIf", 4), "%s: output contains an eXIf chunk", what);
    TT_CHECK(!contains(o, n, "GPS-CANARY", 10), "%s: output contains the GPS text", what);
    TT_CHECK(!contains(o, n, gps_entry, 12), "%s: output contains the GPS IFD pointer entry", what);
    TT_CHECK(!contains(o, n, "II*\0", 4), "%s: output contains a TIFF header", what);
    TT_CHECK(!contains(o, n, "http://ns.adobe.com/xap", 23), "%s: output contains XMP", what);
    TT_CHECK(!contains(o, n, "privacy-canary", 14), "%s: output contains the comment", what);
    TT_CHECK(!contains(o, n, "PK\3\4", 4), "%s: output contains the ZIP trailer", what);
    TT_CHECK(!contains(o, n, "<html>", 6), "%s: output contains the HTML trailer", what);
}

/* The output must be SOI, one JFIF APP0, tables, SOF, scans, EOI and nothing after. */
static void check_jpeg_structure(const char *what, const uint8_t *d, size_t n) {
    REQ(n >= 4 && d[0] == 0xFF && d[1] == 0xD8, "%s: no SOI", what);
    size_t i = 2;
    int app0 = 0, sof = 0, sos = 0;
    bool eoi = false;
    while (i + 2 <= n) {
        if (d[i] != 0xFF) { TT_CHECK(0, "%s: no marker at %zu", what, i); return; }
        int m = d[i + 1];
        if (m == 0xFF) { i++; continue; }
        if (m == 0xD9) { eoi = true; i += 2; break; }
        if (i + 4 > n) break;
        size_t l = (size_t)d[i + 2] << 8 | d[i + 3];
        if (m == 0xE0) {
            app0++;
            TT_CHECK(l >= 7 && i + 9 <= n && memcmp(d + i + 4, "JFIF\0", 5) == 0, "%s: APP0 is not JFIF", what);
        } else if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
            sof++;
        } else if (m == 0xDA) {
            sos++;
        } else {
            TT_CHECK(m == 0xDB || m == 0xC4 || m == 0xDD, "%s: unexpected marker FF%02X at %zu", what, m, i);
        }
        i += 2 + l;
        if (m == 0xDA)
            while (i + 1 < n && !(d[i] == 0xFF && d[i + 1] != 0 && !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7))) i++;
    }
    TT_CHECK(app0 == 1 && sof == 1 && sos >= 1 && eoi, "%s: APP0 %d SOF %d SOS %d EOI %d", what, app0, sof, sos, eoi);
    TT_CHECK(i == n, "%s: %zu bytes after EOI", what, n - i);
}

/* The output must be IHDR, IDAT..., IEND and nothing after. */
static void check_png_structure(const char *what, const uint8_t *d, size_t n) {
    REQ(n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0, "%s: no PNG signature", what);
    size_t i = 8;
    int k = 0;
    bool iend = false;
    while (i + 12 <= n) {
        uint32_t l = (uint32_t)d[i] << 24 | (uint32_t)d[i + 1] << 16 | (uint32_t)d[i + 2] << 8 | d[i + 3];
        const char *t = (const char *)d + i + 4;
        if (k == 0) TT_CHECK(memcmp(t, "IHDR", 4) == 0, "%s: first chunk is %.4s", what, t);
        else TT_CHECK(memcmp(t, "IDAT", 4) == 0 || memcmp(t, "IEND", 4) == 0, "%s: chunk %.4s", what, t);
        k++;
        if (memcmp(t, "IEND", 4) == 0) { iend = true; i += 12; break; }
        if (l > n - i - 12) { TT_CHECK(0, "%s: chunk overruns", what); return; }
        i += 12 + (size_t)l;
    }
    TT_CHECK(iend && i == n, "%s: IEND %d, %zu bytes after it", what, iend, n - i);
}

static void privacy_run(const char *what, const uint8_t *in, size_t n, const uint8_t *gps_entry) {
    for (int fmt = THUMB_FORMAT_JPEG; fmt <= THUMB_FORMAT_PNG; fmt++) {
        thumb_ctx *ctx = thumb_ctx_new();
        thumb_options o;
        thumb_options_init(&o);
        o.width = 32;
        o.height = 32;
        o.format = fmt;
        void *out = NULL;
        size_t ol = 0;
        char name[96];
        snprintf(name, sizeof name, "%s -> %s", what, thumb_format_name(fmt));
        int rc = thumb_thumbnail_mem(ctx, in, n, &o, &out, &ol);
        TT_CHECK(rc == THUMB_OK, "%s: %s (%s)", name, thumb_error_name(rc), thumb_ctx_detail(ctx));
        if (rc == THUMB_OK) {
            check_clean(name, out, ol, gps_entry);
            if (fmt == THUMB_FORMAT_JPEG) check_jpeg_structure(name, out, ol);
            else check_png_structure(name, out, ol);
            thumb_free(out);
        }
        thumb_ctx_free(ctx);
    }
}

static void test_privacy(void) {
    buf tiff = {0};
    tiff_with_gps(&tiff);
    const uint8_t *gps_entry = tiff.p + 8 + 2 + 12; /* IFD0's second entry: the GPS pointer */

    /* JPEG: SOI, APP0 (the encoder's), then APP1 Exif, APP1 XMP, COM, the rest; trailers after EOI. */
    size_t n;
    uint8_t *j = encode(THUMB_FORMAT_JPEG, 64, 48, 3, 0, &n);
    REQ(j != NULL && n > 20 && j[2] == 0xFF && j[3] == 0xE0, "jpeg with APP0");
    size_t after_app0 = 4 + ((size_t)j[4] << 8 | j[5]);
    buf b = {0};
    buf_put(&b, j, after_app0);
    buf_put(&b, "\xFF\xE1", 2);
    buf_be16(&b, (unsigned)(2 + 6 + tiff.n));
    buf_put(&b, "Exif\0\0", 6);
    buf_put(&b, tiff.p, tiff.n);
    buf_put(&b, "\xFF\xE1", 2);
    buf_be16(&b, (unsigned)(2 + sizeof XMP - 1));
    buf_put(&b, XMP, sizeof XMP - 1);
    buf_put(&b, "\xFF\xFE", 2);
    buf_be16(&b, (unsigned)(2 + strlen(COMMENT)));
    buf_str(&b, COMMENT);
    buf_put(&b, j + after_app0, n - after_app0);
    buf_put(&b, TRAILER_ZIP, sizeof TRAILER_ZIP - 1);
    buf_str(&b, TRAILER_HTML);
    free(j);
    {
        thumb_ctx *ctx = thumb_ctx_new();
        thumb_info info;
        thumb_info_init(&info);
        int rc = thumb_info_mem(ctx, b.p, b.n, NULL, &info);
        TT_CHECK(rc == THUMB_OK && info.has_exif, "the crafted JPEG's EXIF is seen (rc %s, has_exif %d): the test input is what it claims",
                 thumb_error_name(rc), info.has_exif);
        thumb_ctx_free(ctx);
    }
    privacy_run("jpeg with EXIF/GPS, XMP, COM, ZIP+HTML trailer", b.p, b.n, gps_entry);
    b.n = 0;

    /* PNG: IHDR, eXIf, tEXt, iTXt (XMP), the image, IEND; trailers after IEND. */
    uint8_t *p = encode(THUMB_FORMAT_PNG, 64, 48, 3, 0, &n);
    REQ(p != NULL && n > 33 && memcmp(p + 12, "IHDR", 4) == 0, "png with IHDR");
    buf_put(&b, p, 33);
    png_chunk(&b, "eXIf", tiff.p, (uint32_t)tiff.n);
    buf t = {0};
    buf_put(&t, "Comment\0", 8);
    buf_str(&t, COMMENT);
    png_chunk(&b, "tEXt", t.p, (uint32_t)t.n);
    t.n = 0;
    buf_put(&t, "XML:com.adobe.xmp\0\0\0\0\0", 22);
    buf_put(&t, XMP, sizeof XMP - 1);
    png_chunk(&b, "iTXt", t.p, (uint32_t)t.n);
    free(t.p);
    buf_put(&b, p + 33, n - 33);
    buf_put(&b, TRAILER_ZIP, sizeof TRAILER_ZIP - 1);
    buf_str(&b, TRAILER_HTML);
    free(p);
    {
        thumb_ctx *ctx = thumb_ctx_new();
        thumb_info info;
        thumb_info_init(&info);
        int rc = thumb_info_mem(ctx, b.p, b.n, NULL, &info);
        TT_CHECK(rc == THUMB_OK && info.has_exif, "the crafted PNG's eXIf is seen (rc %s, has_exif %d)", thumb_error_name(rc),
                 info.has_exif);
        thumb_ctx_free(ctx);
    }
    privacy_run("png with eXIf/GPS, tEXt, iTXt XMP, ZIP+HTML trailer", b.p, b.n, gps_entry);
    free(b.p);
    free(tiff.p);
}

/* ================================================================ truncation and flips */

/* Progressive files through jprog (libthumb/jprog.h) and through libjpeg (ctx->no_jdfast): every
 * cut ends with libjpeg's code, and flipped bytes (almost always: jprog does not read the AC scans
 * a 1/8 decode does not need, where libjpeg may count damage warnings) too. Two sizes: 24x24 of
 * the corpus file is a 2/8 decode (every scan read), 40x40 of the made one a 1/8 decode. */
static int prog_code(thumb_ctx *ctx, const uint8_t *d, size_t n, uint32_t box, int libjpeg) {
    ctx->no_jdfast = libjpeg;
    thumb_options o;
    thumb_options_init(&o);
    o.width = o.height = box;
    void *out = NULL;
    size_t len = 0;
    uint8_t *cp = malloc(n ? n : 1);
    memcpy(cp, d, n);
    int rc = thumb_thumbnail_mem(ctx, cp, n, &o, &out, &len);
    free(cp);
    if (rc == THUMB_OK) thumb_free(out);
    return rc;
}

static void progressive_codes(const uint8_t *d, size_t n, uint32_t box, const char *what) {
    thumb_ctx *ctx = thumb_ctx_new();
    int cuts = 0, cuts_same = 0, flips = 0, flips_same = 0;
    for (size_t cut = 0; cut < n; cut += 1 + n / 1500) {
        int a = prog_code(ctx, d, cut, box, 0), b = prog_code(ctx, d, cut, box, 1);
        TT_CHECK(a == b, "%s cut at %zu: jprog %s, libjpeg %s", what, cut, thumb_error_name(a), thumb_error_name(b));
        cuts++;
        cuts_same += a == b;
    }
    uint8_t *m = malloc(n);
    memcpy(m, d, n);
    for (size_t i = 0; i < n; i += 1 + n / 1500) {
        uint8_t orig = m[i];
        for (int k = 0; k < 2; k++) {
            m[i] = (uint8_t)(orig ^ (k ? 0x01 : 0xFF));
            int a = prog_code(ctx, m, n, box, 0), b = prog_code(ctx, m, n, box, 1);
            TT_CHECK(known_code(a), "%s flip at %zu: rc %d", what, i, a);
            flips++;
            flips_same += a == b;
        }
        m[i] = orig;
    }
    free(m);
    TT_CHECK(flips_same * 100 >= flips * 97, "%s: flips %d of %d as libjpeg's code", what, flips_same, flips);
    fprintf(stderr, "%s: %d cuts, %d as libjpeg; %d flips, %d as libjpeg\n", what, cuts, cuts_same, flips, flips_same);
    thumb_ctx_free(ctx);
}

static void test_truncation_and_flips(void) {
    size_t n;
    uint8_t *d = tt_read_file(tt_corpus("jpeg-variants/video-001.q50.420.jpeg"), &n);
    REQ(d != NULL, "corpus jpeg-variants/video-001.q50.420.jpeg");
    truncate_and_flip(d, n, "baseline jpeg");
    free(d);
    d = tt_read_file(tt_corpus("jpeg-variants/video-001.q50.420.progressive.jpeg"), &n);
    REQ(d != NULL, "corpus jpeg-variants/video-001.q50.420.progressive.jpeg");
    truncate_and_flip(d, n, "progressive jpeg");
    progressive_codes(d, n, 24, "progressive jpeg at 2/8 (jprog vs libjpeg)");
    free(d);
    d = encode(THUMB_FORMAT_JPEG, 600, 400, 3, 1, &n);
    REQ(d != NULL, "600x400 progressive jpeg");
    progressive_codes(d, n, 40, "progressive jpeg at 1/8 (jprog vs libjpeg)");
    free(d);
    /* An Adam7 PNG made here, with alpha, about 4 KB. */
    d = encode(THUMB_FORMAT_PNG, 40, 30, 4, 1, &n);
    REQ(d != NULL, "interlaced png");
    thumb_info info;
    thumb_info_init(&info);
    thumb_ctx *ctx = thumb_ctx_new();
    TT_CHECK(thumb_info_mem(ctx, d, n, NULL, &info) == THUMB_OK && info.progressive == 1,
             "the encoder's progressive PNG is interlaced");
    thumb_ctx_free(ctx);
    truncate_and_flip(d, n, "interlaced png");
    free(d);
    /* lossless JPEG (SOF3): 12-bit RGB with a restart every 3 rows, and 16-bit grey, predictor 7 */
    uint16_t *s = ljenc_picture(24, 16, 3, 12, 5, 0);
    ljenc_opt lo = {.prec = 12, .pred = 4, .pt = 1, .restart = 3, .adobe = 0};
    d = ljenc(s, 24, 16, 3, &lo, &n);
    truncate_and_flip(d, n, "lossless jpeg 12-bit rgb, restarts");
    free(d);
    free(s);
    s = ljenc_picture(20, 20, 1, 16, 6, 0);
    lo = (ljenc_opt){.prec = 16, .pred = 7, .adobe = -1, .tables_first = 1};
    d = ljenc(s, 20, 20, 1, &lo, &n);
    truncate_and_flip(d, n, "lossless jpeg 16-bit grey");
    free(d);
    free(s);
}

int main(int argc, char **argv) {
    /* Optional: run one part by name (bombs, alloc, privacy, flips). */
    const char *only = argc > 1 ? argv[1] : NULL;
    if (!only || strcmp(only, "bombs") == 0) test_bombs();
    if (!only || strcmp(only, "privacy") == 0) test_privacy();
    if (!only || strcmp(only, "alloc") == 0) test_alloc_failures();
    if (!only || strcmp(only, "flips") == 0) test_truncation_and_flips();
    return tt_report(__FILE__);
}
