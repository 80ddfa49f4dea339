/* Colour management: embedded ICC profiles (and PNG gAMA/cHRM) to sRGB with lcms2.
 *
 * Where the conversion runs (measured with bench/bench_colour.c and tests/test_colour.c):
 *  - CMYK JPEGs with a profile: always per decoded row (4 channels of ink cannot go through
 *    the resampler, which treats a fourth channel as alpha).
 *  - RGB and grey: per decoded row when the decoded window is at most PER_ROW_MAX_PIXELS,
 *    else on the resized output. Converting before resampling is the reference order (what
 *    a float pipeline does; libvips also converts after shrink-on-load, before resize);
 *    converting the output resamples non-linear, gamut-clipped values in the source space.
 *    Figures, 2-core machine under load (load average ~6), Release, scalar resampler:
 *      - PSNR between the two placements: 55.3 dB on the avatar photo with a Display P3
 *        profile (2725x2225 -> 512x512 cover), 39.1 dB on a synthetic P3 picture with
 *        saturated hard edges (1024x768 -> 300x225): visible-edge territory.
 *      - Avatar job, median of 21 interleaved runs, ms per op: untagged 80.1; P3 per
 *        decoded row 102.4 (+22.2); P3 on the output 100.4 (+20.3). The DCT scale already
 *        brings the decode to 681x556, so per-row converts 1.4x the output's pixels and
 *        costs ~2 ms more; most of the overhead is fixed: cmsCreateTransform ~4.4 ms
 *        (lcms2 optimising the pipeline) and ~5 ms per 512x512 of 8-bit matrix-shaper.
 *    So per-row wins on accuracy for a small price when the decoder has already shrunk the
 *    image; a 12-Mpixel PNG (no DCT scale) would pay ~4x the output's pixel count, so large
 *    windows fall back to the output.
 * Profiles that are already sRGB are recognised from their colorants and tone curves (a
 * few tag reads, no transform), and nothing runs. A profile that cannot be parsed, or that
 * does not match the pixels (an RGB profile on a grey image...), is ignored: an upload is
 * not rejected for its metadata (THUMB_EICC is never returned). */
#include "internal.h"

#include <lcms2.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Above this many decoded pixels, RGB/grey are converted on the output instead. */
#define PER_ROW_MAX_PIXELS (2u << 20)

struct tcolour {
    int cached;    /* owned by a thumb_ctx's cache: thumb__colour_free leaves it alone */
    cmsContext lc; /* our own lcms2 context: see colour_context() */
    cmsHTRANSFORM xf;  /* NULL for grey: lut instead */
    int stage;
    int in_ch, out_ch;
    uint8_t lut[256];  /* grey: the transform evaluated in float for every 8-bit value */
    /* RGB matrix/TRC profiles (Display P3, Adobe RGB, gAMA/cHRM): our own integer path,
     * used when ms is set, instead of lcms2's 8-bit transform (4x slower here). */
    struct ms_path *ms;
};

#define MS_ONE 16384 /* linear light in Q14 */
struct ms_path {
    int32_t m[3][3];            /* source RGB -> sRGB linear, Q14 */
    uint16_t lin[3][256];       /* 8-bit source value -> linear light, 0..MS_ONE */
    uint8_t enc[MS_ONE + 1];    /* linear light -> 8-bit sRGB */
};

/* lcms2 2.14 is thread-safe for distinct transforms, but its default (NULL) context is
 * process-wide: another library in the same process (libvips, Pillow...) may install
 * plugins or an error handler there, and a plugin changes our results. A context of our
 * own starts from lcms2's built-in defaults and is used by one thread only. It costs one
 * small allocation next to the transform (the built-in tables are shared, not copied). */
static cmsContext colour_context(void) { return cmsCreateContext(NULL, NULL); }

/* sRGB colorants adapted to D50, as every v2/v4 sRGB profile stores them. */
static const double srgb_colorants[3][3] = {
    {0.4361, 0.2225, 0.0139}, /* red   X Y Z */
    {0.3851, 0.7169, 0.0971}, /* green */
    {0.1431, 0.0606, 0.7141}, /* blue  */
};

