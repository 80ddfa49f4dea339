/* The JPEG-out pipeline feeds the encoder row by row from the resampler (no output canvas).
 * The output must be the same bytes as encoding a whole canvas, and a stream sink must see
 * nothing when decoding fails half way (the encoder holds the file until the end). */
#include "internal.h"
#include "tt.h"

#include <stdint.h>

typedef struct { size_t calls, bytes; } counter;

static int count_write(void *user, const void *buf, size_t n)
{
    (void)buf;
    counter *c = user;
    c->calls++;
    c->bytes += n;
    return 0;
}

typedef struct { const uint8_t *p; size_t n, pos; } reader;

static int64_t read_mem(void *user, void *buf, size_t n)
{
    reader *r = user;
    size_t k = r->n - r->pos < n ? r->n - r->pos : n;
    memcpy(buf, r->p + r->pos, k);
    r->pos += k;
    return (int64_t)k;
}

int main(void)
{
    size_t len = 0;
    uint8_t *data = tt_read_file(tt_corpus("photos/2569067123_aca715a2ee_o.jpg"), &len);
    TT_REQUIRE(data, "avatar input missing");
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o;
    thumb_options_init(&o);
    o.width = o.height = 512;
    o.format = THUMB_FORMAT_JPEG;

    /* streamed (direct path) vs the canvas path's encoder on the same pixels: PNG output of the
     * same job gives the pixels, thumb__jpeg_encode the reference bytes */
    void *jpg = NULL, *png = NULL;
    size_t jn = 0, pn = 0;
    TT_CHECK(thumb_thumbnail_mem(ctx, data, len, &o, &jpg, &jn) == THUMB_OK, "%s", thumb_ctx_detail(ctx));
    thumb_options op = o;
    op.format = THUMB_FORMAT_PNG;
    TT_CHECK(thumb_thumbnail_mem(ctx, data, len, &op, &png, &pn) == THUMB_OK, "%s", thumb_ctx_detail(ctx));
    if (png) {
        void *px = NULL;
        size_t pxn = 0;
        thumb_options raw;
        thumb_options_init(&raw);
        /* decode the PNG back to RGB through libthumb's own decoder at full scale */
        tsrc src;
        tsrc_init_mem(&src, ctx, png, pn, 0);
        tdec *d = NULL;
        int rc = thumb__png_open(&d, ctx, &raw, &src);
        TT_CHECK(rc == THUMB_OK && d, "png open %d", rc);
        if (rc == THUMB_OK) {
            tdec_request req = {.scale_num = 8, .x0 = 0, .x1 = d->hdr.width, .y0 = 0, .y1 = d->hdr.height};
            rc = d->ops->start(d, &req);
            TT_CHECK(rc == THUMB_OK && d->channels == 3 && d->w == 512 && d->h == 512, "png start %d", rc);
            px = malloc(512 * 512 * 3);
            for (uint32_t y = 0; rc == THUMB_OK && y < 512; y++) {
                const uint8_t *row;
                rc = d->ops->next_row(d, &row);
                if (rc == THUMB_OK) memcpy((uint8_t *)px + (size_t)y * 1536, row, 1536);
            }
            pxn = rc == THUMB_OK ? 512 * 512 * 3 : 0;
            d->ops->destroy(d);
        }
        if (pxn) {
            tsink s = {.ctx = ctx};
            TT_CHECK(thumb__jpeg_encode(ctx, &o, px, 512, 512, 3, 1536, &s) == THUMB_OK, "encode");
            TT_CHECK(s.len == jn && memcmp(s.buf, jpg, jn) == 0,
                     "streamed JPEG (%zu bytes) differs from the whole-canvas encode (%zu bytes)", jn, s.len);
            free(s.buf);
        }
        free(px);
    }
    thumb_free(jpg);
    thumb_free(png);

    /* truncated input: an error, and the write callback never called; an output bigger than
     * the encoder's 64 KB buffer, which would otherwise be flushed half way */
    o.width = o.height = 1400;
    o.quality = 95;
    o.optimize_coding = 0; /* with it on, libjpeg itself writes nothing before the end */
    for (size_t cut = len / 8; cut < len; cut += len / 4) {
        counter c = {0};
        reader r = {data, cut, 0};
        int rc = thumb_thumbnail_stream(ctx, read_mem, &r, &o, count_write, &c);
        TT_CHECK(rc != THUMB_OK, "cut at %zu: success", cut);
        TT_CHECK(c.calls == 0, "cut at %zu: rc %d but %zu bytes written before the error", cut, rc, c.bytes);
    }
    /* whole input through the stream API: written once, whole */
    counter c = {0};
    reader r = {data, len, 0};
    TT_CHECK(thumb_thumbnail_stream(ctx, read_mem, &r, &o, count_write, &c) == THUMB_OK, "%s", thumb_ctx_detail(ctx));
    TT_CHECK(c.bytes > 65536 && c.calls >= 1, "stream wrote %zu bytes", c.bytes);

    thumb_ctx_free(ctx);
    free(data);
    return tt_report("test_streamed_jpeg");
}
