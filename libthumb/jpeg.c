/* JPEG decoder and encoder on libjpeg-turbo's libjpeg API (jpeglib.h).
 *
 * Decoding streams rows at a DCT scale inside a crop window; only progressive and
 * multi-scan files make libjpeg hold a whole-image coefficient buffer, and that is
 * bounded by max_frame_bytes before it is allocated. Metadata is read by our own
 * APP1/APP2 marker processors so a file cannot make libjpeg keep megabytes of markers.
 */
#include "internal.h"
#include "jdfast.h"
#include "jprog.h"
#include "jfront.h"
#include "jlossless.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#define JPEG_IO_BUF 65536
#define JPEG_MAX_WARNINGS 1000
#define JPEG_ROWS_PER_READ 16

/* ---------------------------------------------------------------- errors */

/* Shared by decoder and encoder. libjpeg reaches us only through these callbacks, so
 * every failure ends in one longjmp back to the API function that called into libjpeg. */
typedef struct jerr_mgr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    thumb_ctx *ctx;
    tsrc *src;              /* decoder: where read errors come from */
    int code;               /* the code to return after the longjmp */
    bool truncated;         /* the input ended and a fake EOI was inserted */
    long warnings;
    bool lossless_ok;       /* in jpeg_read_header: SOF3 hands over to jlossless.h */
} jerr_mgr;
#define JPEG_LOSSLESS_HANDOFF (-1) /* jerr_bail's code for that handover, never returned */

static void jerr_bail(j_common_ptr c, int code) __attribute__((noreturn));
static void jerr_bail(j_common_ptr c, int code)
{
    jerr_mgr *e = (jerr_mgr *)c->err;
    e->code = code;
    longjmp(e->jb, 1);
}

/* After the longjmp in a decoder or encoder call: the object is failed for good, and every
 * later call returns the same code (THUMB_ECORRUPT when libjpeg's own error set none). */
static int jerr_sticky(jerr_mgr *e, bool *failed)
{
    *failed = true;
    if (e->code == THUMB_OK)
        e->code = THUMB_ECORRUPT;
    return e->code;
}

static int jerr_code_for(j_common_ptr c)
{
    jerr_mgr *e = (jerr_mgr *)c->err;
    if (e->src && e->src->error != THUMB_OK)
        return e->src->error;
    if (e->truncated)
        return THUMB_ETRUNCATED;
    switch (c->err->msg_code) {
    case JERR_INPUT_EOF:
    case JERR_INPUT_EMPTY:
    case JWRN_JPEG_EOF:
        return THUMB_ETRUNCATED;
    case JERR_NO_BACKING_STORE:
        /* only reachable through max_memory_to_use, which we set from max_frame_bytes */
        return THUMB_ELIMIT_MEMORY;
    case JERR_OUT_OF_MEMORY:
        return THUMB_ENOMEM;
    default:
        return THUMB_ECORRUPT;
    }
}

static void jerr_fail_with_message(j_common_ptr c, int code)
{
    jerr_mgr *e = (jerr_mgr *)c->err;
    /* a read error already has the source's detail, which says more than libjpeg's */
    if (!(e->src && e->src->error != THUMB_OK && code == e->src->error)) {
        char msg[JMSG_LENGTH_MAX];
        (*c->err->format_message)(c, msg);
        thumb__fail(e->ctx, code, "jpeg: %s", msg);
    }
    jerr_bail(c, code);
}

static void jerr_error_exit(j_common_ptr c)
{
    jerr_mgr *e = (jerr_mgr *)c->err;
    /* lossless JPEG: libjpeg stops right after the SOF3 marker, where jlossless.h goes on */
    if (e->lossless_ok && c->err->msg_code == JERR_SOF_UNSUPPORTED && c->err->msg_parm.i[0] == 0xC3)
        jerr_bail(c, JPEG_LOSSLESS_HANDOFF);
    if (c->err->msg_code == JERR_BAD_PRECISION || c->err->msg_code == JERR_SOF_UNSUPPORTED) {
        if (c->err->msg_code == JERR_BAD_PRECISION)
            thumb__fail(e->ctx, THUMB_EUNSUPPORTED, "jpeg: %d-bit JPEG is not supported (8-bit DCT and lossless "
                        "JPEG are)", c->err->msg_parm.i[0]);
        else
            thumb__fail(e->ctx, THUMB_EUNSUPPORTED, "jpeg: unsupported JPEG process (SOF type 0x%02x: hierarchical, "
                        "arithmetic-coded lossless or reserved)", c->err->msg_parm.i[0]);
        jerr_bail(c, THUMB_EUNSUPPORTED);
    }
    jerr_fail_with_message(c, jerr_code_for(c));
}

static void jerr_emit_message(j_common_ptr c, int level)
{
    jerr_mgr *e = (jerr_mgr *)c->err;
    if (level >= 0)
        return; /* trace messages */
    c->err->num_warnings++;
    if (c->err->msg_code == JWRN_JPEG_EOF || e->truncated)
        jerr_fail_with_message(c, THUMB_ETRUNCATED);
    /* entropy data cut short by EOI: a file truncated and closed by a writer (or by a
     * proxy) that appended EOI; any other marker there is corruption, counted below */
    if (c->err->msg_code == JWRN_HIT_MARKER && c->is_decompressor &&
        ((j_decompress_ptr)c)->unread_marker == JPEG_EOI)
        jerr_fail_with_message(c, THUMB_ETRUNCATED);
    if (++e->warnings > JPEG_MAX_WARNINGS) {
        thumb__fail(e->ctx, THUMB_ECORRUPT, "jpeg: more than %d corrupt-data warnings", JPEG_MAX_WARNINGS);
        jerr_bail(c, THUMB_ECORRUPT);
    }
}

static void jerr_output_message(j_common_ptr c)
{
    (void)c; /* never print */
}

static void jerr_init(jerr_mgr *e, thumb_ctx *ctx, tsrc *src)
{
    jpeg_std_error(&e->pub);
    e->pub.error_exit = jerr_error_exit;
    e->pub.emit_message = jerr_emit_message;
    e->pub.output_message = jerr_output_message;
    e->ctx = ctx;
    e->src = src;
    e->code = THUMB_OK;
    e->truncated = false;
    e->warnings = 0;
}

/* ---------------------------------------------------------------- decoder state */

