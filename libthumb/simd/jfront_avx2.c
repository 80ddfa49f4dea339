/* AVX2 kernels of the JPEG front end (see jfront.h). The same integer arithmetic as
 * jfront_scalar.c (exact int32 sums, int16 where every value fits), so the same bytes
 * (test_jfront compares them).
 * Compiled without -mavx2: each function carries target("avx2") and is only reached through
 * the table after thumb__cpu_features() saw AVX2 and OS support. */
#include "../jfront.h"

#ifdef JF_HAVE_AVX2
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))
#include "avx2_transpose.h"

/* 8 int32 (0..255) -> 8 bytes at out */
static AVX2 inline void store8(uint8_t *out, __m256i v)
{
    __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(w, w));
}

#define M16(...) _mm_setr_epi8(__VA_ARGS__)

/* 16 interleaved 3-byte pixels (48 bytes at p) -> their first, second and third bytes */
static AVX2 inline void split16(const uint8_t *p, __m128i *a, __m128i *b, __m128i *c)
{
    const __m128i a0 = M16(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i a1 = M16(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1);
    const __m128i a2 = M16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13);
    const __m128i b0 = M16(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b1 = M16(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1);
    const __m128i b2 = M16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14);
    const __m128i c0 = M16(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i c1 = M16(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1);
    const __m128i c2 = M16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15);
    __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    *a = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x0, a0), _mm_shuffle_epi8(x1, a1)), _mm_shuffle_epi8(x2, a2));
    *b = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x0, b0), _mm_shuffle_epi8(x1, b1)), _mm_shuffle_epi8(x2, b2));
    *c = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x0, c0), _mm_shuffle_epi8(x1, c1)), _mm_shuffle_epi8(x2, c2));
}

/* Y  = 19595 R + 38470 G + 7471 B + 2^15, with 38470 G = 22086 G + 16384 G (madd takes int16);
 * Cb = -11059 R - 21709 G + 32768 B + (128 << 16) + 2^15 - 1, the 32768 B as B << 15;
 * Cr = 32768 R - 27439 G - 5329 B + the same offset. Exact int32 sums, as jccolor.c's tables. */
#define PAIR(a, b) _mm256_set1_epi32((int)(((uint32_t)(uint16_t)(int16_t)(a)) | ((uint32_t)(uint16_t)(int16_t)(b) << 16)))

/* 8 pixels of R, G, B (low 8 bytes of r8, g8, b8) -> 8 Y, Cb, Cr */
static AVX2 inline void ycc8(__m128i r8, __m128i g8, __m128i b8, uint8_t *y, uint8_t *cb, uint8_t *cr)
{
    const __m256i y_rg = PAIR(JF_FIX(0.29900), JF_FIX(0.58700) - 16384), y_bg = PAIR(JF_FIX(0.11400), 16384);
    const __m256i cb_rg = PAIR(-JF_FIX(0.16874), -JF_FIX(0.33126)), cr_gb = PAIR(-JF_FIX(0.41869), -JF_FIX(0.08131));
    const __m256i yoff = _mm256_set1_epi32(1 << 15), coff = _mm256_set1_epi32((128 << 16) + (1 << 15) - 1);
    __m256i rg = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(r8, g8)); /* R0 G0 R1 G1 ... as int16 */
    __m256i bg = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(b8, g8));
    __m256i gb = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(g8, b8));
    __m256i r32 = _mm256_cvtepu8_epi32(r8), b32 = _mm256_cvtepu8_epi32(b8);
    __m256i vy = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(rg, y_rg), _mm256_madd_epi16(bg, y_bg)), yoff);
    __m256i vcb = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(rg, cb_rg), _mm256_slli_epi32(b32, 15)), coff);
    __m256i vcr = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(gb, cr_gb), _mm256_slli_epi32(r32, 15)), coff);
    store8(y, _mm256_srai_epi32(vy, 16));
    store8(cb, _mm256_srai_epi32(vcb, 16));
    store8(cr, _mm256_srai_epi32(vcr, 16));
}

static AVX2 void rgb_ycc_avx2(const uint8_t *rgb, uint8_t *y, uint8_t *cb, uint8_t *cr, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i r, g, b;
        split16(rgb + 3 * i, &r, &g, &b);
        ycc8(r, g, b, y + i, cb + i, cr + i);
        ycc8(_mm_unpackhi_epi64(r, r), _mm_unpackhi_epi64(g, g), _mm_unpackhi_epi64(b, b), y + i + 8, cb + i + 8,
             cr + i + 8);
    }
    if (i < n)
        thumb__jf_scalar.rgb_ycc(rgb + 3 * i, y + i, cb + i, cr + i, n - i);
}

