/* AVX2 IDCTs for jdfast: libjpeg's islow, 4x4 and 2x2 arithmetic (jdfast.c has the scalar
 * forms) in 32-bit lanes, one lane per column in the first pass and per row in the second.
 * For coefficients a valid file can hold (dequantised values well inside 16 bits) every sum
 * fits in 32 bits and the samples are the scalar code's; tests/test_jdfast.c checks both
 * against libjpeg. Compiled without -mavx2: each function carries target("avx2"). */
#include "../jdfast.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))

/* row r of the block, dequantised, as 8 lanes */
AVX2 static inline __m256i dq_row(const int16_t *c, const int16_t *q, int r)
{
    __m256i a = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(c + 8 * r)));
    __m256i b = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(q + 8 * r)));
    return _mm256_mullo_epi32(a, b);
}

#define K8(x) _mm256_set1_epi32(x)
#define K4(x) _mm_set1_epi32(x)
#define MUL8(a, k) _mm256_mullo_epi32((a), K8(k))
#define MUL4(a, k) _mm_mullo_epi32((a), K4(k))

/* value + 128, clamped to 0..255 by the packs that follow (libjpeg's SIMD IDCTs saturate) */
AVX2 static inline __m128i rl4(__m128i x)
{
    return _mm_add_epi32(x, K4(128));
}
AVX2 static inline __m256i rl8(__m256i x)
{
    return _mm256_add_epi32(x, K8(128));
}

AVX2 static void idct2_avx2(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)
{
    __m256i d0 = dq_row(in, q, 0), d1 = dq_row(in, q, 1), d3 = dq_row(in, q, 3), d5 = dq_row(in, q, 5),
            d7 = dq_row(in, q, 7);
    __m256i t10 = _mm256_slli_epi32(d0, 15);
    __m256i t0 = _mm256_add_epi32(_mm256_add_epi32(MUL8(d7, -5906), MUL8(d5, 6967)),
                                  _mm256_add_epi32(MUL8(d3, -10426), MUL8(d1, 29692)));
    __m256i w0 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(t10, t0), K8(4096)), 13);
    __m256i w1 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_sub_epi32(t10, t0), K8(4096)), 13);
    /* second pass: per row, T = w7*-5906 + w5*6967 + w3*-10426 + w1*29692 */
    const __m256i k = _mm256_setr_epi32(0, 29692, 0, -10426, 0, 6967, 0, -5906);
    __m256i h = _mm256_hadd_epi32(_mm256_mullo_epi32(w0, k), _mm256_mullo_epi32(w1, k));
    h = _mm256_hadd_epi32(h, h); /* lanes 0, 1: rows 0, 1 of the low half; same of the high half */
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    /* lanes: T0, T1; the DC terms w0[0], w1[0] */
    __m128i dc = _mm_unpacklo_epi32(_mm256_castsi256_si128(w0), _mm256_castsi256_si128(w1));
    dc = _mm_slli_epi32(dc, 15);
    __m128i a = _mm_add_epi32(_mm_add_epi32(dc, t), K4(1 << 19));
    __m128i b = _mm_add_epi32(_mm_sub_epi32(dc, t), K4(1 << 19));
    a = rl4(_mm_srai_epi32(a, 20)); /* row 0 col 0, row 1 col 0 */
    b = rl4(_mm_srai_epi32(b, 20)); /* row 0 col 1, row 1 col 1 */
    __m128i v = _mm_unpacklo_epi32(a, b); /* r0c0 r0c1 r1c0 r1c1 */
    v = _mm_packs_epi32(v, v);
    v = _mm_packus_epi16(v, v);
    uint32_t px = (uint32_t)_mm_cvtsi128_si32(v);
    memcpy(out, &px, 2);
    memcpy(out + stride, (uint8_t *)&px + 2, 2);
}

