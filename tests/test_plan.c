/* The geometry plan (thumb__plan), checked against a model of the rounding rules written here
 * from the comment at the top of plan.c, not from its code:
 *  - a derived target dimension is round-half-up(other * aspect), at least 1, and with one side
 *    given that side is exact for every fit;
 *  - cover/outside scale by max(tw/W, th/H), contain/inside by min; the limiting axis gets the
 *    target exactly, the other round-half-up(len * scale), at least 1; fill stretches;
 *  - without_enlargement: an enlarging resize keeps the input size (fill: per axis);
 *  - crop (cover): west/north 0, east/south resized - out, centre (resized - out + 1) / 2;
 *  - padding (contain): west/north 0, east/south box - img, centre (box - img) / 2;
 *  - the crop is planned in displayed space and mapped back to stored space through the EXIF
 *    orientation table (checked here by mapping the stored rectangle forward again);
 *  - JPEG DCT scale: the smallest of 1/8, 2/8, 4/8 whose exact decoded size is >= the resized
 *    size on both axes, else 8/8; PNG always 8/8;
 *  - the decode window holds every tap of every output pixel. */
#include "tt.h"
#include "internal.h"
#include "thumb.h"

#include <math.h>
#include <stdint.h>

static uint64_t rhu(uint64_t num, uint64_t den) { /* round-half-up(num / den), at least 1 */
    uint64_t q = num / den, r = num % den;
    if (2 * r >= den) q++;
    return q < 1 ? 1 : q;
}

typedef struct expect {
    int rc;
    uint64_t canvas_w, canvas_h, img_w, img_h, pad_x, pad_y;
    uint64_t rw, rh, crop_x, crop_y; /* displayed space */
} expect;

static int gx(int pos) {
    if (pos == THUMB_POS_EAST || pos == THUMB_POS_NORTHEAST || pos == THUMB_POS_SOUTHEAST) return 1;
    if (pos == THUMB_POS_WEST || pos == THUMB_POS_NORTHWEST || pos == THUMB_POS_SOUTHWEST) return -1;
    return 0;
}
static int gy(int pos) {
    if (pos == THUMB_POS_SOUTH || pos == THUMB_POS_SOUTHEAST || pos == THUMB_POS_SOUTHWEST) return 1;
    if (pos == THUMB_POS_NORTH || pos == THUMB_POS_NORTHEAST || pos == THUMB_POS_NORTHWEST) return -1;
    return 0;
}
static uint64_t crop_of(uint64_t resized, uint64_t out, int g) {
    uint64_t d = resized - out;
    return g < 0 ? 0 : g > 0 ? d : (d + 1) / 2;
}
static uint64_t pad_of(uint64_t box, uint64_t img, int g) {
    uint64_t d = box - img;
    return g < 0 ? 0 : g > 0 ? d : d / 2;
}

static expect model(const thumb_options *o, uint64_t W, uint64_t H) {
    expect e = {0};
    uint64_t tw = o->width, th = o->height;
    if (!tw && !th) { tw = W; th = H; }
    else if (!tw) tw = rhu(W * th, H);
    else if (!th) th = rhu(H * tw, W);
    /* one side given: it is exact, whatever the fit (sharp's meaning) - scale, no crop, no pad */
    int fit = (!o->width != !o->height) ? THUMB_FIT_FILL : o->fit;
    /* scale factors as exact fractions: sx = tw/W, sy = th/H */
    int sx_bigger = tw * H > th * W;  /* tw/W > th/H */
    uint64_t rw, rh;
    int kept = 0;  /* without_enlargement stopped an enlargement */
    if (fit == THUMB_FIT_FILL) {
        rw = tw; rh = th;
        if (o->without_enlargement) { if (rw > W) rw = W; if (rh > H) rh = H; }
    } else {
        int use_max = fit == THUMB_FIT_COVER || fit == THUMB_FIT_OUTSIDE;
        int width_limits = use_max ? sx_bigger : !sx_bigger;
        if (tw * H == th * W) { rw = tw; rh = th; }
        else if (width_limits) { rw = tw; rh = rhu(H * tw, W); }
        else { rh = th; rw = rhu(W * th, H); }
        if (o->without_enlargement && (rw > W || rh > H)) { rw = W; rh = H; kept = 1; }
    }
    e.rw = rw; e.rh = rh;
    uint64_t cw = rw, ch = rh;
    if (fit == THUMB_FIT_COVER) { cw = tw < rw ? tw : rw; ch = th < rh ? th : rh; }
    else if (fit == THUMB_FIT_CONTAIN) {
        /* pad to the box, unless without_enlargement kept a smaller input as it was */
        if (!kept) { cw = tw; ch = th; }
    }
    if (cw > o->max_output_width || ch > o->max_output_height || cw * ch > o->max_output_pixels ||
        rw > UINT32_MAX / 2 || rh > UINT32_MAX / 2) {
        e.rc = THUMB_ELIMIT_OUTPUT;
        return e;
    }
    e.canvas_w = cw; e.canvas_h = ch;
    e.img_w = cw < rw ? cw : rw;
    e.img_h = ch < rh ? ch : rh;
    e.crop_x = crop_of(rw, e.img_w, gx(o->position));
    e.crop_y = crop_of(rh, e.img_h, gy(o->position));
    e.pad_x = pad_of(cw, e.img_w, gx(o->position));
    e.pad_y = pad_of(ch, e.img_h, gy(o->position));
    return e;
}


