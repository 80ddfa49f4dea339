/* jdfast: baseline Huffman decode, IDCT and colour output for the common JPEG layouts.
 * See jdfast.h for what it takes and how it treats corrupt data. */
#include "jdfast_int.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define zz_nat thumb__jd_zz_nat

const uint8_t thumb__jd_zz_nat[144] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13,
    6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31,
    39, 46, 53, 60, 61, 54, 47, 55, 62, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64};

static int fail(jdfast *f, int code, const char *fmt, const char *arg)
{
    f->code = thumb__fail(f->ctx, code, fmt, arg);
    return f->code;
}

static int warn(jdfast *f, const char *what)
{
    if (f->warn && f->warn(f->user, what))
        return fail(f, THUMB_ECORRUPT, "jpeg: %s (over the warning limit)", what);
    return THUMB_OK;
}


/* ---------------------------------------------------------------- tables */

/* jpeg_make_d_derived_tbl's checks and canonical codes, plus the one-step lookup. */
static int huff_build(jdfast *f, jd_huff *t, const JHUFF_TBL *src, bool dc)
{
    int count = 0;
    for (int l = 1; l <= 16; l++)
        count += src->bits[l];
    if (count > 256)
        return fail(f, THUMB_ECORRUPT, "jpeg: %s", "bad Huffman table");
    uint16_t code_of[256];
    uint8_t len_of[256];
    uint32_t code = 0;
    int k = 0;
    for (int l = 1; l <= 16; l++) {
        t->valoff[l] = k - (int32_t)code;
        for (int i = 0; i < src->bits[l]; i++) {
            code_of[k] = (uint16_t)code;
            len_of[k] = (uint8_t)l;
            k++;
            code++;
        }
        t->maxcode[l] = src->bits[l] ? (int32_t)code - 1 : -1;
        if (code >= (1u << l)) /* no code may be all ones */
            return fail(f, THUMB_ECORRUPT, "jpeg: %s", "bad Huffman table");
        code <<= 1;
    }
    t->maxcode[17] = 0x7FFFFFFF;
    memcpy(t->val, src->huffval, sizeof t->val);
    if (dc)
        for (int i = 0; i < count; i++)
            if (src->huffval[i] > 15)
                return fail(f, THUMB_ECORRUPT, "jpeg: %s", "bad Huffman table");

    for (size_t i = 0; i < sizeof t->fast / sizeof t->fast[0]; i++)
        t->fast[i] = JD_SLOW;
    for (int i = 0; i < count; i++) {
        int l = len_of[i];
        if (l > JD_FB)
            break; /* sorted by length */
        int sym = src->huffval[i];
        int run = dc ? 0 : sym >> 4, size = sym & 15;
        uint32_t lo = (uint32_t)code_of[i] << (JD_FB - l), span = 1u << (JD_FB - l);
        for (uint32_t j = 0; j < span; j++) {
            uint32_t e;
            if (!dc && size == 0 && run != 15) {
                e = (uint32_t)l | ((uint32_t)JD_EOB_RUN << 8);
            } else if (size == 0) {
                /* DC size 0 (difference 0) or ZRL (16 zeros): a value of 0 */
                e = (uint32_t)l | ((uint32_t)run << 8);
            } else if (l + size <= JD_FB) {
                uint32_t bits = (j >> (JD_FB - l - size)) & ((1u << size) - 1);
                int v = extend(bits, size);
                e = (uint32_t)(l + size) | ((uint32_t)run << 8) | ((uint32_t)(uint16_t)v << 16);
            } else {
                e = JD_SLOW | ((uint32_t)sym << 8) | ((uint32_t)l << 16);
            }
            t->fast[lo + j] = e;
        }
    }
    return THUMB_OK;
}

/* ---------------------------------------------------------------- entropy data */

/* One byte of the input; false at its end. */
static bool in_byte(jdfast *f, uint8_t *b)
{
    struct jpeg_source_mgr *m = f->c->src;
    if (m->bytes_in_buffer == 0 && !(*m->fill_input_buffer)(f->c))
        return false;
    if (m->bytes_in_buffer == 0)
        return false;
    *b = *m->next_input_byte++;
    m->bytes_in_buffer--;
    return true;
}

/* Copy src[0..n) to dst up to its first 0xFF byte; returns the bytes copied. Writes up to 15
 * bytes past them (dst has room: q holds JD_PAD more than JD_CHUNK), reads none past src + n.
 * Entropy data has a 0xFF about every 256 bytes: one pass, 16 bytes a step, instead of a memchr
 * and a memcpy call per run. */
static size_t copy_plain(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i ff = _mm_set1_epi8((char)0xFF);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        _mm_storeu_si128((__m128i *)(void *)(dst + i), v);
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, ff));
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#else
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        memcpy(dst + i, &v, 8);
        uint64_t x = ~v; /* a 0xFF byte of v is a zero byte of x */
        if ((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull)
            break;
    }
#endif
    for (; i < n && src[i] != 0xFF; i++)
        dst[i] = src[i];
    return i;
}

/* Keep the unread bytes from f->p on, move them to the front and destuff more input after them
 * (0xFF 0x00 -> 0xFF, fill bytes 0xFF dropped) until JD_CHUNK bytes, a marker or the end. */
