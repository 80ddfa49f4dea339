/* The JPEG encoder's front end (see jfront.h): rows in, quantised coefficients and Huffman
 * statistics out, then libjpeg entropy-codes them with the optimal tables in one pass.
 *
 * Geometry, as libjpeg's compressor (jcprepct.c, jcsample.c, jccoefct.c):
 *  - rows are converted to Y, Cb, Cr planes and their right edge is repeated out to a whole
 *    MCU; the last row is repeated down to a whole iMCU row (8 or 16 rows);
 *  - 4:2:0 chroma is the 2x2 reduce of those planes down to the last image row (an odd last
 *    row pairs with itself), and the last reduced row is repeated below that;
 *  - blocks past a component's width_in_blocks / height_in_blocks are not coded from pixels:
 *    libjpeg fills them in (jctrans.c) with the previous block's DC and zero AC, so they count
 *    as DC difference 0 and an EOB.
 */
#include "jfront.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

const uint8_t thumb__jf_natural[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
};

#ifdef JF_HAVE_AVX2
/* 0 not built, 1 being built, 2 ready: one thread builds (a few microseconds), others wait. */
static _Atomic int avx2_tables;

static void avx2_tables_ready(void)
{
    int want = 0;
    if (atomic_load_explicit(&avx2_tables, memory_order_acquire) == 2)
        return;
    if (atomic_compare_exchange_strong_explicit(&avx2_tables, &want, 1, memory_order_acq_rel, memory_order_acquire)) {
        thumb__jf_avx2_init();
        atomic_store_explicit(&avx2_tables, 2, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&avx2_tables, memory_order_acquire) != 2)
        ;
}
#endif

const jf_kernels *thumb__jf_kernels(unsigned features)
{
#ifdef JF_HAVE_AVX2
    if ((features & THUMB_CPU_AVX2) && (thumb__cpu_features() & THUMB_CPU_AVX2)) {
        avx2_tables_ready();
        return &thumb__jf_avx2;
    }
#endif
    (void)features;
    return &thumb__jf_scalar;
}

/* jcdctmgr.c compute_reciprocal() with 16-bit DCTELEM (libjpeg-turbo's SIMD builds). */
void thumb__jf_quant_init(jf_quant *q, const uint16_t quantval[64])
{
    for (int i = 0; i < 64; i++) {
        uint32_t d = (uint32_t)(quantval[i] ? quantval[i] : 1) << 3;
        int b = 31 - __builtin_clz(d);
        int r = 16 + b;
        uint32_t fq = (uint32_t)((1ull << r) / d), fr = (uint32_t)((1ull << r) % d);
        uint32_t c = d / 2;
        if (fr == 0) { /* a power of two */
            fq >>= 1;
            r--;
        } else if (fr <= d / 2) {
            c++;
        } else {
            fq++;
        }
        q->recip[i] = (uint16_t)fq;
        q->corr[i] = (uint16_t)c;
        q->scale[i] = (uint16_t)(1u << (32 - r));
    }
}

/* ---------------------------------------------------------------- Huffman tables */

#define JF_MAX_CLEN 32

