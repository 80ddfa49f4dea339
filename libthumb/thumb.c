#define _GNU_SOURCE
/* The public API and the pipeline: sniff -> decode (scaled, windowed) -> resample -> orient
 * -> compose (flatten / pad) -> encode. */
#include "internal.h"
#include "orient.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STR2(x) #x
#define STR(x) STR2(x)

const char *thumb_version_string(void) {
    return STR(THUMB_VERSION_MAJOR) "." STR(THUMB_VERSION_MINOR) "." STR(THUMB_VERSION_PATCH);
}
int thumb_version_number(void) { return THUMB_VERSION_NUMBER; }

thumb_ctx *thumb_ctx_new(void) {
    thumb_ctx *ctx = calloc(1, sizeof(thumb_ctx));
    if (ctx) ctx->cache_weights = 1;
    return ctx;
}
void thumb_ctx_free(thumb_ctx *ctx) {
    if (!ctx) return;
    thumb__colour_cache_clear(ctx);
    thumb__resample_cache_clear(ctx);
    free(ctx->scratch);
    free(ctx);
}
void thumb_free(void *p) { free(p); }

static void clear_detail(thumb_ctx *ctx) { if (ctx) ctx->detail[0] = '\0'; }

/* A buffer of at least n bytes: the context's kept one when it is big enough, else a new one;
 * *cap its size. Handed back with scratch_give. */
static uint8_t *scratch_take(thumb_ctx *ctx, size_t n, size_t *cap) {
    if (ctx->scratch && ctx->scratch_cap >= n) {
        uint8_t *p = ctx->scratch;
        *cap = ctx->scratch_cap;
        ctx->scratch = NULL;
        ctx->scratch_cap = 0;
        return p;
    }
    *cap = n ? n : 1;
    return malloc(*cap);
}

static void scratch_give(thumb_ctx *ctx, uint8_t *p, size_t cap) {
    if (p && ctx->cache_weights && cap <= THUMB_SCRATCH_MAX && cap > ctx->scratch_cap) {
        free(ctx->scratch);
        ctx->scratch = p;
        ctx->scratch_cap = cap;
    } else {
        free(p);
    }
}

void thumb_options_init(thumb_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->fit = THUMB_FIT_COVER;
    o->position = THUMB_POS_CENTRE;
    o->kernel = THUMB_KERNEL_LANCZOS3;
    o->auto_orient = 1;
    o->format = THUMB_FORMAT_UNKNOWN; /* JPEG, or from the output name in thumb_thumbnail_file */
    o->quality = 80;
    o->chroma = THUMB_CHROMA_420;
    o->optimize_coding = 1;
    o->png_compression = 6;
    memset(o->background, 255, 4);
    o->colour = THUMB_COLOUR_SRGB;
    o->max_input_pixels = 268402689ull;
    o->max_input_bytes = 256ull << 20;
    o->max_jpeg_scans = 100;
    o->max_png_chunk_size = 16u << 20;
    o->max_png_chunk_cache = 32u << 20;
    o->max_png_chunks = 1000;
    o->max_output_width = 16383;
    o->max_output_height = 16383;
    o->max_output_pixels = 4096ull * 4096ull;
    o->max_frame_bytes = 512ull << 20;
    o->max_icc_bytes = 4u << 20;
    o->fast_shrink_on_load = 1;
}

void thumb_info_init(thumb_info *info) {
    if (!info) return;
    memset(info, 0, sizeof *info);
    info->size = sizeof *info;
}

