/* libjpeg as the reference for the harnesses of our own JPEG decoders (fuzz_jdfast.c for
 * baseline files, fuzz_jprog.c for progressive ones): its coefficients and, when they are a
 * photo's, its samples. Header-only; every function is static. */
#ifndef THUMB_FUZZ_JREF_H
#define THUMB_FUZZ_JREF_H

#include "fuzz_common.h"
#include "internal.h"
#include "jdfast.h"

#include <setjmp.h>
#include <string.h>

#include <jpeglib.h>

#define MAX_PIXELS (1u << 20)
/* |coef x q| of 8-bit photos: beyond it the IDCT sums leave the sample range and libjpeg's own
 * SIMD and C IDCTs part ways */
#define DQ_PHOTO 1024

/* libjpeg's coefficients, every component, padded to whole MCUs as libjpeg keeps them */
typedef struct {
    int n;                  /* components when the coefficients are a reference, else 0 */
    bool failed;            /* libjpeg raised an error after the header */
    uint32_t wb[4], hb[4];
    int16_t *c[4];
    const jdfast *f;        /* the decoder whose blocks a coefficient hook checks (fuzz_jprog) */
} coefs;

static void coefs_free(coefs *k) {
    for (int i = 0; i < 4; i++) free(k->c[i]);
    memset(k, 0, sizeof *k);
}

struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
};
static void on_error(j_common_ptr c) { longjmp(((struct jerr *)c->err)->jb, 1); }
static void on_message(j_common_ptr c, int level) { if (level < 0) c->err->num_warnings++; }

static void s_init(j_decompress_ptr c) { (void)c; }
static void s_term(j_decompress_ptr c) { (void)c; }

static void setup(j_decompress_ptr d, struct jerr *e) {
    d->err = jpeg_std_error(&e->pub);
    e->pub.error_exit = on_error;
    e->pub.emit_message = on_message;
    jpeg_create_decompress(d);
}

/* The header, and the output at scale/8 with jpeg.c's settings; false when it does not read or
 * the image is over max_image pixels or the output over MAX_PIXELS. */
static bool header(j_decompress_ptr d, int scale, J_COLOR_SPACE cs, uint64_t max_image) {
    if (jpeg_read_header(d, TRUE) != JPEG_HEADER_OK) return false;
    if ((uint64_t)d->image_width * d->image_height > max_image) return false;
    d->scale_num = (unsigned)scale;
    d->scale_denom = 8;
    d->dct_method = JDCT_ISLOW;
    d->do_fancy_upsampling = TRUE;
    d->out_color_space = d->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : cs;
    jpeg_calc_output_dimensions(d);
    return (uint64_t)d->output_width * d->output_height <= MAX_PIXELS;
}

/* Every coefficient's last bit sent; libjpeg keeps no coef_bits for a sequential file. */
static bool progression_complete(j_decompress_ptr d) {
    for (int ci = 0; d->coef_bits && ci < d->num_components; ci++)
        for (int j = 0; j < 64; j++)
            if (d->coef_bits[ci][j] != 0) return false;
    return true;
}

/* Of files usable takes (up to 4 x MAX_PIXELS): libjpeg's coefficients into *k (k->n = 0 unless it
 * read them with no warning and the progression is complete), its samples when in addition the
 * coefficients are a photo's (else NULL); k->failed when it raised an error after the header. */
