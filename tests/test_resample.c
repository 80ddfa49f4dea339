/* Resampler against a double-precision reference with the same geometry, kernels, box stage,
 * premultiplied alpha and intermediate clamp; plus exact properties (constant images, line
 * positions, no colour bleed from transparent pixels, degenerate sizes). */
#include "internal.h"
#include "simd/resample_kernels.h"
#include "tt.h"

#include <math.h>
#include <stdint.h>


/* ---------------------------------------------------------------- reference */

static double ref_kernel(int kernel, double x)
{
    x = fabs(x);
    switch (kernel) {
    case THUMB_KERNEL_LINEAR: return x < 1 ? 1 - x : 0;
    case THUMB_KERNEL_CUBIC:
        if (x < 1) return 1.5 * x * x * x - 2.5 * x * x + 1;
        if (x < 2) return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2;
        return 0;
    default:
        if (x == 0) return 1;
        if (x >= 3) return 0;
        return sin(M_PI * x) / (M_PI * x) * sin(M_PI * x / 3) / (M_PI * x / 3);
    }
}

/* Dense len_out x len matrix of weights for one axis. */
static double *ref_weights(int kernel, int len, const tresize_axis *a)
{
    double *m = calloc((size_t)a->out_len * len, sizeof *m);
    for (uint32_t i = 0; i < a->out_len; i++) {
        double c = a->first + i * a->step;
        double *row = m + (size_t)i * len;
        if (kernel == THUMB_KERNEL_NEAREST) {
            long j = (long)floor(c + 0.5);
            row[j < 0 ? 0 : j >= len ? len - 1 : j] = 1;
            continue;
        }
        double radius = kernel == THUMB_KERNEL_LINEAR ? 1 : kernel == THUMB_KERNEL_CUBIC ? 2 : 3;
        double scale = a->step > 1 ? a->step : 1, sum = 0;
        for (long j = (long)floor(c - radius * scale) - 1; j <= (long)ceil(c + radius * scale) + 1; j++) {
            double v = ref_kernel(kernel, (j - c) / scale);
            row[j < 0 ? 0 : j >= len ? len - 1 : j] += v;
            sum += v;
        }
        for (int j = 0; j < len; j++)
            row[j] /= sum;
    }
    return m;
}

/* [first, last + 1) of the non-zero weights of each output, to keep the reference fast. */
static int *nonzero_ranges(const double *m, int out, int len)
{
    int *r = malloc(sizeof(int) * 2 * out);
    for (int i = 0; i < out; i++) {
        const double *row = m + (size_t)i * len;
        int a = 0, b = len;
        while (a < len && row[a] == 0) a++;
        while (b > a && row[b - 1] == 0) b--;
        r[2 * i] = a;
        r[2 * i + 1] = b;
    }
    return r;
}

/* Reference output in 8-bit units (unrounded), out_w * out_h * ch doubles. */
static double *ref_resize(const uint8_t *in, int ch, int kernel, const tresize_axis *x, const tresize_axis *y)
{
    const int W = (int)x->in_len, H = (int)y->in_len, kx = (int)x->box, ky = (int)y->box;
    const int rw = (W + kx - 1) / kx, rh = (H + ky - 1) / ky, ow = (int)x->out_len, oh = (int)y->out_len;
    const bool alpha = ch == 2 || ch == 4;
    double *pre = malloc(sizeof(double) * W * H * ch);
    for (int i = 0; i < W * H; i++) {
        double a = alpha ? in[i * ch + ch - 1] : 255;
        for (int c = 0; c < ch; c++)
            pre[i * ch + c] = (alpha && c < ch - 1) ? in[i * ch + c] * a / 255 : in[i * ch + c];
    }
    double *red = calloc((size_t)rw * rh * ch, sizeof *red);
    for (int ry = 0; ry < rh; ry++)
        for (int rx = 0; rx < rw; rx++) {
            int n = 0;
            for (int yy = ry * ky; yy < ry * ky + ky && yy < H; yy++)
                for (int xx = rx * kx; xx < rx * kx + kx && xx < W; xx++, n++)
                    for (int c = 0; c < ch; c++)
                        red[(ry * rw + rx) * ch + c] += pre[(yy * W + xx) * ch + c];
            for (int c = 0; c < ch; c++)
                red[(ry * rw + rx) * ch + c] /= n;
        }
    double *wx = ref_weights(kernel, rw, x), *wy = ref_weights(kernel, rh, y);
    int *xr = nonzero_ranges(wx, ow, rw), *yr = nonzero_ranges(wy, oh, rh);
    double *hz = calloc((size_t)ow * rh * ch, sizeof *hz);
    for (int ry = 0; ry < rh; ry++)
        for (int i = 0; i < ow; i++)
            for (int c = 0; c < ch; c++) {
                double s = 0;
                for (int j = xr[2 * i]; j < xr[2 * i + 1]; j++)
                    s += wx[(size_t)i * rw + j] * red[(ry * rw + j) * ch + c];
                hz[(ry * ow + i) * ch + c] = s < 0 ? 0 : s > 255 ? 255 : s; /* same clamp as the library */
            }
    double *out = calloc((size_t)ow * oh * ch, sizeof *out);
    for (int j = 0; j < oh; j++)
        for (int i = 0; i < ow; i++) {
            double v[4];
            for (int c = 0; c < ch; c++) {
                double s = 0;
                for (int k = yr[2 * j]; k < yr[2 * j + 1]; k++)
                    s += wy[(size_t)j * rh + k] * hz[(k * ow + i) * ch + c];
                v[c] = s < 0 ? 0 : s > 255 ? 255 : s;
            }
            if (alpha) {
                double a = v[ch - 1];
                for (int c = 0; c < ch - 1; c++)
                    v[c] = a > 0 ? fmin(255, fmin(v[c], a) * 255 / a) : 0;
            }
            for (int c = 0; c < ch; c++)
                out[(j * ow + i) * ch + c] = v[c];
        }
    free(pre); free(red); free(wx); free(wy); free(hz); free(xr); free(yr);
    return out;
}

