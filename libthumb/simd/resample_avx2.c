/* AVX2 resampler kernels. Same integer arithmetic as resample_scalar.c, so the same bytes:
 * sums are exact int32 (no overflow for the value and weight ranges, see resample_kernels.h),
 * and int32 addition is associative, so the order of the madd pairs does not matter.
 * Compiled without -mavx2: each function carries target("avx2") and is only reached through
 * the table after thumb__cpu_features() saw AVX2 and OS support. */
#include "resample_kernels.h"

#ifdef TR_HAVE_AVX2
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

/* 4 pixels of 4 u8 samples (alpha last) -> 16 int16: colour premultiplied, alpha << 7. */
static AVX2 inline __m256i premul4(__m128i px)
{
    const __m256i v = _mm256_cvtepu8_epi16(px);
    const __m256i abcast = _mm256_setr_epi8(6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15,
                                            6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15);
    const __m256i t = _mm256_mullo_epi16(v, _mm256_shuffle_epi8(v, abcast)); /* c*a <= 65025 */
    const __m256i M = _mm256_set1_epi32((int)TR_PM_M), B = _mm256_set1_epi32((int)TR_PM_B);
    __m256i lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(t));
    __m256i hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(t, 1));
    lo = _mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(lo, M), B), TR_PM_S);
    hi = _mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(hi, M), B), TR_PM_S);
    __m256i q = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xD8);
    return _mm256_blend_epi16(q, _mm256_slli_epi16(v, 7), 0x88);
}

static AVX2 void cvt_avx2(const uint8_t *in, int16_t *out, size_t w, int ch)
{
    size_t i = 0;
    switch (ch) {
    case 1:
        for (; i + 16 <= w; i += 16) {
            __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(in + i)));
            _mm256_storeu_si256((__m256i *)(out + i), _mm256_slli_epi16(v, 7));
        }
        break;
    case 2: {
        const __m128i gga = _mm_setr_epi8(0, 0, 0, 1, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 6, 7);
        for (; i + 4 <= w; i += 4) {
            __m128i px = _mm_shuffle_epi8(_mm_loadl_epi64((const __m128i *)(in + 2 * i)), gga);
            _mm256_storeu_si256((__m256i *)(out + 4 * i), premul4(px));
        }
        break;
    }
    case 3: {
        const __m256i m = _mm256_setr_epi8(0, -1, 1, -1, 2, -1, -1, -1, 3, -1, 4, -1, 5, -1, -1, -1,
                                           6, -1, 7, -1, 8, -1, -1, -1, 9, -1, 10, -1, 11, -1, -1, -1);
        for (; i + 6 <= w; i += 4) { /* 16-byte load of 12 used bytes stays inside the row */
            __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(in + 3 * i)));
            _mm256_storeu_si256((__m256i *)(out + 4 * i), _mm256_slli_epi16(_mm256_shuffle_epi8(v, m), 7));
        }
        break;
    }
    default:
        for (; i + 4 <= w; i += 4)
            _mm256_storeu_si256((__m256i *)(out + 4 * i), premul4(_mm_loadu_si128((const __m128i *)(in + 4 * i))));
        break;
    }
    if (i < w)
        thumb__resample_scalar.cvt(in + i * ch, out + i * (ch == 1 ? 1 : 4), w - i, ch);
}

