/* Arithmetic-coded JPEGs (sequential and progressive) must decode: the test transcodes a
 * corpus photo losslessly (coefficients copied, entropy coding switched) with libjpeg itself,
 * so the thumbnails must be byte-identical to the Huffman original's. */
#include "tt.h"
#include "thumb.h"
#include "internal.h"

#include <jpeglib.h>
#include <setjmp.h>

struct jerr { struct jpeg_error_mgr pub; jmp_buf jb; };
static void on_error(j_common_ptr c) { longjmp(((struct jerr *)c->err)->jb, 1); }

static unsigned char *transcode(const unsigned char *in, size_t len, int progressive, unsigned long *out_len) {
    struct jpeg_decompress_struct d;
    struct jpeg_compress_struct c;
    struct jerr je;
    unsigned char *out = NULL;
    *out_len = 0;
    d.err = jpeg_std_error(&je.pub);
    c.err = &je.pub;
    je.pub.error_exit = on_error;
    jpeg_create_decompress(&d);
    jpeg_create_compress(&c);
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&d);
        jpeg_destroy_compress(&c);
        free(out);
        return NULL;
    }
    jpeg_mem_src(&d, in, len);
    jpeg_read_header(&d, TRUE);
    jvirt_barray_ptr *coef = jpeg_read_coefficients(&d);
    jpeg_mem_dest(&c, &out, out_len);
    jpeg_copy_critical_parameters(&d, &c);
    c.arith_code = TRUE;
    c.optimize_coding = FALSE;
    if (progressive) jpeg_simple_progression(&c);
    jpeg_write_coefficients(&c, coef);
    jpeg_finish_compress(&c);
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    jpeg_destroy_compress(&c);
    return out;
}

static int is_arith(const unsigned char *p, size_t n) {
    /* SOF9 (sequential) or SOF10 (progressive), arithmetic coding. */
    for (size_t i = 2; i + 1 < n; i++)
        if (p[i] == 0xFF && (p[i + 1] == 0xC9 || p[i + 1] == 0xCA)) return 1;
    return 0;
}

int main(void) {
    size_t len = 0;
    unsigned char *orig = tt_read_file(tt_corpus("photos/flowers.jpeg"), &len);
    TT_REQUIRE(orig != NULL, "read flowers.jpeg");
    thumb_options opt;
    thumb_options_init(&opt);
    opt.width = 200;
    opt.height = 150;
    thumb_ctx *ctx = thumb_ctx_new();
    /* libjpeg decodes the arithmetic files, and only our decoder (Huffman) can keep 4:2:0 chroma
     * at its own size: the like-for-like comparison has that path off (test_streamed_jpeg has
     * its own tests) */
    ctx->no_half_chroma = 1;
    void *want = NULL;
    size_t want_len = 0;
    TT_REQUIRE(thumb_thumbnail_mem(ctx, orig, len, &opt, &want, &want_len) == THUMB_OK, "huffman original");
    for (int progressive = 0; progressive <= 1; progressive++) {
        unsigned long alen = 0;
        unsigned char *arith = transcode(orig, len, progressive, &alen);
        TT_CHECK(arith && is_arith(arith, alen), "transcode to arithmetic (progressive %d)", progressive);
        if (!arith) continue;
        thumb_info info;
        thumb_info_init(&info);
        TT_CHECK(thumb_info_mem(ctx, arith, alen, NULL, &info) == THUMB_OK && info.width == 1920 && info.progressive == progressive,
                 "info: %ux%u progressive %d", info.width, info.height, info.progressive);
        void *got = NULL;
        size_t got_len = 0;
        int rc = thumb_thumbnail_mem(ctx, arith, alen, &opt, &got, &got_len);
        TT_CHECK(rc == THUMB_OK, "arithmetic (progressive %d): %s %s", progressive, thumb_error_name(rc), thumb_ctx_detail(ctx));
        TT_CHECK(rc != THUMB_OK || (got_len == want_len && memcmp(got, want, want_len) == 0),
                 "arithmetic (progressive %d) thumbnail differs from the Huffman one", progressive);
        thumb_free(got);
        free(arith);
    }
    thumb_free(want);
    thumb_ctx_free(ctx);
    free(orig);
    return tt_report(__FILE__);
}