static void refill(jdfast *f)
{
    size_t keep = (size_t)(f->q + f->qlen - f->p);
    if (f->p > f->q + f->qlen)
        keep = 0;
    memmove(f->q, f->p, keep);
    f->p = f->q;
    f->qlen = keep;
    struct jpeg_source_mgr *m = f->c->src;
    while (f->qlen < JD_CHUNK && !f->marker && !f->eof) {
        if (m->bytes_in_buffer == 0) {
            if (!(*m->fill_input_buffer)(f->c) || m->bytes_in_buffer == 0) {
                f->eof = true;
                break;
            }
        }
        size_t n = m->bytes_in_buffer, room = JD_CHUNK - f->qlen;
        if (n > room)
            n = room;
        size_t plain = copy_plain(f->q + f->qlen, m->next_input_byte, n);
        f->qlen += plain;
        m->next_input_byte += plain;
        m->bytes_in_buffer -= plain;
        if (plain == n)
            continue;
        /* 0xFF: fill bytes, then 0x00 (a data byte 0xFF) or a marker */
        m->next_input_byte++;
        m->bytes_in_buffer--;
        uint8_t b;
        do {
            if (!in_byte(f, &b)) {
                f->eof = true;
                break;
            }
        } while (b == 0xFF);
        if (f->eof)
            break;
        if (b == 0)
            f->q[f->qlen++] = 0xFF;
        else
            f->marker = b;
    }
    memset(f->q + f->qlen, 0, JD_PAD);
}


/* One block into blk (zeros on entry). Returns whether anything past the DC was stored. */
static inline __attribute__((always_inline)) bool decode_block(int16_t *blk, const jd_huff *dct, const jd_huff *act,
                                                              int *pred, const uint8_t **pp, uint64_t *bitsp,
                                                              unsigned *nbitsp, bool *bad)
{
    const uint8_t *p = *pp;
    uint64_t bits = *bitsp;
    unsigned nbits = *nbitsp;

    /* The lookup reads the bits before the fill (the caller leaves at least JD_FB there: the
     * MCU loop fills, and a block's last step leaves 23 or more), so after a mispredicted end of
     * the previous block it waits on neither the fill's load nor the shift after it. */
    const jd_huff *t = dct;
    uint32_t e = t->fast[bits >> (64 - JD_FB)];
    FILL();
    int diff;
    if (!(e & JD_SLOW)) {
        diff = (int16_t)(e >> 16);
        DROP(e & 63);
    } else {
        int s, len;
        if (e >> 16) {
            s = (int)(e >> 8 & 0xFF);
            len = (int)(e >> 16);
        } else {
            s = slow_symbol(t, bits, &len, bad);
        }
        DROP(len);
        diff = 0;
        if (s) {
            uint32_t v = (uint32_t)(bits >> (64 - s));
            DROP(s);
            diff = extend(v, s);
        }
    }
    *pred = (int)((unsigned)*pred + (unsigned)diff);
    blk[0] = (int16_t)*pred;

    t = act;
    int k = 1;
    for (;;) {
        /* The lookup reads the bits before the fill: each step takes at most JD_FB + 31 bits of
         * the 64 a fill leaves, so the top JD_FB are always there, and the fill's load runs
         * beside the lookup instead of before it. One fill serves a one-step symbol (at most
         * JD_FB bits) and any symbol after it (at most 31). */
        e = t->fast[bits >> (64 - JD_FB)];
        FILL();
        if (!(e & JD_SLOW)) {
            k += (int)(e >> 8 & 0xFF);
            blk[zz_nat[k]] = (int16_t)(e >> 16);
            k++;
            DROP(e & 63);
            if (k >= 64)
                break;
            e = t->fast[bits >> (64 - JD_FB)];
            if (!(e & JD_SLOW)) {
                k += (int)(e >> 8 & 0xFF);
                blk[zz_nat[k]] = (int16_t)(e >> 16);
                k++;
                DROP(e & 63);
                if (k >= 64)
                    break;
                continue;
            }
        }
        int rs, len;
        if (e >> 16) {
            rs = (int)(e >> 8 & 0xFF);
            len = (int)(e >> 16);
        } else {
            rs = slow_symbol(t, bits, &len, bad);
        }
        DROP(len);
        int r = rs >> 4, s = rs & 15;
        if (s) {
            k += r;
            uint32_t v = (uint32_t)(bits >> (64 - s));
            DROP(s);
            blk[zz_nat[k]] = (int16_t)extend(v, s);
            k++;
        } else {
            k += r == 15 ? 16 : JD_EOB_RUN + 1;
        }
        if (k >= 64)
            break;
    }
    /* an end of block as the first symbol ends at k = 1 + JD_EOB_RUN + 1; every other block
     * ends below 64 + 16 or above that */
    bool ac = k != JD_EOB_RUN + 2;
    *pp = p;
    *bitsp = bits;
    *nbitsp = nbits;
    return ac;
}

/* ---------------------------------------------------------------- IDCT (libjpeg's arithmetic) */

#define CB 13 /* CONST_BITS */
#define P1 2  /* PASS1_BITS */
#define DESCALE(x, n) (((x) + ((int64_t)1 << ((n)-1))) >> (n))

/* jpeg_idct_1x1 */
static void idct1(const int16_t *blk, const int16_t *q, uint8_t *out, size_t stride)
{
    (void)stride;
    out[0] = jd_dc_only(blk, q, 1);
}

/* jpeg_idct_2x2 (jidctred.c): columns 0, 1, 3, 5, 7 and rows likewise. libjpeg's shortcut for
 * all-zero AC terms gives the same values as the full sums, so there is none here. */
