/* Streaming resampler: area-average prefilter by integer factors, then a separable kernel
 * (horizontal pass per reduced row, vertical pass over a ring of horizontally-resampled rows),
 * in 7-bit fixed point with premultiplied alpha. Floats are used only to build weight tables;
 * the per-pixel work is integer so every kernel set gives the same bytes (simd/). */
#include "internal.h"
#include "simd/resample_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tr_axis_w {
    int32_t *start;    /* first reduced pixel of each output's taps */
    uint16_t *n;       /* taps per output */
    int16_t *w;        /* out_len rows of wstride weights, zero past n */
    size_t wstride;    /* multiple of 16 */
    uint32_t maxn;
    int16_t *vw;       /* hpass_u8's vector layout (tr_htab), 3-channel fast path only */
    uint32_t groups;
    bool v1done;       /* the one-channel layout (tr_htab) was tried: built, or does not fit */
    int32_t *v1base;
    uint8_t *v1ctl;
    int16_t *v1w;
    uint32_t v1pairs;
} tr_axis_w;

/* A weight table kept in the context, with what it was built from. */
#define TR_WCACHE_SLOTS 6 /* a half-chroma job uses 6: luma, Cb and Cr, each way */
typedef struct tr_wslot {
    bool used;
    int kernel;
    uint32_t len, out;
    double first, step;
    tr_axis_w a;
} tr_wslot;
struct tr_wcache {
    tr_wslot slot[TR_WCACHE_SLOTS];
    unsigned next;     /* slot to replace next */
};

struct tresize {
    thumb_ctx *ctx;
    int kernel;
    tresize_axis ax, ay; /* as built, for the cache key (ax.in_len / ay.in_len: reduced lengths) */
    const tr_kernels *k;
    int ch, wc;
    int rc;            /* samples per pixel in the ring: ch on the fast path, else wc */
    bool alpha;
    bool fast;         /* no box, no alpha, 1 or 3 channels: u8 rows straight into hpass_u8 */
    tr_htab htab;
    uint8_t *in8;      /* padded copy of the input row for hpass_u8 */
    uint32_t in_w, in_h, kx, ky, rw, rh, out_w, out_h;
    tr_axis_w xw, yw;
    uint32_t *yemit;   /* output j can be written once reduced row yemit[j] is in the ring */
    uint32_t *ysmin;   /* min start of outputs >= j: reduced rows below it are never needed */
    int16_t *cvt;      /* working copy of the input row */
    uint32_t *acc;     /* box sums */
    int16_t *red;      /* box-reduced row */
    int16_t *ring;     /* R horizontally-resampled rows */
    size_t ring_stride;
    uint32_t R;
    const int16_t **rows;
    uint8_t *tmp8;
    int16_t *tmp16;
    uint8_t *out;
    size_t out_stride;
    uint32_t in_y, next_out;
    int error;
    int (*row_fn)(void *user, const uint8_t *row, uint32_t y);
    void *row_user;
};

/* ---------------------------------------------------------------- weights */

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static double kernel_radius(int kernel)
{
    switch (kernel) {
    case THUMB_KERNEL_LINEAR: return 1.0;
    case THUMB_KERNEL_CUBIC: return 2.0;
    default: return 3.0;
    }
}

static double kernel_eval(int kernel, double x)
{
    x = fabs(x);
    switch (kernel) {
    case THUMB_KERNEL_LINEAR:
        return x < 1.0 ? 1.0 - x : 0.0;
    case THUMB_KERNEL_CUBIC: /* Catmull-Rom, B = 0, C = 0.5 */
        if (x < 1.0) return (1.5 * x - 2.5) * x * x + 1.0;
        if (x < 2.0) return ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0;
        return 0.0;
    default: /* Lanczos3 */
        if (x < 1e-12) return 1.0;
        if (x >= 3.0) return 0.0;
        {
            /* sin(3a) = s (3 - 4 s^2), s = sin(a): one sin per tap instead of two */
            const double sa = sin(M_PI * x / 3.0), s2 = sa * sa;
            return 3.0 * s2 * (3.0 - 4.0 * s2) / (M_PI * M_PI * x * x);
        }
    }
}

/* The one-channel layout's arrays (build_v1) */
static void v1_free(tr_axis_w *a)
{
    free(a->v1base);
    free(a->v1ctl);
    free(a->v1w);
    a->v1base = NULL;
    a->v1ctl = NULL;
    a->v1w = NULL;
    a->v1pairs = 0;
}

