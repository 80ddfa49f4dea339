/* jprog: progressive Huffman decode into a store of the coefficients the scale needs.
 * See jprog.h for what it keeps and why the samples are libjpeg's. */
#include "jprog.h"
#include "jdfast_int.h"
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpegint.h> /* struct jpeg_marker_reader: libjpeg reads the markers between scans */

typedef struct jp_huff {
    jd_huff t;                      /* jdfast's table: its checks, and the codes longer than JD_FB */
    uint32_t look[1u << JD_FB];     /* code of JD_FB bits or fewer: symbol | length << 8; 0 longer */
} jp_huff;

typedef struct jp_comp {
    int K;                          /* coefficients kept per block */
    int KS;                         /* slots per block in coef: K, and one more (a slot nothing reads,
                                     * for the coefficients not kept) when the AC scans are read */
    int8_t slot[64];                /* zig-zag index -> slot in a block's kept coefficients (in
                                     * natural order), -1 none */
    uint8_t wslot[64];              /* zig-zag index -> the slot a decoded coefficient is stored in:
                                     * slot, or K for one not kept (no branch in the decoders) */
    uint8_t nat[64];                /* slot -> natural index */
    int nchunk;                     /* refinement on x86: slots in groups of 16 (K = 25: 2, K = 49: 4) */
    uint8_t zctl[64 * 2];           /* slot j's 16-bit lane: the byte of a zig-zag mask with its bit, */
    uint16_t zbit[64];              /* and that bit (0x100, a bit no byte has, for a lane with no slot) */
    int s;                          /* output samples per block side: 1, 2, 4, 8 */
    uint64_t keptz;                 /* the kept coefficients as a zig-zag mask */
    uint32_t wb, hb;                /* the component's blocks (width_in_blocks, height_in_blocks) */
    uint32_t bx0, bx1, by0, by1;    /* blocks kept: [bx0, bx1) x [by0, by1) */
    int16_t *coef;                  /* K per kept block, rows of (bx1 - bx0) blocks */
    uint64_t *nz;                   /* K > 1: per block of the component, bit k: zig-zag k nonzero */
    uint64_t cbytes, zbytes;        /* bytes of coef and nz */
    int bits[64];                   /* libjpeg's coef_bits: the Al of the last scan, -1 none yet */
    bool latched;                   /* quantiser copied (libjpeg's latch_quant_tables) */
} jp_comp;

struct jp_rd;

typedef struct jprog {
    jdfast *f;
    thumb_ctx *ctx;                 /* keeps the store between calls (may be NULL) */
    uint8_t *store;                 /* every component's coef and nz, one allocation */
    size_t store_cap;
    j_decompress_ptr c;
    const jprog_limits *lim;
    int ncomp;
    jp_comp comp[3];
    jp_huff huff[4];                /* this scan's tables, by table number */
    uint64_t bytes;
    uint32_t mx0, mx1;              /* MCU columns with a kept block */
    int (*scan_ac)(struct jprog *, struct jp_rd *); /* scan_ac or its POPCNT build */
    void (*expand)(const jp_comp *, const int16_t *, int16_t *); /* expand or its SSSE3 build */
} jprog;

static void prog_free(void *p)
{
    jprog *P = p;
    if (!P)
        return;
    thumb_ctx *ctx = P->ctx;
    if (P->store && ctx && ctx->cache_weights && P->store_cap <= THUMB_PROG_STORE_MAX &&
        P->store_cap > ctx->prog_store_cap) {
        free(ctx->prog_store);
        ctx->prog_store = P->store;
        ctx->prog_store_cap = P->store_cap;
    } else {
        free(P->store);
    }
    free(P);
}

bool thumb__jprog_usable(j_decompress_ptr c)
{
    if (!c->progressive_mode || c->arith_code || !thumb__jdfast_layout_usable(c))
        return false;
    return c->comp_info[0].DCT_scaled_size <= 4; /* 8/8 keeps everything: libjpeg's */
}

/* Is natural index n read by the IDCT of output size s? */
static bool idct_reads(int s, int n)
{
    int r = n / 8, col = n % 8;
    if (s == 1)
        return n == 0;
    if (s == 2)
        return (r < 2 || (r & 1)) && (col < 2 || (col & 1));
    if (s == 4)
        return r != 4 && col != 4;
    return true;
}

/* ---------------------------------------------------------------- tables */

static int huff_make(jprog *P, jp_huff *h, int tbl, bool dc)
{
    JHUFF_TBL *src = tbl >= 0 && tbl < 4 ? (dc ? P->c->dc_huff_tbl_ptrs[tbl] : P->c->ac_huff_tbl_ptrs[tbl]) : NULL;
    if (!src)
        return thumb__jd_fail(P->f, THUMB_ECORRUPT, "jpeg: %s", "a scan uses a Huffman table never defined");
    int rc = thumb__jd_huff_build(P->f, &h->t, src, dc);
    if (rc != THUMB_OK)
        return rc;
    memset(h->look, 0, sizeof h->look);
    uint32_t code = 0;
    int k = 0;
    for (int l = 1; l <= JD_FB; l++) {
        for (int i = 0; i < src->bits[l]; i++, k++, code++) {
            uint32_t lo = code << (JD_FB - l), span = 1u << (JD_FB - l);
            for (uint32_t j = 0; j < span; j++)
                h->look[lo + j] = (uint32_t)src->huffval[k] | (uint32_t)l << 8;
        }
        code <<= 1;
    }
    /* an end-of-band code in jdfast's one-step table: its run's bit count r (EOBr) in the value
     * field, so an AC first scan ends a block without a second lookup */
    if (!dc)
        for (uint32_t i = 0; i < 1u << JD_FB; i++)
            if (!(h->t.fast[i] & JD_SLOW) && (h->t.fast[i] >> 8 & 0xFF) == JD_EOB_RUN)
                h->t.fast[i] |= (h->look[i] & 0xF0) << 12;
    return THUMB_OK;
}

/* The next symbol (bits filled); *len the bits its code takes. A bad code is 0 (as libjpeg). */
static inline __attribute__((always_inline)) int symbol(const jp_huff *h, uint64_t bits, int *len, bool *bad)
{
    uint32_t e = h->look[bits >> (64 - JD_FB)];
    if (e) {
        *len = (int)(e >> 8);
        return (int)(e & 0xFF);
    }
    return slow_symbol(&h->t, bits, len, bad);
}

/* ---------------------------------------------------------------- scans */

/* libjpeg's start_input_pass for a progressive scan: latch_quant_tables, then
 * start_pass_phuff_decoder's checks, progression bookkeeping and tables. */
