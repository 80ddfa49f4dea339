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
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
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
    free(ctx->prog_store);
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

/* ---------------------------------------------------------------- the pipeline
 *
 * run              options -> open_decoder (sniff) -> thumb__plan -> start_decoder, then one of
 * run_half_chroma  half_planes -> half_resize (decode, resample three planes) -> half_encode
 *                  (turn and encode 4:2:0 strips)
 * run_rows         choose_path -> take_buffers -> start_resize -> resize_rows (decode, colour,
 *                  resample) -> colour_resized when the colour stage is after the resize -> the path:
 *                  PATH_STREAMED (encoded while resizing), encode_turned, encode_canvas (compose, encode)
 */

/* How the resized rows reach the encoder (besides the half-chroma path, run_half_chroma). */
enum {
    PATH_STREAMED, /* JPEG with nothing to do after resizing: resampler rows straight into the encoder */
    PATH_TURNED,   /* JPEG that only needs a turn: the resized image, turned 16 rows at a time */
    PATH_CANVAS,   /* the rest: the resized image turned, padded, converted onto a whole canvas */
};

/* One thumbnail on its way through the stages of run. */
typedef struct tjob {
    thumb_ctx *ctx;
    const thumb_options *opt;
    tsink *sink;
    tplan plan;
    tdec *d;              /* released as soon as its last row is in */
    tcolour *col;         /* NULL when no colour conversion is needed */
    bool col_decode;      /* col converts the decoded rows; else the resized image */
    int path;             /* PATH_*: the rows path only */
    bool ycc;             /* the rows are YCbCr (the decoder's d->ycc) */
    bool padded;          /* the canvas is larger than the image */
    bool direct;          /* resized straight into the canvas: no turn, padding or layout change */
    int ch, oc;           /* channels resized, channels encoded */
    uint32_t sw, sh;      /* the resized size, stored orientation */
    uint8_t *colrow;      /* one decoded row after colour conversion */
    uint8_t *img;         /* the resized image (context scratch) unless direct */
    size_t img_stride, img_size, img_cap;
    uint8_t *canvas;      /* the output image; one row for PATH_STREAMED, 16 for PATH_TURNED */
    size_t canvas_stride, canvas_size;
    tresize *rs;
    jenc *enc;
} tjob;

static void job_free(tjob *j) {
    thumb__jpeg_enc_free(j->enc);
    tresize_free(j->rs);
    thumb__colour_free(j->col);
    free(j->colrow);
    if (j->d) j->d->ops->destroy(j->d);
    scratch_give(j->ctx, j->img, j->img_cap);
    free(j->canvas);
}

static int check_input_bytes(thumb_ctx *ctx, const thumb_options *opt, tsrc *src) {
    src->limit = opt->max_input_bytes;
    if (src->mem && opt->max_input_bytes && src->mem_len > opt->max_input_bytes)
        return thumb__fail(ctx, THUMB_ELIMIT_BYTES, "input is %zu bytes, over the %llu-byte limit", src->mem_len,
                           (unsigned long long)opt->max_input_bytes);
    return THUMB_OK;
}

/* The colour conversion, and what the decoder hands on: half-size chroma planes, YCbCr rows or
 * RGB (grey, CMYK) rows, of the plan's window at the plan's scale. */
static int start_decoder(tjob *j) {
    const thumb_options *opt = j->opt;
    const tplan *plan = &j->plan;
    tdec_request req = {
        .scale_num = plan->scale_num,
        .x0 = plan->x.win0, .x1 = plan->x.win1,
        .y0 = plan->y.win0, .y1 = plan->y.win1,
    };
    int rc = thumb__colour_new(&j->col, j->ctx, opt, &j->d->hdr, &req);
    if (rc) return rc;
    /* A JPEG thumbnail of a YCbCr JPEG with nothing but a resize (and a turn for its EXIF
     * orientation: moving pixels works on any channels) in between can stay in YCbCr: the
     * decoder's YCbCr rows in, our encoder's front end out, no colour conversion either way
     * (Lanczos and the conversion are both linear, so only rounding differs; the quality bars
     * are checked on this path). Padding would need the background in YCbCr: not taken. */
    req.ycc = !j->ctx->no_ycc && !j->col && opt->format == THUMB_FORMAT_JPEG && opt->optimize_coding &&
              !opt->progressive && plan->canvas_w == plan->img_w && plan->canvas_h == plan->img_h;
    /* And a 4:2:0 photo made into a 4:2:0 JPEG keeps its chroma at its own size: decoded with the
     * luma's IDCT size, resized as planes of half the luma's size, given to the encoder as they
     * are (where the rows above have it scaled up in the IDCT, resized at the luma's size and
     * halved again by the encoder). Taken when the decoder can (jdfast) and nothing but the
     * resize (and a turn) happens: no box prefilter. */
    req.half_chroma = req.ycc && !j->ctx->no_half_chroma && opt->chroma != THUMB_CHROMA_444 && plan->x.box == 1 &&
                      plan->y.box == 1;
    return j->d->ops->start(j->d, &req);
}