static AVX2 void box_accum_avx2(const int16_t *in, uint32_t *acc, size_t w, uint32_t k, int wc)
{
    if (k == 1) {
        size_t n = w * wc, i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(in + i)));
            __m256i a = _mm256_loadu_si256((const __m256i *)(acc + i));
            _mm256_storeu_si256((__m256i *)(acc + i), _mm256_add_epi32(a, v));
        }
        for (; i < n; i++)
            acc[i] += (uint16_t)in[i];
        return;
    }
    if (wc == 4) {
        for (size_t p0 = 0, r = 0; p0 < w; p0 += k, r++) {
            size_t p1 = p0 + k < w ? p0 + k : w, p = p0;
            __m256i s = _mm256_setzero_si256();
            for (; p + 2 <= p1; p += 2)
                s = _mm256_add_epi32(s, _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(in + 4 * p))));
            if (p < p1)
                s = _mm256_add_epi32(s, _mm256_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)(in + 4 * p))));
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            __m128i a = _mm_loadu_si128((const __m128i *)(acc + 4 * r));
            _mm_storeu_si128((__m128i *)(acc + 4 * r), _mm_add_epi32(a, s4));
        }
        return;
    }
    size_t r = 0;
    if (k == 2) { /* grey, pairs: madd with ones adds neighbours (values <= 32640, no overflow) */
        const __m256i ones = _mm256_set1_epi16(1);
        for (; 2 * (r + 8) <= w; r += 8) {
            __m256i v = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(in + 2 * r)), ones);
            __m256i a = _mm256_loadu_si256((const __m256i *)(acc + r));
            _mm256_storeu_si256((__m256i *)(acc + r), _mm256_add_epi32(a, v));
        }
    }
    if (k * r < w)
        thumb__resample_scalar.box_accum(in + k * r, acc + r, w - k * r, k, wc);
}

static AVX2 void box_div_avx2(const uint32_t *acc, int16_t *out, size_t len, uint32_t n, uint32_t m, unsigned s)
{
    const __m256i half = _mm256_set1_epi32((int)(n / 2)), M = _mm256_set1_epi32((int)m);
    const __m128i sh = _mm_cvtsi32_si128((int)s);
    for (size_t i = 0; i < len; i += 8) { /* whole vectors: the buffers are padded */
        __m256i x = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + i)), half);
        __m256i even = _mm256_srl_epi64(_mm256_mul_epu32(x, M), sh);
        __m256i odd = _mm256_srl_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), M), sh);
        __m256i q = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
        q = _mm256_permute4x64_epi64(_mm256_packus_epi32(q, q), 0x08);
        _mm_storeu_si128((__m128i *)(out + i), _mm256_castsi256_si128(q));
    }
}

static AVX2 inline __m128i finish_h(__m128i s)
{
    s = _mm_srai_epi32(_mm_add_epi32(s, _mm_set1_epi32(1 << (TR_WBITS - 1))), TR_WBITS);
    s = _mm_packs_epi32(s, s);
    return _mm_min_epi16(_mm_max_epi16(s, _mm_setzero_si128()), _mm_set1_epi16(TR_VMAX));
}

static AVX2 void hpass_avx2(const int16_t *in, int16_t *out, size_t out_w, const int32_t *start,
                            const uint16_t *ntaps, const int16_t *w, size_t wstride, int wc)
{
    if (wc == 4) {
        /* 4 pixels per step: interleave pixel pairs (r0 r1 g0 g1 ...) so madd pairs taps. */
        const __m256i il = _mm256_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15,
                                            0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15);
        const __m256i widx = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
        for (size_t i = 0; i < out_w; i++) {
            const int16_t *wi = w + i * wstride, *src = in + (size_t)start[i] * 4;
            __m256i acc = _mm256_setzero_si256();
            for (unsigned t = 0; t < ntaps[i]; t += 4) { /* zero weights past ntaps */
                __m256i v = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(src + 4 * t)), il);
                __m256i wv = _mm256_permutevar8x32_epi32(
                    _mm256_castsi128_si256(_mm_loadl_epi64((const __m128i *)(wi + t))), widx);
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(v, wv));
            }
            __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
            _mm_storel_epi64((__m128i *)(out + 4 * i), finish_h(s));
        }
        return;
    }
    for (size_t i = 0; i < out_w; i++) {
        const int16_t *wi = w + i * wstride, *src = in + start[i];
        __m256i acc = _mm256_setzero_si256();
        for (unsigned t = 0; t < ntaps[i]; t += 16)
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(src + t)),
                                                          _mm256_loadu_si256((const __m256i *)(wi + t))));
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
        out[i] = (int16_t)_mm_extract_epi16(finish_h(s), 0);
    }
}

