/* Encode round trip: random pixels (size and channels from the first bytes) go through the
 * internal JPEG and PNG encoders and are read back. Both must keep their dimensions; PNG is
 * lossless, so its pixels must come back exactly. */
#include "fuzz_common.h"
#include "internal.h"

#include <string.h>

static void decode_back(const tsink *sink, int format, uint32_t w, uint32_t h, int channels, const uint8_t *pixels) {
    thumb_ctx *ctx = thumb_ctx_new();
    FUZZ_CHECK(ctx != NULL, "thumb_ctx_new");
    thumb_info info;
    thumb_info_init(&info);
    int rc = thumb_info_mem(ctx, sink->buf, sink->len, NULL, &info);
    FUZZ_CHECK(rc == THUMB_OK, "%s of %ux%ux%d does not parse: %s (%s)", thumb_format_name(format), w, h, channels,
               thumb_error_name(rc), thumb_ctx_detail(ctx));
    FUZZ_CHECK(info.format == format && info.width == w && info.height == h, "%s %ux%u came back as %s %ux%u",
               thumb_format_name(format), w, h, thumb_format_name(info.format), info.width, info.height);

    /* A thumbnail at the same size through the public pipeline. */
    thumb_options o;
    thumb_options_init(&o);
    o.width = w;
    o.height = h;
    o.fit = THUMB_FIT_FILL;
    o.format = format;
    void *out = NULL;
    size_t out_len = 0;
    rc = thumb_thumbnail_mem(ctx, sink->buf, sink->len, &o, &out, &out_len);
    FUZZ_CHECK(rc == THUMB_OK, "same-size thumbnail of %s %ux%u: %s (%s)", thumb_format_name(format), w, h,
               thumb_error_name(rc), thumb_ctx_detail(ctx));
    thumb_info oi;
    fuzz_check_output(out, out_len, format, &oi);
    FUZZ_CHECK(oi.width == w && oi.height == h, "same-size thumbnail %ux%u gave %ux%u", w, h, oi.width, oi.height);
    thumb_free(out);

    if (format == THUMB_FORMAT_PNG) {
        thumb_options d_opt;
        thumb_options_init(&d_opt);
        tsrc src;
        tsrc_init_mem(&src, ctx, sink->buf, sink->len, 0);
        tdec *d = NULL;
        rc = thumb__png_open(&d, ctx, &d_opt, &src);
        FUZZ_CHECK(rc == THUMB_OK, "png_open: %s (%s)", thumb_error_name(rc), thumb_ctx_detail(ctx));
        tdec_request req = {.scale_num = 8, .x0 = 0, .x1 = w, .y0 = 0, .y1 = h};
        rc = d->ops->start(d, &req);
        FUZZ_CHECK(rc == THUMB_OK, "png start: %s (%s)", thumb_error_name(rc), thumb_ctx_detail(ctx));
        FUZZ_CHECK(d->w == w && d->h == h && d->channels == channels, "png window %ux%ux%d, wanted %ux%ux%d", d->w,
                   d->h, d->channels, w, h, channels);
        for (uint32_t y = 0; y < h; y++) {
            const uint8_t *row = NULL;
            rc = d->ops->next_row(d, &row);
            FUZZ_CHECK(rc == THUMB_OK, "png row %u: %s (%s)", y, thumb_error_name(rc), thumb_ctx_detail(ctx));
            FUZZ_CHECK(memcmp(row, pixels + (size_t)y * w * channels, (size_t)w * channels) == 0,
                       "png row %u of %ux%ux%d differs after the round trip", y, w, h, channels);
        }
        d->ops->destroy(d);
    }
    thumb_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6) return 0;
    uint32_t w = 1 + (((uint32_t)data[0] << 8 | data[1]) % 256);
    uint32_t h = 1 + (((uint32_t)data[2] << 8 | data[3]) % 256);
    int channels = 1 + data[4] % 4;
    uint8_t flags = data[5];
    data += 6;
    size -= 6;

    size_t n = (size_t)w * h * (size_t)channels;
    uint8_t *px = malloc(n);
    if (!px) return 0;
    /* The rest of the input, repeated, is the pixels (zeros when there is none). */
    for (size_t i = 0; i < n; i++) px[i] = size ? data[i % size] : 0;

    thumb_options o;
    thumb_options_init(&o);
    o.progressive = flags & 1;
    o.chroma = (flags >> 1) & 1;
    o.optimize_coding = (flags >> 2) & 1;
    o.quality = 1 + (flags >> 3) * 3;  /* 1..94 */
    o.png_compression = (flags >> 3) % 10;

    thumb_ctx *ctx = thumb_ctx_new();
    if (!ctx) { free(px); return 0; }

    /* JPEG takes 1 or 3 channels: grey for 1-2, RGB for 3-4, from the same bytes. */
    int jc = channels <= 2 ? 1 : 3;
    tsink js = {0};
    js.ctx = ctx;
    int rc = thumb__jpeg_encode(ctx, &o, px, w, h, jc, (size_t)w * jc, &js);
    FUZZ_CHECK(rc == THUMB_OK, "jpeg encode %ux%ux%d: %s (%s)", w, h, jc, thumb_error_name(rc), thumb_ctx_detail(ctx));
    decode_back(&js, THUMB_FORMAT_JPEG, w, h, jc, px);
    free(js.buf);

    tsink ps = {0};
    ps.ctx = ctx;
    rc = thumb__png_encode(ctx, &o, px, w, h, channels, (size_t)w * channels, &ps);
    FUZZ_CHECK(rc == THUMB_OK, "png encode %ux%ux%d: %s (%s)", w, h, channels, thumb_error_name(rc),
               thumb_ctx_detail(ctx));
    decode_back(&ps, THUMB_FORMAT_PNG, w, h, channels, px);
    free(ps.buf);

    thumb_ctx_free(ctx);
    free(px);
    return 0;
}
