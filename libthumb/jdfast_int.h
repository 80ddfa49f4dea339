/* jdfast's insides, shared with jprog.c (the progressive decoder reuses jdfast's entropy reader,
 * Huffman tables, restart handling and output stage): the decoder's state and the bit reader's
 * inline pieces. Not an interface for anything else. */
#ifndef THUMB_JDFAST_INT_H
#define THUMB_JDFAST_INT_H

#include "jdfast.h"
#include "jfront.h"

#define JD_FB 10                    /* bits of the one-step lookup */
#define JD_MAX_BLOCKS 6             /* blocks in an MCU: 4:2:0 */
/* Most bytes one MCU can read: per block at most 64 symbols (each moves k on by one or more)
 * of at most 16 code + 15 value bits, 64 * 31 / 8 = 248 bytes; plus the 8-byte read-ahead. */
#define JD_BLOCK_BYTES 248          /* most entropy-coded bytes one block can take */
#define JD_MCU_BYTES (JD_MAX_BLOCKS * JD_BLOCK_BYTES + 8)
#define JD_CHUNK 16384              /* destuffed bytes gathered per refill */
#define JD_PAD (JD_MCU_BYTES + 64)  /* zeros after the data */
#define JD_MAX_ROWS 16
#define JD_BATCH 16                 /* MCUs decoded before their IDCTs run */
#define JD_ALIGN __attribute__((aligned(32)))

/* Lookup entry. A one-step symbol (code and value within JD_FB bits): bits 0-5 the bits it
 * takes (1 to JD_FB; the shift reads them straight, x86 and Arm take a 64-bit shift's count mod
 * 64), 8-15 its run (0 for DC, JD_EOB_RUN for the end of block), 16-31 its value. Otherwise
 * bit 6 (JD_SLOW) is set, and a code of JD_FB bits or fewer whose value does not fit has its
 * symbol in bits 8-15 and the code's length in 16-23 (0 there: a longer or a bad code). */
#define JD_SLOW 64u
typedef struct jd_huff {
    uint32_t fast[1u << JD_FB];
    int32_t maxcode[18];            /* largest code of each length; -1 none */
    int32_t valoff[18];             /* symbol index = code + valoff */
    uint8_t val[256];
} jd_huff;

typedef struct jd_comp {
    int index;                      /* in c->comp_info: 0 Y, 1 Cb, 2 Cr */
    int h, v;                       /* blocks of this component in an MCU */
    int s;                          /* output samples per block side: 1, 2, 4, 8 */
    uint32_t bx_lo, bx_hi;          /* block columns that touch the window */
    int16_t q[64];                  /* quantisation table, natural order */
    jd_idct_run_fn run;             /* IDCTs (and DC fills) of a run of this component's blocks */
    const jd_huff *dc, *ac;
    int dc_pred;
} jd_comp;

struct jdfast {
    thumb_ctx *ctx;
    j_decompress_ptr c;
    jdfast_warn_fn warn;
    void *user;
    int code;                       /* sticky error */

    int ncomp;
    jd_comp comp[3];
    int blocks;                     /* blocks in an MCU */
    int blk_comp[JD_MAX_BLOCKS];    /* block -> component */
    int blk_x[JD_MAX_BLOCKS];       /* block's column and row inside the MCU */
    int blk_y[JD_MAX_BLOCKS];
    jd_huff huff[8];                /* dc 0-3, ac 4-7 as used */
    uint32_t mcux, mcuy;            /* MCUs across and down */
    uint32_t imcu_rows;             /* output rows per MCU row */
    uint32_t x0, x1, y0, y1;
    bool ycc;
    bool half;                      /* chroma at its own resolution (thumb__jdfast_start_half) */
    uint32_t cx0, cx1, cy0, cy1;    /* the chroma window then */

    /* planes: ncomp x imcu_rows x plane_w */
    uint8_t *planes;
    size_t plane_w;
    uint8_t *rows;                  /* up to JD_MAX_ROWS output rows */
    size_t row_bytes;
    uint32_t mcu_row;               /* next MCU row to decode */

    /* entropy data: destuffed bytes, zeros after */
    uint8_t *q;
    size_t qlen;                    /* destuffed bytes in q */
    int marker;                     /* the marker that ended the data in q, 0 none yet */
    bool eof;                       /* the input ended with no marker */
    const uint8_t *p;               /* bit reader: next byte to load */
    uint64_t bits;                  /* left-aligned */
    unsigned nbits;
    bool insufficient;              /* the segment ran out: zero blocks to the next restart */
    uint32_t restart_interval, restarts_to_go;
    int next_restart;