int thumb__jf_huff_table(const uint32_t freq_in[256], uint8_t bits_out[17], uint8_t val[256])
{
    uint64_t scale_in[256];
    for (int i = 0; i < 256; i++)
        scale_in[i] = freq_in[i];
    for (;;) {
        uint64_t freq[257];
        int codesize[257], others[257], act[257], na = 0;
        for (int i = 0; i < 256; i++)
            freq[i] = scale_in[i];
        freq[256] = 1; /* the reserved code point: no code is all ones */
        for (int i = 0; i <= 256; i++) {
            codesize[i] = 0;
            others[i] = -1;
            if (freq[i])
                act[na++] = i;
        }
        /* K.2: merge the two least frequent (ties: the larger symbol) until one tree is left.
         * act[] holds the live symbols in increasing order, so the scans see them as
         * libjpeg's full 0..256 scans do. */
        for (;;) {
            int c1 = -1, c2 = -1, p2 = -1;
            uint64_t v = UINT64_MAX;
            for (int j = 0; j < na; j++)
                if (freq[act[j]] <= v) {
                    v = freq[act[j]];
                    c1 = act[j];
                }
            v = UINT64_MAX;
            for (int j = 0; j < na; j++)
                if (act[j] != c1 && freq[act[j]] <= v) {
                    v = freq[act[j]];
                    c2 = act[j];
                    p2 = j;
                }
            if (c2 < 0)
                break;
            freq[c1] += freq[c2];
            freq[c2] = 0;
            memmove(act + p2, act + p2 + 1, (size_t)(na - p2 - 1) * sizeof *act);
            na--;
            codesize[c1]++;
            while (others[c1] >= 0) {
                c1 = others[c1];
                codesize[c1]++;
            }
            others[c1] = c2;
            codesize[c2]++;
            while (others[c2] >= 0) {
                c2 = others[c2];
                codesize[c2]++;
            }
        }
        int bits[JF_MAX_CLEN + 1] = {0};
        int too_long = 0;
        for (int i = 0; i <= 256; i++) {
            if (codesize[i] > JF_MAX_CLEN)
                too_long = 1;
            else if (codesize[i])
                bits[codesize[i]]++;
        }
        if (too_long) {
            /* Only Fibonacci-like counts past 2^32 get here (libjpeg gives up with
             * JERR_HUFF_CLEN_OVERFLOW): halve them, keeping every symbol, and try again. */
            for (int i = 0; i < 256; i++)
                scale_in[i] = (scale_in[i] + 1) / 2;
            continue;
        }
        /* K.3: move codes longer than 16 bits up the tree */
        int i;
        for (i = JF_MAX_CLEN; i > 16; i--) {
            while (bits[i] > 0) {
                int j = i - 2;
                while (bits[j] == 0)
                    j--;
                bits[i] -= 2;
                bits[i - 1]++;
                bits[j + 1] += 2;
                bits[j]--;
            }
        }
        while (bits[i] == 0)
            i--;
        bits[i]--; /* drop the reserved code point (the longest code) */
        for (int k = 0; k <= 16; k++)
            bits_out[k] = (uint8_t)bits[k];
        int p = 0;
        for (int len = 1; len <= JF_MAX_CLEN; len++)
            for (int s = 0; s < 256; s++)
                if (codesize[s] == len)
                    val[p++] = (uint8_t)s;
        return p;
    }
}

/* ---------------------------------------------------------------- the encoder front end */

#define JF_SLACK 16 /* fdct_quant may read 8 bytes past a row's last block */

struct jf_enc {
    const jf_kernels *k;
    int ncomp;
    bool ycc;                    /* rows are YCbCr already */
    int f;                       /* luma sampling factor: 2 for 4:2:0, else 1 */
    uint32_t w, h;
    uint32_t mcus_x;             /* MCUs across */
    uint32_t wpad;               /* w rounded up to whole MCUs */
    uint32_t strip_h;            /* rows per iMCU row: 8 * f */
    uint32_t rows_in;            /* rows in the current strip */
    uint32_t strip_no;
    uint8_t *plane[3];           /* strip_h rows of wpad samples each */
    uint8_t *sub;                /* 4:2:0: one reduced chroma strip, 8 rows of wpad / 2 */
    int hs[3], vs[3];
    uint32_t wib[3], hib[3];     /* width_in_blocks, height_in_blocks */
    int tbl[3];                  /* Huffman table per component (0 luma, 1 chroma) */
    jf_quant quant[3];
    jvirt_barray_ptr arr[3];
    JBLOCKARRAY blocks[3];
    int last_dc[3];
    uint32_t dc_counts[2][256];
    uint32_t ac_counts[2][256];
};

void thumb__jf_enc_free(jf_enc *f)
{
    if (!f)
        return;
    for (int i = 0; i < 3; i++)
        free(f->plane[i]);
    free(f->sub);
    free(f);
}

