/* bench_floor: the floor - libjpeg-turbo decoding the same file at the DCT scale libthumb uses,
 * jpeg_read_scanlines alone (no resize, no encode). Protocol: bench_worker.h, with
 *   load PATH -> "ok INDEX SCALE/8 WxH"   and no save.
 * The scale: the smallest of 1/8, 2/8, 4/8 (else 8/8) whose decoded size covers the size the image
 * has after the 512x512 cover resize (before the crop). Decode settings as libthumb's decoder:
 * JDCT_ISLOW, fancy upsampling, RGB out, whole width. One decompress object, reused.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdint.h>

#include "bench_worker.h" /* before jpeglib.h, which needs stdio.h */

#include <jpeglib.h>

#define BOX 512u

struct err_mgr { struct jpeg_error_mgr pub; jmp_buf jb; };

static void on_error(j_common_ptr c) {
    struct err_mgr *e = (struct err_mgr *)c->err;
    longjmp(e->jb, 1);
}
static void on_message(j_common_ptr c) { (void)c; }

static struct { unsigned char *data; size_t len; int scale; } files[BENCH_MAX_FILES];
static int n_files;
static struct jpeg_decompress_struct dec;
static struct err_mgr err;
static unsigned char *rows;
static size_t rows_cap;

/* Decode one file at scale/8; returns 0 or -1. Sets *w, *h to the decoded size. */
static int decode(int idx, int scale, unsigned *w, unsigned *h, int header_only) {
    if (setjmp(err.jb)) { jpeg_abort_decompress(&dec); return -1; }
    jpeg_mem_src(&dec, files[idx].data, (unsigned long)files[idx].len);
    jpeg_read_header(&dec, TRUE);
    dec.scale_num = (unsigned)scale;
    dec.scale_denom = 8;
    dec.dct_method = JDCT_ISLOW;
    dec.do_fancy_upsampling = TRUE;
    dec.out_color_space = dec.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    if (header_only) {
        jpeg_calc_output_dimensions(&dec);
        *w = dec.output_width;
        *h = dec.output_height;
        jpeg_abort_decompress(&dec);
        return 0;
    }
    jpeg_start_decompress(&dec);
    size_t stride = (size_t)dec.output_width * (size_t)dec.output_components;
    size_t need = stride * (size_t)dec.rec_outbuf_height;
    if (need > rows_cap) {
        free(rows);
        rows = malloc(need);
        rows_cap = rows ? need : 0;
        if (!rows) { jpeg_abort_decompress(&dec); return -1; }
    }
    JSAMPROW ptrs[16];
    for (int i = 0; i < dec.rec_outbuf_height && i < 16; i++) ptrs[i] = rows + (size_t)i * stride;
    while (dec.output_scanline < dec.output_height)
        jpeg_read_scanlines(&dec, ptrs, (JDIMENSION)(dec.rec_outbuf_height < 16 ? dec.rec_outbuf_height : 16));
    *w = dec.output_width;
    *h = dec.output_height;
    jpeg_finish_decompress(&dec);
    return 0;
}

static int load(const char *path) {
    if (n_files == BENCH_MAX_FILES) return -1;
    int i = n_files;
    if (bench_read_file(path, &files[i].data, &files[i].len)) return -1;
    unsigned W, H, w, h;
    if (decode(i, 8, &W, &H, 1)) return -1;
    /* cover: the limiting axis gets the box exactly, the other rounds half up */
    uint64_t rw, rh;
    if ((uint64_t)BOX * H >= (uint64_t)BOX * W) { rw = BOX; rh = ((uint64_t)2 * H * BOX + W) / (2ull * W); }
    else { rh = BOX; rw = ((uint64_t)2 * W * BOX + H) / (2ull * H); }
    static const int scales[] = {1, 2, 4, 8};
    files[i].scale = 8;
    for (int k = 0; k < 4; k++) {
        if (decode(i, scales[k], &w, &h, 1)) return -1;
        if (w >= rw && h >= rh) { files[i].scale = scales[k]; break; }
    }
    decode(i, files[i].scale, &w, &h, 1);
    printf("ok %d %d/8 %ux%u\n", i, files[i].scale, w, h);
    n_files++;
    return 0;
}

static void load_reply(const char *path) {
    if (load(path)) printf("error cannot load %s\n", path);
}

static int run_one(int idx, char *msg, size_t msg_len) {
    unsigned w, h;
    if (decode(idx, files[idx].scale, &w, &h, 0) == 0) return 0;
    snprintf(msg, msg_len, "decode failed");
    return -1;
}

int main(void) {
    dec.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.output_message = on_message;
    jpeg_create_decompress(&dec);
    printf("ready libjpeg-turbo %d\n", JPEG_LIB_VERSION);
    fflush(stdout);
    bench_serve(&(bench_worker){.n_files = &n_files, .load = load_reply, .run_one = run_one});
    jpeg_destroy_decompress(&dec);
    for (int i = 0; i < n_files; i++) free(files[i].data);
    free(rows);
    return 0;
}