static AVX2 void down2_avx2(const uint8_t *r0, const uint8_t *r1, uint8_t *out, size_t n)
{
    const __m256i ones = _mm256_set1_epi8(1);
    const __m256i bias = _mm256_set1_epi32(0x00020001); /* 1, 2, 1, 2, ... as int16 */
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(r0 + 2 * i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(r1 + 2 * i));
        __m256i s = _mm256_add_epi16(_mm256_maddubs_epi16(a, ones), _mm256_maddubs_epi16(b, ones));
        s = _mm256_srli_epi16(_mm256_add_epi16(s, bias), 2);
        __m128i p = _mm_packus_epi16(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        _mm_storeu_si128((__m128i *)(void *)(out + i), p);
    }
    /* the bias follows the output column, so the tail starts on an even one */
    for (; i < n; i++)
        out[i] = (uint8_t)((r0[2 * i] + r0[2 * i + 1] + r1[2 * i] + r1[2 * i + 1] + 1 + (int)(i & 1)) >> 2);
}

/* Two blocks at once, one per 128-bit lane, in int16 as libjpeg-turbo's own SIMD FDCT: the
 * butterflies in int16 (no value overflows it), each rotation as madd of interleaved pairs with
 * the products of jfdctint.c multiplied out, e.g. out7 = tmp4 (F298 - F899 - F1961 + F1175) +
 * tmp5 F1175 + tmp6 (F1175 - F1961) + tmp7 (F1175 - F899): the same exact int32 sum, so the
 * same descaled value. */

/* (madd(lo, k) [+ madd(lo2, k2)] + rnd) >> sh for both halves, packed back to int16 */
static AVX2 inline __m256i rot1(__m256i lo, __m256i hi, __m256i k, __m256i rnd, int sh)
{
    __m256i l = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(lo, k), rnd), sh);
    __m256i h = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(hi, k), rnd), sh);
    return _mm256_packs_epi32(l, h);
}
static AVX2 inline __m256i rot2(__m256i lo, __m256i hi, __m256i k, __m256i lo2, __m256i hi2, __m256i k2,
                                __m256i rnd, int sh)
{
    __m256i l = _mm256_add_epi32(_mm256_madd_epi16(lo, k), _mm256_madd_epi16(lo2, k2));
    __m256i h = _mm256_add_epi32(_mm256_madd_epi16(hi, k), _mm256_madd_epi16(hi2, k2));
    l = _mm256_srai_epi32(_mm256_add_epi32(l, rnd), sh);
    h = _mm256_srai_epi32(_mm256_add_epi32(h, rnd), sh);
    return _mm256_packs_epi32(l, h);
}