static int scan_start(jprog *P)
{
    j_decompress_ptr c = P->c;
    jdfast *f = P->f;
    for (int i = 0; i < c->comps_in_scan; i++) {
        jpeg_component_info *ci = c->cur_comp_info[i];
        jp_comp *pc = &P->comp[ci->component_index];
        if (pc->latched)
            continue;
        int q = ci->quant_tbl_no;
        if (q < 0 || q >= NUM_QUANT_TBLS || !c->quant_tbl_ptrs[q])
            return thumb__jd_fail(f, THUMB_ECORRUPT, "jpeg: %s", "a component has no quantisation table");
        for (int k = 0; k < 64; k++)
            f->comp[ci->component_index].q[k] = (int16_t)c->quant_tbl_ptrs[q]->quantval[k];
        pc->latched = true;
    }
    bool dc = c->Ss == 0, bad = false;
    if (dc)
        bad = c->Se != 0;
    else
        bad = c->Ss > c->Se || c->Se >= 64 || c->comps_in_scan != 1;
    if (c->Ah != 0 && c->Al != c->Ah - 1)
        bad = true;
    if (c->Al > 13)
        bad = true;
    if (bad)
        return thumb__jd_fail(f, THUMB_ECORRUPT, "jpeg: %s", "invalid progressive parameters");
    int rc;
    for (int i = 0; i < c->comps_in_scan; i++) {
        jp_comp *pc = &P->comp[c->cur_comp_info[i]->component_index];
        if (!dc && pc->bits[0] < 0 && (rc = thumb__jd_warn(f, "AC scan before the DC scan")) != THUMB_OK)
            return rc;
        for (int k = c->Ss; k <= c->Se; k++) {
            int expected = pc->bits[k] < 0 ? 0 : pc->bits[k];
            if (c->Ah != expected && (rc = thumb__jd_warn(f, "bogus progression")) != THUMB_OK)
                return rc;
            pc->bits[k] = c->Al;
        }
    }
    for (int i = 0; i < c->comps_in_scan; i++) {
        jpeg_component_info *ci = c->cur_comp_info[i];
        if (dc && c->Ah == 0)
            rc = huff_make(P, &P->huff[ci->dc_tbl_no & 3], ci->dc_tbl_no, true);
        else if (!dc)
            rc = huff_make(P, &P->huff[ci->ac_tbl_no & 3], ci->ac_tbl_no, false);
        else
            rc = THUMB_OK;
        if (rc != THUMB_OK)
            return rc;
        f->comp[ci->component_index].dc_pred = 0;
    }
    /* the reader: empty, on the scan's first byte */
    f->marker = 0;
    f->eof = false;
    f->qlen = 0;
    f->p = f->q;
    f->bits = 0;
    f->nbits = 0;
    f->insufficient = false;
    f->restart_interval = c->restart_interval;
    f->restarts_to_go = c->restart_interval;
    f->next_restart = 0;
    memset(f->q, 0, JD_PAD);
    thumb__jd_refill(f);
    if ((uint32_t)c->input_scan_number > P->lim->max_scans)
        return thumb__fail(f->ctx, THUMB_ELIMIT_SCANS, "jpeg: more than %u progressive scans",
                           (unsigned)P->lim->max_scans);
    return THUMB_OK;
}

/* The reader's state, copied into locals by the scan loops (as jdfast's MCU loop keeps it) so that
 * the compiler holds it in registers: stores of coefficients cannot alias it there */
typedef struct jp_rd {
    const uint8_t *p;
    uint64_t bits;
    unsigned nbits;
    unsigned eobrun;                /* blocks left in the current EOB run */
    bool bad;
} jp_rd;

#define RD_FILL()                                                                                            \
    do {                                                                                                     \
        r->bits |= load_be64(r->p) >> r->nbits;                                                              \
        r->p += (63 - r->nbits) >> 3;                                                                        \
        r->nbits |= 56;                                                                                      \
    } while (0)
#define RD_DROP(n)                                                                                           \
    do {                                                                                                     \
        r->bits <<= (n);                                                                                     \
        r->nbits -= (unsigned)(n);                                                                           \
    } while (0)

#define JP_INLINE static inline __attribute__((always_inline))

/* Zig-zag positions [a, b] as a mask (0 <= a <= b <= 63) */
JP_INLINE uint64_t span(int a, int b)
{
    return (~0ull << a) & (~0ull >> (63 - b));
}

/* An AC first scan's block (EOB runs are the caller's): nz its nonzero bits, cf its slots (for a
 * block outside the crop, a scratch block). Runs past 63 land in 63, as libjpeg's natural-order
 * table has them. */
JP_INLINE void ac_first(jp_rd *r, const jp_comp *pc, const jp_huff *h, uint64_t *nzp, int16_t *cf, int Ss, int Se,
                        int Al)
{
    uint64_t nz = *nzp;
    for (int k = Ss; k <= Se; k++) {
        RD_FILL();
        /* jdfast's one-step entry: a code and its value within JD_FB bits */
        uint32_t e = h->t.fast[r->bits >> (64 - JD_FB)];
        int run, v;
        if (__builtin_expect(!(e & JD_SLOW), 1)) {
            RD_DROP(e & 63);
            run = (int)(e >> 8 & 0xFF);
            if (run == JD_EOB_RUN) { /* EOBr: 2^r - 1 more blocks from r bits (none for r = 0) */
                unsigned rb = e >> 16;
                r->eobrun = (1u << rb) + (uint32_t)((r->bits >> 1) >> (63 - rb)) - 1;
                RD_DROP(rb);
                break;
            }
            v = (int16_t)(e >> 16);
            if (v == 0) { /* ZRL */
                k += 15;
                continue;
            }
        } else {
            int len, rs = symbol(h, r->bits, &len, &r->bad);
            RD_DROP(len);
            run = rs >> 4;
            int s = rs & 15;
            if (!s) {
                if (run == 15) {
                    k += 15;
                    continue;
                }
                r->eobrun = 1u << run;
                if (run) {
                    r->eobrun += (uint32_t)(r->bits >> (64 - run));
                    RD_DROP(run);
                }
                r->eobrun--;
                break;
            }
            v = extend((uint32_t)(r->bits >> (64 - s)), s);
            RD_DROP(s);
        }
        k += run;
        int z = k > 63 ? 63 : k;
        int16_t c16 = (int16_t)(uint16_t)((unsigned)v << Al);
        uint64_t bit = 1ull << z;
        nz = (nz & ~bit) | (c16 ? bit : 0);
        cf[pc->wslot[z]] = c16;
    }
    *nzp = nz;
}

/* Correction bit b for coefficient *c: adds p1 away from zero when b is set and *c does not have
 * p1 yet (libjpeg's decode_mcu_AC_refine), without a branch on the bit */
JP_INLINE void correct(int16_t *c, unsigned b, int p1, int m1)
{
    int v = *c, d = v >= 0 ? p1 : m1;
    d &= -(int)(b & ((v & p1) == 0));
    *c = (int16_t)(v + d);
}

/* The correction bits of the nonzero coefficients in corr (a zig-zag mask, n of them), one each in
 * order; kept (within corr) the ones this block keeps. The bits for the whole mask are taken at
 * once and a kept coefficient finds its own by the count of corr's bits below it: no branch per
 * bit. The reader is refilled only when it has fewer than n bits (after a symbol it has 39). */
