/* Internal interfaces between the stages. Nothing here is part of the ABI. */
#ifndef THUMB_INTERNAL_H
#define THUMB_INTERNAL_H

#include "thumb.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THUMB_HIDDEN __attribute__((visibility("hidden")))

/* ---------------------------------------------------------------- context, errors */

struct thumb_ctx {
    char detail[256];
    int colour_stage;   /* test/bench hook, 0 = the library's choice; else 1 + THUMB_COLOUR_STAGE_* */
    int no_ycc;         /* test/bench hook: never resize in YCbCr (always decode to RGB) */
    int no_jdfast;      /* test/bench hook: libjpeg decodes every JPEG (no jdfast.h) */
    int no_half_chroma; /* test/bench hook: 4:2:0 chroma resized at the luma's size, as before */
    /* The last colour decision, kept for the next image with the same profile (uploads from
     * one camera or phone share it): skips parsing, sRGB checks and building the transform. */
    struct tcolour *colour_cache; /* NULL with colour_cached set: "no transform needed" */
    uint64_t colour_key;
    int colour_cached;
    /* The resampler's last six weight tables (thumbnails of one size from one camera share
     * them): handed back by tresize_free, taken again by tresize_new. Only contexts made by
     * thumb_ctx_new cache (cache_weights); thumb_ctx_free releases them. */
    int cache_weights;
    struct tr_wcache *weights;
    /* The resized-image buffer of the last job that needed one (a turned or padded output),
     * kept for the next when it is at most THUMB_SCRATCH_MAX bytes: a fresh 0.8 MB each call
     * is about 190 page faults, a tenth of a turned avatar's time. Same contexts as above. */
    uint8_t *scratch;
    size_t scratch_cap;
    /* The progressive decoder's coefficient store (jprog.c), kept for the next progressive JPEG
     * when it is at most THUMB_PROG_STORE_MAX bytes: the avatar's 7 MB, fresh each call, is
     * about 2,000 page faults, 7 % of its time. Same contexts as above. */
    uint8_t *prog_store;
    size_t prog_store_cap;
};
#define THUMB_SCRATCH_MAX ((size_t)4 << 20)
#define THUMB_PROG_STORE_MAX ((size_t)16 << 20)
/* Release the resampler's cached weight tables (called by thumb_ctx_free). */
THUMB_HIDDEN void thumb__resample_cache_clear(struct thumb_ctx *ctx);
/* Release what a context caches (called by thumb_ctx_free). */
THUMB_HIDDEN void thumb__colour_cache_clear(struct thumb_ctx *ctx);

