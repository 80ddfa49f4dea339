/* Lossless JPEG (ITU-T T.81 annex H, process 14: SOF3, Huffman) decoder. See jlossless.h.
 *
 * The whole file is untrusted: every length is checked before it is used, a Huffman table is
 * validated as libjpeg does (no over-subscribed or all-ones code), and the bit reader never reads
 * past the entropy-coded segment: what a sample would need from beyond it (the segment ends at a
 * marker or at the end of the input) is a typed error, not zeros.
 */
#include "jlossless.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JLL_FAST_BITS 9

typedef struct jll_huff {
    uint16_t fast[1 << JLL_FAST_BITS]; /* (length << 8) | value for codes of <= FAST_BITS; 0: longer */
    int32_t maxcode[17];               /* largest code of each length, -1 when none */
    int32_t valoff[17];                /* value index = code + valoff[length] */
    uint8_t vals[256];
} jll_huff;

enum { JLL_GREY = 1, JLL_YCC = 2, JLL_RGB = 3, JLL_CMYK = 4, JLL_YCCK = 5 }; /* = thumb_info.colour_space */

typedef struct jll {
    tdec pub;                       /* first: the pipeline sees a tdec */
    jll_io io;
    const uint8_t *p;               /* unread input */
    size_t n;
    bool in_end;                    /* io reported the end of the input */
    void (*release)(void *owner);
    void *owner;
    const uint8_t *mem;             /* thumb__jll_open_mem's buffer */
    size_t mem_len;
    bool mem_given;

    bool failed;                    /* sticky: every later call returns code */
    int code;

    /* tables as defined (DHT class 0), built at SOS */
    uint8_t tbits[4][17];
    uint8_t tvals[4][256];
    bool tdef[4];
    unsigned restart;               /* DRI, in MCUs (= pixels per row here) */
    bool saw_jfif, saw_adobe;
    int adobe_transform;

    /* frame and scan */
    int prec, nf;
    uint32_t w, h;
    int comp_id[4];
    int pred, pt;
    int order[4];                   /* scan position -> frame component */
    jll_huff huff[4];               /* by scan position */
    uint32_t rows_per_restart, rows_since;
    unsigned next_rst;
    int colour;

    /* entropy-coded data: bits MSB first in acc; pad counts the zero bits added past the segment */
    uint64_t acc;
    int nbits, pad;
    int marker;                     /* the marker that ended the segment, 0 while in it */
    bool data_end;                  /* the input ended inside the segment */

    /* rows */
    uint16_t *prev, *cur;           /* w * nf stored samples (before the point transform is undone) */
    uint16_t *raw;                  /* test hook's row */
    uint8_t *lut;                   /* stored sample -> 8 bits */
    uint32_t lut_max;               /* largest stored sample the lut covers (larger ones clamp) */
    uint8_t *out;                   /* one output row of the window */
    uint32_t y;                     /* rows decoded */
    uint32_t delivered;
    bool started;
    bool cmyk_raw, cmyk_inverted;
} jll;

static const tdec_ops jll_ops;

/* ---------------------------------------------------------------- errors */