typedef struct jdec {
    tdec pub;                       /* first: the pipeline sees a tdec */
    struct jpeg_decompress_struct cinfo;
    jerr_mgr err;
    struct jpeg_source_mgr srcmgr;
    struct jpeg_progress_mgr progress;
    bool created;                   /* jpeg_create_decompress done */
    bool failed;                    /* sticky: every later call returns err.code */
    bool started;
    bool done;                      /* all window rows delivered, libjpeg aborted */
    bool header_done;
    uint8_t *inbuf;                 /* stream mode input buffer */
    uint8_t *exif;                  /* APP1 payload while it is being read */

    /* metadata */
    bool seen_exif;
    bool icc_bad;
    int icc_count;                  /* segment count declared by the first ICC segment */
    uint64_t icc_total;
    uint8_t *icc_seg[256];
    uint32_t icc_seg_len[256];

    /* output rows */
    uint8_t *rows;                  /* JPEG_ROWS_PER_READ rows of row_stride bytes */
    size_t row_stride;
    JSAMPROW row_ptrs[JPEG_ROWS_PER_READ];
    int rows_n, rows_i;             /* rows in the buffer, next to hand out */
    uint32_t delivered;
    size_t x_skip;                  /* bytes from a libjpeg row start to d->x0 */
    int cmyk_mode;                  /* 0 none, 1 to RGB, 2 raw CMYK */
    bool cmyk_inverted;             /* Adobe CMYK: stored 0 = full ink */

    /* YCbCr mode (req->ycc): jpeg_read_raw_data into planes, interleaved here */
    bool raw;
    uint8_t *planes;                /* 3 planes of imcu rows x plane_w */
    JSAMPROW plane_rows[3][JPEG_ROWS_PER_READ];
    size_t plane_w;
    uint32_t imcu;                  /* rows per jpeg_read_raw_data call */
    uint32_t raw_y;                 /* image rows read so far */

    /* our baseline decoder (jdfast.h) in place of libjpeg's decompression */
    jdfast *fast;
    const uint8_t *fast_rows[JPEG_ROWS_PER_READ];
    bool quiet_eof;                 /* src_fill: the end of the input returns FALSE (jdfast) */
} jdec;

static const tdec_ops jpeg_dec_ops;

/* ---------------------------------------------------------------- source manager */

static void src_init(j_decompress_ptr c)
{
    (void)c;
}

static boolean src_fill(j_decompress_ptr c)
{
    jdec *d = (jdec *)c->client_data;
    tsrc *s = d->pub.src;
    struct jpeg_source_mgr *m = c->src;

    if (s->mem) {
        /* bytes tsrc_peek moved aside come first, then the rest of the buffer, uncopied */
        if (s->peek_pos < s->peek_len) {
            m->next_input_byte = s->peek + s->peek_pos;
            m->bytes_in_buffer = s->peek_len - s->peek_pos;
            s->consumed += m->bytes_in_buffer;
            s->peek_pos = s->peek_len;
            return TRUE;
        }
        if (s->mem_pos < s->mem_len) {
            size_t n = s->mem_len - s->mem_pos;
            /* max_input_bytes as in stream mode: only reading past it fails */
            if (s->limit && s->consumed + n > s->limit) {
                if (s->consumed >= s->limit) {
                    s->error = thumb__fail(s->ctx, THUMB_ELIMIT_BYTES, "input is over the %llu-byte limit",
                                           (unsigned long long)s->limit);
                    jerr_bail((j_common_ptr)c, s->error);
                }
                n = (size_t)(s->limit - s->consumed);
            }
            m->next_input_byte = s->mem + s->mem_pos;
            m->bytes_in_buffer = n;
            s->consumed += n;
            s->mem_pos += n;
            return TRUE;
        }
    } else {
        int64_t n = tsrc_read(s, d->inbuf, JPEG_IO_BUF);
        if (n < 0)
            jerr_bail((j_common_ptr)c, s->error != THUMB_OK ? s->error : THUMB_EIO);
        if (n > 0) {
            m->next_input_byte = d->inbuf;
            m->bytes_in_buffer = (size_t)n;
            return TRUE;
        }
    }
    if (d->quiet_eof)
        return FALSE; /* jdfast: it decides whether the data it has is enough */
    /* End of input: hand libjpeg a fake EOI so it stops cleanly, and remember why; the
     * warning makes emit_message fail the decode with THUMB_ETRUNCATED. */
    d->err.truncated = true;
    static const JOCTET fake_eoi[2] = {0xFF, JPEG_EOI};
    m->next_input_byte = fake_eoi;
    m->bytes_in_buffer = 2;
    WARNMS(c, JWRN_JPEG_EOF);
    return TRUE;
}

static void src_skip(j_decompress_ptr c, long n)
{
    struct jpeg_source_mgr *m = c->src;
    if (n <= 0)
        return;
    while ((size_t)n > m->bytes_in_buffer) {
        n -= (long)m->bytes_in_buffer;
        m->bytes_in_buffer = 0;
        (void)(*m->fill_input_buffer)(c);
    }
    m->next_input_byte += n;
    m->bytes_in_buffer -= (size_t)n;
}

static void src_term(j_decompress_ptr c)
{
    (void)c;
}

/* ---------------------------------------------------------------- marker processors */

static int marker_byte(j_decompress_ptr c)
{
    struct jpeg_source_mgr *m = c->src;
    if (m->bytes_in_buffer == 0)
        (void)(*m->fill_input_buffer)(c); /* never suspends: fails or gives >= 1 byte */
    m->bytes_in_buffer--;
    return *m->next_input_byte++;
}

static void marker_read(j_decompress_ptr c, uint8_t *dst, size_t n)
{
    struct jpeg_source_mgr *m = c->src;
    while (n > 0) {
        if (m->bytes_in_buffer == 0)
            (void)(*m->fill_input_buffer)(c);
        size_t k = m->bytes_in_buffer < n ? m->bytes_in_buffer : n;
        memcpy(dst, m->next_input_byte, k);
        m->next_input_byte += k;
        m->bytes_in_buffer -= k;
        dst += k;
        n -= k;
    }
}

/* Reads the length; returns the payload length (may be 0). */
static size_t marker_begin(j_decompress_ptr c)
{
    int hi = marker_byte(c);
    int lo = marker_byte(c);
    int len = (hi << 8) | lo;
    if (len < 2)
        ERREXIT(c, JERR_BAD_LENGTH);
    return (size_t)len - 2;
}

static void icc_drop(jdec *d)
{
    for (int i = 0; i < 256; i++) {
        free(d->icc_seg[i]);
        d->icc_seg[i] = NULL;
        d->icc_seg_len[i] = 0;
    }
    d->icc_total = 0;
}

/* malloc for a marker payload, or THUMB_ENOMEM out of libjpeg */
static uint8_t *marker_alloc(jdec *d, size_t len, const char *what)
{
    uint8_t *p = malloc(len ? len : 1);
    if (!p) {
        thumb__fail(d->pub.ctx, THUMB_ENOMEM, "jpeg: out of memory reading %s", what);
        jerr_bail((j_common_ptr)&d->cinfo, THUMB_ENOMEM);
    }
    return p;
}

/* APP1 "Exif\0\0": the orientation, from the first EXIF block only. */
static void app_exif(j_decompress_ptr c, jdec *d, size_t len)
{
    d->seen_exif = true;
    d->pub.hdr.has_exif = 1;
    /* kept in d while reading so that a failing read does not leak it */
    d->exif = marker_alloc(d, len, "EXIF");
    marker_read(c, d->exif, len);
    int o = thumb__exif_orientation(d->exif, len);
    free(d->exif);
    d->exif = NULL;
    d->pub.hdr.orientation = (o >= 1 && o <= 8) ? o : 1;
}

