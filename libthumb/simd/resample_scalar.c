/* Scalar resampler kernels: the reference. Every other kernel set must match these bytes. */
#include "resample_kernels.h"

static void cvt_scalar(const uint8_t *in, int16_t *out, size_t w, int ch)
{
    switch (ch) {
    case 1:
        for (size_t i = 0; i < w; i++)
            out[i] = (int16_t)(in[i] << 7);
        break;
    case 2:
        for (size_t i = 0; i < w; i++) {
            unsigned g = in[2 * i], a = in[2 * i + 1];
            int16_t p = (int16_t)((g * a * 128 + 127) / 255);
            out[4 * i] = out[4 * i + 1] = out[4 * i + 2] = p;
            out[4 * i + 3] = (int16_t)(a << 7);
        }
        break;
    case 3:
        for (size_t i = 0; i < w; i++) {
            out[4 * i] = (int16_t)(in[3 * i] << 7);
            out[4 * i + 1] = (int16_t)(in[3 * i + 1] << 7);
            out[4 * i + 2] = (int16_t)(in[3 * i + 2] << 7);
            out[4 * i + 3] = 0;
        }
        break;
    default:
        for (size_t i = 0; i < w; i++) {
            unsigned a = in[4 * i + 3];
            for (int c = 0; c < 3; c++)
                out[4 * i + c] = (int16_t)((in[4 * i + c] * a * 128 + 127) / 255);
            out[4 * i + 3] = (int16_t)(a << 7);
        }
        break;
    }
}

static void box_accum_scalar(const int16_t *in, uint32_t *acc, size_t w, uint32_t k, int wc)
{
    for (size_t p0 = 0, r = 0; p0 < w; p0 += k, r++) {
        size_t p1 = p0 + k < w ? p0 + k : w;
        for (int c = 0; c < wc; c++) {
            uint32_t s = 0;
            for (size_t p = p0; p < p1; p++)
                s += (uint16_t)in[p * wc + c];
            acc[r * wc + c] += s;
        }
    }
}

static void box_div_scalar(const uint32_t *acc, int16_t *out, size_t len, uint32_t n, uint32_t m, unsigned s)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (int16_t)(((uint64_t)(acc[i] + n / 2) * m) >> s);
}

static inline int16_t clamp_v(int32_t v)
{
    return (int16_t)(v < 0 ? 0 : v > TR_VMAX ? TR_VMAX : v);
}

static void hpass_scalar(const int16_t *in, int16_t *out, size_t out_w, const int32_t *start,
                         const uint16_t *ntaps, const int16_t *w, size_t wstride, int wc)
{
    for (size_t i = 0; i < out_w; i++) {
        const int16_t *wi = w + i * wstride;
        const int16_t *src = in + (size_t)start[i] * wc;
        for (int c = 0; c < wc; c++) {
            int32_t acc = 0;
            for (unsigned t = 0; t < ntaps[i]; t++)
                acc += wi[t] * src[t * wc + c];
            out[i * wc + c] = clamp_v((acc + (1 << (TR_WBITS - 1))) >> TR_WBITS);
        }
    }
}

static void hpass_u8_scalar(const uint8_t *in, int16_t *out, size_t out_w, const tr_htab *h, int ch)
{
    for (size_t i = 0; i < out_w; i++) {
        const int16_t *wi = h->w + i * h->wstride;
        const uint8_t *src = in + (size_t)h->start[i] * ch;
        for (int c = 0; c < ch; c++) {
            int32_t acc = 0;
            for (unsigned t = 0; t < h->n[i]; t++)
                acc += wi[t] * src[t * ch + c];
            out[i * ch + c] = clamp_v((acc + 64) >> 7);
        }
    }
}

static void vpass_u8_scalar(const int16_t *const *rows, const int16_t *w, int n, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int32_t acc = 0;
        for (int t = 0; t < n; t++)
            acc += w[t] * rows[t][i];
        acc = (acc + (1 << 20)) >> 21;
        out[i] = (uint8_t)(acc < 0 ? 0 : acc > 255 ? 255 : acc);
    }
}

static void vpass_i16_scalar(const int16_t *const *rows, const int16_t *w, int n, int16_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int32_t acc = 0;
        for (int t = 0; t < n; t++)
            acc += w[t] * rows[t][i];
        out[i] = clamp_v((acc + (1 << (TR_WBITS - 1))) >> TR_WBITS);
    }
}

const tr_kernels thumb__resample_scalar = {
    .cvt = cvt_scalar,
    .box_accum = box_accum_scalar,
    .box_div = box_div_scalar,
    .hpass = hpass_scalar,
    .hpass_u8 = hpass_u8_scalar,
    .vpass_u8 = vpass_u8_scalar,
    .vpass_i16 = vpass_i16_scalar,
    .name = "scalar",
};
