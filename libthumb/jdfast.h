/* jdfast: our own decoder for the entropy-coded data of a baseline JPEG, after libjpeg has read
 * the header. It decodes the one interleaved Huffman scan of 8-bit grey or YCbCr files (4:2:0 and
 * 4:4:4) at DCT scales whose output needs no chroma upsampling, with the same integer arithmetic
 * as libjpeg-turbo: the Huffman decode, the islow and reduced (4x4, 2x2, 1x1) IDCTs and the
 * YCbCr->RGB conversion give libjpeg's samples. What it does differently is speed: a 64-bit bit
 * reader over destuffed data, a lookup that decodes a code and its value in one step, blocks
 * outside the wanted window only entropy-decoded, and YCbCr rows for any window.
 *
 * Corrupt data is handled as libjpeg handles it: bad codes decode as zero, data cut by a marker
 * leaves zero blocks up to the next restart, restart markers out of order are resynchronised
 * with libjpeg's rules; each such event is a warning, counted by the caller's limit. Data cut by
 * EOI, or by the end of the input, before the window is complete is THUMB_ETRUNCATED. */
#ifndef THUMB_JDFAST_H
#define THUMB_JDFAST_H

#include "internal.h"

#include <stdio.h> /* jpeglib.h needs FILE */
#include <string.h>
#include <jpeglib.h>

typedef struct jdfast jdfast;

/* Can jdfast decode this file at the output size jpeg_calc_output_dimensions set on c? Call after
 * jpeg_read_header; c->out_color_space must be JCS_RGB, JCS_YCbCr or JCS_GRAYSCALE. */
THUMB_HIDDEN bool thumb__jdfast_usable(j_decompress_ptr c);

/* Counts a warning; returns nonzero when the decode must stop (over the limit). */
typedef int (*jdfast_warn_fn)(void *user, const char *what);

/* Start on the entropy-coded data at c->src's next byte: the window [x0,x1)x[y0,y1) of the
 * output, rows of (x1 - x0) * channels bytes: Y Cb Cr (ycc), RGB, or grey. c->src's
 * fill_input_buffer must return FALSE at the end of the input (the caller's quiet mode), and may
 * longjmp on a read error. features: THUMB_CPU_AVX2 or 0 (the kernels to use). */
THUMB_HIDDEN int thumb__jdfast_start(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1,
                                     uint32_t y0, uint32_t y1, bool ycc, unsigned features, jdfast_warn_fn warn,
                                     void *user);
/* The next rows of the window (at most 16, top to bottom) into rows[], *n of them (>= 1);
 * THUMB_OK or a THUMB_E* code (sticky). The rows stay valid until the next call. */
THUMB_HIDDEN int thumb__jdfast_rows(jdfast *f, const uint8_t **rows, int *n);

/* 4:2:0 YCbCr with its chroma at its own resolution: jdfast_start's arguments (ycc implied),
 * but Cb and Cr are decoded with the luma's IDCT size, so their planes are half the luma's
 * each way (where libjpeg, and jdfast_start, scale them up in the IDCT). The chroma window is
 * [x0/2, (x1+1)/2) x [y0/2, (y1+1)/2). THUMB_EINVAL when the file is not 4:2:0. */
THUMB_HIDDEN int thumb__jdfast_start_half(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1,
                                          uint32_t y0, uint32_t y1, unsigned features, jdfast_warn_fn warn,
                                          void *user);
/* Rows of one MCU row of a half-chroma decode (tplanes, internal.h): the luma rows inside the
 * window (from column x0) and the chroma rows inside the chroma window (from column x0/2);
 * either count may be 0. The pointers stay valid until the next call. */
THUMB_HIDDEN int thumb__jdfast_planes(jdfast *f, tplanes *out);
THUMB_HIDDEN void thumb__jdfast_free(jdfast *f);

/* The IDCTs by output size (2x2, 4x4, 8x8): dequantise and inverse-transform one block of
 * coefficients (natural order), samples to out, rows stride apart. */
