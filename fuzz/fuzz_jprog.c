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
#include "fuzz_jref.h"
#include "internal.h"
#include "jprog.h"

#include <setjmp.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* A memory source that ends with FALSE (the quiet mode jdfast.h asks for)... */
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
    bool ok = header(&d, scale, cs, 4u * MAX_PIXELS) && thumb__jprog_usable(&d);
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
            rows_check(rows, n, y, x0, x1, y0, y1, ref, w, ch, scale, cs, features);
            y += (uint32_t)n;
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
    uint8_t *ref = reference(data, size, scale, cs, thumb__jprog_usable, &k);
    prog(data, size, scale, cs, half, thumb__cpu_features() & THUMB_CPU_AVX2, sel, ref, &k);
    prog(data, size, scale, cs, half, 0, sel, ref, &k);
    free(ref);
    coefs_free(&k);
    return 0;
}
