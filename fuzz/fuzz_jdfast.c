/* jdfast (libthumb/jdfast.h) against libjpeg on arbitrary bytes. The first byte picks the scale
 * (1, 2, 4, 8 /8), the output (RGB, YCbCr) and a window; the rest is the file.
 *  - always: jdfast, AVX2 and scalar kernels, runs to its end or a typed error, no crash;
 *  - when libjpeg reads the file's coefficients with no warning: every block jdfast decodes holds
 *    libjpeg's coefficients exactly (the entropy decoder, DC prediction, restarts), whatever values;
 *  - when in addition every dequantised coefficient is within what 8-bit photos hold (|coef x q|
 *    <= 1024; beyond that the sums leave the sample range and libjpeg's own SIMD and C IDCTs part
 *    ways), jdfast's rows are libjpeg's, byte for byte, with both kernel sets. */
#include "fuzz_common.h"
#include "fuzz_jref.h"
#include "internal.h"
#include "jdfast.h"

#include <setjmp.h>
#include <string.h>

#include <jpeglib.h>

/* A memory source that ends with FALSE (what jdfast asks of its source). */
static boolean s_fill(j_decompress_ptr c) { (void)c; return FALSE; }
static void s_skip(j_decompress_ptr c, long n) {
    struct jpeg_source_mgr *m = c->src;
    if (n > 0 && (size_t)n > m->bytes_in_buffer) n = (long)m->bytes_in_buffer;
    if (n > 0) { m->next_input_byte += n; m->bytes_in_buffer -= (size_t)n; }
}

static void coef_check(void *user, int comp, uint32_t bx, uint32_t by, const int16_t *c) {
    const coefs *k = user;
    FUZZ_CHECK(comp >= 0 && comp < k->n && bx < k->wb[comp] && by < k->hb[comp], "block %d (%u,%u) outside libjpeg's",
               comp, bx, by);
    FUZZ_CHECK(!memcmp(c, k->c[comp] + ((size_t)by * k->wb[comp] + bx) * 64, 64 * sizeof(int16_t)),
               "component %d block (%u,%u): coefficients differ from libjpeg's", comp, bx, by);
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
    if (!header(&d, scale, cs, 16u * MAX_PIXELS) || !thumb__jdfast_usable(&d)) {
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
        rows_check(rows, n, y, x0, x1, y0, y1, ref, w, ch, scale, cs, features);
        y += (uint32_t)n;
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
    uint8_t *ref = reference(data, size, scale, cs, thumb__jdfast_usable, &k);
    fast(data, size, scale, cs, thumb__cpu_features() & THUMB_CPU_AVX2, sel, ref, &k);
    fast(data, size, scale, cs, 0, sel, ref, &k);
    free(ref);
    coefs_free(&k);
    return 0;
}
