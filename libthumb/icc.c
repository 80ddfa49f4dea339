/* Colour management: embedded ICC profiles (and PNG gAMA/cHRM) to sRGB with lcms2.
 *
 * Where the conversion runs:
 *  - CMYK JPEGs with a profile: per decoded row (4 channels of ink cannot go through the
 *    resampler, which treats a fourth channel as alpha), before resampling.
 *  - RGB and grey: on the resized output. The cost is then bounded by the output size
 *    (512x512 whatever the upload), where per-row conversion costs O(decoded pixels);
 *    tests/test_colour.c measures how far the two placements differ.
 * Profiles that are already sRGB are recognised from their colorants and tone curves (a
 * few tag reads, no transform), and nothing runs. A profile that cannot be parsed, or that
 * does not match the pixels (an RGB profile on a grey image...), is ignored: an upload is
 * not rejected for its metadata. */
#include "internal.h"

#include <lcms2.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct tcolour {
    cmsHTRANSFORM xf;
    int stage;
    int in_ch, out_ch;
};

/* sRGB colorants adapted to D50, as every v2/v4 sRGB profile stores them. */
static const double srgb_colorants[3][3] = {
    {0.4361, 0.2225, 0.0139}, /* red   X Y Z */
    {0.3851, 0.7169, 0.0971}, /* green */
    {0.1431, 0.0606, 0.7141}, /* blue  */
};

