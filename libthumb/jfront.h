/* The JPEG encoder's front end: RGB -> YCbCr, 2x2 chroma reduce, 8x8 forward DCT, quantisation
 * and Huffman statistics, done here instead of inside libjpeg so that optimised Huffman tables
 * cost one pass. libjpeg then only entropy-codes our coefficients (jpeg_write_coefficients).
 *
 * Why: libjpeg-turbo 2.1.5's optimize_coding runs its whole pipeline into a coefficient buffer,
 * gathers statistics with a scalar loop per coefficient and codes a second pass; on a 512x512
 * q80 output that is 2.46 ms against 1.21 ms without it. Coding our coefficients with our tables
 * takes libjpeg 0.48 ms.
 *
 * Every step is libjpeg-turbo's own integer arithmetic (jccolor.c, jcsample.c h2v2 with its
 * 1,2 bias, jfdctint.c, jcdctmgr.c's reciprocal quantiser, jchuff.c's statistics and Annex K
 * table builder), so the file is byte-identical to what libjpeg writes with optimize_coding
 * on; test_jfront checks that over sizes, qualities and subsamplings. Private to jfront.c,
 * simd/jfront_*.c, jpeg.c and the tests. */
#ifndef THUMB_JFRONT_H
#define THUMB_JFRONT_H

#include "internal.h"

/* Quantiser of one table: libjpeg-turbo's compute_reciprocal() for divisor d = quantval << 3,
 * applied as its SIMD quantisers do in 16 bits: q = ((((|x| + corr) * recip) >> 16) * scale) >> 16
 * with x's sign, scale = 2^(32 - shift). That is ((|x| + corr) * recip) >> shift exactly, since
 * shift >= 18 for every divisor (d >= 8). */
typedef struct jf_quant {
    uint16_t recip[64], corr[64], scale[64];
} jf_quant;

/* jccolor.c's fixed point: 16 fractional bits */
#define JF_FIX(x) ((int32_t)((x) * 65536.0 + 0.5))

/* jfdctint.c's constants (13 fractional bits) */
#define JF_F_0_298 2446
#define JF_F_0_390 3196
#define JF_F_0_541 4433
#define JF_F_0_765 6270
#define JF_F_0_899 7373
#define JF_F_1_175 9633
#define JF_F_1_501 12299
#define JF_F_1_847 15137
#define JF_F_1_961 16069
#define JF_F_2_053 16819
#define JF_F_2_562 20995
#define JF_F_3_072 25172

/* One quantised coefficient through the quantiser above (the scalar kernel's, per value). */
static inline int16_t jf_quantise(int32_t x, const jf_quant *q, int i)
{
    uint32_t a = (uint32_t)(x < 0 ? -x : x);
    uint32_t v = ((((a + q->corr[i]) * q->recip[i]) >> 16) * q->scale[i]) >> 16;
    return (int16_t)(x < 0 ? -(int32_t)v : (int32_t)v);
}

/* Count the AC symbol of a nonzero coefficient v after r zeros (jchuff.c): a ZRL per 16 zeros,
 * then run/size. */
static inline void jf_count_ac(uint32_t *counts, int r, int v)
{
    while (r > 15) {
        counts[0xF0]++;
        r -= 16;
    }
    unsigned a = (unsigned)(v < 0 ? -v : v);
    counts[(r << 4) + 32 - __builtin_clz(a)]++;
}

