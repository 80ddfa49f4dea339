/* AVX2 IDCTs for jdfast: libjpeg's islow, 4x4 and 2x2 arithmetic (jdfast.c has the scalar
 * forms) with 16-bit multiply-adds into 32-bit sums, as libjpeg-turbo's own SIMD IDCTs work. For
 * coefficients a valid file holds (dequantised values within 16 bits, pass-1 results too) the
 * samples are the scalar code's; tests/test_jdfast.c checks both against libjpeg and each other,
 * fuzz_jdfast keeps checking. Compiled without -mavx2: each function carries target("avx2"). */
#include "../jdfast.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))
#include "avx2_transpose.h"

/* Rows of the block dequantised in 16 bits (libjpeg's SIMD IDCTs do the same) and the products
 * as madd pairs: P(a, b) holds a, b of each column side by side, columns 0-7 over the two halves,
 * so madd(P(a, b), K(x, y)) is a * x + b * y for the 8 columns in 32-bit lanes. The sums are
 * libjpeg's, regrouped per coefficient (exact: everything before a descale is linear). */
AVX2 static inline __m128i dq16(const int16_t *c, const __m128i *q, int r)
{
    return _mm_mullo_epi16(_mm_loadu_si128((const __m128i *)(c + 8 * r)), q[r]);
}
AVX2 static inline __m256i P(__m128i a, __m128i b)
{
    return _mm256_set_m128i(_mm_unpackhi_epi16(a, b), _mm_unpacklo_epi16(a, b));
}
#define K2(x, y) _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)(int16_t)(y) << 16) | (uint16_t)(int16_t)(x)))
#define MADD(p, x, y) _mm256_madd_epi16((p), K2(x, y))
#define K8(x) _mm256_set1_epi32(x)
#define K4(x) _mm_set1_epi32(x)

/* descale by n: (x + 2^(n-1)) >> n */
#define DS8(x, n) _mm256_srai_epi32(_mm256_add_epi32((x), K8(1 << ((n)-1))), (n))
#define DS4(x, n) _mm_srai_epi32(_mm_add_epi32((x), K4(1 << ((n)-1))), (n))

/* 8 int32 lanes -> 8 int16 (saturating, as libjpeg's SIMD between passes) */
AVX2 static inline __m128i pack8(__m256i x)
{
    return _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
}

AVX2 static inline __attribute__((always_inline)) void idct2_core(const int16_t *in, const __m128i *q, uint8_t *out,
                                                                  size_t stride)
{
    __m128i d0 = dq16(in, q, 0), d1 = dq16(in, q, 1), d3 = dq16(in, q, 3), d5 = dq16(in, q, 5), d7 = dq16(in, q, 7);
    __m256i t10 = _mm256_slli_epi32(_mm256_cvtepi16_epi32(d0), 15);
    __m256i t0 = _mm256_add_epi32(MADD(P(d1, d3), 29692, -10426), MADD(P(d5, d7), 6967, -5906));
    __m256i w0 = DS8(_mm256_add_epi32(t10, t0), 13), w1 = DS8(_mm256_sub_epi32(t10, t0), 13);
    /* second pass, per row: T = w1*29692 + w3*-10426 + w5*6967 + w7*-5906 over the row's columns */
    __m256i rows = _mm256_set_m128i(pack8(w1), pack8(w0));
    const __m256i k = _mm256_setr_epi16(0, 29692, 0, -10426, 0, 6967, 0, -5906, 0, 29692, 0, -10426, 0, 6967, 0,
                                        -5906);
    __m256i h = _mm256_madd_epi16(rows, k);            /* row 0: 4 partials | row 1: 4 partials */
    h = _mm256_hadd_epi32(h, h);
    h = _mm256_hadd_epi32(h, h);                       /* lane 0: T0 | lane 4: T1 */
    __m128i t = _mm_unpacklo_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)); /* T0 T1 */
    __m128i dc = _mm_unpacklo_epi32(_mm256_castsi256_si128(w0), _mm256_castsi256_si128(w1));
    dc = _mm_slli_epi32(_mm_cvtepi16_epi32(_mm_packs_epi32(dc, dc)), 15); /* the packed (int16) values */
    __m128i a = DS4(_mm_add_epi32(dc, t), 20), b = DS4(_mm_sub_epi32(dc, t), 20);
    __m128i v = _mm_add_epi32(_mm_unpacklo_epi32(a, b), K4(128)); /* r0c0 r0c1 r1c0 r1c1 */
    v = _mm_packs_epi32(v, v);
    v = _mm_packus_epi16(v, v);
    uint32_t px = (uint32_t)_mm_cvtsi128_si32(v);
    memcpy(out, &px, 2);
    memcpy(out + stride, (uint8_t *)&px + 2, 2);
}