static double radius_of(int kernel) {
    switch (kernel) {
    case THUMB_KERNEL_NEAREST: return 0.0;
    case THUMB_KERNEL_LINEAR: return 1.0;
    case THUMB_KERNEL_CUBIC: return 2.0;
    default: return 3.0;
    }
}

/* Every decoded pixel the resampler reads for this axis lies in [win0, win1), when the decoder
 * starts its window at ws (<= win0; JPEG may start at an iMCU boundary before win0).
 * Returns 0 when fine, else the first failing output index + 1. */
static uint64_t window_misses(const tplan_axis *a, int scale_num, int kernel, uint32_t ws) {
    double ratio = (double)a->src * scale_num / 8.0 / a->resized;  /* decoded px per resized px */
    double k = a->box;
    double step = ratio / k;
    double S = radius_of(kernel) * (step > 1.0 ? step : 1.0);
    for (uint64_t i = 0; i < a->out; i++) {
        double cdec = (a->crop + i + 0.5) * ratio - 0.5;
        double r = (cdec + 0.5 - ws) / k - 0.5;   /* in reduced (box) pixels from ws */
        double jlo, jhi;
        if (kernel == THUMB_KERNEL_NEAREST) jlo = jhi = floor(r + 0.5);
        else { jlo = ceil(r - S - 1e-9); jhi = floor(r + S + 1e-9); }
        double lo = ws + k * jlo, hi = ws + k * (jhi + 1);   /* decoded [lo, hi) */
        if (lo < 0) lo = 0;
        if (hi > a->dec) hi = a->dec;
        if (lo < a->win0 || hi > a->win1) return i + 1;
    }
    return 0;
}

static int same_rect_after_orientation(const tplan *p, int o, const expect *e) {
    /* stored resized image size */
    uint64_t srw = p->x.resized, srh = p->y.resized;
    uint64_t drw = o >= 5 ? srh : srw, drh = o >= 5 ? srw : srh;
    if (drw != e->rw || drh != e->rh) return 0;
    uint64_t X0, Y0, X1, Y1;
    tt_displayed_of(o, p->x.crop, p->y.crop, srw, srh, &X0, &Y0);
    tt_displayed_of(o, p->x.crop + p->x.out - 1, p->y.crop + p->y.out - 1, srw, srh, &X1, &Y1);
    uint64_t xmin = X0 < X1 ? X0 : X1, xmax = X0 < X1 ? X1 : X0;
    uint64_t ymin = Y0 < Y1 ? Y0 : Y1, ymax = Y0 < Y1 ? Y1 : Y0;
    return xmin == e->crop_x && xmax == e->crop_x + e->img_w - 1 && ymin == e->crop_y &&
           ymax == e->crop_y + e->img_h - 1;
}

static int plan_of(uint32_t w, uint32_t h, int orient, int format, const thumb_options *o, tplan *p) {
    tdec_header hdr = {0};
    hdr.format = format;
    hdr.width = w;
    hdr.height = h;
    hdr.channels = 3;
    hdr.orientation = orient;
    thumb_ctx *ctx = thumb_ctx_new();
    int rc = thumb__plan(ctx, o, &hdr, p);
    thumb_ctx_free(ctx);
    return rc;
}

static long n_plans = 0;