/* APP2 "ICC_PROFILE\0" SEQ COUNT: one piece of the profile, joined by icc_assemble. */
static void app_icc(j_decompress_ptr c, jdec *d, int seq, int count, size_t len)
{
    if (seq == 0 || count == 0 || seq > count || (d->icc_count && count != d->icc_count) ||
        d->icc_seg[seq] != NULL) {
        /* inconsistent or duplicate segments: the profile cannot be trusted, keep none */
        d->icc_bad = true;
        icc_drop(d);
        src_skip(c, (long)len);
        return;
    }
    d->icc_count = count;
    if (d->icc_total + len > d->pub.opt->max_icc_bytes) {
        thumb__fail(d->pub.ctx, THUMB_ELIMIT_CHUNK, "jpeg: ICC profile over %u bytes",
                    (unsigned)d->pub.opt->max_icc_bytes);
        jerr_bail((j_common_ptr)c, THUMB_ELIMIT_CHUNK);
    }
    uint8_t *p = marker_alloc(d, len, "the ICC profile");
    d->icc_seg[seq] = p; /* owned from here on, so a failing read below does not leak it */
    d->icc_seg_len[seq] = (uint32_t)len;
    d->icc_total += len;
    marker_read(c, p, len);
}

/* The processor of APP1 and APP2 (which one is cinfo->unread_marker, as in libjpeg's own
 * get_interesting_appn for APP0 and APP14): the length and the head, then the payload to its
 * reader; a segment with another tag, too short for its head, or no longer wanted (after the
 * header, a second EXIF block, a profile found inconsistent) is skipped. */
static boolean marker_app(j_decompress_ptr c)
{
    jdec *d = (jdec *)c->client_data;
    bool exif = c->unread_marker == JPEG_APP0 + 1;
    const char *tag = exif ? "Exif\0\0" : "ICC_PROFILE\0";
    size_t tag_len = exif ? 6 : 12, head_len = exif ? 6 : 14; /* ICC: + sequence number, count */
    bool wanted = !d->header_done && (exif ? !d->seen_exif : !d->icc_bad);
    uint8_t head[14];
    size_t len = marker_begin(c);
    size_t n = len < head_len ? len : head_len;
    marker_read(c, head, n);
    len -= n;
    if (!wanted || n < head_len || memcmp(head, tag, tag_len) != 0)
        src_skip(c, (long)len);
    else if (exif)
        app_exif(c, d, len);
    else
        app_icc(c, d, head[12], head[13], len);
    return TRUE;
}

/* After the header: join segments 1..count into hdr.icc, or keep nothing. */
static int icc_assemble(jdec *d)
{
    if (d->icc_bad || d->icc_count == 0 || d->icc_total == 0) {
        icc_drop(d);
        return THUMB_OK;
    }
    for (int i = 1; i <= d->icc_count; i++) {
        if (!d->icc_seg[i]) {
            icc_drop(d);
            return THUMB_OK;
        }
    }
    uint8_t *p = malloc((size_t)d->icc_total);
    if (!p)
        return thumb__fail(d->pub.ctx, THUMB_ENOMEM, "jpeg: out of memory joining the ICC profile");
    size_t off = 0;
    for (int i = 1; i <= d->icc_count; i++) {
        memcpy(p + off, d->icc_seg[i], d->icc_seg_len[i]);
        off += d->icc_seg_len[i];
    }
    d->pub.hdr.icc = p;
    d->pub.hdr.icc_len = (uint32_t)off;
    icc_drop(d);
    return THUMB_OK;
}

/* ---------------------------------------------------------------- progress: scan limit */

static void progress_monitor(j_common_ptr c)
{
    j_decompress_ptr dc = (j_decompress_ptr)c;
    jdec *d = (jdec *)dc->client_data;
    uint32_t max = d->pub.opt->max_jpeg_scans;
    if (dc->input_scan_number > 0 && (uint32_t)dc->input_scan_number > max) {
        thumb__fail(d->pub.ctx, THUMB_ELIMIT_SCANS, "jpeg: more than %u progressive scans", (unsigned)max);
        jerr_bail(c, THUMB_ELIMIT_SCANS);
    }
}

/* ---------------------------------------------------------------- open */

static void jdec_free(jdec *d)
{
    if (!d)
        return;
    if (d->created)
        jpeg_destroy_decompress(&d->cinfo);
    icc_drop(d);
    free(d->pub.hdr.icc);
    free(d->inbuf);
    free(d->exif);
    free(d->rows);
    free(d->planes);
    thumb__jdfast_free(d->fast);
    free(d);
}

static int colour_space_code(J_COLOR_SPACE cs)
{
    switch (cs) {
    case JCS_GRAYSCALE: return 1;
    case JCS_YCbCr: return 2;
    case JCS_RGB: return 3;
    case JCS_CMYK: return 4;
    case JCS_YCCK: return 5;
    default: return 0;
    }
}

/* ---- lossless JPEG: after SOF3 the file goes to jlossless.h, which reads through our source
 * manager and takes what libjpeg read before it (tables, restart interval, colour markers) */

static void lossless_release(void *owner)
{
    jdec_free(owner);
}

static int lossless_fill(void *user, const uint8_t **p, size_t *n)
{
    jdec *d = user;
    struct jpeg_source_mgr *m = &d->srcmgr;
    *n = 0;
    if (setjmp(d->err.jb))
        return d->err.code; /* a read error or the byte limit, detail recorded */
    d->quiet_eof = true;
    if (m->bytes_in_buffer == 0 && !src_fill(&d->cinfo))
        return THUMB_OK;
    *p = m->next_input_byte;
    *n = m->bytes_in_buffer;
    m->next_input_byte += *n;
    m->bytes_in_buffer = 0;
    return THUMB_OK;
}

static int lossless_open(tdec **out, jdec *d)
{
    j_decompress_ptr c = &d->cinfo;
    d->err.lossless_ok = false;
    d->header_done = true;
    int rc = icc_assemble(d);
    if (rc != THUMB_OK) {
        jdec_free(d);
        return rc;
    }
    jll_pre pre = {.restart_interval = c->restart_interval, .saw_jfif = c->saw_JFIF_marker,
                   .saw_adobe = c->saw_Adobe_marker, .adobe_transform = c->Adobe_transform};
    for (int i = 0; i < 4; i++) {
        if (c->dc_huff_tbl_ptrs[i]) {
            pre.huff_bits[i] = c->dc_huff_tbl_ptrs[i]->bits;
            pre.huff_vals[i] = c->dc_huff_tbl_ptrs[i]->huffval;
        }
    }
    tdec_header h = d->pub.hdr;
    d->pub.hdr.icc = NULL; /* the lossless decoder owns it now */
    jll_io io = {lossless_fill, d};
    return thumb__jll_open(out, d->pub.ctx, d->pub.opt, d->pub.src, &h, &io, &pre, lossless_release, d);
}