static uint8_t *reference(const uint8_t *data, size_t size, int scale, J_COLOR_SPACE cs,
                          bool (*usable)(j_decompress_ptr), coefs *k) {
    struct jpeg_decompress_struct d;
    struct jerr e;
    uint8_t *volatile out = NULL;
    volatile bool past_header = false;
    memset(k, 0, sizeof *k);
    setup(&d, &e);
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&d);
        free(out);
        coefs_free(k);
        k->failed = past_header;
        return NULL;
    }
    jpeg_mem_src(&d, data, (unsigned long)size);
    if (!header(&d, scale, cs, 4u * MAX_PIXELS) || !usable(&d)) {
        jpeg_destroy_decompress(&d);
        return NULL;
    }
    past_header = true;
    /* 0xFF 0xFF in the entropy-coded data (fill bytes, then 0x00: a data byte 0xFF): libjpeg-turbo
     * 2.1.5's fast Huffman path takes it for a marker and retries the MCU on its slow path without
     * clearing what the fast path stored, so libjpeg's block keeps stray coefficients (its slow path
     * alone gives ours). No reference for such files. Progressive scans have no fast path. */
    if (!d.progressive_mode) {
        size_t at = (size_t)(d.src->next_input_byte - data);
        for (size_t i = at; i + 1 < size; i++)
            if (data[i] == 0xFF && data[i + 1] == 0xFF) { jpeg_destroy_decompress(&d); return NULL; }
    }
    jvirt_barray_ptr *arr = jpeg_read_coefficients(&d);
    bool clean = d.err->num_warnings == 0 && progression_complete(&d), photo = clean;
    if (clean) {
        for (int ci = 0; ci < d.num_components; ci++) {
            jpeg_component_info *cp = &d.comp_info[ci];
            int h = d.num_components == 1 ? 1 : cp->h_samp_factor, v = d.num_components == 1 ? 1 : cp->v_samp_factor;
            uint32_t wb = (cp->width_in_blocks + (uint32_t)h - 1) / (uint32_t)h * (uint32_t)h;
            uint32_t hb = (cp->height_in_blocks + (uint32_t)v - 1) / (uint32_t)v * (uint32_t)v;
            const JQUANT_TBL *qt = cp->quant_table; /* as libjpeg latched it for the component's first scan */
            k->wb[ci] = wb;
            k->hb[ci] = hb;
            k->c[ci] = malloc((size_t)wb * hb * 64 * sizeof(int16_t));
            if (!k->c[ci] || !qt) { clean = photo = false; break; }
            for (uint32_t by = 0; by < hb; by++) {
                JBLOCKARRAY row = (*d.mem->access_virt_barray)((j_common_ptr)&d, arr[ci], by, 1, FALSE);
                for (uint32_t bx = 0; bx < wb; bx++)
                    for (int j = 0; j < 64; j++) {
                        int16_t c = row[0][bx][j];
                        k->c[ci][((size_t)by * wb + bx) * 64 + (size_t)j] = c;
                        int dq = c * (int16_t)qt->quantval[j];
                        if (dq > DQ_PHOTO || dq < -DQ_PHOTO) photo = false;
                    }
            }
        }
        k->n = clean ? d.num_components : 0;
        if (!clean) coefs_free(k);
    }
    jpeg_abort_decompress(&d);
    if (!photo) { jpeg_destroy_decompress(&d); return NULL; }
    jpeg_mem_src(&d, data, (unsigned long)size);
    header(&d, scale, cs, 4u * MAX_PIXELS);
    jpeg_start_decompress(&d);
    size_t stride = (size_t)d.output_width * (size_t)d.output_components;
    out = malloc(stride * d.output_height);
    if (!out) { jpeg_destroy_decompress(&d); return NULL; }
    while (d.output_scanline < d.output_height) {
        JSAMPROW r = out + (size_t)d.output_scanline * stride;
        jpeg_read_scanlines(&d, &r, 1);
    }
    jpeg_finish_decompress(&d);
    bool warned = d.err->num_warnings > 0;
    jpeg_destroy_decompress(&d);
    if (warned) { free(out); return NULL; }
    return out;
}

/* rows[0..n), the window's rows from row y on, of the window [x0,x1)x[y0,y1): as many as a decoder
 * may give, and libjpeg's rows of ref (w pixels of ch bytes a row) when there is a ref */
static void rows_check(const uint8_t *const *rows, int n, uint32_t y, uint32_t x0, uint32_t x1, uint32_t y0,
                       uint32_t y1, const uint8_t *ref, uint32_t w, int ch, int scale, J_COLOR_SPACE cs,
                       unsigned features) {
    FUZZ_CHECK(n >= 1 && n <= 16 && y + (uint32_t)n <= y1, "rows gave %d at %u of [%u,%u)", n, y, y0, y1);
    for (int i = 0; i < n; i++, y++)
        if (ref)
            FUZZ_CHECK(!memcmp(rows[i], ref + ((size_t)y * w + x0) * (size_t)ch, (size_t)(x1 - x0) * (size_t)ch),
                       "row %u differs from libjpeg (scale %d/8, cs %d, features %u)", y, scale, (int)cs, features);
}

static int count_warning(void *user, const char *what) {
    (void)what;
    return ++*(int *)user > 1000;
}

#endif