/* Leaves the axis empty: axis_build frees on its own failure paths, and tresize_free then
 * frees the same axis again. */
static void axis_free(tr_axis_w *a)
{
    free(a->start);
    free(a->n);
    free(a->w);
    free(a->vw);
    v1_free(a);
    a->start = NULL;
    a->n = NULL;
    a->w = NULL;
    a->vw = NULL;
    a->v1done = false;
}

/* Taps of output i: the kernel (stretched by step when shrinking) centred on c = first + i*step,
 * folded onto the edge pixels, normalised, then rounded to 14 bits summing to exactly 1<<14. */
static int axis_build(thumb_ctx *ctx, tr_axis_w *a, int kernel, uint32_t len, const tresize_axis *ax)
{
    const uint32_t out = ax->out_len;
    const double step = ax->step, first = ax->first;
    const double scale = step > 1.0 ? step : 1.0;
    const double support = kernel == THUMB_KERNEL_NEAREST ? 0.0 : kernel_radius(kernel) * scale;
    double *tmp = NULL;
    memset(a, 0, sizeof *a);

    if (!isfinite(first) || !isfinite(step) || step <= 0.0 || support > 4.0 * len + 64.0)
        return thumb__fail(ctx, THUMB_EINVAL, "resample: bad axis mapping (first %g, step %g)", first, step);
    const double last = first + (double)(out - 1) * step;
    if (fabs(first) > 1e9 || fabs(last) > 1e9)
        return thumb__fail(ctx, THUMB_EINVAL, "resample: axis mapping out of range");

    /* Widest window before folding bounds maxn; ntaps must also fit uint16. */
    uint64_t span = kernel == THUMB_KERNEL_NEAREST ? 1 : (uint64_t)(2.0 * support) + 2;
    uint64_t maxn = span < len ? span : len;
    if (maxn > 65535)
        return thumb__fail(ctx, THUMB_EINVAL, "resample: %llu taps per pixel: shrink with a box prefilter first",
                           (unsigned long long)maxn);
    a->wstride = ((size_t)maxn + 15) & ~(size_t)15;
    size_t wn;
    if (!thumb__mul_size(a->wstride, out, &wn))
        return thumb__fail(ctx, THUMB_ENOMEM, "resample: weight table too large");
    a->start = calloc((size_t)out + 4, sizeof *a->start); /* 4 spare: the vector kernels' padding */
    a->n = malloc(out * sizeof *a->n);
    a->w = calloc(wn, sizeof *a->w);
    tmp = malloc((size_t)maxn * sizeof *tmp);
    if (!a->start || !a->n || !a->w || !tmp) {
        free(tmp);
        axis_free(a);
        return thumb__fail(ctx, THUMB_ENOMEM, "resample: out of memory for weights");
    }

    for (uint32_t i = 0; i < out; i++) {
        const double c = first + (double)i * step;
        int16_t *wi = a->w + (size_t)i * a->wstride;
        if (kernel == THUMB_KERNEL_NEAREST) {
            double j = floor(c + 0.5);
            a->start[i] = j < 0 ? 0 : j > len - 1 ? (int32_t)(len - 1) : (int32_t)j;
            a->n[i] = 1;
            wi[0] = 1 << TR_WBITS;
            a->maxn = 1;
            continue;
        }
        const int64_t lo = (int64_t)ceil(c - support), hi = (int64_t)floor(c + support);
        const int64_t s = lo < 0 ? 0 : lo > (int64_t)len - 1 ? (int64_t)len - 1 : lo;
        const int64_t e = hi < 0 ? 0 : hi > (int64_t)len - 1 ? (int64_t)len - 1 : hi;
        const size_t n = (size_t)(e - s + 1);
        for (size_t t = 0; t < n; t++)
            tmp[t] = 0.0;
        double sum = 0.0;
        for (int64_t j = lo; j <= hi; j++) {
            double v = kernel_eval(kernel, ((double)j - c) / scale);
            int64_t f = j < s ? s : j > e ? e : j;
            tmp[f - s] += v;
            sum += v;
        }
        if (!(sum > 1e-9)) { /* cannot happen for these kernels; keep the table valid anyway */
            for (size_t t = 0; t < n; t++)
                tmp[t] = 0.0;
            double j = floor(c + 0.5);
            int64_t f = j < (double)s ? s : j > (double)e ? e : (int64_t)j;
            tmp[f - s] = 1.0;
            sum = 1.0;
        }
        int32_t isum = 0;
        size_t big = 0;
        for (size_t t = 0; t < n; t++) {
            double v = tmp[t] / sum;
            long q = lround(v * (1 << TR_WBITS));
            if (q < -32768 || q > 32767) {
                free(tmp);
                axis_free(a);
                return thumb__fail(ctx, THUMB_EINVAL, "resample: weight out of range");
            }
            wi[t] = (int16_t)q;
            isum += (int32_t)q;
            if (fabs(tmp[t]) > fabs(tmp[big]))
                big = t;
        }
        int32_t fixed = wi[big] + ((1 << TR_WBITS) - isum);
        if (fixed < -32768 || fixed > 32767) {
            free(tmp);
            axis_free(a);
            return thumb__fail(ctx, THUMB_EINVAL, "resample: weight out of range");
        }
        wi[big] = (int16_t)fixed;
        /* Drop zero taps at both ends (common at the kernel's edge); the middle stays. */
        size_t b0 = 0, b1 = n;
        while (b0 < b1 && wi[b0] == 0) b0++;
        while (b1 > b0 && wi[b1 - 1] == 0) b1--;
        if (b0 > 0)
            memmove(wi, wi + b0, (b1 - b0) * sizeof *wi);
        for (size_t t = b1 - b0; t < n; t++)
            wi[t] = 0;
        a->start[i] = (int32_t)(s + (int64_t)b0);
        a->n[i] = (uint16_t)(b1 - b0);
        if (a->n[i] > a->maxn)
            a->maxn = a->n[i];
    }
    free(tmp);
    return THUMB_OK;
}