JP_INLINE void corrections(const jp_comp *pc, int16_t *cf, uint64_t corr, unsigned n, uint64_t kept, int p1, int m1,
                           jp_rd *r)
{
    if (__builtin_expect(r->nbits < n, 0))
        RD_FILL();
    if (__builtin_expect(r->nbits < n, 0)) { /* more than 56 at once: a bit at a time */
        for (; corr; corr &= corr - 1) {
            if (r->nbits < 1)
                RD_FILL();
            unsigned b = (unsigned)(r->bits >> 63);
            RD_DROP(1);
            int k = __builtin_ctzll(corr);
            if (kept >> k & 1)
                correct(&cf[pc->slot[k]], b, p1, m1);
        }
        return;
    }
    uint64_t b = r->bits;
    RD_DROP(n);
    for (; kept; kept &= kept - 1) {
        int k = __builtin_ctzll(kept);
        unsigned i = (unsigned)__builtin_popcountll(corr & ((1ull << k) - 1));
        correct(&cf[pc->slot[k]], (unsigned)(b >> (63 - i)) & 1, p1, m1);
    }
}

/* An AC refinement scan's block, as libjpeg's decode_mcu_AC_refine: each symbol's run counts
 * the zero coefficients to pass, and every nonzero one passed on the way takes a correction bit.
 * keptz: the coefficients the block keeps (0 for a block outside the crop, whose cf is a scratch block). */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
/* bit n (0-based) of the set bits of x alone, 0 when x has fewer */
__attribute__((target("bmi2"))) static inline uint64_t nth_bit(uint64_t x, int n)
{
    return _pdep_u64(1ull << n, x);
}
#endif

/* A refinement scan's next symbol: *run, and *s 0 for a run of zeros alone (ZRL), 1 | sign bit << 1
 * for a new coefficient (its sign bit taken), -1 for an end of band (its EOB run taken into
 * r->eobrun). A code of another size warns, as libjpeg. */
JP_INLINE int refine_symbol(jprog *P, jp_rd *r, const jp_huff *h, int *run, int *s)
{
    RD_FILL();
    int len, rs = symbol(h, r->bits, &len, &r->bad);
    RD_DROP(len);
    *run = rs >> 4;
    *s = 0;
    if (rs & 15) {
        if ((rs & 15) != 1) {
            int rc = thumb__jd_warn(P->f, "bad Huffman code");
            if (rc != THUMB_OK)
                return rc;
        }
        *s = 1 | (int)(r->bits >> 63) << 1;
        RD_DROP(1);
    } else if (*run != 15) {
        r->eobrun = 1u << *run;
        if (*run) {
            r->eobrun += (uint32_t)(r->bits >> (64 - *run));
            RD_DROP(*run);
        }
        *s = -1;
    }
    return THUMB_OK;
}

#if defined(__x86_64__) || defined(__i386__)
#define R2(n) n, n + 128, n + 64, n + 192
#define R4(n) R2(n), R2(n + 32), R2(n + 16), R2(n + 48)
#define R6(n) R4(n), R4(n + 8), R4(n + 4), R4(n + 12)
static const uint8_t rev8[256] = {R6(0), R6(2), R6(1), R6(3)}; /* a byte's bits reversed */
#undef R2
#undef R4
#undef R6

/* x's bits reversed */
static inline uint64_t rev64(uint64_t x)
{
    x = __builtin_bswap64(x);
    x = (x >> 1 & 0x5555555555555555ull) | (x & 0x5555555555555555ull) << 1;
    x = (x >> 2 & 0x3333333333333333ull) | (x & 0x3333333333333333ull) << 2;
    return (x >> 4 & 0x0F0F0F0F0F0F0F0Full) | (x & 0x0F0F0F0F0F0F0F0Full) << 4;
}

/* The correction bits of the n nonzero coefficients in corr (a zig-zag mask), taken from the
 * reader: the mask of those whose bit is 1. The bits come first to last for the coefficients from
 * the lowest; reversed, the i-th bit is bit i, and PDEP puts it on corr's i-th coefficient. */
__attribute__((target("popcnt,bmi2"))) static inline uint64_t take_ones(jp_rd *r, uint64_t corr, unsigned n)
{
    if (__builtin_expect(r->nbits < n, 0))
        RD_FILL();
    uint64_t b = r->bits;
    if (__builtin_expect(n <= 8, 1)) {
        RD_DROP(n);
        return _pdep_u64(rev8[b >> 56], corr);
    }
    if (__builtin_expect(n <= 16, 1)) { /* after a symbol the reader has 38 bits or more */
        RD_DROP(n);
        return _pdep_u64(rev8[b >> 56] | (uint64_t)rev8[b >> 48 & 0xFF] << 8, corr);
    }
    if (__builtin_expect(n <= 56, 1)) { /* a fill leaves 56 or more */
        RD_DROP(n);
        return _pdep_u64(rev64(b), corr);
    }
    uint64_t ones = 0; /* 57 to 63: a bit at a time */
    for (; corr; corr &= corr - 1) {
        if (r->nbits < 1)
            RD_FILL();
        ones |= (r->bits >> 63) ? corr & -corr : 0;
        RD_DROP(1);
    }
    return ones;
}

/* A refined block's kept slots, all at once: each kept coefficient whose correction bit is 1
 * (ones) and does not have p1 yet moves p1 away from zero (libjpeg's decode_mcu_AC_refine), and
 * each new one (newm) becomes -p1, or p1 where posm. The masks are zig-zag; lane j of a group of
 * 16 picks its slot's bit with one byte shuffle. A group past the block's slots rewrites the next
 * block's (or the padding's) unchanged. */
__attribute__((target("popcnt,bmi2,avx2"))) static inline void refine_apply(const jp_comp *pc, int16_t *cf,
                                                                              uint64_t ones, uint64_t newm,
                                                                              uint64_t posm, int p1)
{
    const __m256i O = _mm256_set1_epi64x((long long)ones), N = _mm256_set1_epi64x((long long)newm);
    const __m256i G = _mm256_set1_epi64x((long long)posm), P1 = _mm256_set1_epi16((short)p1);
    const __m256i P2 = _mm256_set1_epi16((short)(2 * p1)); /* p1 is at most 1 << 13 */
    const __m256i Z = _mm256_setzero_si256();
    for (int j = 0; j < pc->nchunk; j++) {
        const __m256i ctl = _mm256_loadu_si256((const __m256i *)(pc->zctl + 32 * j));
        const __m256i bit = _mm256_loadu_si256((const __m256i *)(pc->zbit + 16 * j));
        __m256i v = _mm256_loadu_si256((const __m256i *)(cf + 16 * j));
        __m256i so = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_shuffle_epi8(O, ctl), bit), bit);
        __m256i sn = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_shuffle_epi8(N, ctl), bit), bit);
        __m256i sg = _mm256_cmpeq_epi16(_mm256_and_si256(_mm256_shuffle_epi8(G, ctl), bit), bit);
        __m256i sv = _mm256_srai_epi16(v, 15);
        __m256i d = _mm256_sub_epi16(_mm256_xor_si256(P1, sv), sv); /* v >= 0 ? p1 : -p1 */
        __m256i lack = _mm256_cmpeq_epi16(_mm256_and_si256(v, P1), Z);
        v = _mm256_add_epi16(v, _mm256_and_si256(d, _mm256_and_si256(so, lack)));
        __m256i nv = _mm256_sub_epi16(_mm256_and_si256(sg, P2), P1); /* posm ? p1 : -p1 */
        v = _mm256_blendv_epi8(v, nv, sn);
        _mm256_storeu_si256((__m256i *)(cf + 16 * j), v);
    }
}

