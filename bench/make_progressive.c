/* The benchmark's progressive inputs, made at run time from a corpus photo with libjpeg (nothing
 * big is committed): IN decoded whole, resampled to WxH (bilinear; the same size copies it), and
 * written as a 4:2:0 JPEG at QUALITY, progressive (jpeg_simple_progression, the script cjpeg
 * -progressive uses) or, with "baseline", sequential for comparison.
 *   make_progressive IN OUT W H QUALITY [baseline]
 * Rows are made one at a time from the decoded picture, so a 12000x9000 output needs only the
 * input's pixels in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: make_progressive IN OUT W H QUALITY [baseline]\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
    if (!in || !out) {
        perror("make_progressive");
        return 1;
    }
    unsigned W = (unsigned)atoi(argv[3]), H = (unsigned)atoi(argv[4]);
    int q = atoi(argv[5]);
    int baseline = argc > 6 && !strcmp(argv[6], "baseline");

    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr e1, e2;
    d.err = jpeg_std_error(&e1);
    jpeg_create_decompress(&d);
    jpeg_stdio_src(&d, in);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_RGB;
    jpeg_start_decompress(&d);
    unsigned w = d.output_width, h = d.output_height;
    size_t stride = (size_t)w * 3;
    unsigned char *px = malloc(stride * h);
    if (!px)
        return 1;
    while (d.output_scanline < h) {
        JSAMPROW r = px + (size_t)d.output_scanline * stride;
        jpeg_read_scanlines(&d, &r, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    fclose(in);

    struct jpeg_compress_struct c;
    c.err = jpeg_std_error(&e2);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, out);
    c.image_width = W;
    c.image_height = H;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, q, TRUE);
    c.optimize_coding = TRUE;
    if (!baseline)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    unsigned char *row = malloc((size_t)W * 3);
    for (unsigned y = 0; y < H; y++) {
        double sy = (y + 0.5) * h / H - 0.5;
        int y0 = sy < 0 ? 0 : (int)sy, y1 = y0 + 1 < (int)h ? y0 + 1 : y0;
        double fy = sy < 0 ? 0 : sy - y0;
        for (unsigned x = 0; x < W; x++) {
            double sx = (x + 0.5) * w / W - 0.5;
            int x0 = sx < 0 ? 0 : (int)sx, x1 = x0 + 1 < (int)w ? x0 + 1 : x0;
            double fx = sx < 0 ? 0 : sx - x0;
            for (int k = 0; k < 3; k++) {
                double a = px[(size_t)y0 * stride + (size_t)x0 * 3 + k], b = px[(size_t)y0 * stride + (size_t)x1 * 3 + k];
                double cc = px[(size_t)y1 * stride + (size_t)x0 * 3 + k], dd = px[(size_t)y1 * stride + (size_t)x1 * 3 + k];
                double v = (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + dd * fx) * fy;
                row[(size_t)x * 3 + (size_t)k] = (unsigned char)(v + 0.5);
            }
        }
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(out);
    free(row);
    free(px);
    return 0;
}
