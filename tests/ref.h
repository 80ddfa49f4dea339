/* A float reference resampler and the decoders that feed it, for accuracy tests and benchmarks.
 *
 * Deliberately simple and slow: whole images in doubles, separable Lanczos3 (a = 3), the kernel
 * stretched by the scale when shrinking, taps past an edge folded onto the edge pixel, exact
 * geometry: output pixel i (after the crop) is centred on source coordinate
 *     (i + crop + 0.5) * src / resized - 0.5.
 * No DCT scaling, no box prefilter, no fixed point: what libthumb approximates.
 *
 * Needs: spng.h (PNG), and for ref_decode_jpeg the internal JPEG decoder (internal.h, link
 * thumb_static). Header-only; every function is static. */
#ifndef THUMB_TESTS_REF_H
#define THUMB_TESTS_REF_H

#include "internal.h"
#include "thumb.h"

#include <math.h>
#include <spng.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

typedef struct ref_img {
    uint32_t w, h;
    int ch;        /* channels per pixel */
    double *px;    /* h * w * ch values, 0..255 */
} ref_img;

static void ref_img_free(ref_img *im) {
    free(im->px);
    im->px = NULL;
}

static double ref_sinc(double x) {
    if (x == 0.0) return 1.0;
    double px = M_PI * x;
    return sin(px) / px;
}
static double ref_lanczos3(double x) {
    if (x <= -3.0 || x >= 3.0) return 0.0;
    return ref_sinc(x) * ref_sinc(x / 3.0);
}

/* Resample one axis of in (len src along that axis) to out pixels, with resized and crop. */
static int ref_resize_axis(const ref_img *in, int horizontal, uint32_t resized, uint32_t crop, uint32_t out,
                           ref_img *res) {
    uint32_t src = horizontal ? in->w : in->h;
    res->ch = in->ch;
    res->w = horizontal ? out : in->w;
    res->h = horizontal ? in->h : out;
    res->px = calloc((size_t)res->w * res->h * res->ch, sizeof(double));
    if (!res->px) return -1;
    double scale = (double)src / resized;              /* source pixels per output pixel */
    double stretch = scale > 1.0 ? scale : 1.0;
    double support = 3.0 * stretch;
    int ch = in->ch;
    double *w = malloc(((size_t)(2 * support) + 4) * sizeof(double));
    if (!w) { ref_img_free(res); return -1; }
    for (uint32_t i = 0; i < out; i++) {
        double c = (i + crop + 0.5) * scale - 0.5;
        long lo = (long)ceil(c - support), hi = (long)floor(c + support);
        double sum = 0.0;
        for (long j = lo; j <= hi; j++) { w[j - lo] = ref_lanczos3((j - c) / stretch); sum += w[j - lo]; }
        uint32_t lines = horizontal ? in->h : in->w;
        for (uint32_t l = 0; l < lines; l++) {
            double acc[4] = {0, 0, 0, 0};
            for (long j = lo; j <= hi; j++) {
                long jj = j < 0 ? 0 : j >= (long)src ? (long)src - 1 : j;
                size_t idx = horizontal ? ((size_t)l * in->w + (size_t)jj) : ((size_t)jj * in->w + l);
                const double *p = in->px + idx * ch;
                for (int k = 0; k < ch; k++) acc[k] += w[j - lo] * p[k];
            }
            size_t oidx = horizontal ? ((size_t)l * res->w + i) : ((size_t)i * res->w + l);
            for (int k = 0; k < ch; k++) res->px[oidx * ch + k] = acc[k] / sum;
        }
    }
    free(w);
    return 0;
}

/* Resize src (w x h) to resized_w x resized_h and keep out_w x out_h from (crop_x, crop_y).
 * Alpha (channels 2 and 4) is filtered premultiplied and divided out after. Values are clamped
 * to 0..255 but not rounded. */
static int ref_resize(const ref_img *in, uint32_t resized_w, uint32_t resized_h, uint32_t crop_x, uint32_t crop_y,
                      uint32_t out_w, uint32_t out_h, ref_img *out) {
    ref_img pre = *in, tmp = {0};
    int alpha = in->ch == 2 || in->ch == 4;
    size_t n = (size_t)in->w * in->h;
    if (alpha) {
        pre.px = malloc(n * in->ch * sizeof(double));
        if (!pre.px) return -1;
        for (size_t i = 0; i < n; i++) {
            double a = in->px[i * in->ch + in->ch - 1] / 255.0;
            for (int k = 0; k < in->ch - 1; k++) pre.px[i * in->ch + k] = in->px[i * in->ch + k] * a;
            pre.px[i * in->ch + in->ch - 1] = in->px[i * in->ch + in->ch - 1];
        }
    }
    int rc = ref_resize_axis(&pre, 1, resized_w, crop_x, out_w, &tmp);
    if (rc == 0) rc = ref_resize_axis(&tmp, 0, resized_h, crop_y, out_h, out);
    ref_img_free(&tmp);
    if (alpha) free(pre.px);
    if (rc) return rc;
    size_t m = (size_t)out->w * out->h;
    for (size_t i = 0; i < m; i++) {
        double *p = out->px + i * out->ch;
        if (alpha) {
            double a = p[out->ch - 1];
            a = a < 0 ? 0 : a > 255 ? 255 : a;
            p[out->ch - 1] = a;
            for (int k = 0; k < out->ch - 1; k++) p[k] = a > 0 ? p[k] * 255.0 / a : 0.0;
        }
        for (int k = 0; k < out->ch; k++) p[k] = p[k] < 0 ? 0 : p[k] > 255 ? 255 : p[k];
    }
    return 0;
}