/* ac_refine with BMI2 and AVX2: the symbols leave the block's changes in three masks (corrections
 * that are 1, new coefficients, the positive ones) and refine_apply stores them once, with no
 * branch per coefficient and no store in the symbol loop. The position is a mask too (from: the
 * band's coefficients not yet passed), so a symbol's run needs no bit index: PDEP finds the zero
 * it ends on, the bits below that zero bound the corrections. */
__attribute__((target("popcnt,bmi2,avx2"))) static inline int ac_refine_x86(jprog *P, jp_rd *r, const jp_comp *pc,
                                                                              const jp_huff *h, uint64_t *nzp,
                                                                              int16_t *cf, bool in, int Ss, int Se,
                                                                              int Al)
{
    const uint64_t band = span(Ss, Se);
    const uint64_t past = 1ull << (Se < 63 ? Se + 1 : 63); /* where a run past Se puts its coefficient */
    uint64_t nz = *nzp, ones = 0, newm = 0, posm = 0, from = band;
    if (r->eobrun == 0) {
        while (from) {
            int run, s, rc = refine_symbol(P, r, h, &run, &s);
            if (rc != THUMB_OK)
                return rc;
            if (s < 0)
                break;
            uint64_t pos = (uint64_t)(s >> 1);
            s &= 1;
            /* the run-th zero from here (0 when there are not that many: the rest of the band) */
            uint64_t zero = _pdep_u64(1ull << run, ~nz & from);
            uint64_t corr = nz & from & (zero - 1); /* from is within the band */
            ones |= take_ones(r, corr, (unsigned)__builtin_popcountll(corr));
            if (s) {
                uint64_t bit = zero ? zero : past;
                nz |= bit;
                newm |= bit;
                posm |= bit & -pos;
            }
            from = -(zero << 1) & band; /* past the zero; none when it was the band's last or absent */
        }
    }
    if (r->eobrun > 0) {
        uint64_t corr = nz & from;
        if (corr) /* none in about half the blocks of an EOB run */
            ones |= take_ones(r, corr, (unsigned)__builtin_popcountll(corr));
        r->eobrun--;
    }
    *nzp = nz;
    if (in)
        refine_apply(pc, cf, ones, newm, posm, 1 << Al);
    return THUMB_OK;
}
#endif

JP_INLINE int ac_refine(jprog *P, jp_rd *r, const jp_comp *pc, const jp_huff *h, uint64_t *nzp, int16_t *cf,
                        uint64_t keptz, int Ss, int Se, int Al, bool bmi2)
{
    int p1 = 1 << Al, m1 = (int)(-1u << Al);
    uint64_t nz = *nzp;
    int k = Ss;
    if (r->eobrun == 0) {
        for (; k <= Se; k++) {
            int run, s, rc = refine_symbol(P, r, h, &run, &s);
            if (rc != THUMB_OK)
                return rc;
            if (s < 0)
                break;
            if (s)
                s = s >> 1 ? p1 : m1;
            /* the run-th zero at or after k (0-based), or past Se when there are not that many */
            uint64_t zeros = ~nz & span(k, Se);
#if defined(__x86_64__) || defined(__i386__)
            if (bmi2)
                zeros = nth_bit(zeros, run);
            else
#endif
                for (int i = 0; i < run && zeros; i++)
                    zeros &= zeros - 1;
            int t = zeros ? __builtin_ctzll(zeros) : Se + 1;
            uint64_t corr = nz & span(k, t - 1); /* 0 when t == k (k >= 1 in an AC scan) */
            /* [k, t) holds run zeros and the rest nonzero: the count without a popcount on the
             * reader's path */
            unsigned n = zeros ? (unsigned)(t - k - run) : (unsigned)__builtin_popcountll(corr);
            corrections(pc, cf, corr, n, corr & keptz, p1, m1, r);
            k = t;
            if (s) {
                int z = k > 63 ? 63 : k;
                nz |= 1ull << z;
                cf[pc->wslot[z]] = (int16_t)s;
            }
        }
    }
    if (r->eobrun > 0) {
        if (k <= Se) {
            uint64_t corr = nz & span(k, Se);
            corrections(pc, cf, corr, (unsigned)__builtin_popcountll(corr), corr & keptz, p1, m1, r);
        }
        r->eobrun--;
    }
    *nzp = nz;
    return THUMB_OK;
}

/* Skip the entropy data to the next marker that is not a restart marker */
static void skip_scan(jdfast *f)
{
    for (;;) {
        thumb__jd_skip_to_marker(f);
        if (f->eof || f->marker < 0xD0 || f->marker > 0xD7)
            return;
        f->marker = 0;
    }
}

/* Before a unit of the scan (an MCU, or a run of blocks): the restart when one is due, more
 * data when little is left */
JP_INLINE int unit_begin(jprog *P, jp_rd *rd)
{
    jdfast *f = P->f;
    if (f->restart_interval && f->restarts_to_go == 0) {
        f->p = rd->p;
        f->bits = rd->bits;
        f->nbits = rd->nbits;
        int rc = thumb__jd_restart(f);
        if (rc != THUMB_OK)
            return rc;
        rd->p = f->p;
        rd->bits = f->bits;
        rd->nbits = f->nbits;
        rd->eobrun = 0;
    }
    if (!f->marker && !f->eof && (size_t)(f->q + f->qlen - rd->p) < JD_MCU_BYTES) {
        f->p = rd->p;
        thumb__jd_refill(f);
        rd->p = f->p;
    }
    return THUMB_OK;
}

/* After a decoded unit: data cut short (libjpeg's "premature end of data segment"), bad codes */
JP_INLINE int unit_end(jprog *P, jp_rd *rd)
{
    jdfast *f = P->f;
    int rc = THUMB_OK;
    if ((f->marker || f->eof) && !f->insufficient && bit_pos(f, rd->p, rd->nbits) > (int64_t)f->qlen * 8) {
        f->p = rd->p;
        f->bits = rd->bits;
        f->nbits = rd->nbits;
        if ((rc = thumb__jd_ran_out(f)) != THUMB_OK)
            return rc;
    }
    if (rd->bad) {
        rd->bad = false;
        rc = thumb__jd_warn(f, "bad Huffman code");
    }
    return rc;
}

/* A DC first scan's block: the difference (from jdfast's one-step table when its code and bits
 * fit in JD_FB bits), the prediction, the value at Al into cf[0] */
