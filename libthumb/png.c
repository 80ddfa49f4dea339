/* PNG decoder and encoder on libspng 0.7.3.
 *
 * Decoding streams: a non-interlaced image is decoded one row at a time and only a few rows are
 * ever held (libspng reads IDAT in 8 KiB pieces in stream mode, and not at all ahead in memory
 * mode). Adam7 images cannot be served top to bottom before the last pass, so they are the one
 * case that buffers: the requested window only, bounded by max_frame_bytes. */
#include "internal.h"

#include <spng.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- decoder */

typedef struct png_walk {
    uint64_t pos, next;      /* bytes seen; where the next chunk header starts (8: after the signature) */
    uint8_t hdr[8];          /* length and type of the chunk header being read */
    unsigned have;
    uint32_t count, limit;   /* ancillary chunks seen; max_png_chunks */
    uint32_t max_len;        /* max_png_chunk_size */
    uint32_t over_len;       /* length of the chunk that broke max_len, 0 if none */
    bool over_count, stopped;
    uint64_t iend_end;       /* offset just past IEND's CRC, 0 until IEND is seen */
} png_walk;

typedef struct png_dec {
    tdec base;               /* first: tdec * and png_dec * convert both ways */
    spng_ctx *sp;
    int fmt, flags;          /* libspng output format and decode flags */
    int src_ch;              /* samples per pixel in libspng's rows */
    bool wide;               /* libspng's rows hold 16-bit host-endian samples */
    size_t raw_len;          /* bytes of one libspng row, full width */
    uint8_t *raw;            /* libspng's row */
    uint8_t *row;            /* converted window row (wide sources only) */
    uint8_t *frame;          /* interlaced: the window, d->w * d->h * channels */
    bool frame_done;
    uint32_t next_y;         /* next source row libspng will give (non-interlaced) */
    uint32_t served;         /* window rows handed out */
    int error;               /* sticky: once a row failed, every later call fails the same way */
    png_walk walk;
} png_dec;

/* Chunk headers checked as the bytes go past (the same for a buffer and a stream), before libspng
 * sees the chunk. libspng 0.7.3 itself fails only an oversized eXIf; it skips other oversized
 * chunks by reading through them, and it counts only the chunks it stores. Here every chunk but
 * IDAT is held to max_png_chunk_size and every ancillary one counts against max_png_chunks.
 * IDAT is exempt from both: encoders write one huge IDAT or thousands of small ones. */
static bool png_walk_feed(png_walk *w, const uint8_t *buf, size_t n) {
    while (n && !w->stopped) {
        if (w->pos < w->next) {
            uint64_t skip = w->next - w->pos;
            if (skip > n) skip = n;
            w->pos += skip;
            buf += skip;
            n -= (size_t)skip;
            continue;
        }
        w->hdr[w->have++] = *buf++;
        w->pos++;
        n--;
        if (w->have < 8) continue;
        w->have = 0;
        uint32_t len = (uint32_t)w->hdr[0] << 24 | (uint32_t)w->hdr[1] << 16 | (uint32_t)w->hdr[2] << 8 | w->hdr[3];
        if (len > INT32_MAX) {
            w->stopped = true; /* libspng reports the bad length itself */
            break;
        }
        w->next = w->pos + len + 4; /* data and CRC */
        if (memcmp(w->hdr + 4, "IEND", 4) == 0) {
            w->iend_end = w->next;
            w->stopped = true; /* what follows IEND is not PNG (appended ZIP/HTML polyglots): never parse it */
            break;
        }
        bool idat = memcmp(w->hdr + 4, "IDAT", 4) == 0;
        if (!idat && len > w->max_len) w->over_len = len;
        else if ((w->hdr[4] & 0x20) && ++w->count > w->limit) w->over_count = true;
        if (w->over_len || w->over_count) w->stopped = true;
    }
    w->pos += n; /* bytes after the walk stopped still count as seen */
    return w->over_len || w->over_count;
}