/* idct2_core for two blocks at once, one per 128-bit lane: the same sums lane by lane (the
 * columns in two halves, 0-3 and 4-7, instead of one 256-bit row), so the same samples. */
AVX2 static inline __attribute__((always_inline)) void idct2_pair(const int16_t *a, const int16_t *b,
                                                                  const __m256i *q2, uint8_t *oa, uint8_t *ob,
                                                                  size_t stride)
{
#define DQ2(r) _mm256_mullo_epi16(_mm256_loadu2_m128i((const __m128i *)(b + 8 * (r)), (const __m128i *)(a + 8 * (r))), q2[r])
    __m256i d0 = DQ2(0), d1 = DQ2(1), d3 = DQ2(3), d5 = DQ2(5), d7 = DQ2(7);
#undef DQ2
    const __m256i z = _mm256_setzero_si256();
    /* c * 2^15 from int16 c: (c << 16) >> 1 */
    __m256i t10l = _mm256_srai_epi32(_mm256_unpacklo_epi16(z, d0), 1);
    __m256i t10h = _mm256_srai_epi32(_mm256_unpackhi_epi16(z, d0), 1);
    __m256i t0l = _mm256_add_epi32(MADD(_mm256_unpacklo_epi16(d1, d3), 29692, -10426),
                                   MADD(_mm256_unpacklo_epi16(d5, d7), 6967, -5906));
    __m256i t0h = _mm256_add_epi32(MADD(_mm256_unpackhi_epi16(d1, d3), 29692, -10426),
                                   MADD(_mm256_unpackhi_epi16(d5, d7), 6967, -5906));
    /* rows 0 and 1 of each block's work array, columns 0-7, saturated to 16 bits */
    __m256i r0 = _mm256_packs_epi32(DS8(_mm256_add_epi32(t10l, t0l), 13), DS8(_mm256_add_epi32(t10h, t0h), 13));
    __m256i r1 = _mm256_packs_epi32(DS8(_mm256_sub_epi32(t10l, t0l), 13), DS8(_mm256_sub_epi32(t10h, t0h), 13));
    const __m256i k = _mm256_setr_epi16(0, 29692, 0, -10426, 0, 6967, 0, -5906, 0, 29692, 0, -10426, 0, 6967, 0,
                                        -5906);
    __m256i h = _mm256_hadd_epi32(_mm256_madd_epi16(r0, k), _mm256_madd_epi16(r1, k));
    h = _mm256_hadd_epi32(h, h); /* per lane: T0 T1 T0 T1 */
    /* column 0 of rows 0, 1 as int32 * 2^15 */
    __m256i dc = _mm256_srai_epi32(_mm256_slli_epi32(_mm256_unpacklo_epi32(r0, r1), 16), 1);
    __m256i pl = DS8(_mm256_add_epi32(dc, h), 20), mi = DS8(_mm256_sub_epi32(dc, h), 20);
    __m256i v = _mm256_add_epi32(_mm256_unpacklo_epi32(pl, mi), K8(128)); /* r0c0 r0c1 r1c0 r1c1 */
    v = _mm256_packs_epi32(v, v);
    v = _mm256_packus_epi16(v, v);
    uint32_t pa = (uint32_t)_mm256_cvtsi256_si32(v), pb = (uint32_t)_mm256_extract_epi32(v, 4);
    memcpy(oa, &pa, 2);
    memcpy(oa + stride, (uint8_t *)&pa + 2, 2);
    memcpy(ob, &pb, 2);
    memcpy(ob + stride, (uint8_t *)&pb + 2, 2);
}

/* jpeg_idct_4x4's first pass on madd pairs of rows (0, 2), (6, 0), (1, 3), (5, 7): work-array
 * rows 0-3 in 32 bits, descaled */