/* Sums for 16 samples at i: lo holds samples 0-3 and 8-11, hi 4-7 and 12-15 (lane order),
 * which is exactly what packs_epi32(lo, hi) puts back in order. */
static AVX2 inline void vsum16(const int16_t *const *rows, const int16_t *w, int n, size_t i,
                               __m256i *lo, __m256i *hi)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    int t = 0;
    for (; t + 1 < n; t += 2) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(rows[t] + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(rows[t + 1] + i));
        __m256i wp = _mm256_set1_epi32((int)(((uint32_t)(uint16_t)w[t + 1] << 16) | (uint16_t)w[t]));
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wp));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wp));
    }
    if (t < n) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(rows[t] + i)), z = _mm256_setzero_si256();
        __m256i wp = _mm256_set1_epi32((int)(uint16_t)w[t]);
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, z), wp));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, z), wp));
    }
    *lo = a0;
    *hi = a1;
}

/* n <= 2*NP taps with weights and row pointers held in registers; taps past n read row 0
 * with weight 0. */
static AVX2 inline __attribute__((always_inline)) size_t
vpass_u8_np(const int16_t *const *rows, const int16_t *w, int n, uint8_t *out, size_t len, const int NP)
{
    const int16_t *r[8];
    __m256i wp[4];
    for (int k = 0; k < NP; k++) {
        int t0 = 2 * k, t1 = 2 * k + 1;
        r[t0] = rows[t0 < n ? t0 : 0];
        r[t1] = rows[t1 < n ? t1 : 0];
        uint16_t w0 = t0 < n ? (uint16_t)w[t0] : 0, w1 = t1 < n ? (uint16_t)w[t1] : 0;
        wp[k] = _mm256_set1_epi32((int)(((uint32_t)w1 << 16) | w0));
    }
    const __m256i rnd = _mm256_set1_epi32(1 << 20);
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        __m256i lo = rnd, hi = rnd;
        for (int k = 0; k < NP; k++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(r[2 * k] + i));
            __m256i b = _mm256_loadu_si256((const __m256i *)(r[2 * k + 1] + i));
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wp[k]));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wp[k]));
        }
        lo = _mm256_srai_epi32(lo, 21);
        hi = _mm256_srai_epi32(hi, 21);
        __m256i p = _mm256_packs_epi32(lo, hi);                         /* saturating, then */
        p = _mm256_permute4x64_epi64(_mm256_packus_epi16(p, p), 0x08); /* clamp to 0..255 */
        _mm_storeu_si128((__m128i *)(out + i), _mm256_castsi256_si128(p));
    }
    return i;
}

static AVX2 void vpass_u8_avx2(const int16_t *const *rows, const int16_t *w, int n, uint8_t *out, size_t len)
{
    size_t i = 0;
    if (n <= 4) {
        i = vpass_u8_np(rows, w, n, out, len, 2);
    } else if (n <= 8) {
        i = vpass_u8_np(rows, w, n, out, len, 4);
    } else {
        const __m256i rnd = _mm256_set1_epi32(1 << 20);
        for (; i + 16 <= len; i += 16) {
            __m256i lo, hi;
            vsum16(rows, w, n, i, &lo, &hi);
            lo = _mm256_srai_epi32(_mm256_add_epi32(lo, rnd), 21);
            hi = _mm256_srai_epi32(_mm256_add_epi32(hi, rnd), 21);
            __m256i p = _mm256_packs_epi32(lo, hi);
            p = _mm256_permute4x64_epi64(_mm256_packus_epi16(p, p), 0x08);
            _mm_storeu_si128((__m128i *)(out + i), _mm256_castsi256_si128(p));
        }
    }
    for (; i < len; i++) { /* the scalar formula for the tail: out may end exactly at len */
        int32_t acc = 0;
        for (int t = 0; t < n; t++)
            acc += w[t] * rows[t][i];
        acc = (acc + (1 << 20)) >> 21;
        out[i] = (uint8_t)(acc < 0 ? 0 : acc > 255 ? 255 : acc);
    }
}