/* hpass_u8's vector layout (see tr_htab): pixel pairs, groups of 4 taps, tap pairs per lane. */
static int build_vw(thumb_ctx *ctx, tr_axis_w *a, uint32_t out_w)
{
    const size_t G = (a->maxn + 3) / 4, Q = ((size_t)out_w + 3) / 4 * 4;
    size_t n;
    a->groups = (uint32_t)G;
    if (!thumb__mul_size(Q * 32, G, &n) || !(a->vw = calloc(n, sizeof *a->vw)))
        return thumb__fail(ctx, THUMB_ENOMEM, "resample: out of memory for weights");
    for (size_t i = 0; i < out_w; i++) {
        const int16_t *wi = a->w + i * a->wstride;
        for (size_t t = 0; t < a->n[i]; t++) {
            size_t g = t / 4, h = (t % 4) / 2, j = t % 2;
            int16_t *v = a->vw + ((((i / 2) * G + g) * 2 + h) * 2 + i % 2) * 8 + j;
            for (int k = 0; k < 4; k++)
                v[2 * k] = wi[t];
        }
    }
    return THUMB_OK;
}

/* hpass_u8's one-channel layout (see tr_htab). Leaves v1pairs 0 when some output's taps do
 * not fit the 16 bytes its lane loads (big shrinks): the kernels then take the general loop. */
static int build_v1(thumb_ctx *ctx, tr_axis_w *a, uint32_t out_w)
{
    a->v1done = true;
    const uint32_t P = (a->maxn + 1) / 2, B = (out_w + 7) / 8;
    if (out_w == 0 || P == 0 || P > 8)
        return THUMB_OK;
    for (uint32_t i = 0; i < out_w; i++) {
        uint32_t lane0 = i / 4 * 4;
        int64_t d = (int64_t)a->start[i] - a->start[lane0];
        if (d < 0 || d + a->n[i] > 16)
            return THUMB_OK;
    }
    size_t nb = (size_t)B * P;
    a->v1base = calloc((size_t)B * 2, sizeof *a->v1base);
    a->v1ctl = calloc(nb, 32);
    a->v1w = calloc(nb * 16, sizeof *a->v1w);
    if (!a->v1base || !a->v1ctl || !a->v1w) {
        v1_free(a);
        return thumb__fail(ctx, THUMB_ENOMEM, "resample: out of memory for weights");
    }
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t l = 0; l < 2; l++) {
            uint32_t i0 = 8 * b + 4 * l;
            int32_t base = a->start[i0 < out_w ? i0 : out_w - 1];
            a->v1base[2 * b + l] = base;
            for (uint32_t j = 0; j < 4; j++) {
                uint32_t i = i0 + j;
                const int16_t *wi = a->w + (size_t)(i < out_w ? i : 0) * a->wstride;
                uint32_t n = i < out_w ? a->n[i] : 0, d = i < out_w ? (uint32_t)(a->start[i] - base) : 0;
                for (uint32_t p = 0; p < P; p++) {
                    uint8_t *c = a->v1ctl + ((size_t)b * P + p) * 32 + l * 16 + j * 4;
                    int16_t *w = a->v1w + ((size_t)b * P + p) * 16 + l * 8 + j * 2;
                    for (uint32_t k = 0; k < 2; k++) {
                        uint32_t t = 2 * p + k;
                        c[2 * k] = (uint8_t)(t < n ? d + t : 0);
                        c[2 * k + 1] = 0x80; /* high byte 0: the sample as int16 */
                        w[k] = t < n ? wi[t] : 0;
                    }
                }
            }
        }
    a->v1pairs = P;
    return THUMB_OK;
}