static void check_one(uint32_t W0, uint32_t H0, int orient, int format, const thumb_options *o) {
    tplan p;
    int rc = plan_of(W0, H0, orient, format, o, &p);
    n_plans++;
    int eff = o->auto_orient ? orient : 1;
    uint64_t W = eff >= 5 ? H0 : W0, H = eff >= 5 ? W0 : H0;
    expect e = model(o, W, H);
#define CTX "stored %ux%u o%d fmt%d target %ux%u fit %d pos %d we %d kernel %d", W0, H0, orient, format, \
            o->width, o->height, o->fit, o->position, o->without_enlargement, o->kernel
    TT_CHECK(rc == e.rc, CTX);
    if (rc != e.rc) { fprintf(stderr, "  rc %d, expected %d\n", rc, e.rc); return; }
    if (rc) return;
    int ok = p.canvas_w == e.canvas_w && p.canvas_h == e.canvas_h && p.img_w == e.img_w && p.img_h == e.img_h &&
             p.pad_x == e.pad_x && p.pad_y == e.pad_y;
    TT_CHECK(ok, CTX);
    if (!ok)
        fprintf(stderr, "  got canvas %ux%u img %ux%u pad %u,%u; expected canvas %llux%llu img %llux%llu pad %llu,%llu\n",
                p.canvas_w, p.canvas_h, p.img_w, p.img_h, p.pad_x, p.pad_y, (unsigned long long)e.canvas_w,
                (unsigned long long)e.canvas_h, (unsigned long long)e.img_w, (unsigned long long)e.img_h,
                (unsigned long long)e.pad_x, (unsigned long long)e.pad_y);
    TT_CHECK(p.orientation == eff, CTX);
    TT_CHECK(p.x.src == W0 && p.y.src == H0, CTX);
    /* stored out sizes follow the transposition */
    uint64_t sout_x = eff >= 5 ? e.img_h : e.img_w, sout_y = eff >= 5 ? e.img_w : e.img_h;
    TT_CHECK(p.x.out == sout_x && p.y.out == sout_y, CTX);
    int rect_ok = same_rect_after_orientation(&p, eff, &e);
    TT_CHECK(rect_ok, CTX);
    if (!rect_ok)
        fprintf(stderr, "  stored crop x %u+%u of %u, y %u+%u of %u; displayed crop expected %llu,%llu of %llux%llu\n",
                p.x.crop, p.x.out, p.x.resized, p.y.crop, p.y.out, p.y.resized, (unsigned long long)e.crop_x,
                (unsigned long long)e.crop_y, (unsigned long long)e.rw, (unsigned long long)e.rh);
    TT_CHECK(p.x.crop + p.x.out <= p.x.resized && p.y.crop + p.y.out <= p.y.resized, CTX);

    /* DCT scale */
    int want = 8;
    if (format == THUMB_FORMAT_JPEG) {
        static const int cand[] = {1, 2, 4};
        for (int i = 0; i < 3; i++)
            if ((uint64_t)W0 * cand[i] >= (uint64_t)p.x.resized * 8 && (uint64_t)H0 * cand[i] >= (uint64_t)p.y.resized * 8) {
                want = cand[i];
                break;
            }
    }
    TT_CHECK(p.scale_num == want, CTX);
    if (p.scale_num != want) fprintf(stderr, "  scale %d, expected %d\n", p.scale_num, want);
    TT_CHECK(p.x.dec == (uint32_t)(((uint64_t)W0 * p.scale_num + 7) / 8) &&
             p.y.dec == (uint32_t)(((uint64_t)H0 * p.scale_num + 7) / 8), CTX);
    /* the window: inside the decoded image, non-empty, holding every tap */
    TT_CHECK(p.x.win0 < p.x.win1 && p.x.win1 <= p.x.dec && p.y.win0 < p.y.win1 && p.y.win1 <= p.y.dec, CTX);
    TT_CHECK(p.x.box >= 1 && p.y.box >= 1, CTX);
    uint64_t mx = window_misses(&p.x, p.scale_num, p.kernel, p.x.win0);
    uint64_t my = window_misses(&p.y, p.scale_num, p.kernel, p.y.win0);
    TT_CHECK(mx == 0 && my == 0, CTX);
    if (mx || my)
        fprintf(stderr, "  window x [%u,%u) of %u box %u misses output %llu; y [%u,%u) of %u box %u misses %llu\n",
                p.x.win0, p.x.win1, p.x.dec, p.x.box, (unsigned long long)mx, p.y.win0, p.y.win1, p.y.dec, p.y.box,
                (unsigned long long)my);
    if (format == THUMB_FORMAT_JPEG) {
        /* the JPEG decoder may start columns at an iMCU boundary (at most 16 decoded pixels per iMCU) */
        uint32_t ws = p.x.win0 - p.x.win0 % 16;
        uint64_t m2 = window_misses(&p.x, p.scale_num, p.kernel, ws);
        TT_CHECK(m2 == 0, CTX);
        if (m2) fprintf(stderr, "  window x [%u,%u) box %u started at %u misses output %llu\n", p.x.win0, p.x.win1,
                        p.x.box, ws, (unsigned long long)m2);
    }
#undef CTX
}