AVX2 static inline void idct4_pass1(__m256i p02, __m256i p6, __m256i p13, __m256i p57, __m256i v[4])
{
    __m256i t10 = _mm256_add_epi32(MADD(p02, 16384, 15137), MADD(p6, -6270, 0));
    __m256i t12 = _mm256_add_epi32(MADD(p02, 16384, -15137), MADD(p6, 6270, 0));
    __m256i o0 = _mm256_add_epi32(MADD(p13, 8697, -17799), MADD(p57, 11893, -1730));
    __m256i o2 = _mm256_add_epi32(MADD(p13, 20995, 7373), MADD(p57, -4926, -4176));
    v[0] = DS8(_mm256_add_epi32(t10, o2), 12);
    v[3] = DS8(_mm256_sub_epi32(t10, o2), 12);
    v[1] = DS8(_mm256_add_epi32(t12, o0), 12);
    v[2] = DS8(_mm256_sub_epi32(t12, o0), 12);
}

/* Its second pass: per 128-bit lane, one work-array row (int16, columns 0-7) -> output columns
 * 0-3 before the final descale (column i = sum over j of w[j] * K_i[j]; column 4 unused) */
AVX2 static inline __m256i idct4_pass2(__m256i r)
{
    const __m256i k0 = _mm256_setr_epi16(16384, 20995, 15137, 7373, 0, -4926, -6270, -4176, 16384, 20995, 15137,
                                         7373, 0, -4926, -6270, -4176);
    const __m256i k1 = _mm256_setr_epi16(16384, 8697, -15137, -17799, 0, 11893, 6270, -1730, 16384, 8697, -15137,
                                         -17799, 0, 11893, 6270, -1730);
    const __m256i k2 = _mm256_setr_epi16(16384, -8697, -15137, 17799, 0, -11893, 6270, 1730, 16384, -8697, -15137,
                                         17799, 0, -11893, 6270, 1730);
    const __m256i k3 = _mm256_setr_epi16(16384, -20995, 15137, -7373, 0, 4926, -6270, 4176, 16384, -20995, 15137,
                                         -7373, 0, 4926, -6270, 4176);
    return _mm256_hadd_epi32(_mm256_hadd_epi32(_mm256_madd_epi16(r, k0), _mm256_madd_epi16(r, k1)),
                             _mm256_hadd_epi32(_mm256_madd_epi16(r, k2), _mm256_madd_epi16(r, k3)));
}

AVX2 static inline __attribute__((always_inline)) void idct4_core(const int16_t *in, const __m128i *q, uint8_t *out,
                                                                  size_t stride)
{
    __m128i d0 = dq16(in, q, 0), d1 = dq16(in, q, 1), d2 = dq16(in, q, 2), d3 = dq16(in, q, 3),
            d5 = dq16(in, q, 5), d6 = dq16(in, q, 6), d7 = dq16(in, q, 7);
    __m256i v[4];
    idct4_pass1(P(d0, d2), P(d6, _mm_setzero_si128()), P(d1, d3), P(d5, d7), v);
    /* x01: row 0 columns 0-3 | row 1 columns 0-3 */
    __m256i x01 = idct4_pass2(_mm256_set_m128i(pack8(v[1]), pack8(v[0])));
    __m256i x23 = idct4_pass2(_mm256_set_m128i(pack8(v[3]), pack8(v[2])));
    x01 = _mm256_add_epi32(DS8(x01, 19), K8(128));
    x23 = _mm256_add_epi32(DS8(x23, 19), K8(128));
    __m256i p = _mm256_packs_epi32(x01, x23); /* r0 | r2 || r1 | r3 */
    __m128i o = _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1)); /* r0 r2 r1 r3 */
    uint32_t r[4];
    _mm_storeu_si128((__m128i *)r, o);
    memcpy(out, &r[0], 4);
    memcpy(out + stride, &r[2], 4);
    memcpy(out + 2 * stride, &r[1], 4);
    memcpy(out + 3 * stride, &r[3], 4);
}