int thumb__jpeg_open(tdec **out, thumb_ctx *ctx, const thumb_options *opt, tsrc *src)
{
    *out = NULL;
    if (src->error != THUMB_OK)
        return src->error;

    jdec *d = calloc(1, sizeof *d);
    if (!d)
        return thumb__fail(ctx, THUMB_ENOMEM, "jpeg: out of memory");
    d->pub.ops = &jpeg_dec_ops;
    d->pub.ctx = ctx;
    d->pub.opt = opt;
    d->pub.src = src;
    d->pub.hdr.format = THUMB_FORMAT_JPEG;
    d->pub.hdr.orientation = 1;
    d->pub.hdr.bit_depth = 8;
    if (!src->mem && !(d->inbuf = malloc(JPEG_IO_BUF))) {
        free(d);
        return thumb__fail(ctx, THUMB_ENOMEM, "jpeg: out of memory");
    }

    jerr_init(&d->err, ctx, src);
    d->cinfo.err = &d->err.pub;
    if (setjmp(d->err.jb)) {
        int code = d->err.code;
        if (code == JPEG_LOSSLESS_HANDOFF)
            return lossless_open(out, d);
        jdec_free(d);
        return code;
    }
    jpeg_create_decompress(&d->cinfo);
    d->created = true;
    d->cinfo.client_data = d;

    /* backstop for the frame estimate in start(): with no backing store, going over
     * this fails with JERR_NO_BACKING_STORE, reported as THUMB_ELIMIT_MEMORY */
    uint64_t mem_cap = opt->max_frame_bytes + (16u << 20);
    d->cinfo.mem->max_memory_to_use = mem_cap > (uint64_t)LONG_MAX ? LONG_MAX : (long)mem_cap;

    d->srcmgr.init_source = src_init;
    d->srcmgr.fill_input_buffer = src_fill;
    d->srcmgr.skip_input_data = src_skip;
    d->srcmgr.resync_to_restart = jpeg_resync_to_restart;
    d->srcmgr.term_source = src_term;
    d->cinfo.src = &d->srcmgr;

    d->progress.progress_monitor = progress_monitor;
    d->cinfo.progress = &d->progress;

    jpeg_set_marker_processor(&d->cinfo, JPEG_APP0 + 1, marker_app);
    jpeg_set_marker_processor(&d->cinfo, JPEG_APP0 + 2, marker_app);

    d->err.lossless_ok = true;
    (void)jpeg_read_header(&d->cinfo, TRUE);
    d->err.lossless_ok = false;
    d->header_done = true;

    struct jpeg_decompress_struct *c = &d->cinfo;
    tdec_header *h = &d->pub.hdr;
    h->width = c->image_width;
    h->height = c->image_height;
    if ((uint64_t)c->image_width * c->image_height > opt->max_input_pixels) {
        int code = thumb__fail(ctx, THUMB_ELIMIT_PIXELS, "jpeg: %ux%u is over %llu pixels",
                               (unsigned)c->image_width, (unsigned)c->image_height,
                               (unsigned long long)opt->max_input_pixels);
        jdec_free(d);
        return code;
    }
    h->colour_space = colour_space_code(c->jpeg_color_space);
    if (h->colour_space == 0) {
        int code = thumb__fail(ctx, THUMB_ECORRUPT, "jpeg: unsupported colour space with %d components",
                               c->num_components);
        jdec_free(d);
        return code;
    }
    h->progressive = jpeg_has_multiple_scans(c) ? 1 : 0;
    h->is_cmyk = (c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK);
    h->channels = c->jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    h->has_alpha = 0;

    int rc = icc_assemble(d);
    if (rc != THUMB_OK) {
        jdec_free(d);
        return rc;
    }
    *out = &d->pub;
    return THUMB_OK;
}

/* ---------------------------------------------------------------- start */

/* Bytes of the whole-image coefficient buffer libjpeg allocates for multi-scan files. */
static uint64_t coef_buffer_bytes(j_decompress_ptr c)
{
    uint64_t total = 0;
    for (int i = 0; i < c->num_components; i++) {
        const jpeg_component_info *ci = &c->comp_info[i];
        uint64_t wb = ci->width_in_blocks, hb = ci->height_in_blocks;
        uint64_t hs = (uint64_t)ci->h_samp_factor, vs = (uint64_t)ci->v_samp_factor;
        wb = (wb + hs - 1) / hs * hs; /* libjpeg pads to whole MCUs */
        hb = (hb + vs - 1) / vs * vs;
        total += wb * hb * sizeof(JBLOCK);
    }
    return total;
}

/* jpeg_start_decompress has read a progressive file to its EOI. The standard lets an
 * encoder leave coefficient bits unsent, but no encoder in use does; scans missing at
 * the end mean the file was cut at a scan boundary and closed with an EOI, and decoding
 * it would return a blurred picture as a success. */
static bool progression_complete(j_decompress_ptr c)
{
    if (!c->progressive_mode || !c->coef_bits)
        return true;
    for (int ci = 0; ci < c->num_components; ci++)
        for (int k = 0; k < DCTSIZE2; k++)
            if (c->coef_bits[ci][k] != 0)
                return false;
    return true;
}

/* YCbCr mode: libjpeg's raw (planar) output, no colour conversion, interleaved by us into
 * Y Cb Cr rows for the resampler, whose JPEG output then needs no conversion either. Taken when
 * every component comes out at the output size (4:2:0 at scales up to 4/8, 4:4:4 at any: the
 * scaled IDCT enlarges chroma) and the window is most of the image, since raw output cannot
 * use jpeg_crop_scanline. Avatar job (2725x2225 at 2/8, window 82% of the width), libjpeg
 * alone, best of 40: raw whole width 13.3 ms, RGB cropped 14.1 ms, RGB whole width 15.1 ms. */
static void raw_mode_choose(jdec *d, const tdec_request *req)
{
    j_decompress_ptr c = &d->cinfo;
    uint64_t win = (uint64_t)(req->x1 - req->x0) * (req->y1 - req->y0);
    if (win * 10 < (uint64_t)c->output_width * c->output_height * 7)
        return;
    c->out_color_space = JCS_YCbCr;
    c->raw_data_out = TRUE;
    jpeg_calc_output_dimensions(c);
    uint32_t imcu = (uint32_t)c->max_v_samp_factor * (uint32_t)c->min_DCT_scaled_size;
    bool ok = imcu <= JPEG_ROWS_PER_READ;
    for (int i = 0; i < 3 && ok; i++) {
        const jpeg_component_info *ci = &c->comp_info[i];
        ok = ci->downsampled_width == c->output_width && ci->downsampled_height == c->output_height &&
             (uint32_t)ci->v_samp_factor * (uint32_t)ci->DCT_scaled_size == imcu;
    }
    if (!ok) {
        c->out_color_space = JCS_RGB;
        c->raw_data_out = FALSE;
        jpeg_calc_output_dimensions(c);
        return;
    }
    d->raw = true;
    d->imcu = imcu;
}