/* ---------------------------------------------------------------- helpers */

static int run(const uint8_t *in, int ch, int kernel, const tresize_axis *x, const tresize_axis *y,
               uint8_t *out, unsigned features)
{
    thumb_ctx ctx = {{0}};
    tresize *r;
    int rc = tresize_new_with(&r, &ctx, ch, kernel, x, y, out, (size_t)x->out_len * ch, features);
    if (rc) {
        fprintf(stderr, "tresize_new: %s\n", ctx.detail);
        return rc;
    }
    for (uint32_t row = 0; row < y->in_len && !rc; row++)
        rc = tresize_push_row(r, in + (size_t)row * x->in_len * ch);
    if (!rc)
        rc = tresize_finish(r);
    if (rc)
        fprintf(stderr, "resize: %s\n", ctx.detail);
    tresize_free(r);
    return rc;
}

/* Centre-aligned mapping for in -> out with box k, as a plan would make it. */
static tresize_axis axis(uint32_t in, uint32_t box, uint32_t out)
{
    tresize_axis a = {in, box, out, 0, 0};
    a.step = (double)in / box / out;
    a.first = 0.5 * a.step - 0.5;
    return a;
}

enum { IMG_GRADIENT, IMG_NOISE, IMG_EDGES };
static uint8_t *make_image(int type, int w, int h, int ch)
{
    uint8_t *p = malloc((size_t)w * h * ch);
    for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < w; xx++)
            for (int c = 0; c < ch; c++) {
                int v;
                if (type == IMG_GRADIENT)
                    v = (int)(127.5 + 127.5 * sin((xx * (c + 1) * 0.021) + yy * 0.017 * (3 - c % 3)));
                else if (type == IMG_NOISE)
                    v = (int)(tt_rnd() & 255);
                else
                    v = (((xx / 7) + (yy / 5) + c) & 1) ? 255 : 0;
                if ((ch == 2 || ch == 4) && c == ch - 1 && type == IMG_EDGES)
                    v = ((xx / 11 + yy / 13) & 1) ? 255 : 40;
                p[((size_t)yy * w + xx) * ch + c] = (uint8_t)v;
            }
    return p;
}

/* PSNR of out against ref; with alpha, colour is compared premultiplied (the colour of a
 * nearly transparent pixel carries no weight, and is not recoverable to 8 bits). */
static double psnr(const uint8_t *out, const double *ref, size_t pixels, int ch)
{
    const bool alpha = ch == 2 || ch == 4;
    double se = 0;
    for (size_t i = 0; i < pixels; i++)
        for (int c = 0; c < ch; c++) {
            double o = out[i * ch + c], r = ref[i * ch + c];
            if (alpha && c < ch - 1) {
                o = o * out[i * ch + ch - 1] / 255;
                r = r * ref[i * ch + ch - 1] / 255;
            }
            se += (o - r) * (o - r);
        }
    double mse = se / (pixels * ch);
    return mse == 0 ? 99 : 10 * log10(255.0 * 255.0 / mse);
}