/* ---------------------------------------------------------------- setup */

/* ---------------------------------------------------------------- weight cache */

static bool wslot_match(const tr_wslot *s, int kernel, uint32_t len, const tresize_axis *ax)
{
    return s->used && s->kernel == kernel && s->len == len && s->out == ax->out_len &&
           memcmp(&s->first, &ax->first, sizeof s->first) == 0 && memcmp(&s->step, &ax->step, sizeof s->step) == 0;
}

/* Take a cached table for this axis (the slot gives it up), or build one. */
static int axis_get(thumb_ctx *ctx, tr_axis_w *a, int kernel, uint32_t len, const tresize_axis *ax)
{
    struct tr_wcache *c = ctx ? ctx->weights : NULL;
    for (int i = 0; c && i < TR_WCACHE_SLOTS; i++)
        if (wslot_match(&c->slot[i], kernel, len, ax)) {
            *a = c->slot[i].a;
            memset(&c->slot[i], 0, sizeof c->slot[i]);
            return THUMB_OK;
        }
    return axis_build(ctx, a, kernel, len, ax);
}

/* Give a table back to the context's cache (or free it when the context does not cache). */
static void axis_put(thumb_ctx *ctx, tr_axis_w *a, int kernel, uint32_t len, const tresize_axis *ax)
{
    if (!a->start || !ctx || !ctx->cache_weights || (!ctx->weights && !(ctx->weights = calloc(1, sizeof *ctx->weights)))) {
        axis_free(a);
        return;
    }
    struct tr_wcache *c = ctx->weights;
    tr_wslot *s = &c->slot[c->next];
    c->next = (c->next + 1) % TR_WCACHE_SLOTS;
    axis_free(&s->a);
    *s = (tr_wslot){.used = true, .kernel = kernel, .len = len, .out = ax->out_len, .first = ax->first,
                    .step = ax->step, .a = *a};
    memset(a, 0, sizeof *a);
}

void thumb__resample_cache_clear(thumb_ctx *ctx)
{
    if (!ctx || !ctx->weights)
        return;
    for (int i = 0; i < TR_WCACHE_SLOTS; i++)
        axis_free(&ctx->weights->slot[i].a);
    free(ctx->weights);
    ctx->weights = NULL;
}

void tresize_free(tresize *r)
{
    if (!r)
        return;
    if (r->error == THUMB_OK && r->xw.start && r->yw.start) {
        axis_put(r->ctx, &r->yw, r->kernel, r->rh, &r->ay);
        axis_put(r->ctx, &r->xw, r->kernel, r->rw, &r->ax);
    }
    axis_free(&r->xw);
    axis_free(&r->yw);
    free(r->yemit);
    free(r->ysmin);
    free(r->cvt);
    free(r->acc);
    free(r->red);
    free(r->ring);
    free(r->rows);
    free(r->tmp8);
    free(r->tmp16);
    free(r->in8);
    free(r);
}

const tr_kernels *thumb__resample_kernels(unsigned features)
{
#ifdef TR_HAVE_AVX2
    if ((features & THUMB_CPU_AVX2) && (thumb__cpu_features() & THUMB_CPU_AVX2))
        return &thumb__resample_avx2;
#else
    (void)features;
#endif
    return &thumb__resample_scalar;
}