static int raw_mode_start(jdec *d, const tdec_request *req)
{
    tdec *t = &d->pub;
    j_decompress_ptr c = &d->cinfo;
    t->channels = 3;
    t->ycc = 1;
    t->x0 = req->x0;
    t->w = req->x1 - req->x0;
    t->y0 = req->y0;
    t->h = req->y1 - req->y0;
    /* libjpeg writes whole blocks: a plane row is the widest component's blocks */
    size_t pw = 0;
    for (int i = 0; i < 3; i++) {
        size_t w = (size_t)c->comp_info[i].width_in_blocks * (size_t)c->comp_info[i].DCT_scaled_size;
        pw = w > pw ? w : pw;
    }
    d->plane_w = pw + 32;
    d->row_stride = (size_t)t->w * 3;
    size_t pbytes, rbytes;
    if (!thumb__mul_size(d->plane_w, 3 * JPEG_ROWS_PER_READ, &pbytes) ||
        !thumb__mul_size(d->row_stride, JPEG_ROWS_PER_READ, &rbytes) || !(d->planes = malloc(pbytes)) ||
        !(d->rows = malloc(rbytes))) {
        d->failed = true;
        return d->err.code = thumb__fail(t->ctx, THUMB_ENOMEM, "jpeg: out of memory for rows");
    }
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < JPEG_ROWS_PER_READ; i++)
            d->plane_rows[p][i] = d->planes + ((size_t)p * JPEG_ROWS_PER_READ + (size_t)i) * d->plane_w;
    for (int i = 0; i < JPEG_ROWS_PER_READ; i++)
        d->row_ptrs[i] = d->rows + (size_t)i * d->row_stride;
    return THUMB_OK;
}

/* One iMCU row of planes; the window's rows of it interleaved into d->rows. Returns rows got. */
static int raw_read(jdec *d)
{
    tdec *t = &d->pub;
    j_decompress_ptr c = &d->cinfo;
    const jf_kernels *k = thumb__jf_kernels(thumb__cpu_features());
    for (;;) {
        JSAMPARRAY arr[3] = {d->plane_rows[0], d->plane_rows[1], d->plane_rows[2]};
        JDIMENSION n = jpeg_read_raw_data(c, arr, d->imcu);
        if (n == 0)
            return 0;
        uint32_t first = d->raw_y, last = d->raw_y + (uint32_t)n; /* image rows [first, last) */
        if (last > c->output_height)
            last = c->output_height;
        d->raw_y += (uint32_t)n;
        uint32_t a = first > t->y0 ? first : t->y0, b = last < t->y0 + t->h ? last : t->y0 + t->h;
        if (a >= b) {
            if (first >= t->y0 + t->h)
                return 0;
            continue; /* above the window */
        }
        int got = 0;
        for (uint32_t y = a; y < b; y++, got++) {
            uint32_t r = y - first;
            k->interleave3(d->plane_rows[0][r] + t->x0, d->plane_rows[1][r] + t->x0, d->plane_rows[2][r] + t->x0,
                           d->row_ptrs[got], t->w);
        }
        return got;
    }
}

static int fast_warn(void *user, const char *what)
{
    (void)what;
    jdec *d = user;
    d->cinfo.err->num_warnings++;
    return ++d->err.warnings > JPEG_MAX_WARNINGS;
}

/* Our decoder takes the entropy-coded data (jdfast.h; progressive files jprog.h, which reads
 * every scan here): any window, YCbCr rows when welcome. */
static int fast_start(jdec *d, const tdec_request *req, bool prog)
{
    tdec *t = &d->pub;
    j_decompress_ptr c = &d->cinfo;
    bool ycc = req->ycc && c->num_components == 3;
    bool half = ycc && req->half_chroma && c->max_h_samp_factor == 2 && c->max_v_samp_factor == 2;
    d->quiet_eof = true;
    jprog_limits lim = {t->opt->max_jpeg_scans, t->opt->max_frame_bytes, &d->quiet_eof};
    int rc = prog   ? thumb__jprog_start(&d->fast, t->ctx, c, req->x0, req->x1, req->y0, req->y1, ycc, half,
                                         thumb__cpu_features(), fast_warn, d, &lim)
             : half ? thumb__jdfast_start_half(&d->fast, t->ctx, c, req->x0, req->x1, req->y0, req->y1,
                                             thumb__cpu_features(), fast_warn, d)
                  : thumb__jdfast_start(&d->fast, t->ctx, c, req->x0, req->x1, req->y0, req->y1, ycc,
                                        thumb__cpu_features(), fast_warn, d);
    if (rc != THUMB_OK) {
        d->failed = true;
        return d->err.code = rc;
    }
    t->channels = thumb__jdfast_channels(d->fast);
    t->ycc = ycc ? 1 : 0;
    t->planar = half ? 1 : 0;
    t->x0 = req->x0;
    t->w = req->x1 - req->x0;
    t->y0 = req->y0;
    t->h = req->y1 - req->y0;
    return THUMB_OK;
}

/* Rows from jdfast into d->fast_rows; source errors longjmp to the caller's setjmp. */
static int fast_read(jdec *d, int *got)
{
    int rc = thumb__jdfast_rows(d->fast, d->fast_rows, got);
    if (rc != THUMB_OK) {
        d->failed = true;
        d->err.code = rc;
    }
    return rc;
}