AVX2 static void idct4_avx2(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)
{
    __m256i d0 = dq_row(in, q, 0), d1 = dq_row(in, q, 1), d2 = dq_row(in, q, 2), d3 = dq_row(in, q, 3),
            d5 = dq_row(in, q, 5), d6 = dq_row(in, q, 6), d7 = dq_row(in, q, 7);
    __m256i t0 = _mm256_slli_epi32(d0, 14);
    __m256i t2 = _mm256_add_epi32(MUL8(d2, 15137), MUL8(d6, -6270));
    __m256i t10 = _mm256_add_epi32(t0, t2), t12 = _mm256_sub_epi32(t0, t2);
    __m256i o0 = _mm256_add_epi32(_mm256_add_epi32(MUL8(d7, -1730), MUL8(d5, 11893)),
                                  _mm256_add_epi32(MUL8(d3, -17799), MUL8(d1, 8697)));
    __m256i o2 = _mm256_add_epi32(_mm256_add_epi32(MUL8(d7, -4176), MUL8(d5, -4926)),
                                  _mm256_add_epi32(MUL8(d3, 7373), MUL8(d1, 20995)));
    const __m256i r1 = K8(1 << 11);
    __m256i w0 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(t10, o2), r1), 12);
    __m256i w3 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_sub_epi32(t10, o2), r1), 12);
    __m256i w1 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(t12, o0), r1), 12);
    __m256i w2 = _mm256_srai_epi32(_mm256_add_epi32(_mm256_sub_epi32(t12, o0), r1), 12);
    /* transpose 4 rows x 8 columns: column pairs (0,4) (1,5) (2,6) (3,7), lanes = rows */
    __m256i a = _mm256_unpacklo_epi32(w0, w1), b = _mm256_unpacklo_epi32(w2, w3);
    __m256i c = _mm256_unpackhi_epi32(w0, w1), d = _mm256_unpackhi_epi32(w2, w3);
    __m256i c04 = _mm256_unpacklo_epi64(a, b), c15 = _mm256_unpackhi_epi64(a, b);
    __m256i c26 = _mm256_unpacklo_epi64(c, d), c37 = _mm256_unpackhi_epi64(c, d);
    __m128i W0 = _mm256_castsi256_si128(c04);
    __m128i W1 = _mm256_castsi256_si128(c15), W5 = _mm256_extracti128_si256(c15, 1);
    __m128i W2 = _mm256_castsi256_si128(c26), W6 = _mm256_extracti128_si256(c26, 1);
    __m128i W3 = _mm256_castsi256_si128(c37), W7 = _mm256_extracti128_si256(c37, 1);
    __m128i s0 = _mm_slli_epi32(W0, 14);
    __m128i s2 = _mm_add_epi32(MUL4(W2, 15137), MUL4(W6, -6270));
    __m128i s10 = _mm_add_epi32(s0, s2), s12 = _mm_sub_epi32(s0, s2);
    __m128i p0 = _mm_add_epi32(_mm_add_epi32(MUL4(W7, -1730), MUL4(W5, 11893)),
                               _mm_add_epi32(MUL4(W3, -17799), MUL4(W1, 8697)));
    __m128i p2 = _mm_add_epi32(_mm_add_epi32(MUL4(W7, -4176), MUL4(W5, -4926)),
                               _mm_add_epi32(MUL4(W3, 7373), MUL4(W1, 20995)));
    const __m128i r2 = K4(1 << 18);
    __m128i x0 = rl4(_mm_srai_epi32(_mm_add_epi32(_mm_add_epi32(s10, p2), r2), 19));
    __m128i x3 = rl4(_mm_srai_epi32(_mm_add_epi32(_mm_sub_epi32(s10, p2), r2), 19));
    __m128i x1 = rl4(_mm_srai_epi32(_mm_add_epi32(_mm_add_epi32(s12, p0), r2), 19));
    __m128i x2 = rl4(_mm_srai_epi32(_mm_add_epi32(_mm_sub_epi32(s12, p0), r2), 19));
    /* bytes column-major (x0 rows 0-3, x1 rows 0-3, ...) -> row-major */
    __m128i v = _mm_packus_epi16(_mm_packs_epi32(x0, x1), _mm_packs_epi32(x2, x3));
    v = _mm_shuffle_epi8(v, _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    uint32_t r[4];
    _mm_storeu_si128((__m128i *)r, v);
    for (int i = 0; i < 4; i++)
        memcpy(out + (size_t)i * stride, &r[i], 4);
}

