/* bench_colour: the cost of colour conversion on the avatar job, and where it runs.
 *
 * Job: 512x512 cover, JPEG q80, defaults otherwise (bench_thumb's job). Inputs: the avatar
 * photo as it is (untagged), and the same bytes with a Display P3 ICC profile (made with
 * lcms2) inserted as APP2 after the APP0; nothing else differs. Prints the median ms per
 * operation of R runs for: untagged, P3 with the library's placement, P3 forced per decoded
 * row, P3 forced on the output, and the PSNR between the two placements' pixels (PNG output).
 *
 * It reaches ctx->colour_stage (libthumb/internal.h), so it links the static library:
 *   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target thumb_static
 *   cc -O2 -Iinclude -Ilibthumb bench/bench_colour.c build-rel/libthumb.a -llcms2 -ljpeg -lspng -lz -lm -lpthread -o bench_colour
 *   ./bench_colour ../shared/corpus/photos/2569067123_aca715a2ee_o.jpg [runs]
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <lcms2.h>
#include <math.h>
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *p = malloc((size_t)n);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Display P3 (P3 primaries, D65, sRGB curve), serialised. */
static unsigned char *p3_icc(size_t *len) {
    static const double params[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    cmsToneCurve *t = cmsBuildParametricToneCurve(NULL, 4, params);
    cmsToneCurve *c[3] = {t, t, t};
    cmsCIExyY d65 = {0.3127, 0.3290, 1.0};
    cmsCIExyYTRIPLE prim = {{0.680, 0.320, 1.0}, {0.265, 0.690, 1.0}, {0.150, 0.060, 1.0}};
    cmsHPROFILE p = cmsCreateRGBProfile(&d65, &prim, c);
    cmsUInt32Number n = 0;
    cmsSaveProfileToMem(p, NULL, &n);
    unsigned char *b = malloc(n);
    cmsSaveProfileToMem(p, b, &n);
    cmsCloseProfile(p);
    cmsFreeToneCurve(t);
    *len = n;
    return b;
}

/* in with one APP2 ICC_PROFILE segment after SOI (and APP0 when it comes first). */
static unsigned char *insert_icc(const unsigned char *in, size_t n, const unsigned char *icc, size_t icc_len, size_t *out_len) {
    size_t at = 2;
    if (n > 6 && in[2] == 0xFF && in[3] == 0xE0) at = 4 + (((size_t)in[4] << 8) | in[5]);
    size_t seg = 2 + 14 + icc_len;
    unsigned char *o = malloc(n + seg + 2);
    memcpy(o, in, at);
    unsigned char *p = o + at;
    *p++ = 0xFF; *p++ = 0xE2; *p++ = (unsigned char)(seg >> 8); *p++ = (unsigned char)seg;
    memcpy(p, "ICC_PROFILE", 12); p += 12;
    *p++ = 1; *p++ = 1;
    memcpy(p, icc, icc_len); p += icc_len;
    memcpy(p, in + at, n - at);
    *out_len = at + 2 + seg + (n - at);
    return o;
}

static double time_job(const unsigned char *in, size_t n, int stage, int runs, int format, void **keep, size_t *keep_len) {
    thumb_ctx *ctx = thumb_ctx_new();
    ctx->colour_stage = stage;
    thumb_options o;
    thumb_options_init(&o);
    o.width = o.height = 512;
    o.format = format;
    double *t = malloc(sizeof(double) * (size_t)runs);
    for (int i = -1; i < runs; i++) {
        void *out = NULL;
        size_t len = 0;
        double t0 = now_ms();
        int rc = thumb_thumbnail_mem(ctx, in, n, &o, &out, &len);
        double t1 = now_ms();
        if (rc) { fprintf(stderr, "thumbnail: %s\n", thumb_ctx_detail(ctx)); exit(1); }
        if (i >= 0) t[i] = t1 - t0;
        if (keep && i == runs - 1) { *keep = out; *keep_len = len; }
        else thumb_free(out);
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double med = t[runs / 2];
    free(t);
    thumb_ctx_free(ctx);
    return med;
}

/* PSNR between two PNG outputs of the same size. */
static double psnr_png(const void *a, size_t an, const void *b, size_t bn) {
    unsigned char *px[2] = {0};
    size_t len[2] = {0};
    const void *in[2] = {a, b};
    size_t inn[2] = {an, bn};
    for (int i = 0; i < 2; i++) {
        spng_ctx *c = spng_ctx_new(0);
        spng_set_png_buffer(c, in[i], inn[i]);
        spng_decoded_image_size(c, SPNG_FMT_RGB8, &len[i]);
        px[i] = malloc(len[i]);
        spng_decode_image(c, px[i], len[i], SPNG_FMT_RGB8, 0);
        spng_ctx_free(c);
    }
    double se = 0;
    for (size_t i = 0; i < len[0] && len[0] == len[1]; i++) se += ((double)px[0][i] - px[1][i]) * ((double)px[0][i] - px[1][i]);
    free(px[0]);
    free(px[1]);
    return se ? 10 * log10(255.0 * 255.0 / (se / len[0])) : INFINITY;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s AVATAR.jpg [runs]\n", argv[0]); return 2; }
    int runs = argc > 2 ? atoi(argv[2]) : 15;
    if (runs < 1) runs = 1;
    size_t n, icc_len, tn;
    unsigned char *in = read_file(argv[1], &n);
    if (!in) { perror(argv[1]); return 1; }
    unsigned char *icc = p3_icc(&icc_len);
    unsigned char *tagged = insert_icc(in, n, icc, icc_len, &tn);

    /* Interleaved rounds, so a noisy neighbour slows every variant alike; median per variant. */
    enum { V = 4 };
    const unsigned char *vin[V] = {in, tagged, tagged, tagged};
    size_t vn[V] = {n, tn, tn, tn};
    int vstage[V] = {0, 0, 1 + THUMB_COLOUR_STAGE_DECODE, 1 + THUMB_COLOUR_STAGE_OUTPUT};
    double *t[V], med[V];
    for (int v = 0; v < V; v++) t[v] = malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++)
        for (int v = 0; v < V; v++) t[v][r] = time_job(vin[v], vn[v], vstage[v], 1, THUMB_FORMAT_JPEG, NULL, NULL);
    for (int v = 0; v < V; v++) {
        qsort(t[v], (size_t)runs, sizeof(double), cmp_double);
        med[v] = t[v][runs / 2];
        free(t[v]);
    }
    double plain = med[0], lib = med[1], row = med[2], outp = med[3];
    void *pa, *pb;
    size_t la, lb;
    time_job(tagged, tn, 1 + THUMB_COLOUR_STAGE_DECODE, 1, THUMB_FORMAT_PNG, &pa, &la);
    time_job(tagged, tn, 1 + THUMB_COLOUR_STAGE_OUTPUT, 1, THUMB_FORMAT_PNG, &pb, &lb);
    printf("avatar job (512x512 cover, JPEG q80), median of %d runs, ms per op:\n", runs);
    printf("  untagged              %8.2f\n", plain);
    printf("  P3, library's choice  %8.2f  (%+.2f, %+.1f%%)\n", lib, lib - plain, 100 * (lib - plain) / plain);
    printf("  P3, per decoded row   %8.2f  (%+.2f, %+.1f%%)\n", row, row - plain, 100 * (row - plain) / plain);
    printf("  P3, on the output     %8.2f  (%+.2f, %+.1f%%)\n", outp, outp - plain, 100 * (outp - plain) / plain);
    printf("  PSNR per-row vs on-output (PNG pixels): %.1f dB\n", psnr_png(pa, la, pb, lb));
    thumb_free(pa);
    thumb_free(pb);
    free(in);
    free(icc);
    free(tagged);
    return 0;
}
