/*
 * libthumb: fast, safe, streaming image thumbnails (JPEG and PNG in, JPEG and PNG out).
 *
 * The whole stable API is in this header. Every function returns an int error code
 * (THUMB_OK is 0) unless it says otherwise. A thumb_ctx is not shared between threads;
 * one context per thread is thread-safe, and the library keeps no global mutable state (what
 * it sets up once - CPU features, SIMD tables, the embeddable sRGB profile - is read-only
 * afterwards). A context keeps caches between calls (the last colour decision, the
 * resampler's last weight tables, the last progressive JPEG's coefficient store up to 16 MiB and
 * the last turned output's buffer up to 4 MiB), so reusing one per thread for a batch is faster;
 * thumb_ctx_free releases them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef THUMB_H
#define THUMB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define THUMB_VERSION_MAJOR 1
#define THUMB_VERSION_MINOR 0
#define THUMB_VERSION_PATCH 0
#define THUMB_VERSION_NUMBER (THUMB_VERSION_MAJOR * 10000 + THUMB_VERSION_MINOR * 100 + THUMB_VERSION_PATCH)

#if defined(_WIN32)
#  define THUMB_API
#elif defined(__GNUC__)
#  define THUMB_API __attribute__((visibility("default")))
#else
#  define THUMB_API
#endif

/* Error codes. Append-only: numbers never change meaning. */
enum thumb_error {
    THUMB_OK = 0,
    THUMB_EINVAL = 1,           /* bad argument or option value */
    THUMB_ENOMEM = 2,           /* an allocation failed */
    THUMB_EIO = 3,              /* reading the input or writing the output failed */
    THUMB_EUNSUPPORTED = 4,     /* not JPEG or PNG (detail names the type when known) */
    THUMB_ECORRUPT = 5,         /* the input is malformed */
    THUMB_ETRUNCATED = 6,       /* the input ends early */
    THUMB_ELIMIT_PIXELS = 7,    /* input width*height over max_input_pixels */
    THUMB_ELIMIT_BYTES = 8,     /* input larger than max_input_bytes */
    THUMB_ELIMIT_SCANS = 9,     /* progressive JPEG with more scans than max_jpeg_scans */
    THUMB_ELIMIT_CHUNK = 10,    /* PNG chunk, chunk cache or chunk count over its limit */
    THUMB_ELIMIT_OUTPUT = 11,   /* requested output over max_output_* */
    THUMB_ELIMIT_MEMORY = 12,   /* a frame buffer would exceed max_frame_bytes */
    THUMB_ECALLBACK = 13,       /* a user read/write callback reported failure */
    THUMB_EICC = 14,            /* reserved, never returned: an unusable or mismatched embedded
                                   profile is ignored (pixels kept), uploads are not rejected for it */
    THUMB_ERROR_COUNT_ = 15     /* not an error: one past the last code */
};

/* Image formats. THUMB_FORMAT_UNKNOWN as an output format means "JPEG". */
enum thumb_format {
    THUMB_FORMAT_UNKNOWN = 0,
    THUMB_FORMAT_JPEG = 1,
    THUMB_FORMAT_PNG = 2,
    THUMB_FORMAT_GIF = 3,
    THUMB_FORMAT_WEBP = 4,
    THUMB_FORMAT_HEIF = 5,
    THUMB_FORMAT_AVIF = 6,
    THUMB_FORMAT_TIFF = 7,
    THUMB_FORMAT_BMP = 8,
    THUMB_FORMAT_JXL = 9,
    THUMB_FORMAT_ICO = 10
};

/* How the image fits the requested box (sharp's names and meanings). */
enum thumb_fit {
    THUMB_FIT_COVER = 0,   /* fill the box, crop what overflows (default) */
    THUMB_FIT_CONTAIN = 1, /* fit inside the box, pad with the background to the box size */
    THUMB_FIT_FILL = 2,    /* stretch to the box, ignoring aspect ratio */
    THUMB_FIT_INSIDE = 3,  /* fit inside the box, no padding: output <= box */
    THUMB_FIT_OUTSIDE = 4  /* cover the box, no cropping: output >= box */
};