/* one 8-point islow pass over 8 lanes; outputs before the final descale */
AVX2 static inline void islow8(const __m256i x[8], __m256i o[8])
{
    __m256i z1 = MUL8(_mm256_add_epi32(x[2], x[6]), 4433);
    __m256i t2 = _mm256_add_epi32(z1, MUL8(x[6], -15137)), t3 = _mm256_add_epi32(z1, MUL8(x[2], 6270));
    __m256i t0 = _mm256_slli_epi32(_mm256_add_epi32(x[0], x[4]), 13);
    __m256i t1 = _mm256_slli_epi32(_mm256_sub_epi32(x[0], x[4]), 13);
    __m256i t10 = _mm256_add_epi32(t0, t3), t13 = _mm256_sub_epi32(t0, t3);
    __m256i t11 = _mm256_add_epi32(t1, t2), t12 = _mm256_sub_epi32(t1, t2);
    __m256i a0 = x[7], a1 = x[5], a2 = x[3], a3 = x[1];
    __m256i y1 = _mm256_add_epi32(a0, a3), y2 = _mm256_add_epi32(a1, a2);
    __m256i y3 = _mm256_add_epi32(a0, a2), y4 = _mm256_add_epi32(a1, a3);
    __m256i z5 = MUL8(_mm256_add_epi32(y3, y4), 9633);
    a0 = MUL8(a0, 2446);
    a1 = MUL8(a1, 16819);
    a2 = MUL8(a2, 25172);
    a3 = MUL8(a3, 12299);
    y1 = MUL8(y1, -7373);
    y2 = MUL8(y2, -20995);
    y3 = _mm256_add_epi32(MUL8(y3, -16069), z5);
    y4 = _mm256_add_epi32(MUL8(y4, -3196), z5);
    a0 = _mm256_add_epi32(a0, _mm256_add_epi32(y1, y3));
    a1 = _mm256_add_epi32(a1, _mm256_add_epi32(y2, y4));
    a2 = _mm256_add_epi32(a2, _mm256_add_epi32(y2, y3));
    a3 = _mm256_add_epi32(a3, _mm256_add_epi32(y1, y4));
    o[0] = _mm256_add_epi32(t10, a3);
    o[7] = _mm256_sub_epi32(t10, a3);
    o[1] = _mm256_add_epi32(t11, a2);
    o[6] = _mm256_sub_epi32(t11, a2);
    o[2] = _mm256_add_epi32(t12, a1);
    o[5] = _mm256_sub_epi32(t12, a1);
    o[3] = _mm256_add_epi32(t13, a0);
    o[4] = _mm256_sub_epi32(t13, a0);
}

AVX2 static inline void transpose8(__m256i r[8])
{
    __m256i a0 = _mm256_unpacklo_epi32(r[0], r[1]), a1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i a2 = _mm256_unpacklo_epi32(r[2], r[3]), a3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i a4 = _mm256_unpacklo_epi32(r[4], r[5]), a5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i a6 = _mm256_unpacklo_epi32(r[6], r[7]), a7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i b0 = _mm256_unpacklo_epi64(a0, a2), b1 = _mm256_unpackhi_epi64(a0, a2);
    __m256i b2 = _mm256_unpacklo_epi64(a1, a3), b3 = _mm256_unpackhi_epi64(a1, a3);
    __m256i b4 = _mm256_unpacklo_epi64(a4, a6), b5 = _mm256_unpackhi_epi64(a4, a6);
    __m256i b6 = _mm256_unpacklo_epi64(a5, a7), b7 = _mm256_unpackhi_epi64(a5, a7);
    r[0] = _mm256_permute2x128_si256(b0, b4, 0x20);
    r[1] = _mm256_permute2x128_si256(b1, b5, 0x20);
    r[2] = _mm256_permute2x128_si256(b2, b6, 0x20);
    r[3] = _mm256_permute2x128_si256(b3, b7, 0x20);
    r[4] = _mm256_permute2x128_si256(b0, b4, 0x31);
    r[5] = _mm256_permute2x128_si256(b1, b5, 0x31);
    r[6] = _mm256_permute2x128_si256(b2, b6, 0x31);
    r[7] = _mm256_permute2x128_si256(b3, b7, 0x31);
}

AVX2 static void idct8_avx2(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)
{
    __m256i x[8], o[8];
    for (int r = 0; r < 8; r++)
        x[r] = dq_row(in, q, r);
    islow8(x, o);
    for (int r = 0; r < 8; r++)
        x[r] = _mm256_srai_epi32(_mm256_add_epi32(o[r], K8(1 << 10)), 11);
    transpose8(x); /* x[j]: column j of the work array, lanes = rows */
    islow8(x, o);
    for (int j = 0; j < 8; j++)
        o[j] = rl8(_mm256_srai_epi32(_mm256_add_epi32(o[j], K8(1 << 17)), 18));
    transpose8(o); /* o[r]: row r */
    for (int r = 0; r < 8; r += 2) {
        __m256i p = _mm256_packs_epi32(o[r], o[r + 1]); /* r: 0-3 | r+1: 0-3 || r: 4-7 | r+1: 4-7 */
        p = _mm256_permute4x64_epi64(p, 0xD8);          /* r: 0-7 | r+1: 0-7 */
        __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
        _mm_storel_epi64((__m128i *)(out + (size_t)r * stride), b);
        _mm_storel_epi64((__m128i *)(out + (size_t)(r + 1) * stride), _mm_srli_si128(b, 8));
    }
}

const jd_idct thumb__jd_idct_avx2 = {idct2_avx2, idct4_avx2, idct8_avx2};
#endif
