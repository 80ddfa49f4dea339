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
THUMB_HIDDEN void thumb__jdfast_free(jdfast *f);

/* The IDCTs by output size (2x2, 4x4, 8x8): dequantise and inverse-transform one block of
 * coefficients (natural order), samples to out, rows stride apart. */
typedef void (*jd_idct_fn)(const int16_t *blk, const int16_t *q, uint8_t *out, size_t stride);
typedef struct jd_idct {
    jd_idct_fn idct2, idct4, idct8;
} jd_idct;
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