int thumb__options_copy(thumb_ctx *ctx, const thumb_options *in, thumb_options *out) {
    thumb_options_init(out);
    if (!in) return THUMB_OK;
    if (in->size < offsetof(thumb_options, max_input_pixels))
        return thumb__fail(ctx, THUMB_EINVAL, "options.size is %zu: call thumb_options_init() first", in->size);
    size_t n = in->size < sizeof *out ? in->size : sizeof *out;
    memcpy(out, in, n);
    out->size = sizeof *out;
    if (out->fit < 0 || out->fit > THUMB_FIT_OUTSIDE) return thumb__fail(ctx, THUMB_EINVAL, "unknown fit %d", out->fit);
    if (out->position < 0 || out->position > THUMB_POS_NORTHWEST)
        return thumb__fail(ctx, THUMB_EINVAL, "unknown position %d", out->position);
    if (out->kernel < 0 || out->kernel > THUMB_KERNEL_CUBIC) return thumb__fail(ctx, THUMB_EINVAL, "unknown kernel %d", out->kernel);
    if (out->format == THUMB_FORMAT_UNKNOWN) out->format = THUMB_FORMAT_JPEG;
    if (out->format != THUMB_FORMAT_JPEG && out->format != THUMB_FORMAT_PNG)
        return thumb__fail(ctx, THUMB_EINVAL, "output format %s is not supported (jpeg or png)", thumb_format_name(out->format));
    if (out->quality < 1 || out->quality > 100) return thumb__fail(ctx, THUMB_EINVAL, "quality %d is not in 1..100", out->quality);
    if (out->png_compression < 0 || out->png_compression > 9)
        return thumb__fail(ctx, THUMB_EINVAL, "png compression %d is not in 0..9", out->png_compression);
    if (out->chroma != THUMB_CHROMA_420 && out->chroma != THUMB_CHROMA_444)
        return thumb__fail(ctx, THUMB_EINVAL, "unknown chroma subsampling %d", out->chroma);
    if (out->colour != THUMB_COLOUR_SRGB && out->colour != THUMB_COLOUR_KEEP)
        return thumb__fail(ctx, THUMB_EINVAL, "unknown colour handling %d", out->colour);
    if (out->width > out->max_output_width || out->height > out->max_output_height)
        return thumb__fail(ctx, THUMB_ELIMIT_OUTPUT, "requested %ux%u is over the output limit %ux%u", out->width,
                           out->height, out->max_output_width, out->max_output_height);
    return THUMB_OK;
}

/* ---------------------------------------------------------------- names */

int thumb_fit_from_name(const char *s) {
    static const char *n[] = {"cover", "contain", "fill", "inside", "outside"};
    for (int i = 0; s && i < 5; i++) if (strcmp(s, n[i]) == 0) return i;
    return -1;
}
int thumb_position_from_name(const char *s) {
    static const struct { const char *n; int v; } t[] = {
        {"centre", THUMB_POS_CENTRE}, {"center", THUMB_POS_CENTRE}, {"north", THUMB_POS_NORTH},
        {"northeast", THUMB_POS_NORTHEAST}, {"east", THUMB_POS_EAST}, {"southeast", THUMB_POS_SOUTHEAST},
        {"south", THUMB_POS_SOUTH}, {"southwest", THUMB_POS_SOUTHWEST}, {"west", THUMB_POS_WEST},
        {"northwest", THUMB_POS_NORTHWEST}, {"top", THUMB_POS_NORTH}, {"right", THUMB_POS_EAST},
        {"bottom", THUMB_POS_SOUTH}, {"left", THUMB_POS_WEST}, {"right top", THUMB_POS_NORTHEAST},
        {"right bottom", THUMB_POS_SOUTHEAST}, {"left bottom", THUMB_POS_SOUTHWEST}, {"left top", THUMB_POS_NORTHWEST}};
    for (size_t i = 0; s && i < sizeof t / sizeof *t; i++) if (strcmp(s, t[i].n) == 0) return t[i].v;
    return -1;
}
int thumb_kernel_from_name(const char *s) {
    static const struct { const char *n; int v; } t[] = {
        {"lanczos3", THUMB_KERNEL_LANCZOS3}, {"nearest", THUMB_KERNEL_NEAREST}, {"linear", THUMB_KERNEL_LINEAR},
        {"cubic", THUMB_KERNEL_CUBIC}, {"mitchell", -1}};
    for (size_t i = 0; s && i < sizeof t / sizeof *t; i++) if (strcmp(s, t[i].n) == 0) return t[i].v;
    return -1;
}

/* ---------------------------------------------------------------- opening */

static int open_decoder(thumb_ctx *ctx, const thumb_options *opt, tsrc *src, tdec **out) {
    const uint8_t *p;
    size_t n = tsrc_peek(src, &p, 32);
    if (src->error) return src->error;
    if (n == 0) return thumb__fail(ctx, THUMB_ETRUNCATED, "input is empty");
    int fmt = thumb__sniff(p, n);
    switch (fmt) {
    case THUMB_FORMAT_JPEG: return thumb__jpeg_open(out, ctx, opt, src);
    case THUMB_FORMAT_PNG: return thumb__png_open(out, ctx, opt, src);
    case THUMB_FORMAT_UNKNOWN:
        if (n < 8) return thumb__fail(ctx, THUMB_ETRUNCATED, "input is only %zu bytes: too short to be an image", n);
        return thumb__fail(ctx, THUMB_EUNSUPPORTED, "not a JPEG or PNG file (unrecognised signature)");
    default:
        return thumb__fail(ctx, THUMB_EUNSUPPORTED, "%s images are not supported: only JPEG and PNG are decoded",
                           thumb_format_name(fmt));
    }
}