/* The resampler's axes for the decoded window: plan space mapped onto the rows the decoder gives. */
static void resize_axes(const tplan *plan, const tdec *d, tresize_axis *ax, tresize_axis *ay) {
    *ax = (tresize_axis){.in_len = d->w, .box = plan->x.box, .out_len = plan->x.out};
    *ay = (tresize_axis){.in_len = d->h, .box = plan->y.box, .out_len = plan->y.out};
    thumb__plan_axis_map(&plan->x, d->scale_num, d->x0, &ax->first, &ax->step);
    thumb__plan_axis_map(&plan->y, d->scale_num, d->y0, &ay->first, &ay->step);
}

/* ------------------------------------------------ the half-chroma path */

/* Its three resized planes in stored orientation, luma sw x sh and chroma cw x chh, in one
 * scratch buffer; for a turn, one turned strip of each after them (16 luma rows, 8 chroma). */
typedef struct thalf {
    uint32_t sw, sh, cw, chh;
    uint32_t ow, oh, ocw;      /* turned: the output's size, the turned chroma width */
    uint8_t *buf, *y, *cb, *cr, *yt, *cbt, *crt;
    size_t cap;
} thalf;

static int half_planes(tjob *j, thalf *h) {
    int o = j->plan.orientation;
    uint32_t och;
    h->sw = j->plan.x.out, h->sh = j->plan.y.out, h->cw = (h->sw + 1) / 2, h->chh = (h->sh + 1) / 2;
    thumb__orient_dims(o, h->sw, h->sh, &h->ow, &h->oh);
    thumb__orient_dims(o, h->cw, h->chh, &h->ocw, &och);
    size_t ysize = (size_t)h->sw * h->sh, csize = (size_t)h->cw * h->chh;
    size_t tsize = o == 1 ? 0 : (size_t)16 * (h->ow + h->ocw);
    h->buf = scratch_take(j->ctx, ysize + 2 * csize + tsize, &h->cap);
    if (!h->buf)
        return thumb__fail(j->ctx, THUMB_ENOMEM, "out of memory for a %ux%u output", (unsigned)h->sw, (unsigned)h->sh);
    h->y = h->buf, h->cb = h->y + ysize, h->cr = h->cb + csize;
    h->yt = h->cr + csize, h->cbt = h->yt + (size_t)16 * h->ow, h->crt = h->cbt + (size_t)8 * h->ocw;
    return THUMB_OK;
}

/* Chroma sample c sits at luma 2c + 0.5 (JFIF's centred 4:2:0), and chroma output j at output
 * luma 2j + 0.5 of the displayed picture. An axis the turn reverses, of odd length n, puts that
 * at stored 2j - 0.5 (n - 1 - (2j' + 0.5) with j' = (n + 1) / 2 - 1 - j). So centre j = (luma
 * centre of output 2j +- 0.5, less 0.5) / 2, relative to the chroma window. */