static AVX2 inline void fdct_pass16(__m256i v[8], int first)
{
    __m256i tmp0 = _mm256_add_epi16(v[0], v[7]), tmp7 = _mm256_sub_epi16(v[0], v[7]);
    __m256i tmp1 = _mm256_add_epi16(v[1], v[6]), tmp6 = _mm256_sub_epi16(v[1], v[6]);
    __m256i tmp2 = _mm256_add_epi16(v[2], v[5]), tmp5 = _mm256_sub_epi16(v[2], v[5]);
    __m256i tmp3 = _mm256_add_epi16(v[3], v[4]), tmp4 = _mm256_sub_epi16(v[3], v[4]);
    __m256i tmp10 = _mm256_add_epi16(tmp0, tmp3), tmp13 = _mm256_sub_epi16(tmp0, tmp3);
    __m256i tmp11 = _mm256_add_epi16(tmp1, tmp2), tmp12 = _mm256_sub_epi16(tmp1, tmp2);
    const int sh = first ? 13 - 2 : 13 + 2;
    const __m256i rnd = _mm256_set1_epi32(1 << (sh - 1));
    if (first) {
        v[0] = _mm256_slli_epi16(_mm256_add_epi16(tmp10, tmp11), 2);
        v[4] = _mm256_slli_epi16(_mm256_sub_epi16(tmp10, tmp11), 2);
    } else {
        /* tmp10 + tmp11 may pass 2^15 here: sum in int32 */
        __m256i lo = _mm256_unpacklo_epi16(tmp10, tmp11), hi = _mm256_unpackhi_epi16(tmp10, tmp11);
        const __m256i two = _mm256_set1_epi32(2);
        v[0] = rot1(lo, hi, PAIR(1, 1), two, 2);
        v[4] = rot1(lo, hi, PAIR(1, -1), two, 2);
    }
    __m256i lo = _mm256_unpacklo_epi16(tmp12, tmp13), hi = _mm256_unpackhi_epi16(tmp12, tmp13);
    v[2] = rot1(lo, hi, PAIR(JF_F_0_541, JF_F_0_541 + JF_F_0_765), rnd, sh);
    v[6] = rot1(lo, hi, PAIR(JF_F_0_541 - JF_F_1_847, JF_F_0_541), rnd, sh);

    __m256i l45 = _mm256_unpacklo_epi16(tmp4, tmp5), h45 = _mm256_unpackhi_epi16(tmp4, tmp5);
    __m256i l67 = _mm256_unpacklo_epi16(tmp6, tmp7), h67 = _mm256_unpackhi_epi16(tmp6, tmp7);
    v[7] = rot2(l45, h45, PAIR(JF_F_0_298 - JF_F_0_899 - JF_F_1_961 + JF_F_1_175, JF_F_1_175), l67, h67, PAIR(JF_F_1_175 - JF_F_1_961, JF_F_1_175 - JF_F_0_899), rnd, sh);
    v[5] = rot2(l45, h45, PAIR(JF_F_1_175, JF_F_2_053 - JF_F_2_562 - JF_F_0_390 + JF_F_1_175), l67, h67, PAIR(JF_F_1_175 - JF_F_2_562, JF_F_1_175 - JF_F_0_390), rnd, sh);
    v[3] = rot2(l45, h45, PAIR(JF_F_1_175 - JF_F_1_961, JF_F_1_175 - JF_F_2_562), l67, h67, PAIR(JF_F_3_072 - JF_F_2_562 - JF_F_1_961 + JF_F_1_175, JF_F_1_175), rnd, sh);
    v[1] = rot2(l45, h45, PAIR(JF_F_1_175 - JF_F_0_899, JF_F_1_175 - JF_F_0_390), l67, h67, PAIR(JF_F_1_175, JF_F_1_501 - JF_F_0_899 - JF_F_0_390 + JF_F_1_175), rnd, sh);
}

/* Blocks src and src + 8 (the second may be garbage: keep is 1 or 2 blocks to store). */
static AVX2 inline void fdct_quant2(const uint8_t *src, size_t stride, const jf_quant *q, int16_t *out, int keep)
{
    __m256i v[8];
    const __m256i c128 = _mm256_set1_epi16(128);
    for (int r = 0; r < 8; r++)
        v[r] = _mm256_sub_epi16(
            _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(src + (size_t)r * stride))), c128);
    transpose8x16(v);      /* v[c] = column c, rows across */
    fdct_pass16(v, 1);     /* v[u] = row transform u */
    transpose8x16(v);      /* v[r] = row r of that */
    fdct_pass16(v, 0);     /* v[u] = output row u, natural order */
    for (int u = 0; u < 8; u++) {
        __m256i rc = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(q->recip + 8 * u)));
        __m256i co = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(q->corr + 8 * u)));
        __m256i sc = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(q->scale + 8 * u)));
        __m256i x = v[u];
        __m256i t = _mm256_mulhi_epu16(_mm256_add_epi16(_mm256_abs_epi16(x), co), rc);
        t = _mm256_sign_epi16(_mm256_mulhi_epu16(t, sc), x);
        _mm_storeu_si128((__m128i *)(void *)(out + 8 * u), _mm256_castsi256_si128(t));
        if (keep == 2)
            _mm_storeu_si128((__m128i *)(void *)(out + 64 + 8 * u), _mm256_extracti128_si256(t, 1));
    }
}

static AVX2 void fdct_quant_avx2(const uint8_t *src, size_t stride, const jf_quant *q, int16_t *out, size_t n)
{
    size_t i = 0;
    for (; i + 2 <= n; i += 2)
        fdct_quant2(src + 8 * i, stride, q, out + 64 * i, 2);
    if (i < n)
        fdct_quant2(src + 8 * i, stride, q, out + 64 * i, 1);
}