/* idct4_core for two blocks at once, one per 128-bit lane (columns in halves 0-3 and 4-7) */
AVX2 static inline __attribute__((always_inline)) void idct4_pair(const int16_t *a, const int16_t *b,
                                                                  const __m256i *q2, uint8_t *oa, uint8_t *ob,
                                                                  size_t stride)
{
#define DQ2(r) _mm256_mullo_epi16(_mm256_loadu2_m128i((const __m128i *)(b + 8 * (r)), (const __m128i *)(a + 8 * (r))), q2[r])
    __m256i d0 = DQ2(0), d1 = DQ2(1), d2 = DQ2(2), d3 = DQ2(3), d5 = DQ2(5), d6 = DQ2(6), d7 = DQ2(7);
#undef DQ2
    const __m256i z = _mm256_setzero_si256();
    __m256i lo[4], hi[4], x[4];
    idct4_pass1(_mm256_unpacklo_epi16(d0, d2), _mm256_unpacklo_epi16(d6, z), _mm256_unpacklo_epi16(d1, d3),
                _mm256_unpacklo_epi16(d5, d7), lo);
    idct4_pass1(_mm256_unpackhi_epi16(d0, d2), _mm256_unpackhi_epi16(d6, z), _mm256_unpackhi_epi16(d1, d3),
                _mm256_unpackhi_epi16(d5, d7), hi);
    for (int r = 0; r < 4; r++) /* per lane: row r of the work array (saturated), then of the output */
        x[r] = _mm256_add_epi32(DS8(idct4_pass2(_mm256_packs_epi32(lo[r], hi[r])), 19), K8(128));
    /* per lane: rows 0, 1, 2, 3 of the block, 4 bytes each */
    __m256i v = _mm256_packus_epi16(_mm256_packs_epi32(x[0], x[1]), _mm256_packs_epi32(x[2], x[3]));
    uint32_t r[8];
    _mm256_storeu_si256((__m256i *)(void *)r, v);
    for (int i = 0; i < 4; i++) {
        memcpy(oa + (size_t)i * stride, &r[i], 4);
        memcpy(ob + (size_t)i * stride, &r[4 + i], 4);
    }
}

/* One islow pass (jidctint.c), 8 columns at once from 8 int16 rows; the 8 outputs before the
 * final descale. The odd part's rotations are folded per coefficient. */
AVX2 static inline void islow8(const __m128i x[8], __m256i o[8])
{
    __m256i p04 = P(x[0], x[4]), p26 = P(x[2], x[6]), p13 = P(x[1], x[3]), p57 = P(x[5], x[7]);
    __m256i t0 = MADD(p04, 8192, 8192), t1 = MADD(p04, 8192, -8192);
    __m256i t3 = MADD(p26, 10703, 4433), t2 = MADD(p26, 4433, -10704);
    __m256i t10 = _mm256_add_epi32(t0, t3), t13 = _mm256_sub_epi32(t0, t3);
    __m256i t11 = _mm256_add_epi32(t1, t2), t12 = _mm256_sub_epi32(t1, t2);
    __m256i a0 = _mm256_add_epi32(MADD(p13, 2260, -6436), MADD(p57, 9633, -11363));
    __m256i a1 = _mm256_add_epi32(MADD(p13, 6437, -11362), MADD(p57, 2261, 9633));
    __m256i a2 = _mm256_add_epi32(MADD(p13, 9633, -2259), MADD(p57, -11362, -6436));
    __m256i a3 = _mm256_add_epi32(MADD(p13, 11363, 9633), MADD(p57, 6437, 2260));
    o[0] = _mm256_add_epi32(t10, a3);
    o[7] = _mm256_sub_epi32(t10, a3);
    o[1] = _mm256_add_epi32(t11, a2);
    o[6] = _mm256_sub_epi32(t11, a2);
    o[2] = _mm256_add_epi32(t12, a1);
    o[5] = _mm256_sub_epi32(t12, a1);
    o[3] = _mm256_add_epi32(t13, a0);
    o[4] = _mm256_sub_epi32(t13, a0);
}

/* 8x8 int16 transpose of one block, in the low lanes of transpose8x16 */
AVX2 static inline void transpose16(__m128i r[8])
{
    __m256i v[8];
    for (int i = 0; i < 8; i++)
        v[i] = _mm256_castsi128_si256(r[i]);
    transpose8x16(v);
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_castsi256_si128(v[i]);
}