static void fill_info(const tdec *d, int auto_orient, thumb_info *info) {
    const tdec_header *h = &d->hdr;
    thumb_info full = {0};
    full.size = sizeof full;
    full.format = h->format;
    full.stored_width = h->width;
    full.stored_height = h->height;
    full.orientation = h->orientation >= 1 && h->orientation <= 8 ? h->orientation : 1;
    int o = auto_orient ? full.orientation : 1;
    thumb__orient_dims(o, h->width, h->height, &full.width, &full.height);
    full.channels = h->channels;
    full.bit_depth = h->bit_depth;
    full.has_alpha = h->has_alpha;
    full.progressive = h->progressive;
    full.has_icc = h->icc != NULL;
    full.icc_size = h->icc_len;
    full.has_exif = h->has_exif;
    full.colour_space = h->colour_space;
    full.lossless = h->lossless;
    size_t n = info->size && info->size < sizeof full ? info->size : sizeof full;
    size_t keep = info->size ? info->size : sizeof full;
    memcpy(info, &full, n);
    info->size = keep;
}

static int info_from(thumb_ctx *ctx, tsrc *src, const thumb_options *opt_in, thumb_info *info) {
    thumb_options opt;
    int rc = thumb__options_copy(ctx, opt_in, &opt);
    if (rc) return rc;
    tdec *d = NULL;
    rc = open_decoder(ctx, &opt, src, &d);
    if (rc == THUMB_OK) fill_info(d, opt.auto_orient, info);
    if (d) d->ops->destroy(d);
    return rc;
}

int thumb_info_mem(thumb_ctx *ctx, const void *data, size_t len, const thumb_options *opt, thumb_info *info) {
    if (!ctx || !info || (!data && len)) return thumb__fail(ctx, THUMB_EINVAL, "NULL argument");
    clear_detail(ctx);
    tsrc src;
    tsrc_init_mem(&src, ctx, data, len, 0);
    return info_from(ctx, &src, opt, info);
}

static int64_t fd_read(void *user, void *buf, size_t n) {
    int fd = *(int *)user;
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0) return r;
        if (errno != EINTR) return -1;
    }
}

static int open_input(thumb_ctx *ctx, const char *path, int *fd) {
    if (strcmp(path, "-") == 0) { *fd = 0; return THUMB_OK; }
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) return thumb__fail(ctx, THUMB_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(*fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(*fd);
        return thumb__fail(ctx, THUMB_EIO, "%s is a directory", path);
    }
    return THUMB_OK;
}

int thumb_info_file(thumb_ctx *ctx, const char *path, const thumb_options *opt, thumb_info *info) {
    if (!ctx || !path || !info) return thumb__fail(ctx, THUMB_EINVAL, "NULL argument");
    clear_detail(ctx);
    int fd, rc = open_input(ctx, path, &fd);
    if (rc) return rc;
    tsrc src;
    tsrc_init_stream(&src, ctx, fd_read, &fd, 0);
    rc = info_from(ctx, &src, opt, info);
    if (fd > 0) close(fd);
    return rc;
}

/* ---------------------------------------------------------------- compose */

/* Output channel count for a decoded layout and an output format. */
static int output_channels(int in_ch, int format, int padded, const uint8_t bg[4]) {
    int grey = in_ch <= 2;
    int alpha = in_ch == 2 || in_ch == 4;
    int bg_grey = bg[0] == bg[1] && bg[1] == bg[2];
    if (padded && !bg_grey) grey = 0;
    if (format == THUMB_FORMAT_JPEG) return grey ? 1 : 3;
    if (padded && bg[3] != 255) alpha = 1;
    return (grey ? 1 : 3) + (alpha ? 1 : 0);
}

