/* Inner kernels of the resampler, one table per instruction set. Private to resample.c,
 * simd/resample_scalar.c, simd/resample_avx2.c and the tests.
 *
 * Working rows are int16 with 7 fractional bits (v << 7), laid out with wc samples per pixel:
 * wc = 1 for grey, 4 otherwise (RGB is padded with a zero sample, grey+alpha is G G G A), so
 * every kernel sees either 1 or 4 interleaved samples. Alpha, when present, is sample 3 and
 * colour is premultiplied by it.
 *
 * Padding contract (lets AVX2 run whole vectors with no tails where noted):
 *  - working rows read by hpass have >= TR_PAD_PIX pixels of readable int16 after the row;
 *  - hpass weight rows hold wstride taps (a multiple of 16), zero past ntaps;
 *  - rows read by vpass and the buffers box_div / vpass write have >= 16 spare int16/uint32/u8
 *    samples after len (they may be overwritten with garbage). */
#ifndef THUMB_RESAMPLE_KERNELS_H
#define THUMB_RESAMPLE_KERNELS_H

#include "../internal.h"

#define TR_WBITS 14            /* fractional bits of a weight */
#define TR_VMAX 32640          /* 255 << 7 */
#define TR_PAD_PIX 16          /* readable pixels after a working row */
#define TR_BOX_MAX_N 65536u    /* largest box area: keeps the uint32 sums under 2^31 */

/* Horizontal taps of one axis. vw is the layout the vector kernels read for hpass_u8 with 3
 * channels: output pixels in pairs (2q, 2q+1), groups of 4 taps, and per group two vectors of
 * 16 int16 - taps (4g, 4g+1) then (4g+2, 4g+3) - whose 128-bit lane l holds the tap pair of
 * pixel 2q+l four times: vw[(((q * groups + g) * 2 + h) * 2 + l) * 8 + 2k + j] = w(2q+l, 4g+2h+j).
 * It covers out_w rounded up to a multiple of 4 (zero weights, start 0, past out_w). */
/* v1: the one-channel layout. Outputs in blocks of 8, lane l of a block holding outputs
 * 8b+4l .. 8b+4l+3, each reading the 16 input bytes from v1base[2b+l]; per tap pair p, a
 * pshufb control (v1ctl, 32 bytes: per output 4 bytes, taps 2p and 2p+1 of it as int16) and the
 * weights as madd pairs (v1w, 16 int16). Built only when every output's taps fit its lane's 16
 * bytes (v1pairs 0 otherwise); it covers out_w rounded up to 8 (zero weights past out_w). */
typedef struct tr_htab {
    const int32_t *start;
    const uint16_t *n;
    const int16_t *w;
    size_t wstride;
    const int16_t *vw;
    uint32_t groups;       /* ceil(max taps / 4) */
    const int32_t *v1base;
    const uint8_t *v1ctl;
    const int16_t *v1w;
    uint32_t v1pairs;      /* ceil(max taps / 2), 0: no one-channel layout */
} tr_htab;

typedef struct tr_kernels {
    /* u8 row of w pixels with ch channels -> working int16 row (wc = ch == 1 ? 1 : 4),
     * premultiplied for ch 2 and 4: colour = (c*a*128 + 127) / 255, alpha = a << 7. */
    void (*cvt)(const uint8_t *in, int16_t *out, size_t w, int ch);
    /* acc[r*wc + c] += sum of in[p*wc + c] for p in [r*k, min(r*k+k, w)), r < ceil(w/k). */
    void (*box_accum)(const int16_t *in, uint32_t *acc, size_t w, uint32_t k, int wc);
    /* out[i] = (acc[i] + n/2) / n for i < len, as ((acc + n/2) * m) >> s (see tr_box_magic). */
    void (*box_div)(const uint32_t *acc, int16_t *out, size_t len, uint32_t n, uint32_t m, unsigned s);
    /* Horizontal pass: out pixel i (wc samples) = clamp((sum_t w[i*wstride+t] *
     * in[(start[i]+t)*wc + c] + 2^13) >> 14, 0, 32640), t < ntaps[i]. */
    void (*hpass)(const int16_t *in, int16_t *out, size_t out_w, const int32_t *start,
                  const uint16_t *ntaps, const int16_t *w, size_t wstride, int wc);
    /* Horizontal pass straight from u8 (no box, no alpha; ch 1 or 3, ring rows of ch samples per
     * pixel): out[i*ch + c] = clamp((sum_t w(i,t) * in[(start[i]+t)*ch + c] + 64) >> 7, 0, 32640),
     * which is exactly cvt then hpass ((128 S + 2^13) >> 14 == (S + 64) >> 7).
     * in has >= (wstride + 8) * ch readable bytes past its last pixel; out has 16 spare int16. */
    void (*hpass_u8)(const uint8_t *in, int16_t *out, size_t out_w, const tr_htab *h, int ch);
    /* Vertical pass to u8: out[i] = clamp((sum_t w[t]*rows[t][i] + 2^20) >> 21, 0, 255), exactly
     * len bytes written (no padding needed on out; rows are read only below len). */
    void (*vpass_u8)(const int16_t *const *rows, const int16_t *w, int n, uint8_t *out, size_t len);
    /* Vertical pass to int16: out[i] = clamp((sum_t w[t]*rows[t][i] + 2^13) >> 14, 0, 32640). */
    void (*vpass_i16)(const int16_t *const *rows, const int16_t *w, int n, int16_t *out, size_t len);
    const char *name;
} tr_kernels;

/* Exact division by n via multiply-shift: for x < 2^31, floor(x/n) == (x * m) >> s with
 * l = ceil(log2 n), s = 31 + l, m = ceil(2^s / n). Proof (Granlund-Montgomery): m = 2^s/n + e,
 * 0 <= e < 1, so x*m/2^s = x/n + e*x/2^s where e*x/2^s < 2^31/2^s = 2^-l <= 1/n; and
 * x/n = floor(x/n) + r/n with r <= n-1, so the sum stays below floor(x/n) + 1.
 * m < 2^32 because 2^(l-1) < n. The box sums are < 32640 * 65536 + 32768 < 2^31. */
static inline void tr_box_magic(uint32_t n, uint32_t *m, unsigned *s)
{
    unsigned l = 0;
    while ((1ull << l) < n)
        l++;
    *s = 31 + l;
    *m = (uint32_t)(((1ull << *s) + n - 1) / n);
}

/* Premultiply: (t*128 + 127) / 255 for t = c*a <= 65025, as (t * PM_M + PM_B) >> PM_S with
 * 32-bit arithmetic (t * PM_M < 2^32). Checked exhaustively over every t by test_simd. */
#define TR_PM_M 65793u
#define TR_PM_B 65533u
#define TR_PM_S 17

THUMB_HIDDEN const tr_kernels *thumb__resample_kernels(unsigned features);
THUMB_HIDDEN extern const tr_kernels thumb__resample_scalar;
#if (defined(__x86_64__) || defined(__i386__))
#define TR_HAVE_AVX2 1
THUMB_HIDDEN extern const tr_kernels thumb__resample_avx2;
#endif

/* Test hook: tresize_new with the kernels chosen by features (THUMB_CPU_AVX2 or 0) instead
 * of thumb__cpu_features(). AVX2 is only used if features asks for it AND the CPU has it. */
THUMB_HIDDEN int tresize_new_with(tresize **r, thumb_ctx *ctx, int channels, int kernel,
                                  const tresize_axis *x, const tresize_axis *y,
                                  uint8_t *out, size_t out_stride, unsigned features);

#endif