typedef void (*jd_idct_fn)(const int16_t *blk, const int16_t *q, uint8_t *out, size_t stride);
/* A run of n blocks of one component: block i at blk + i * bstep (int16 units), ac[i * astep]
 * whether it has more than its DC (else its s x s samples are one value), samples to
 * out + i * ostep, rows stride apart. Leaves each block zeroed (all 64 entries when ac, else
 * the DC). One call per component and batch: no call per block, the quantiser loaded once. */
typedef void (*jd_idct_run_fn)(int16_t *blk, size_t bstep, const bool *ac, size_t astep, uint32_t n,
                               const int16_t *q, uint8_t *out, size_t ostep, size_t stride);
typedef struct jd_idct {
    jd_idct_fn idct2, idct4, idct8;
    jd_idct_run_fn run[4]; /* by output size: 1, 2, 4, 8 */
} jd_idct;

/* After the IDCT: libjpeg-turbo's SIMD IDCTs (2x2, 4x4, islow: what libjpeg runs on x86-64 and
 * Arm) saturate, value + 128 clamped to 0..255; its C range-limit table, which the 1x1 IDCT uses,
 * keeps the low 10 bits as a signed value first. The two differ only for sums no 8-bit image
 * makes (found by fuzz_jdfast against libjpeg). */
static inline uint8_t jd_rl(int64_t x)
{
    return (uint8_t)(x < -128 ? 0 : x > 127 ? 255 : x + 128);
}
static inline uint8_t jd_rl_wrap(int64_t x)
{
    int v = (int)(((uint32_t)x & 1023) ^ 512) - 512 + 128;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* The sample of a block with only its DC, at output size s (s x s of it) */
static inline uint8_t jd_dc_only(const int16_t *blk, const int16_t *q, int s)
{
    int64_t v = ((int64_t)blk[0] * q[0] + 4) >> 3;
    return s == 1 ? jd_rl_wrap(v) : jd_rl(v);
}

/* An s x s block of one value */
static inline void jd_fill_block(uint8_t *dst, size_t stride, int s, uint8_t v)
{
    uint64_t v8 = 0x0101010101010101ull * v;
    for (int r = 0; r < s; r++, dst += stride) {
        if (s == 8)
            memcpy(dst, &v8, 8);
        else if (s == 4)
            memcpy(dst, &v8, 4);
        else if (s == 2)
            memcpy(dst, &v8, 2);
        else
            dst[0] = v;
    }
}

/* Defines a run function (jd_idct_run_fn) NAME for output size S: statement PRE once, then per
 * block the IDCT statement ONE (blk, q, out, stride in scope) and the zeroing ZERO, or the DC
 * fill. A macro so that each kernel inlines into its loop. */
#define JD_IDCT_RUN(ATTR, NAME, S, PRE, ONE, ZERO)                                                             \
    ATTR static void NAME(int16_t *blk, size_t bstep, const bool *ac, size_t astep, uint32_t n,                 \
                          const int16_t *q, uint8_t *out, size_t ostep, size_t stride)                          \
    {                                                                                                          \
        PRE;                                                                                                   \
        for (uint32_t i = 0; i < n; i++, blk += bstep, ac += astep, out += ostep) {                            \
            if (*ac) {                                                                                         \
                ONE;                                                                                           \
                ZERO;                                                                                          \
            } else {                                                                                           \
                jd_fill_block(out, stride, (S), jd_dc_only(blk, q, (S)));                                      \
                blk[0] = 0;                                                                                    \
            }                                                                                                  \
        }                                                                                                      \
    }

THUMB_HIDDEN extern const jd_idct thumb__jd_idct_scalar;
#if defined(__x86_64__) || defined(__i386__)
THUMB_HIDDEN extern const jd_idct thumb__jd_idct_avx2;
#endif

/* Test hook: fn sees every block decoded from here on (component index, block column and row in
 * that component, 64 coefficients in natural order, not dequantised), before its IDCT. */
typedef void (*jdfast_coef_fn)(void *user, int comp, uint32_t bx, uint32_t by, const int16_t *coef);
THUMB_HIDDEN void thumb__jdfast_coef_hook(jdfast *f, jdfast_coef_fn fn, void *user);

/* The channels of the rows (1 or 3). */
THUMB_HIDDEN int thumb__jdfast_channels(const jdfast *f);

#endif