static void idct2(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)
{
    static const int cols[5] = {0, 1, 3, 5, 7};
    int64_t ws[2][8];
    for (int i = 0; i < 5; i++) {
        int col = cols[i];
        const int16_t *c = in + col;
        const int16_t *qq = q + col;
        int64_t t10 = (int64_t)(c[0] * qq[0]) * (1 << (CB + 2));
        int64_t t0 = (int64_t)(c[56] * qq[56]) * -5906 + (int64_t)(c[40] * qq[40]) * 6967 +
                     (int64_t)(c[24] * qq[24]) * -10426 + (int64_t)(c[8] * qq[8]) * 29692;
        ws[0][col] = (int)DESCALE(t10 + t0, CB - P1 + 2);
        ws[1][col] = (int)DESCALE(t10 - t0, CB - P1 + 2);
    }
    for (int r = 0; r < 2; r++) {
        const int64_t *w = ws[r];
        uint8_t *o = out + (size_t)r * stride;
        int64_t t10 = w[0] * (1 << (CB + 2));
        int64_t t0 = w[7] * -5906 + w[5] * 6967 + w[3] * -10426 + w[1] * 29692;
        o[0] = jd_rl(DESCALE(t10 + t0, CB + P1 + 3 + 2));
        o[1] = jd_rl(DESCALE(t10 - t0, CB + P1 + 3 + 2));
    }
}

/* jpeg_idct_4x4 (jidctred.c): every column but 4; no zero shortcuts, as in idct2 */
static void idct4(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)
{
    int ws[32];
    for (int col = 0; col < 8; col++) {
        if (col == 4)
            continue;
        const int16_t *c = in + col;
        const int16_t *qq = q + col;
        int64_t t0 = (int64_t)(c[0] * qq[0]) * (1 << (CB + 1));
        int64_t z2 = c[16] * qq[16], z3 = c[48] * qq[48];
        int64_t t2 = z2 * 15137 + z3 * -6270;
        int64_t t10 = t0 + t2, t12 = t0 - t2;
        int64_t z1 = c[56] * qq[56], y2 = c[40] * qq[40], y3 = c[24] * qq[24], z4 = c[8] * qq[8];
        t0 = z1 * -1730 + y2 * 11893 + y3 * -17799 + z4 * 8697;
        t2 = z1 * -4176 + y2 * -4926 + y3 * 7373 + z4 * 20995;
        ws[col] = (int)DESCALE(t10 + t2, CB - P1 + 1);
        ws[24 + col] = (int)DESCALE(t10 - t2, CB - P1 + 1);
        ws[8 + col] = (int)DESCALE(t12 + t0, CB - P1 + 1);
        ws[16 + col] = (int)DESCALE(t12 - t0, CB - P1 + 1);
    }
    for (int r = 0; r < 4; r++) {
        const int *w = ws + 8 * r;
        uint8_t *o = out + (size_t)r * stride;
        int64_t t0 = (int64_t)w[0] * (1 << (CB + 1));
        int64_t t2 = (int64_t)w[2] * 15137 + (int64_t)w[6] * -6270;
        int64_t t10 = t0 + t2, t12 = t0 - t2;
        int64_t z1 = w[7], z2 = w[5], z3 = w[3], z4 = w[1];
        t0 = z1 * -1730 + z2 * 11893 + z3 * -17799 + z4 * 8697;
        t2 = z1 * -4176 + z2 * -4926 + z3 * 7373 + z4 * 20995;
        o[0] = jd_rl(DESCALE(t10 + t2, CB + P1 + 3 + 1));
        o[3] = jd_rl(DESCALE(t10 - t2, CB + P1 + 3 + 1));
        o[1] = jd_rl(DESCALE(t12 + t0, CB + P1 + 3 + 1));
        o[2] = jd_rl(DESCALE(t12 - t0, CB + P1 + 3 + 1));
    }
}

/* One 8-point pass of jpeg_idct_islow on x[0..7] (already dequantised / from pass 1); the
 * outputs before their final descale. */
static inline void islow_1d(const int64_t x[8], int64_t o[8])
{
    int64_t z2 = x[2], z3 = x[6];
    int64_t z1 = (z2 + z3) * 4433;
    int64_t t2 = z1 + z3 * -15137, t3 = z1 + z2 * 6270;
    int64_t t0 = (x[0] + x[4]) * (1 << CB), t1 = (x[0] - x[4]) * (1 << CB);
    int64_t t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
    t0 = x[7];
    t1 = x[5];
    t2 = x[3];
    t3 = x[1];
    z1 = t0 + t3;
    z2 = t1 + t2;
    z3 = t0 + t2;
    int64_t z4 = t1 + t3;
    int64_t z5 = (z3 + z4) * 9633;
    t0 *= 2446;
    t1 *= 16819;
    t2 *= 25172;
    t3 *= 12299;
    z1 *= -7373;
    z2 *= -20995;
    z3 *= -16069;
    z4 *= -3196;
    z3 += z5;
    z4 += z5;
    t0 += z1 + z3;
    t1 += z2 + z4;
    t2 += z2 + z3;
    t3 += z1 + z4;
    o[0] = t10 + t3;
    o[7] = t10 - t3;
    o[1] = t11 + t2;
    o[6] = t11 - t2;
    o[2] = t12 + t1;
    o[5] = t12 - t1;
    o[3] = t13 + t0;
    o[4] = t13 - t0;
}

/* jpeg_idct_islow (jidctint.c); no zero shortcuts, as in idct2 */
static void idct8(const int16_t *in, const int16_t *q, uint8_t *out, size_t stride)
{
    int ws[64];
    for (int col = 0; col < 8; col++) {
        const int16_t *c = in + col;
        const int16_t *qq = q + col;
        int64_t x[8], o[8];
        for (int r = 0; r < 8; r++)
            x[r] = c[8 * r] * qq[8 * r];
        islow_1d(x, o);
        for (int r = 0; r < 8; r++)
            ws[8 * r + col] = (int)DESCALE(o[r], CB - P1);
    }
    for (int r = 0; r < 8; r++) {
        const int *w = ws + 8 * r;
        uint8_t *ot = out + (size_t)r * stride;
        int64_t x[8], o[8];
        for (int i = 0; i < 8; i++)
            x[i] = w[i];
        islow_1d(x, o);
        for (int i = 0; i < 8; i++)
            ot[i] = jd_rl(DESCALE(o[i], CB + P1 + 3));
    }
}