static double compare(const uint8_t *in, int ch, int kernel, const tresize_axis *x, const tresize_axis *y,
                      unsigned features)
{
    size_t n = (size_t)x->out_len * y->out_len;
    uint8_t *out = malloc(n * ch);
    double db = -1;
    if (run(in, ch, kernel, x, y, out, features) == 0) {
        double *ref = ref_resize(in, ch, kernel, x, y);
        db = psnr(out, ref, n, ch);
        free(ref);
    }
    free(out);
    return db;
}

/* ---------------------------------------------------------------- tests */

static void test_psnr(void)
{
    static const struct { double ratio; uint32_t box; } cases[] = {
        {1.3, 1}, {2.0, 1}, {3.7, 1}, {8.0, 2}, {8.0, 4}, {0.5, 1}, {3.7, 3},
    };
    const int W = 211, H = 163;
    for (int type = 0; type < 3; type++)
        for (int ch = 1; ch <= 4; ch++) {
            uint8_t *img = make_image(type, W, H, ch);
            for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
                uint32_t ow = (uint32_t)lround(W / cases[k].ratio), oh = (uint32_t)lround(H / cases[k].ratio);
                tresize_axis x = axis(W, cases[k].box, ow), y = axis(H, cases[k].box, oh);
                for (unsigned f = 0; f <= THUMB_CPU_AVX2; f += THUMB_CPU_AVX2) {
                    double db = compare(img, ch, THUMB_KERNEL_LANCZOS3, &x, &y, f);
                    TT_CHECK(db >= 45, "type %d ch %d ratio %.1f box %u features %u: %.2f dB",
                             type, ch, cases[k].ratio, cases[k].box, f, db);
                }
            }
            /* Other kernels and a box differing per axis. */
            for (int kernel = 1; kernel <= 3; kernel++) {
                tresize_axis x = axis(W, 2, 61), y = axis(H, 1, 97);
                double db = compare(img, ch, kernel, &x, &y, 0);
                TT_CHECK(db >= 45, "type %d ch %d kernel %d: %.2f dB", type, ch, kernel, db);
            }
            free(img);
        }
}

static void test_constant(void)
{
    static const uint32_t outs[] = {1, 2, 7, 50, 131, 300};
    for (int ch = 1; ch <= 4; ch++)
        for (int kernel = 0; kernel <= 3; kernel++)
            for (int k = 0; k < 12; k++) {
                uint32_t W = 1 + tt_rnd() % 150, H = 1 + tt_rnd() % 150;
                uint32_t bx = 1 + tt_rnd() % 4, by = 1 + tt_rnd() % 4;
                uint32_t ow = outs[tt_rnd() % 6], oh = outs[tt_rnd() % 6];
                uint8_t px[4] = {(uint8_t)tt_rnd(), (uint8_t)tt_rnd(), (uint8_t)tt_rnd(), (uint8_t)(k & 1 ? 255 : 2 + tt_rnd() % 254)};
                if (ch == 2) px[1] = px[3];
                uint8_t *img = malloc((size_t)W * H * ch), *out = malloc((size_t)ow * oh * ch);
                for (size_t i = 0; i < (size_t)W * H; i++)
                    memcpy(img + i * ch, px, ch);
                tresize_axis x = axis(W, bx, ow), y = axis(H, by, oh);
                if (k % 3 == 2) { x.first += 0.37; y.step *= 1.1; } /* arbitrary geometry, still constant */
                for (unsigned f = 0; f <= THUMB_CPU_AVX2; f += THUMB_CPU_AVX2) {
                    TT_CHECK(run(img, ch, kernel, &x, &y, out, f) == 0, "run");
                    size_t bad = 0;
                    for (size_t i = 0; i < (size_t)ow * oh; i++)
                        bad += memcmp(out + i * ch, px, ch) != 0;
                    TT_CHECK(bad == 0, "constant ch %d kernel %d %ux%u box %ux%u -> %ux%u: %zu pixels changed",
                             ch, kernel, W, H, bx, by, ow, oh, bad);
                }
                free(img);
                free(out);
            }
}

