/* Our lossless JPEG decoder (libthumb/jlossless.h) on arbitrary bytes, three ways:
 *  1. thumb__jll_open_mem (our own reader from SOI) and every row's stored samples;
 *  2. the library's JPEG entry (libjpeg reads up to SOF3, jlossless.c the rest): when both open,
 *     both must agree on the header and give the same samples row by row, or fail at the same row
 *     (the two differ only in who reads the markers before SOF3);
 *  3. a 32x32 cover thumbnail and a 24x40 crop through the public API: a typed code, or an image
 *     of exactly that size.
 * Every return must be a THUMB_E* code. */
#include "fuzz_common.h"
#include "internal.h"
#include "jlossless.h"

#include <string.h>

static int start_all(tdec *d)
{
    tdec_request req = {.scale_num = 8, .x0 = 0, .x1 = d->hdr.width, .y0 = 0, .y1 = d->hdr.height};
    return d->ops->start(d, &req);
}

static void thumb_check(thumb_ctx *ctx, const uint8_t *data, size_t size, const thumb_options *base, uint32_t w,
                        uint32_t h)
{
    thumb_options o = *base;
    o.width = w;
    o.height = h;
    o.quality = 50;
    void *out = NULL;
    size_t out_len = 0;
    int rc = thumb_thumbnail_mem(ctx, data, size, &o, &out, &out_len);
    FUZZ_CHECK(fuzz_known_code(rc), "thumb_thumbnail_mem returned %d", rc);
    if (rc == THUMB_OK) {
        thumb_info oi;
        fuzz_check_output(out, out_len, THUMB_FORMAT_JPEG, &oi);
        FUZZ_CHECK(oi.width == w && oi.height == h, "cover %ux%u gave %ux%u", w, h, oi.width, oi.height);
        thumb_free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    thumb_ctx *ctx = thumb_ctx_new(), *ctx2 = thumb_ctx_new();
    if (!ctx || !ctx2) {
        thumb_ctx_free(ctx);
        thumb_ctx_free(ctx2);
        return 0;
    }
    thumb_options o;
    thumb_options_init(&o);
    fuzz_tight_limits(&o);

    tdec *a = NULL, *b = NULL;
    int ra = thumb__jll_open_mem(&a, ctx, &o, data, size);
    FUZZ_CHECK(fuzz_known_code(ra), "thumb__jll_open_mem returned %d", ra);
    FUZZ_CHECK((ra == THUMB_OK) == (a != NULL), "open %d with decoder %p", ra, (void *)a);
    tsrc src;
    tsrc_init_mem(&src, ctx2, data, size, 0);
    int rb = thumb__jpeg_open(&b, ctx2, &o, &src);
    FUZZ_CHECK(fuzz_known_code(rb), "thumb__jpeg_open returned %d", rb);
    if (rb == THUMB_OK && !thumb__jll_is(b)) {
        b->ops->destroy(b);
        b = NULL;
    }
    if (a) {
        FUZZ_CHECK(a->hdr.lossless == 1 && a->hdr.bit_depth >= 2 && a->hdr.bit_depth <= 16, "header: depth %d",
                   a->hdr.bit_depth);
        FUZZ_CHECK((uint64_t)a->hdr.width * a->hdr.height <= o.max_input_pixels, "%ux%u over the limit",
                   a->hdr.width, a->hdr.height);
    }
    if (a && b) {
        FUZZ_CHECK(a->hdr.width == b->hdr.width && a->hdr.height == b->hdr.height &&
                       a->hdr.bit_depth == b->hdr.bit_depth && a->hdr.channels == b->hdr.channels,
                   "headers differ: %ux%u/%d vs %ux%u/%d", a->hdr.width, a->hdr.height, a->hdr.bit_depth,
                   b->hdr.width, b->hdr.height, b->hdr.bit_depth);
    }
    int sa = a ? start_all(a) : -1, sb = b ? start_all(b) : -1;
    if (a) FUZZ_CHECK(fuzz_known_code(sa), "start returned %d", sa);
    if (b) FUZZ_CHECK(fuzz_known_code(sb), "start returned %d", sb);
    uint32_t rows = a ? a->hdr.height : b ? b->hdr.height : 0;
    for (uint32_t y = 0; y < rows && (sa == THUMB_OK || sb == THUMB_OK); y++) {
        const uint16_t *pa = NULL, *pb = NULL;
        int na = 0, nb = 0;
        if (sa == THUMB_OK) {
            sa = thumb__jll_next_raw(a, &pa, &na);
            FUZZ_CHECK(fuzz_known_code(sa), "next_raw returned %d", sa);
        }
        if (sb == THUMB_OK) {
            sb = thumb__jll_next_raw(b, &pb, &nb);
            FUZZ_CHECK(fuzz_known_code(sb), "next_raw returned %d", sb);
        }
        if (a && b) {
            FUZZ_CHECK(sa == sb, "row %u: %s vs %s", y, thumb_error_name(sa), thumb_error_name(sb));
            if (sa == THUMB_OK)
                FUZZ_CHECK(na == nb && memcmp(pa, pb, (size_t)a->hdr.width * (size_t)na * 2) == 0,
                           "row %u: samples differ", y);
        }
    }
    if (a) a->ops->destroy(a);
    if (b) b->ops->destroy(b);

    thumb_check(ctx, data, size, &o, 32, 32);
    thumb_check(ctx, data, size, &o, 24, 40);
    thumb_ctx_free(ctx);
    thumb_ctx_free(ctx2);
    return 0;
}