static double srgb_eotf(double v) {
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

/* Within 0.6/255 of the sRGB curve everywhere sampled: real sRGB profiles store it as a
 * parametric curve or a 1024/4096-entry table and pass; a plain gamma 2.2 is 1/255 off
 * near 0.2 and does not. */
static int curve_is_srgb(const cmsToneCurve *c) {
    if (!c) return 0;
    for (int i = 0; i <= 255; i += 5) {
        double v = i / 255.0;
        double d = fabs(cmsEvalToneCurveFloat(c, (cmsFloat32Number)v) - srgb_eotf(v));
        if (d > 0.6 / 255.0) return 0;
    }
    return 1;
}

static int profile_is_srgb(cmsHPROFILE p) {
    if (cmsGetColorSpace(p) != cmsSigRgbData || !cmsIsMatrixShaper(p)) return 0;
    static const cmsTagSignature col[3] = {cmsSigRedColorantTag, cmsSigGreenColorantTag, cmsSigBlueColorantTag};
    static const cmsTagSignature trc[3] = {cmsSigRedTRCTag, cmsSigGreenTRCTag, cmsSigBlueTRCTag};
    for (int i = 0; i < 3; i++) {
        const cmsCIEXYZ *xyz = cmsReadTag(p, col[i]);
        if (!xyz) return 0;
        if (fabs(xyz->X - srgb_colorants[i][0]) > 0.003 || fabs(xyz->Y - srgb_colorants[i][1]) > 0.003 ||
            fabs(xyz->Z - srgb_colorants[i][2]) > 0.003)
            return 0;
        if (!curve_is_srgb(cmsReadTag(p, trc[i]))) return 0;
    }
    return 1;
}

static int grey_is_srgb(cmsHPROFILE p) {
    return cmsIsTag(p, cmsSigGrayTRCTag) && !cmsIsTag(p, cmsSigAToB0Tag) && curve_is_srgb(cmsReadTag(p, cmsSigGrayTRCTag));
}

int thumb__icc_is_srgb(const uint8_t *icc, size_t len) {
    if (!icc || len < 132 || len > UINT32_MAX) return -1;
    cmsContext lc = colour_context();
    if (!lc) return -1;
    cmsHPROFILE p = cmsOpenProfileFromMemTHR(lc, icc, (cmsUInt32Number)len);
    int r = p ? profile_is_srgb(p) : -1;
    if (p) cmsCloseProfile(p);
    cmsDeleteContext(lc);
    return r;
}

static cmsToneCurve *srgb_curve(cmsContext lc) {
    /* IEC 61966-2-1 as an ICC parametric curve of type 4. */
    static const double params[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    return cmsBuildParametricToneCurve(lc, 4, params);
}

/* The destination for grey input: grey stays one channel, encoded with the sRGB curve. */
static cmsHPROFILE srgb_grey_profile(cmsContext lc) {
    cmsToneCurve *c = srgb_curve(lc);
    if (!c) return NULL;
    cmsHPROFILE p = cmsCreateGrayProfileTHR(lc, cmsD50_xyY(), c);
    cmsFreeToneCurve(c);
    return p;
}

/* cHRM values a profile can be built from: every y above 0, x + y at most 1. */
static int chrm_usable(const uint32_t c[8]) {
    for (int i = 0; i < 8; i += 2)
        if (c[i + 1] == 0 || c[i + 1] > 100000 || c[i] > 100000 || c[i] + c[i + 1] > 100000) return 0;
    return 1;
}

/* A profile for a PNG's gAMA/cHRM when it has no usable iCCP; NULL when those say sRGB
 * (an sRGB chunk, or gAMA near 1/2.2 with no cHRM or sRGB's primaries) or nothing.
 * A gamma outside [0.1, 10] or an impossible cHRM is ignored, as a viewer would. */
static cmsHPROFILE png_chunk_profile(cmsContext lc, const tdec_header *h, int grey) {
    static const uint32_t srgb_chrm[8] = {31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000};
    if (h->png_srgb) return NULL;
    uint32_t gamma = h->png_gamma >= 10000 && h->png_gamma <= 1000000 ? h->png_gamma : 0;
    int has_chrm = !grey && h->png_has_chrm && chrm_usable(h->png_chrm);
    int gamma_srgbish = !gamma || (gamma >= 45000 && gamma <= 46000);
    int chrm_srgbish = 1;
    if (has_chrm)
        for (int i = 0; i < 8; i++)
            if (abs((int)h->png_chrm[i] - (int)srgb_chrm[i]) > 1000) chrm_srgbish = 0;
    if (gamma_srgbish && chrm_srgbish) return NULL;
    /* gAMA is the encoding exponent: stored = linear^gamma, so decoding raises to 1/gamma. */
    cmsToneCurve *curve = gamma ? cmsBuildGamma(lc, 100000.0 / gamma) : srgb_curve(lc);
    if (!curve) return NULL;
    cmsHPROFILE p;
    if (grey) {
        p = cmsCreateGrayProfileTHR(lc, cmsD50_xyY(), curve);
    } else {
        const uint32_t *c = has_chrm ? h->png_chrm : srgb_chrm;
        cmsCIExyY white = {c[0] / 100000.0, c[1] / 100000.0, 1.0};
        cmsCIExyYTRIPLE prim = {{c[2] / 100000.0, c[3] / 100000.0, 1.0},
                                {c[4] / 100000.0, c[5] / 100000.0, 1.0},
                                {c[6] / 100000.0, c[7] / 100000.0, 1.0}};
        cmsToneCurve *curves[3] = {curve, curve, curve};
        p = cmsCreateRGBProfileTHR(lc, &white, &prim, curves);
    }
    cmsFreeToneCurve(curve);
    return p;
}

/* The colour space the decoded pixels are in, as an ICC signature. */
static cmsColorSpaceSignature pixel_space(const tdec_header *hdr) {
    if (hdr->is_cmyk) return cmsSigCmykData;
    return hdr->channels >= 3 ? cmsSigRgbData : cmsSigGrayData;
}

/* The embedded profile, if it describes these pixels and can convert them: an input,
 * display, output or colour-space profile of the pixels' colour space. Device links,
 * abstract and named-colour profiles, or a profile for other pixels (an RGB profile in a
 * grey JPEG, a CMYK one in an RGB file), are ignored, like unparseable ones. */
static cmsHPROFILE open_embedded(cmsContext lc, const tdec_header *hdr) {
    if (!hdr->icc || hdr->icc_len < 132) return NULL;
    cmsHPROFILE p = cmsOpenProfileFromMemTHR(lc, hdr->icc, hdr->icc_len);
    if (!p) return NULL;
    cmsProfileClassSignature cls = cmsGetDeviceClass(p);
    cmsColorSpaceSignature pcs = cmsGetPCS(p);
    if ((cls == cmsSigInputClass || cls == cmsSigDisplayClass || cls == cmsSigOutputClass ||
         cls == cmsSigColorSpaceClass) &&
        (pcs == cmsSigXYZData || pcs == cmsSigLabData) && cmsGetColorSpace(p) == pixel_space(hdr))
        return p;
    cmsCloseProfile(p);
    return NULL;
}

/* Everything the decision below depends on, hashed (FNV-1a, 64 bits). */
static uint64_t decision_key(const tdec_header *hdr) {
    uint64_t h = 0xcbf29ce484222325ull;
#define MIX(v) do { h ^= (uint64_t)(v); h *= 0x100000001b3ull; } while (0)
    for (uint32_t i = 0; i < hdr->icc_len; i++) MIX(hdr->icc[i]);
    MIX(hdr->icc_len);
    MIX(hdr->icc != NULL);
    MIX(hdr->format);
    MIX(hdr->channels);
    MIX(hdr->is_cmyk);
    MIX(hdr->png_srgb);
    MIX(hdr->png_gamma);
    MIX(hdr->png_has_chrm);
    for (int i = 0; i < 8; i++) MIX(hdr->png_chrm[i]);
#undef MIX
    return h;
}

/* Per-call part of a (possibly cached) decision: where it runs and what the decoder gives. */
static void colour_use(tcolour *c, thumb_ctx *ctx, const tdec_header *hdr, tdec_request *req) {
    /* CMYK must be converted before the resampler, which would treat ink as alpha; the
     * others per row too unless the window is large (see the top of this file). */
    uint64_t window = (uint64_t)(req->x1 - req->x0) * (req->y1 - req->y0);
    c->stage = hdr->is_cmyk || window <= PER_ROW_MAX_PIXELS ? THUMB_COLOUR_STAGE_DECODE : THUMB_COLOUR_STAGE_OUTPUT;
    if (ctx && ctx->colour_stage) thumb__colour_force_stage(c, ctx->colour_stage - 1);
    if (hdr->is_cmyk) req->raw_cmyk = 1;
}

static int colour_decide(tcolour **out, thumb_ctx *ctx, const tdec_header *hdr);

void thumb__colour_cache_clear(thumb_ctx *ctx) {
    if (!ctx) return;
    if (ctx->colour_cache) {
        ctx->colour_cache->cached = 0;
        thumb__colour_free(ctx->colour_cache);
    }
    ctx->colour_cache = NULL;
    ctx->colour_cached = 0;
}

int thumb__colour_new(tcolour **out, thumb_ctx *ctx, const thumb_options *opt, const tdec_header *hdr,
                      tdec_request *req) {
    *out = NULL;
    if (opt->colour == THUMB_COLOUR_KEEP) return THUMB_OK;
    int has_chunks = hdr->format == THUMB_FORMAT_PNG && (hdr->png_srgb || hdr->png_gamma || hdr->png_has_chrm);
    if (!hdr->icc && !has_chunks) return THUMB_OK; /* the common case: no lcms2 at all */
    uint64_t key = decision_key(hdr);
    if (ctx && ctx->colour_cached && ctx->colour_key == key) {
        if (ctx->colour_cache) {
            colour_use(ctx->colour_cache, ctx, hdr, req);
            *out = ctx->colour_cache;
        }
        return THUMB_OK;
    }
    tcolour *c = NULL;
    int rc = colour_decide(&c, ctx, hdr);
    if (rc) return rc;
    if (ctx) {
        thumb__colour_cache_clear(ctx);
        ctx->colour_cache = c;
        ctx->colour_key = key;
        ctx->colour_cached = 1;
        if (c) c->cached = 1;
    }
    if (c) colour_use(c, ctx, hdr, req);
    *out = c;
    return THUMB_OK;
}

/* Matrix/TRC source to sRGB in integers: decode each channel's curve through a table, one
 * 3x3 matrix to sRGB's linear primaries (both D50-adapted, as the profiles store them: the
 * relative colorimetric result lcms2 computes for two matrix/shaper profiles, whose black
 * points are both 0 so BPC changes nothing), clip, encode through a table. Equal to lcms2's
 * double-precision result within 2 levels (tests/test_colour.c). */
static struct ms_path *ms_build(cmsHPROFILE in, cmsHPROFILE dst) {
    static const cmsTagSignature col[3] = {cmsSigRedColorantTag, cmsSigGreenColorantTag, cmsSigBlueColorantTag};
    static const cmsTagSignature trc[3] = {cmsSigRedTRCTag, cmsSigGreenTRCTag, cmsSigBlueTRCTag};
    if (!cmsIsMatrixShaper(in) || !cmsIsMatrixShaper(dst)) return NULL;
    double S[3][3], D[3][3];  /* columns: the colorants' XYZ */
    for (int c = 0; c < 3; c++) {
        const cmsCIEXYZ *a = cmsReadTag(in, col[c]), *b = cmsReadTag(dst, col[c]);
        if (!a || !b) return NULL;
        S[0][c] = a->X; S[1][c] = a->Y; S[2][c] = a->Z;
        D[0][c] = b->X; D[1][c] = b->Y; D[2][c] = b->Z;
    }
    double det = D[0][0] * (D[1][1] * D[2][2] - D[1][2] * D[2][1]) - D[0][1] * (D[1][0] * D[2][2] - D[1][2] * D[2][0]) +
                 D[0][2] * (D[1][0] * D[2][1] - D[1][1] * D[2][0]);
    if (fabs(det) < 1e-9) return NULL;
    double I[3][3] = {
        {(D[1][1] * D[2][2] - D[1][2] * D[2][1]) / det, (D[0][2] * D[2][1] - D[0][1] * D[2][2]) / det,
         (D[0][1] * D[1][2] - D[0][2] * D[1][1]) / det},
        {(D[1][2] * D[2][0] - D[1][0] * D[2][2]) / det, (D[0][0] * D[2][2] - D[0][2] * D[2][0]) / det,
         (D[0][2] * D[1][0] - D[0][0] * D[1][2]) / det},
        {(D[1][0] * D[2][1] - D[1][1] * D[2][0]) / det, (D[0][1] * D[2][0] - D[0][0] * D[2][1]) / det,
         (D[0][0] * D[1][1] - D[0][1] * D[1][0]) / det}};
    struct ms_path *ms = malloc(sizeof *ms);
    if (!ms) return NULL;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            double v = 0;
            for (int k = 0; k < 3; k++) v += I[r][k] * S[k][c];
            if (fabs(v) > 8.0) { free(ms); return NULL; } /* no real profile is near; ms_row sums in int64 */
            ms->m[r][c] = (int32_t)lround(v * MS_ONE);
        }
    for (int c = 0; c < 3; c++) {
        const cmsToneCurve *t = cmsReadTag(in, trc[c]);
        if (!t) { free(ms); return NULL; }
        for (int i = 0; i < 256; i++) {
            double v = cmsEvalToneCurveFloat(t, (cmsFloat32Number)(i / 255.0));
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            ms->lin[c][i] = (uint16_t)lround(v * MS_ONE);
        }
    }
    for (int i = 0; i <= MS_ONE; i++) {
        double l = (double)i / MS_ONE;
        double e = l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1.0 / 2.4) - 0.055;
        ms->enc[i] = (uint8_t)lround(e * 255.0);
    }
    return ms;
}