static void chroma_axes(const tjob *j, const thalf *h, const tresize_axis *ax, const tresize_axis *ay,
                        tresize_axis *cax, tresize_axis *cay) {
    const tdec *d = j->d;
    uint32_t cx0 = d->x0 / 2, cy0 = d->y0 / 2;
    bool rev_x, rev_y;
    thumb__orient_reversed(j->plan.orientation, &rev_x, &rev_y);
    double offx = rev_x && (h->sw & 1) ? -0.5 : 0.5, offy = rev_y && (h->sh & 1) ? -0.5 : 0.5;
    *cax = (tresize_axis){.in_len = (d->x0 + d->w + 1) / 2 - cx0, .box = 1, .out_len = h->cw, .step = ax->step};
    *cay = (tresize_axis){.in_len = (d->y0 + d->h + 1) / 2 - cy0, .box = 1, .out_len = h->chh, .step = ay->step};
    cax->first = (ax->first + d->x0 + offx * ax->step - 0.5) / 2 - cx0;
    cay->first = (ay->first + d->y0 + offy * ay->step - 0.5) / 2 - cy0;
}

/* Decode the luma and chroma windows and resize each into its plane. */
static int half_resize(tjob *j, const thalf *h) {
    tdec *d = j->d;
    tresize_axis ax, ay, cax, cay;
    resize_axes(&j->plan, d, &ax, &ay); /* box 1 on both axes: the path is taken only then */
    chroma_axes(j, h, &ax, &ay, &cax, &cay);
    tresize *ry = NULL, *rcb = NULL, *rcr = NULL;
    int rc;
    if ((rc = tresize_new(&ry, j->ctx, 1, j->plan.kernel, &ax, &ay, h->y, h->sw)) ||
        (rc = tresize_new(&rcb, j->ctx, 1, j->plan.kernel, &cax, &cay, h->cb, h->cw)) ||
        (rc = tresize_new(&rcr, j->ctx, 1, j->plan.kernel, &cax, &cay, h->cr, h->cw)))
        goto out;
    for (uint32_t ny = 0, nc = 0; ny < d->h || nc < cay.in_len;) {
        tplanes p;
        if ((rc = d->ops->next_planes(d, &p))) goto out;
        if (p.ny == 0 && p.nc == 0) {
            rc = thumb__fail(j->ctx, THUMB_ETRUNCATED, "jpeg: decoder stopped early");
            goto out;
        }
        for (int i = 0; i < p.ny && rc == THUMB_OK; i++) rc = tresize_push_row(ry, p.y[i]);
        for (int i = 0; i < p.nc && rc == THUMB_OK; i++)
            if ((rc = tresize_push_row(rcb, p.cb[i])) == THUMB_OK) rc = tresize_push_row(rcr, p.cr[i]);
        if (rc) goto out;
        ny += (uint32_t)p.ny;
        nc += (uint32_t)p.nc;
    }
    if ((rc = tresize_finish(ry)) == THUMB_OK && (rc = tresize_finish(rcb)) == THUMB_OK) rc = tresize_finish(rcr);
out:
    tresize_free(ry);
    tresize_free(rcb);
    tresize_free(rcr);
    return rc;
}

/* The planes into the encoder as 4:2:0 strips of 16 luma rows, turned strip by strip. */
static int half_encode(tjob *j, const thalf *h) {
    int o = j->plan.orientation;
    int rc = thumb__jpeg_enc_start(&j->enc, j->ctx, j->opt, h->ow, h->oh, 3, j->sink, 1);
    if (rc == THUMB_OK) rc = thumb__jpeg_enc_ycc_input(j->enc);
    for (uint32_t y = 0; rc == THUMB_OK && y < h->oh; y += 16) {
        const uint8_t *yr[16], *cbr[8], *crr[8];
        uint32_t n = h->oh - y < 16 ? h->oh - y : 16, m = (n + 1) / 2;
        if (o != 1) {
            thumb__orient_rows(o, h->y, h->sw, h->sh, h->sw, 1, y, n, h->yt, h->ow);
            thumb__orient_rows(o, h->cb, h->cw, h->chh, h->cw, 1, y / 2, m, h->cbt, h->ocw);
            thumb__orient_rows(o, h->cr, h->cw, h->chh, h->cw, 1, y / 2, m, h->crt, h->ocw);
        }
        for (uint32_t i = 0; i < n; i++) yr[i] = o != 1 ? h->yt + (size_t)i * h->ow : h->y + (size_t)(y + i) * h->sw;
        for (uint32_t i = 0; i < m; i++) {
            cbr[i] = o != 1 ? h->cbt + (size_t)i * h->ocw : h->cb + (size_t)(y / 2 + i) * h->cw;
            crr[i] = o != 1 ? h->crt + (size_t)i * h->ocw : h->cr + (size_t)(y / 2 + i) * h->cw;
        }
        rc = thumb__jpeg_enc_strip420(j->enc, yr, n, cbr, crr, m);
    }
    return rc == THUMB_OK ? thumb__jpeg_enc_finish(j->enc) : rc;
}