JP_INLINE int dc_first(jprog *P, jp_rd *r, int *predp, const jp_huff *h, int16_t *cf, int Al)
{
    RD_FILL();
    int diff;
    uint32_t e = h->t.fast[r->bits >> (64 - JD_FB)];
    if (__builtin_expect(!(e & JD_SLOW), 1)) {
        RD_DROP(e & 63);
        diff = (int16_t)(e >> 16);
    } else {
        int len, s = symbol(h, r->bits, &len, &r->bad); /* DC symbols are at most 15 (jdfast's table check) */
        RD_DROP(len);
        uint32_t v = (uint32_t)((r->bits >> 1) >> (63 - s));
        RD_DROP(s);
        diff = (int)v - (v < ((1u << s) >> 1) ? (int)(1u << s) - 1 : 0); /* HUFF_EXTEND, 0 for s = 0 */
    }
    int pred;
    if (__builtin_add_overflow(*predp, diff, &pred))
        return thumb__jd_fail(P->f, THUMB_ECORRUPT, "jpeg: %s", "DC coefficient out of range");
    *predp = pred;
    cf[0] = (int16_t)(uint16_t)((unsigned)pred << Al);
    return THUMB_OK;
}

/* A DC scan: MCUs of every component in it (or the blocks of its one component). The blocks of an
 * MCU are listed once, and per MCU row each block's run of kept MCUs; a block outside the crop is
 * decoded into a scratch slot. NB, when not 0, is the count of blocks an MCU (a constant the loops
 * unroll over). The reader and the predictions are local copies here. */
JP_INLINE int scan_dc_body(jprog *P, jp_rd *rd, bool refine, int NB)
{
    j_decompress_ptr c = P->c;
    jdfast *f = P->f;
    int n = c->comps_in_scan, nb = 0;
    struct {
        const jp_comp *pc;
        const jp_huff *h;
        int comp;                /* the component's place in the scan */
        uint32_t hs, xx, yy;     /* the component's blocks across an MCU, this block's place among them */
    } blk[JD_MAX_BLOCKS];
    for (int i = 0; i < n; i++) {
        jpeg_component_info *ci = c->cur_comp_info[i];
        uint32_t hs = n == 1 ? 1 : (uint32_t)ci->h_samp_factor, vs = n == 1 ? 1 : (uint32_t)ci->v_samp_factor;
        for (uint32_t yy = 0; yy < vs; yy++)
            for (uint32_t xx = 0; xx < hs && nb < JD_MAX_BLOCKS; xx++) {
                blk[nb].pc = &P->comp[ci->component_index];
                blk[nb].h = &P->huff[ci->dc_tbl_no & 3];
                blk[nb].comp = i;
                blk[nb].hs = hs;
                blk[nb].xx = xx;
                blk[nb].yy = yy;
                nb++;
            }
    }
    if (NB)
        nb = NB;
    uint32_t mcux, mcuy, vsz[JD_MAX_BLOCKS];
    for (int b = 0; b < nb; b++)
        vsz[b] = n == 1 ? 1 : (uint32_t)c->cur_comp_info[blk[b].comp]->v_samp_factor;
    if (n == 1) {
        mcux = blk[0].pc->wb;
        mcuy = blk[0].pc->hb;
    } else {
        mcux = (c->image_width + 8u * (uint32_t)c->max_h_samp_factor - 1) / (8u * (uint32_t)c->max_h_samp_factor);
        mcuy = (c->image_height + 8u * (uint32_t)c->max_v_samp_factor - 1) / (8u * (uint32_t)c->max_v_samp_factor);
    }
    int Al = c->Al, rc = THUMB_OK;
    int pred[4] = {0, 0, 0, 0};
    for (int i = 0; i < n && i < 4; i++)
        pred[i] = f->comp[c->cur_comp_info[i]->component_index].dc_pred;
    int16_t scratch[1];
    jp_rd rl = *rd, *r = &rl;
    for (uint32_t my = 0; my < mcuy && rc == THUMB_OK; my++) {
        int16_t *base[JD_MAX_BLOCKS];  /* block b's slots in MCU column lo[b] */
        uint32_t lo[JD_MAX_BLOCKS], cnt[JD_MAX_BLOCKS]; /* MCU columns [lo, lo + cnt) hold a kept block */
        size_t step[JD_MAX_BLOCKS];
        for (int b = 0; b < nb; b++) {
            const jp_comp *pc = blk[b].pc;
            uint32_t by = my * vsz[b] + blk[b].yy, hs = blk[b].hs, xx = blk[b].xx;
            lo[b] = cnt[b] = 0;
            base[b] = scratch;
            step[b] = (size_t)hs * (size_t)pc->KS;
            if (by >= pc->by0 && by < pc->by1 && pc->bx1 > pc->bx0) {
                uint32_t m0 = pc->bx0 > xx ? (pc->bx0 - xx + hs - 1) / hs : 0;
                uint32_t m1 = pc->bx1 > xx ? (pc->bx1 - xx + hs - 1) / hs : 0;
                if (m1 > m0) {
                    lo[b] = m0;
                    cnt[b] = m1 - m0;
                    base[b] = pc->coef + ((size_t)(by - pc->by0) * (pc->bx1 - pc->bx0) + (m0 * hs + xx - pc->bx0)) *
                                             (size_t)pc->KS;
                }
            }
        }
        for (uint32_t mx = 0; mx < mcux; mx++) {
            if (f->restart_interval && f->restarts_to_go == 0) {
                if ((rc = unit_begin(P, r)) != THUMB_OK)
                    break;
                for (int i = 0; i < n && i < 4; i++) /* the restart set them to 0 */
                    pred[i] = f->comp[c->cur_comp_info[i]->component_index].dc_pred;
            } else if ((rc = unit_begin(P, r)) != THUMB_OK) {
                break;
            }
            if (f->restart_interval)
                f->restarts_to_go--;
            if (f->insufficient)
                continue;
            if (refine && r->nbits < (unsigned)nb)
                RD_FILL();
            for (int b = 0; b < nb; b++) {
                uint32_t i = mx - lo[b];
                int16_t *cf = i < cnt[b] ? base[b] + i * step[b] : scratch;
                if (refine) {
                    cf[0] = (int16_t)(cf[0] | (int)(r->bits >> (63 - b) & 1) << Al);
                } else if ((rc = dc_first(P, r, &pred[blk[b].comp & 3], blk[b].h, cf, Al)) != THUMB_OK) {
                    break;
                }
            }
            if (refine)
                RD_DROP(nb);
            if (rc != THUMB_OK || (rc = unit_end(P, r)) != THUMB_OK)
                break;
        }
    }
    for (int i = 0; i < n && i < 4; i++)
        f->comp[c->cur_comp_info[i]->component_index].dc_pred = pred[i];
    *rd = rl;
    return rc;
}

static int scan_dc(jprog *P, jp_rd *rd)
{
    bool refine = P->c->Ah != 0;
    int nb = 0;
    for (int i = 0; i < P->c->comps_in_scan; i++)
        nb += P->c->comps_in_scan == 1 ? 1
                                       : P->c->cur_comp_info[i]->h_samp_factor * P->c->cur_comp_info[i]->v_samp_factor;
    switch (nb) { /* the layouts photos have, unrolled: 4:2:0, 4:2:2 and 4:4:4, one component */
    case 6:
        return refine ? scan_dc_body(P, rd, true, 6) : scan_dc_body(P, rd, false, 6);
    case 4:
        return refine ? scan_dc_body(P, rd, true, 4) : scan_dc_body(P, rd, false, 4);
    case 3:
        return refine ? scan_dc_body(P, rd, true, 3) : scan_dc_body(P, rd, false, 3);
    case 1:
        return refine ? scan_dc_body(P, rd, true, 1) : scan_dc_body(P, rd, false, 1);
    default:
        return refine ? scan_dc_body(P, rd, true, 0) : scan_dc_body(P, rd, false, 0);
    }
}