static uint32_t div_up(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

int thumb__jf_enc_new(jf_enc **out, struct jpeg_compress_struct *c, uint32_t w, uint32_t h, int channels,
                      unsigned features)
{
    *out = NULL;
    jf_enc *f = calloc(1, sizeof *f);
    if (!f)
        return THUMB_ENOMEM;
    *out = f;
    f->k = thumb__jf_kernels(features);
    f->ncomp = channels == 1 ? 1 : 3;
    f->w = w;
    f->h = h;
    int maxh = 1, maxv = 1;
    for (int ci = 0; ci < f->ncomp; ci++) {
        f->hs[ci] = c->comp_info[ci].h_samp_factor;
        f->vs[ci] = c->comp_info[ci].v_samp_factor;
        maxh = f->hs[ci] > maxh ? f->hs[ci] : maxh;
        maxv = f->vs[ci] > maxv ? f->vs[ci] : maxv;
    }
    /* jpeg.c sets 2x2/1x1/1x1 or all 1x1 (and 1x1 for grey): nothing else is handled here */
    if (maxh != maxv || maxh > 2 || (f->ncomp == 3 && (f->hs[1] != 1 || f->vs[1] != 1 || f->hs[2] != 1 ||
                                                       f->vs[2] != 1 || f->hs[0] != maxh || f->vs[0] != maxv)))
        return THUMB_EINVAL;
    f->f = maxh;
    f->mcus_x = f->ncomp == 1 ? div_up(w, 8) : div_up(w, 8u * (uint32_t)maxh);
    f->wpad = f->mcus_x * 8u * (uint32_t)maxh;
    f->strip_h = 8u * (uint32_t)maxv;
    for (int ci = 0; ci < f->ncomp; ci++) {
        if (!(f->plane[ci] = malloc((size_t)f->strip_h * f->wpad + JF_SLACK)))
            return THUMB_ENOMEM;
        f->wib[ci] = div_up(w * (uint32_t)f->hs[ci], 8u * (uint32_t)maxh);
        f->hib[ci] = div_up(h * (uint32_t)f->vs[ci], 8u * (uint32_t)maxv);
        f->tbl[ci] = ci == 0 ? 0 : 1;
        const JQUANT_TBL *qt = c->quant_tbl_ptrs[c->comp_info[ci].quant_tbl_no];
        if (!qt)
            return THUMB_EINVAL;
        thumb__jf_quant_init(&f->quant[ci], qt->quantval);
    }
    if (f->f == 2 && !(f->sub = malloc((size_t)8 * (f->wpad / 2) + JF_SLACK)))
        return THUMB_ENOMEM;

    /* the coefficient arrays, whole-image (libjpeg's optimize_coding keeps the same) */
    JDIMENSION bh[3];
    for (int ci = 0; ci < f->ncomp; ci++) {
        JDIMENSION bw = (JDIMENSION)(div_up(f->wib[ci], (uint32_t)f->hs[ci]) * (uint32_t)f->hs[ci]);
        bh[ci] = (JDIMENSION)(div_up(f->hib[ci], (uint32_t)f->vs[ci]) * (uint32_t)f->vs[ci]);
        f->arr[ci] = c->mem->request_virt_barray((j_common_ptr)c, JPOOL_IMAGE, FALSE, bw, bh[ci], bh[ci]);
    }
    c->mem->realize_virt_arrays((j_common_ptr)c);
    for (int ci = 0; ci < f->ncomp; ci++)
        f->blocks[ci] = c->mem->access_virt_barray((j_common_ptr)c, f->arr[ci], 0, bh[ci], TRUE);
    return THUMB_OK;
}

static inline void count_dc(uint32_t *counts, int diff)
{
    unsigned a = (unsigned)(diff < 0 ? -diff : diff);
    counts[a ? 32 - __builtin_clz(a) : 0]++;
}

/* Code one full strip (iMCU row): reduce chroma, transform and count every real block, then
 * walk the MCUs in coding order for the DC differences and the filled-in blocks. */
static void strip_code(jf_enc *f, uint32_t real_rows, bool reduced)
{
    const jf_kernels *k = f->k;
    for (int ci = 0; ci < f->ncomp; ci++) {
        const uint8_t *p = f->plane[ci];
        size_t stride = f->wpad;
        if (ci > 0 && f->f == 2 && !reduced) { /* (reduced: rows 0-7 of the plane hold it already) */
            /* At the bottom libjpeg pads the reduced rows (jcprepct.c): pairs up to the last
             * image row (an odd one paired with itself), then the last reduced row repeated. */
            size_t n = f->wpad / 2;
            uint32_t crows = (real_rows + 1) / 2, j;
            for (j = 0; j < crows; j++)
                k->down2(f->plane[ci] + 2 * j * f->wpad, f->plane[ci] + (2 * j + 1) * f->wpad, f->sub + j * n, n);
            for (; j < 8; j++)
                memcpy(f->sub + j * n, f->sub + (crows - 1) * n, n);
            p = f->sub;
            stride = n;
        }
        uint32_t *ac = f->ac_counts[f->tbl[ci]];
        for (int by = 0; by < f->vs[ci]; by++) {
            uint32_t brow = f->strip_no * (uint32_t)f->vs[ci] + (uint32_t)by;
            if (brow >= f->hib[ci])
                break;
            JBLOCKROW row = f->blocks[ci][brow];
            k->fdct_quant(p + (size_t)by * 8 * stride, stride, &f->quant[ci], row[0], f->wib[ci]);
            for (uint32_t bx = 0; bx < f->wib[ci]; bx++)
                k->ac_stats(row[bx], ac);
        }
    }
    for (uint32_t mx = 0; mx < f->mcus_x; mx++) {
        for (int ci = 0; ci < f->ncomp; ci++) {
            int hs = f->ncomp == 1 ? 1 : f->hs[ci], vs = f->ncomp == 1 ? 1 : f->vs[ci];
            uint32_t *dc = f->dc_counts[f->tbl[ci]];
            for (int yy = 0; yy < vs; yy++) {
                uint32_t brow = f->strip_no * (uint32_t)vs + (uint32_t)yy;
                for (int xx = 0; xx < hs; xx++) {
                    uint32_t bx = mx * (uint32_t)hs + (uint32_t)xx;
                    if (bx < f->wib[ci] && brow < f->hib[ci]) {
                        int v = f->blocks[ci][brow][bx][0];
                        count_dc(dc, v - f->last_dc[ci]);
                        f->last_dc[ci] = v;
                    } else {
                        dc[0]++;
                        f->ac_counts[f->tbl[ci]][0]++;
                    }
                }
            }
        }
    }
    f->strip_no++;
    f->rows_in = 0;
}

/* n rows (1..max) of w samples into plane rows of wpad, the last sample repeated to wpad and
 * the last row repeated to max rows (as libjpeg pads the edges) */
static void put_rows(uint8_t *plane, size_t stride, const uint8_t *const *rows, uint32_t n, uint32_t max, uint32_t w,
                     uint32_t wpad)
{
    for (uint32_t i = 0; i < max; i++) {
        uint8_t *r = plane + (size_t)i * stride;
        memcpy(r, rows[i < n ? i : n - 1], w);
        memset(r + w, r[w - 1], wpad - w);
    }
}

int thumb__jf_enc_strip420(jf_enc *f, const uint8_t *const *y, uint32_t ny, const uint8_t *const *cb,
                           const uint8_t *const *cr, uint32_t nc)
{
    uint32_t cw = (f->w + 1) / 2;
    if (f->ncomp != 3 || f->f != 2 || f->rows_in != 0 || ny == 0 || ny > 16 || nc == 0 || nc > 8 ||
        nc != (ny + 1) / 2)
        return THUMB_EINVAL;
    put_rows(f->plane[0], f->wpad, y, ny, 16, f->w, f->wpad);
    put_rows(f->plane[1], f->wpad, cb, nc, 8, cw, f->wpad / 2);
    put_rows(f->plane[2], f->wpad, cr, nc, 8, cw, f->wpad / 2);
    strip_code(f, ny, true);
    return THUMB_OK;
}

void thumb__jf_enc_ycc_input(jf_enc *f)
{
    f->ycc = f->ncomp == 3;
}

void thumb__jf_enc_rows(jf_enc *f, const uint8_t *const *rows, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        size_t off = (size_t)f->rows_in * f->wpad;
        if (f->ncomp == 3 && f->ycc)
            f->k->split3(rows[i], f->plane[0] + off, f->plane[1] + off, f->plane[2] + off, f->w);
        else if (f->ncomp == 3)
            f->k->rgb_ycc(rows[i], f->plane[0] + off, f->plane[1] + off, f->plane[2] + off, f->w);
        else
            memcpy(f->plane[0] + off, rows[i], f->w);
        for (int ci = 0; ci < f->ncomp; ci++) {
            uint8_t *r = f->plane[ci] + off;
            memset(r + f->w, r[f->w - 1], f->wpad - f->w);
        }
        if (++f->rows_in == f->strip_h)
            strip_code(f, f->strip_h, false);
    }
}