/* Record a formatted detail on ctx (may be NULL) and return code. */
THUMB_HIDDEN int thumb__fail(thumb_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Overflow-checked size arithmetic: return false on overflow. */
static inline bool thumb__mul_size(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool thumb__add_size(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }

/* Validated copy of the caller's options (handles older, smaller structs). */
THUMB_HIDDEN int thumb__options_copy(thumb_ctx *ctx, const thumb_options *in, thumb_options *out);

/* ---------------------------------------------------------------- source */

/* Input: a memory buffer or a read callback. Counts bytes against max_input_bytes. */
typedef struct tsrc {
    const uint8_t *mem;         /* memory mode when non-NULL (mem_len may be 0) */
    size_t mem_len;
    size_t mem_pos;
    thumb_read_fn read;         /* stream mode */
    void *user;
    uint8_t peek[64];           /* bytes read by tsrc_peek, handed out again first */
    size_t peek_len, peek_pos;
    uint64_t consumed;          /* bytes handed to the decoder */
    uint64_t limit;             /* max_input_bytes, 0 = none */
    int error;                  /* THUMB_OK, or the code that stopped reading */
    bool eof;
    thumb_ctx *ctx;
} tsrc;

THUMB_HIDDEN void tsrc_init_mem(tsrc *s, thumb_ctx *ctx, const void *data, size_t len, uint64_t limit);
THUMB_HIDDEN void tsrc_init_stream(tsrc *s, thumb_ctx *ctx, thumb_read_fn read, void *user, uint64_t limit);
/* Make up to n (<= 64) leading bytes available without consuming them; returns how many. */
THUMB_HIDDEN size_t tsrc_peek(tsrc *s, const uint8_t **p, size_t n);
/* Read up to n bytes. Returns bytes read (> 0), 0 at end of input, -1 on error
 * (s->error set: THUMB_ECALLBACK, THUMB_EIO or THUMB_ELIMIT_BYTES, with ctx detail). */
THUMB_HIDDEN int64_t tsrc_read(tsrc *s, void *buf, size_t n);

/* ---------------------------------------------------------------- sink */

/* Output: a growable memory buffer (write == NULL) or a write callback. */
typedef struct tsink {
    thumb_write_fn write;
    void *user;
    uint8_t *buf;
    size_t len, cap;
    uint64_t written;
    int error;
    thumb_ctx *ctx;
} tsink;

THUMB_HIDDEN int tsink_write(tsink *s, const void *data, size_t n);

/* ---------------------------------------------------------------- sniff, exif */

/* enum thumb_format from the first bytes (needs up to 32). */
THUMB_HIDDEN int thumb__sniff(const uint8_t *p, size_t n);

/* EXIF orientation from a TIFF-structured EXIF block (starts "II*\0" or "MM\0*").
 * Returns 1..8, or 0 when absent or malformed. Every offset is bounds-checked. */
THUMB_HIDDEN int thumb__exif_orientation(const uint8_t *tiff, size_t len);

/* ---------------------------------------------------------------- decoders */

typedef struct tdec_header {
    int format;                 /* THUMB_FORMAT_JPEG / _PNG */
    uint32_t width, height;     /* stored dimensions */
    int channels;               /* channels of the rows next_row gives: 1 G, 2 GA, 3 RGB, 4 RGBA */
    int has_alpha;              /* channels 2 or 4 */
    int bit_depth;              /* as stored */
    int progressive;            /* progressive JPEG / interlaced PNG */
    int colour_space;           /* see thumb_info.colour_space */
    int is_cmyk;                /* JPEG CMYK or YCCK */
    int orientation;            /* 1..8, 1 when absent */
    int has_exif;
    uint8_t *icc;               /* embedded ICC profile (owned by the decoder) or NULL */
    uint32_t icc_len;
    /* PNG colour chunks (zero when absent) */
    int png_srgb;               /* an sRGB chunk is present */
    uint32_t png_gamma;         /* gAMA * 100000 */
    int png_has_chrm;
    uint32_t png_chrm[8];       /* cHRM: white x,y, red x,y, green x,y, blue x,y (* 100000) */
    int lossless;               /* lossless JPEG (SOF3, jlossless.h): no DCT scaling */
} tdec_header;

typedef struct tdec_request {
    int scale_num;              /* JPEG: decode at scale_num/8, 1..8; PNG: ignored (8) */
    uint32_t x0, x1;            /* wanted columns [x0, x1) in decoded (scaled) coordinates */
    uint32_t y0, y1;            /* wanted rows [y0, y1) */
    int raw_cmyk;               /* CMYK JPEG: give 4-channel CMYK rows (0 = no ink) instead of RGB */
    int ycc;                    /* YCbCr JPEG: YCbCr rows are welcome (skips libjpeg's colour conversion) */
    int half_chroma;            /* with ycc, 4:2:0: planes with the chroma at its own size are welcome */
} tdec_request;

/* A half-chroma decode's rows (tdec.planar): luma rows of the window from x0, chroma rows of
 * the chroma window [x0/2, (x0+w+1)/2) x [y0/2, (y0+h+1)/2); either count may be 0. */
typedef struct tplanes {
    const uint8_t *y[16], *cb[8], *cr[8];
    int ny, nc;
} tplanes;

typedef struct tdec tdec;
typedef struct tdec_ops {
    /* Begin decoding. Fills d->scale_num, d->dec_w, d->dec_h (whole image at the scale),
     * and the actual window d->x0, d->y0, d->w, d->h, which contains the requested one
     * (JPEG may move x0 down to an iMCU boundary). d->channels is the row layout. */
    int (*start)(tdec *d, const tdec_request *req);
    /* Next row of the window, left to right from d->x0; the pointer stays valid until the
     * next call. Rows come top to bottom, exactly d->h of them. */
    int (*next_row)(tdec *d, const uint8_t **row);
    void (*destroy)(tdec *d);
    /* With d->planar instead of next_row: the next rows of both windows, top to bottom. */
    int (*next_planes)(tdec *d, tplanes *p);
} tdec_ops;

struct tdec {
    const tdec_ops *ops;
    thumb_ctx *ctx;
    const thumb_options *opt;
    tsrc *src;
    tdec_header hdr;
    /* after start */
    int scale_num;
    uint32_t dec_w, dec_h;
    uint32_t x0, y0, w, h;
    int channels;
    int ycc;                    /* the rows are YCbCr (req->ycc was taken up) */
    int planar;                 /* req->half_chroma was taken up: next_planes, not next_row */
};

/* Open a decoder and read the header (and the metadata before the image data).
 * Limits (pixels, scans, chunks, bytes) are enforced here and while decoding. */
THUMB_HIDDEN int thumb__jpeg_open(tdec **out, thumb_ctx *ctx, const thumb_options *opt, tsrc *src);
THUMB_HIDDEN int thumb__png_open(tdec **out, thumb_ctx *ctx, const thumb_options *opt, tsrc *src);

/* ---------------------------------------------------------------- encoders */

/* pixels: h rows of w*channels bytes, stride apart. JPEG takes 1 or 3 channels,
 * PNG 1..4. Nothing but pixels is written: no EXIF, XMP, text or comments. */
THUMB_HIDDEN int thumb__jpeg_encode(thumb_ctx *ctx, const thumb_options *opt, const uint8_t *pixels,
                                    uint32_t w, uint32_t h, int channels, size_t stride, tsink *sink);
/* The JPEG encoder row by row, so the pipeline can feed it from the resampler without an
 * output canvas. hold: a callback sink gets the whole file only from finish (nothing is
 * written if decoding fails half way). After an error every call returns it; free always. */
typedef struct jenc jenc;
THUMB_HIDDEN int thumb__jpeg_enc_start(jenc **e, thumb_ctx *ctx, const thumb_options *opt, uint32_t w,
                                       uint32_t h, int channels, tsink *sink, int hold);
THUMB_HIDDEN int thumb__jpeg_enc_rows(jenc *e, const uint8_t *const *rows, uint32_t n);
/* Before any row: the rows will be YCbCr (3 channels). Only for the optimised baseline
 * encoder (optimize_coding, not progressive); THUMB_EINVAL otherwise. */
THUMB_HIDDEN int thumb__jpeg_enc_ycc_input(jenc *e);
/* After thumb__jpeg_enc_ycc_input, instead of rows: one 16-row strip (fewer only at the bottom)
 * as 4:2:0 planes, ny luma rows of w samples and (ny + 1) / 2 rows of (w + 1) / 2 Cb and Cr. */
THUMB_HIDDEN int thumb__jpeg_enc_strip420(jenc *e, const uint8_t *const *y, uint32_t ny, const uint8_t *const *cb,
                                          const uint8_t *const *cr, uint32_t nc);
THUMB_HIDDEN int thumb__jpeg_enc_finish(jenc *e);
THUMB_HIDDEN void thumb__jpeg_enc_free(jenc *e);
THUMB_HIDDEN int thumb__png_encode(thumb_ctx *ctx, const thumb_options *opt, const uint8_t *pixels,
                                   uint32_t w, uint32_t h, int channels, size_t stride, tsink *sink);

/* ---------------------------------------------------------------- plan */

/* One axis of the plan, in the source's stored orientation. */
typedef struct tplan_axis {
    uint32_t src;        /* stored length */
    uint32_t resized;    /* length of the whole image after resizing (before the crop) */
    uint32_t crop;       /* first kept pixel in resized coordinates */
    uint32_t out;        /* output pixels along this axis (image part, without padding) */
    uint32_t dec;        /* decoded length at the DCT scale: ceil(src * scale_num / 8) */
    uint32_t win0, win1; /* decoded pixels the output needs, [win0, win1) */
    uint32_t box;        /* area-average factor (1 = none) */
} tplan_axis;

typedef struct tplan {
    /* oriented (displayed) geometry */
    uint32_t canvas_w, canvas_h; /* output file dimensions */
    uint32_t img_w, img_h;       /* the resized image inside the canvas (== canvas unless contain) */
    uint32_t pad_x, pad_y;       /* top-left of the image inside the canvas */
    int orientation;             /* 1..8 applied to the small output */
    int scale_num;               /* DCT scale numerator (over 8); 8 for PNG */
    int kernel;
    tplan_axis x, y;             /* stored-orientation axes */
} tplan;

/* Compute the plan from the header and options. Pure: no I/O, no allocation. */
THUMB_HIDDEN int thumb__plan(thumb_ctx *ctx, const thumb_options *opt, const tdec_header *hdr, tplan *p);

/* Exact mapping for one axis, given the decoder's actual window start:
 * centre of output pixel 0 and the step, both in box-reduced window coordinates. */
THUMB_HIDDEN void thumb__plan_axis_map(const tplan_axis *a, int scale_num, uint32_t win_start,
                                       double *first, double *step);

/* ---------------------------------------------------------------- resampler */

typedef struct tresize_axis {
    uint32_t in_len;     /* decoded pixels in the window along this axis */
    uint32_t box;        /* area-average factor k: reduced length = ceil(in_len / k) */
    uint32_t out_len;    /* output pixels */
    double first;        /* centre of output 0 in reduced coordinates (pixel i spans [i-0.5, i+0.5]) */
    double step;         /* reduced pixels per output pixel */
} tresize_axis;

typedef struct tresize tresize;

/* channels 1..4; alpha (channels 2 and 4) is resampled premultiplied.
 * Output rows (out_len_y of them, out_len_x * channels bytes, unpremultiplied) are written
 * to out + row * out_stride. */
THUMB_HIDDEN int tresize_new(tresize **r, thumb_ctx *ctx, int channels, int kernel,
                             const tresize_axis *x, const tresize_axis *y,
                             uint8_t *out, size_t out_stride);
/* Feed the next input row (in_len_x * channels bytes). */
THUMB_HIDDEN int tresize_push_row(tresize *r, const uint8_t *row);
/* After the last row: produce the remaining output rows. */
THUMB_HIDDEN int tresize_finish(tresize *r);
THUMB_HIDDEN void tresize_free(tresize *r);
/* Stream the output instead: every output row is written to out (one row, reused) and then
 * passed to fn with its number; a non-zero return stops the resize with that code. */
THUMB_HIDDEN void tresize_set_row_sink(tresize *r, int (*fn)(void *user, const uint8_t *row, uint32_t y),
                                       void *user);

/* ---------------------------------------------------------------- colour (lcms2) */

typedef struct tcolour tcolour;
/* Decide how decoded pixels reach sRGB. *out stays NULL when nothing needs converting
 * (no profile, an sRGB profile, or opt->colour == KEEP). May set req->raw_cmyk: then the
 * conversion runs per decoded row (stage DECODE); otherwise on the resized output (stage OUTPUT). */
enum { THUMB_COLOUR_STAGE_DECODE = 0, THUMB_COLOUR_STAGE_OUTPUT = 1 };
THUMB_HIDDEN int thumb__colour_new(tcolour **out, thumb_ctx *ctx, const thumb_options *opt,
                                   const tdec_header *hdr, tdec_request *req);
THUMB_HIDDEN int thumb__colour_stage(const tcolour *c);
/* Channels of converted pixels for in_channels in (4 raw CMYK -> 3). */
THUMB_HIDDEN int thumb__colour_out_channels(const tcolour *c, int in_channels);
THUMB_HIDDEN void thumb__colour_row(tcolour *c, const uint8_t *in, uint8_t *out, uint32_t n);
THUMB_HIDDEN void thumb__colour_free(tcolour *c);
/* Test hook: run an RGB/grey conversion per decoded row instead of on the output. */
THUMB_HIDDEN void thumb__colour_force_stage(tcolour *c, int stage);
/* Is this ICC profile sRGB (matrix/TRC within tolerance)? 1 yes, 0 no, -1 unreadable. */
THUMB_HIDDEN int thumb__icc_is_srgb(const uint8_t *icc, size_t len);
/* A compact sRGB profile for embedding (built once, read-only afterwards). */
THUMB_HIDDEN int thumb__srgb_profile(const uint8_t **data, size_t *len);

/* ---------------------------------------------------------------- cpu, simd */

enum { THUMB_CPU_AVX2 = 1 };
/* CPU features, detected once (thread-safe), honouring THUMB_FORCE_SCALAR=1. */
THUMB_HIDDEN unsigned thumb__cpu_features(void);

#endif
