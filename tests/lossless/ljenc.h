/* A small lossless JPEG (SOF3) encoder for the tests: what imagecodecs cannot write (restart
 * intervals, point transforms, YCbCr/CMYK colour markers, tables before SOF3), for
 * test_lossless.c, test_adversarial.c and tests/lossless/lltool.c. One fixed Huffman table
 * (categories 0..2 in 2 bits, then one code per length 3..16), enough for every difference.
 * Header-only; everything static. */
#ifndef THUMB_LJENC_H
#define THUMB_LJENC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct ljenc_opt {
    int prec;            /* 2..16 */
    int pred;            /* 1..7 */
    int pt;              /* point transform 0..prec-1 */
    unsigned restart;    /* restart interval in rows (0 = none) */
    int adobe;           /* -1: no Adobe APP14; else its transform (0 RGB/CMYK, 1 YCbCr, 2 YCCK) */
    int jfif;            /* write a JFIF APP0 */
    int tables_first;    /* DHT and DRI before SOF3 (libjpeg reads them) instead of after */
    int ids_rgb;         /* component ids 'R','G','B' instead of 1,2,3 */
} ljenc_opt;

typedef struct ljbuf {
    uint8_t *p;
    size_t n, cap;
    uint32_t acc;
    int nacc;
} ljbuf;

static void lj_put(ljbuf *b, uint8_t v)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    b->p[b->n++] = v;
}

static void lj_put16(ljbuf *b, unsigned v)
{
    lj_put(b, (uint8_t)(v >> 8));
    lj_put(b, (uint8_t)v);
}

static void lj_bits(ljbuf *b, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        b->acc = b->acc << 1 | ((v >> i) & 1);
        if (++b->nacc == 8) {
            lj_put(b, (uint8_t)b->acc);
            if ((b->acc & 0xFF) == 0xFF)
                lj_put(b, 0);
            b->acc = 0;
            b->nacc = 0;
        }
    }
}

static void lj_flush(ljbuf *b)
{
    while (b->nacc)
        lj_bits(b, 1, 1); /* pad with ones */
}