static void ms_row(const struct ms_path *ms, const uint8_t *in, uint8_t *out, uint32_t n, int ch) {
    for (uint32_t i = 0; i < n; i++, in += ch, out += ch) {
        int32_t r = ms->lin[0][in[0]], g = ms->lin[1][in[1]], b = ms->lin[2][in[2]];
        uint8_t a = ch == 4 ? in[3] : 0;
        for (int k = 0; k < 3; k++) {
            /* |m| up to 8 in Q14 times linear light up to 1 in Q14: a product alone reaches 2^31 */
            int64_t v = ((int64_t)ms->m[k][0] * r + (int64_t)ms->m[k][1] * g + (int64_t)ms->m[k][2] * b + MS_ONE / 2) >> 14;
            out[k] = ms->enc[v < 0 ? 0 : v > MS_ONE ? MS_ONE : v];
        }
        if (ch == 4) out[3] = a;
    }
}

/* Parse the profile (or PNG chunks) and build the transform; *out NULL when none is needed. */
static int colour_decide(tcolour **out, thumb_ctx *ctx, const tdec_header *hdr) {
    *out = NULL;

    cmsContext lc = colour_context();
    if (!lc) return thumb__fail(ctx, THUMB_ENOMEM, "lcms2: out of memory for a context");
    int grey = !hdr->is_cmyk && hdr->channels <= 2;
    cmsHPROFILE in = open_embedded(lc, hdr), dst = NULL;
    cmsHTRANSFORM xf = NULL;
    if (in && (grey ? grey_is_srgb(in) : profile_is_srgb(in))) goto none;
    if (!in && hdr->format == THUMB_FORMAT_PNG) in = png_chunk_profile(lc, hdr, grey);
    if (!in) goto none;

    int in_ch = hdr->is_cmyk ? 4 : hdr->channels, out_ch = hdr->is_cmyk ? 3 : hdr->channels;
    cmsUInt32Number in_fmt, out_fmt;
    switch (in_ch) {
    case 1: in_fmt = out_fmt = TYPE_GRAY_8; break;
    case 2: in_fmt = out_fmt = TYPE_GRAYA_8; break;
    case 3: in_fmt = out_fmt = TYPE_RGB_8; break;
    default:
        in_fmt = hdr->is_cmyk ? TYPE_CMYK_8 : TYPE_RGBA_8;
        out_fmt = hdr->is_cmyk ? TYPE_RGB_8 : TYPE_RGBA_8;
        break;
    }
    dst = grey ? srgb_grey_profile(lc) : cmsCreate_sRGBProfileTHR(lc);
    if (!dst) {
        cmsCloseProfile(in);
        cmsDeleteContext(lc);
        return thumb__fail(ctx, THUMB_ENOMEM, "lcms2: cannot build the sRGB profile");
    }
    /* A profile with a perceptual table (press CMYK, camera and LUT-based RGB) was made to
     * be rendered through it; matrix-shaper profiles (Display P3, Adobe RGB, gamma/cHRM)
     * have only colorimetry, so relative colorimetric, with black point compensation so a
     * press profile's paper-ink black maps to sRGB black instead of a lifted grey. */
    cmsUInt32Number intent = cmsIsCLUT(in, INTENT_PERCEPTUAL, LCMS_USED_AS_INPUT) ? INTENT_PERCEPTUAL
                                                                                  : INTENT_RELATIVE_COLORIMETRIC;
    cmsUInt32Number flags = cmsFLAGS_BLACKPOINTCOMPENSATION;
    if (in_ch == 2 || (in_ch == 4 && !hdr->is_cmyk)) flags |= cmsFLAGS_COPY_ALPHA;
    /* Grey has 256 possible inputs: a table filled by a float transform is exact, where
     * lcms2's optimised 8-bit grey path is up to 10 levels off in the shadows for steep
     * curves (gamma 1.0 -> sRGB: 2 gives 12 instead of 22). */
    struct ms_path *ms = NULL;
    if (!grey && !hdr->is_cmyk && intent == INTENT_RELATIVE_COLORIMETRIC) ms = ms_build(in, dst);
    if (ms) xf = NULL;
    else if (grey) xf = cmsCreateTransformTHR(lc, in, TYPE_GRAY_FLT, dst, TYPE_GRAY_FLT, intent, flags & ~cmsFLAGS_COPY_ALPHA);
    else xf = cmsCreateTransformTHR(lc, in, in_fmt, dst, out_fmt, intent, flags);
    cmsCloseProfile(in);
    cmsCloseProfile(dst);
    in = NULL;
    if (!xf && !ms) goto none; /* lcms2 could parse the profile but not use it: keep the pixels */

    tcolour *c = calloc(1, sizeof *c);
    if (!c) {
        free(ms);
        if (xf) cmsDeleteTransform(xf);
        cmsDeleteContext(lc);
        return thumb__fail(ctx, THUMB_ENOMEM, "out of memory");
    }
    if (grey) {
        float v[256], r[256];
        for (int i = 0; i < 256; i++) v[i] = i / 255.0f;
        cmsDoTransform(xf, v, r, 256);
        for (int i = 0; i < 256; i++) c->lut[i] = (uint8_t)lrintf(fminf(fmaxf(r[i], 0.0f), 1.0f) * 255.0f);
        cmsDeleteTransform(xf);
        cmsDeleteContext(lc);
        xf = NULL;
        lc = NULL;
    }
    if (ms) {
        c->ms = ms;
        cmsDeleteContext(lc);
        lc = NULL;
    }
    c->lc = lc;
    c->xf = xf;
    c->in_ch = in_ch;
    c->out_ch = out_ch;
    *out = c;
    return THUMB_OK;
none:
    if (in) cmsCloseProfile(in);
    cmsDeleteContext(lc);
    return THUMB_OK;
}