/* The luma window and the chroma window resized apart, into planes, then into the encoder. */
static int run_half_chroma(tjob *j) {
    thalf h;
    int rc = half_planes(j, &h);
    if (rc) return rc;
    if ((rc = half_resize(j, &h)) == THUMB_OK) rc = half_encode(j, &h);
    scratch_give(j->ctx, h.buf, h.cap);
    return rc;
}

/* ------------------------------------------------ the rows path */

/* Channel counts and the path, from the plan, the decoder's rows and the colour stage. */
static int choose_path(tjob *j) {
    const thumb_options *opt = j->opt;
    const tplan *plan = &j->plan;
    j->ch = j->d->channels;
    j->ycc = j->d->ycc;
    j->col_decode = j->col && thumb__colour_stage(j->col) == THUMB_COLOUR_STAGE_DECODE;
    if (j->col_decode) {
        /* Rows are converted as they are decoded; the resampler sees the converted layout. */
        size_t n;
        if (!thumb__mul_size(j->d->w, 4, &n) || !(j->colrow = malloc(n ? n : 1)))
            return thumb__fail(j->ctx, THUMB_ENOMEM, "out of memory for a colour row");
        j->ch = thumb__colour_out_channels(j->col, j->ch);
    }
    j->sw = plan->x.out, j->sh = plan->y.out;
    j->padded = plan->canvas_w != plan->img_w || plan->canvas_h != plan->img_h;
    j->oc = output_channels(j->ch, opt->format, j->padded, opt->background);
    j->canvas_stride = (size_t)plan->canvas_w * j->oc, j->img_stride = (size_t)j->sw * j->ch;
    if (!thumb__mul_size(j->canvas_stride, plan->canvas_h, &j->canvas_size) ||
        !thumb__mul_size(j->img_stride, j->sh, &j->img_size))
        return thumb__fail(j->ctx, THUMB_ELIMIT_OUTPUT, "output too large");
    /* The common case needs no orientation, padding or channel change: resized into the canvas. */
    j->direct = plan->orientation == 1 && !j->padded && j->oc == j->ch;
    bool jpeg = opt->format == THUMB_FORMAT_JPEG;
    /* Streamed has no canvas at all: for 512x512, 0.8 MB of fresh pages per call (~1 ms here).
     * Turned is what phones upload (EXIF orientation): no canvas either. */
    if (j->direct && jpeg && !(j->col && !j->col_decode)) j->path = PATH_STREAMED;
    else if (plan->orientation != 1 && !j->padded && j->oc == j->ch && jpeg) j->path = PATH_TURNED;
    else j->path = PATH_CANVAS;
    if (j->ycc && (j->padded || j->oc != 3 || j->ch != 3 || j->path == PATH_CANVAS))
        return thumb__fail(j->ctx, THUMB_EINVAL, "internal: YCbCr rows off the JPEG path");
    return THUMB_OK;
}

/* The canvas (or the path's rows of it) and, unless direct, the resized image. */
static int take_buffers(tjob *j) {
    size_t n = j->path == PATH_STREAMED ? j->canvas_stride
             : j->path == PATH_TURNED   ? j->canvas_stride * 16
             : j->canvas_size ? j->canvas_size : 1;
    if (!(j->canvas = malloc(n)))
        return thumb__fail(j->ctx, THUMB_ENOMEM, "out of memory for a %zu-byte output", j->canvas_size);
    if (!j->direct && !(j->img = scratch_take(j->ctx, j->img_size, &j->img_cap)))
        return thumb__fail(j->ctx, THUMB_ENOMEM, "out of memory for a %zu-byte output", j->img_size);
    return THUMB_OK;
}

static int enc_row(void *enc, const uint8_t *row, uint32_t y) {
    (void)y;
    return thumb__jpeg_enc_rows(enc, &row, 1);
}