/* 2 output pixels (one per 128-bit lane), RGB from u8: 4 taps per group from one 16-byte load
 * per pixel, two shuffles to (r_t r_t+1 g_t g_t+1 b_t b_t+1 0 0) int16, madd by the tap pairs. */
static AVX2 inline __attribute__((always_inline)) __m256i
hsum_rgb2(const uint8_t *a, const uint8_t *b, const int16_t *vw, uint32_t groups)
{
    const __m256i s0 = _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1,
                                        0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1);
    const __m256i s1 = _mm256_setr_epi8(6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1,
                                        6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1);
    __m256i acc = _mm256_set1_epi32(64);
    for (uint32_t g = 0; g < groups; g++, a += 12, b += 12, vw += 32) {
        __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)a)),
                                            _mm_loadu_si128((const __m128i *)b), 1);
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_shuffle_epi8(v, s0),
                                                      _mm256_loadu_si256((const __m256i *)vw)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_shuffle_epi8(v, s1),
                                                      _mm256_loadu_si256((const __m256i *)(vw + 16))));
    }
    return _mm256_srai_epi32(acc, 7);
}

/* 4 RGB output pixels per step; G is a constant for the common tap counts so the group loop
 * unrolls. */
static AVX2 inline __attribute__((always_inline)) void
hpass_rgb(const uint8_t *in, int16_t *out, size_t out_w, const tr_htab *h, const uint32_t G)
{
    const __m256i compact = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, -1, -1, -1, -1,
                                             0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, -1, -1, -1, -1);
    const __m256i zero = _mm256_setzero_si256(), vmax = _mm256_set1_epi16(TR_VMAX);
    const int32_t *start = h->start;
    const int16_t *vw = h->vw;
    for (size_t i = 0; i < out_w; i += 4, vw += (size_t)G * 64) { /* vw, start: out_w rounded up to 4 */
        __m256i A = hsum_rgb2(in + 3 * (size_t)start[i], in + 3 * (size_t)start[i + 1], vw, G);
        __m256i B = hsum_rgb2(in + 3 * (size_t)start[i + 2], in + 3 * (size_t)start[i + 3], vw + (size_t)G * 32, G);
        __m256i p = _mm256_packs_epi32(A, B); /* lane 0: px0 px2, lane 1: px1 px3 (4 int16 each) */
        p = _mm256_min_epi16(_mm256_max_epi16(p, zero), vmax);
        p = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(p, 0xD8), compact);
        _mm_storeu_si128((__m128i *)(out + 3 * i), _mm256_castsi256_si128(p));
        _mm_storeu_si128((__m128i *)(out + 3 * i + 6), _mm256_extracti128_si256(p, 1));
    }
}

/* One channel, 8 outputs per step (one int32 lane each): each 128-bit lane loads the 16 input
 * bytes its 4 outputs read, a pshufb per tap pair lays out each output's two samples as int16,
 * a madd weighs them. P is a constant for the common tap counts so the pair loop unrolls. Writes
 * out_w rounded up to 8 (the ring rows have the room). */