/* An AC scan (one component, a block an MCU). Runs of blocks an EOB run covers (first scans) or
 * that come after data cut short are passed at once. The reader is a local copy of *rd here. */
JP_INLINE int scan_ac_body(jprog *P, jp_rd *rd, bool bmi2)
{
    j_decompress_ptr c = P->c;
    jdfast *f = P->f;
    const jpeg_component_info *ci = c->cur_comp_info[0];
    const jp_comp *pc = &P->comp[ci->component_index];
    const jp_huff *h = &P->huff[ci->ac_tbl_no & 3];
    int Ss = c->Ss, Se = c->Se, Al = c->Al;
    bool refine = c->Ah != 0;
    uint32_t nbx = pc->bx1 - pc->bx0;
    int16_t scratch[65]; /* the slots of a block outside the crop */
    jp_rd r = *rd;
    int rc = THUMB_OK;
    /* Blocks that need no unit checks: with no restart interval, no marker or end of input seen and
     * more data in the buffer than they can take (JD_BLOCK_BYTES a block, the reader's 8 bytes
     * ahead), they need no refill and cannot run out. */
    uint32_t budget = 0;
    for (uint32_t by = 0; by < pc->hb && rc == THUMB_OK; by++) {
        uint64_t *nzrow = pc->nz + (size_t)by * pc->wb;
        /* block bx's slots at cfrow + (bx - bx0) * KS when bx - bx0 < nbx */
        int16_t *cfrow = by >= pc->by0 && by < pc->by1 ? pc->coef + (size_t)(by - pc->by0) * nbx * (size_t)pc->KS : NULL;
        for (uint32_t bx = 0; bx < pc->wb;) {
            uint32_t n = 1;
            if (budget && !refine && r.eobrun) { /* an EOB run from the row before */
                n = r.eobrun < pc->wb - bx ? r.eobrun : pc->wb - bx;
                r.eobrun -= n;
                bx += n;
                continue;
            }
            if (!budget) {
                if ((rc = unit_begin(P, &r)) != THUMB_OK)
                    break;
                size_t ahead = (size_t)(f->q + f->qlen - r.p);
                if (!f->restart_interval && !f->marker && !f->eof && !f->insufficient &&
                    r.p <= f->q + f->qlen && ahead >= JD_BLOCK_BYTES + 8)
                    budget = (uint32_t)((ahead - 8) / JD_BLOCK_BYTES);
                if (f->insufficient || (!refine && r.eobrun)) {
                    n = pc->wb - bx;
                    if (f->restart_interval && n > f->restarts_to_go)
                        n = f->restarts_to_go;
                    if (!f->insufficient) {
                        if (n > r.eobrun)
                            n = r.eobrun;
                        r.eobrun -= n;
                    }
                    if (f->restart_interval)
                        f->restarts_to_go -= n;
                    bx += n;
                    continue;
                }
            }
            bool in = cfrow && bx - pc->bx0 < nbx;
            int16_t *cf = in ? cfrow + (size_t)(bx - pc->bx0) * (size_t)pc->KS : scratch;
            if (refine) {
#if defined(__x86_64__) || defined(__i386__)
                if (bmi2)
                    rc = ac_refine_x86(P, &r, pc, h, nzrow + bx, cf, in, Ss, Se, Al);
                else
#endif
                    rc = ac_refine(P, &r, pc, h, nzrow + bx, cf, in ? pc->keptz : 0, Ss, Se, Al, bmi2);
                if (rc != THUMB_OK)
                    break;
            } else {
                ac_first(&r, pc, h, nzrow + bx, cf, Ss, Se, Al);
            }
            bx++;
            if (budget) {
                budget--;
                if (r.bad) {
                    r.bad = false;
                    if ((rc = thumb__jd_warn(f, "bad Huffman code")) != THUMB_OK)
                        break;
                }
                if (!refine && r.eobrun) { /* the blocks of an EOB run take no data */
                    uint32_t k = r.eobrun < pc->wb - bx ? r.eobrun : pc->wb - bx;
                    r.eobrun -= k;
                    bx += k;
                }
            } else {
                if ((rc = unit_end(P, &r)) != THUMB_OK)
                    break;
                if (f->restart_interval)
                    f->restarts_to_go--;
            }
        }
    }
    *rd = r;
    return rc;
}

static int scan_ac(jprog *P, jp_rd *rd)
{
    return scan_ac_body(P, rd, false);
}

#if defined(__x86_64__) || defined(__i386__)
/* The same with POPCNT, BMI2 (PDEP, shifts) and AVX2 (refine_apply), taken with the AVX2 kernels as
 * jdfast's BMI2 build */
__attribute__((target("popcnt,bmi2,avx2"))) static int scan_ac_x86(jprog *P, jp_rd *rd)
{
    return scan_ac_body(P, rd, true);
}
#endif

/* Decode the scan c describes (scan_start done), up to the marker after it */
static int scan_decode(jprog *P)
{
    jdfast *f = P->f;
    jp_rd rd = {f->p, f->bits, f->nbits, 0, false};
    int rc = P->c->Ss == 0 ? scan_dc(P, &rd) : P->scan_ac(P, &rd);
    if (rc != THUMB_OK)
        return rc;
    f->p = rd.p;
    f->bits = rd.bits;
    f->nbits = rd.nbits;
    /* whole bytes left before the next marker are extraneous data, as libjpeg's next_marker says */
    if (!f->marker && !f->eof && (size_t)(f->q + f->qlen - f->p) < JD_MCU_BYTES)
        thumb__jd_refill(f);
    int64_t pos = bit_pos(f, f->p, f->nbits);
    int64_t used = pos > 0 ? (pos + 7) / 8 : 0;
    bool extra = !f->marker || used < (int64_t)f->qlen;
    thumb__jd_skip_to_marker(f);
    if (f->eof)
        return thumb__jd_fail(f, THUMB_ETRUNCATED, "jpeg: %s", "the input ends inside the image data");
    if (extra && (rc = thumb__jd_warn(f, "extraneous bytes before a marker")) != THUMB_OK)
        return rc;
    return THUMB_OK;
}

/* Does the scan carry a coefficient this decode keeps? (AC scans of a DC-only component do not.) */
static bool scan_wanted(const jprog *P)
{
    j_decompress_ptr c = P->c;
    if (c->Ss == 0)
        return true;
    return P->comp[c->cur_comp_info[0]->component_index].K > 1;
}