/* Convert one row of pixels between layouts, flattening alpha onto bg when dst has none. */
static void convert_row(const uint8_t *s, int sc, uint8_t *d, int dc, uint32_t n, const uint8_t bg[4]) {
    int s_alpha = sc == 2 || sc == 4, d_alpha = dc == 2 || dc == 4;
    for (uint32_t i = 0; i < n; i++, s += sc, d += dc) {
        unsigned r, g, b, a;
        if (sc <= 2) r = g = b = s[0];
        else { r = s[0]; g = s[1]; b = s[2]; }
        a = s_alpha ? s[sc - 1] : 255;
        if (!d_alpha && a != 255) {
            unsigned na = 255 - a;
            r = (r * a + bg[0] * na + 127) / 255;
            g = (g * a + bg[1] * na + 127) / 255;
            b = (b * a + bg[2] * na + 127) / 255;
        }
        if (dc <= 2) d[0] = (uint8_t)r;
        else { d[0] = (uint8_t)r; d[1] = (uint8_t)g; d[2] = (uint8_t)b; }
        if (d_alpha) d[dc - 1] = (uint8_t)a;
    }
}

/* ---------------------------------------------------------------- the pipeline */

static int enc_row(void *enc, const uint8_t *row, uint32_t y) {
    (void)y;
    return thumb__jpeg_enc_rows(enc, &row, 1);
}

/* The half-chroma path (see run): the luma window and the chroma window resized apart, into
 * planes kept in the context's scratch buffer, then turned (EXIF orientation) 16 rows at a time
 * into the encoder as 4:2:0 strips. */
static int run_half_chroma(thumb_ctx *ctx, const thumb_options *opt, const tplan *plan, tdec *d, tsink *sink) {
    int o = plan->orientation;
    uint32_t sw = plan->x.out, sh = plan->y.out, cw = (sw + 1) / 2, chh = (sh + 1) / 2, ow, oh, ocw, och;
    thumb__orient_dims(o, sw, sh, &ow, &oh);
    thumb__orient_dims(o, cw, chh, &ocw, &och);
    uint32_t cx0 = d->x0 / 2, cy0 = d->y0 / 2;
    uint32_t cin_w = (d->x0 + d->w + 1) / 2 - cx0, cin_h = (d->y0 + d->h + 1) / 2 - cy0;
    tresize *ry = NULL, *rcb = NULL, *rcr = NULL;
    jenc *enc = NULL;
    size_t cap = 0, ysize = (size_t)sw * sh, csize = (size_t)cw * chh, tsize = o == 1 ? 0 : (size_t)16 * (ow + ocw);
    uint8_t *buf = scratch_take(ctx, ysize + 2 * csize + tsize, &cap);
    int rc = THUMB_OK;
    if (!buf) return thumb__fail(ctx, THUMB_ENOMEM, "out of memory for a %ux%u output", (unsigned)sw, (unsigned)sh);
    uint8_t *yb = buf, *cbb = buf + ysize, *crb = cbb + csize, *yt = crb + csize, *cbt = yt + (size_t)16 * ow,
            *crt = cbt + (size_t)8 * ocw;

    tresize_axis ax = {.in_len = d->w, .box = 1, .out_len = sw};
    tresize_axis ay = {.in_len = d->h, .box = 1, .out_len = sh};
    thumb__plan_axis_map(&plan->x, d->scale_num, d->x0, &ax.first, &ax.step);
    thumb__plan_axis_map(&plan->y, d->scale_num, d->y0, &ay.first, &ay.step);
    /* Chroma sample c sits at luma 2c + 0.5 (JFIF's centred 4:2:0), and chroma output j at
     * output luma 2j + 0.5 of the displayed picture. An axis the turn reverses, of odd length n,
     * puts that at stored 2j - 0.5 (n - 1 - (2j' + 0.5) with j' = (n + 1) / 2 - 1 - j). So centre j
     * = (luma centre of output 2j +- 0.5, less 0.5) / 2, window-relative. */
    bool rev_x, rev_y;
    thumb__orient_reversed(o, &rev_x, &rev_y);
    double offx = rev_x && (sw & 1) ? -0.5 : 0.5, offy = rev_y && (sh & 1) ? -0.5 : 0.5;
    tresize_axis cax = {.in_len = cin_w, .box = 1, .out_len = cw, .step = ax.step};
    tresize_axis cay = {.in_len = cin_h, .box = 1, .out_len = chh, .step = ay.step};
    cax.first = (ax.first + d->x0 + offx * ax.step - 0.5) / 2 - cx0;
    cay.first = (ay.first + d->y0 + offy * ay.step - 0.5) / 2 - cy0;
    if ((rc = tresize_new(&ry, ctx, 1, plan->kernel, &ax, &ay, yb, sw)) ||
        (rc = tresize_new(&rcb, ctx, 1, plan->kernel, &cax, &cay, cbb, cw)) ||
        (rc = tresize_new(&rcr, ctx, 1, plan->kernel, &cax, &cay, crb, cw)))
        goto out;
    for (uint32_t ny = 0, nc = 0; ny < d->h || nc < cin_h;) {
        tplanes p;
        if ((rc = d->ops->next_planes(d, &p))) goto out;
        if (p.ny == 0 && p.nc == 0) { rc = thumb__fail(ctx, THUMB_ETRUNCATED, "jpeg: decoder stopped early"); goto out; }
        for (int i = 0; i < p.ny && rc == THUMB_OK; i++) rc = tresize_push_row(ry, p.y[i]);
        for (int i = 0; i < p.nc && rc == THUMB_OK; i++)
            if ((rc = tresize_push_row(rcb, p.cb[i])) == THUMB_OK) rc = tresize_push_row(rcr, p.cr[i]);
        if (rc) goto out;
        ny += (uint32_t)p.ny;
        nc += (uint32_t)p.nc;
    }
    if ((rc = tresize_finish(ry)) || (rc = tresize_finish(rcb)) || (rc = tresize_finish(rcr))) goto out;

    if ((rc = thumb__jpeg_enc_start(&enc, ctx, opt, ow, oh, 3, sink, 1)) || (rc = thumb__jpeg_enc_ycc_input(enc)))
        goto out;
    for (uint32_t y = 0; y < oh; y += 16) {
        const uint8_t *yr[16], *cbr[8], *crr[8];
        uint32_t n = oh - y < 16 ? oh - y : 16, m = (n + 1) / 2;
        if (o != 1) { /* the strip's rows, turned */
            thumb__orient_rows(o, yb, sw, sh, sw, 1, y, n, yt, ow);
            thumb__orient_rows(o, cbb, cw, chh, cw, 1, y / 2, m, cbt, ocw);
            thumb__orient_rows(o, crb, cw, chh, cw, 1, y / 2, m, crt, ocw);
        }
        for (uint32_t i = 0; i < n; i++) yr[i] = o != 1 ? yt + (size_t)i * ow : yb + (size_t)(y + i) * sw;
        for (uint32_t i = 0; i < m; i++) {
            cbr[i] = o != 1 ? cbt + (size_t)i * ocw : cbb + (size_t)(y / 2 + i) * cw;
            crr[i] = o != 1 ? crt + (size_t)i * ocw : crb + (size_t)(y / 2 + i) * cw;
        }
        if ((rc = thumb__jpeg_enc_strip420(enc, yr, n, cbr, crr, m))) goto out;
    }
    rc = thumb__jpeg_enc_finish(enc);
out:
    thumb__jpeg_enc_free(enc);
    tresize_free(ry);
    tresize_free(rcb);
    tresize_free(rcr);
    scratch_give(ctx, buf, cap);
    return rc;
}

