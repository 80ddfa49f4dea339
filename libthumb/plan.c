/* The plan: every geometric decision, made once from the header, before any pixel is decoded.
 *
 * Rounding rules (documented in the README):
 *  - A derived dimension is round-half-up(other * aspect), at least 1; with one side given,
 *    that side is exact for every fit (the image is scaled to it, nothing is cropped or padded).
 *  - cover/outside scale by max(tw/W, th/H), contain/inside by min; the limiting axis gets the
 *    target exactly, the other round-half-up(len * scale), at least 1.
 *  - Crop (cover) offsets: west/north 0, east/south (resized - out), centre (resized - out + 1) / 2.
 *  - Padding (contain): west/north 0, east/south (box - img), centre (box - img) / 2.
 *  - Every output pixel i is centred on source coordinate (i + crop + 0.5) * src / resized - 0.5,
 *    computed with the exact scale, whatever DCT scale or area-average factor is used on the way. */
#include "internal.h"

#include <math.h>

#define THUMB_PLAN_MAX_BOX 256u

static uint32_t round_div(uint64_t num, uint64_t den) {
    uint64_t q = (num * 2 + den) / (den * 2);
    if (q < 1) q = 1;
    if (q > UINT32_MAX) q = UINT32_MAX;
    return (uint32_t)q;
}

/* Horizontal part of a gravity: -1 west, 0 centre, 1 east; vertical: -1 north, 1 south. */
static int grav_x(int pos) {
    switch (pos) {
    case THUMB_POS_NORTHEAST: case THUMB_POS_EAST: case THUMB_POS_SOUTHEAST: return 1;
    case THUMB_POS_NORTHWEST: case THUMB_POS_WEST: case THUMB_POS_SOUTHWEST: return -1;
    default: return 0;
    }
}
static int grav_y(int pos) {
    switch (pos) {
    case THUMB_POS_NORTH: case THUMB_POS_NORTHEAST: case THUMB_POS_NORTHWEST: return -1;
    case THUMB_POS_SOUTH: case THUMB_POS_SOUTHEAST: case THUMB_POS_SOUTHWEST: return 1;
    default: return 0;
    }
}
static uint32_t crop_offset(uint32_t big, uint32_t small, int g) {
    if (big <= small) return 0;
    uint32_t d = big - small;
    return g < 0 ? 0 : g > 0 ? d : (d + 1) / 2;
}
static uint32_t pad_offset(uint32_t box, uint32_t img, int g) {
    if (box <= img) return 0;
    uint32_t d = box - img;
    return g < 0 ? 0 : g > 0 ? d : d / 2;
}

static double kernel_radius(int kernel) {
    switch (kernel) {
    case THUMB_KERNEL_NEAREST: return 1.0;
    case THUMB_KERNEL_LINEAR: return 1.0;
    case THUMB_KERNEL_CUBIC: return 2.0;
    default: return 3.0;
    }
}

void thumb__plan_axis_map(const tplan_axis *a, int scale_num, uint32_t win_start, double *first, double *step) {
    double dec_exact = (double)a->src * scale_num / 8.0;
    double s = dec_exact / a->resized;     /* decoded pixels per resized pixel */
    *step = s / a->box;
    *first = ((a->crop + 0.5) * s - win_start) / a->box - 0.5;
}

/* Box factor and decode window for one axis, once the DCT scale is known. */
static void plan_axis_decode(tplan_axis *a, int scale_num, int kernel) {
    a->dec = (uint32_t)(((uint64_t)a->src * scale_num + 7) / 8);
    double dec_exact = (double)a->src * scale_num / 8.0;
    double ratio = dec_exact / a->resized;
    /* Area-average the integer part of the shrink but leave the kernel a factor of at least 2:
     * box first, then the kernel over [2, 4) - libvips' "gap" of 2. */
    uint32_t k = 1;
    if (kernel != THUMB_KERNEL_NEAREST && ratio >= 4.0) k = (uint32_t)floor(ratio / 2.0);
    if (k < 1) k = 1;
    /* The resampler's box sums stay exact up to 256x256 blocks; past that the kernel takes
     * the rest of the shrink (only for extreme reductions such as 16000 -> 16 pixels). */
    if (k > THUMB_PLAN_MAX_BOX) k = THUMB_PLAN_MAX_BOX;
    a->box = k;
    /* Decoded pixels the outputs reach: centres +- kernel support, plus a box block each side. */
    double step = ratio / k;
    double support = kernel_radius(kernel) * (step > 1.0 ? step : 1.0) * k + 2.0 * k + 2.0;
    double c0 = (a->crop + 0.5) * ratio - 0.5;
    double c1 = (a->crop + a->out - 0.5) * ratio - 0.5;
    double w0 = floor(c0 - support), w1 = ceil(c1 + support) + 1;
    a->win0 = w0 <= 0 ? 0 : (uint32_t)w0;
    a->win1 = w1 >= a->dec ? a->dec : (uint32_t)w1;
    if (a->win1 <= a->win0) { a->win0 = 0; a->win1 = a->dec; }
}

