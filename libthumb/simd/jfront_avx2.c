/* AVX2 kernels of the JPEG front end (see jfront.h). The same integer arithmetic as
 * jfront_scalar.c in 32-bit lanes, so the same bytes (test_jfront compares them).
 * Compiled without -mavx2: each function carries target("avx2") and is only reached through
 * the table after thumb__cpu_features() saw AVX2 and OS support. */
#include "../jfront.h"

#ifdef JF_HAVE_AVX2
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2")))

#define JF_FIX(x) ((int32_t)((x) * 65536.0 + 0.5))

/* 8 int32 (0..255) -> 8 bytes at out */
static AVX2 inline void store8(uint8_t *out, __m256i v)
{
    __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(w, w));
}

static AVX2 void rgb_ycc_avx2(const uint8_t *rgb, uint8_t *y, uint8_t *cb, uint8_t *cr, size_t n)
{
    /* 8 pixels = 24 bytes: 16 from p, 8 from p + 16; R, G, B picked into the low 8 bytes */
    const __m128i r_lo = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g_lo = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_lo = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i r_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i yr = _mm256_set1_epi32(JF_FIX(0.29900)), yg = _mm256_set1_epi32(JF_FIX(0.58700)),
                  yb = _mm256_set1_epi32(JF_FIX(0.11400)), yoff = _mm256_set1_epi32(1 << 15);
    const __m256i cbr = _mm256_set1_epi32(-JF_FIX(0.16874)), cbg = _mm256_set1_epi32(-JF_FIX(0.33126)),
                  half = _mm256_set1_epi32(JF_FIX(0.5)), coff = _mm256_set1_epi32((128 << 16) + (1 << 15) - 1);
    const __m256i crg = _mm256_set1_epi32(-JF_FIX(0.41869)), crb = _mm256_set1_epi32(-JF_FIX(0.08131));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint8_t *p = rgb + 3 * i;
        __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hi = _mm_loadl_epi64((const __m128i *)(const void *)(p + 16));
        __m256i r = _mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(lo, r_lo), _mm_shuffle_epi8(hi, r_hi)));
        __m256i g = _mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(lo, g_lo), _mm_shuffle_epi8(hi, g_hi)));
        __m256i b = _mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(lo, b_lo), _mm_shuffle_epi8(hi, b_hi)));
        __m256i vy = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(r, yr), _mm256_mullo_epi32(g, yg)),
                                      _mm256_add_epi32(_mm256_mullo_epi32(b, yb), yoff));
        __m256i vcb = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(r, cbr), _mm256_mullo_epi32(g, cbg)),
                                       _mm256_add_epi32(_mm256_mullo_epi32(b, half), coff));
        __m256i vcr = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(r, half), _mm256_mullo_epi32(g, crg)),
                                       _mm256_add_epi32(_mm256_mullo_epi32(b, crb), coff));
        store8(y + i, _mm256_srai_epi32(vy, 16));
        store8(cb + i, _mm256_srai_epi32(vcb, 16));
        store8(cr + i, _mm256_srai_epi32(vcr, 16));
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

