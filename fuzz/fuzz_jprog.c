/* jprog (libthumb/jprog.h) against libjpeg on arbitrary bytes. The first byte picks the scale
 * (1, 2, 4 /8), the output (RGB, YCbCr), half-size chroma and a window; the rest is the file.
 *  - always: jprog, AVX2 and scalar kernels, runs to its end or a typed error, no crash;
 *  - when libjpeg fails with an error (not a warning) reading the coefficients, so does jprog
 *    (every error libjpeg raises is in the markers, the scan parameters or the tables, which jprog
 *    reads as libjpeg does, also in the scans it skips);
 *  - when libjpeg reads every scan with no warning and the progression is complete: jprog
 *    succeeds, every block it keeps holds libjpeg's coefficients at the positions it keeps, and
 *    every other block it hands its IDCTs is zero;
 *  - when in addition the coefficients are a photo's (|coef x q| <= 1024, see fuzz_jdfast.c), its
 *    rows are libjpeg's byte for byte (not checked for half-size chroma, which libjpeg has not). */
#include "fuzz_common.h"
#include "internal.h"
#include "jprog.h"

#include <setjmp.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#define MAX_PIXELS (1u << 20)
#define DQ_PHOTO 1024

typedef struct {
    int n;                  /* components when the coefficients are a reference, else 0 */
    bool failed;            /* libjpeg raised an error */
    uint32_t wb[4], hb[4];
    int16_t *c[4];
    const jdfast *f;
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

/* A memory source that ends with FALSE (the quiet mode jdfast.h asks for)... */
static void s_init(j_decompress_ptr c) { (void)c; }
static bool *quiet_now;
static const JOCTET fake_eoi[2] = {0xFF, JPEG_EOI};
/* ...and, out of it, a fake EOI and a warning, as jpeg.c's source gives libjpeg's marker reader */
static boolean s_fill(j_decompress_ptr c) {
    if (*quiet_now) return FALSE;
    c->src->next_input_byte = fake_eoi;
    c->src->bytes_in_buffer = 2;
    WARNMS(c, JWRN_JPEG_EOF);
    return TRUE;
}
static void s_skip(j_decompress_ptr c, long n) {
    struct jpeg_source_mgr *m = c->src;
    while (n > 0) {
        if (m->bytes_in_buffer == 0 && !s_fill(c)) return;
        size_t k = (size_t)n < m->bytes_in_buffer ? (size_t)n : m->bytes_in_buffer;
        m->next_input_byte += k;
        m->bytes_in_buffer -= k;
        n -= (long)k;
    }
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
    if ((uint64_t)d->image_width * d->image_height > 4u * MAX_PIXELS) return false;
    d->scale_num = (unsigned)scale;
    d->scale_denom = 8;
    d->dct_method = JDCT_ISLOW;
    d->do_fancy_upsampling = TRUE;
    d->out_color_space = d->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : cs;
    jpeg_calc_output_dimensions(d);
    return (uint64_t)d->output_width * d->output_height <= MAX_PIXELS;
}

/* libjpeg's coefficients into *k (k->n = 0 unless clean and complete), its samples when they are a
 * photo's; k->failed when it raised an error after the header. */
static uint8_t *reference(const uint8_t *data, size_t size, int scale, J_COLOR_SPACE cs, coefs *k) {
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
    if (!header(&d, scale, cs) || !thumb__jprog_usable(&d)) {
        jpeg_destroy_decompress(&d);
        return NULL;
    }
    past_header = true;
    jvirt_barray_ptr *arr = jpeg_read_coefficients(&d);
    bool clean = d.err->num_warnings == 0, photo = clean;
    for (int ci = 0; clean && ci < d.num_components; ci++)
        for (int j = 0; j < 64; j++)
            if (d.coef_bits[ci][j] != 0) clean = photo = false;
    if (clean) {
        for (int ci = 0; ci < d.num_components; ci++) {
            jpeg_component_info *cp = &d.comp_info[ci];
            int h = d.num_components == 1 ? 1 : cp->h_samp_factor, v = d.num_components == 1 ? 1 : cp->v_samp_factor;
            uint32_t wb = (cp->width_in_blocks + (uint32_t)h - 1) / (uint32_t)h * (uint32_t)h;
            uint32_t hb = (cp->height_in_blocks + (uint32_t)v - 1) / (uint32_t)v * (uint32_t)v;
            const JQUANT_TBL *qt = cp->quant_table;
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
    bool kept[64];
    bool in = thumb__jprog_kept(k->f, comp, bx, by, kept);
    const int16_t *want = k->c[comp] + ((size_t)by * k->wb[comp] + bx) * 64;
    for (int j = 0; j < 64; j++)
        FUZZ_CHECK(c[j] == (in && kept[j] ? want[j] : 0), "component %d block (%u,%u) coefficient %d: %d, libjpeg %d%s",
                   comp, bx, by, j, c[j], want[j], in && kept[j] ? "" : " (not kept: 0 expected)");
}

static jdfast *live; /* thumb__jprog_start sets it before anything can longjmp */

static int count_warning(void *user, const char *what) {
    (void)what;
    return ++*(int *)user > 1000;
}

static void prog(const uint8_t *data, size_t size, int scale, J_COLOR_SPACE cs, bool half, unsigned features,
                 uint8_t sel, const uint8_t *ref, coefs *k) {
    struct jpeg_decompress_struct d;
    struct jerr e;
    struct jpeg_source_mgr src = {data, size, s_init, s_fill, s_skip, jpeg_resync_to_restart, s_term};
    live = NULL;
    bool quiet = true;
    quiet_now = &quiet;
    jprog_limits lim = {1000, 1ull << 30, &quiet};
    setup(&d, &e);
    if (setjmp(e.jb)) { /* libjpeg's marker reader: an error, or the end of the input */
        FUZZ_CHECK(k->n == 0, "libjpeg failed under jprog where the reference decoded");
        thumb__jdfast_free(live);
        jpeg_destroy_decompress(&d);
        return;
    }
    d.src = &src;
    quiet = false;
    bool ok = header(&d, scale, cs) && thumb__jprog_usable(&d);
    quiet = true;
    if (!ok) {
        FUZZ_CHECK(k->n == 0 && !k->failed, "jprog did not take what the reference read");
        jpeg_destroy_decompress(&d);
        return;
    }
    if (half && (d.num_components != 3 || d.max_h_samp_factor != 2 || d.max_v_samp_factor != 2)) half = false;
    uint32_t w = d.output_width, h = d.output_height;
    uint32_t x0 = 0, x1 = w, y0 = 0, y1 = h;
    if (sel & 0x40) {
        x0 = (uint32_t)(sel * 7) % w;
        y0 = (uint32_t)(sel * 13) % h;
        x1 = x0 + 1 + (w - x0 - 1) / 2;
        y1 = y0 + 1 + (h - y0 - 1) / 2;
    }
    int warnings = 0;
    int rc = thumb__jprog_start(&live, NULL, &d, x0, x1, y0, y1, cs == JCS_YCbCr, half, features, count_warning,
                                &warnings, &lim);
    jdfast *ff = live;
    FUZZ_CHECK(rc == THUMB_OK || rc == THUMB_ECORRUPT || rc == THUMB_ETRUNCATED || rc == THUMB_ENOMEM ||
                   rc == THUMB_ELIMIT_SCANS,
               "start %d", rc);
    if (rc != THUMB_OK) {
        FUZZ_CHECK(k->n == 0, "jprog failed (%d) where the reference decoded", rc);
        thumb__jdfast_free(ff);
        jpeg_destroy_decompress(&d);
        return;
    }
    FUZZ_CHECK(!k->failed, "jprog decoded where libjpeg failed");
    k->f = ff;
    if (k->n) thumb__jdfast_coef_hook(ff, coef_check, k);
    int ch = thumb__jdfast_channels(ff);
    if (half) {
        uint32_t ny = 0, nc = 0, cy0 = y0 / 2, cy1 = (y1 + 1) / 2;
        while (ny < y1 - y0 || nc < cy1 - cy0) {
            tplanes p;
            rc = thumb__jdfast_planes(ff, &p);
            FUZZ_CHECK(rc == THUMB_OK && (p.ny || p.nc), "planes %d", rc);
            ny += (uint32_t)p.ny;
            nc += (uint32_t)p.nc;
        }
    } else {
        for (uint32_t y = y0; y < y1;) {
            const uint8_t *rows[16];
            int n = 0;
            rc = thumb__jdfast_rows(ff, rows, &n);
            FUZZ_CHECK(rc == THUMB_OK, "rows %d", rc);
            FUZZ_CHECK(n >= 1 && n <= 16 && y + (uint32_t)n <= y1, "rows gave %d at %u of [%u,%u)", n, y, y0, y1);
            for (int i = 0; i < n; i++, y++)
                if (ref)
                    FUZZ_CHECK(!memcmp(rows[i], ref + ((size_t)y * w + x0) * (size_t)ch, (size_t)(x1 - x0) * (size_t)ch),
                               "row %u differs from libjpeg (scale %d/8, cs %d, features %u)", y, scale, (int)cs,
                               features);
        }
    }
    thumb__jdfast_free(ff);
    k->f = NULL;
    jpeg_destroy_decompress(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    uint8_t sel = data[0];
    int scale = (sel & 3) == 0 ? 1 : (sel & 3) == 1 ? 2 : 4;
    J_COLOR_SPACE cs = sel & 4 ? JCS_YCbCr : JCS_RGB;
    bool half = sel & 0x10;
    data++;
    size--;
    coefs k;
    uint8_t *ref = reference(data, size, scale, cs, &k);
    prog(data, size, scale, cs, half, thumb__cpu_features() & THUMB_CPU_AVX2, sel, ref, &k);
    prog(data, size, scale, cs, half, 0, sel, ref, &k);
    free(ref);
    coefs_free(&k);
    return 0;
}
