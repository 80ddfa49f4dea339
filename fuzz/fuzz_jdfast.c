/* jdfast (libthumb/jdfast.h) against libjpeg on arbitrary bytes. The first byte picks the scale
 * (1, 2, 4, 8 /8), the output (RGB, YCbCr) and a window; the rest is the file.
 *  - always: jdfast, AVX2 and scalar kernels, runs to its end or a typed error, no crash;
 *  - when libjpeg reads the file's coefficients with no warning: every block jdfast decodes holds
 *    libjpeg's coefficients exactly (the entropy decoder, DC prediction, restarts), whatever values;
 *  - when in addition every dequantised coefficient is within what 8-bit photos hold (|coef x q|
 *    <= 1024; beyond that the sums leave the sample range and libjpeg's own SIMD and C IDCTs part
 *    ways), jdfast's rows are libjpeg's, byte for byte, with both kernel sets. */
#include "fuzz_common.h"
#include "internal.h"
#include "jdfast.h"

#include <setjmp.h>
#include <string.h>

#include <jpeglib.h>

#define MAX_PIXELS (1u << 20)
#define DQ_PHOTO 1024

/* libjpeg's coefficients, every component, padded to whole MCUs as libjpeg keeps them */
typedef struct {
    int n;
    uint32_t wb[4], hb[4];
    int16_t *c[4];
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

/* A memory source that ends with FALSE (what jdfast asks of its source). */
static void s_init(j_decompress_ptr c) { (void)c; }
static boolean s_fill(j_decompress_ptr c) { (void)c; return FALSE; }
static void s_skip(j_decompress_ptr c, long n) {
    struct jpeg_source_mgr *m = c->src;
    if (n > 0 && (size_t)n > m->bytes_in_buffer) n = (long)m->bytes_in_buffer;
    if (n > 0) { m->next_input_byte += n; m->bytes_in_buffer -= (size_t)n; }
}
static void s_term(j_decompress_ptr c) { (void)c; }

static void setup(j_decompress_ptr d, struct jerr *e) {
    d->err = jpeg_std_error(&e->pub);
    e->pub.error_exit = on_error;
    e->pub.emit_message = on_message;
    jpeg_create_decompress(d);
}

static bool header(j_decompress_ptr d, int scale, J_COLOR_SPACE cs) {
    if (jpeg_read_header(d, TRUE) != JPEG_HEADER_OK) return false;
    if ((uint64_t)d->image_width * d->image_height > 16u * MAX_PIXELS) return false;
    d->scale_num = (unsigned)scale;
    d->scale_denom = 8;
    d->dct_method = JDCT_ISLOW;
    d->do_fancy_upsampling = TRUE;
    d->out_color_space = d->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : cs;
    jpeg_calc_output_dimensions(d);
    return (uint64_t)d->output_width * d->output_height <= MAX_PIXELS;
}

/* libjpeg's coefficients into *k (k->n = 0 when it warned or failed), and its samples, NULL when
 * it warned, failed or a coefficient is beyond a photo's. */
static uint8_t *reference(const uint8_t *data, size_t size, int scale, J_COLOR_SPACE cs, coefs *k) {
    struct jpeg_decompress_struct d;
    struct jerr e;
    uint8_t *volatile out = NULL;
    memset(k, 0, sizeof *k);
    setup(&d, &e);
    if (setjmp(e.jb)) { jpeg_destroy_decompress(&d); free(out); coefs_free(k); return NULL; }
    jpeg_mem_src(&d, data, (unsigned long)size);
    if (!header(&d, scale, cs) || !thumb__jdfast_usable(&d) ||
        (uint64_t)d.image_width * d.image_height > 4u * MAX_PIXELS) {
        jpeg_destroy_decompress(&d);
        return NULL;
    }
    /* 0xFF 0xFF in the entropy-coded data (fill bytes, then 0x00: a data byte 0xFF): libjpeg-turbo
     * 2.1.5's fast Huffman path takes it for a marker and retries the MCU on its slow path without
     * clearing what the fast path stored, so libjpeg's block keeps stray coefficients (its slow path
     * alone gives ours). No reference for such files. */
    size_t at = (size_t)(d.src->next_input_byte - data);
    for (size_t i = at; i + 1 < size; i++)
        if (data[i] == 0xFF && data[i + 1] == 0xFF) { jpeg_destroy_decompress(&d); return NULL; }
    jvirt_barray_ptr *arr = jpeg_read_coefficients(&d);
    bool photo = d.err->num_warnings == 0;
    if (photo) {
        for (int ci = 0; ci < d.num_components; ci++) {
            jpeg_component_info *cp = &d.comp_info[ci];
            int h = d.num_components == 1 ? 1 : cp->h_samp_factor, v = d.num_components == 1 ? 1 : cp->v_samp_factor;
            uint32_t wb = (cp->width_in_blocks + (uint32_t)h - 1) / (uint32_t)h * (uint32_t)h;
            uint32_t hb = (cp->height_in_blocks + (uint32_t)v - 1) / (uint32_t)v * (uint32_t)v;
            const JQUANT_TBL *qt = d.quant_tbl_ptrs[cp->quant_tbl_no];
            k->wb[ci] = wb;
            k->hb[ci] = hb;
            k->c[ci] = malloc((size_t)wb * hb * 64 * sizeof(int16_t));
            if (!k->c[ci]) { photo = false; break; }
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
        k->n = d.num_components;
        if (d.err->num_warnings) { coefs_free(k); photo = false; }
    }
    jpeg_abort_decompress(&d);
    if (!photo) { jpeg_destroy_decompress(&d); return NULL; }
    jpeg_mem_src(&d, data, (unsigned long)size);
    header(&d, scale, cs);
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

static void coef_check(void *user, int comp, uint32_t bx, uint32_t by, const int16_t *c) {
    const coefs *k = user;
    FUZZ_CHECK(comp >= 0 && comp < k->n && bx < k->wb[comp] && by < k->hb[comp], "block %d (%u,%u) outside libjpeg's",
               comp, bx, by);
    FUZZ_CHECK(!memcmp(c, k->c[comp] + ((size_t)by * k->wb[comp] + bx) * 64, 64 * sizeof(int16_t)),
               "component %d block (%u,%u): coefficients differ from libjpeg's", comp, bx, by);
}

static int count_warning(void *user, const char *what) {
    (void)what;
    return ++*(int *)user > 1000;
}

/* jdfast over the window; each row checked against ref (when given). */
static void fast(const uint8_t *data, size_t size, int scale, J_COLOR_SPACE cs, unsigned features, uint8_t sel,
                 const uint8_t *ref, const coefs *k) {
    struct jpeg_decompress_struct d;
    struct jerr e;
    struct jpeg_source_mgr src = {data, size, s_init, s_fill, s_skip, jpeg_resync_to_restart, s_term};
    jdfast *volatile f = NULL;
    setup(&d, &e);
    if (setjmp(e.jb)) {
        FUZZ_CHECK(k->n == 0, "libjpeg failed under jdfast where the reference decoded");
        thumb__jdfast_free(f);
        jpeg_destroy_decompress(&d);
        return;
    }
    d.src = &src;
    if (!header(&d, scale, cs) || !thumb__jdfast_usable(&d)) {
        FUZZ_CHECK(k->n == 0, "jdfast did not take what the reference took");
        jpeg_destroy_decompress(&d);
        return;
    }
    uint32_t w = d.output_width, h = d.output_height;
    uint32_t x0 = 0, x1 = w, y0 = 0, y1 = h;
    if (sel & 0x40) { /* a window from the selector and the size */
        x0 = (uint32_t)(sel * 7) % w;
        y0 = (uint32_t)(sel * 13) % h;
        x1 = x0 + 1 + (w - x0 - 1) / 2;
        y1 = y0 + 1 + (h - y0 - 1) / 2;
    }
    int warnings = 0;
    jdfast *ff;
    int rc = thumb__jdfast_start(&ff, NULL, &d, x0, x1, y0, y1, cs == JCS_YCbCr, features, count_warning, &warnings);
    FUZZ_CHECK(rc == THUMB_OK || rc == THUMB_ECORRUPT || rc == THUMB_ENOMEM, "start %d", rc);
    if (rc != THUMB_OK) {
        FUZZ_CHECK(k->n == 0, "jdfast start failed (%d) where the reference decoded", rc);
        jpeg_destroy_decompress(&d);
        return;
    }
    f = ff;
    if (k->n) thumb__jdfast_coef_hook(ff, coef_check, (void *)k);
    int ch = thumb__jdfast_channels(ff);
    for (uint32_t y = y0; y < y1;) {
        const uint8_t *rows[16];
        int n = 0;
        rc = thumb__jdfast_rows(ff, rows, &n);
        if (rc != THUMB_OK) {
            FUZZ_CHECK(rc == THUMB_ECORRUPT || rc == THUMB_ETRUNCATED, "rows %d", rc);
            FUZZ_CHECK(k->n == 0, "jdfast failed (%d) where the reference decoded", rc);
            break;
        }
        FUZZ_CHECK(n >= 1 && n <= 16 && y + (uint32_t)n <= y1, "rows gave %d at %u of [%u,%u)", n, y, y0, y1);
        for (int i = 0; i < n; i++, y++)
            if (ref)
                FUZZ_CHECK(!memcmp(rows[i], ref + ((size_t)y * w + x0) * (size_t)ch, (size_t)(x1 - x0) * (size_t)ch),
                           "row %u differs from libjpeg (scale %d/8, cs %d, features %u)", y, scale, (int)cs,
                           features);
    }
    thumb__jdfast_free(ff);
    jpeg_destroy_decompress(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    uint8_t sel = data[0];
    int scale = 1 << (sel & 3);
    J_COLOR_SPACE cs = sel & 4 ? JCS_YCbCr : JCS_RGB;
    data++;
    size--;
    coefs k;
    uint8_t *ref = reference(data, size, scale, cs, &k);
    fast(data, size, scale, cs, thumb__cpu_features() & THUMB_CPU_AVX2, sel, ref, &k);
    fast(data, size, scale, cs, 0, sel, ref, &k);
    free(ref);
    coefs_free(&k);
    return 0;
}