static int png_fail_walk(png_dec *p) {
    const png_walk *w = &p->walk;
    if (w->over_len)
        return thumb__fail(p->base.ctx, THUMB_ELIMIT_CHUNK, "png: %.4s chunk of %u bytes is over the %u-byte limit",
                           (const char *)w->hdr + 4, w->over_len, w->max_len);
    return thumb__fail(p->base.ctx, THUMB_ELIMIT_CHUNK, "png: more than %u ancillary chunks", w->limit);
}

/* One place that turns a libspng code into ours, so every call site agrees. */
static int png_fail(tdec *d, int ret) {
    switch (ret) {
    case SPNG_IO_ERROR:
        if (((png_dec *)d)->walk.over_len || ((png_dec *)d)->walk.over_count) return png_fail_walk((png_dec *)d);
        /* tsrc already recorded the reason (callback, I/O or the byte limit). */
        if (d->src->error) return thumb__fail(d->ctx, d->src->error, "png: reading input failed");
        return thumb__fail(d->ctx, THUMB_EIO, "png: %s", spng_strerror(ret));
    case SPNG_IO_EOF:
    case SPNG_EOF:
        return thumb__fail(d->ctx, THUMB_ETRUNCATED, "png: %s", spng_strerror(ret));
    case SPNG_ECHUNK_LIMITS:
        return thumb__fail(d->ctx, THUMB_ELIMIT_CHUNK, "png: %s", spng_strerror(ret));
    case SPNG_EMEM:
        return thumb__fail(d->ctx, THUMB_ENOMEM, "png: %s", spng_strerror(ret));
    case SPNG_EUSER_WIDTH:
    case SPNG_EUSER_HEIGHT:
        return thumb__fail(d->ctx, THUMB_ELIMIT_PIXELS, "png: %s", spng_strerror(ret));
    case SPNG_EOVERFLOW:
        /* libspng's size arithmetic (row bytes over 4 GiB, image bytes over SIZE_MAX) overflowed:
         * dimensions too big to hold, which is a memory limit, not a malformed file. */
        return thumb__fail(d->ctx, THUMB_ELIMIT_MEMORY, "png: %s", spng_strerror(ret));
    default:
        return thumb__fail(d->ctx, THUMB_ECORRUPT, "png: %s", spng_strerror(ret));
    }
}