static int jdec_start(tdec *t, const tdec_request *req)
{
    jdec *d = (jdec *)t;
    j_decompress_ptr c = &d->cinfo;

    if (d->failed)
        return d->err.code;
    if (d->started)
        return thumb__fail(t->ctx, THUMB_EINVAL, "jpeg: start called twice");
    if (!req || req->scale_num < 1 || req->scale_num > 8)
        return thumb__fail(t->ctx, THUMB_EINVAL, "jpeg: scale %d/8 out of range", req ? req->scale_num : 0);
    d->started = true;

    if (setjmp(d->err.jb))
        return jerr_sticky(&d->err, &d->failed);

    c->scale_num = (unsigned)req->scale_num;
    c->scale_denom = 8;
    /* Both only matter at 8/8: at 2/8 and 4/8 libjpeg scales 4:2:0 chroma up in its IDCT, so
     * nothing is upsampled (fancy or merged), and the scaled IDCTs ignore dct_method. */
    c->dct_method = JDCT_ISLOW;
    c->do_fancy_upsampling = TRUE;
    d->cmyk_mode = 0;
    if (c->jpeg_color_space == JCS_GRAYSCALE) {
        c->out_color_space = JCS_GRAYSCALE;
    } else if (t->hdr.is_cmyk) {
        c->out_color_space = JCS_CMYK; /* libjpeg turns YCCK into CMYK */
        d->cmyk_mode = req->raw_cmyk ? 2 : 1;
        d->cmyk_inverted = c->saw_Adobe_marker;
    } else {
        c->out_color_space = JCS_RGB;
    }
    jpeg_calc_output_dimensions(c);
    t->scale_num = req->scale_num;
    t->dec_w = c->output_width;
    t->dec_h = c->output_height;

    if (req->x0 >= req->x1 || req->x1 > t->dec_w || req->y0 >= req->y1 || req->y1 > t->dec_h) {
        d->failed = true;
        d->err.code = thumb__fail(t->ctx, THUMB_EINVAL, "jpeg: window [%u,%u)x[%u,%u) outside %ux%u",
                                  (unsigned)req->x0, (unsigned)req->x1, (unsigned)req->y0,
                                  (unsigned)req->y1, (unsigned)t->dec_w, (unsigned)t->dec_h);
        return d->err.code;
    }

    /* baseline grey and YCbCr in the layouts jdfast.h lists: our decoder; the rest stays here */
    if (!t->ctx->no_jdfast && thumb__jdfast_usable(c))
        return fast_start(d, req, false);
    if (!t->ctx->no_jdfast && thumb__jprog_usable(c))
        return fast_start(d, req, true);
    /* raw output keeps the output size set above */
    if (req->ycc && c->jpeg_color_space == JCS_YCbCr && c->num_components == 3 && !t->hdr.is_cmyk)
        raw_mode_choose(d, req);

    if (jpeg_has_multiple_scans(c)) {
        uint64_t need = coef_buffer_bytes(c);
        if (need > t->opt->max_frame_bytes) {
            d->failed = true;
            d->err.code = thumb__fail(t->ctx, THUMB_ELIMIT_MEMORY,
                                      "jpeg: progressive frame needs %llu bytes, over %llu",
                                      (unsigned long long)need,
                                      (unsigned long long)t->opt->max_frame_bytes);
            return d->err.code;
        }
    }

    (void)jpeg_start_decompress(c);
    if (!progression_complete(c)) {
        d->failed = true;
        d->err.code = thumb__fail(t->ctx, THUMB_ETRUNCATED,
                                  "jpeg: progressive scans end before every coefficient is complete");
        return d->err.code;
    }

    if (d->raw)
        return raw_mode_start(d, req);

    JDIMENSION xoff = 0, width = c->output_width;
    uint32_t want_w = req->x1 - req->x0;
    /* Cropping paid at both scales the issue-3 jobs use (callgrind, per decode; CPU time):
     * avatar at 2/8 93.9M instructions cropped vs 97.8M whole width (21.0 vs 21.2 ms per job),
     * flowers at 4/8 16.3M vs 21.7M (7.4 vs 8.3 ms per job). */
    if ((uint64_t)want_w * 10 < (uint64_t)t->dec_w * 9) {
        /* Fancy upsampling replicates chroma at the edges of a cropped row, so the
         * columns next to a crop edge differ from a full decode. One iMCU of margin on
         * each side keeps the edges away from the pixels we hand out. */
        uint32_t margin = (uint32_t)c->min_DCT_scaled_size * (uint32_t)c->max_h_samp_factor;
        uint32_t a = req->x0 > margin ? req->x0 - margin : 0;
        uint32_t b = t->dec_w - req->x1 > margin ? req->x1 + margin : t->dec_w;
        xoff = a;
        width = b - a;
        jpeg_crop_scanline(c, &xoff, &width); /* xoff moves down to an iMCU boundary */
    }
    int comps = c->output_components;
    t->channels = d->cmyk_mode == 1 ? 3 : comps;
    /* hand out exactly the requested columns: rows start at xoff, skip to x0 */
    t->x0 = req->x0;
    t->w = want_w;
    t->y0 = req->y0;
    t->h = req->y1 - req->y0;
    d->x_skip = (size_t)(req->x0 - xoff) * (size_t)t->channels;

    d->row_stride = (size_t)c->output_width * (size_t)comps;
    size_t bytes;
    if (!thumb__mul_size(d->row_stride, JPEG_ROWS_PER_READ, &bytes) || !(d->rows = malloc(bytes))) {
        d->failed = true;
        d->err.code = thumb__fail(t->ctx, THUMB_ENOMEM, "jpeg: out of memory for rows");
        return d->err.code;
    }
    for (int i = 0; i < JPEG_ROWS_PER_READ; i++)
        d->row_ptrs[i] = d->rows + (size_t)i * d->row_stride;

    if (req->y0 > 0) {
        JDIMENSION skipped = jpeg_skip_scanlines(c, req->y0);
        if (skipped != req->y0) {
            d->failed = true;
            d->err.code = thumb__fail(t->ctx, THUMB_ECORRUPT, "jpeg: could not skip %u rows",
                                      (unsigned)req->y0);
            return d->err.code;
        }
    }
    return THUMB_OK;
}

/* ---------------------------------------------------------------- rows */

static inline uint8_t mul255(unsigned a, unsigned b)
{
    unsigned v = a * b + 128;
    return (uint8_t)((v + (v >> 8)) >> 8);
}

static void cmyk_row(uint8_t *p, uint32_t n, int mode, bool inverted)
{
    if (mode == 2) {
        if (inverted)
            for (size_t i = 0; i < (size_t)n * 4; i++)
                p[i] = (uint8_t)(255 - p[i]);
        return;
    }
    /* in place, 4 -> 3 bytes per pixel: the write never overtakes the read */
    for (uint32_t i = 0; i < n; i++) {
        unsigned C = p[4 * i], M = p[4 * i + 1], Y = p[4 * i + 2], K = p[4 * i + 3];
        if (!inverted) {
            C = 255 - C; M = 255 - M; Y = 255 - Y; K = 255 - K;
        }
        p[3 * i] = mul255(C, K);
        p[3 * i + 1] = mul255(M, K);
        p[3 * i + 2] = mul255(Y, K);
    }
}

static int jdec_next_row(tdec *t, const uint8_t **row)
{
    jdec *d = (jdec *)t;
    j_decompress_ptr c = &d->cinfo;

    *row = NULL;
    if (d->failed)
        return d->err.code;
    if (!d->started || d->delivered >= t->h)
        return thumb__fail(t->ctx, THUMB_EINVAL, "jpeg: no more rows");

    if (d->rows_i >= d->rows_n) {
        if (setjmp(d->err.jb))
            return jerr_sticky(&d->err, &d->failed);
        uint32_t want = t->h - d->delivered;
        if (want > JPEG_ROWS_PER_READ)
            want = JPEG_ROWS_PER_READ;
        int got = 0;
        if (d->fast && fast_read(d, &got) != THUMB_OK)
            return d->err.code;
        if (d->raw && (got = raw_read(d)) == 0) {
            d->failed = true;
            d->err.code = thumb__fail(t->ctx, THUMB_ETRUNCATED, "jpeg: decoder stopped early");
            return d->err.code;
        }
        while (!d->raw && !d->fast && (uint32_t)got < want) {
            JDIMENSION n = jpeg_read_scanlines(c, d->row_ptrs + got, want - (uint32_t)got);
            if (n == 0) {
                d->failed = true;
                d->err.code = thumb__fail(t->ctx, THUMB_ETRUNCATED, "jpeg: decoder stopped early");
                return d->err.code;
            }
            got += (int)n;
        }
        if (d->cmyk_mode)
            for (int i = 0; i < got; i++)
                cmyk_row(d->row_ptrs[i], c->output_width, d->cmyk_mode, d->cmyk_inverted);
        d->rows_n = got;
        d->rows_i = 0;
        if (d->delivered + (uint32_t)got >= t->h) {
            /* the window is complete: the rest of the file is not needed */
            jpeg_abort_decompress(c);
            d->done = true;
        }
    }
    *row = d->fast ? d->fast_rows[d->rows_i++] : d->row_ptrs[d->rows_i++] + d->x_skip;
    d->delivered++;
    return THUMB_OK;
}