static int run(thumb_ctx *ctx, const thumb_options *opt_in, tsrc *src, tsink *sink) {
    thumb_options opt;
    tdec *d = NULL;
    tresize *rs = NULL;
    tcolour *col = NULL;
    jenc *enc = NULL;
    uint8_t *img = NULL, *canvas = NULL, *colrow = NULL;
    size_t img_cap = 0;
    int rc = thumb__options_copy(ctx, opt_in, &opt);
    if (rc) return rc;
    src->limit = opt.max_input_bytes;
    if (src->mem && opt.max_input_bytes && src->mem_len > opt.max_input_bytes)
        return thumb__fail(ctx, THUMB_ELIMIT_BYTES, "input is %zu bytes, over the %llu-byte limit", src->mem_len,
                           (unsigned long long)opt.max_input_bytes);

    rc = open_decoder(ctx, &opt, src, &d);
    if (rc) goto done;
    tplan plan;
    rc = thumb__plan(ctx, &opt, &d->hdr, &plan);
    if (rc) goto done;

    tdec_request req = {
        .scale_num = plan.scale_num,
        .x0 = plan.x.win0, .x1 = plan.x.win1,
        .y0 = plan.y.win0, .y1 = plan.y.win1,
    };
    rc = thumb__colour_new(&col, ctx, &opt, &d->hdr, &req);
    if (rc) goto done;
    /* A JPEG thumbnail of a YCbCr JPEG with nothing but a resize (and a turn for its EXIF
     * orientation: moving pixels works on any channels) in between can stay in YCbCr: the
     * decoder's YCbCr rows in, our encoder's front end out, no colour conversion either way
     * (Lanczos and the conversion are both linear, so only rounding differs; the quality bars
     * are checked on this path). Padding would need the background in YCbCr: not taken. */
    req.ycc = !ctx->no_ycc && !col && opt.format == THUMB_FORMAT_JPEG && opt.optimize_coding && !opt.progressive &&
              plan.canvas_w == plan.img_w && plan.canvas_h == plan.img_h;
    /* And a 4:2:0 photo made into a 4:2:0 JPEG keeps its chroma at its own size: decoded with the
     * luma's IDCT size, resized as planes of half the luma's size, given to the encoder as they
     * are (where the rows above have it scaled up in the IDCT, resized at the luma's size and
     * halved again by the encoder). Taken when the decoder can (jdfast) and nothing but the
     * resize (and a turn) happens: no box prefilter. */
    req.half_chroma = req.ycc && !ctx->no_half_chroma && opt.chroma != THUMB_CHROMA_444 && plan.x.box == 1 &&
                      plan.y.box == 1;
    rc = d->ops->start(d, &req);
    if (rc) goto done;
    if (d->planar) {
        rc = run_half_chroma(ctx, &opt, &plan, d, sink);
        goto done;
    }
    int ch = d->channels;
    int col_decode = col && thumb__colour_stage(col) == THUMB_COLOUR_STAGE_DECODE;
    if (col_decode) {
        /* Rows are converted as they are decoded; the resampler sees the converted layout. */
        size_t n;
        if (!thumb__mul_size(d->w, 4, &n) || !(colrow = malloc(n ? n : 1))) {
            rc = thumb__fail(ctx, THUMB_ENOMEM, "out of memory for a colour row");
            goto done;
        }
        ch = thumb__colour_out_channels(col, ch);
    }

    /* The resized image in stored orientation; written straight into the canvas when no
     * orientation, padding or channel change is needed (the common case). */
    uint32_t sw = plan.x.out, sh = plan.y.out;
    int padded = plan.canvas_w != plan.img_w || plan.canvas_h != plan.img_h;
    int oc = output_channels(ch, opt.format, padded, opt.background);
    size_t canvas_stride = (size_t)plan.canvas_w * oc, canvas_size, img_stride = (size_t)sw * ch, img_size;
    if (!thumb__mul_size(canvas_stride, plan.canvas_h, &canvas_size) || !thumb__mul_size(img_stride, sh, &img_size)) {
        rc = thumb__fail(ctx, THUMB_ELIMIT_OUTPUT, "output too large");
        goto done;
    }
    int direct = plan.orientation == 1 && !padded && oc == ch;
    /* JPEG out with nothing to do after resizing: rows go from the resampler straight into the
     * encoder, with no canvas (for 512x512, 0.8 MB of fresh pages per call: ~1 ms here). */
    int streamed = direct && opt.format == THUMB_FORMAT_JPEG && !(col && !col_decode);
    /* JPEG out that only needs a turn (EXIF orientation, what phones upload): the turned rows go
     * to the encoder one at a time from the resized image, with no canvas either. */
    int turned = plan.orientation != 1 && !padded && oc == ch && opt.format == THUMB_FORMAT_JPEG;
    canvas = malloc(streamed ? canvas_stride : turned ? canvas_stride * 16 : canvas_size ? canvas_size : 1);
    if (!canvas) { rc = thumb__fail(ctx, THUMB_ENOMEM, "out of memory for a %zu-byte output", canvas_size); goto done; }
    if (!direct) {
        img = scratch_take(ctx, img_size, &img_cap);
        if (!img) { rc = thumb__fail(ctx, THUMB_ENOMEM, "out of memory for a %zu-byte output", img_size); goto done; }
    }

    tresize_axis ax = {.in_len = d->w, .box = plan.x.box, .out_len = sw};
    tresize_axis ay = {.in_len = d->h, .box = plan.y.box, .out_len = sh};
    thumb__plan_axis_map(&plan.x, d->scale_num, d->x0, &ax.first, &ax.step);
    thumb__plan_axis_map(&plan.y, d->scale_num, d->y0, &ay.first, &ay.step);
    rc = tresize_new(&rs, ctx, ch, plan.kernel, &ax, &ay, direct ? canvas : img, direct ? canvas_stride : img_stride);
    if (rc) goto done;
    int ycc = d->ycc;
    if (ycc && (padded || oc != 3 || ch != 3 || !(streamed || turned))) {
        rc = thumb__fail(ctx, THUMB_EINVAL, "internal: YCbCr rows off the JPEG path");
        goto done;
    }
    if (streamed) {
        rc = thumb__jpeg_enc_start(&enc, ctx, &opt, plan.canvas_w, plan.canvas_h, oc, sink, 1);
        if (rc == THUMB_OK && d->ycc) rc = thumb__jpeg_enc_ycc_input(enc);
        if (rc) goto done;
        tresize_set_row_sink(rs, enc_row, enc);
    }
    for (uint32_t y = 0; y < d->h; y++) {
        const uint8_t *row;
        rc = d->ops->next_row(d, &row);
        if (rc) goto done;
        if (col_decode) {
            thumb__colour_row(col, row, colrow, d->w);
            row = colrow;
        }
        rc = tresize_push_row(rs, row);
        if (rc) goto done;
    }
    rc = tresize_finish(rs);
    if (rc) goto done;
    /* The decoder is done with the input; release it before encoding. */
    d->ops->destroy(d);
    d = NULL;
    if (streamed) {
        rc = thumb__jpeg_enc_finish(enc);
        goto done;
    }
    if (col && !col_decode) {
        uint8_t *base = direct ? canvas : img;
        size_t stride = direct ? canvas_stride : img_stride;
        for (uint32_t y = 0; y < sh; y++) thumb__colour_row(col, base + y * stride, base + y * stride, sw);
    }

    if (turned) {
        rc = thumb__jpeg_enc_start(&enc, ctx, &opt, plan.canvas_w, plan.canvas_h, oc, sink, 0);
        if (rc == THUMB_OK && ycc) rc = thumb__jpeg_enc_ycc_input(enc);
        for (uint32_t y = 0; rc == THUMB_OK && y < plan.canvas_h; y += 16) {
            uint32_t n = plan.canvas_h - y < 16 ? plan.canvas_h - y : 16;
            thumb__orient_rows(plan.orientation, img, sw, sh, img_stride, ch, y, n, canvas, canvas_stride);
            const uint8_t *rows[16];
            for (uint32_t i = 0; i < n; i++) rows[i] = canvas + i * canvas_stride;
            rc = thumb__jpeg_enc_rows(enc, rows, n);
        }
        if (rc == THUMB_OK) rc = thumb__jpeg_enc_finish(enc);
        goto done;
    }
    if (!direct) {
        /* Background first, then the oriented image converted to the output layout. */
        uint8_t bgpix[4];
        convert_row(opt.background, 4, bgpix, oc, 1, opt.background);
        if (oc == 1 || oc == 3) { /* opaque canvas: bg pre-flattened onto itself is just bg */
            for (int c = 0; c < oc; c++) bgpix[c] = oc == 1 ? opt.background[0] : opt.background[c];
        }
        if (padded) {
            for (uint32_t y = 0; y < plan.canvas_h; y++)
                for (uint32_t x = 0; x < plan.canvas_w; x++) memcpy(canvas + y * canvas_stride + (size_t)x * oc, bgpix, oc);
        }
        uint32_t ow, oh;
        thumb__orient_dims(plan.orientation, sw, sh, &ow, &oh);
        uint8_t *oriented = img;
        uint8_t *tmp = NULL;
        if (!padded && oc == ch) /* only a turn: straight into the canvas */
            thumb__orient_copy(plan.orientation, img, sw, sh, img_stride, ch, canvas, canvas_stride);
        else if (plan.orientation != 1) {
            tmp = malloc(img_size ? img_size : 1);
            if (!tmp) { rc = thumb__fail(ctx, THUMB_ENOMEM, "out of memory orienting the output"); goto done; }
            thumb__orient_copy(plan.orientation, img, sw, sh, img_stride, ch, tmp, (size_t)ow * ch);
            oriented = tmp;
        }
        for (uint32_t y = 0; (padded || oc != ch) && y < oh; y++)
            convert_row(oriented + (size_t)y * ow * ch, ch, canvas + (plan.pad_y + y) * canvas_stride + (size_t)plan.pad_x * oc,
                        oc, ow, opt.background);
        free(tmp);
    }

    if (opt.format == THUMB_FORMAT_PNG)
        rc = thumb__png_encode(ctx, &opt, canvas, plan.canvas_w, plan.canvas_h, oc, canvas_stride, sink);
    else
        rc = thumb__jpeg_encode(ctx, &opt, canvas, plan.canvas_w, plan.canvas_h, oc, canvas_stride, sink);

done:
    thumb__jpeg_enc_free(enc);
    tresize_free(rs);
    thumb__colour_free(col);
    free(colrow);
    if (d) d->ops->destroy(d);
    scratch_give(ctx, img, img_cap);
    free(canvas);
    return rc;
}

