/* Scalar kernels of the JPEG front end (see jfront.h): libjpeg-turbo's C arithmetic. */
#include "../jfront.h"

/* jccolor.c: Y rounded by +1/2 in its B term, Cb/Cr offset by 128 and rounded by +1/2 - 1
 * (the B->Cb and R->Cr coefficients are both 1/2). */
#define JF_HALF (1 << 15)
#define JF_CBCR_OFF (128 << 16)

static void rgb_ycc_scalar(const uint8_t *rgb, uint8_t *y, uint8_t *cb, uint8_t *cr, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int32_t r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        y[i] = (uint8_t)((JF_FIX(0.29900) * r + JF_FIX(0.58700) * g + JF_FIX(0.11400) * b + JF_HALF) >> 16);
        cb[i] = (uint8_t)((-JF_FIX(0.16874) * r - JF_FIX(0.33126) * g + JF_FIX(0.5) * b + JF_CBCR_OFF +
                           JF_HALF - 1) >> 16);
        cr[i] = (uint8_t)((JF_FIX(0.5) * r - JF_FIX(0.41869) * g - JF_FIX(0.08131) * b + JF_CBCR_OFF +
                           JF_HALF - 1) >> 16);
    }
}

static void down2_scalar(const uint8_t *r0, const uint8_t *r1, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)((r0[2 * i] + r0[2 * i + 1] + r1[2 * i] + r1[2 * i + 1] + 1 + (int)(i & 1)) >> 2);
}

/* jfdctint.c (Loeffler, Ligtenberg and Moschytz): 13-bit constants (JF_F_*), 2 extra bits after
 * pass 1, outputs scaled by 8. */
#define CB 13
#define P1 2
#define DESCALE(x, n) (((x) + (1 << ((n) - 1))) >> (n))

/* One 1-D pass over 8 values d[0], d[s], ..., d[7s]; first: row pass (results << P1 and
 * descaled by CB - P1) or column pass (descaled by P1 and CB + P1). */
static inline void fdct_1d(int32_t *d, int s, int first)
{
    int32_t tmp0 = d[0] + d[7 * s], tmp7 = d[0] - d[7 * s];
    int32_t tmp1 = d[s] + d[6 * s], tmp6 = d[s] - d[6 * s];
    int32_t tmp2 = d[2 * s] + d[5 * s], tmp5 = d[2 * s] - d[5 * s];
    int32_t tmp3 = d[3 * s] + d[4 * s], tmp4 = d[3 * s] - d[4 * s];
    int32_t tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
    int32_t tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
    const int sh = first ? CB - P1 : CB + P1;
    if (first) {
        d[0] = (tmp10 + tmp11) * (1 << P1);
        d[4 * s] = (tmp10 - tmp11) * (1 << P1);
    } else {
        d[0] = DESCALE(tmp10 + tmp11, P1);
        d[4 * s] = DESCALE(tmp10 - tmp11, P1);
    }
    int32_t z1 = (tmp12 + tmp13) * JF_F_0_541;
    d[2 * s] = DESCALE(z1 + tmp13 * JF_F_0_765, sh);
    d[6 * s] = DESCALE(z1 - tmp12 * JF_F_1_847, sh);

    z1 = tmp4 + tmp7;
    int32_t z2 = tmp5 + tmp6, z3 = tmp4 + tmp6, z4 = tmp5 + tmp7;
    int32_t z5 = (z3 + z4) * JF_F_1_175;
    tmp4 *= JF_F_0_298;
    tmp5 *= JF_F_2_053;
    tmp6 *= JF_F_3_072;
    tmp7 *= JF_F_1_501;
    z1 *= -JF_F_0_899;
    z2 *= -JF_F_2_562;
    z3 = z3 * -JF_F_1_961 + z5;
    z4 = z4 * -JF_F_0_390 + z5;
    d[7 * s] = DESCALE(tmp4 + z1 + z3, sh);
    d[5 * s] = DESCALE(tmp5 + z2 + z4, sh);
    d[3 * s] = DESCALE(tmp6 + z2 + z3, sh);
    d[s] = DESCALE(tmp7 + z1 + z4, sh);
}

static void fdct_quant_1(const uint8_t *src, size_t stride, const jf_quant *q, int16_t *out)
{
    int32_t d[64];
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++)
            d[8 * r + c] = (int32_t)src[r * stride + (size_t)c] - 128;
    for (int r = 0; r < 8; r++)
        fdct_1d(d + 8 * r, 1, 1);
    /* libjpeg keeps DCTELEM (16 bits) between the passes; every value fits, so nothing is lost */
    for (int c = 0; c < 8; c++)
        fdct_1d(d + c, 8, 0);
    for (int i = 0; i < 64; i++)
        out[i] = jf_quantise(d[i], q, i);
}

static void fdct_quant_scalar(const uint8_t *src, size_t stride, const jf_quant *q, int16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fdct_quant_1(src + 8 * i, stride, q, out + 64 * i);
}

static void ac_stats_scalar(const int16_t *blk, uint32_t *counts)
{
    int r = 0;
    for (int k = 1; k < 64; k++) {
        int v = blk[thumb__jf_natural[k]];
        if (v == 0) {
            r++;
            continue;
        }
        jf_count_ac(counts, r, v);
        r = 0;
    }
    if (r > 0)
        counts[0]++;
}

static void interleave3_scalar(const uint8_t *a, const uint8_t *b, const uint8_t *c, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[3 * i] = a[i];
        out[3 * i + 1] = b[i];
        out[3 * i + 2] = c[i];
    }
}

static void split3_scalar(const uint8_t *in, uint8_t *a, uint8_t *b, uint8_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        a[i] = in[3 * i];
        b[i] = in[3 * i + 1];
        c[i] = in[3 * i + 2];
    }
}

const jf_kernels thumb__jf_scalar = {
    .rgb_ycc = rgb_ycc_scalar,
    .down2 = down2_scalar,
    .fdct_quant = fdct_quant_scalar,
    .ac_stats = ac_stats_scalar,
    .interleave3 = interleave3_scalar,
    .split3 = split3_scalar,
    .name = "scalar",
};