/* libspng's stream callback: it wants exactly len bytes or a reason why not. */
static int png_read_fn(spng_ctx *sp, void *user, void *dst, size_t len) {
    (void)sp;
    png_dec *pd = user;
    uint8_t *p = dst;
    while (len) {
        int64_t n = tsrc_read(pd->base.src, p, len);
        if (n < 0) return SPNG_IO_ERROR;
        if (n == 0) return SPNG_IO_EOF;
        if (png_walk_feed(&pd->walk, p, (size_t)n)) return SPNG_IO_ERROR;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* 16 -> 8 bits rounded to nearest (v >> 8 is biased: 0xFF00 would become 255, not 254). */
static inline uint8_t png_u16_to_u8(uint16_t v) {
    return (uint8_t)(((uint32_t)v * 255u + 32767u) / 65535u);
}

/* Convert n pixels of libspng output to the row layout (drops a trailing unused alpha). */
static void png_convert(const png_dec *p, uint8_t *dst, const uint8_t *src, size_t n) {
    const int oc = p->base.channels, sc = p->src_ch;
    if (!p->wide) {
        memcpy(dst, src, n * (size_t)oc);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < oc; c++) {
            uint16_t v;
            memcpy(&v, src + ((size_t)i * sc + c) * 2, 2);
            dst[(size_t)i * oc + c] = png_u16_to_u8(v);
        }
    }
}

static const tdec_ops png_ops;

static void png_destroy(tdec *d) {
    if (!d) return;
    png_dec *p = (png_dec *)d;
    spng_ctx_free(p->sp);
    free(p->raw);
    free(p->row);
    free(p->frame);
    free(d->hdr.icc);
    free(p);
}

/* Pick libspng's output format so that it does the least work and we convert the least:
 * 8-bit sources come out exactly in the row layout, 16-bit ones in the same layout at 16 bits. */
static void png_choose_format(png_dec *p, const struct spng_ihdr *ih, bool trns) {
    tdec_header *h = &p->base.hdr;
    p->wide = ih->bit_depth == 16;
    p->flags = SPNG_DECODE_PROGRESSIVE;
    switch (ih->color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE:
        h->channels = trns ? 2 : 1;
        if (p->wide) p->fmt = trns ? SPNG_FMT_GA16 : SPNG_FMT_PNG;
        else p->fmt = trns ? SPNG_FMT_GA8 : SPNG_FMT_G8;
        break;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
        /* libspng's GA8/GA16 outputs only accept grey sources; the stored layout is already GA. */
        h->channels = 2;
        p->fmt = SPNG_FMT_PNG;
        break;
    case SPNG_COLOR_TYPE_TRUECOLOR:
        h->channels = trns ? 4 : 3;
        if (p->wide) p->fmt = trns ? SPNG_FMT_RGBA16 : SPNG_FMT_PNG;
        else p->fmt = trns ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
        break;
    case SPNG_COLOR_TYPE_INDEXED:
        h->channels = trns ? 4 : 3;
        p->fmt = trns ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
        break;
    default: /* SPNG_COLOR_TYPE_TRUECOLOR_ALPHA; libspng rejected anything else in IHDR */
        h->channels = 4;
        p->fmt = p->wide ? SPNG_FMT_PNG : SPNG_FMT_RGBA8;
        break;
    }
    if (trns) p->flags |= SPNG_DECODE_TRNS;
    p->src_ch = h->channels; /* every choice above keeps the layout; only the depth differs */
    h->has_alpha = h->channels == 2 || h->channels == 4;
}

/* EXIF and ICC from the chunks before IDAT. Absent chunks are SPNG_ECHUNKAVAIL, not errors. */
static int png_read_metadata(png_dec *p) {
    tdec *d = &p->base;
    struct spng_exif exif;
    int ret = spng_get_exif(p->sp, &exif);
    if (ret == 0) {
        d->hdr.has_exif = 1;
        int o = thumb__exif_orientation((const uint8_t *)exif.data, exif.length);
        d->hdr.orientation = o ? o : 1;
    } else if (ret != SPNG_ECHUNKAVAIL) {
        return png_fail(d, ret);
    }

    struct spng_iccp iccp;
    ret = spng_get_iccp(p->sp, &iccp);
    if (ret == 0) {
        if (iccp.profile_len > d->opt->max_icc_bytes)
            return thumb__fail(d->ctx, THUMB_ELIMIT_CHUNK, "png: ICC profile of %zu bytes is over the %u-byte limit",
                               iccp.profile_len, d->opt->max_icc_bytes);
        if (iccp.profile_len) {
            d->hdr.icc = malloc(iccp.profile_len);
            if (!d->hdr.icc) return thumb__fail(d->ctx, THUMB_ENOMEM, "png: out of memory for the ICC profile");
            memcpy(d->hdr.icc, iccp.profile, iccp.profile_len);
            d->hdr.icc_len = (uint32_t)iccp.profile_len;
        }
    } else if (ret != SPNG_ECHUNKAVAIL) {
        return png_fail(d, ret);
    }

    /* Colour chunks for icc.c when there is no iCCP. They are advisory: one libspng could
     * not use is treated as absent rather than failing the image. */
    uint8_t intent;
    if (spng_get_srgb(p->sp, &intent) == 0) d->hdr.png_srgb = 1;
    uint32_t gama;
    if (spng_get_gama_int(p->sp, &gama) == 0) d->hdr.png_gamma = gama;
    struct spng_chrm_int chrm;
    if (spng_get_chrm_int(p->sp, &chrm) == 0) {
        d->hdr.png_has_chrm = 1;
        const uint32_t v[8] = {chrm.white_point_x, chrm.white_point_y, chrm.red_x,  chrm.red_y,
                               chrm.green_x,       chrm.green_y,       chrm.blue_x, chrm.blue_y};
        memcpy(d->hdr.png_chrm, v, sizeof v);
    }
    return THUMB_OK;
}

static int png_open_header(png_dec *p) {
    tdec *d = &p->base;
    const thumb_options *opt = d->opt;
    tsrc *src = d->src;
    int ret;

    p->sp = spng_ctx_new(0);
    if (!p->sp) return thumb__fail(d->ctx, THUMB_ENOMEM, "png: out of memory");

    /* Limits first: libspng checks a chunk's length against them before it reads or allocates. */
    if ((ret = spng_set_chunk_limits(p->sp, opt->max_png_chunk_size, opt->max_png_chunk_cache)) ||
        (ret = spng_set_image_limits(p->sp, INT32_MAX, INT32_MAX)))
        return thumb__fail(d->ctx, THUMB_EINVAL, "png: %s", spng_strerror(ret));
    /* libspng 0.7.3 inverts a check here and refuses every value but 0 (its default is 1000);
     * it also counts only the chunks it stores. Ask anyway for a fixed libspng, ignore the
     * refusal, and count every ancillary chunk ourselves (png_walk). */
    (void)spng_set_option(p->sp, SPNG_CHUNK_COUNT_LIMIT,
                          opt->max_png_chunks > INT32_MAX ? INT32_MAX : (int)opt->max_png_chunks);
    p->walk.limit = opt->max_png_chunks;
    p->walk.max_len = opt->max_png_chunk_size;

    if (src->mem) {
        /* Zero-copy; the bytes are already in memory, so only their count is checked here. */
        size_t left = src->mem_len - src->mem_pos;
        if (src->limit && src->consumed + left > src->limit)
            return thumb__fail(d->ctx, THUMB_ELIMIT_BYTES, "input is over the %llu-byte limit",
                               (unsigned long long)src->limit);
        /* Walking the chunk headers costs O(chunks): lengths are skipped, not read. */
        if (png_walk_feed(&p->walk, src->mem + src->mem_pos, left))
            return png_fail_walk(p);
        ret = spng_set_png_buffer(p->sp, src->mem + src->mem_pos, left);
    } else {
        ret = spng_set_png_stream(p->sp, png_read_fn, p);
    }
    if (ret) return png_fail(d, ret);

    struct spng_ihdr ih;
    if ((ret = spng_get_ihdr(p->sp, &ih))) return png_fail(d, ret);

    uint64_t pixels = (uint64_t)ih.width * ih.height;
    if (pixels > opt->max_input_pixels)
        return thumb__fail(d->ctx, THUMB_ELIMIT_PIXELS, "png: %ux%u is over the %llu-pixel limit", ih.width,
                           ih.height, (unsigned long long)opt->max_input_pixels);

    struct spng_trns trns;
    ret = spng_get_trns(p->sp, &trns);
    if (ret && ret != SPNG_ECHUNKAVAIL) return png_fail(d, ret);
    bool has_trns = ret == 0;

    tdec_header *h = &d->hdr;
    h->format = THUMB_FORMAT_PNG;
    h->width = ih.width;
    h->height = ih.height;
    h->bit_depth = ih.bit_depth;
    h->progressive = ih.interlace_method != SPNG_INTERLACE_NONE;
    h->colour_space = 100 + ih.color_type;
    h->orientation = 1;
    png_choose_format(p, &ih, has_trns);

    return png_read_metadata(p);
}

int thumb__png_open(tdec **out, thumb_ctx *ctx, const thumb_options *opt, tsrc *src) {
    *out = NULL;
    png_dec *p = calloc(1, sizeof *p);
    if (!p) return thumb__fail(ctx, THUMB_ENOMEM, "png: out of memory");
    p->base.ops = &png_ops;
    p->base.ctx = ctx;
    p->base.opt = opt;
    p->base.src = src;
    p->walk.next = 8;
    int ret = png_open_header(p);
    if (ret) {
        png_destroy(&p->base);
        return ret;
    }
    *out = &p->base;
    return THUMB_OK;
}

static int png_start(tdec *d, const tdec_request *req) {
    png_dec *p = (png_dec *)d;
    const tdec_header *h = &d->hdr;

    if (p->raw || p->error) return thumb__fail(d->ctx, THUMB_EINVAL, "png: decoder started twice");
    if (req->x0 >= req->x1 || req->x1 > h->width || req->y0 >= req->y1 || req->y1 > h->height)
        return thumb__fail(d->ctx, THUMB_EINVAL, "png: window [%u,%u)x[%u,%u) outside %ux%u", req->x0, req->x1,
                           req->y0, req->y1, h->width, h->height);
    d->scale_num = 8;
    d->dec_w = h->width;
    d->dec_h = h->height;
    d->x0 = req->x0;
    d->y0 = req->y0;
    d->w = req->x1 - req->x0;
    d->h = req->y1 - req->y0;
    d->channels = h->channels;

    /* libspng keeps about three rows of its own beside ours; hold them to the frame budget too,
     * so a 200-million-pixel single row cannot allocate gigabytes under the pixel limit. */
    size_t px_bytes = (size_t)p->src_ch * (p->wide ? 2 : 1), row_budget;
    if (!thumb__mul_size(h->width, px_bytes, &p->raw_len) || !thumb__mul_size(p->raw_len, 4, &row_budget) ||
        row_budget > d->opt->max_frame_bytes)
        return thumb__fail(d->ctx, THUMB_ELIMIT_MEMORY, "png: rows of %u pixels are over max_frame_bytes",
                           h->width);

    if (h->progressive) {
        size_t frame_len;
        if (!thumb__mul_size(d->w, d->h, &frame_len) || !thumb__mul_size(frame_len, (size_t)d->channels, &frame_len) ||
            frame_len > d->opt->max_frame_bytes)
            return thumb__fail(d->ctx, THUMB_ELIMIT_MEMORY,
                               "png: interlaced %ux%u window needs more than max_frame_bytes (%llu)", d->w, d->h,
                               (unsigned long long)d->opt->max_frame_bytes);
        p->frame = malloc(frame_len);
        if (!p->frame) return thumb__fail(d->ctx, THUMB_ENOMEM, "png: out of memory for a %zu-byte frame", frame_len);
    } else if (p->wide) {
        p->row = malloc((size_t)d->w * (size_t)d->channels);
        if (!p->row) return thumb__fail(d->ctx, THUMB_ENOMEM, "png: out of memory");
    }
    p->raw = malloc(p->raw_len);
    if (!p->raw) return thumb__fail(d->ctx, THUMB_ENOMEM, "png: out of memory for a %zu-byte row", p->raw_len);

    int ret = spng_decode_image(p->sp, NULL, 0, p->fmt, p->flags);
    if (ret) return p->error = png_fail(d, ret);
    return THUMB_OK;
}

/* libspng 0.7.3 stops at IEND's type and never reads its CRC, so a file cut inside those last
 * four bytes passed as whole. Once IEND has been reached, its CRC must be there. */
static int png_check_iend(png_dec *p) {
    tdec *d = &p->base;
    png_walk *w = &p->walk;
    if (!w->iend_end) return THUMB_OK; /* IEND was not walked: libspng has already judged the end */
    if (d->src->mem) {
        if (w->iend_end > d->src->mem_len)
            return p->error = thumb__fail(d->ctx, THUMB_ETRUNCATED, "png: the file ends inside IEND's CRC");
        return THUMB_OK;
    }
    /* Stream: read what libspng left of the CRC (the walker has seen every byte read so far). */
    uint8_t tail[4];
    while (w->pos < w->iend_end) {
        size_t want = (size_t)(w->iend_end - w->pos);
        if (want > sizeof tail) want = sizeof tail;
        int64_t n = tsrc_read(d->src, tail, want);
        if (n < 0) return p->error = thumb__fail(d->ctx, d->src->error ? d->src->error : THUMB_EIO, "png: reading input failed");
        if (n == 0) return p->error = thumb__fail(d->ctx, THUMB_ETRUNCATED, "png: the file ends inside IEND's CRC");
        w->pos += (uint64_t)n;
    }
    return THUMB_OK;
}

/* One libspng row into p->raw. SPNG_EOI is its success code for the last row; after it, the
 * chunks up to IEND are read too, and IEND's CRC, so a file cut after its image data (no IEND, a torn CRC)
 * fails as truncated instead of passing as whole. */
static int png_decode_one(png_dec *p) {
    int ret = spng_decode_row(p->sp, p->raw, p->raw_len);
    if (ret == SPNG_EOI) {
        ret = spng_decode_chunks(p->sp);
        if (!ret) return png_check_iend(p);
    }
    if (ret) return p->error = png_fail(&p->base, ret);
    return THUMB_OK;
}

/* Adam7: run every pass, keep the pixels that land in the window. */
static int png_fill_frame(png_dec *p) {
    static const uint32_t xs[7] = {0, 4, 0, 2, 0, 1, 0}, dx[7] = {8, 8, 4, 4, 2, 2, 1};
    tdec *d = &p->base;
    const uint32_t y1 = d->y0 + d->h, x1 = d->x0 + d->w;
    const size_t ch = (size_t)d->channels, spx = (size_t)p->src_ch * (p->wide ? 2 : 1);
    for (;;) {
        struct spng_row_info ri;
        int ret = spng_get_row_info(p->sp, &ri);
        if (ret == SPNG_EOI) break;
        if (ret) return p->error = png_fail(d, ret);
        /* The last pass holds rows in order: past the window, nothing more is needed. */
        if (ri.pass == 6 && ri.row_num >= y1) break;
        if ((ret = png_decode_one(p))) return ret;
        if (ri.pass < 0 || ri.pass > 6 || ri.row_num < d->y0 || ri.row_num >= y1) continue;
        /* libspng put this pass's pixels at their final x in the full-width row. */
        uint8_t *dst = p->frame + (size_t)(ri.row_num - d->y0) * d->w * ch;
        uint32_t x = xs[ri.pass], step = dx[ri.pass];
        if (x < d->x0) x += (d->x0 - x + step - 1) / step * step;
        for (; x < x1; x += step)
            png_convert(p, dst + (size_t)(x - d->x0) * ch, p->raw + (size_t)x * spx, 1);
    }
    p->frame_done = true;
    return THUMB_OK;
}

static int png_next_row(tdec *d, const uint8_t **row) {
    png_dec *p = (png_dec *)d;
    *row = NULL;
    if (p->error) return p->error;
    if (!p->raw) return thumb__fail(d->ctx, THUMB_EINVAL, "png: next_row before start");
    if (p->served >= d->h) return thumb__fail(d->ctx, THUMB_EINVAL, "png: read past the last row of the window");

    if (p->frame) {
        if (!p->frame_done) {
            int ret = png_fill_frame(p);
            if (ret) return ret;
        }
        *row = p->frame + (size_t)p->served++ * d->w * (size_t)d->channels;
        return THUMB_OK;
    }

    /* Rows above the window still have to be inflated and unfiltered; drop them. */
    while (p->next_y < d->y0) {
        int ret = png_decode_one(p);
        if (ret) return ret;
        p->next_y++;
    }
    int ret = png_decode_one(p);
    if (ret) return ret;
    p->next_y++;
    p->served++;
    size_t spx = (size_t)p->src_ch * (p->wide ? 2 : 1);
    if (p->wide) {
        png_convert(p, p->row, p->raw + (size_t)d->x0 * spx, d->w);
        *row = p->row;
    } else {
        *row = p->raw + (size_t)d->x0 * spx;
    }
    return THUMB_OK;
}

static const tdec_ops png_ops = {png_start, png_next_row, png_destroy, NULL}; /* no planes: never planar */

/* ---------------------------------------------------------------- encoder */

static int png_write_fn(spng_ctx *sp, void *user, void *src, size_t len) {
    (void)sp;
    return tsink_write(user, src, len) ? SPNG_IO_ERROR : 0;
}

/* opt->embed_srgb_profile: the colour work's compact sRGB profile as iCCP (before IDAT).
 * Only for RGB(A): PNG requires a grey profile in a grey image's iCCP, and an untagged
 * grey PNG is already read as sRGB-curve grey. */
static int png_embed_srgb_profile(thumb_ctx *ctx, spng_ctx *sp, int channels) {
    if (channels < 3) return THUMB_OK;
    const uint8_t *icc;
    size_t len;
    int rc = thumb__srgb_profile(&icc, &len);
    if (rc != THUMB_OK) return thumb__fail(ctx, rc, "png: no sRGB profile to embed");
    struct spng_iccp iccp = {.profile_name = "sRGB", .profile_len = len, .profile = (char *)(uintptr_t)icc};
    int ret = spng_set_iccp(sp, &iccp);
    if (ret) return thumb__fail(ctx, THUMB_EINVAL, "png encode: iCCP: %s", spng_strerror(ret));
    return THUMB_OK;
}

static int png_encode_fail(thumb_ctx *ctx, tsink *sink, int ret) {
    if (sink->error) return sink->error; /* tsink recorded why the write failed */
    if (ret == SPNG_EMEM) return thumb__fail(ctx, THUMB_ENOMEM, "png encode: %s", spng_strerror(ret));
    return thumb__fail(ctx, THUMB_EINVAL, "png encode: %s", spng_strerror(ret));
}

int thumb__png_encode(thumb_ctx *ctx, const thumb_options *opt, const uint8_t *pixels, uint32_t w, uint32_t h,
                      int channels, size_t stride, tsink *sink) {
    static const uint8_t colour_type[5] = {0, SPNG_COLOR_TYPE_GRAYSCALE, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA,
                                           SPNG_COLOR_TYPE_TRUECOLOR, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA};
    if (channels < 1 || channels > 4 || w == 0 || h == 0 || !pixels || w > INT32_MAX || h > INT32_MAX)
        return thumb__fail(ctx, THUMB_EINVAL, "png encode: bad image %ux%u with %d channels", w, h, channels);
    size_t row_len;
    if (!thumb__mul_size(w, (size_t)channels, &row_len) || stride < row_len)
        return thumb__fail(ctx, THUMB_EINVAL, "png encode: stride %zu is shorter than a row", stride);
    if (opt->png_compression < 0 || opt->png_compression > 9)
        return thumb__fail(ctx, THUMB_EINVAL, "png encode: compression %d is not 0..9", opt->png_compression);

    spng_ctx *sp = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!sp) return thumb__fail(ctx, THUMB_ENOMEM, "png encode: out of memory");

    int code = THUMB_OK, ret;
    struct spng_ihdr ih = {
        .width = w,
        .height = h,
        .bit_depth = 8,
        .color_type = colour_type[channels],
        .interlace_method = opt->progressive ? SPNG_INTERLACE_ADAM7 : SPNG_INTERLACE_NONE,
    };
    if ((ret = spng_set_png_stream(sp, png_write_fn, sink)) || (ret = spng_set_ihdr(sp, &ih)) ||
        (ret = spng_set_option(sp, SPNG_IMG_COMPRESSION_LEVEL, opt->png_compression))) {
        code = png_encode_fail(ctx, sink, ret);
        goto done;
    }
    if (opt->embed_srgb_profile && (code = png_embed_srgb_profile(ctx, sp, channels))) goto done;

    /* FINALIZE makes the row that returns SPNG_EOI also write IEND. */
    if ((ret = spng_encode_image(sp, NULL, 0, SPNG_FMT_PNG, SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE))) {
        code = png_encode_fail(ctx, sink, ret);
        goto done;
    }
    /* Adam7 wants rows pass by pass; libspng says which full row it needs next. */
    for (;;) {
        struct spng_row_info ri;
        if ((ret = spng_get_row_info(sp, &ri))) {
            code = png_encode_fail(ctx, sink, ret);
            goto done;
        }
        if (ri.row_num >= h) {
            code = thumb__fail(ctx, THUMB_EINVAL, "png encode: row %u out of range", ri.row_num);
            goto done;
        }
        ret = spng_encode_row(sp, pixels + (size_t)ri.row_num * stride, row_len);
        if (ret == SPNG_EOI) break;
        if (ret) {
            code = png_encode_fail(ctx, sink, ret);
            goto done;
        }
    }
done:
    spng_ctx_free(sp);
    return code;
}