/* Hand-worked cases: literal numbers, so the model above is itself checked. */
static int literal_cases(void) {
    thumb_options o;
    tplan p;

    /* The avatar: 2725x2225 -> 512x512 cover. Scale by max(512/2725, 512/2225) = 512/2225:
     * height 512, width round(2725*512/2225) = round(627.05) = 627, centre crop (627-512+1)/2 = 58.
     * DCT: 1/8 gives 340.6 < 627; 2/8 gives 681.25 >= 627 and 556.25 >= 512, so 2/8. */
    thumb_options_init(&o);
    o.width = 512; o.height = 512;
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_JPEG, &o, &p) == 0, "avatar plan");
    TT_CHECK(p.canvas_w == 512 && p.canvas_h == 512, "avatar canvas %ux%u", p.canvas_w, p.canvas_h);
    TT_CHECK(p.x.resized == 627 && p.y.resized == 512, "avatar resized %ux%u", p.x.resized, p.y.resized);
    TT_CHECK(p.x.crop == 58 && p.y.crop == 0, "avatar crop %u,%u", p.x.crop, p.y.crop);
    TT_CHECK(p.scale_num == 2, "avatar scale %d", p.scale_num);
    TT_CHECK(p.x.dec == 682 && p.y.dec == 557, "avatar decoded %ux%u", p.x.dec, p.y.dec);
    /* same as PNG: no DCT scaling */
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_PNG, &o, &p) == 0, "avatar png plan");
    TT_CHECK(p.scale_num == 8 && p.x.dec == 2725, "png scale %d", p.scale_num);

    /* contain 512x512: min scale 512/2725: 512 x round(2225*512/2725 = 418.06) = 418, pad (512-418)/2 = 47 */
    o.fit = THUMB_FIT_CONTAIN;
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_JPEG, &o, &p) == 0, "contain plan");
    TT_CHECK(p.canvas_w == 512 && p.canvas_h == 512 && p.img_w == 512 && p.img_h == 418 && p.pad_x == 0 &&
             p.pad_y == 47, "contain canvas %ux%u img %ux%u pad %u,%u", p.canvas_w, p.canvas_h, p.img_w, p.img_h,
             p.pad_x, p.pad_y);
    o.position = THUMB_POS_SOUTH;
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_JPEG, &o, &p) == 0, "contain south plan");
    TT_CHECK(p.pad_y == 94, "contain south pad %u", p.pad_y);
    /* inside: 512x418; outside: 627x512 */
    o.position = THUMB_POS_CENTRE;
    o.fit = THUMB_FIT_INSIDE;
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_JPEG, &o, &p) == 0, "inside plan");
    TT_CHECK(p.canvas_w == 512 && p.canvas_h == 418, "inside %ux%u", p.canvas_w, p.canvas_h);
    o.fit = THUMB_FIT_OUTSIDE;
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_JPEG, &o, &p) == 0, "outside plan");
    TT_CHECK(p.canvas_w == 627 && p.canvas_h == 512, "outside %ux%u", p.canvas_w, p.canvas_h);
    o.fit = THUMB_FIT_FILL;
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_JPEG, &o, &p) == 0, "fill plan");
    TT_CHECK(p.canvas_w == 512 && p.canvas_h == 512 && p.x.resized == 512 && p.y.resized == 512 && p.x.crop == 0,
             "fill %ux%u", p.canvas_w, p.canvas_h);
    /* fill 512x512 from 2725x2225 JPEG: 1/8 gives 340 < 512, 2/8 gives 681.25, 556.25 >= 512 */
    TT_CHECK(p.scale_num == 2, "fill scale %d", p.scale_num);

    /* width only: 300 x round(2225*300/2725 = 244.95) = 245 */
    thumb_options_init(&o);
    o.width = 300;
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_JPEG, &o, &p) == 0, "width-only plan");
    TT_CHECK(p.canvas_w == 300 && p.canvas_h == 245, "width-only %ux%u", p.canvas_w, p.canvas_h);
    /* height only: round(2725*100/2225 = 122.47) = 122 x 100; 1/8 gives 340 >= 122, 278 >= 100 */
    o.width = 0; o.height = 100;
    TT_REQUIRE(plan_of(2725, 2225, 1, THUMB_FORMAT_JPEG, &o, &p) == 0, "height-only plan");
    TT_CHECK(p.canvas_w == 122 && p.canvas_h == 100 && p.scale_num == 1, "height-only %ux%u scale %d", p.canvas_w,
             p.canvas_h, p.scale_num);
    /* a half exactly rounds up: 3x2 -> width 3 gives height 2; 2x3 -> height 1 gives width round(0.667)=1;
     * 4x3 -> width 2 gives height round(1.5) = 2 */
    o.width = 2; o.height = 0;
    TT_REQUIRE(plan_of(4, 3, 1, THUMB_FORMAT_PNG, &o, &p) == 0, "4x3 plan");
    TT_CHECK(p.canvas_w == 2 && p.canvas_h == 2, "4x3 -> w2: %ux%u", p.canvas_w, p.canvas_h);
    /* a derived dimension is at least 1: 5000x1 -> width 100 gives height round(0.02) -> 1 */
    o.width = 100;
    TT_REQUIRE(plan_of(5000, 1, 1, THUMB_FORMAT_PNG, &o, &p) == 0, "5000x1 plan");
    TT_CHECK(p.canvas_w == 100 && p.canvas_h == 1, "5000x1 -> w100: %ux%u", p.canvas_w, p.canvas_h);

    /* 1x1 -> 300x200 cover: enlarged to 300x300, centre crop (300-200+1)/2 = 50 rows */
    thumb_options_init(&o);
    o.width = 300; o.height = 200;
    TT_REQUIRE(plan_of(1, 1, 1, THUMB_FORMAT_PNG, &o, &p) == 0, "1x1 plan");
    TT_CHECK(p.canvas_w == 300 && p.canvas_h == 200 && p.y.resized == 300 && p.y.crop == 50, "1x1 cover %ux%u crop %u",
             p.canvas_w, p.canvas_h, p.y.crop);
    o.without_enlargement = 1;
    TT_REQUIRE(plan_of(1, 1, 1, THUMB_FORMAT_PNG, &o, &p) == 0, "1x1 we plan");
    TT_CHECK(p.canvas_w == 1 && p.canvas_h == 1, "1x1 cover without enlargement %ux%u", p.canvas_w, p.canvas_h);

    /* Orientation 6 (stored row 0 is displayed as the right column, stored column 0 as the top row):
     * a stored 400x300 image is displayed 300x400. Cover 300x300 north keeps the displayed top,
     * which is stored columns 0..299: x.crop 0, x.out 300, y whole. South keeps stored columns 100..399. */
    thumb_options_init(&o);
    o.width = 300; o.height = 300; o.position = THUMB_POS_NORTH;
    TT_REQUIRE(plan_of(400, 300, 6, THUMB_FORMAT_PNG, &o, &p) == 0, "o6 north plan");
    TT_CHECK(p.x.resized == 400 && p.x.crop == 0 && p.x.out == 300 && p.y.crop == 0 && p.y.out == 300,
             "o6 north: x %u+%u of %u, y %u+%u", p.x.crop, p.x.out, p.x.resized, p.y.crop, p.y.out);
    o.position = THUMB_POS_SOUTH;
    TT_REQUIRE(plan_of(400, 300, 6, THUMB_FORMAT_PNG, &o, &p) == 0, "o6 south plan");
    TT_CHECK(p.x.crop == 100 && p.x.out == 300, "o6 south: x %u+%u", p.x.crop, p.x.out);
    /* Orientation 8 (stored column 0 is the displayed bottom): north keeps stored columns 100..399 */
    o.position = THUMB_POS_NORTH;
    TT_REQUIRE(plan_of(400, 300, 8, THUMB_FORMAT_PNG, &o, &p) == 0, "o8 north plan");
    TT_CHECK(p.x.crop == 100 && p.x.out == 300, "o8 north: x %u+%u", p.x.crop, p.x.out);
    /* Orientation 3 (rotated 180): displayed 400x300 -> 300x300 west keeps stored columns 100..399 */
    o.position = THUMB_POS_WEST;
    TT_REQUIRE(plan_of(400, 300, 3, THUMB_FORMAT_PNG, &o, &p) == 0, "o3 west plan");
    TT_CHECK(p.x.crop == 100 && p.x.out == 300, "o3 west: x %u+%u", p.x.crop, p.x.out);
    /* auto_orient off: orientation 6 is ignored */
    o.auto_orient = 0;
    TT_REQUIRE(plan_of(400, 300, 6, THUMB_FORMAT_PNG, &o, &p) == 0, "no-orient plan");
    TT_CHECK(p.orientation == 1 && p.x.crop == 0 && p.x.out == 300, "no-orient: o%d x %u+%u", p.orientation, p.x.crop,
             p.x.out);

    /* Output limits */
    thumb_options_init(&o);
    o.width = 5000; o.height = 5000;   /* 25 M pixels > 4096*4096 */
    TT_CHECK(plan_of(100, 100, 1, THUMB_FORMAT_PNG, &o, &p) == THUMB_ELIMIT_OUTPUT, "5000x5000 output");
    o.max_output_pixels = 5000ull * 5000ull;
    TT_CHECK(plan_of(100, 100, 1, THUMB_FORMAT_PNG, &o, &p) == THUMB_OK, "5000x5000 output with raised limit");
    /* outside 100x100 of a 1x5000 image: 100 x 500000, over max_output_height */
    thumb_options_init(&o);
    o.width = 100; o.height = 100; o.fit = THUMB_FIT_OUTSIDE;
    TT_CHECK(plan_of(1, 5000, 1, THUMB_FORMAT_PNG, &o, &p) == THUMB_ELIMIT_OUTPUT, "outside 1x5000");
    /* height derived from width: 1x5000 at width 10 is 10 x 50000 */
    thumb_options_init(&o);
    o.width = 10;
    TT_CHECK(plan_of(1, 5000, 1, THUMB_FORMAT_PNG, &o, &p) == THUMB_ELIMIT_OUTPUT, "width-only 1x5000");
    o.max_output_width = 100; o.width = 101; o.height = 1;
    TT_CHECK(plan_of(200, 200, 1, THUMB_FORMAT_PNG, &o, &p) == THUMB_ELIMIT_OUTPUT, "max_output_width");
    o.width = 100;
    TT_CHECK(plan_of(200, 200, 1, THUMB_FORMAT_PNG, &o, &p) == THUMB_OK, "at max_output_width");

    /* zero-sized header is corrupt, not a crash */
    thumb_options_init(&o);
    o.width = 10; o.height = 10;
    TT_CHECK(plan_of(0, 10, 1, THUMB_FORMAT_PNG, &o, &p) == THUMB_ECORRUPT, "zero width");
    return 0;
}