/* 8x8 int32 transpose of v[0..7] (rows) in place */
static AVX2 inline void transpose8(__m256i v[8])
{
    __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
    __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
    __m256i t4 = _mm256_unpacklo_epi32(v[4], v[5]), t5 = _mm256_unpackhi_epi32(v[4], v[5]);
    __m256i t6 = _mm256_unpacklo_epi32(v[6], v[7]), t7 = _mm256_unpackhi_epi32(v[6], v[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    v[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    v[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    v[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    v[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    v[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    v[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    v[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    v[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

#define K(c) _mm256_set1_epi32(c)
#define ADD _mm256_add_epi32
#define SUB _mm256_sub_epi32
#define MUL _mm256_mullo_epi32

/* One 1-D pass (jfdctint.c) over 8 registers, position i in v[i], lanes independent. */
static AVX2 inline void fdct_pass(__m256i v[8], int first)
{
    __m256i tmp0 = ADD(v[0], v[7]), tmp7 = SUB(v[0], v[7]);
    __m256i tmp1 = ADD(v[1], v[6]), tmp6 = SUB(v[1], v[6]);
    __m256i tmp2 = ADD(v[2], v[5]), tmp5 = SUB(v[2], v[5]);
    __m256i tmp3 = ADD(v[3], v[4]), tmp4 = SUB(v[3], v[4]);
    __m256i tmp10 = ADD(tmp0, tmp3), tmp13 = SUB(tmp0, tmp3);
    __m256i tmp11 = ADD(tmp1, tmp2), tmp12 = SUB(tmp1, tmp2);
    const int sh = first ? 13 - 2 : 13 + 2;
    const __m256i rnd = K(1 << (sh - 1));
    if (first) {
        v[0] = _mm256_slli_epi32(ADD(tmp10, tmp11), 2);
        v[4] = _mm256_slli_epi32(SUB(tmp10, tmp11), 2);
    } else {
        v[0] = _mm256_srai_epi32(ADD(ADD(tmp10, tmp11), K(2)), 2);
        v[4] = _mm256_srai_epi32(ADD(SUB(tmp10, tmp11), K(2)), 2);
    }
    __m256i z1 = MUL(ADD(tmp12, tmp13), K(4433));
    v[2] = _mm256_srai_epi32(ADD(ADD(z1, MUL(tmp13, K(6270))), rnd), sh);
    v[6] = _mm256_srai_epi32(ADD(SUB(z1, MUL(tmp12, K(15137))), rnd), sh);

    z1 = ADD(tmp4, tmp7);
    __m256i z2 = ADD(tmp5, tmp6), z3 = ADD(tmp4, tmp6), z4 = ADD(tmp5, tmp7);
    __m256i z5 = MUL(ADD(z3, z4), K(9633));
    tmp4 = MUL(tmp4, K(2446));
    tmp5 = MUL(tmp5, K(16819));
    tmp6 = MUL(tmp6, K(25172));
    tmp7 = MUL(tmp7, K(12299));
    z1 = MUL(z1, K(-7373));
    z2 = MUL(z2, K(-20995));
    z3 = ADD(MUL(z3, K(-16069)), z5);
    z4 = ADD(MUL(z4, K(-3196)), z5);
    v[7] = _mm256_srai_epi32(ADD(ADD(tmp4, z1), ADD(z3, rnd)), sh);
    v[5] = _mm256_srai_epi32(ADD(ADD(tmp5, z2), ADD(z4, rnd)), sh);
    v[3] = _mm256_srai_epi32(ADD(ADD(tmp6, z2), ADD(z3, rnd)), sh);
    v[1] = _mm256_srai_epi32(ADD(ADD(tmp7, z1), ADD(z4, rnd)), sh);
}

static AVX2 void fdct_quant_avx2(const uint8_t *src, size_t stride, const jf_quant *q, int16_t *out)
{
    __m256i v[8];
    const __m256i c128 = K(128);
    for (int r = 0; r < 8; r++)
        v[r] = SUB(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(src + (size_t)r * stride))),
                   c128);
    transpose8(v);          /* v[c] = column c across the rows */
    fdct_pass(v, 1);        /* v[u] = row-transform output u across the rows */
    transpose8(v);          /* v[r] = row r, outputs across */
    fdct_pass(v, 0);        /* v[u] = output row u, natural order */
    for (int r = 0; r < 8; r += 2) {
        __m256i x0 = v[r], x1 = v[r + 1];
        __m256i rc0 = _mm256_loadu_si256((const __m256i *)(const void *)(q->recip + 8 * r));
        __m256i rc1 = _mm256_loadu_si256((const __m256i *)(const void *)(q->recip + 8 * r + 8));
        __m256i co0 = _mm256_loadu_si256((const __m256i *)(const void *)(q->corr + 8 * r));
        __m256i co1 = _mm256_loadu_si256((const __m256i *)(const void *)(q->corr + 8 * r + 8));
        __m256i sh0 = _mm256_loadu_si256((const __m256i *)(const void *)(q->shift + 8 * r));
        __m256i sh1 = _mm256_loadu_si256((const __m256i *)(const void *)(q->shift + 8 * r + 8));
        __m256i q0 = _mm256_srlv_epi32(MUL(ADD(_mm256_abs_epi32(x0), co0), rc0), sh0);
        __m256i q1 = _mm256_srlv_epi32(MUL(ADD(_mm256_abs_epi32(x1), co1), rc1), sh1);
        q0 = _mm256_sign_epi32(q0, x0);
        q1 = _mm256_sign_epi32(q1, x1);
        __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
        _mm256_storeu_si256((__m256i *)(void *)(out + 8 * r), p);
    }
}

static AVX2 void ac_stats_avx2(const int16_t *blk, uint32_t *counts)
{
    int16_t z[64];
    for (int k = 0; k < 64; k++)
        z[k] = blk[thumb__jf_natural[k]];
    const __m256i zero = _mm256_setzero_si256();
    uint64_t nz = 0;
    for (int j = 0; j < 2; j++) {
        __m256i a = _mm256_cmpeq_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(z + 32 * j)), zero);
        __m256i b = _mm256_cmpeq_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(z + 32 * j + 16)), zero);
        __m256i m = _mm256_permute4x64_epi64(_mm256_packs_epi16(a, b), 0xD8);
        nz |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(m) << (32 * j);
    }
    nz &= ~(uint64_t)1; /* the DC is counted elsewhere */
    int prev = 0;
    while (nz) {
        int k = __builtin_ctzll(nz);
        nz &= nz - 1;
        int r = k - prev - 1;
        while (r > 15) {
            counts[0xF0]++;
            r -= 16;
        }
        int v = z[k];
        unsigned a = (unsigned)(v < 0 ? -v : v);
        counts[(r << 4) + 32 - __builtin_clz(a)]++;
        prev = k;
    }
    if (prev < 63)
        counts[0]++;
}

const jf_kernels thumb__jf_avx2 = {
    .rgb_ycc = rgb_ycc_avx2,
    .down2 = down2_avx2,
    .fdct_quant = fdct_quant_avx2,
    .ac_stats = ac_stats_avx2,
    .name = "avx2",
};
#endif