/* Where cover crops and contain pads. */
enum thumb_position {
    THUMB_POS_CENTRE = 0,
    THUMB_POS_NORTH = 1,
    THUMB_POS_NORTHEAST = 2,
    THUMB_POS_EAST = 3,
    THUMB_POS_SOUTHEAST = 4,
    THUMB_POS_SOUTH = 5,
    THUMB_POS_SOUTHWEST = 6,
    THUMB_POS_WEST = 7,
    THUMB_POS_NORTHWEST = 8
};

enum thumb_kernel {
    THUMB_KERNEL_LANCZOS3 = 0, /* default */
    THUMB_KERNEL_NEAREST = 1,
    THUMB_KERNEL_LINEAR = 2,
    THUMB_KERNEL_CUBIC = 3     /* Catmull-Rom */
};

enum thumb_chroma {
    THUMB_CHROMA_420 = 0,      /* default */
    THUMB_CHROMA_444 = 1
};

/* What to do with an embedded ICC profile. */
enum thumb_colour {
    THUMB_COLOUR_SRGB = 0,     /* convert to sRGB when a non-sRGB profile is present (default) */
    THUMB_COLOUR_KEEP = 1      /* leave pixel values alone */
};

/* Options. Always call thumb_options_init() first: it sets .size and every default, so
 * code compiled against an older header keeps working when fields are appended. */
typedef struct thumb_options {
    size_t size;                 /* sizeof(thumb_options), set by thumb_options_init */

    /* geometry */
    uint32_t width;              /* target box; 0 = derive from height and aspect ratio */
    uint32_t height;             /* 0 = derive from width; both 0 = keep the input size */
    int fit;                     /* enum thumb_fit, default COVER */
    int position;                /* enum thumb_position, default CENTRE */
    int kernel;                  /* enum thumb_kernel, default LANCZOS3 */
    int without_enlargement;     /* 1: never upscale; default 0 */
    int auto_orient;             /* 1: apply EXIF orientation (default); 0: ignore it */

    /* output */
    int format;                  /* enum thumb_format: JPEG or PNG; default UNKNOWN = JPEG, except that
                                  * thumb_thumbnail_file then follows the output name (.png -> PNG) */
    int quality;                 /* JPEG quality 1..100, default 80 */
    int progressive;             /* JPEG progressive / PNG Adam7 off; default 0 */
    int chroma;                  /* enum thumb_chroma, default 4:2:0 */
    int optimize_coding;         /* JPEG optimised Huffman tables, default 1 */
    int png_compression;         /* zlib level 0..9, default 6 */
    uint8_t background[4];       /* RGBA for flattening and padding, default opaque white */

    /* colour */
    int colour;                  /* enum thumb_colour, default SRGB */
    int embed_srgb_profile;      /* 1: write a compact sRGB ICC profile into the output; default 0 */

    /* limits: going over one fails with THUMB_ELIMIT_* before any large allocation */
    uint64_t max_input_pixels;   /* default 268402689 (16383 x 16383) */
    uint64_t max_input_bytes;    /* default 256 MiB; 0 = unlimited */
    uint32_t max_jpeg_scans;     /* default 100 */
    uint32_t max_png_chunk_size; /* default 16 MiB */
    uint32_t max_png_chunk_cache;/* bytes of ancillary chunks kept, default 32 MiB */
    uint32_t max_png_chunks;     /* default 1000 */
    uint32_t max_output_width;   /* default 16383 */
    uint32_t max_output_height;  /* default 16383 */
    uint64_t max_output_pixels;  /* default 16777216 (4096 x 4096) */
    uint64_t max_frame_bytes;    /* progressive JPEG / interlaced PNG frame memory, default 512 MiB */
    uint32_t max_icc_bytes;      /* embedded ICC profile, default 4 MiB */

    /* speed/fidelity */
    int fast_shrink_on_load;     /* 1 (default): JPEG DCT-scales to the smallest size that still
                                  * covers the output; 0: leaves the kernel at least a factor of 2
                                  * (slower, closer to a full-decode Lanczos3; sharp's fastShrinkOnLoad) */
} thumb_options;

