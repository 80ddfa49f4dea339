/* AVX2 against scalar over the whole corpus (issue 3): every corpus image thumbnailed at a few
 * sizes, fits, kernels and formats must give the same bytes (and the same return code) with the
 * AVX2 kernels and with THUMB_FORCE_SCALAR=1.
 *
 * The kernel choice is made once per process, on the first libthumb call, so the parent makes no
 * libthumb call at all: it forks one child with THUMB_FORCE_SCALAR=1 in its environment and one
 * without, each writes its outputs to its own temporary directory, and the parent compares. */
#define _GNU_SOURCE
#include "thumb.h"
#include "tt.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const dirs[] = {"photos", "exif", "jpeg-variants", "pngsuite", "edge"};

typedef struct variant {
    uint32_t w, h;
    int fit, kernel, format, position, chroma, transparent_bg;
} variant;

/* PNG where possible: JPEG quantisation could hide a difference of one. The avatar job first; then paths through the box prefilter, alpha, padding, enlargement
 * (DCT scale 8/8), every kernel, 4:4:4 and gravity. */
static const variant variants[] = {
    {512, 512, THUMB_FIT_COVER, THUMB_KERNEL_LANCZOS3, THUMB_FORMAT_JPEG, THUMB_POS_CENTRE, THUMB_CHROMA_420, 0},
    {200, 0, THUMB_FIT_INSIDE, THUMB_KERNEL_LANCZOS3, THUMB_FORMAT_PNG, THUMB_POS_CENTRE, THUMB_CHROMA_420, 0},
    {64, 64, THUMB_FIT_CONTAIN, THUMB_KERNEL_LANCZOS3, THUMB_FORMAT_PNG, THUMB_POS_CENTRE, THUMB_CHROMA_420, 1},
    {301, 123, THUMB_FIT_FILL, THUMB_KERNEL_CUBIC, THUMB_FORMAT_PNG, THUMB_POS_CENTRE, THUMB_CHROMA_420, 0},
    {777, 0, THUMB_FIT_INSIDE, THUMB_KERNEL_LINEAR, THUMB_FORMAT_PNG, THUMB_POS_CENTRE, THUMB_CHROMA_420, 0},
    {33, 35, THUMB_FIT_COVER, THUMB_KERNEL_NEAREST, THUMB_FORMAT_PNG, THUMB_POS_NORTHEAST, THUMB_CHROMA_420, 0},
};
#define NV (sizeof variants / sizeof *variants)

static char **files;
static size_t n_files;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_corpus(void)
{
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        const char *root = tt_corpus(dirs[d]);
        char rootbuf[4096];
        snprintf(rootbuf, sizeof rootbuf, "%s", root);
        DIR *dir = opendir(rootbuf);
        if (!dir) continue;
        struct dirent *e;
        while ((e = readdir(dir))) {
            char path[8192];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", rootbuf, e->d_name);
            if (e->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
            if (strstr(e->d_name, ".md") || strstr(e->d_name, ".txt")) continue;
            files = realloc(files, (n_files + 1) * sizeof *files);
            files[n_files++] = strdup(path);
        }
        closedir(dir);
    }
    qsort(files, n_files, sizeof *files, by_name);
}

static void out_path(char *buf, size_t n, const char *dir, size_t f, size_t v)
{
    snprintf(buf, n, "%s/%zu_%zu", dir, f, v);
}