static AVX2 inline __attribute__((always_inline)) void hpass_grey(const uint8_t *in, int16_t *out, size_t out_w,
                                                                  const tr_htab *h, const uint32_t P)
{
    const __m256i zero = _mm256_setzero_si256(), vmax = _mm256_set1_epi16(TR_VMAX);
    const uint8_t *ctl = h->v1ctl;
    const int16_t *w = h->v1w;
    for (size_t b = 0; b < (out_w + 7) / 8; b++, ctl += (size_t)P * 32, w += (size_t)P * 16) {
        __m256i v = _mm256_loadu2_m128i((const __m128i *)(in + h->v1base[2 * b + 1]),
                                        (const __m128i *)(in + h->v1base[2 * b]));
        __m256i acc = _mm256_set1_epi32(64);
        for (uint32_t p = 0; p < P; p++)
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(
                _mm256_shuffle_epi8(v, _mm256_loadu_si256((const __m256i *)(ctl + 32 * p))),
                _mm256_loadu_si256((const __m256i *)(w + 16 * p))));
        acc = _mm256_srai_epi32(acc, 7);
        __m256i s = _mm256_permute4x64_epi64(_mm256_packs_epi32(acc, acc), 0x08); /* outputs 0-7 */
        s = _mm256_min_epi16(_mm256_max_epi16(s, zero), vmax);
        _mm_storeu_si128((__m128i *)(out + 8 * b), _mm256_castsi256_si128(s));
    }
}

static AVX2 void hpass_u8_avx2(const uint8_t *in, int16_t *out, size_t out_w, const tr_htab *h, int ch)
{
    if (ch == 1 && h->v1pairs) {
        switch (h->v1pairs) { /* taps: 4 (enlarging), 7-8 (shrinking to about 1/1.3) */
        case 2: hpass_grey(in, out, out_w, h, 2); break;
        case 3: hpass_grey(in, out, out_w, h, 3); break;
        case 4: hpass_grey(in, out, out_w, h, 4); break;
        case 5: hpass_grey(in, out, out_w, h, 5); break;
        default: hpass_grey(in, out, out_w, h, h->v1pairs); break;
        }
        return;
    }
    if (ch == 3) {
        switch (h->groups) { /* up to 8 taps: shrinks to about 1/1.3; 12: to about 1/1.9 */
        case 1: hpass_rgb(in, out, out_w, h, 1); break;
        case 2: hpass_rgb(in, out, out_w, h, 2); break;
        case 3: hpass_rgb(in, out, out_w, h, 3); break;
        default: hpass_rgb(in, out, out_w, h, h->groups); break;
        }
        return;
    }
    for (size_t i = 0; i < out_w; i++) {
        const int16_t *wi = h->w + i * h->wstride;
        const uint8_t *src = in + h->start[i];
        __m256i acc = _mm256_setzero_si256();
        for (unsigned t = 0; t < h->n[i]; t += 16)
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(
                _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + t))),
                _mm256_loadu_si256((const __m256i *)(wi + t))));
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
        s = _mm_srai_epi32(_mm_add_epi32(s, _mm_set1_epi32(64)), 7);
        int32_t v = _mm_cvtsi128_si32(s);
        out[i] = (int16_t)(v < 0 ? 0 : v > TR_VMAX ? TR_VMAX : v);
    }
}

static AVX2 void vpass_i16_avx2(const int16_t *const *rows, const int16_t *w, int n, int16_t *out, size_t len)
{
    const __m256i rnd = _mm256_set1_epi32(1 << (TR_WBITS - 1));
    for (size_t i = 0; i < len; i += 16) {
        __m256i lo, hi;
        vsum16(rows, w, n, i, &lo, &hi);
        lo = _mm256_srai_epi32(_mm256_add_epi32(lo, rnd), TR_WBITS);
        hi = _mm256_srai_epi32(_mm256_add_epi32(hi, rnd), TR_WBITS);
        __m256i p = _mm256_packs_epi32(lo, hi);
        p = _mm256_min_epi16(_mm256_max_epi16(p, _mm256_setzero_si256()), _mm256_set1_epi16(TR_VMAX));
        _mm256_storeu_si256((__m256i *)(out + i), p);
    }
}

const tr_kernels thumb__resample_avx2 = {
    .cvt = cvt_avx2,
    .box_accum = box_accum_avx2,
    .box_div = box_div_avx2,
    .hpass = hpass_avx2,
    .hpass_u8 = hpass_u8_avx2,
    .vpass_u8 = vpass_u8_avx2,
    .vpass_i16 = vpass_i16_avx2,
    .name = "avx2",
};
#endif