/* Cover geometry as plan.c documents it (for a target box tw x th, centre crop). */
static void ref_cover_geometry(uint32_t W, uint32_t H, uint32_t tw, uint32_t th, uint32_t *rw, uint32_t *rh,
                               uint32_t *cx, uint32_t *cy) {
    uint64_t a = (uint64_t)tw * H, b = (uint64_t)th * W;
    if (a >= b) { *rw = tw; *rh = (uint32_t)(((uint64_t)H * tw * 2 + W) / (2 * (uint64_t)W)); }
    else { *rh = th; *rw = (uint32_t)(((uint64_t)W * th * 2 + H) / (2 * (uint64_t)H)); }
    if (*rw < 1) *rw = 1;
    if (*rh < 1) *rh = 1;
    *cx = (*rw - (tw < *rw ? tw : *rw) + 1) / 2;
    *cy = (*rh - (th < *rh ? th : *rh) + 1) / 2;
}

/* Decode a PNG with libspng to 8-bit doubles: RGB (3) or RGBA (4) when alpha is wanted. */
static int ref_decode_png(const void *data, size_t len, int want_alpha, ref_img *im) {
    memset(im, 0, sizeof *im);
    spng_ctx *c = spng_ctx_new(0);
    if (!c) return -1;
    spng_set_crc_action(c, SPNG_CRC_USE, SPNG_CRC_USE);
    int fmt = want_alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
    size_t n;
    struct spng_ihdr ihdr;
    uint8_t *buf = NULL;
    int rc = spng_set_png_buffer(c, data, len);
    if (!rc) rc = spng_get_ihdr(c, &ihdr);
    if (!rc) rc = spng_decoded_image_size(c, fmt, &n);
    if (!rc && !(buf = malloc(n))) rc = -1;
    if (!rc) rc = spng_decode_image(c, buf, n, fmt, 0);
    spng_ctx_free(c);
    if (rc) { free(buf); return -1; }
    im->w = ihdr.width;
    im->h = ihdr.height;
    im->ch = want_alpha ? 4 : 3;
    im->px = malloc(n * sizeof(double));
    if (!im->px) { free(buf); return -1; }
    for (size_t i = 0; i < n; i++) im->px[i] = buf[i];
    free(buf);
    return 0;
}

/* Full-size decode of a JPEG (scale 8/8, whole image) with libthumb's own libjpeg decoder, to
 * doubles; grey stays 1 channel, everything else is RGB. */
static int ref_decode_jpeg(const void *data, size_t len, ref_img *im) {
    memset(im, 0, sizeof *im);
    thumb_ctx *ctx = thumb_ctx_new();
    if (!ctx) return -1;
    thumb_options opt;
    thumb_options_init(&opt);
    opt.colour = THUMB_COLOUR_KEEP;
    tsrc src;
    tsrc_init_mem(&src, ctx, data, len, 0);
    tdec *d = NULL;
    int rc = thumb__jpeg_open(&d, ctx, &opt, &src);
    if (rc == 0) {
        tdec_request req = {.scale_num = 8, .x0 = 0, .x1 = d->hdr.width, .y0 = 0, .y1 = d->hdr.height};
        rc = d->ops->start(d, &req);
    }
    if (rc == 0 && (d->w != d->hdr.width || d->h != d->hdr.height || d->x0 != 0 || d->y0 != 0)) rc = -1;
    if (rc == 0) {
        im->w = d->w;
        im->h = d->h;
        im->ch = d->channels;
        im->px = malloc((size_t)im->w * im->h * im->ch * sizeof(double));
        if (!im->px) rc = -1;
        for (uint32_t y = 0; rc == 0 && y < im->h; y++) {
            const uint8_t *row;
            rc = d->ops->next_row(d, &row);
            if (rc) break;
            for (size_t i = 0; i < (size_t)im->w * im->ch; i++) im->px[(size_t)y * im->w * im->ch + i] = row[i];
        }
    }
    if (d) d->ops->destroy(d);
    thumb_ctx_free(ctx);
    if (rc) { ref_img_free(im); return rc < 0 ? rc : -rc; }
    return 0;
}

/* PSNR of an 8-bit image (same size and channels) against the reference, in dB. */
static double ref_psnr(const ref_img *ref, const ref_img *got) {
    if (ref->w != got->w || ref->h != got->h || ref->ch != got->ch) return -1.0;
    size_t n = (size_t)ref->w * ref->h * ref->ch;
    double se = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = ref->px[i] - got->px[i];
        se += d * d;
    }
    double mse = se / (double)n;
    if (mse <= 0.0) return 99.0;
    return 10.0 * log10(255.0 * 255.0 / mse);
}

#endif