static int check_axis(thumb_ctx *ctx, const tresize_axis *a, const char *name)
{
    if (!a || a->in_len == 0 || a->out_len == 0 || a->box == 0)
        return thumb__fail(ctx, THUMB_EINVAL, "resample: empty %s axis", name);
    if (a->in_len > (1u << 28) || a->out_len > (1u << 28))
        return thumb__fail(ctx, THUMB_EINVAL, "resample: %s axis too long", name);
    return THUMB_OK;
}

/* calloc of n elements of size sz plus pad elements, overflow-checked. */
static void *alloc_padded(size_t n, size_t pad, size_t sz)
{
    size_t t;
    if (!thumb__add_size(n, pad, &t))
        return NULL;
    return calloc(t, sz);
}

int tresize_new_with(tresize **out_r, thumb_ctx *ctx, int channels, int kernel,
                     const tresize_axis *x, const tresize_axis *y,
                     uint8_t *out, size_t out_stride, unsigned features)
{
    int rc;
    *out_r = NULL;
    if (channels < 1 || channels > 4)
        return thumb__fail(ctx, THUMB_EINVAL, "resample: %d channels", channels);
    if (kernel < THUMB_KERNEL_LANCZOS3 || kernel > THUMB_KERNEL_CUBIC)
        return thumb__fail(ctx, THUMB_EINVAL, "resample: unknown kernel %d", kernel);
    if ((rc = check_axis(ctx, x, "x")) || (rc = check_axis(ctx, y, "y")))
        return rc;
    if (!out || out_stride < (size_t)x->out_len * (size_t)channels)
        return thumb__fail(ctx, THUMB_EINVAL, "resample: output buffer stride too small");
    uint64_t kx = x->box < x->in_len ? x->box : x->in_len;
    uint64_t ky = y->box < y->in_len ? y->box : y->in_len;
    if (kx * ky > TR_BOX_MAX_N)
        return thumb__fail(ctx, THUMB_EINVAL, "resample: box %llux%llu over %u pixels",
                           (unsigned long long)kx, (unsigned long long)ky, TR_BOX_MAX_N);

    tresize *r = calloc(1, sizeof *r);
    if (!r)
        return thumb__fail(ctx, THUMB_ENOMEM, "resample: out of memory");
    r->ctx = ctx;
    r->k = thumb__resample_kernels(features);
    r->ch = channels;
    r->wc = channels == 1 ? 1 : 4;
    r->alpha = channels == 2 || channels == 4;
    r->in_w = x->in_len;
    r->in_h = y->in_len;
    r->kx = (uint32_t)kx;
    r->ky = (uint32_t)ky;
    r->rw = (uint32_t)((r->in_w + kx - 1) / kx);
    r->rh = (uint32_t)((r->in_h + ky - 1) / ky);
    r->out_w = x->out_len;
    r->out_h = y->out_len;
    r->out = out;
    r->out_stride = out_stride;

    r->kernel = kernel;
    r->ax = *x;
    r->ay = *y;
    if ((rc = axis_get(ctx, &r->xw, kernel, r->rw, x)) || (rc = axis_get(ctx, &r->yw, kernel, r->rh, y))) {
        r->error = rc;
        tresize_free(r);
        return rc;
    }

    r->fast = !r->alpha && r->kx == 1 && r->ky == 1;
    r->rc = r->fast ? r->ch : r->wc;
    if (r->fast && r->ch == 3 && !r->xw.vw && (rc = build_vw(ctx, &r->xw, r->out_w))) {
        r->error = rc;
        tresize_free(r);
        return rc;
    }
    if (r->fast && r->ch == 1 && !r->xw.v1done && (rc = build_v1(ctx, &r->xw, r->out_w))) {
        r->error = rc;
        tresize_free(r);
        return rc;
    }
    r->htab = (tr_htab){r->xw.start, r->xw.n,      r->xw.w,      r->xw.wstride, r->xw.vw,
                        r->xw.groups, r->xw.v1base, r->xw.v1ctl, r->xw.v1w,     r->xw.v1pairs};

    /* Ring bookkeeping; see the comment on struct fields. */
    r->yemit = malloc(r->out_h * sizeof *r->yemit);
    r->ysmin = malloc(r->out_h * sizeof *r->ysmin);
    if (!r->yemit || !r->ysmin)
        goto nomem;
    uint32_t emax = 0;
    r->R = 1;
    for (uint32_t j = 0; j < r->out_h; j++) {
        uint32_t e = (uint32_t)r->yw.start[j] + r->yw.n[j] - 1;
        if (e > emax) emax = e;
        r->yemit[j] = emax;
        uint32_t need = emax - (uint32_t)r->yw.start[j] + 1;
        if (need > r->R) r->R = need;
    }
    for (uint32_t j = r->out_h; j-- > 0;) {
        uint32_t s = (uint32_t)r->yw.start[j];
        r->ysmin[j] = (j + 1 < r->out_h && r->ysmin[j + 1] < s) ? r->ysmin[j + 1] : s;
    }

    const size_t wc = (size_t)r->wc;
    size_t in_n, red_n, row_n, ring_n;
    if (!thumb__mul_size(r->in_w, wc, &in_n) || !thumb__mul_size(r->rw, wc, &red_n) ||
        !thumb__mul_size(r->out_w, wc, &row_n))
        goto nomem;
    /* the fast path's ring rows: out_w rounded up to 4 pixels of rc samples, + 16 spare */
    r->ring_stride = ((row_n > ((size_t)r->out_w + 3) * r->rc ? row_n : ((size_t)r->out_w + 3) * r->rc) + 16 + 15) &
                     ~(size_t)15;
    if (!thumb__mul_size(r->ring_stride, r->R, &ring_n))
        goto nomem;
    if (r->fast) {
        size_t pad;
        if (!thumb__mul_size(r->xw.wstride + 8, (size_t)r->ch, &pad) ||
            !(r->in8 = alloc_padded((size_t)r->in_w * r->ch, pad + 16, 1)))
            goto nomem;
    } else {
        r->cvt = alloc_padded(in_n, TR_PAD_PIX * wc + 16, sizeof *r->cvt);
    }
    if (r->kx > 1 || r->ky > 1) {
        r->acc = alloc_padded(red_n, TR_PAD_PIX * wc + 16, sizeof *r->acc);
        r->red = alloc_padded(red_n, TR_PAD_PIX * wc + 16, sizeof *r->red);
        if (!r->acc || !r->red)
            goto nomem;
    }
    r->ring = calloc(ring_n, sizeof *r->ring);
    r->rows = calloc(r->R + 1, sizeof *r->rows);
    r->tmp8 = alloc_padded(row_n, 32, 1);
    r->tmp16 = alloc_padded(row_n, 32, sizeof *r->tmp16);
    if ((!r->fast && !r->cvt) || !r->ring || !r->rows || !r->tmp8 || !r->tmp16)
        goto nomem;
    *out_r = r;
    return THUMB_OK;
nomem:
    tresize_free(r);
    return thumb__fail(ctx, THUMB_ENOMEM, "resample: out of memory for row buffers");
}

