/* bench_thumb: libthumb's C API as a long-lived benchmark worker (protocol: bench_worker.h).
 * Job: 512x512 cover, JPEG q80, every other option at its default. One context, reused.
 * With --libjpeg-path, libjpeg decodes every JPEG (the context's test/bench hook no_jdfast): the
 * path progressive files took before issue 18, measured in the same run as the one that replaced it.
 */
#define _POSIX_C_SOURCE 200809L
#include "thumb.h"
#include "internal.h" /* struct thumb_ctx, for its no_jdfast hook */

#include "bench_worker.h"

static struct { unsigned char *data; size_t len; } files[BENCH_MAX_FILES];
static int n_files;
static thumb_ctx *ctx;
static thumb_options opt;

static void load(const char *path) {
    if (n_files == BENCH_MAX_FILES || bench_read_file(path, &files[n_files].data, &files[n_files].len))
        printf("error cannot read %s\n", path);
    else
        printf("ok %d\n", n_files++);
}

static int run_one(int idx, char *msg, size_t msg_len) {
    void *out = NULL;
    size_t out_len = 0;
    int rc = thumb_thumbnail_mem(ctx, files[idx].data, files[idx].len, &opt, &out, &out_len);
    if (rc == THUMB_OK && out_len == 0) rc = THUMB_EIO;
    thumb_free(out);
    if (rc) snprintf(msg, msg_len, "%s %s", thumb_error_name(rc), thumb_ctx_detail(ctx));
    return rc;
}

static void save(int idx, const char *path, const char *line) {
    thumb_options o = opt;
    if (strstr(line, " png")) o.format = THUMB_FORMAT_PNG;
    void *out = NULL;
    size_t out_len = 0;
    int rc = thumb_thumbnail_mem(ctx, files[idx].data, files[idx].len, &o, &out, &out_len);
    FILE *f = rc == THUMB_OK ? fopen(path, "wb") : NULL;
    if (rc) printf("error %s %s\n", thumb_error_name(rc), thumb_ctx_detail(ctx));
    else if (!f || fwrite(out, 1, out_len, f) != out_len) printf("error cannot write %s\n", path);
    else printf("ok %zu\n", out_len);
    if (f) fclose(f);
    thumb_free(out);
}

int main(int argc, char **argv) {
    ctx = thumb_ctx_new();
    if (!ctx) { fprintf(stderr, "bench_thumb: out of memory\n"); return 1; }
    ctx->no_jdfast = argc > 1 && strcmp(argv[1], "--libjpeg-path") == 0;
    thumb_options_init(&opt);
    opt.width = 512;
    opt.height = 512;
    opt.fit = THUMB_FIT_COVER;
    opt.quality = 80;

    printf("ready libthumb %s %s\n", thumb_version_string(), thumb_simd_name());
    fflush(stdout);
    bench_serve(&(bench_worker){.n_files = &n_files, .load = load, .run_one = run_one, .save = save});
    for (int i = 0; i < n_files; i++) free(files[i].data);
    thumb_ctx_free(ctx);
    return 0;
}