/* A half-chroma decode's next MCU row (jdfast only) */
static int jdec_next_planes(tdec *t, tplanes *p)
{
    jdec *d = (jdec *)t;
    p->ny = p->nc = 0;
    if (d->failed)
        return d->err.code;
    if (!d->started || !d->fast || !t->planar)
        return thumb__fail(t->ctx, THUMB_EINVAL, "jpeg: no planes here");
    if (setjmp(d->err.jb))
        return jerr_sticky(&d->err, &d->failed);
    int rc = thumb__jdfast_planes(d->fast, p);
    if (rc != THUMB_OK) {
        d->failed = true;
        return d->err.code = rc;
    }
    d->delivered += (uint32_t)p->ny;
    if (d->delivered >= t->h && !d->done) {
        jpeg_abort_decompress(&d->cinfo); /* the window is complete: the rest of the file is not needed */
        d->done = true;
    }
    return THUMB_OK;
}

static void jdec_destroy(tdec *t)
{
    jdec_free((jdec *)t);
}

static const tdec_ops jpeg_dec_ops = {
    .start = jdec_start,
    .next_row = jdec_next_row,
    .destroy = jdec_destroy,
    .next_planes = jdec_next_planes,
};

/* ---------------------------------------------------------------- encoder */

typedef struct jdest {
    struct jpeg_destination_mgr pub;
    tsink *sink;
    uint8_t *buf;
} jdest;

static void dest_init(j_compress_ptr c)
{
    jdest *d = (jdest *)c->dest;
    d->pub.next_output_byte = d->buf;
    d->pub.free_in_buffer = JPEG_IO_BUF;
}

static void dest_flush(j_compress_ptr c, size_t n)
{
    jdest *d = (jdest *)c->dest;
    int rc = tsink_write(d->sink, d->buf, n);
    if (rc != THUMB_OK)
        jerr_bail((j_common_ptr)c, rc); /* tsink_write recorded the detail */
}

static boolean dest_empty(j_compress_ptr c)
{
    jdest *d = (jdest *)c->dest;
    dest_flush(c, JPEG_IO_BUF); /* libjpeg calls this only with the whole buffer full */
    d->pub.next_output_byte = d->buf;
    d->pub.free_in_buffer = JPEG_IO_BUF;
    return TRUE;
}

static void dest_term(j_compress_ptr c)
{
    jdest *d = (jdest *)c->dest;
    size_t n = JPEG_IO_BUF - d->pub.free_in_buffer;
    if (n)
        dest_flush(c, n);
}

/* opt->embed_srgb_profile: the colour work's compact sRGB profile, as APP2 ICC_PROFILE
 * segments (the only marker besides JFIF APP0 the encoder ever writes). */
static void jpeg_embed_srgb_profile(j_compress_ptr c, thumb_ctx *ctx)
{
    const uint8_t *icc;
    size_t len;
    int rc = thumb__srgb_profile(&icc, &len);
    if (rc != THUMB_OK) {
        thumb__fail(ctx, rc, "jpeg: no sRGB profile to embed");
        jerr_bail((j_common_ptr)c, rc);
    }
    jpeg_write_icc_profile(c, icc, (unsigned)len);
}

struct jenc {
    struct jpeg_compress_struct cinfo;
    jerr_mgr err;
    jdest dest;
    bool created;
    bool failed;                    /* sticky: every later call returns err.code */
    tsink *final;                   /* deferred: the whole file goes here at the end */
    tsink held;                     /* ... and is held here until then */
    jf_enc *front;                  /* optimised baseline: our front end, see jfront.h */
    uint32_t rows;                  /* rows given to the front end */
    bool embed_icc;                 /* front end: the profile goes after jpeg_write_coefficients */
};

void thumb__jpeg_enc_free(jenc *e)
{
    if (!e)
        return;
    if (e->created)
        jpeg_destroy_compress(&e->cinfo);
    thumb__jf_enc_free(e->front);
    free(e->dest.buf);
    free(e->held.buf);
    free(e);
}

int thumb__jpeg_enc_start(jenc **out, thumb_ctx *ctx, const thumb_options *opt, uint32_t w, uint32_t h,
                          int channels, tsink *sink, int hold)
{
    *out = NULL;
    if (!sink || w == 0 || h == 0 || w > JPEG_MAX_DIMENSION || h > JPEG_MAX_DIMENSION)
        return thumb__fail(ctx, THUMB_EINVAL, "jpeg: cannot encode %ux%u", (unsigned)w, (unsigned)h);
    if (channels != 1 && channels != 3)
        return thumb__fail(ctx, THUMB_EINVAL, "jpeg: cannot encode %d channels", channels);

    /* heap, not stack: a longjmp target whose state survives without volatile games */
    jenc *e = calloc(1, sizeof *e);
    if (!e || !(e->dest.buf = malloc(JPEG_IO_BUF))) {
        free(e);
        return thumb__fail(ctx, THUMB_ENOMEM, "jpeg: out of memory");
    }
    e->dest.sink = sink;
    if (hold && sink->write) {
        e->final = sink;
        e->held = (tsink){.ctx = ctx};
        e->dest.sink = &e->held;
    }
    jerr_init(&e->err, ctx, NULL);
    e->cinfo.err = &e->err.pub;
    if (setjmp(e->err.jb)) {
        int code = e->err.code != THUMB_OK ? e->err.code : THUMB_ECORRUPT;
        thumb__jpeg_enc_free(e);
        return code;
    }
    jpeg_create_compress(&e->cinfo);
    e->created = true;

    j_compress_ptr c = &e->cinfo;
    e->dest.pub.init_destination = dest_init;
    e->dest.pub.empty_output_buffer = dest_empty;
    e->dest.pub.term_destination = dest_term;
    c->dest = &e->dest.pub;

    c->image_width = w;
    c->image_height = h;
    c->input_components = channels;
    c->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(c); /* JFIF APP0 for YCbCr and greyscale, nothing else */
    int q = opt->quality < 1 ? 1 : opt->quality > 100 ? 100 : opt->quality;
    jpeg_set_quality(c, q, TRUE);
    if (channels == 3) {
        int f = opt->chroma == THUMB_CHROMA_444 ? 1 : 2;
        c->comp_info[0].h_samp_factor = f;
        c->comp_info[0].v_samp_factor = f;
        c->comp_info[1].h_samp_factor = c->comp_info[1].v_samp_factor = 1;
        c->comp_info[2].h_samp_factor = c->comp_info[2].v_samp_factor = 1;
    }
    /* optimize_coding (libjpeg-turbo 2.1.5, 512x512 q80) costs 5M instructions and a 768 KB
     * whole-image coefficient buffer per call that glibc maps afresh (~190 page faults): 2.6 of
     * 20.9 ms CPU on the avatar job, 1.8 of 7.7 on flowers. Without it the files grow 1.4%
     * (avatar) and 46% (flowers, 8598 vs 5873 bytes), so the default stays on, as sharp's.
     * JDCT_IFAST is no cheaper here (SSE2 vs ISLOW's AVX2) and loses 0.03 dB on the avatar. */
    c->optimize_coding = opt->optimize_coding ? TRUE : FALSE;
    c->dct_method = JDCT_ISLOW;
    /* An RGB profile in a greyscale JPEG is invalid (the profile's colour space must match). */
    e->embed_icc = opt->embed_srgb_profile && channels == 3;
    if (opt->optimize_coding && !opt->progressive) {
        /* Same bytes as libjpeg's optimize_coding, in one pass (jfront.h): 2.46 -> about 1 ms
         * for 512x512 q80. Progressive files keep libjpeg's per-scan statistics. */
        int rc = thumb__jf_enc_new(&e->front, c, w, h, channels, thumb__cpu_features());
        if (rc != THUMB_OK) {
            thumb__fail(ctx, rc, "jpeg: encoder front end: %s", thumb_strerror(rc));
            jerr_bail((j_common_ptr)c, rc);
        }
        *out = e;
        return THUMB_OK;
    }
    if (opt->progressive)
        jpeg_simple_progression(c);

    jpeg_start_compress(c, TRUE);
    if (e->embed_icc)
        jpeg_embed_srgb_profile(c, ctx);
    *out = e;
    return THUMB_OK;
}