int main(void) {
    if (literal_cases()) return 1;

    static const uint32_t shapes[][2] = {
        {1, 1}, {1, 5000}, {5000, 1}, {2725, 2225}, {601, 401}, {3, 7}, {640, 427}, {4000, 3000}, {17, 1000},
        {450, 600}, {12000, 9000},
    };
    static const uint32_t targets[][2] = {
        {64, 64}, {300, 200}, {200, 300}, {512, 512}, {1, 1}, {0, 100}, {100, 0}, {7, 3}, {801, 599}, {0, 0},
        {4000, 10},
    };
    static const int kernels[] = {THUMB_KERNEL_LANCZOS3, THUMB_KERNEL_NEAREST, THUMB_KERNEL_LINEAR, THUMB_KERNEL_CUBIC};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (size_t t = 0; t < sizeof targets / sizeof *targets; t++)
            for (int fit = 0; fit <= THUMB_FIT_OUTSIDE; fit++)
                for (int pos = 0; pos <= THUMB_POS_NORTHWEST; pos++)
                    for (int we = 0; we <= 1; we++)
                        for (int orient = 1; orient <= 8; orient++)
                            for (int fmt = THUMB_FORMAT_JPEG; fmt <= THUMB_FORMAT_PNG; fmt++) {
                                thumb_options o;
                                thumb_options_init(&o);
                                o.width = targets[t][0];
                                o.height = targets[t][1];
                                o.fit = fit;
                                o.position = pos;
                                o.without_enlargement = we;
                                o.kernel = kernels[(s + t + pos) % 4];
                                check_one(shapes[s][0], shapes[s][1], orient, fmt, &o);
                                if (tt_failures > 50) {
                                    fprintf(stderr, "too many failures, stopping\n");
                                    return tt_report(__FILE__);
                                }
                            }
    fprintf(stderr, "%ld plans checked\n", n_plans);
    return tt_report(__FILE__);
}