int thumb__colour_stage(const tcolour *c) { return c->stage; }
int thumb__colour_out_channels(const tcolour *c, int in_channels) { return in_channels == c->in_ch ? c->out_ch : in_channels; }
void thumb__colour_force_stage(tcolour *c, int stage) {
    if (c && c->in_ch == c->out_ch && (stage == THUMB_COLOUR_STAGE_DECODE || stage == THUMB_COLOUR_STAGE_OUTPUT))
        c->stage = stage;
}

void thumb__colour_row(tcolour *c, const uint8_t *in, uint8_t *out, uint32_t n) {
    if (c->ms) {
        ms_row(c->ms, in, out, n, c->in_ch);
    } else if (c->xf) {
        cmsDoTransform(c->xf, in, out, n);
    } else if (c->in_ch == 1) {
        for (uint32_t i = 0; i < n; i++) out[i] = c->lut[in[i]];
    } else {
        for (uint32_t i = 0; i < n; i++) {
            out[2 * i] = c->lut[in[2 * i]];
            out[2 * i + 1] = in[2 * i + 1];
        }
    }
}

void thumb__colour_free(tcolour *c) {
    if (!c || c->cached) return;
    free(c->ms);
    if (c->xf) cmsDeleteTransform(c->xf);
    if (c->lc) cmsDeleteContext(c->lc);
    free(c);
}