/* Outside the setjmp frame of its caller, so its locals are never clobbered. */
static __attribute__((noinline)) void write_rows(j_compress_ptr c, const uint8_t *const *rows, uint32_t n)
{
    /* libjpeg takes non-const rows but only reads them */
    JSAMPARRAY rp = (JSAMPARRAY)(uintptr_t)rows;
    while (n > 0) {
        JDIMENSION k = jpeg_write_scanlines(c, rp, n);
        rp += k;
        n -= k;
    }
}

/* Rows given so far: counted here for the front end, by libjpeg otherwise. */
static uint32_t enc_rows_given(const jenc *e)
{
    return e->front ? e->rows : e->cinfo.next_scanline;
}

int thumb__jpeg_enc_rows(jenc *e, const uint8_t *const *rows, uint32_t n)
{
    if (e->failed)
        return e->err.code;
    if (setjmp(e->err.jb))
        return jerr_sticky(&e->err, &e->failed);
    j_compress_ptr c = &e->cinfo;
    uint32_t done = enc_rows_given(e);
    if (n > c->image_height - done) {
        e->failed = true;
        return e->err.code = thumb__fail(e->err.ctx, THUMB_EINVAL, "jpeg: more than %u rows",
                                         (unsigned)c->image_height);
    }
    if (e->front) {
        thumb__jf_enc_rows(e->front, rows, n);
        e->rows += n;
    } else {
        write_rows(c, rows, n);
    }
    return THUMB_OK;
}

int thumb__jpeg_enc_strip420(jenc *e, const uint8_t *const *y, uint32_t ny, const uint8_t *const *cb,
                             const uint8_t *const *cr, uint32_t nc)
{
    if (e->failed)
        return e->err.code;
    if (setjmp(e->err.jb))
        return jerr_sticky(&e->err, &e->failed);
    uint32_t done = enc_rows_given(e);
    if (!e->front || ny > e->cinfo.image_height - done ||
        thumb__jf_enc_strip420(e->front, y, ny, cb, cr, nc) != THUMB_OK) {
        e->failed = true;
        return e->err.code = thumb__fail(e->err.ctx, THUMB_EINVAL, "jpeg: 4:2:0 planes the encoder cannot take");
    }
    e->rows += ny;
    return THUMB_OK;
}

int thumb__jpeg_enc_ycc_input(jenc *e)
{
    if (e->failed)
        return e->err.code;
    if (!e->front || e->rows || e->cinfo.input_components != 3)
        return thumb__fail(e->err.ctx, THUMB_EINVAL, "jpeg: YCbCr rows need the optimised baseline encoder");
    thumb__jf_enc_ycc_input(e->front);
    return THUMB_OK;
}

int thumb__jpeg_enc_finish(jenc *e)
{
    if (e->failed)
        return e->err.code;
    if (setjmp(e->err.jb))
        return jerr_sticky(&e->err, &e->failed);
    j_compress_ptr c = &e->cinfo;
    uint32_t done = enc_rows_given(e);
    if (done != c->image_height) {
        e->failed = true;
        return e->err.code = thumb__fail(e->err.ctx, THUMB_EINVAL, "jpeg: got %u of %u rows",
                                         (unsigned)done, (unsigned)c->image_height);
    }
    if (e->front) {
        thumb__jf_enc_finish(e->front, c);
        if (e->embed_icc)
            jpeg_embed_srgb_profile(c, e->err.ctx);
    }
    jpeg_finish_compress(c);
    if (e->final) {
        int rc = tsink_write(e->final, e->held.buf, e->held.len);
        if (rc != THUMB_OK) {
            e->failed = true;
            return e->err.code = rc;
        }
    }
    return THUMB_OK;
}

int thumb__jpeg_encode(thumb_ctx *ctx, const thumb_options *opt, const uint8_t *pixels,
                       uint32_t w, uint32_t h, int channels, size_t stride, tsink *sink)
{
    if (!pixels || !sink || w == 0 || h == 0 || w > JPEG_MAX_DIMENSION || h > JPEG_MAX_DIMENSION)
        return thumb__fail(ctx, THUMB_EINVAL, "jpeg: cannot encode %ux%u", (unsigned)w, (unsigned)h);
    if (channels != 1 && channels != 3)
        return thumb__fail(ctx, THUMB_EINVAL, "jpeg: cannot encode %d channels", channels);
    if (stride < (size_t)w * (size_t)channels)
        return thumb__fail(ctx, THUMB_EINVAL, "jpeg: stride %zu under one row", stride);
    jenc *e;
    int rc = thumb__jpeg_enc_start(&e, ctx, opt, w, h, channels, sink, 0);
    for (uint32_t y = 0; rc == THUMB_OK && y < h; y += 16) {
        const uint8_t *rowp[16];
        uint32_t n = h - y < 16 ? h - y : 16;
        for (uint32_t i = 0; i < n; i++)
            rowp[i] = pixels + (size_t)(y + i) * stride;
        rc = thumb__jpeg_enc_rows(e, rowp, n);
    }
    if (rc == THUMB_OK)
        rc = thumb__jpeg_enc_finish(e);
    thumb__jpeg_enc_free(e);
    return rc;
}