static void test_line_position(void)
{
    const int W = 100, H = 3;
    uint8_t img[100 * 3] = {0};
    for (int yy = 0; yy < H; yy++)
        img[yy * W + 37] = 255;
    uint8_t out[100 * 3];
    tresize_axis y = {H, 1, H, 0.0, 1.0};
    for (int kernel = 0; kernel <= 3; kernel++) {
        /* Integer shift: output i is centred on input 10 + i, so the line is exactly at 27. */
        tresize_axis x = {W, 1, 80, 10.0, 1.0};
        TT_CHECK(run(img, 1, kernel, &x, &y, out, 0) == 0, "run");
        for (int i = 0; i < 80; i++)
            TT_CHECK(out[i] == (i == 27 ? 255 : 0), "kernel %d shift: out[%d] = %d", kernel, i, out[i]);
        if (kernel == THUMB_KERNEL_NEAREST)
            continue;
        /* Half-pixel shift: the line sits between outputs 26 and 27, symmetrically. */
        x.first = 10.5;
        TT_CHECK(run(img, 1, kernel, &x, &y, out, 0) == 0, "run");
        TT_CHECK(out[26] == out[27] && out[26] > 64, "kernel %d half shift: %d %d", kernel, out[26], out[27]);
        for (int i = 0; i < 80; i++)
            TT_CHECK(i == 26 || i == 27 || out[i] < out[26], "kernel %d half shift: out[%d] = %d", kernel, i, out[i]);
    }
    /* Shrink by 2 with output 0 centred on 0.5: the line (37) maps to 18.25. */
    tresize_axis x = {W, 1, 50, 0.5, 2.0};
    TT_CHECK(run(img, 1, THUMB_KERNEL_LINEAR, &x, &y, out, 0) == 0, "run");
    double m0 = 0, m1 = 0;
    for (int i = 0; i < 50; i++) {
        m0 += out[i];
        m1 += out[i] * (double)i;
    }
    TT_CHECK(fabs(m1 / m0 - 18.25) < 0.05, "centroid %.3f, expected 18.25", m1 / m0);
    /* Same with a 2x box first and step 1 in reduced coordinates: reduced pixel 18 holds it. */
    tresize_axis xb = {W, 2, 50, 0.0, 1.0};
    TT_CHECK(run(img, 1, THUMB_KERNEL_LANCZOS3, &xb, &y, out, 0) == 0, "run");
    for (int i = 0; i < 50; i++)
        TT_CHECK(out[i] == (i == 18 ? 128 : 0), "box line: out[%d] = %d", i, out[i]);
}

static void test_alpha_bleed(void)
{
    const int W = 64, H = 48;
    for (int ch = 2; ch <= 4; ch += 2) {
        uint8_t *img = malloc((size_t)W * H * ch);
        for (int i = 0; i < W * H; i++) {
            bool left = (i % W) < 29;
            uint8_t *p = img + (size_t)i * ch;
            if (ch == 4) {
                p[0] = left ? 255 : 0; p[1] = 0; p[2] = left ? 0 : 255; p[3] = left ? 0 : 255;
            } else {
                p[0] = left ? 255 : 0; p[1] = left ? 0 : 255;
            }
        }
        for (int kernel = 0; kernel <= 3; kernel++)
            for (int t = 0; t < 3; t++) {
                uint32_t ow = t == 0 ? 23 : t == 1 ? 64 : 150, oh = t == 0 ? 17 : t == 1 ? 48 : 101;
                tresize_axis x = axis(W, t == 0 ? 2 : 1, ow), y = axis(H, 1, oh);
                uint8_t *out = malloc((size_t)ow * oh * ch);
                for (unsigned f = 0; f <= THUMB_CPU_AVX2; f += THUMB_CPU_AVX2) {
                    TT_CHECK(run(img, ch, kernel, &x, &y, out, f) == 0, "run");
                    size_t bled = 0, opaque_ok = 0;
                    for (size_t i = 0; i < (size_t)ow * oh; i++) {
                        const uint8_t *p = out + i * ch;
                        bled += p[0] != 0 || (ch == 4 && p[1] != 0);
                        if (ch == 4 && p[3] > 0) opaque_ok += p[2] == 255;
                    }
                    TT_CHECK(bled == 0, "ch %d kernel %d -> %ux%u: %zu pixels show the transparent colour",
                             ch, kernel, ow, oh, bled);
                    TT_CHECK(ch == 2 || opaque_ok > 0, "no blue pixels");
                }
                free(out);
            }
        free(img);
    }
}