/* ---------------------------------------------------------------- an sRGB profile to embed */

static uint8_t *srgb_bytes;
static size_t srgb_len;
static pthread_once_t srgb_once = PTHREAD_ONCE_INIT;

static void build_srgb(void) {
    cmsContext lc = colour_context();
    if (!lc) return;
    cmsHPROFILE p = cmsCreate_sRGBProfileTHR(lc);
    if (!p) { cmsDeleteContext(lc); return; }
    cmsMLU *desc = cmsMLUalloc(lc, 1);
    if (desc) {
        cmsMLUsetASCII(desc, "en", "US", "sRGB (libthumb)");
        cmsWriteTag(p, cmsSigProfileDescriptionTag, desc);
        cmsMLUfree(desc);
    }
    cmsSetProfileVersion(p, 2.1); /* v2: readable by every browser and viewer */
    cmsUInt32Number n = 0;
    if (cmsSaveProfileToMem(p, NULL, &n) && n >= 128) {
        uint8_t *b = malloc(n);
        if (b && cmsSaveProfileToMem(p, b, &n)) {
            /* lcms stamps the header's creation date (bytes 24-35) with the time the profile was
             * built, so each process embedded different bytes and the same upload gave a different
             * output (callers hash it as a cache version). A fixed dateTimeNumber instead: 2026-12-03
             * 00:00:00 UTC, when the bytes were frozen. A v2 profile has no profile ID (bytes 84-99, the
             * MD5 a v4 one has over the header with the date), so nothing else depends on the date. */
            static const uint8_t created[12] = {0x07, 0xEA, 0, 12, 0, 3, 0, 0, 0, 0, 0, 0};
            memcpy(b + 24, created, sizeof created);
            srgb_bytes = b;
            srgb_len = n;
        } else {
            free(b);
        }
    }
    cmsCloseProfile(p);
    cmsDeleteContext(lc);
}

int thumb__srgb_profile(const uint8_t **data, size_t *len) {
    pthread_once(&srgb_once, build_srgb);
    if (!srgb_bytes) return THUMB_ENOMEM;
    *data = srgb_bytes;
    *len = srgb_len;
    return THUMB_OK;
}