int tresize_new(tresize **r, thumb_ctx *ctx, int channels, int kernel,
                const tresize_axis *x, const tresize_axis *y, uint8_t *out, size_t out_stride)
{
    return tresize_new_with(r, ctx, channels, kernel, x, y, out, out_stride, thumb__cpu_features());
}

/* ---------------------------------------------------------------- streaming */

/* c8 = A ? min(255, (C*255 + A/2) / A) : 0 with C clamped to A; a8 = (A + 64) >> 7. */
static inline uint8_t unpremul(int C, int A)
{
    if (A <= 0)
        return 0;
    if (C > A)
        C = A;
    unsigned v = ((unsigned)C * 255u + (unsigned)A / 2) / (unsigned)A;
    return (uint8_t)(v > 255 ? 255 : v);
}

static void emit_row(tresize *r, uint32_t j)
{
    const uint32_t n = r->yw.n[j];
    const uint32_t s = (uint32_t)r->yw.start[j];
    for (uint32_t t = 0; t < n; t++)
        r->rows[t] = r->ring + (size_t)((s + t) % r->R) * r->ring_stride;
    const int16_t *w = r->yw.w + (size_t)j * r->yw.wstride;
    uint8_t *dst = r->row_fn ? r->out : r->out + (size_t)j * r->out_stride;
    const size_t len = (size_t)r->out_w * r->wc;

    if (r->fast) { /* ring rows are already in the output layout */
        r->k->vpass_u8(r->rows, w, (int)n, dst, (size_t)r->out_w * r->ch);
        return;
    }
    if (!r->alpha) {
        r->k->vpass_u8(r->rows, w, (int)n, r->tmp8, len);
        if (r->ch == 1) {
            memcpy(dst, r->tmp8, r->out_w);
        } else {
            for (uint32_t i = 0; i < r->out_w; i++) {
                dst[3 * i] = r->tmp8[4 * i];
                dst[3 * i + 1] = r->tmp8[4 * i + 1];
                dst[3 * i + 2] = r->tmp8[4 * i + 2];
            }
        }
        return;
    }
    r->k->vpass_i16(r->rows, w, (int)n, r->tmp16, len);
    const int16_t *v = r->tmp16;
    if (r->ch == 4) {
        for (uint32_t i = 0; i < r->out_w; i++, v += 4) {
            int A = v[3];
            dst[4 * i] = unpremul(v[0], A);
            dst[4 * i + 1] = unpremul(v[1], A);
            dst[4 * i + 2] = unpremul(v[2], A);
            dst[4 * i + 3] = (uint8_t)((A + 64) >> 7);
        }
    } else {
        for (uint32_t i = 0; i < r->out_w; i++, v += 4) {
            int A = v[3];
            dst[2 * i] = unpremul(v[0], A);
            dst[2 * i + 1] = (uint8_t)((A + 64) >> 7);
        }
    }
}