int thumb_thumbnail_mem(thumb_ctx *ctx, const void *data, size_t len, const thumb_options *opt, void **out,
                        size_t *out_len) {
    if (!ctx) return THUMB_EINVAL;
    clear_detail(ctx);
    if ((!data && len) || !out || !out_len) return thumb__fail(ctx, THUMB_EINVAL, "NULL argument");
    *out = NULL;
    *out_len = 0;
    tsrc src;
    tsrc_init_mem(&src, ctx, data, len, 0);
    tsink sink = {.ctx = ctx};
    int rc = run(ctx, opt, &src, &sink);
    if (rc) { free(sink.buf); return rc; }
    *out = sink.buf;
    *out_len = sink.len;
    return THUMB_OK;
}

int thumb_thumbnail_stream(thumb_ctx *ctx, thumb_read_fn read, void *read_user, const thumb_options *opt,
                           thumb_write_fn write, void *write_user) {
    if (!ctx) return THUMB_EINVAL;
    clear_detail(ctx);
    if (!read || !write) return thumb__fail(ctx, THUMB_EINVAL, "NULL callback");
    tsrc src;
    tsrc_init_stream(&src, ctx, read, read_user, 0);
    tsink sink = {.ctx = ctx, .write = write, .user = write_user};
    return run(ctx, opt, &src, &sink);
}