static double srgb_eotf(double v) {
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

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

int thumb__icc_is_srgb(const uint8_t *icc, size_t len) {
    if (!icc || len < 132 || len > UINT32_MAX) return -1;
    cmsHPROFILE p = cmsOpenProfileFromMem(icc, (cmsUInt32Number)len);
    if (!p) return -1;
    int r = profile_is_srgb(p);
    cmsCloseProfile(p);
    return r;
}

static cmsToneCurve *srgb_curve(void) {
    /* IEC 61966-2-1 as an ICC parametric curve of type 4. */
    static const double params[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    return cmsBuildParametricToneCurve(NULL, 4, params);
}

static cmsHPROFILE srgb_grey_profile(void) {
    cmsCIExyY d50;
    cmsWhitePointFromTemp(&d50, 5003);
    cmsToneCurve *c = srgb_curve();
    if (!c) return NULL;
    cmsHPROFILE p = cmsCreateGrayProfile(cmsD50_xyY(), c);
    cmsFreeToneCurve(c);
    (void)d50;
    return p;
}

/* A profile for a PNG's gAMA/cHRM when it has no iCCP; NULL when those say sRGB anyway. */
static cmsHPROFILE png_chunk_profile(const tdec_header *h, int grey) {
    if (h->png_srgb || (!h->png_gamma && !h->png_has_chrm)) return NULL;
    int gamma_srgbish = !h->png_gamma || (h->png_gamma >= 45000 && h->png_gamma <= 46000);
    int chrm_srgbish = 1;
    static const uint32_t srgb_chrm[8] = {31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000};
    if (h->png_has_chrm)
        for (int i = 0; i < 8; i++)
            if (abs((int)h->png_chrm[i] - (int)srgb_chrm[i]) > 1000) chrm_srgbish = 0;
    if (gamma_srgbish && (grey || chrm_srgbish)) return NULL;
    cmsToneCurve *curve;
    if (h->png_gamma) curve = cmsBuildGamma(NULL, 100000.0 / h->png_gamma);
    else curve = srgb_curve();
    if (!curve) return NULL;
    cmsHPROFILE p;
    if (grey) {
        p = cmsCreateGrayProfile(cmsD50_xyY(), curve);
    } else {
        const uint32_t *c = h->png_has_chrm ? h->png_chrm : srgb_chrm;
        cmsCIExyY white = {c[0] / 100000.0, c[1] / 100000.0, 1.0};
        cmsCIExyYTRIPLE prim = {{c[2] / 100000.0, c[3] / 100000.0, 1.0},
                                {c[4] / 100000.0, c[5] / 100000.0, 1.0},
                                {c[6] / 100000.0, c[7] / 100000.0, 1.0}};
        cmsToneCurve *curves[3] = {curve, curve, curve};
        p = cmsCreateRGBProfile(&white, &prim, curves);
    }
    cmsFreeToneCurve(curve);
    return p;
}

int thumb__colour_new(tcolour **out, thumb_ctx *ctx, const thumb_options *opt, const tdec_header *hdr,
                      tdec_request *req) {
    *out = NULL;
    if (opt->colour == THUMB_COLOUR_KEEP) return THUMB_OK;
    cmsHPROFILE in = NULL;
    if (hdr->icc && hdr->icc_len >= 132) in = cmsOpenProfileFromMem(hdr->icc, hdr->icc_len);
    if (!in && hdr->format == THUMB_FORMAT_PNG) in = png_chunk_profile(hdr, hdr->channels <= 2);
    if (!in) return THUMB_OK;

    cmsColorSpaceSignature cs = cmsGetColorSpace(in);
    cmsUInt32Number in_fmt = 0, out_fmt = 0, flags = cmsFLAGS_BLACKPOINTCOMPENSATION;
    cmsUInt32Number intent = INTENT_RELATIVE_COLORIMETRIC;
    int stage = THUMB_COLOUR_STAGE_OUTPUT, in_ch = hdr->channels, out_ch = hdr->channels;
    cmsHPROFILE dst = NULL;
    if (hdr->is_cmyk) {
        if (cs != cmsSigCmykData) goto ignore;
        in_fmt = TYPE_CMYK_8;
        out_fmt = TYPE_RGB_8;
        in_ch = 4;
        out_ch = 3;
        stage = THUMB_COLOUR_STAGE_DECODE;
        /* Press profiles are built for perceptual rendering; use it when the profile has it. */
        if (cmsIsIntentSupported(in, INTENT_PERCEPTUAL, LCMS_USED_AS_INPUT)) intent = INTENT_PERCEPTUAL;
        dst = cmsCreate_sRGBProfile();
    } else if (hdr->channels >= 3) {
        if (cs != cmsSigRgbData || profile_is_srgb(in)) goto ignore;
        in_fmt = out_fmt = hdr->channels == 4 ? TYPE_RGBA_8 : TYPE_RGB_8;
        dst = cmsCreate_sRGBProfile();
    } else {
        if (cs != cmsSigGrayData) goto ignore;
        cmsToneCurve *trc = cmsReadTag(in, cmsSigGrayTRCTag);
        if (trc && curve_is_srgb(trc)) goto ignore;
        in_fmt = out_fmt = hdr->channels == 2 ? TYPE_GRAYA_8 : TYPE_GRAY_8;
        dst = srgb_grey_profile();
    }
    if (in_ch == 2 || in_ch == 4) flags |= cmsFLAGS_COPY_ALPHA;
    if (!dst) { cmsCloseProfile(in); return thumb__fail(ctx, THUMB_ENOMEM, "lcms2: cannot build the sRGB profile"); }
    cmsHTRANSFORM xf = cmsCreateTransform(in, in_fmt, dst, out_fmt, intent, flags);
    cmsCloseProfile(in);
    cmsCloseProfile(dst);
    if (!xf) return THUMB_OK; /* lcms2 could parse the profile but not use it: keep the pixels */
    tcolour *c = calloc(1, sizeof *c);
    if (!c) { cmsDeleteTransform(xf); return thumb__fail(ctx, THUMB_ENOMEM, "out of memory"); }
    c->xf = xf;
    c->stage = stage;
    c->in_ch = in_ch;
    c->out_ch = out_ch;
    if (stage == THUMB_COLOUR_STAGE_DECODE && hdr->is_cmyk) req->raw_cmyk = 1;
    *out = c;
    return THUMB_OK;
ignore:
    cmsCloseProfile(in);
    return THUMB_OK;
}

int thumb__colour_stage(const tcolour *c) { return c->stage; }
int thumb__colour_out_channels(const tcolour *c, int in_channels) { return in_channels == c->in_ch ? c->out_ch : in_channels; }
void thumb__colour_force_stage(tcolour *c, int stage) { if (c && c->in_ch == c->out_ch) c->stage = stage; }

void thumb__colour_row(tcolour *c, const uint8_t *in, uint8_t *out, uint32_t n) {
    cmsDoTransform(c->xf, in, out, n);
}

void thumb__colour_free(tcolour *c) {
    if (!c) return;
    cmsDeleteTransform(c->xf);
    free(c);
}

/* ---------------------------------------------------------------- an sRGB profile to embed */

static uint8_t *srgb_bytes;
static size_t srgb_len;
static pthread_once_t srgb_once = PTHREAD_ONCE_INIT;

static void build_srgb(void) {
    cmsHPROFILE p = cmsCreate_sRGBProfile();
    if (!p) return;
    cmsMLU *desc = cmsMLUalloc(NULL, 1);
    if (desc) {
        cmsMLUsetASCII(desc, "en", "US", "sRGB (libthumb)");
        cmsWriteTag(p, cmsSigProfileDescriptionTag, desc);
        cmsMLUfree(desc);
    }
    cmsSetProfileVersion(p, 2.1); /* v2: readable by every browser and viewer */
    cmsUInt32Number n = 0;
    if (cmsSaveProfileToMem(p, NULL, &n) && n) {
        uint8_t *b = malloc(n);
        if (b && cmsSaveProfileToMem(p, b, &n)) { srgb_bytes = b; srgb_len = n; }
        else free(b);
    }
    cmsCloseProfile(p);
}

int thumb__srgb_profile(const uint8_t **data, size_t *len) {
    pthread_once(&srgb_once, build_srgb);
    if (!srgb_bytes) return THUMB_ENOMEM;
    *data = srgb_bytes;
    *len = srgb_len;
    return THUMB_OK;
}