/* What a header says, after orientation. */
typedef struct thumb_info {
    size_t size;                 /* set by the caller to sizeof(thumb_info) (thumb_info_init does it) */
    int format;                  /* enum thumb_format */
    uint32_t width;              /* displayed width: after EXIF orientation */
    uint32_t height;
    uint32_t stored_width;       /* as stored in the file */
    uint32_t stored_height;
    int orientation;             /* EXIF orientation 1..8 (1 when absent) */
    int channels;                /* as decoded: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (CMYK decodes to 3) */
    int bit_depth;               /* 8 or 16 for PNG (1, 2, 4 as stored); 8 for JPEG (lossless: 2..16) */
    int has_alpha;
    int progressive;             /* progressive JPEG or Adam7-interlaced PNG */
    int has_icc;                 /* an ICC profile is embedded */
    int has_exif;
    int colour_space;            /* JPEG: 1 grey, 2 YCbCr, 3 RGB, 4 CMYK, 5 YCCK; PNG: colour type + 100 */
    uint32_t icc_size;           /* bytes of the embedded profile, 0 when none */
    int lossless;                /* JPEG: lossless (process 14, SOF3); bit_depth is then its precision, 2..16 */
} thumb_info;

typedef struct thumb_ctx thumb_ctx;

/* Read callback: fill up to n bytes of buf; return bytes read, 0 at end of input, -1 on error. */
typedef int64_t (*thumb_read_fn)(void *user, void *buf, size_t n);
/* Write callback: write all n bytes; return 0 on success, non-zero on error. */
typedef int (*thumb_write_fn)(void *user, const void *buf, size_t n);

THUMB_API const char *thumb_version_string(void);   /* "1.0.0" */
THUMB_API int thumb_version_number(void);           /* THUMB_VERSION_NUMBER of the library */

THUMB_API thumb_ctx *thumb_ctx_new(void);           /* NULL when out of memory */
THUMB_API void thumb_ctx_free(thumb_ctx *ctx);      /* accepts NULL */

/* Static text for a code; never NULL. */
THUMB_API const char *thumb_strerror(int code);
/* Code name for a code ("THUMB_ELIMIT_PIXELS"); never NULL. */
THUMB_API const char *thumb_error_name(int code);
/* Detail of the last error on this context ("jpeg: more than 100 progressive scans"); "" if none. */
THUMB_API const char *thumb_ctx_detail(const thumb_ctx *ctx);

THUMB_API void thumb_options_init(thumb_options *opt);
THUMB_API void thumb_info_init(thumb_info *info);
/* Name <-> enum helpers, for CLIs and bindings. Return -1 for unknown names. */
THUMB_API int thumb_fit_from_name(const char *name);
THUMB_API int thumb_position_from_name(const char *name);
THUMB_API int thumb_kernel_from_name(const char *name);
THUMB_API const char *thumb_format_name(int format);  /* "jpeg", "png", "gif", ... */

/* Sniff by magic bytes only. Returns enum thumb_format (UNKNOWN when not recognised). */
THUMB_API int thumb_sniff(const void *data, size_t len);

/* Header information. Limits in opt (NULL = defaults) apply. */
THUMB_API int thumb_info_mem(thumb_ctx *ctx, const void *data, size_t len,
                             const thumb_options *opt, thumb_info *info);
THUMB_API int thumb_info_file(thumb_ctx *ctx, const char *path,
                              const thumb_options *opt, thumb_info *info);

/* Memory to memory. On success *out is a buffer to release with thumb_free(). */
THUMB_API int thumb_thumbnail_mem(thumb_ctx *ctx, const void *data, size_t len,
                                  const thumb_options *opt, void **out, size_t *out_len);
/* Streaming: input from a read callback, output to a write callback. Input is read once,
 * front to back; it is never held whole. On failure some output may have been written. */
THUMB_API int thumb_thumbnail_stream(thumb_ctx *ctx, thumb_read_fn read, void *read_user,
                                     const thumb_options *opt, thumb_write_fn write, void *write_user);
/* File to file. The output appears atomically (temporary file + rename) or not at all.
 * in_path "-" reads stdin. */
THUMB_API int thumb_thumbnail_file(thumb_ctx *ctx, const char *in_path, const char *out_path,
                                   const thumb_options *opt);

THUMB_API void thumb_free(void *p);

/* Which SIMD path is in use for this process: "avx2" or "scalar". */
THUMB_API const char *thumb_simd_name(void);

#ifdef __cplusplus
}
#endif
#endif