/* The resampler, writing into the canvas (direct) or the resized image; streamed, into the encoder. */
static int start_resize(tjob *j) {
    tresize_axis ax, ay;
    resize_axes(&j->plan, j->d, &ax, &ay);
    int rc = tresize_new(&j->rs, j->ctx, j->ch, j->plan.kernel, &ax, &ay, j->direct ? j->canvas : j->img,
                         j->direct ? j->canvas_stride : j->img_stride);
    if (rc || j->path != PATH_STREAMED) return rc;
    rc = thumb__jpeg_enc_start(&j->enc, j->ctx, j->opt, j->plan.canvas_w, j->plan.canvas_h, j->oc, j->sink, 1);
    if (rc == THUMB_OK && j->ycc) rc = thumb__jpeg_enc_ycc_input(j->enc);
    if (rc == THUMB_OK) tresize_set_row_sink(j->rs, enc_row, j->enc);
    return rc;
}

/* Every row of the window: decoded, colour converted, resampled. Then the decoder is done with
 * the input: released before encoding. */
static int resize_rows(tjob *j) {
    tdec *d = j->d;
    for (uint32_t y = 0; y < d->h; y++) {
        const uint8_t *row;
        int rc = d->ops->next_row(d, &row);
        if (rc) return rc;
        if (j->col_decode) {
            thumb__colour_row(j->col, row, j->colrow, d->w);
            row = j->colrow;
        }
        if ((rc = tresize_push_row(j->rs, row))) return rc;
    }
    int rc = tresize_finish(j->rs);
    if (rc) return rc;
    d->ops->destroy(d);
    j->d = NULL;
    return THUMB_OK;
}

/* The colour conversion that runs on the resized image, in place. */
static void colour_resized(tjob *j) {
    uint8_t *base = j->direct ? j->canvas : j->img;
    size_t stride = j->direct ? j->canvas_stride : j->img_stride;
    for (uint32_t y = 0; y < j->sh; y++) thumb__colour_row(j->col, base + y * stride, base + y * stride, j->sw);
}

static int encode_turned(tjob *j) {
    const tplan *plan = &j->plan;
    int rc = thumb__jpeg_enc_start(&j->enc, j->ctx, j->opt, plan->canvas_w, plan->canvas_h, j->oc, j->sink, 0);
    if (rc == THUMB_OK && j->ycc) rc = thumb__jpeg_enc_ycc_input(j->enc);
    for (uint32_t y = 0; rc == THUMB_OK && y < plan->canvas_h; y += 16) {
        uint32_t n = plan->canvas_h - y < 16 ? plan->canvas_h - y : 16;
        thumb__orient_rows(plan->orientation, j->img, j->sw, j->sh, j->img_stride, j->ch, y, n, j->canvas,
                           j->canvas_stride);
        const uint8_t *rows[16];
        for (uint32_t i = 0; i < n; i++) rows[i] = j->canvas + i * j->canvas_stride;
        rc = thumb__jpeg_enc_rows(j->enc, rows, n);
    }
    if (rc == THUMB_OK) rc = thumb__jpeg_enc_finish(j->enc);
    return rc;
}

/* Background first, then the oriented image converted to the output layout. */
static int compose(tjob *j) {
    const thumb_options *opt = j->opt;
    const tplan *plan = &j->plan;
    int ch = j->ch, oc = j->oc;
    uint8_t bgpix[4];
    convert_row(opt->background, 4, bgpix, oc, 1, opt->background);
    if (oc == 1 || oc == 3) { /* opaque canvas: bg pre-flattened onto itself is just bg */
        for (int c = 0; c < oc; c++) bgpix[c] = oc == 1 ? opt->background[0] : opt->background[c];
    }
    if (j->padded) {
        for (uint32_t y = 0; y < plan->canvas_h; y++)
            for (uint32_t x = 0; x < plan->canvas_w; x++)
                memcpy(j->canvas + y * j->canvas_stride + (size_t)x * oc, bgpix, oc);
    }
    uint32_t ow, oh;
    thumb__orient_dims(plan->orientation, j->sw, j->sh, &ow, &oh);
    uint8_t *oriented = j->img;
    uint8_t *tmp = NULL;
    if (!j->padded && oc == ch) /* only a turn: straight into the canvas */
        thumb__orient_copy(plan->orientation, j->img, j->sw, j->sh, j->img_stride, ch, j->canvas, j->canvas_stride);
    else if (plan->orientation != 1) {
        tmp = malloc(j->img_size ? j->img_size : 1);
        if (!tmp) return thumb__fail(j->ctx, THUMB_ENOMEM, "out of memory orienting the output");
        thumb__orient_copy(plan->orientation, j->img, j->sw, j->sh, j->img_stride, ch, tmp, (size_t)ow * ch);
        oriented = tmp;
    }
    for (uint32_t y = 0; (j->padded || oc != ch) && y < oh; y++)
        convert_row(oriented + (size_t)y * ow * ch, ch,
                    j->canvas + (plan->pad_y + y) * j->canvas_stride + (size_t)plan->pad_x * oc, oc, ow, opt->background);
    free(tmp);
    return THUMB_OK;
}

