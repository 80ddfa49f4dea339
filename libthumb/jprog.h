/* jprog: our decoder for progressive (Huffman) JPEG at DCT scales 1/8, 2/8 and 4/8, after
 * libjpeg has read the header up to the first scan. libjpeg keeps all 64 coefficients of every
 * block of the image for such a file; jprog keeps, per block, only the coefficients the scaled
 * IDCT reads, and only for the blocks the window needs:
 *   output size 1 (1/8): the DC alone;
 *   output size 2: the 25 at rows and columns 0, 1, 3, 5, 7 (libjpeg's jpeg_idct_2x2 reads those);
 *   output size 4: the 49 outside row 4 and column 4 (jpeg_idct_4x4);
 *   output size 8 (4:2:0 chroma at 4/8, scaled up in the IDCT): all 64.
 * A component whose blocks keep more than the DC also keeps one bit per coefficient of every block
 * (whether it is nonzero), which the AC refinement scans need to walk the entropy stream, and one
 * slot more per kept block, where the decoders store the coefficients not kept (no branch).
 * Scans that carry no kept coefficient (AC scans of a component that keeps only its DC) are
 * skipped to the next marker without Huffman decoding; the others are decoded whole and what is
 * not kept is dropped. The markers between scans are libjpeg's own reader's (its checks, its
 * errors), the scan checks are libjpeg's start_pass_phuff_decoder's, and the output stage
 * (IDCTs, colour, windows, half-size chroma) is jdfast's, so the samples are libjpeg's.
 *
 * The whole file is read, to its EOI, in thumb__jprog_start (as jpeg_start_decompress does);
 * rows then come from jdfast's thumb__jdfast_rows / thumb__jdfast_planes on the returned decoder,
 * freed with thumb__jdfast_free. Errors of libjpeg's marker reader longjmp to the caller's
 * setjmp: *out is set before any of them can happen. */
#ifndef THUMB_JPROG_H
#define THUMB_JPROG_H

#include "jdfast.h"

/* Can jprog decode this file at the output size set on c (after jpeg_calc_output_dimensions)? */
THUMB_HIDDEN bool thumb__jprog_usable(j_decompress_ptr c);

typedef struct jprog_limits {
    uint32_t max_scans;     /* THUMB_ELIMIT_SCANS past this many scans */
    uint64_t max_bytes;     /* THUMB_ELIMIT_MEMORY when the kept coefficients need more */
    bool *quiet_eof;        /* the source's quiet mode (jdfast.h), switched off around libjpeg's marker reader */
} jprog_limits;

/* jdfast_start's arguments, plus half (jdfast_start_half's chroma planes) and the limits. */
THUMB_HIDDEN int thumb__jprog_start(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1,
                                    uint32_t y0, uint32_t y1, bool ycc, bool half, unsigned features,
                                    jdfast_warn_fn warn, void *user, const jprog_limits *lim);

/* Test hook: is block (bx, by) of component comp kept, and which coefficients (natural order)
 * its blocks keep (kept[64]). */
THUMB_HIDDEN bool thumb__jprog_kept(const jdfast *f, int comp, uint32_t bx, uint32_t by, bool *kept);

/* Bytes of coefficient store a decode of the window would keep (for tests and the bench). */
THUMB_HIDDEN uint64_t thumb__jprog_bytes(const jdfast *f);

#endif