int thumb__plan(thumb_ctx *ctx, const thumb_options *opt, const tdec_header *hdr, tplan *p) {
    *p = (tplan){0};
    if (hdr->width == 0 || hdr->height == 0) return thumb__fail(ctx, THUMB_ECORRUPT, "image has zero width or height");
    int o = opt->auto_orient ? hdr->orientation : 1;
    if (o < 1 || o > 8) o = 1;
    int transposed = o >= 5;
    uint64_t W = transposed ? hdr->height : hdr->width;   /* oriented */
    uint64_t H = transposed ? hdr->width : hdr->height;

    uint64_t tw = opt->width, th = opt->height;
    int fit = opt->fit;
    if (!tw && !th) { tw = W; th = H; }
    else if (!tw) tw = round_div(W * th, H);
    else if (!th) th = round_div(H * tw, W);
    /* One side given: it is exact and the other follows the aspect ratio, whatever the fit
     * (fitting inside the rounded box could miss the given side by a pixel). */
    if (!opt->width != !opt->height) fit = THUMB_FIT_FILL;

    uint64_t rw, rh;          /* resized image */
    uint64_t cw, ch;          /* canvas */
    if (fit == THUMB_FIT_FILL) {
        rw = tw; rh = th;
        if (opt->without_enlargement) { if (rw > W) rw = W; if (rh > H) rh = H; }
        cw = rw; ch = rh;
    } else {
        /* Compare tw/W with th/H exactly: tw*H vs th*W. */
        int by_width;  /* the width is the limiting axis */
        int grow = (fit == THUMB_FIT_COVER || fit == THUMB_FIT_OUTSIDE);
        if (grow) by_width = tw * H >= th * W;
        else by_width = tw * H <= th * W;
        if (by_width) { rw = tw; rh = round_div(H * tw, W); }
        else { rh = th; rw = round_div(W * th, H); }
        int enlarged = rw > W || rh > H;
        if (opt->without_enlargement && enlarged) { rw = W; rh = H; }
        switch (fit) {
        case THUMB_FIT_COVER:
            cw = tw < rw ? tw : rw;
            ch = th < rh ? th : rh;
            break;
        case THUMB_FIT_CONTAIN:
            if (opt->without_enlargement && enlarged) { cw = rw; ch = rh; }
            else { cw = tw; ch = th; }
            break;
        default: /* inside, outside */
            cw = rw; ch = rh;
            break;
        }
    }
    if (cw > opt->max_output_width || ch > opt->max_output_height || cw * ch > opt->max_output_pixels)
        return thumb__fail(ctx, THUMB_ELIMIT_OUTPUT, "output %llux%llu is over the limit (%ux%u, %llu pixels)",
                           (unsigned long long)cw, (unsigned long long)ch, opt->max_output_width,
                           opt->max_output_height, (unsigned long long)opt->max_output_pixels);
    if (rw > UINT32_MAX / 2 || rh > UINT32_MAX / 2)
        return thumb__fail(ctx, THUMB_ELIMIT_OUTPUT, "resized size %llux%llu is too large",
                           (unsigned long long)rw, (unsigned long long)rh);

    uint32_t iw = (uint32_t)(cw < rw ? cw : rw), ih = (uint32_t)(ch < rh ? ch : rh);
    uint32_t crop_x = crop_offset((uint32_t)rw, iw, grav_x(opt->position));
    uint32_t crop_y = crop_offset((uint32_t)rh, ih, grav_y(opt->position));
    p->canvas_w = (uint32_t)cw;
    p->canvas_h = (uint32_t)ch;
    p->img_w = iw;
    p->img_h = ih;
    p->pad_x = pad_offset((uint32_t)cw, iw, grav_x(opt->position));
    p->pad_y = pad_offset((uint32_t)ch, ih, grav_y(opt->position));
    p->orientation = o;
    p->kernel = opt->kernel;

    /* Oriented X runs along stored y when transposed; the orientations that mirror an axis
     * turn a crop from one end into a crop from the other. */
    int rev_x = (o == 2 || o == 3 || o == 6 || o == 7);
    int rev_y = (o == 3 || o == 4 || o == 7 || o == 8);
    tplan_axis ox = {.resized = (uint32_t)rw, .out = iw};
    tplan_axis oy = {.resized = (uint32_t)rh, .out = ih};
    ox.crop = rev_x ? (uint32_t)rw - iw - crop_x : crop_x;
    oy.crop = rev_y ? (uint32_t)rh - ih - crop_y : crop_y;
    if (transposed) { p->x = oy; p->y = ox; }
    else { p->x = ox; p->y = oy; }
    p->x.src = hdr->width;
    p->y.src = hdr->height;

    /* DCT scale: the smallest of 1/8, 2/8, 4/8 that still decodes at least the resized size
     * (times 2 without fast_shrink_on_load: a DCT-scaled decode is sharper and more aliased than
     * Lanczos3, and leaving the kernel a factor of 2 hides that, at the cost of decode time). */
    int m = 8;
    if (hdr->format == THUMB_FORMAT_JPEG && !hdr->lossless) { /* lossless JPEG has no DCT to scale */
        static const int candidates[] = {1, 2, 4};
        uint64_t margin = opt->fast_shrink_on_load ? 8 : 16;
        for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
            int c = candidates[i];
            if ((uint64_t)p->x.src * c >= (uint64_t)p->x.resized * margin &&
                (uint64_t)p->y.src * c >= (uint64_t)p->y.resized * margin) { m = c; break; }
        }
    }
    p->scale_num = m;
    plan_axis_decode(&p->x, m, p->kernel);
    plan_axis_decode(&p->y, m, p->kernel);
    return THUMB_OK;
}