    int32_t cr_r[256], cb_b[256], cr_g[256], cb_g[256];
    const jf_kernels *kern;         /* interleave3 for YCbCr rows */
    int (*decode_row)(jdfast *, bool); /* decode_mcu_row or its BMI2 build */
    jdfast_coef_fn coef_hook;       /* test hook: every decoded block */
    void *coef_user;
    void *prog;                     /* jprog.c's decoder when this is its output stage */
    void (*prog_free)(void *);      /* frees prog with this */

    /* JD_BATCH MCUs of coefficients (zeros between uses), decoded whole before the IDCTs read
     * them: the IDCTs' wide loads do not wait on the decoder's narrow stores */
    JD_ALIGN int16_t blk[JD_BATCH * JD_MAX_BLOCKS][64 + 16];
    bool ac[JD_BATCH * JD_MAX_BLOCKS]; /* the block has more than its DC */
};

/* zig-zag -> natural, 16 more entries for runs past the end (libjpeg's jpeg_natural_order: they
 * land in 63), then 64 entries that land in 64, a slot the IDCTs never read: an end-of-block
 * symbol is a run of JD_EOB_RUN with a value of 0, so the common loop has no case for it. */
#define JD_EOB_RUN 80
THUMB_HIDDEN extern const uint8_t thumb__jd_zz_nat[144];

static inline int extend(uint32_t v, int s)
{
    /* HUFF_EXTEND: a value below 2^(s-1) is negative */
    return v < (1u << (s - 1)) ? (int)v - (int)(1u << s) + 1 : (int)v;
}

/* Bit position of the reader from the start of q. Negative after a refill that kept no byte the
 * bit buffer still holds bits of: the reader is then inside bytes already moved out of q. */
static inline int64_t bit_pos(const jdfast *f, const uint8_t *p, unsigned nbits)
{
    return (int64_t)(p - f->q) * 8 - (int64_t)nbits;
}

static inline uint64_t load_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

/* Make at least 56 bits available (the bytes after the data are zeros). */
#define FILL()                                                                                               \
    do {                                                                                                     \
        bits |= load_be64(p) >> nbits;                                                                       \
        p += (63 - nbits) >> 3;                                                                              \
        nbits |= 56;                                                                                         \
    } while (0)
#define DROP(n)                                                                                              \
    do {                                                                                                     \
        bits <<= (n);                                                                                        \
        nbits -= (n);                                                                                        \
    } while (0)

/* A code longer than JD_FB bits (bits are filled): its symbol, or 0 for a bad code (libjpeg
 * gives 0 too), *len the bits it took. */
static inline int slow_symbol(const jd_huff *t, uint64_t bits, int *len, bool *bad)
{
    int l = JD_FB + 1;
    int32_t code = (int32_t)(bits >> (64 - l));
    while (l <= 16 && code > t->maxcode[l]) {
        l++;
        code = (int32_t)(bits >> (64 - l));
    }
    if (l > 16) {
        *len = 17;
        *bad = true;
        return 0;
    }
    *len = l;
    return t->val[(code + t->valoff[l]) & 0xFF];
}

/* jdfast.c's pieces jprog.c calls (see there) */
THUMB_HIDDEN int thumb__jd_fail(jdfast *f, int code, const char *fmt, const char *arg);
THUMB_HIDDEN int thumb__jd_warn(jdfast *f, const char *what);
THUMB_HIDDEN int thumb__jd_huff_build(jdfast *f, jd_huff *t, const JHUFF_TBL *src, bool dc);
THUMB_HIDDEN void thumb__jd_refill(jdfast *f);
THUMB_HIDDEN void thumb__jd_skip_to_marker(jdfast *f);
THUMB_HIDDEN int thumb__jd_restart(jdfast *f);
THUMB_HIDDEN int thumb__jd_ran_out(jdfast *f);
THUMB_HIDDEN void thumb__jd_output_mcus(jdfast *f, uint32_t mx0, uint32_t n, bool out);
/* thumb__jdfast_usable's checks of the layout and the output size alone */
THUMB_HIDDEN bool thumb__jdfast_layout_usable(j_decompress_ptr c);
/* jdfast_start's set-up for a progressive file (jprog.c): every component of the frame, in frame
 * order, no Huffman tables or quantisers yet; the caller sets decode_row and prog. */
THUMB_HIDDEN int thumb__jdfast_start_prog(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1,
                                          uint32_t y0, uint32_t y1, bool ycc, bool half, unsigned features,
                                          jdfast_warn_fn warn, void *user);

#endif