/* Zig-zag order of a natural-order bit mask, a byte at a time: zz_tab[b][v] has bit k set for
 * each bit j of v whose coefficient 8 b + j sits at zig-zag position k. Built once. */
static uint64_t zz_tab[8][256];

void thumb__jf_avx2_init(void)
{
    uint8_t zpos[64];
    for (int k = 0; k < 64; k++)
        zpos[thumb__jf_natural[k]] = (uint8_t)k;
    for (int b = 0; b < 8; b++)
        for (int v = 0; v < 256; v++) {
            uint64_t m = 0;
            for (int j = 0; j < 8; j++)
                if (v & (1 << j))
                    m |= 1ull << zpos[8 * b + j];
            zz_tab[b][v] = m;
        }
}

static AVX2 void ac_stats_avx2(const int16_t *blk, uint32_t *counts)
{
    const __m256i zero = _mm256_setzero_si256();
    uint64_t nat = 0;
    for (int j = 0; j < 2; j++) {
        __m256i a = _mm256_cmpeq_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(blk + 32 * j)), zero);
        __m256i b = _mm256_cmpeq_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(blk + 32 * j + 16)), zero);
        __m256i m = _mm256_permute4x64_epi64(_mm256_packs_epi16(a, b), 0xD8);
        nat |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(m) << (32 * j);
    }
    uint64_t nz = 0;
    for (int b = 0; b < 8; b++)
        nz |= zz_tab[b][(nat >> (8 * b)) & 255];
    nz &= ~(uint64_t)1; /* the DC is counted elsewhere */
    int prev = 0;
    while (nz) {
        int k = __builtin_ctzll(nz);
        nz &= nz - 1;
        jf_count_ac(counts, k - prev - 1, blk[thumb__jf_natural[k]]);
        prev = k;
    }
    if (prev < 63)
        counts[0]++;
}

static AVX2 void interleave3_avx2(const uint8_t *a, const uint8_t *b, const uint8_t *c, uint8_t *out, size_t n)
{
    /* out bytes 16 p .. 16 p + 15 from each plane: pshufb masks, byte k of out = plane k % 3, pixel k / 3 */
    const __m128i a0 = M16(0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1, 5);
    const __m128i b0 = M16(-1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1);
    const __m128i c0 = M16(-1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1);
    const __m128i a1 = M16(-1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10, -1);
    const __m128i b1 = M16(5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10);
    const __m128i c1 = M16(-1, 5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1);
    const __m128i a2 = M16(-1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1, -1);
    const __m128i b2 = M16(-1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1);
    const __m128i c2 = M16(10, -1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i va = _mm_loadu_si128((const __m128i *)(const void *)(a + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        __m128i vc = _mm_loadu_si128((const __m128i *)(const void *)(c + i));
        uint8_t *o = out + 3 * i;
        _mm_storeu_si128((__m128i *)(void *)o, _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(va, a0), _mm_shuffle_epi8(vb, b0)),
                                                            _mm_shuffle_epi8(vc, c0)));
        _mm_storeu_si128((__m128i *)(void *)(o + 16), _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(va, a1), _mm_shuffle_epi8(vb, b1)),
                                                                   _mm_shuffle_epi8(vc, c1)));
        _mm_storeu_si128((__m128i *)(void *)(o + 32), _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(va, a2), _mm_shuffle_epi8(vb, b2)),
                                                                   _mm_shuffle_epi8(vc, c2)));
    }
    if (i < n)
        thumb__jf_scalar.interleave3(a + i, b + i, c + i, out + 3 * i, n - i);
}

static AVX2 void split3_avx2(const uint8_t *in, uint8_t *a, uint8_t *b, uint8_t *c, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i va, vb, vc;
        split16(in + 3 * i, &va, &vb, &vc);
        _mm_storeu_si128((__m128i *)(void *)(a + i), va);
        _mm_storeu_si128((__m128i *)(void *)(b + i), vb);
        _mm_storeu_si128((__m128i *)(void *)(c + i), vc);
    }
    if (i < n)
        thumb__jf_scalar.split3(in + 3 * i, a + i, b + i, c + i, n - i);
}

const jf_kernels thumb__jf_avx2 = {
    .rgb_ycc = rgb_ycc_avx2,
    .down2 = down2_avx2,
    .fdct_quant = fdct_quant_avx2,
    .ac_stats = ac_stats_avx2,
    .interleave3 = interleave3_avx2,
    .split3 = split3_avx2,
    .name = "avx2",
};
#endif
