/* Lossless JPEG (process 14, SOF3: Huffman-coded DPCM) decoder: our own, since Debian's
 * libjpeg-turbo 2.1.5 reads only the DCT processes.
 *
 * It is a tdec like the others: rows of the crop window, top to bottom, at full size (lossless
 * JPEG has no DCT scaling; the resampler's area-average prefilter does the shrink). Prediction
 * needs only the row above, so memory is O(width) whatever the height. Samples of 2..16 bits
 * are reduced to 8 with rounding (v * 255 / (2^P - 1), as png.c reduces 16 bits).
 *
 * Two ways in: thumb__jll_open takes over from jpeg.c when libjpeg meets SOF3 (the markers
 * before it, EXIF and ICC included, already read by libjpeg and jpeg.c's marker processors);
 * thumb__jll_open_mem reads a whole file from SOI (tests and the fuzzer).
 */
#ifndef THUMB_JLOSSLESS_H
#define THUMB_JLOSSLESS_H

#include "internal.h"

/* Where the bytes after the SOF3 marker come from. fill: the next bytes, THUMB_OK with
 * *n = 0 at the end of the input, or an error code (its detail already on the context). */
typedef struct jll_io {
    int (*fill)(void *user, const uint8_t **p, size_t *n);
    void *user;
} jll_io;

/* What libjpeg read before the SOF3 marker: Huffman tables of class 0 (bits[1..16] and values;
 * NULL when not defined), the restart interval, and the colour markers. */
typedef struct jll_pre {
    const uint8_t *huff_bits[4];    /* 17 bytes each, [0] unused, as libjpeg's JHUFF_TBL.bits */
    const uint8_t *huff_vals[4];    /* 256 bytes each */
    unsigned restart_interval;
    int saw_jfif;
    int saw_adobe;
    int adobe_transform;
} jll_pre;

/* Take over after the SOF3 marker (its length not yet read). hdr is copied; the decoder owns
 * hdr->icc from here on, whatever the result. release(owner) is called when the decoder is
 * destroyed (or at once when opening fails): the owner provides io until then. */
THUMB_HIDDEN int thumb__jll_open(tdec **out, thumb_ctx *ctx, const thumb_options *opt, tsrc *src,
                                 const tdec_header *hdr, const jll_io *io, const jll_pre *pre,
                                 void (*release)(void *owner), void *owner);

/* A whole lossless JPEG in memory (from SOI). Markers other than the ones lossless needs are
 * skipped (no EXIF or ICC is read). */
THUMB_HIDDEN int thumb__jll_open_mem(tdec **out, thumb_ctx *ctx, const thumb_options *opt, const uint8_t *data,
                                     size_t len);

/* Is d one of ours? */
THUMB_HIDDEN int thumb__jll_is(const tdec *d);

/* Test hook, instead of next_row after start with the whole image as the window: the next row's
 * samples as stored (after the point transform), hdr.width * components of them, in frame
 * component order. */
THUMB_HIDDEN int thumb__jll_next_raw(tdec *d, const uint16_t **row, int *components);

#endif