static void test_degenerate(void)
{
    static const uint32_t sz[][4] = {
        {1, 1, 1, 1}, {1, 1, 5, 3}, {1, 50, 1, 7}, {50, 1, 3, 1}, {40, 30, 1, 1},
        {1, 40, 9, 1}, {37, 1, 1, 60}, {2, 2, 1, 1}, {3, 200, 1, 13},
    };
    for (size_t k = 0; k < sizeof sz / sizeof sz[0]; k++)
        for (int ch = 1; ch <= 4; ch++)
            for (int kernel = 0; kernel <= 3; kernel++) {
                uint8_t *img = make_image(IMG_GRADIENT, (int)sz[k][0], (int)sz[k][1], ch);
                tresize_axis x = axis(sz[k][0], 1, sz[k][2]), y = axis(sz[k][1], 1, sz[k][3]);
                for (unsigned f = 0; f <= THUMB_CPU_AVX2; f += THUMB_CPU_AVX2) {
                    double db = compare(img, ch, kernel, &x, &y, f);
                    TT_CHECK(db >= 45, "%ux%u -> %ux%u ch %d kernel %d: %.2f dB",
                             sz[k][0], sz[k][1], sz[k][2], sz[k][3], ch, kernel, db);
                }
                free(img);
            }
}

static void test_errors(void)
{
    thumb_ctx ctx = {{0}};
    tresize *r = NULL;
    uint8_t out[64];
    tresize_axis x = axis(10, 1, 4), y = axis(10, 1, 4), bad = {0, 1, 4, 0, 1};
    TT_CHECK(tresize_new(&r, &ctx, 5, 0, &x, &y, out, 16) == THUMB_EINVAL, "channels");
    TT_CHECK(tresize_new(&r, &ctx, 1, 9, &x, &y, out, 16) == THUMB_EINVAL, "kernel");
    TT_CHECK(tresize_new(&r, &ctx, 1, 0, &bad, &y, out, 16) == THUMB_EINVAL, "empty axis");
    TT_CHECK(tresize_new(&r, &ctx, 4, 0, &x, &y, out, 15) == THUMB_EINVAL, "stride");
    tresize_axis nan = x;
    nan.step = NAN;
    TT_CHECK(tresize_new(&r, &ctx, 1, 0, &nan, &y, out, 16) == THUMB_EINVAL, "nan step");
    tresize_axis big = {100000, 300, 4, 0, 1}, bigy = {100000, 300, 4, 0, 1};
    TT_CHECK(tresize_new(&r, &ctx, 1, 0, &big, &bigy, out, 16) == THUMB_EINVAL, "box area");
    /* Too few rows is an error at finish; too many at push. */
    uint8_t row[10] = {0};
    if (tresize_new(&r, &ctx, 1, 0, &x, &y, out, 16) != THUMB_OK) {
        TT_CHECK(0, "new: %s", ctx.detail);
        return;
    }
    for (int i = 0; i < 9; i++)
        TT_CHECK(tresize_push_row(r, row) == THUMB_OK, "push");
    TT_CHECK(tresize_finish(r) == THUMB_EINVAL, "short input");
    tresize_free(r);
    if (tresize_new(&r, &ctx, 1, 0, &x, &y, out, 16) != THUMB_OK) {
        TT_CHECK(0, "new: %s", ctx.detail);
        return;
    }
    for (int i = 0; i < 10; i++)
        TT_CHECK(tresize_push_row(r, row) == THUMB_OK, "push");
    TT_CHECK(tresize_push_row(r, row) == THUMB_EINVAL, "extra row");
    tresize_free(r);
    tresize_free(NULL);
}

static void test_box_division(void)
{
    /* tr_box_magic is exact for every n the box can produce, at the sums that matter:
     * around each multiple of n (where floor changes) and at the top of the range. */
    for (uint32_t n = 1; n <= TR_BOX_MAX_N; n++) {
        uint32_t m;
        unsigned s;
        tr_box_magic(n, &m, &s);
        uint64_t top = (uint64_t)TR_VMAX * n + n / 2;
        uint64_t probes[] = {0, 1, n - 1, n, n + 1, top, top - 1, top - n, top / 2, top / 2 + 1,
                             (top / n) * n, (top / n) * n - 1};
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
            uint64_t x = probes[i];
            if (x > top) continue;
            if (((x * m) >> s) != x / n) {
                TT_CHECK(0, "n %u x %llu", n, (unsigned long long)x);
                return;
            }
        }
    }
    /* Exhaustive for small n over the whole sum range. */
    for (uint32_t n = 1; n <= 16; n++) {
        uint32_t m;
        unsigned s;
        tr_box_magic(n, &m, &s);
        for (uint64_t x = 0; x <= (uint64_t)TR_VMAX * n + n / 2; x++)
            if (((x * m) >> s) != x / n) {
                TT_CHECK(0, "n %u x %llu", n, (unsigned long long)x);
                return;
            }
    }
    tt_checks++;
}

int main(void)
{
    test_box_division();
    test_errors();
    test_constant();
    test_line_position();
    test_alpha_bleed();
    test_degenerate();
    test_psnr();
    return tt_report("test_resample");
}
