/* bench_floor: the floor - libjpeg-turbo decoding the same file at the DCT scale libthumb uses,
 * jpeg_read_scanlines alone (no resize, no encode). Same line protocol as bench_thumb.c:
 *   load PATH -> "ok INDEX SCALE/8 WxH"   run INDEX N -> "WALL_NS CPU_NS"   rss -> "HWM_KB RSS_KB"   quit
 * The scale: the smallest of 1/8, 2/8, 4/8 (else 8/8) whose decoded size covers the size the image
 * has after the 512x512 cover resize (before the crop). Decode settings as libthumb's decoder:
 * JDCT_ISLOW, fancy upsampling, RGB out, whole width. One decompress object, reused.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>

#define MAX_FILES 8
#define BOX 512u

struct err_mgr { struct jpeg_error_mgr pub; jmp_buf jb; };

static void on_error(j_common_ptr c) {
    struct err_mgr *e = (struct err_mgr *)c->err;
    longjmp(e->jb, 1);
}
static void on_message(j_common_ptr c) { (void)c; }

static struct { unsigned char *data; size_t len; int scale; } files[MAX_FILES];
static int n_files;
static struct jpeg_decompress_struct dec;
static struct err_mgr err;
static unsigned char *rows;
static size_t rows_cap;

static unsigned long long clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static int read_file(const char *path, unsigned char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); fclose(f); return -1; }
    fclose(f);
    *data = buf;
    *len = (size_t)n;
    return 0;
}

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
    if (n_files == MAX_FILES) return -1;
    int i = n_files;
    if (read_file(path, &files[i].data, &files[i].len)) return -1;
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

int main(void) {
    dec.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.output_message = on_message;
    jpeg_create_decompress(&dec);
    printf("ready libjpeg-turbo %d\n", JPEG_LIB_VERSION);
    fflush(stdout);

    char line[4096], arg[4096];
    while (fgets(line, sizeof line, stdin)) {
        int idx;
        unsigned long n;
        if (sscanf(line, "load %4095[^\n]", arg) == 1) {
            if (load(arg)) printf("error cannot load %s\n", arg);
        } else if (sscanf(line, "run %d %lu", &idx, &n) == 2 && idx >= 0 && idx < n_files) {
            unsigned w, h;
            int rc = 0;
            unsigned long long t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
            for (unsigned long i = 0; i < n && rc == 0; i++) rc = decode(idx, files[idx].scale, &w, &h, 0);
            unsigned long long t1 = clock_ns(CLOCK_MONOTONIC), c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
            if (rc) printf("error decode failed\n");
            else printf("%llu %llu\n", t1 - t0, c1 - c0);
        } else if (strncmp(line, "rss", 3) == 0) {
            FILE *f = fopen("/proc/self/status", "r");
            char l[256];
            long hwm = -1, rss = -1;
            while (f && fgets(l, sizeof l, f)) {
                if (strncmp(l, "VmHWM:", 6) == 0) hwm = strtol(l + 6, NULL, 10);
                if (strncmp(l, "VmRSS:", 6) == 0) rss = strtol(l + 6, NULL, 10);
            }
            if (f) fclose(f);
            printf("%ld %ld\n", hwm, rss);
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            printf("error bad command\n");
        }
        fflush(stdout);
    }
    jpeg_destroy_decompress(&dec);
    for (int i = 0; i < n_files; i++) free(files[i].data);
    free(rows);
    return 0;
}