/* Box-reduced row ry (complete sums in acc) -> r->red. The last column may be a partial block. */
static void box_finish(tresize *r, uint32_t rows_in_group)
{
    const size_t wc = (size_t)r->wc;
    const uint32_t lastx = r->in_w - (r->rw - 1) * r->kx;
    uint32_t n = r->kx * rows_in_group, m;
    unsigned s;
    size_t full = lastx == r->kx ? r->rw : r->rw - 1;
    tr_box_magic(n, &m, &s);
    /* Full blocks first: a vector kernel may write past its length, into the last block. */
    if (full)
        r->k->box_div(r->acc, r->red, full * wc, n, m, s);
    if (full < r->rw) {
        n = lastx * rows_in_group;
        tr_box_magic(n, &m, &s);
        r->k->box_div(r->acc + full * wc, r->red + full * wc, wc, n, m, s);
    }
}

int tresize_push_row(tresize *r, const uint8_t *row)
{
    if (r->error)
        return r->error;
    if (r->in_y >= r->in_h)
        return r->error = thumb__fail(r->ctx, THUMB_EINVAL, "resample: more than %u input rows", r->in_h);
    const uint32_t ry = r->in_y / r->ky;
    const bool boxed = r->kx > 1 || r->ky > 1;
    const bool needed = r->next_out < r->out_h && ry >= r->ysmin[r->next_out];
    const bool group_start = r->in_y % r->ky == 0;
    r->in_y++;
    const bool group_end = r->in_y % r->ky == 0 || r->in_y == r->in_h;

    if (needed && r->fast) {
        memcpy(r->in8, row, (size_t)r->in_w * r->ch);
        r->k->hpass_u8(r->in8, r->ring + (size_t)(ry % r->R) * r->ring_stride, r->out_w, &r->htab, r->ch);
    } else if (needed) {
        r->k->cvt(row, r->cvt, r->in_w, r->ch);
        const int16_t *red = r->cvt;
        if (boxed) {
            if (group_start)
                memset(r->acc, 0, (size_t)r->rw * r->wc * sizeof *r->acc);
            r->k->box_accum(r->cvt, r->acc, r->in_w, r->kx, r->wc);
            if (group_end)
                box_finish(r, r->in_y - ry * r->ky);
            red = r->red;
        }
        if (group_end)
            r->k->hpass(red, r->ring + (size_t)(ry % r->R) * r->ring_stride, r->out_w,
                        r->xw.start, r->xw.n, r->xw.w, r->xw.wstride, r->wc);
    }
    if (group_end)
        while (r->next_out < r->out_h && r->yemit[r->next_out] <= ry) {
            emit_row(r, r->next_out);
            if (r->row_fn && (r->error = r->row_fn(r->row_user, r->out, r->next_out)) != THUMB_OK)
                return r->error;
            r->next_out++;
        }
    return THUMB_OK;
}

void tresize_set_row_sink(tresize *r, int (*fn)(void *user, const uint8_t *row, uint32_t y), void *user)
{
    r->row_fn = fn;
    r->row_user = user;
}

int tresize_finish(tresize *r)
{
    if (r->error)
        return r->error;
    if (r->in_y != r->in_h || r->next_out != r->out_h)
        return r->error = thumb__fail(r->ctx, THUMB_EINVAL, "resample: got %u of %u input rows",
                                      r->in_y, r->in_h);
    return THUMB_OK;
}