AVX2 static inline __attribute__((always_inline)) void idct8_core(const int16_t *in, const __m128i *q, uint8_t *out,
                                                                  size_t stride)
{
    __m128i x[8];
    __m256i o[8];
    for (int r = 0; r < 8; r++)
        x[r] = dq16(in, q, r);
    islow8(x, o);
    for (int r = 0; r < 8; r++)
        x[r] = pack8(DS8(o[r], 11));
    transpose16(x); /* x[j]: column j of the work array, one lane per row */
    islow8(x, o);   /* o[i]: output column i, one lane per row */
    __m128i b[8];
    for (int i = 0; i < 8; i++)
        b[i] = pack8(_mm256_add_epi32(DS8(o[i], 18), K8(128)));
    transpose16(b); /* b[r]: row r */
    for (int r = 0; r < 8; r += 2) {
        __m128i v = _mm_packus_epi16(b[r], b[r + 1]);
        _mm_storel_epi64((__m128i *)(out + (size_t)r * stride), v);
        _mm_storel_epi64((__m128i *)(out + (size_t)(r + 1) * stride), _mm_srli_si128(v, 8));
    }
}

/* The quantiser's rows, loaded once per call */
AVX2 static inline void load_q(const int16_t *q, __m128i qr[8])
{
    for (int r = 0; r < 8; r++)
        qr[r] = _mm_loadu_si128((const __m128i *)(q + 8 * r));
}

AVX2 static inline void zero_block(int16_t *blk)
{
    /* 64 of the 80 entries (see jdfast.c) */
    for (int i = 0; i < 64; i += 16)
        _mm256_storeu_si256((__m256i *)(void *)(blk + i), _mm256_setzero_si256());
}

/* One block (the tests compare these with the scalar ones) and the run over a batch */
#define ONE_BLOCK(S)                                                                                           \
    AVX2 static void idct##S##_avx2(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)           \
    {                                                                                                          \
        __m128i qr[8];                                                                                         \
        load_q(q, qr);                                                                                         \
        idct##S##_core(in, qr, out, stride);                                                                   \
    }
#define KERNELS(S)                                                                                             \
    ONE_BLOCK(S)                                                                                               \
    JD_IDCT_RUN(AVX2, run##S##_avx2, S, __m128i qr[8]; load_q(q, qr), idct##S##_core(blk, qr, out, stride),    \
                zero_block(blk))
/* The 2x2 and 4x4 runs take blocks two at a time when both have more than their DC */
#define PAIR_RUN(S)                                                                                            \
    ONE_BLOCK(S)                                                                                               \
    AVX2 static void run##S##_avx2(int16_t *blk, size_t bstep, const bool *ac, size_t astep, uint32_t n,        \
                                   const int16_t *q, uint8_t *out, size_t ostep, size_t stride)                 \
    {                                                                                                          \
        __m128i qr[8];                                                                                         \
        __m256i q2[8];                                                                                         \
        load_q(q, qr);                                                                                         \
        for (int r = 0; r < 8; r++)                                                                            \
            q2[r] = _mm256_broadcastsi128_si256(qr[r]);                                                        \
        for (uint32_t i = 0; i < n;) {                                                                         \
            uint32_t step = 1;                                                                                 \
            if (i + 1 < n && ac[0] && ac[astep]) {                                                             \
                idct##S##_pair(blk, blk + bstep, q2, out, out + ostep, stride);                                \
                zero_block(blk);                                                                               \
                zero_block(blk + bstep);                                                                       \
                step = 2;                                                                                      \
            } else if (*ac) {                                                                                  \
                idct##S##_core(blk, qr, out, stride);                                                          \
                zero_block(blk);                                                                               \
            } else {                                                                                           \
                jd_fill_block(out, stride, (S), jd_dc_only(blk, q, (S)));                                      \
                blk[0] = 0;                                                                                    \
            }                                                                                                  \
            i += step;                                                                                         \
            blk += step * bstep;                                                                               \
            ac += step * astep;                                                                                \
            out += step * ostep;                                                                               \
        }                                                                                                      \
    }
PAIR_RUN(2)
PAIR_RUN(4)
KERNELS(8)
JD_IDCT_RUN(AVX2, run1_avx2, 1, (void)0, out[0] = jd_dc_only(blk, q, 1), zero_block(blk))

const jd_idct thumb__jd_idct_avx2 = {idct2_avx2, idct4_avx2, idct8_avx2, {run1_avx2, run2_avx2, run4_avx2, run8_avx2}};
#endif