static int jll_fail(jll *j, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jll_fail(jll *j, int code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    j->failed = true;
    j->code = code;
    return thumb__fail(j->pub.ctx, code, "lossless jpeg: %s", msg);
}

/* A code from io.fill, whose detail the source already recorded. */
static int jll_fail_io(jll *j, int code)
{
    j->failed = true;
    j->code = code;
    return code;
}

/* ---------------------------------------------------------------- bytes */

static int mem_fill(void *user, const uint8_t **p, size_t *n)
{
    jll *j = user;
    *n = 0;
    if (!j->mem_given) {
        j->mem_given = true;
        *p = j->mem;
        *n = j->mem_len;
    }
    return THUMB_OK;
}

/* Make at least one byte available unless the input has ended. */
static int in_more(jll *j)
{
    while (j->n == 0 && !j->in_end) {
        const uint8_t *p = NULL;
        size_t n = 0;
        int rc = j->io.fill(j->io.user, &p, &n);
        if (rc != THUMB_OK)
            return jll_fail_io(j, rc);
        if (n == 0)
            j->in_end = true;
        j->p = p;
        j->n = n;
    }
    return THUMB_OK;
}

static int in_byte(jll *j, int *b)
{
    int rc = in_more(j);
    if (rc != THUMB_OK)
        return rc;
    if (j->n == 0)
        return jll_fail(j, THUMB_ETRUNCATED, "the file ends before its image data");
    *b = *j->p++;
    j->n--;
    return THUMB_OK;
}

static int in_u16(jll *j, unsigned *v)
{
    int hi = 0, lo = 0, rc;
    if ((rc = in_byte(j, &hi)) != THUMB_OK || (rc = in_byte(j, &lo)) != THUMB_OK)
        return rc;
    *v = (unsigned)hi << 8 | (unsigned)lo;
    return THUMB_OK;
}

static int in_read(jll *j, uint8_t *dst, size_t k)
{
    while (k > 0) {
        int rc = in_more(j);
        if (rc != THUMB_OK)
            return rc;
        if (j->n == 0)
            return jll_fail(j, THUMB_ETRUNCATED, "the file ends inside a marker segment");
        size_t m = j->n < k ? j->n : k;
        if (dst) {
            memcpy(dst, j->p, m);
            dst += m;
        }
        j->p += m;
        j->n -= m;
        k -= m;
    }
    return THUMB_OK;
}

/* Segment length (the 2 bytes of it included); returns the payload length in *len. */
static int in_seglen(jll *j, unsigned min, unsigned *len)
{
    unsigned v;
    int rc = in_u16(j, &v);
    if (rc != THUMB_OK)
        return rc;
    if (v < 2 + min)
        return jll_fail(j, THUMB_ECORRUPT, "marker segment length %u is too short", v);
    *len = v - 2;
    return THUMB_OK;
}

/* The next marker in the header: bytes that are not one are skipped, as libjpeg does. */
static int in_marker(jll *j, int *m)
{
    int b, rc;
    for (;;) {
        do {
            if ((rc = in_byte(j, &b)) != THUMB_OK)
                return rc;
        } while (b != 0xFF);
        do {
            if ((rc = in_byte(j, &b)) != THUMB_OK)
                return rc;
        } while (b == 0xFF);
        if (b != 0) {
            *m = b;
            return THUMB_OK;
        }
    }
}

/* ---------------------------------------------------------------- header */

static int parse_dht(jll *j)
{
    unsigned len = 0;
    int rc = in_seglen(j, 0, &len);
    if (rc != THUMB_OK)
        return rc;
    while (len > 0) {
        uint8_t head[17];
        if (len < 17)
            return jll_fail(j, THUMB_ECORRUPT, "DHT segment too short");
        if ((rc = in_read(j, head, 17)) != THUMB_OK)
            return rc;
        len -= 17;
        int tc = head[0] >> 4, th = head[0] & 15;
        unsigned count = 0;
        for (int l = 1; l <= 16; l++)
            count += head[l];
        if (tc > 1 || th > 3 || count > 256 || count > len)
            return jll_fail(j, THUMB_ECORRUPT, "bad Huffman table definition (class %d, id %d, %u codes)", tc,
                            th, count);
        uint8_t vals[256];
        if ((rc = in_read(j, vals, count)) != THUMB_OK)
            return rc;
        len -= count;
        if (tc == 0) { /* class 1 (AC) tables mean nothing in lossless mode */
            memcpy(j->tbits[th], head, 17);
            memset(j->tvals[th], 0, 256);
            memcpy(j->tvals[th], vals, count);
            j->tdef[th] = true;
        }
    }
    return THUMB_OK;
}

static int parse_dri(jll *j)
{
    unsigned len = 0, v = 0;
    int rc = in_seglen(j, 2, &len);
    if (rc != THUMB_OK)
        return rc;
    if (len != 2)
        return jll_fail(j, THUMB_ECORRUPT, "DRI segment length %u", len + 2);
    if ((rc = in_u16(j, &v)) != THUMB_OK)
        return rc;
    j->restart = v;
    return THUMB_OK;
}

/* APP0 (JFIF) and APP14 (Adobe) decide the colour space, as in libjpeg; the rest is skipped. */
static int parse_app(jll *j, int m)
{
    unsigned len = 0;
    int rc = in_seglen(j, 0, &len);
    if (rc != THUMB_OK)
        return rc;
    uint8_t head[12] = {0};
    unsigned k = len < sizeof head ? len : (unsigned)sizeof head;
    if ((rc = in_read(j, head, k)) != THUMB_OK)
        return rc;
    if (m == 0xE0 && len >= 14 && memcmp(head, "JFIF\0", 5) == 0) /* libjpeg wants 14 bytes too */
        j->saw_jfif = true;
    if (m == 0xEE && k >= 12 && memcmp(head, "Adobe", 5) == 0) {
        j->saw_adobe = true;
        j->adobe_transform = head[11];
    }
    return in_read(j, NULL, len - k);
}

/* The SOF3 segment, its marker already read. */
static int parse_sof(jll *j)
{
    unsigned len = 0;
    uint8_t f[6];
    int rc = in_seglen(j, 6, &len);
    if (rc != THUMB_OK || (rc = in_read(j, f, 6)) != THUMB_OK)
        return rc;
    j->prec = f[0];
    j->h = (uint32_t)f[1] << 8 | f[2];
    j->w = (uint32_t)f[3] << 8 | f[4];
    j->nf = f[5];
    if (len != 6 + 3u * (unsigned)j->nf)
        return jll_fail(j, THUMB_ECORRUPT, "SOF3 length %u for %d components", len + 2, j->nf);
    if (j->prec < 2 || j->prec > 16)
        return jll_fail(j, THUMB_ECORRUPT, "sample precision %d (2..16 allowed)", j->prec);
    if (j->w == 0 || j->h == 0)
        return jll_fail(j, THUMB_ECORRUPT, "empty image %ux%u (a height set by DNL is not supported)",
                        (unsigned)j->w, (unsigned)j->h);
    if (j->nf == 0)
        return jll_fail(j, THUMB_ECORRUPT, "no components");
    if (j->nf == 2 || j->nf > 4)
        return jll_fail(j, THUMB_EUNSUPPORTED, "%d components (1, 3 and 4 are decoded)", j->nf);
    for (int i = 0; i < j->nf; i++) {
        uint8_t c[3];
        if ((rc = in_read(j, c, 3)) != THUMB_OK)
            return rc;
        int hs = c[1] >> 4, vs = c[1] & 15;
        if (hs < 1 || hs > 4 || vs < 1 || vs > 4)
            return jll_fail(j, THUMB_ECORRUPT, "sampling factors %dx%d", hs, vs);
        if (j->nf > 1 && (hs != 1 || vs != 1))
            return jll_fail(j, THUMB_EUNSUPPORTED, "subsampled components (%dx%d) are not supported", hs, vs);
        for (int k = 0; k < i; k++)
            if (j->comp_id[k] == c[0])
                return jll_fail(j, THUMB_ECORRUPT, "component id %d appears twice", c[0]);
        j->comp_id[i] = c[0];
    }
    return THUMB_OK;
}

/* Canonical Huffman codes from the counts, checked as libjpeg's jpeg_make_d_derived_tbl does. */
static int huff_build(jll *j, jll_huff *t, const uint8_t bits[17], const uint8_t vals[256])
{
    int last = 0;
    for (int l = 1; l <= 16; l++)
        if (bits[l])
            last = l;
    if (last == 0)
        return jll_fail(j, THUMB_ECORRUPT, "empty Huffman table");
    memset(t->fast, 0, sizeof t->fast);
    memcpy(t->vals, vals, 256);
    uint32_t code = 0;
    int k = 0;
    for (int l = 1; l <= 16; l++) {
        t->valoff[l] = k - (int32_t)code;
        t->maxcode[l] = -1;
        for (int i = 0; i < bits[l]; i++, code++, k++) {
            if (l <= JLL_FAST_BITS) {
                uint32_t first = code << (JLL_FAST_BITS - l), span = 1u << (JLL_FAST_BITS - l);
                for (uint32_t c = 0; c < span && first + c < (1u << JLL_FAST_BITS); c++)
                    t->fast[first + c] = (uint16_t)(l << 8 | vals[k]);
            }
        }
        if (bits[l])
            t->maxcode[l] = (int32_t)code - 1;
        /* no code may be all ones, so the next free code must still fit in l bits */
        if (l <= last && code >= (1u << l))
            return jll_fail(j, THUMB_ECORRUPT, "bad Huffman table (over-subscribed at length %d)", l);
        code <<= 1;
    }
    return THUMB_OK;
}

static int parse_sos(jll *j)
{
    unsigned len = 0;
    int ns = 0, rc;
    if ((rc = in_seglen(j, 1, &len)) != THUMB_OK || (rc = in_byte(j, &ns)) != THUMB_OK)
        return rc;
    if (ns < 1 || ns > 4 || len != 4 + 2u * (unsigned)ns)
        return jll_fail(j, THUMB_ECORRUPT, "SOS with %d components, length %u", ns, len + 2);
    if (ns != j->nf)
        return jll_fail(j, THUMB_EUNSUPPORTED, "one component per scan (%d of %d) is not supported", ns, j->nf);
    uint8_t s[8 + 3];
    if ((rc = in_read(j, s, 2u * (unsigned)ns + 3)) != THUMB_OK)
        return rc;
    bool used[4] = {false, false, false, false};
    for (int i = 0; i < ns; i++) {
        int fc = -1;
        for (int k = 0; k < j->nf; k++)
            if (j->comp_id[k] == s[2 * i])
                fc = k;
        if (fc < 0 || used[fc])
            return jll_fail(j, THUMB_ECORRUPT, "scan component %d is unknown or repeated", s[2 * i]);
        used[fc] = true;
        j->order[i] = fc;
        int td = s[2 * i + 1] >> 4;
        if (td > 3 || !j->tdef[td])
            return jll_fail(j, THUMB_ECORRUPT, "Huffman table %d is not defined", td);
        if ((rc = huff_build(j, &j->huff[i], j->tbits[td], j->tvals[td])) != THUMB_OK)
            return rc;
    }
    int ss = s[2 * ns], ah = s[2 * ns + 2] >> 4;
    j->pt = s[2 * ns + 2] & 15;
    j->pred = ss;
    if (ss < 1 || ss > 7)
        return jll_fail(j, THUMB_ECORRUPT, "predictor %d (1..7 allowed)", ss);
    if (ah != 0 || j->pt >= j->prec)
        return jll_fail(j, THUMB_ECORRUPT, "point transform %d for precision %d", j->pt, j->prec);
    if (j->restart) {
        if (j->restart % j->w != 0)
            return jll_fail(j, THUMB_ECORRUPT, "restart interval %u is not a whole number of %u-pixel rows",
                            j->restart, (unsigned)j->w);
        j->rows_per_restart = j->restart / j->w;
    }
    return THUMB_OK;
}

/* Markers after SOF3 up to and including SOS. */
static int parse_to_scan(jll *j)
{
    for (;;) {
        int m, rc = in_marker(j, &m);
        if (rc != THUMB_OK)
            return rc;
        if (m == 0xDA)
            return parse_sos(j);
        if (m == 0xC4) rc = parse_dht(j);
        else if (m == 0xDD) rc = parse_dri(j);
        else if (m == 0xE0 || m == 0xEE) rc = parse_app(j, m);
        else if (m == 0xD9) return jll_fail(j, THUMB_ECORRUPT, "EOI before any scan");
        else if (m == 0xD8 || (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC))
            return jll_fail(j, THUMB_ECORRUPT, "unexpected marker 0x%02x in the header", m);
        else if ((m >= 0xD0 && m <= 0xD7) || m == 0x01)
            continue; /* standalone markers: nothing to read */
        else {
            unsigned len = 0;
            if ((rc = in_seglen(j, 0, &len)) == THUMB_OK)
                rc = in_read(j, NULL, len);
        }
        if (rc != THUMB_OK)
            return rc;
    }
}

/* The colour space, as libjpeg's default_decompress_parms guesses it. */
static int colour_of(const jll *j)
{
    if (j->nf == 1)
        return JLL_GREY;
    if (j->nf == 4)
        return j->saw_adobe && j->adobe_transform != 0 ? JLL_YCCK : JLL_CMYK;
    if (j->saw_jfif)
        return JLL_YCC;
    if (j->saw_adobe)
        return j->adobe_transform == 0 ? JLL_RGB : JLL_YCC;
    if (j->comp_id[0] == 'R' && j->comp_id[1] == 'G' && j->comp_id[2] == 'B')
        return JLL_RGB;
    return JLL_YCC;
}

static void jll_free(jll *j)
{
    if (!j)
        return;
    free(j->prev);
    free(j->cur);
    free(j->raw);
    free(j->lut);
    free(j->out);
    free(j->pub.hdr.icc);
    if (j->release)
        j->release(j->owner);
    free(j);
}

static int jll_begin(jll *j, tdec **out)
{
    int rc = parse_sof(j);
    if (rc != THUMB_OK)
        return rc;
    if ((uint64_t)j->w * j->h > j->pub.opt->max_input_pixels)
        return jll_fail(j, THUMB_ELIMIT_PIXELS, "%ux%u is over %llu pixels", (unsigned)j->w, (unsigned)j->h,
                        (unsigned long long)j->pub.opt->max_input_pixels);
    if ((rc = parse_to_scan(j)) != THUMB_OK)
        return rc;
    tdec_header *h = &j->pub.hdr;
    h->format = THUMB_FORMAT_JPEG;
    h->width = j->w;
    h->height = j->h;
    j->colour = colour_of(j);
    h->colour_space = j->colour;
    h->is_cmyk = j->colour == JLL_CMYK || j->colour == JLL_YCCK;
    h->channels = j->nf == 1 ? 1 : 3;
    h->has_alpha = 0;
    h->bit_depth = j->prec;
    h->progressive = 0;
    h->lossless = 1;
    *out = &j->pub;
    return THUMB_OK;
}

static jll *jll_new(thumb_ctx *ctx, const thumb_options *opt, tsrc *src)
{
    jll *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->pub.ops = &jll_ops;
    j->pub.ctx = ctx;
    j->pub.opt = opt;
    j->pub.src = src;
    return j;
}

int thumb__jll_open(tdec **out, thumb_ctx *ctx, const thumb_options *opt, tsrc *src, const tdec_header *hdr,
                    const jll_io *io, const jll_pre *pre, void (*release)(void *owner), void *owner)
{
    *out = NULL;
    jll *j = jll_new(ctx, opt, src);
    if (!j) {
        free(hdr->icc);
        if (release)
            release(owner);
        return thumb__fail(ctx, THUMB_ENOMEM, "lossless jpeg: out of memory");
    }
    j->pub.hdr = *hdr;
    j->io = *io;
    j->release = release;
    j->owner = owner;
    for (int i = 0; i < 4; i++) {
        if (pre->huff_bits[i] && pre->huff_vals[i]) {
            memcpy(j->tbits[i], pre->huff_bits[i], 17);
            memcpy(j->tvals[i], pre->huff_vals[i], 256);
            j->tdef[i] = true;
        }
    }
    j->restart = pre->restart_interval;
    j->saw_jfif = pre->saw_jfif;
    j->saw_adobe = pre->saw_adobe;
    j->adobe_transform = pre->adobe_transform;
    int rc = jll_begin(j, out);
    if (rc != THUMB_OK)
        jll_free(j);
    return rc;
}

int thumb__jll_open_mem(tdec **out, thumb_ctx *ctx, const thumb_options *opt, const uint8_t *data, size_t len)
{
    *out = NULL;
    jll *j = jll_new(ctx, opt, NULL);
    if (!j)
        return thumb__fail(ctx, THUMB_ENOMEM, "lossless jpeg: out of memory");
    j->pub.hdr.orientation = 1;
    j->mem = data;
    j->mem_len = len;
    j->io = (jll_io){mem_fill, j};
    int rc, m = 0, b0 = 0, b1 = 0;
    if ((rc = in_byte(j, &b0)) == THUMB_OK && (rc = in_byte(j, &b1)) == THUMB_OK && (b0 != 0xFF || b1 != 0xD8))
        rc = jll_fail(j, THUMB_ECORRUPT, "not a JPEG file (no SOI)");
    /* the markers before SOF3, as libjpeg would read them */
    while (rc == THUMB_OK && (rc = in_marker(j, &m)) == THUMB_OK && m != 0xC3) {
        if (m == 0xC4) rc = parse_dht(j);
        else if (m == 0xDD) rc = parse_dri(j);
        else if (m == 0xE0 || m == 0xEE) rc = parse_app(j, m);
        else if ((m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) || m == 0xDA || m == 0xD9 ||
                 m == 0xD8)
            rc = jll_fail(j, THUMB_EUNSUPPORTED, "not a lossless JPEG (marker 0x%02x before any SOF3)", m);
        else if (!((m >= 0xD0 && m <= 0xD7) || m == 0x01)) {
            unsigned n = 0;
            if ((rc = in_seglen(j, 0, &n)) == THUMB_OK)
                rc = in_read(j, NULL, n);
        }
    }
    if (rc == THUMB_OK)
        rc = jll_begin(j, out);
    if (rc != THUMB_OK)
        jll_free(j);
    return rc;
}

int thumb__jll_is(const tdec *d)
{
    return d && d->ops == &jll_ops;
}

/* ---------------------------------------------------------------- entropy-coded data */

/* The next byte of the segment into *b; where the input ends, data_end is set and *b is -1. */
static inline int next_byte(jll *j, int *b)
{
    int rc = in_more(j);
    if (rc != THUMB_OK)
        return rc;
    if (j->n == 0) {
        j->data_end = true;
        *b = -1;
        return THUMB_OK;
    }
    *b = *j->p++;
    j->n--;
    return THUMB_OK;
}

/* Top up acc to more than 56 bits. Past the end of the segment the bits are zeros, counted in
 * pad: a row that used any of them was decoded from data the file does not have. */
static int bits_fill(jll *j)
{
    while (j->nbits <= 56) {
        if (j->marker || j->data_end) {
            j->nbits += 8;
            j->pad += 8;
            continue;
        }
        int b, rc = next_byte(j, &b);
        if (rc != THUMB_OK)
            return rc;
        if (j->data_end)
            continue;
        if (b == 0xFF) {
            /* 0xFF 0x00 is a data byte 0xFF; 0xFF then more 0xFF is fill before a marker */
            int b2;
            do {
                if ((rc = next_byte(j, &b2)) != THUMB_OK)
                    return rc;
            } while (b2 == 0xFF);
            if (b2 > 0)
                j->marker = b2;
            if (j->marker || j->data_end)
                continue;
        }
        j->acc |= (uint64_t)b << (56 - j->nbits);
        j->nbits += 8;
    }
    return THUMB_OK;
}

static inline void bits_drop(jll *j, int k)
{
    j->acc <<= k;
    j->nbits -= k;
}

/* One difference category (SSSS), or -1 for a code the table does not have. */
static inline int huff_decode(jll *j, const jll_huff *t)
{
    uint16_t e = t->fast[j->acc >> (64 - JLL_FAST_BITS)];
    if (e) {
        bits_drop(j, e >> 8);
        return e & 0xFF;
    }
    int32_t code16 = (int32_t)(j->acc >> 48);
    for (int l = JLL_FAST_BITS + 1; l <= 16; l++) {
        int32_t c = code16 >> (16 - l);
        if (c <= t->maxcode[l]) {
            bits_drop(j, l);
            return t->vals[c + t->valoff[l]];
        }
    }
    return -1;
}

/* Where a segment ended early: the input (or an EOI) ends, or something else is in the way. */
static int segment_short(jll *j, const char *where)
{
    if (j->data_end || j->marker == 0xD9)
        return jll_fail(j, THUMB_ETRUNCATED, "the image data ends at row %u of %u%s", (unsigned)j->y,
                        (unsigned)j->h, where);
    return jll_fail(j, THUMB_ECORRUPT, "marker 0x%02x inside the image data at row %u", j->marker, (unsigned)j->y);
}

/* At the end of a restart interval: the RSTn marker that must follow, then a fresh start. */
static int restart(jll *j)
{
    j->acc = 0;
    j->nbits = 0;
    j->pad = 0;
    if (!j->marker && !j->data_end) {
        /* the bit reader stopped short of the marker: skip what is left of the segment */
        int b = 0;
        for (;;) {
            int prev = b;
            int rc = next_byte(j, &b);
            if (rc != THUMB_OK)
                return rc;
            if (j->data_end)
                break;
            if (prev == 0xFF && b != 0 && b != 0xFF) {
                j->marker = b;
                break;
            }
        }
    }
    int want = 0xD0 + (int)(j->next_rst & 7);
    if (j->marker != want) {
        if (j->data_end || j->marker == 0xD9)
            return segment_short(j, " (before a restart marker)");
        return jll_fail(j, THUMB_ECORRUPT, "expected RST%d at row %u, found marker 0x%02x", want - 0xD0,
                        (unsigned)j->y, j->marker);
    }
    j->marker = 0;
    j->next_rst++;
    j->rows_since = 0;
    return THUMB_OK;
}

static int decode_row(jll *j)
{
    int rc;
    if (j->rows_per_restart && j->y > 0 && j->rows_since == j->rows_per_restart && (rc = restart(j)) != THUMB_OK)
        return rc;
    uint16_t *t = j->prev;
    j->prev = j->cur;
    j->cur = t;
    uint16_t *cur = j->cur;
    const uint16_t *prev = j->prev;
    const int nf = j->nf, pred = j->pred;
    const bool first = j->y == 0 || j->rows_since == 0;
    const int initial = 1 << (j->prec - j->pt - 1);
    for (uint32_t x = 0; x < j->w; x++) {
        for (int c = 0; c < nf; c++) {
            if (j->nbits < 32 && (rc = bits_fill(j)) != THUMB_OK)
                return rc;
            int s = huff_decode(j, &j->huff[c]);
            if (s < 0 || s > 16)
                return jll_fail(j, THUMB_ECORRUPT, "bad Huffman code at row %u", (unsigned)j->y);
            int32_t diff;
            if (s == 0) {
                diff = 0;
            } else if (s == 16) {
                diff = 32768; /* no extra bits follow */
            } else {
                int32_t v = (int32_t)(j->acc >> (64 - s));
                bits_drop(j, s);
                diff = v < (1 << (s - 1)) ? v - (1 << s) + 1 : v;
            }
            size_t i = (size_t)x * (size_t)nf + (size_t)j->order[c];
            int32_t p;
            if (x == 0) {
                p = first ? initial : prev[i];
            } else if (first) {
                p = cur[i - (size_t)nf];
            } else {
                int32_t ra = cur[i - (size_t)nf], rb = prev[i], rc_ = prev[i - (size_t)nf];
                switch (pred) {
                case 1: p = ra; break;
                case 2: p = rb; break;
                case 3: p = rc_; break;
                case 4: p = ra + rb - rc_; break;
                case 5: p = ra + ((rb - rc_) >> 1); break;
                case 6: p = rb + ((ra - rc_) >> 1); break;
                default: p = (ra + rb) >> 1; break;
                }
            }
            cur[i] = (uint16_t)((uint32_t)(p + diff) & 0xFFFFu); /* modulo 2^16 (H.1.2.1) */
        }
    }
    if (j->nbits < j->pad)
        return segment_short(j, "");
    j->y++;
    j->rows_since++;
    return THUMB_OK;
}

/* ---------------------------------------------------------------- rows */

static int jll_start(tdec *t, const tdec_request *req)
{
    jll *j = (jll *)t;
    if (j->failed)
        return j->code;
    if (j->started)
        return thumb__fail(t->ctx, THUMB_EINVAL, "lossless jpeg: start called twice");
    j->started = true;
    if (!req || req->scale_num != 8)
        return jll_fail(j, THUMB_EINVAL, "decodes at scale 8/8 only, not %d/8", req ? req->scale_num : 0);
    if (req->x0 >= req->x1 || req->x1 > j->w || req->y0 >= req->y1 || req->y1 > j->h)
        return jll_fail(j, THUMB_EINVAL, "window [%u,%u)x[%u,%u) outside %ux%u", (unsigned)req->x0,
                        (unsigned)req->x1, (unsigned)req->y0, (unsigned)req->y1, (unsigned)j->w, (unsigned)j->h);
    t->scale_num = 8;
    t->dec_w = j->w;
    t->dec_h = j->h;
    t->x0 = req->x0;
    t->y0 = req->y0;
    t->w = req->x1 - req->x0;
    t->h = req->y1 - req->y0;
    t->ycc = j->colour == JLL_YCC && req->ycc;
    t->planar = 0;
    j->cmyk_raw = t->hdr.is_cmyk && req->raw_cmyk;
    j->cmyk_inverted = j->saw_adobe;
    t->channels = j->nf == 1 ? 1 : j->cmyk_raw ? 4 : 3;

    uint32_t maxv = (1u << j->prec) - 1;
    j->lut_max = maxv >> j->pt;
    size_t row = (size_t)j->w * (size_t)j->nf;
    if (!(j->prev = calloc(row, sizeof *j->prev)) || !(j->cur = calloc(row, sizeof *j->cur)) ||
        !(j->raw = calloc(row, sizeof *j->raw)) || !(j->lut = malloc((size_t)j->lut_max + 1)) ||
        !(j->out = malloc((size_t)t->w * 4)))
        return jll_fail(j, THUMB_ENOMEM, "out of memory for rows of %u pixels", (unsigned)j->w);
    /* round to nearest: v * 255 / maxv, as png.c reduces 16 bits */
    for (uint32_t v = 0; v <= j->lut_max; v++)
        j->lut[v] = (uint8_t)(((uint64_t)(v << j->pt) * 255u + maxv / 2) / maxv);
    return THUMB_OK;
}

static inline uint8_t clamp255(int32_t v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* libjpeg's YCbCr -> RGB (jdcolor.c: 16-bit fixed point, rounded) */
#define JLL_FIX(x) ((int32_t)((x) * 65536.0 + 0.5))
static inline void ycc_rgb(int y, int cb, int cr, uint8_t *o)
{
    cb -= 128;
    cr -= 128;
    o[0] = clamp255(y + ((JLL_FIX(1.40200) * cr + 32768) >> 16));
    o[1] = clamp255(y + ((-JLL_FIX(0.34414) * cb - JLL_FIX(0.71414) * cr + 32768) >> 16));
    o[2] = clamp255(y + ((JLL_FIX(1.77200) * cb + 32768) >> 16));
}

static inline uint8_t mul255(unsigned a, unsigned b)
{
    unsigned v = a * b + 128;
    return (uint8_t)((v + (v >> 8)) >> 8);
}

/* The window's part of the current row, in the output layout. */
static void emit(jll *j)
{
    tdec *t = &j->pub;
    const int nf = j->nf;
    const uint16_t *s = j->cur + (size_t)t->x0 * (size_t)nf;
    const uint8_t *lut = j->lut;
    const uint32_t lm = j->lut_max;
    uint8_t *o = j->out;
#define L(v) lut[(v) > lm ? lm : (v)]
    if (nf == 1) {
        for (uint32_t x = 0; x < t->w; x++)
            o[x] = L(s[x]);
        return;
    }
    if (nf == 3) {
        bool rgb = j->colour == JLL_RGB || t->ycc;
        for (uint32_t x = 0; x < t->w; x++, s += 3, o += 3) {
            if (rgb) {
                o[0] = L(s[0]);
                o[1] = L(s[1]);
                o[2] = L(s[2]);
            } else {
                ycc_rgb(L(s[0]), L(s[1]), L(s[2]), o);
            }
        }
        return;
    }
    for (uint32_t x = 0; x < t->w; x++, s += 4) {
        uint8_t k[4] = {L(s[0]), L(s[1]), L(s[2]), L(s[3])};
        if (j->colour == JLL_YCCK) {
            /* libjpeg's YCCK -> CMYK: the YCC part through YCbCr -> RGB, inverted */
            uint8_t rgb[3];
            ycc_rgb(k[0], k[1], k[2], rgb);
            k[0] = (uint8_t)(255 - rgb[0]);
            k[1] = (uint8_t)(255 - rgb[1]);
            k[2] = (uint8_t)(255 - rgb[2]);
        }
        /* as jpeg.c: raw CMYK with 0 = no ink; Adobe files store 0 = full ink */
        if (j->cmyk_raw) {
            for (int c = 0; c < 4; c++)
                o[c] = j->cmyk_inverted ? (uint8_t)(255 - k[c]) : k[c];
            o += 4;
        } else {
            unsigned C = k[0], M = k[1], Y = k[2], K = k[3];
            if (!j->cmyk_inverted) {
                C = 255 - C; M = 255 - M; Y = 255 - Y; K = 255 - K;
            }
            o[0] = mul255(C, K);
            o[1] = mul255(M, K);
            o[2] = mul255(Y, K);
            o += 3;
        }
    }
#undef L
}

static int jll_next_row(tdec *t, const uint8_t **row)
{
    jll *j = (jll *)t;
    *row = NULL;
    if (j->failed)
        return j->code;
    if (!j->started || j->delivered >= t->h)
        return thumb__fail(t->ctx, THUMB_EINVAL, "lossless jpeg: no more rows");
    /* rows above the window are decoded too: each row is predicted from the one above */
    while (j->y <= t->y0 + j->delivered) {
        int rc = decode_row(j);
        if (rc != THUMB_OK)
            return rc;
    }
    emit(j);
    j->delivered++;
    *row = j->out;
    return THUMB_OK;
}

int thumb__jll_next_raw(tdec *t, const uint16_t **row, int *components)
{
    jll *j = (jll *)t;
    *row = NULL;
    if (!thumb__jll_is(t))
        return thumb__fail(t->ctx, THUMB_EINVAL, "not a lossless JPEG decoder");
    if (j->failed)
        return j->code;
    if (!j->started || j->y >= j->h)
        return thumb__fail(t->ctx, THUMB_EINVAL, "lossless jpeg: no more rows");
    int rc = decode_row(j);
    if (rc != THUMB_OK)
        return rc;
    size_t n = (size_t)j->w * (size_t)j->nf;
    for (size_t i = 0; i < n; i++)
        j->raw[i] = (uint16_t)((uint32_t)j->cur[i] << j->pt);
    *row = j->raw;
    *components = j->nf;
    return THUMB_OK;
}

static int jll_next_planes(tdec *t, tplanes *p)
{
    p->ny = p->nc = 0;
    return thumb__fail(t->ctx, THUMB_EINVAL, "lossless jpeg: no planes here");
}

static void jll_destroy(tdec *t)
{
    jll_free((jll *)t);
}

static const tdec_ops jll_ops = {
    .start = jll_start,
    .next_row = jll_next_row,
    .destroy = jll_destroy,
    .next_planes = jll_next_planes,
};