typedef struct jf_kernels {
    /* n RGB pixels -> Y, Cb, Cr samples (jccolor.c rgb_ycc_convert). */
    void (*rgb_ycc)(const uint8_t *rgb, uint8_t *y, uint8_t *cb, uint8_t *cr, size_t n);
    /* 2x2 reduce of two rows into n samples: (a + b + c + d + bias) >> 2, bias 1, 2, 1, 2, ... */
    void (*down2)(const uint8_t *r0, const uint8_t *r1, uint8_t *out, size_t n);
    /* n 8x8 blocks side by side (block i at src + 8 i, rows stride apart): level shift, islow
     * FDCT, quantise; block i to out + 64 i in natural (row-major) order. Up to 8 bytes past
     * the last block's rows may be read. */
    void (*fdct_quant)(const uint8_t *src, size_t stride, const jf_quant *q, int16_t *out, size_t n);
    /* Add the AC symbols of one quantised block (natural order) to counts[0..255]:
     * run/size pairs in zig-zag order, ZRL (0xF0) per 16 zeros before a value, EOB (0x00). */
    void (*ac_stats)(const int16_t *blk, uint32_t *counts);
    /* n pixels between planes and interleaved 3-sample rows (YCbCr straight from libjpeg's raw
     * decode into the resampler, and back out of it into the planes above). */
    void (*interleave3)(const uint8_t *a, const uint8_t *b, const uint8_t *c, uint8_t *out, size_t n);
    void (*split3)(const uint8_t *in, uint8_t *a, uint8_t *b, uint8_t *c, size_t n);
    const char *name;
} jf_kernels;

THUMB_HIDDEN extern const jf_kernels thumb__jf_scalar;
#if (defined(__x86_64__) || defined(__i386__))
#define JF_HAVE_AVX2 1
THUMB_HIDDEN extern const jf_kernels thumb__jf_avx2;
/* Tables of the AVX2 kernels; thumb__jf_kernels runs it once before handing them out. */
THUMB_HIDDEN void thumb__jf_avx2_init(void);
#endif
/* The kernels for features (THUMB_CPU_AVX2 or 0); AVX2 only when asked for and present. */
THUMB_HIDDEN const jf_kernels *thumb__jf_kernels(unsigned features);

THUMB_HIDDEN void thumb__jf_quant_init(jf_quant *q, const uint16_t quantval[64]);
/* Zig-zag position k -> natural index (jpeg_natural_order). */
THUMB_HIDDEN extern const uint8_t thumb__jf_natural[64];

/* Annex K.2/K.3 as libjpeg's jpeg_gen_optimal_table: code lengths from freq[0..255] (a reserved
 * 257th code point keeps the all-ones code unused), limited to 16 bits; bits[1..16] counts per
 * length (bits[0] = 0), val[] the symbols by length then value. Returns the symbol count. */
THUMB_HIDDEN int thumb__jf_huff_table(const uint32_t freq[256], uint8_t bits[17], uint8_t val[256]);

/* ---------------------------------------------------------------- the encoder (jfront.c) */

/* Lifetime: new after jpeg_set_defaults/quality/sampling on c (baseline, 1 or 3 components,
 * 4:2:0 or 4:4:4), before anything is written; rows (exactly h of them, w * channels bytes);
 * finish, which calls jpeg_write_coefficients(c) - markers may follow, then
 * jpeg_finish_compress(c). new sets *out before it allocates the coefficient arrays from c's
 * pool, where a libjpeg error longjmps to the caller's frame; free it in any case. */
struct jpeg_compress_struct;
typedef struct jf_enc jf_enc;
THUMB_HIDDEN int thumb__jf_enc_new(jf_enc **out, struct jpeg_compress_struct *c, uint32_t w, uint32_t h,
                                   int channels, unsigned features);
THUMB_HIDDEN void thumb__jf_enc_rows(jf_enc *f, const uint8_t *const *rows, uint32_t n);
/* 4:2:0 with the chroma already at its size: one whole strip (16 luma rows, fewer only at the
 * bottom) as planes, ny luma rows of w samples and nc = (ny + 1) / 2 rows of (w + 1) / 2 of Cb
 * and of Cr; instead of rows, not mixed with them mid-strip. THUMB_EINVAL otherwise. */
THUMB_HIDDEN int thumb__jf_enc_strip420(jf_enc *f, const uint8_t *const *y, uint32_t ny, const uint8_t *const *cb,
                                        const uint8_t *const *cr, uint32_t nc);
/* Rows are YCbCr already (3 channels): no colour conversion, only the split into planes. */
THUMB_HIDDEN void thumb__jf_enc_ycc_input(jf_enc *f);
THUMB_HIDDEN void thumb__jf_enc_finish(jf_enc *f, struct jpeg_compress_struct *c);
THUMB_HIDDEN void thumb__jf_enc_free(jf_enc *f);

#endif