static int fd_write(void *user, const void *buf, size_t n) {
    int fd = *(int *)user;
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EINTR) continue; return -1; }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    if (n < m) return 0;
    for (size_t i = 0; i < m; i++) {
        char a = s[n - m + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != b) return 0;
    }
    return 1;
}

int thumb_thumbnail_file(thumb_ctx *ctx, const char *in_path, const char *out_path, const thumb_options *opt_in) {
    if (!ctx) return THUMB_EINVAL;
    clear_detail(ctx);
    if (!in_path || !out_path) return thumb__fail(ctx, THUMB_EINVAL, "NULL path");
    thumb_options opt;
    int rc = thumb__options_copy(ctx, opt_in, &opt);
    if (rc) return rc;
    /* An unset format follows the output name. */
    if ((!opt_in || opt_in->format == THUMB_FORMAT_UNKNOWN) && ends_with_ci(out_path, ".png")) opt.format = THUMB_FORMAT_PNG;

    int in_fd;
    rc = open_input(ctx, in_path, &in_fd);
    if (rc) return rc;
    /* Write beside the target, then rename: the output appears whole or not at all. */
    size_t n = strlen(out_path);
    char *tmp = malloc(n + 16);
    if (!tmp) { if (in_fd > 0) close(in_fd); return thumb__fail(ctx, THUMB_ENOMEM, "out of memory"); }
    const char *slash = strrchr(out_path, '/');
    size_t dir_len = slash ? (size_t)(slash - out_path) + 1 : 0;
    snprintf(tmp, n + 16, "%.*s.%s.XXXXXX", (int)dir_len, out_path, out_path + dir_len);
    int out_fd = mkostemp(tmp, O_CLOEXEC);
    if (out_fd < 0) {
        rc = thumb__fail(ctx, THUMB_EIO, "cannot create %s: %s", out_path, strerror(errno));
        free(tmp);
        if (in_fd > 0) close(in_fd);
        return rc;
    }
    mode_t um = umask(0);
    umask(um);
    fchmod(out_fd, 0666 & ~um);

    tsrc src;
    tsrc_init_stream(&src, ctx, fd_read, &in_fd, 0);
    tsink sink = {.ctx = ctx, .write = fd_write, .user = &out_fd};
    rc = run(ctx, &opt, &src, &sink);
    if (rc == THUMB_ECALLBACK && sink.error) rc = thumb__fail(ctx, THUMB_EIO, "writing %s failed", out_path);
    if (rc == THUMB_ECALLBACK && src.error) rc = thumb__fail(ctx, THUMB_EIO, "reading %s failed", in_path);
    if (close(out_fd) != 0 && rc == THUMB_OK) rc = thumb__fail(ctx, THUMB_EIO, "writing %s failed: %s", out_path, strerror(errno));
    if (rc == THUMB_OK && rename(tmp, out_path) != 0)
        rc = thumb__fail(ctx, THUMB_EIO, "cannot rename to %s: %s", out_path, strerror(errno));
    if (rc != THUMB_OK) unlink(tmp);
    free(tmp);
    if (in_fd > 0) close(in_fd);
    return rc;
}
