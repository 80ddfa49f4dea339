/* libjpeg-turbo as the reference for our own JPEG decoders (test_jdfast.c, test_jprog.c): files
 * made with its encoder, its decode at a DCT scale, and the rows and half-size chroma planes of a
 * jdfast handle (baseline or progressive) compared with it; the corpus walk, the file and stream
 * helpers both tests use.
 *
 * Needs the internal headers (link thumb_static) and tt.h. Header-only; every function is static. */
#ifndef THUMB_TESTS_JREF_H
#define THUMB_TESTS_JREF_H

#include "internal.h"
#include "jdfast.h"
#include "tt.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
};
static inline void on_error(j_common_ptr c)
{
    longjmp(((struct jerr *)c->err)->jb, 1);
}
static inline void on_message(j_common_ptr c, int level)
{
    if (level < 0)
        c->err->num_warnings++;
}

/* errors longjmp to e->jb, warnings are counted */
static inline void err_setup(struct jpeg_decompress_struct *d, struct jerr *e)
{
    d->err = jpeg_std_error(&e->pub);
    e->pub.error_exit = on_error;
    e->pub.emit_message = on_message;
}

/* TT_REQUIRE for void helpers */
#define NEED(cond, ...)                                                                                      \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            TT_CHECK(0, __VA_ARGS__);                                                                        \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

/* The header of data read into d, its output at scale/8 in colour space cs */
static inline void header_at(struct jpeg_decompress_struct *d, const uint8_t *data, size_t len, int scale,
                             J_COLOR_SPACE cs)
{
    jpeg_mem_src(d, data, (unsigned long)len);
    jpeg_read_header(d, TRUE);
    d->scale_num = (unsigned)scale;
    d->scale_denom = 8;
    d->out_color_space = cs;
    jpeg_calc_output_dimensions(d);
}

/* libjpeg's decode at scale/8 into one buffer (settings as jpeg.c: islow, fancy upsampling); NULL
 * when it warned or a progression is incomplete. */
static inline uint8_t *ref_decode(const uint8_t *data, size_t len, int scale, J_COLOR_SPACE cs, uint32_t *w,
                                  uint32_t *h, int *ch)
{
    struct jpeg_decompress_struct d;
    struct jerr e;
    err_setup(&d, &e);
    uint8_t *volatile out = NULL;
    jpeg_create_decompress(&d);
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&d);
        free(out);
        return NULL;
    }
    header_at(&d, data, len, scale, cs);
    d.dct_method = JDCT_ISLOW;
    d.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&d);
    *w = d.output_width;
    *h = d.output_height;
    *ch = d.output_components;
    size_t stride = (size_t)*w * (size_t)*ch;
    out = malloc(stride * *h);
    while (d.output_scanline < d.output_height) {
        JSAMPROW r = out + (size_t)d.output_scanline * stride;
        jpeg_read_scanlines(&d, &r, 1);
    }
    /* every coefficient's last bit sent (jpeg.c fails the file otherwise); libjpeg keeps no
     * coef_bits for a sequential file */
    bool complete = true;
    for (int ci = 0; d.coef_bits && ci < d.num_components; ci++)
        for (int k = 0; k < 64; k++)
            complete = complete && d.coef_bits[ci][k] == 0;
    jpeg_finish_decompress(&d);
    bool warned = e.pub.num_warnings > 0 || !complete;
    jpeg_destroy_decompress(&d);
    if (warned) { /* corrupt or cut short: libjpeg's guess, not a reference (the corrupt-data checks cover these) */
        free(out);
        return NULL;
    }
    return out;
}

/* libjpeg's encoder into *buf (*n bytes when finished) for a w x h picture, grey or RGB (4:2:0 when
 * sub420, else 4:4:4), at quality; restart > 0: a restart marker every restart MCU rows, < 0: every
 * -restart MCUs. The caller may set more, then calls jpeg_start_compress and made_rows. */
static inline void made_begin(struct jpeg_compress_struct *c, struct jpeg_error_mgr *e, unsigned char **buf,
                              unsigned long *n, uint32_t w, uint32_t h, bool grey, bool sub420, int quality,
                              int restart)
{
    c->err = jpeg_std_error(e);
    jpeg_create_compress(c);
    jpeg_mem_dest(c, buf, n);
    c->image_width = w;
    c->image_height = h;
    c->input_components = grey ? 1 : 3;
    c->in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, quality, TRUE);
    if (!grey)
        c->comp_info[0].h_samp_factor = c->comp_info[0].v_samp_factor = sub420 ? 2 : 1;
    if (restart > 0)
        c->restart_in_rows = restart;
    else if (restart < 0)
        c->restart_interval = (unsigned)-restart;
}