static inline void zero_block(int16_t *blk)
{
    /* 64 of the 80 entries: runs past the end land in 63, and the entries after it only ever
     * get the zeros of end-of-block symbols */
    uint64_t z[2] = {0, 0};
    for (int i = 0; i < 64; i += 8)
        memcpy(blk + i, z, 16);
}

JD_IDCT_RUN(, run1, 1, (void)0, idct1(blk, q, out, stride), zero_block(blk))
JD_IDCT_RUN(, run2, 2, (void)0, idct2(blk, q, out, stride), zero_block(blk))
JD_IDCT_RUN(, run4, 4, (void)0, idct4(blk, q, out, stride), zero_block(blk))
JD_IDCT_RUN(, run8, 8, (void)0, idct8(blk, q, out, stride), zero_block(blk))

const jd_idct thumb__jd_idct_scalar = {idct2, idct4, idct8, {run1, run2, run4, run8}};

/* ---------------------------------------------------------------- restarts */

/* Drop the data up to the next marker (or the end of the input) and leave the reader empty. */
static void skip_to_marker(jdfast *f)
{
    while (!f->marker && !f->eof) {
        f->p = f->q + f->qlen;
        refill(f);
    }
    f->bits = 0;
    f->nbits = 0;
    f->p = f->q;
    f->qlen = 0;
    memset(f->q, 0, JD_PAD);
}

/* At a restart boundary: the marker that ends this segment, as libjpeg's read_restart_marker
 * and jpeg_resync_to_restart decide. Returns THUMB_OK with the reader on the next segment
 * (or on an empty one, f->insufficient set, when the marker is left for later). */
static int restart(jdfast *f)
{
    /* whole bytes left before the marker are extraneous data */
    int64_t pos = bit_pos(f, f->p, f->nbits);
    int64_t used = pos > 0 ? (pos + 7) / 8 : 0;
    bool extra = !f->marker || used < (int64_t)f->qlen;
    skip_to_marker(f);
    int rc;
    if (f->eof)
        return fail(f, THUMB_ETRUNCATED, "jpeg: %s", "the input ends inside the image data");
    if (extra && f->marker && (rc = warn(f, "extraneous bytes before a marker")) != THUMB_OK)
        return rc;
    int want = f->next_restart;
    f->next_restart = (f->next_restart + 1) & 7;
    for (int m = f->marker;; m = f->marker) {
        if (m == 0xD0 + want) {
            f->marker = 0;
            break;
        }
        if ((rc = warn(f, "restart marker out of order")) != THUMB_OK)
            return rc;
        int action; /* 1 take it, 2 skip to the next marker, 3 leave it: empty segment */
        if (m < 0xC0)
            action = 2;
        else if (m < 0xD0 || m > 0xD7)
            action = 3;
        else if (m == 0xD0 + ((want + 1) & 7) || m == 0xD0 + ((want + 2) & 7))
            action = 3;
        else if (m == 0xD0 + ((want - 1) & 7) || m == 0xD0 + ((want - 2) & 7))
            action = 2;
        else
            action = 1;
        if (action == 1) {
            f->marker = 0;
            break;
        }
        if (action == 3) {
            if (m == 0xD9) /* EOI where more image data should follow */
                return fail(f, THUMB_ETRUNCATED, "jpeg: %s", "image data cut short by EOI");
            break;
        }
        f->marker = 0;
        skip_to_marker(f);
        if (f->eof)
            return fail(f, THUMB_ETRUNCATED, "jpeg: %s", "the input ends inside the image data");
    }
    for (int i = 0; i < f->ncomp; i++)
        f->comp[i].dc_pred = 0;
    f->restarts_to_go = f->restart_interval;
    f->insufficient = f->marker != 0; /* a marker left for later: an empty segment (zeros padded) */
    if (!f->insufficient)
        refill(f);
    return THUMB_OK;
}

/* The reader went past the data the segment has (zeros were decoded): libjpeg's "premature end
 * of data segment". Cut by EOI or the end of the input is truncation; by any other marker a
 * warning, and zero blocks to the next restart. */
static int ran_out(jdfast *f)
{
    if (f->eof || f->marker == 0xD9)
        return fail(f, THUMB_ETRUNCATED, "jpeg: %s", "image data cut short");
    f->insufficient = true;
    return warn(f, "image data cut short by a marker");
}

/* ---------------------------------------------------------------- MCU rows */

/* IDCTs (or DC fills) of n decoded MCUs starting at MCU column mx0, then zero their blocks: per
 * block of the MCU, one run over the MCUs whose block lies in the window, zeroing only for the
 * others. */