static int encode_canvas(tjob *j) {
    const tplan *plan = &j->plan;
    int rc = j->direct ? THUMB_OK : compose(j);
    if (rc) return rc;
    if (j->opt->format == THUMB_FORMAT_PNG)
        return thumb__png_encode(j->ctx, j->opt, j->canvas, plan->canvas_w, plan->canvas_h, j->oc, j->canvas_stride,
                                 j->sink);
    return thumb__jpeg_encode(j->ctx, j->opt, j->canvas, plan->canvas_w, plan->canvas_h, j->oc, j->canvas_stride,
                              j->sink);
}

/* Decoded rows through the resampler, then by the chosen path into the encoder. */
static int run_rows(tjob *j) {
    int rc = choose_path(j);
    if (rc == THUMB_OK) rc = take_buffers(j);
    if (rc == THUMB_OK) rc = start_resize(j);
    if (rc == THUMB_OK) rc = resize_rows(j);
    if (rc) return rc;
    if (j->col && !j->col_decode) colour_resized(j); /* never on PATH_STREAMED */
    switch (j->path) {
    case PATH_STREAMED: return thumb__jpeg_enc_finish(j->enc);
    case PATH_TURNED: return encode_turned(j);
    default: return encode_canvas(j);
    }
}

/* One thumbnail: the options, the decoder (sniffed), the plan from its header, the decode
 * started as the plan wants it, then one of the two paths to the encoder. */
static int run(thumb_ctx *ctx, const thumb_options *opt_in, tsrc *src, tsink *sink) {
    thumb_options opt;
    int rc = thumb__options_copy(ctx, opt_in, &opt);
    if (rc == THUMB_OK) rc = check_input_bytes(ctx, &opt, src);
    if (rc) return rc;
    tjob j = {.ctx = ctx, .opt = &opt, .sink = sink};
    if ((rc = open_decoder(ctx, &opt, src, &j.d)) == THUMB_OK &&
        (rc = thumb__plan(ctx, &opt, &j.d->hdr, &j.plan)) == THUMB_OK && (rc = start_decoder(&j)) == THUMB_OK)
        rc = j.d->planar ? run_half_chroma(&j) : run_rows(&j);
    job_free(&j);
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

/* The temporary output beside the target: ".<name>.XXXXXX" created with O_EXCL and mode 0666, so the
 * kernel applies the umask (mkstemp's 0600 would need the umask, and reading it means setting it:
 * process-wide, racing with every other thread that creates a file). */
static int create_temp(char *tmp, size_t cap, const char *out_path, size_t dir_len) {
    static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char r[6];
        if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)tmp ^ (uint64_t)attempt << 40;
            for (size_t i = 0; i < sizeof r; i++) r[i] = (unsigned char)(x >> (8 * i));
        }
        char suffix[7];
        for (size_t i = 0; i < sizeof r; i++) suffix[i] = digits[r[i] % (sizeof digits - 1)];
        suffix[6] = 0;
        snprintf(tmp, cap, "%.*s.%s.%s", (int)dir_len, out_path, out_path + dir_len, suffix);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
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
    int out_fd = create_temp(tmp, n + 16, out_path, dir_len);
    if (out_fd < 0) {
        rc = thumb__fail(ctx, THUMB_EIO, "cannot create %s: %s", out_path, strerror(errno));
        free(tmp);
        if (in_fd > 0) close(in_fd);
        return rc;
    }

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