/* Every scan to EOI */
static int decode_all(jprog *P)
{
    j_decompress_ptr c = P->c;
    jdfast *f = P->f;
    for (;;) {
        int rc = scan_start(P);
        if (rc != THUMB_OK)
            return rc;
        if (scan_wanted(P)) {
            if ((rc = scan_decode(P)) != THUMB_OK)
                return rc;
        } else {
            skip_scan(f);
            if (f->eof)
                return thumb__jd_fail(f, THUMB_ETRUNCATED, "jpeg: %s", "the input ends inside the image data");
        }
        /* libjpeg's marker reader takes it from the marker that ended the data */
        c->unread_marker = f->marker;
        f->marker = 0;
        *P->lim->quiet_eof = false;
        int got = (*c->marker->read_markers)(c);
        *P->lim->quiet_eof = true;
        if (got == JPEG_REACHED_EOI)
            break;
        if (got != JPEG_REACHED_SOS)
            return thumb__jd_fail(f, THUMB_ETRUNCATED, "jpeg: %s", "the input ends between scans");
    }
    for (int i = 0; i < P->ncomp; i++)
        for (int k = 0; k < 64; k++)
            if (P->comp[i].bits[k] != 0)
                return thumb__jd_fail(f, THUMB_ETRUNCATED, "jpeg: %s",
                                      "progressive scans end before every coefficient is complete");
    return THUMB_OK;
}

/* ---------------------------------------------------------------- output */

/* A kept block's slots into its 8x8 block (natural order, zeros elsewhere) */
static void expand(const jp_comp *pc, const int16_t *cf, int16_t *blk)
{
    for (int j = 0; j < pc->K; j++)
        blk[pc->nat[j]] = cf[j];
}

#if defined(__x86_64__) || defined(__i386__)
/* The same a row at a time: at 2/8 a kept row is 5 slots (columns 0, 1, 3, 5, 7), at 4/8 7
 * (all but column 4), spread by one shuffle; the loads read at most 3 slots past the block's
 * (the store has 64 bytes of padding) */
__attribute__((target("ssse3"))) static void expand_ssse3(const jp_comp *pc, const int16_t *cf, int16_t *blk)
{
    if (pc->s == 2) {
        const __m128i sh = _mm_setr_epi8(0, 1, 2, 3, -1, -1, 4, 5, -1, -1, 6, 7, -1, -1, 8, 9);
        static const uint8_t rows[5] = {0, 1, 3, 5, 7};
        for (int i = 0; i < 5; i++)
            _mm_storeu_si128((__m128i *)(blk + 8 * rows[i]),
                             _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(cf + 5 * i)), sh));
    } else if (pc->s == 4) {
        const __m128i sh = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, -1, -1, 8, 9, 10, 11, 12, 13);
        static const uint8_t rows[7] = {0, 1, 2, 3, 5, 6, 7};
        for (int i = 0; i < 7; i++)
            _mm_storeu_si128((__m128i *)(blk + 8 * rows[i]),
                             _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(cf + 7 * i)), sh));
    } else if (pc->s == 8) {
        memcpy(blk, cf, 64 * sizeof *cf);
    } else {
        expand(pc, cf, blk);
    }
}
#endif

/* jdfast's decode_row: MCU row f->mcu_row's kept coefficients into jdfast's blocks, then its
 * IDCTs and planes */
static int prog_row(jdfast *f, bool out)
{
    jprog *P = f->prog;
    if (out && P->mx1 > P->mx0) {
        for (uint32_t mx0 = P->mx0; mx0 < P->mx1; mx0 += JD_BATCH) {
            uint32_t n = P->mx1 - mx0 < JD_BATCH ? P->mx1 - mx0 : JD_BATCH;
            for (int b = 0; b < f->blocks; b++) {
                int ci = f->blk_comp[b];
                const jp_comp *pc = &P->comp[ci];
                uint32_t h = (uint32_t)f->comp[ci].h;
                uint32_t by = f->mcu_row * (uint32_t)f->comp[ci].v + (uint32_t)f->blk_y[b];
                /* MCUs [m0, m1) of the batch hold a kept block: bx = (mx0 + m) * h + blk_x in [bx0, bx1) */
                uint32_t m0 = n, m1 = n;
                if (by >= pc->by0 && by < pc->by1 && pc->bx1 > pc->bx0) {
                    uint32_t x = mx0 * h + (uint32_t)f->blk_x[b]; /* block of m = 0 */
                    m0 = x >= pc->bx0 ? 0 : (pc->bx0 - x + h - 1) / h;
                    m1 = x >= pc->bx1 ? 0 : (pc->bx1 - x + h - 1) / h;
                    m1 = m1 < n ? m1 : n;
                    m0 = m0 < m1 ? m0 : m1;
                }
                bool *ac = &f->ac[b];
                for (uint32_t m = 0; m < m0; m++)
                    ac[m * JD_MAX_BLOCKS] = false;
                if (m0 < m1) {
                    uint32_t bx = (mx0 + m0) * h + (uint32_t)f->blk_x[b];
                    const int16_t *cf =
                        pc->coef + ((size_t)(by - pc->by0) * (pc->bx1 - pc->bx0) + (bx - pc->bx0)) * (size_t)pc->KS;
                    const uint64_t *nz = pc->nz ? pc->nz + (size_t)by * pc->wb + bx : NULL;
                    uint64_t acz = pc->keptz & ~1ull;
                    size_t step = (size_t)h * (size_t)pc->KS;
                    for (uint32_t m = m0; m < m1; m++, cf += step) {
                        /* every kept coefficient (a kept one is nonzero exactly when its nz bit
                         * is set): a fixed count a component, no branch per coefficient */
                        P->expand(pc, cf, f->blk[m * JD_MAX_BLOCKS + (uint32_t)b]);
                        ac[m * JD_MAX_BLOCKS] = nz && (nz[(m - m0) * h] & acz);
                    }
                }
                for (uint32_t m = m1; m < n; m++)
                    ac[m * JD_MAX_BLOCKS] = false;
            }
            thumb__jd_output_mcus(f, mx0, n, true);
        }
    }
    f->mcu_row++;
    return THUMB_OK;
}

/* ---------------------------------------------------------------- set up */