static void output_mcus(jdfast *f, uint32_t mx0, uint32_t n, bool out)
{
    const size_t bstep = JD_MAX_BLOCKS * (64 + 16);
    for (int b = 0; b < f->blocks; b++) {
        jd_comp *cp = &f->comp[f->blk_comp[b]];
        int16_t *blk0 = f->blk[b];
        const bool *ac0 = f->ac + b;
        uint32_t h = (uint32_t)cp->h, bx0 = mx0 * h + (uint32_t)f->blk_x[b]; /* MCU m: bx0 + m * h */
        if (f->coef_hook)
            for (uint32_t m = 0; m < n; m++)
                f->coef_hook(f->coef_user, cp->index, bx0 + m * h, f->mcu_row * (uint32_t)cp->v + (uint32_t)f->blk_y[b],
                             blk0 + m * bstep);
        uint32_t ma = 0, mb = 0; /* MCUs [ma, mb) have this block in the window */
        if (out && bx0 <= cp->bx_hi) {
            ma = bx0 >= cp->bx_lo ? 0 : (cp->bx_lo - bx0 + h - 1) / h;
            mb = (cp->bx_hi - bx0) / h + 1;
            if (mb > n)
                mb = n;
            if (ma > mb)
                ma = mb;
        }
        for (uint32_t m = 0; m < n; m++) {
            if (m == ma && mb > ma) {
                uint8_t *dst = f->planes +
                               ((size_t)cp->index * f->imcu_rows + (size_t)(f->blk_y[b] * cp->s)) * f->plane_w +
                               (size_t)(bx0 + ma * h) * (size_t)cp->s;
                cp->run(blk0 + ma * bstep, bstep, ac0 + ma * JD_MAX_BLOCKS, JD_MAX_BLOCKS, mb - ma, cp->q, dst,
                        h * (size_t)cp->s, f->plane_w);
                m = mb - 1;
                continue;
            }
            int16_t *blk = blk0 + m * bstep;
            if (ac0[m * JD_MAX_BLOCKS])
                zero_block(blk);
            else
                blk[0] = 0;
        }
    }
}

/* Decode MCU row f->mcu_row into the planes (IDCT only for blocks of the window when out). The
 * MCUs are entropy-decoded JD_BATCH at a time and then transformed together: the IDCTs of a
 * batch are independent of each other and of the decoder's serial bit chain. */
#define DECODE_BLOCKS(nb_)                                                                                     \
    do {                                                                                                       \
        _Pragma("GCC unroll 6") for (int b = 0; b < (nb_); b++) ac[b] =                                        \
            decode_block(blk[b], dct[b], act[b], pred[b], &p, &bits, &nbits, &bad);                            \
    } while (0)

static inline __attribute__((always_inline)) int decode_mcu_row_body(jdfast *f, bool out)
{
    const uint8_t *p = f->p;
    uint64_t bits = f->bits;
    unsigned nbits = f->nbits;
    bool bad = false;
    int rc = THUMB_OK;
    /* each block's tables and predictor, looked up once here rather than after every block's
     * last symbol (where a mispredicted loop exit leaves them on the critical path) */
    const int nb = f->blocks;
    const jd_huff *dct[JD_MAX_BLOCKS], *act[JD_MAX_BLOCKS];
    int *pred[JD_MAX_BLOCKS];
    for (int b = 0; b < nb; b++) {
        jd_comp *cp = &f->comp[f->blk_comp[b]];
        dct[b] = cp->dc;
        act[b] = cp->ac;
        pred[b] = &cp->dc_pred;
    }

    for (uint32_t mx0 = 0; mx0 < f->mcux && rc == THUMB_OK; mx0 += JD_BATCH) {
        uint32_t n = f->mcux - mx0 < JD_BATCH ? f->mcux - mx0 : JD_BATCH, m;
        for (m = 0; m < n; m++) {
            if (f->restart_interval) {
                if (f->restarts_to_go == 0) {
                    f->p = p;
                    f->bits = bits;
                    f->nbits = nbits;
                    if ((rc = restart(f)) != THUMB_OK)
                        break;
                    p = f->p;
                    bits = f->bits;
                    nbits = f->nbits;
                }
                f->restarts_to_go--;
            }
            if (!f->marker && !f->eof && (size_t)(f->q + f->qlen - p) < JD_MCU_BYTES) {
                f->p = p;
                refill(f);
                p = f->p;
            }
            bool *ac = f->ac + m * JD_MAX_BLOCKS;
            if (!f->insufficient) {
                int16_t(*blk)[64 + 16] = f->blk + m * JD_MAX_BLOCKS;
                FILL(); /* JD_FB bits or more for decode_block's first lookup */
                /* unrolled per layout: each block's tables are then fixed stack slots */
                if (nb == 6)
                    DECODE_BLOCKS(6);
                else if (nb == 3)
                    DECODE_BLOCKS(3);
                else if (nb == 1)
                    DECODE_BLOCKS(1);
                else
                    for (int b = 0; b < nb; b++)
                        ac[b] = decode_block(blk[b], dct[b], act[b], pred[b], &p, &bits, &nbits, &bad);
            } else {
                for (int b = 0; b < nb; b++)
                    ac[b] = false;
            }
            if ((f->marker || f->eof) && !f->insufficient && bit_pos(f, p, nbits) > (int64_t)f->qlen * 8) {
                f->p = p;
                f->bits = bits;
                f->nbits = nbits;
                if ((rc = ran_out(f)) != THUMB_OK) {
                    m++;
                    break;
                }
            }
            if (bad) {
                rc = warn(f, "bad Huffman code");
                bad = false;
                if (rc != THUMB_OK) {
                    m++;
                    break;
                }
            }
        }
        output_mcus(f, mx0, m, out && rc == THUMB_OK); /* zeroes the blocks in any case */
    }
    if (rc != THUMB_OK)
        return rc;
    f->p = p;
    f->bits = bits;
    f->nbits = nbits;
    f->mcu_row++;
    return THUMB_OK;
}

static int decode_mcu_row(jdfast *f, bool out)
{
    return decode_mcu_row_body(f, out);
}