/* The child: every file x variant; the file holds the return code line, then the output. */
static int child(const char *dir, int scalar)
{
    if (scalar) setenv("THUMB_FORCE_SCALAR", "1", 1);
    else unsetenv("THUMB_FORCE_SCALAR");
    char p[4096];
    snprintf(p, sizeof p, "%s/simd", dir);
    FILE *s = fopen(p, "w");
    if (!s) return 2;
    fprintf(s, "%s\n", thumb_simd_name()); /* the first libthumb call: fixes the kernel choice */
    fclose(s);
    thumb_ctx *ctx = thumb_ctx_new();
    for (size_t f = 0; f < n_files; f++) {
        size_t len = 0;
        unsigned char *data = tt_read_file(files[f], &len);
        for (size_t v = 0; v < NV; v++) {
            thumb_options o;
            thumb_options_init(&o);
            o.width = variants[v].w;
            o.height = variants[v].h;
            o.fit = variants[v].fit;
            o.kernel = variants[v].kernel;
            o.format = variants[v].format;
            o.position = variants[v].position;
            o.chroma = variants[v].chroma;
            o.png_compression = 1; /* the pixels are the point, not the deflate effort */
            if (variants[v].transparent_bg) memcpy(o.background, "\x20\x40\x60\x00", 4);
            void *out = NULL;
            size_t out_len = 0;
            int rc = data ? thumb_thumbnail_mem(ctx, data, len, &o, &out, &out_len) : -1000;
            out_path(p, sizeof p, dir, f, v);
            FILE *fo = fopen(p, "wb");
            if (!fo) return 2;
            fprintf(fo, "rc %d\n", rc);
            if (rc == THUMB_OK && out_len) fwrite(out, 1, out_len, fo);
            fclose(fo);
            thumb_free(out);
        }
        free(data);
    }
    thumb_ctx_free(ctx);
    return 0;
}

static int run_child(const char *dir, int scalar)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) _exit(child(dir, scalar));
    int st;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static unsigned char *slurp(const char *dir, const char *name, size_t *len)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return tt_read_file(p, len);
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4096];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

int main(void)
{
    list_corpus();
    TT_REQUIRE(n_files >= 50, "corpus at %s: only %zu files found", tt_corpus(""), n_files);
    char ds[] = "/tmp/thumb-simd-corpus-scalar.XXXXXX", dv[] = "/tmp/thumb-simd-corpus-avx2.XXXXXX";
    TT_REQUIRE(mkdtemp(ds) && mkdtemp(dv), "mkdtemp failed");
    int rs = run_child(ds, 1), rv = run_child(dv, 0);
    TT_CHECK(rs == 0 && rv == 0, "children exited %d (scalar) and %d (default)", rs, rv);

    size_t l1 = 0, l2 = 0;
    unsigned char *n1 = slurp(ds, "simd", &l1), *n2 = slurp(dv, "simd", &l2);
    int skipped = 0;
    if (n1 && n2) {
        TT_CHECK(strncmp((char *)n1, "scalar", 6) == 0, "THUMB_FORCE_SCALAR=1 child used %.*s", (int)l1, n1);
        if (strncmp((char *)n2, "avx2", 4) != 0) {
            printf("test_simd_corpus: SKIPPED: this CPU/OS has no AVX2 (kernels: %.*s), nothing to compare\n",
                   (int)(l2 && n2[l2 - 1] == '\n' ? l2 - 1 : l2), n2);
            skipped = 1;
        }
    } else {
        TT_CHECK(0, "a child wrote no kernel name");
    }
    free(n1);
    free(n2);

    size_t compared = 0, ok_outputs = 0, differ = 0;
    for (size_t f = 0; f < n_files && !skipped && rs == 0 && rv == 0; f++) {
        for (size_t v = 0; v < NV; v++) {
            char name[64];
            snprintf(name, sizeof name, "%zu_%zu", f, v);
            unsigned char *a = slurp(ds, name, &l1), *b = slurp(dv, name, &l2);
            TT_CHECK(a && b, "%s variant %zu: missing output", files[f], v);
            if (a && b) {
                compared++;
                if (strncmp((char *)a, "rc 0\n", 5) == 0) ok_outputs++;
                size_t first = 0, m = l1 < l2 ? l1 : l2;
                while (first < m && a[first] == b[first]) first++;
                if (l1 != l2 || first != m) differ++;
                TT_CHECK(l1 == l2 && first == m,
                         "%s variant %zu (%ux%u fit %d kernel %d format %d): scalar %zu bytes, avx2 %zu bytes, "
                         "first difference at byte %zu",
                         files[f], v, variants[v].w, variants[v].h, variants[v].fit, variants[v].kernel,
                         variants[v].format, l1, l2, first);
            }
            free(a);
            free(b);
        }
    }
    rm_dir(ds);
    rm_dir(dv);
    if (!skipped)
        fprintf(stderr, "test_simd_corpus: %zu files x %zu variants: %zu outputs compared (%zu thumbnails, the rest "
                "error codes), %zu differ\n", n_files, NV, compared, ok_outputs, differ);
    for (size_t f = 0; f < n_files; f++) free(files[f]);
    free(files);
    return tt_report("test_simd_corpus");
}