static void comp_setup(jprog *P, int i, bool half)
{
    jdfast *f = P->f;
    j_decompress_ptr c = P->c;
    jp_comp *pc = &P->comp[i];
    const jd_comp *jc = &f->comp[i];
    const jpeg_component_info *ci = &c->comp_info[i];
    int s = jc->s;
    pc->s = s;
    pc->K = 0;
    pc->keptz = 0;
    int8_t nat_slot[64]; /* slots in natural order: a kept row of a block is a run of slots */
    for (int nat = 0; nat < 64; nat++) {
        nat_slot[nat] = -1;
        if (idct_reads(s, nat)) {
            nat_slot[nat] = (int8_t)pc->K;
            pc->nat[pc->K++] = (uint8_t)nat;
        }
    }
    for (int k = 0; k < 64; k++) {
        pc->slot[k] = nat_slot[thumb__jd_zz_nat[k]];
        if (pc->slot[k] >= 0)
            pc->keptz |= 1ull << k;
        pc->bits[k] = -1;
    }
    pc->KS = pc->K > 1 ? pc->K + 1 : pc->K;
    pc->nchunk = (pc->K + 15) / 16;
    for (int j = 0; j < 64; j++) {
        pc->zctl[2 * j] = pc->zctl[2 * j + 1] = 0x80; /* a pshufb index that gives 0 */
        pc->zbit[j] = 0x100;
    }
    for (int k = 0; k < 64; k++)
        if (pc->slot[k] >= 0) {
            pc->zctl[2 * pc->slot[k]] = (uint8_t)(k >> 3);
            pc->zbit[pc->slot[k]] = (uint16_t)(1u << (k & 7));
        }
    for (int k = 0; k < 64; k++)
        pc->wslot[k] = (uint8_t)(pc->slot[k] >= 0 ? pc->slot[k] : pc->K);
    pc->wb = ci->width_in_blocks;
    pc->hb = ci->height_in_blocks;
    uint32_t wy0 = f->y0, wy1 = f->y1;
    if (half && i > 0) {
        wy0 = f->cy0;
        wy1 = f->cy1;
    }
    pc->bx0 = jc->bx_lo;
    pc->bx1 = jc->bx_hi + 1;
    pc->by0 = wy0 / (uint32_t)s;
    pc->by1 = (wy1 - 1) / (uint32_t)s + 1;
    if (pc->bx1 > pc->wb)
        pc->bx1 = pc->wb;
    if (pc->by1 > pc->hb)
        pc->by1 = pc->hb;
    if (pc->bx0 > pc->bx1)
        pc->bx0 = pc->bx1;
    if (pc->by0 > pc->by1)
        pc->by0 = pc->by1;
    uint64_t nb = (uint64_t)(pc->bx1 - pc->bx0) * (pc->by1 - pc->by0);
    pc->cbytes = nb * (uint64_t)pc->KS * 2;
    pc->zbytes = pc->K > 1 ? (uint64_t)pc->wb * pc->hb * 8 : 0;
    P->bytes += pc->cbytes + pc->zbytes;
}

/* The store, once every component's size is known to be within the limit: one zeroed allocation
 * (the context's kept one when it is big enough), each part a multiple of 64 bytes, each coef part with 64
 * bytes after it (expand_ssse3 reads 3 slots past a block and refine_apply rewrites up to 15,
 * unchanged) */
static int store_alloc(jprog *P)
{
    jdfast *f = P->f;
    if (P->bytes > P->lim->max_bytes)
        return thumb__jd_fail(f, THUMB_ELIMIT_MEMORY, "jpeg: %s", "progressive coefficients over the frame limit");
    size_t off[3][2], n = 0; /* within max_bytes (a size_t) plus 192 bytes a component */
    for (int i = 0; i < P->ncomp; i++) {
        jp_comp *pc = &P->comp[i];
        off[i][0] = n;
        n += pc->cbytes ? ((size_t)pc->cbytes + 64 + 63) & ~(size_t)63 : 0;
        off[i][1] = n;
        n += ((size_t)pc->zbytes + 63) & ~(size_t)63;
    }
    thumb_ctx *ctx = P->ctx;
    if (ctx && ctx->prog_store && ctx->prog_store_cap >= n) {
        P->store = ctx->prog_store;
        P->store_cap = ctx->prog_store_cap;
        ctx->prog_store = NULL;
        ctx->prog_store_cap = 0;
        memset(P->store, 0, n);
    } else {
        if (ctx) { /* never two stores at once */
            free(ctx->prog_store);
            ctx->prog_store = NULL;
            ctx->prog_store_cap = 0;
        }
        P->store_cap = n ? n : 64;
        if (!(P->store = calloc(1, P->store_cap)))
            return thumb__jd_fail(f, THUMB_ENOMEM, "jpeg: %s", "out of memory for progressive coefficients");
    }
    for (int i = 0; i < P->ncomp; i++) {
        jp_comp *pc = &P->comp[i];
        pc->coef = pc->cbytes ? (int16_t *)(void *)(P->store + off[i][0]) : NULL;
        pc->nz = pc->zbytes ? (uint64_t *)(void *)(P->store + off[i][1]) : NULL;
    }
    return THUMB_OK;
}

int thumb__jprog_start(jdfast **out, thumb_ctx *ctx, j_decompress_ptr c, uint32_t x0, uint32_t x1, uint32_t y0,
                       uint32_t y1, bool ycc, bool half, unsigned features, jdfast_warn_fn warn, void *user,
                       const jprog_limits *lim)
{
    *out = NULL;
    if (!thumb__jprog_usable(c))
        return thumb__fail(ctx, THUMB_EINVAL, "jpeg: progressive decoder cannot take this file");
    jdfast *f;
    int rc = thumb__jdfast_start_prog(&f, ctx, c, x0, x1, y0, y1, ycc, half, features, warn, user);
    if (rc != THUMB_OK)
        return rc;
    jprog *P = calloc(1, sizeof *P);
    if (!P) {
        thumb__jdfast_free(f);
        return thumb__fail(ctx, THUMB_ENOMEM, "jpeg: out of memory");
    }
    P->f = f;
    P->ctx = ctx;
    P->c = c;
    P->lim = lim;
    P->ncomp = c->num_components;
    f->prog = P;
    f->prog_free = prog_free;
    f->decode_row = prog_row;
    P->scan_ac = scan_ac;
    P->expand = expand;
#if defined(__x86_64__) || defined(__i386__)
    if (features & THUMB_CPU_AVX2) {
        P->scan_ac = scan_ac_x86;
        P->expand = expand_ssse3;
    }
#endif
    *out = f; /* the caller's from here on, also after a longjmp */
    for (int i = 0; i < P->ncomp; i++)
        comp_setup(P, i, half);
    if ((rc = store_alloc(P)) != THUMB_OK)
        return rc;
    P->mx0 = f->mcux;
    for (int i = 0; i < P->ncomp; i++) {
        const jp_comp *pc = &P->comp[i];
        uint32_t h = (uint32_t)f->comp[i].h;
        if (pc->bx1 > pc->bx0) {
            P->mx0 = pc->bx0 / h < P->mx0 ? pc->bx0 / h : P->mx0;
            P->mx1 = (pc->bx1 - 1) / h + 1 > P->mx1 ? (pc->bx1 - 1) / h + 1 : P->mx1;
        }
    }
    *lim->quiet_eof = true;
    return decode_all(P);
}

bool thumb__jprog_kept(const jdfast *f, int comp, uint32_t bx, uint32_t by, bool *kept)
{
    const jprog *P = f->prog;
    if (!P || comp < 0 || comp >= P->ncomp)
        return false;
    const jp_comp *pc = &P->comp[comp];
    for (int k = 0; k < 64; k++)
        kept[thumb__jd_zz_nat[k]] = pc->slot[k] >= 0;
    return bx >= pc->bx0 && bx < pc->bx1 && by >= pc->by0 && by < pc->by1;
}

uint64_t thumb__jprog_bytes(const jdfast *f)
{
    return f && f->prog ? ((const jprog *)f->prog)->bytes : 0;
}