#if defined(__x86_64__) || defined(__i386__)
/* The same, compiled with BMI2: three-operand shifts by a register (no count in CL, no flags),
 * about 3% off the entropy decode. Taken with the AVX2 kernels (cpu.c asks for both). */
__attribute__((target("bmi2"))) static int decode_mcu_row_bmi2(jdfast *f, bool out)
{
    return decode_mcu_row_body(f, out);
}
#endif

/* YCbCr -> RGB as libjpeg's ycc_rgb_convert (SCALEBITS 16). */
static void ycc_tables_init(jdfast *f)
{
    for (int i = 0; i < 256; i++) {
        int64_t x = i - 128;
        f->cr_r[i] = (int32_t)((91881 * x + 32768) >> 16);  /* FIX(1.40200) */
        f->cb_b[i] = (int32_t)((116130 * x + 32768) >> 16); /* FIX(1.77200) */
        f->cr_g[i] = (int32_t)(-46802 * x);                  /* -FIX(0.71414) */
        f->cb_g[i] = (int32_t)(-22554 * x + 32768);          /* -FIX(0.34414) + ONE_HALF */
    }
}

static inline uint8_t clamp255(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void ycc_rgb_row(const jdfast *f, const uint8_t *y, const uint8_t *cb, const uint8_t *cr, uint8_t *out,
                        uint32_t n)
{
    const int32_t *cr_r = f->cr_r, *cb_b = f->cb_b, *cr_g = f->cr_g, *cb_g = f->cb_g;
    for (uint32_t i = 0; i < n; i++) {
        int Y = y[i], b = cb[i], r = cr[i];
        out[3 * i] = clamp255(Y + cr_r[r]);
        out[3 * i + 1] = clamp255(Y + (int)((cb_g[b] + cr_g[r]) >> 16));
        out[3 * i + 2] = clamp255(Y + cb_b[b]);
    }
}

/* ---------------------------------------------------------------- set up */

/* Component layout: grey (one block an MCU), or YCbCr with luma 1x1 or 2x2 and chroma 1x1. Every
 * component must come out at the output size (the scaled IDCT enlarges chroma, as libjpeg
 * chooses at scales up to 4/8 for 4:2:0), so nothing is upsampled. These are the checks that do not
 * depend on the scan (jprog.c takes the same layouts). */
static bool layout_usable(j_decompress_ptr c)
{
    if (c->arith_code || c->data_precision != 8)
        return false;
    if (c->num_components == 1) {
        if (c->jpeg_color_space != JCS_GRAYSCALE || c->out_color_space != JCS_GRAYSCALE)
            return false;
    } else if (c->num_components == 3) {
        if (c->jpeg_color_space != JCS_YCbCr || (c->out_color_space != JCS_RGB && c->out_color_space != JCS_YCbCr))
            return false;
        int h0 = c->comp_info[0].h_samp_factor, v0 = c->comp_info[0].v_samp_factor;
        if (!((h0 == 1 && v0 == 1) || (h0 == 2 && v0 == 2)))
            return false;
        for (int i = 1; i < 3; i++)
            if (c->comp_info[i].h_samp_factor != 1 || c->comp_info[i].v_samp_factor != 1)
                return false;
    } else {
        return false;
    }
    if (c->output_width == 0 || c->output_height == 0 || c->output_width > 65535 || c->output_height > 65535)
        return false;
    for (int i = 0; i < c->num_components; i++) {
        const jpeg_component_info *ci = &c->comp_info[i];
        int s = ci->DCT_scaled_size;
        if (s != 1 && s != 2 && s != 4 && s != 8)
            return false;
        if (c->num_components == 3 &&
            (ci->h_samp_factor * s != c->max_h_samp_factor * c->min_DCT_scaled_size ||
             ci->v_samp_factor * s != c->max_v_samp_factor * c->min_DCT_scaled_size))
            return false;
        if (ci->downsampled_width != c->output_width || ci->downsampled_height != c->output_height)
            return false;
    }
    return true;
}

bool thumb__jdfast_layout_usable(j_decompress_ptr c)
{
    return layout_usable(c);
}

bool thumb__jdfast_usable(j_decompress_ptr c)
{
    if (c->progressive_mode || jpeg_has_multiple_scans(c) || !layout_usable(c))
        return false;
    if (c->comps_in_scan != c->num_components || c->Ss != 0 || c->Se != 63 || c->Ah != 0 || c->Al != 0)
        return false;
    for (int i = 0; i < c->comps_in_scan; i++) {
        const jpeg_component_info *ci = c->cur_comp_info[i];
        if (!ci || ci->component_index < 0 || ci->component_index >= c->num_components)
            return false;
        if (ci->dc_tbl_no < 0 || ci->dc_tbl_no > 3 || ci->ac_tbl_no < 0 || ci->ac_tbl_no > 3 ||
            !c->dc_huff_tbl_ptrs[ci->dc_tbl_no] || !c->ac_huff_tbl_ptrs[ci->ac_tbl_no])
            return false; /* libjpeg supplies the standard tables */
        if (ci->quant_tbl_no < 0 || ci->quant_tbl_no > 3 || !c->quant_tbl_ptrs[ci->quant_tbl_no])
            return false;
    }
    return true;
}

static int start(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1, uint32_t y0, uint32_t y1,
                 bool ycc, bool half, bool prog, unsigned features, jdfast_warn_fn warnf, void *user)
{
    *out = NULL;
    if (!(prog ? layout_usable(c) : thumb__jdfast_usable(c)) || x0 >= x1 || x1 > c->output_width || y0 >= y1 ||
        y1 > c->output_height)
        return thumb__fail(ctx, THUMB_EINVAL, "jpeg: fast decoder cannot take this file");
    jdfast *f = calloc(1, sizeof *f);
    if (!f)
        return thumb__fail(ctx, THUMB_ENOMEM, "jpeg: out of memory");
    f->ctx = ctx;
    f->c = c;
    f->warn = warnf;
    f->user = user;
    f->ncomp = c->num_components;
    f->x0 = x0;
    f->x1 = x1;
    f->y0 = y0;
    f->y1 = y1;
    f->ycc = ycc && f->ncomp == 3;
    f->half = half;
    if (half && (f->ncomp != 3 || c->max_h_samp_factor != 2 || c->max_v_samp_factor != 2)) {
        free(f);
        return thumb__fail(ctx, THUMB_EINVAL, "jpeg: half-resolution chroma needs a 4:2:0 file");
    }
    f->cx0 = x0 / 2;
    f->cx1 = (x1 + 1) / 2;
    f->cy0 = y0 / 2;
    f->cy1 = (y1 + 1) / 2;
    f->kern = thumb__jf_kernels(features);
    const jd_idct *idct = &thumb__jd_idct_scalar;
    f->decode_row = decode_mcu_row;
#if defined(__x86_64__) || defined(__i386__)
    if (features & THUMB_CPU_AVX2) {
        idct = &thumb__jd_idct_avx2;
        f->decode_row = decode_mcu_row_bmi2;
    }
#endif
    if (f->ncomp == 3 && !f->ycc)
        ycc_tables_init(f);

    int hmax = f->ncomp == 3 ? c->max_h_samp_factor : 1, vmax = f->ncomp == 3 ? c->max_v_samp_factor : 1;
    uint32_t smin = (uint32_t)c->min_DCT_scaled_size;
    f->mcux = (c->image_width + 8u * (uint32_t)hmax - 1) / (8u * (uint32_t)hmax);
    f->mcuy = (c->image_height + 8u * (uint32_t)vmax - 1) / (8u * (uint32_t)vmax);
    f->imcu_rows = (uint32_t)vmax * smin;
    f->plane_w = (size_t)f->mcux * (size_t)hmax * smin + 32;

    int nb = 0, huff_used = 0;
    int dc_slot[4] = {-1, -1, -1, -1}, ac_slot[4] = {-1, -1, -1, -1};
    for (int i = 0; i < (prog ? c->num_components : c->comps_in_scan); i++) {
        const jpeg_component_info *ci = prog ? &c->comp_info[i] : c->cur_comp_info[i];
        jd_comp *cp = &f->comp[ci->component_index];
        cp->index = ci->component_index;
        cp->h = f->ncomp == 3 ? ci->h_samp_factor : 1;
        cp->v = f->ncomp == 3 ? ci->v_samp_factor : 1;
        cp->s = ci->DCT_scaled_size;
        uint32_t wx0 = x0, wx1 = x1;
        if (half && cp->index > 0) { /* chroma blocks give as many samples as luma blocks */
            cp->s = (int)smin;
            wx0 = f->cx0;
            wx1 = f->cx1;
        }
        cp->run = idct->run[cp->s == 1 ? 0 : cp->s == 2 ? 1 : cp->s == 4 ? 2 : 3];
        cp->bx_lo = wx0 / (uint32_t)cp->s;
        cp->bx_hi = (wx1 - 1) / (uint32_t)cp->s;
        int rc = THUMB_OK;
        if (prog)
            goto blocks; /* tables and quantisers: the scans' (jprog.c) */
        const JQUANT_TBL *qt = c->quant_tbl_ptrs[ci->quant_tbl_no];
        for (int k = 0; k < 64; k++)
            cp->q[k] = (int16_t)qt->quantval[k];
        if (dc_slot[ci->dc_tbl_no] < 0) {
            dc_slot[ci->dc_tbl_no] = huff_used;
            rc = huff_build(f, &f->huff[huff_used++], c->dc_huff_tbl_ptrs[ci->dc_tbl_no], true);
        }
        if (rc == THUMB_OK && ac_slot[ci->ac_tbl_no] < 0) {
            ac_slot[ci->ac_tbl_no] = huff_used;
            rc = huff_build(f, &f->huff[huff_used++], c->ac_huff_tbl_ptrs[ci->ac_tbl_no], false);
        }
        if (rc != THUMB_OK) {
            free(f);
            return rc;
        }
        cp->dc = &f->huff[dc_slot[ci->dc_tbl_no]];
        cp->ac = &f->huff[ac_slot[ci->ac_tbl_no]];
    blocks:
        for (int by = 0; by < cp->v; by++)
            for (int bx = 0; bx < cp->h; bx++) {
                f->blk_comp[nb] = cp->index;
                f->blk_x[nb] = bx;
                f->blk_y[nb] = by;
                nb++;
            }
    }
    f->blocks = nb;
    f->restart_interval = c->restart_interval;
    f->restarts_to_go = f->restart_interval;

    size_t pbytes, rbytes;
    f->row_bytes = (size_t)(x1 - x0) * (size_t)f->ncomp;
    if (!thumb__mul_size(f->plane_w, (size_t)f->ncomp * f->imcu_rows, &pbytes) ||
        !thumb__mul_size(f->row_bytes, JD_MAX_ROWS, &rbytes) || !(f->planes = malloc(pbytes)) ||
        !(f->rows = malloc(rbytes)) || !(f->q = malloc(JD_CHUNK + JD_PAD))) {
        thumb__jdfast_free(f);
        return thumb__fail(ctx, THUMB_ENOMEM, "jpeg: out of memory");
    }
    f->p = f->q;
    *out = f;
    return THUMB_OK;
}

int thumb__jdfast_start(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1, uint32_t y0,
                        uint32_t y1, bool ycc, unsigned features, jdfast_warn_fn warnf, void *user)
{
    return start(out, ctx, c, x0, x1, y0, y1, ycc, false, false, features, warnf, user);
}

int thumb__jdfast_start_half(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1, uint32_t y0,
                             uint32_t y1, unsigned features, jdfast_warn_fn warnf, void *user)
{
    return start(out, ctx, c, x0, x1, y0, y1, true, true, false, features, warnf, user);
}

int thumb__jdfast_start_prog(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1, uint32_t y0,
                             uint32_t y1, bool ycc, bool half, unsigned features, jdfast_warn_fn warnf, void *user)
{
    return start(out, ctx, c, x0, x1, y0, y1, ycc || half, half, true, features, warnf, user);
}

/* ---------------------------------------------------------------- for jprog.c */

int thumb__jd_fail(jdfast *f, int code, const char *fmt, const char *arg)
{
    return fail(f, code, fmt, arg);
}
int thumb__jd_warn(jdfast *f, const char *what)
{
    return warn(f, what);
}
int thumb__jd_huff_build(jdfast *f, jd_huff *t, const JHUFF_TBL *src, bool dc)
{
    return huff_build(f, t, src, dc);
}
void thumb__jd_refill(jdfast *f)
{
    refill(f);
}
void thumb__jd_skip_to_marker(jdfast *f)
{
    skip_to_marker(f);
}
int thumb__jd_restart(jdfast *f)
{
    return restart(f);
}
int thumb__jd_ran_out(jdfast *f)
{
    return ran_out(f);
}
void thumb__jd_output_mcus(jdfast *f, uint32_t mx0, uint32_t n, bool out)
{
    output_mcus(f, mx0, n, out);
}

void thumb__jdfast_coef_hook(jdfast *f, jdfast_coef_fn fn, void *user)
{
    f->coef_hook = fn;
    f->coef_user = user;
}

int thumb__jdfast_channels(const jdfast *f)
{
    return f->ncomp;
}

void thumb__jdfast_free(jdfast *f)
{
    if (!f)
        return;
    free(f->planes);
    free(f->rows);
    free(f->q);
    if (f->prog_free)
        f->prog_free(f->prog);
    free(f);
}

/* ---------------------------------------------------------------- rows */

int thumb__jdfast_planes(jdfast *f, tplanes *out)
{
    out->ny = out->nc = 0;
    if (f->code != THUMB_OK)
        return f->code;
    if (!f->half)
        return fail(f, THUMB_EINVAL, "jpeg: %s", "planes of a decode without half-resolution chroma");
    uint32_t cs = f->imcu_rows / 2; /* chroma rows per MCU row */
    size_t ps = (size_t)f->imcu_rows * f->plane_w;
    for (;;) {
        uint32_t top = f->mcu_row * f->imcu_rows, bottom = top + f->imcu_rows;
        uint32_t ctop = f->mcu_row * cs, cbottom = ctop + cs;
        if ((top >= f->y1 && ctop >= f->cy1) || f->mcu_row >= f->mcuy)
            return fail(f, THUMB_EINVAL, "jpeg: %s", "no more rows");
        bool want = (bottom > f->y0 && top < f->y1) || (cbottom > f->cy0 && ctop < f->cy1);
        int rc = f->decode_row(f, want);
        if (rc != THUMB_OK)
            return rc;
        if (!want)
            continue;
        for (uint32_t y = top > f->y0 ? top : f->y0; y < bottom && y < f->y1; y++)
            out->y[out->ny++] = f->planes + (size_t)(y - top) * f->plane_w + f->x0;
        for (uint32_t y = ctop > f->cy0 ? ctop : f->cy0; y < cbottom && y < f->cy1; y++) {
            const uint8_t *p = f->planes + (size_t)(y - ctop) * f->plane_w + f->cx0;
            out->cb[out->nc] = p + ps;
            out->cr[out->nc++] = p + 2 * ps;
        }
        return THUMB_OK;
    }
}

int thumb__jdfast_rows(jdfast *f, const uint8_t **rows, int *n)
{
    *n = 0;
    if (f->code != THUMB_OK)
        return f->code;
    if (f->half)
        return fail(f, THUMB_EINVAL, "jpeg: %s", "rows of a half-resolution chroma decode");
    for (;;) {
        uint32_t top = f->mcu_row * f->imcu_rows, bottom = top + f->imcu_rows;
        if (top >= f->y1 || f->mcu_row >= f->mcuy)
            return fail(f, THUMB_EINVAL, "jpeg: %s", "no more rows");
        bool want = bottom > f->y0;
        int rc = f->decode_row(f, want);
        if (rc != THUMB_OK)
            return rc;
        if (!want)
            continue;
        uint32_t a = top > f->y0 ? top : f->y0, b = bottom < f->y1 ? bottom : f->y1;
        uint32_t w = f->x1 - f->x0;
        for (uint32_t y = a; y < b; y++) {
            size_t r = y - top;
            uint8_t *o = f->rows + (size_t)(*n) * f->row_bytes;
            const uint8_t *p0 = f->planes + r * f->plane_w + f->x0;
            if (f->ncomp == 1) {
                memcpy(o, p0, w);
            } else {
                size_t ps = (size_t)f->imcu_rows * f->plane_w;
                if (f->ycc)
                    f->kern->interleave3(p0, p0 + ps, p0 + 2 * ps, o, w);
                else
                    ycc_rgb_row(f, p0, p0 + ps, p0 + 2 * ps, o, w);
            }
            rows[(*n)++] = o;
        }
        return THUMB_OK;
    }
}