/* The picture's rows into c (started), then the file finished: smooth gradients with noise of
 * +-noise and a few hard edges (where seed puts them); with banded, noise and flat bands of 24 rows
 * instead. */
static inline void made_rows(struct jpeg_compress_struct *c, uint32_t seed, int noise, bool banded)
{
    uint32_t w = c->image_width, h = c->image_height;
    size_t stride = (size_t)w * (size_t)c->input_components;
    uint8_t *row = malloc(stride);
    while (c->next_scanline < h) {
        uint32_t y = c->next_scanline;
        for (size_t i = 0; i < stride; i++) {
            uint32_t x = (uint32_t)(i / (size_t)c->input_components);
            int v = (int)((x * 255) / (w + 1) + (y * 97) / (h + 1) + (i % 3) * 40) & 255;
            if (((x / 7) + (y / 5) + seed) % 11 == 0)
                v = 255 - v;
            v += (int)(tt_rnd() % (uint32_t)(2 * noise + 1)) - noise;
            if (banded)
                v = (y / 24) % 2 ? 90 : (int)(tt_rnd() % 256);
            row[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        JSAMPROW r = row;
        jpeg_write_scanlines(c, &r, 1);
    }
    jpeg_finish_compress(c);
    jpeg_destroy_compress(c);
    free(row);
}

/* The rows of f, the window [x0,x1)x[y0,y1) of a decode at scale/8 in cs, against ref (rw pixels
 * of ch bytes a row). 1 all the same, -1 a row differs or f failed. */
static inline int rows_compare(const char *name, jdfast *f, int scale, J_COLOR_SPACE cs, const uint8_t *ref,
                               uint32_t rw, int ch, uint32_t x0, uint32_t x1, uint32_t y0, uint32_t y1)
{
    int result = 1;
    uint32_t y = y0;
    while (y < y1 && result == 1) {
        const uint8_t *rows[16];
        int n = 0;
        int rc = thumb__jdfast_rows(f, rows, &n);
        if (rc != THUMB_OK || n < 1) {
            TT_CHECK(0, "%s: rows %d at y %u", name, rc, (unsigned)y);
            result = -1;
            break;
        }
        for (int i = 0; i < n && result == 1; i++, y++) {
            const uint8_t *want = ref + ((size_t)y * rw + x0) * (size_t)ch;
            if (memcmp(rows[i], want, (size_t)(x1 - x0) * (size_t)ch) != 0) {
                size_t k = 0;
                while (rows[i][k] == want[k])
                    k++;
                TT_CHECK(0, "%s scale %d/8 cs %d window [%u,%u)x[%u,%u): row %u differs at byte %zu (%d vs %d)",
                         name, scale, (int)cs, (unsigned)x0, (unsigned)x1, (unsigned)y0, (unsigned)y1, (unsigned)y,
                         k, rows[i][k], want[k]);
                result = -1;
            }
        }
    }
    return result;
}

/* Our decoder (cmp) over the window [x0,x1)x[y0,y1) of data at scale/8 in cs, against ref (libjpeg's
 * decode, rw pixels of ch bytes a row): 1 compared, 0 not taken, -1 differs. */
typedef int (*jref_compare_fn)(const char *name, const uint8_t *data, size_t len, int scale, J_COLOR_SPACE cs,
                               const uint8_t *ref, uint32_t rw, int ch, uint32_t x0, uint32_t x1, uint32_t y0,
                               uint32_t y1);

/* At each scale up to max_scale/8 and each output space libjpeg decodes the file to a reference
 * in: the whole image (counted in *compared, or *not_taken), then, where that compared, windows
 * random windows (counted in *windows_compared). */
static inline void compare_scales(const char *name, const uint8_t *data, size_t len, int windows, int max_scale,
                                  jref_compare_fn cmp, int *compared, int *windows_compared, int *not_taken)
{
    static const J_COLOR_SPACE spaces[3] = {JCS_RGB, JCS_YCbCr, JCS_GRAYSCALE};
    for (int scale = 1; scale <= max_scale; scale *= 2) {
        for (int s = 0; s < 3; s++) {
            uint32_t w, h;
            int ch;
            uint8_t *ref = ref_decode(data, len, scale, spaces[s], &w, &h, &ch);
            if (!ref)
                continue;
            int r = cmp(name, data, len, scale, spaces[s], ref, w, ch, 0, w, 0, h);
            if (r == 1)
                (*compared)++;
            else if (r == 0)
                (*not_taken)++;
            for (int i = 0; i < windows && r == 1; i++) {
                uint32_t x0 = tt_rnd() % w, y0 = tt_rnd() % h;
                uint32_t x1 = x0 + 1 + tt_rnd() % (w - x0), y1 = y0 + 1 + tt_rnd() % (h - y0);
                if (cmp(name, data, len, scale, spaces[s], ref, w, ch, x0, x1, y0, y1) == 1)
                    (*windows_compared)++;
            }
            free(ref);
        }
    }
}

/* The half-size chroma planes of f over the window [x0,x1)x[y0,y1) at scale/8: luma against ry
 * (libjpeg's YCbCr decode at the scale, w pixels a row), chroma against rc (its decode at half
 * the scale, cw pixels a row). True when all are the same. */
static inline bool planes_compare(const char *name, jdfast *f, int scale, const uint8_t *ry, uint32_t w,
                                  const uint8_t *rc, uint32_t cw, uint32_t x0, uint32_t x1, uint32_t y0, uint32_t y1)
{
    uint32_t ny = 0, nc = 0, cx0 = x0 / 2, cy0 = y0 / 2, cx1 = (x1 + 1) / 2, cy1 = (y1 + 1) / 2;
    int bad = 0;
    while ((ny < y1 - y0 || nc < cy1 - cy0) && !bad) {
        tplanes p;
        if (thumb__jdfast_planes(f, &p) != THUMB_OK || (p.ny == 0 && p.nc == 0)) {
            TT_CHECK(0, "%s half %d/8 [%u,%u)x[%u,%u): planes stopped at %u, %u", name, scale, x0, x1, y0, y1, ny, nc);
            bad = 1;
            break;
        }
        for (int i = 0; i < p.ny && !bad; i++, ny++)
            for (uint32_t x = x0; x < x1 && !bad; x++)
                if (p.y[i][x - x0] != ry[((size_t)(y0 + ny) * w + x) * 3]) {
                    TT_CHECK(0, "%s half %d/8 [%u,%u)x[%u,%u): Y differs at %u,%u", name, scale, x0, x1, y0, y1, x,
                             y0 + ny);
                    bad = 1;
                }
        for (int i = 0; i < p.nc && !bad; i++, nc++)
            for (uint32_t x = cx0; x < cx1 && !bad; x++) {
                const uint8_t *want = rc + ((size_t)(cy0 + nc) * cw + x) * 3;
                if (p.cb[i][x - cx0] != want[1] || p.cr[i][x - cx0] != want[2]) {
                    TT_CHECK(0, "%s half %d/8 [%u,%u)x[%u,%u): chroma differs at %u,%u", name, scale, x0, x1, y0, y1,
                             x, cy0 + nc);
                    bad = 1;
                }
            }
    }
    return !bad;
}

typedef void (*jref_check_fn)(const char *name, const uint8_t *data, size_t len, int windows);

/* check on every .jpg and .jpeg of the corpus folder rel */
static inline void check_dir(const char *rel, int windows, jref_check_fn check)
{
    DIR *dir = opendir(tt_corpus(rel));
    NEED(dir, "corpus folder %s", rel);
    struct dirent *de;
    while ((de = readdir(dir))) {
        const char *n = de->d_name;
        size_t l = strlen(n);
        if (!(l > 4 && (!strcmp(n + l - 4, ".jpg") || (l > 5 && !strcmp(n + l - 5, ".jpeg")))))
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", rel, n);
        size_t len;
        unsigned char *data = tt_read_file(tt_corpus(path), &len);
        NEED(data, "read %s", path);
        check(path, data, len, windows);
        free(data);
    }
    closedir(dir);
}

/* Offset of the first byte after the first SOS segment, 0 when the markers before it are broken */
static inline size_t scan_start(const uint8_t *d, size_t len)
{
    for (size_t i = 2; i + 4 < len;) {
        if (d[i] != 0xFF)
            return 0;
        size_t seg = (size_t)d[i + 2] << 8 | d[i + 3];
        if (d[i + 1] == 0xDA)
            return i + 2 + seg;
        i += 2 + seg;
    }
    return 0;
}

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    uint32_t most; /* the longest read */
} reader;

/* random short reads of 1..most bytes: 0xFF bytes, markers and scan boundaries fall on read
 * boundaries */
static inline int64_t read_some(void *user, void *buf, size_t n)
{
    reader *r = user;
    size_t k = 1 + tt_rnd() % r->most;
    if (k > n)
        k = n;
    if (k > r->n - r->pos)
        k = r->n - r->pos;
    memcpy(buf, r->p + r->pos, k);
    r->pos += k;
    return (int64_t)k;
}

typedef struct {
    uint8_t *p;
    size_t n, cap;
} sink;

static inline int write_all(void *user, const void *buf, size_t n)
{
    sink *s = user;
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, buf, n);
    s->n += n;
    return 0;
}

#endif
