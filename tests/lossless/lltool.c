/* Helper for tests/lossless/test_oracle.py (not a test by itself):
 *   lltool raw IN OUT      decode IN through the library's JPEG entry (libjpeg reads up to SOF3,
 *                          jlossless.c the rest) and write its samples as stored: the line
 *                          "W H COMPONENTS PRECISION\n", then W*H*COMPONENTS little-endian uint16
 *   lltool enc W H NF PREC PRED PT RESTART_ROWS ADOBE TABLES_FIRST SEED OUT
 *                          write a lossless JPEG made by tests/lossless/ljenc.h to OUT, and the
 *                          samples a decoder must give (after the point transform) to OUT.src
 * Exit status 0, or 1 with "THUMB_E...: detail" on stderr. */
#include "internal.h"
#include "jlossless.h"
#include "ljenc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_raw(const char *path, const uint16_t *s, uint32_t w, uint32_t h, int nf, int prec)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    fprintf(f, "%u %u %d %d\n", (unsigned)w, (unsigned)h, nf, prec);
    size_t n = (size_t)w * h * (size_t)nf;
    for (size_t i = 0; i < n; i++) {
        uint8_t le[2] = {(uint8_t)s[i], (uint8_t)(s[i] >> 8)};
        fwrite(le, 1, 2, f);
    }
    return fclose(f) != 0;
}

static int cmd_raw(const char *in, const char *out)
{
    FILE *f = fopen(in, "rb");
    if (!f)
        return fprintf(stderr, "cannot open %s\n", in), 1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(len > 0 ? (size_t)len : 1);
    if (!data || fread(data, 1, (size_t)len, f) != (size_t)len)
        return fprintf(stderr, "cannot read %s\n", in), 1;
    fclose(f);
    thumb_ctx *ctx = thumb_ctx_new();
    thumb_options o;
    thumb_options_init(&o);
    tsrc src;
    tsrc_init_mem(&src, ctx, data, (size_t)len, 0);
    tdec *d = NULL;
    int rc = thumb__jpeg_open(&d, ctx, &o, &src);
    if (rc == THUMB_OK && !thumb__jll_is(d))
        rc = thumb__fail(ctx, THUMB_EINVAL, "not decoded as lossless JPEG");
    uint16_t *all = NULL;
    int nf = 0;
    if (rc == THUMB_OK) {
        tdec_request req = {.scale_num = 8, .x0 = 0, .x1 = d->hdr.width, .y0 = 0, .y1 = d->hdr.height};
        rc = d->ops->start(d, &req);
    }
    for (uint32_t y = 0; rc == THUMB_OK && y < d->hdr.height; y++) {
        const uint16_t *row;
        rc = thumb__jll_next_raw(d, &row, &nf);
        if (rc == THUMB_OK && !all && !(all = malloc((size_t)d->hdr.width * d->hdr.height * (size_t)nf * 2)))
            rc = THUMB_ENOMEM;
        if (rc == THUMB_OK)
            memcpy(all + (size_t)y * d->hdr.width * (size_t)nf, row, (size_t)d->hdr.width * (size_t)nf * 2);
    }
    if (rc == THUMB_OK)
        rc = write_raw(out, all, d->hdr.width, d->hdr.height, nf, d->hdr.bit_depth) ? THUMB_EIO : THUMB_OK;
    if (rc != THUMB_OK)
        fprintf(stderr, "%s: %s\n", thumb_error_name(rc), thumb_ctx_detail(ctx));
    if (d)
        d->ops->destroy(d);
    free(all);
    free(data);
    thumb_ctx_free(ctx);
    return rc != THUMB_OK;
}

static int cmd_enc(char **a)
{
    uint32_t w = (uint32_t)atoi(a[0]), h = (uint32_t)atoi(a[1]);
    int nf = atoi(a[2]);
    ljenc_opt o = {.prec = atoi(a[3]), .pred = atoi(a[4]), .pt = atoi(a[5]), .restart = (unsigned)atoi(a[6]),
                   .adobe = atoi(a[7]), .tables_first = atoi(a[8])};
    o.ids_rgb = nf == 3 && o.adobe < 0;
    uint16_t *s = ljenc_picture(w, h, nf, o.prec, (unsigned)atoi(a[9]), 0);
    size_t len;
    uint8_t *jpg = ljenc(s, w, h, nf, &o, &len);
    for (size_t i = 0; i < (size_t)w * h * (size_t)nf; i++)
        s[i] = (uint16_t)(s[i] >> o.pt << o.pt);
    char src[4096];
    snprintf(src, sizeof src, "%s.src", a[10]);
    FILE *f = fopen(a[10], "wb");
    int bad = !f || fwrite(jpg, 1, len, f) != len || fclose(f) != 0 || write_raw(src, s, w, h, nf, o.prec);
    free(jpg);
    free(s);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "raw") == 0)
        return cmd_raw(argv[2], argv[3]);
    if (argc == 13 && strcmp(argv[1], "enc") == 0)
        return cmd_enc(argv + 2);
    fprintf(stderr, "usage: lltool raw IN OUT | lltool enc W H NF PREC PRED PT RESTART ADOBE TABLES_FIRST SEED OUT\n");
    return 2;
}