/* The table: 3 codes of 2 bits, then 1 code of each length 3..16. */
static const uint8_t lj_counts[17] = {0, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

static void lj_code(int sym, uint32_t *code, int *len)
{
    uint32_t c = 0;
    int k = 0;
    for (int l = 1; l <= 16; l++) {
        for (int i = 0; i < lj_counts[l]; i++, k++, c++) {
            if (k == sym) {
                *code = c;
                *len = l;
                return;
            }
        }
        c <<= 1;
    }
    abort();
}

static void lj_dht_dri(ljbuf *b, unsigned restart_mcus)
{
    lj_put16(b, 0xFFC4);
    lj_put16(b, 2 + 17 + 17);
    lj_put(b, 0x00);
    for (int l = 1; l <= 16; l++)
        lj_put(b, lj_counts[l]);
    for (int s = 0; s <= 16; s++)
        lj_put(b, (uint8_t)s);
    if (restart_mcus) {
        lj_put16(b, 0xFFDD);
        lj_put16(b, 4);
        lj_put16(b, restart_mcus);
    }
}

/* samples: h rows of w * nf values (frame order), each < 2^prec. Returns a malloc'd file. */
static uint8_t *ljenc(const uint16_t *samples, uint32_t w, uint32_t h, int nf, const ljenc_opt *o, size_t *len)
{
    ljbuf b = {0};
    lj_put16(&b, 0xFFD8);
    if (o->jfif) {
        static const uint8_t jfif[14] = {'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0};
        lj_put16(&b, 0xFFE0);
        lj_put16(&b, 16);
        for (int i = 0; i < 14; i++)
            lj_put(&b, jfif[i]);
    }
    if (o->adobe >= 0) {
        static const uint8_t adobe[11] = {'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0};
        lj_put16(&b, 0xFFEE);
        lj_put16(&b, 14);
        for (int i = 0; i < 11; i++)
            lj_put(&b, adobe[i]);
        lj_put(&b, (uint8_t)o->adobe);
    }
    unsigned rmcus = o->restart * w;
    if (o->tables_first)
        lj_dht_dri(&b, rmcus);
    lj_put16(&b, 0xFFC3);
    lj_put16(&b, 8 + 3 * (unsigned)nf);
    lj_put(&b, (uint8_t)o->prec);
    lj_put16(&b, h);
    lj_put16(&b, w);
    lj_put(&b, (uint8_t)nf);
    for (int c = 0; c < nf; c++) {
        lj_put(&b, (uint8_t)(o->ids_rgb && nf == 3 ? "RGB"[c] : c + 1));
        lj_put(&b, 0x11);
        lj_put(&b, 0);
    }
    if (!o->tables_first)
        lj_dht_dri(&b, rmcus);
    lj_put16(&b, 0xFFDA);
    lj_put16(&b, 6 + 2 * (unsigned)nf);
    lj_put(&b, (uint8_t)nf);
    for (int c = 0; c < nf; c++) {
        lj_put(&b, (uint8_t)(o->ids_rgb && nf == 3 ? "RGB"[c] : c + 1));
        lj_put(&b, 0x00);
    }
    lj_put(&b, (uint8_t)o->pred);
    lj_put(&b, 0);
    lj_put(&b, (uint8_t)o->pt);

    size_t row = (size_t)w * (size_t)nf;
    int32_t *prev = calloc(row, sizeof *prev), *cur = calloc(row, sizeof *cur);
    if (!prev || !cur)
        abort();
    unsigned rst = 0, since = 0;
    for (uint32_t y = 0; y < h; y++) {
        if (o->restart && y > 0 && since == o->restart) {
            lj_flush(&b);
            lj_put(&b, 0xFF);
            lj_put(&b, (uint8_t)(0xD0 + (rst++ & 7)));
            since = 0;
        }
        int first = y == 0 || since == 0;
        for (uint32_t x = 0; x < w; x++) {
            for (int c = 0; c < nf; c++) {
                size_t i = (size_t)x * (size_t)nf + (size_t)c;
                int32_t v = samples[y * row + i] >> o->pt, p;
                cur[i] = v;
                if (x == 0)
                    p = first ? 1 << (o->prec - o->pt - 1) : prev[i];
                else if (first)
                    p = cur[i - (size_t)nf];
                else {
                    int32_t ra = cur[i - (size_t)nf], rb = prev[i], rc = prev[i - (size_t)nf];
                    switch (o->pred) {
                    case 1: p = ra; break;
                    case 2: p = rb; break;
                    case 3: p = rc; break;
                    case 4: p = ra + rb - rc; break;
                    case 5: p = ra + ((rb - rc) >> 1); break;
                    case 6: p = rb + ((ra - rc) >> 1); break;
                    default: p = (ra + rb) >> 1; break;
                    }
                }
                /* the difference modulo 2^16, in -32767..32768 */
                int32_t d = (int32_t)((uint32_t)(v - p) & 0xFFFF);
                if (d > 32768)
                    d -= 65536;
                int s = 0;
                for (int32_t a = d < 0 ? -d : d; a; a >>= 1)
                    s++;
                uint32_t code;
                int clen;
                lj_code(s, &code, &clen);
                lj_bits(&b, code, clen);
                if (s > 0 && s < 16)
                    lj_bits(&b, (uint32_t)(d < 0 ? d + (1 << s) - 1 : d), s);
            }
        }
        int32_t *t = prev;
        prev = cur;
        cur = t;
        since++;
    }
    lj_flush(&b);
    lj_put16(&b, 0xFFD9);
    free(prev);
    free(cur);
    *len = b.n;
    return b.p;
}

/* Test pictures: smooth gradients with a little noise (a photo's statistics) or pure noise. */
static uint16_t *ljenc_picture(uint32_t w, uint32_t h, int nf, int prec, unsigned seed, int noise_only)
{
    uint16_t *s = malloc((size_t)w * h * (size_t)nf * sizeof *s);
    if (!s)
        abort();
    uint32_t maxv = (1u << prec) - 1, r = seed * 2654435761u + 1;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < nf; c++) {
                r = r * 1103515245u + 12345u;
                uint32_t noise = (r >> 8) & 0xFFFF;
                uint64_t v;
                if (noise_only)
                    v = noise % (maxv + 1);
                else
                    v = ((uint64_t)(x * (c + 1) + y * 2) * maxv / (w * (nf + 1) + 2 * h) + noise % 9) % (maxv + 1);
                s[((size_t)y * w + x) * (size_t)nf + (size_t)c] = (uint16_t)v;
            }
    return s;
}

#endif