void thumb__jf_enc_finish(jf_enc *f, struct jpeg_compress_struct *c)
{
    if (f->rows_in > 0) {
        for (int ci = 0; ci < f->ncomp; ci++) {
            const uint8_t *last = f->plane[ci] + (size_t)(f->rows_in - 1) * f->wpad;
            for (uint32_t r = f->rows_in; r < f->strip_h; r++)
                memcpy(f->plane[ci] + (size_t)r * f->wpad, last, f->wpad);
        }
        strip_code(f, f->rows_in, false);
    }
    for (int t = 0; t < (f->ncomp == 1 ? 1 : 2); t++) {
        JHUFF_TBL **dc = &c->dc_huff_tbl_ptrs[t], **ac = &c->ac_huff_tbl_ptrs[t];
        if (!*dc)
            *dc = jpeg_alloc_huff_table((j_common_ptr)c);
        if (!*ac)
            *ac = jpeg_alloc_huff_table((j_common_ptr)c);
        thumb__jf_huff_table(f->dc_counts[t], (*dc)->bits, (*dc)->huffval);
        thumb__jf_huff_table(f->ac_counts[t], (*ac)->bits, (*ac)->huffval);
        (*dc)->sent_table = FALSE;
        (*ac)->sent_table = FALSE;
    }
    c->optimize_coding = FALSE; /* the tables above are optimal already */
    jpeg_write_coefficients(c, f->arr);
}
