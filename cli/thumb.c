/*
 * thumb: command-line front end of libthumb. Uses the public API (thumb.h) only.
 *
 *   thumb INPUT... -o OUTPUT [-s WxH] [options]     make thumbnails (one file, or a batch into a directory)
 *   thumb info FILE... [--json]                     print header metadata
 *
 * Exit status: 0 all done, 1 some input failed, 2 usage error. Interrupted by SIGINT/SIGTERM/SIGHUP,
 * it finishes the jobs in flight, prints the summary and dies by the same signal.
 *
 * Why outputs go through a staging directory: thumb_thumbnail_file already writes a temporary file and
 * renames it, but the temporary's name is the library's business. A second interrupt must stop at once
 * without leaving a partial file, so every job writes into a private directory (DIR/.thumb-XXXXXX) and
 * is renamed from there; aborting empties and removes that one directory, whatever the library named
 * its temporaries. Only SIGKILL can leave the staging directory behind, and never a partial output at a
 * final name.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "thumb.h"

#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2
#define MAX_JOBS 256

static const char usage_text[] =
    "usage: thumb INPUT -o OUTPUT [-s WxH] [options]\n"
    "       thumb INPUT... -o DIR [-j N] [options]\n"
    "       thumb info FILE... [--json]\n"
    "       thumb --version | --help\n"
    "\n"
    "Make JPEG or PNG thumbnails of JPEG and PNG images.\n"
    "\n"
    "  -o, --output PATH        output file, or the directory for several inputs (created if missing):\n"
    "                           DIR/<input name without extension>.<jpg|png>\n"
    "  -s, --size WxH           target box: 512x512, 512x or x512 (other side from the aspect ratio),\n"
    "                           512 means 512x512; without -s the input size is kept\n"
    "  --fit MODE               cover (default), contain, fill, inside, outside\n"
    "  --position POS           centre (default), north, northeast, east, southeast, south,\n"
    "                           southwest, west, northwest\n"
    "  --kernel K               lanczos3 (default), nearest, linear, cubic\n"
    "  -q, --quality N          JPEG quality 1..100 (default 80)\n"
    "  --format F               jpeg or png (default: from the output extension; jpeg for a directory)\n"
    "  --progressive            progressive JPEG / interlaced PNG\n"
    "  --chroma 420|444         JPEG chroma subsampling (default 420)\n"
    "  --background COLOUR      #rrggbb or #rrggbbaa, for flattening alpha and padding (default #ffffff)\n"
    "  --no-orient              ignore the EXIF orientation\n"
    "  --without-enlargement    never upscale\n"
    "  --no-fast-shrink         JPEG: leave Lanczos3 a factor of 2 after the DCT-scaled decode\n"
    "                           (slower, closer to a full decode; default is the fastest scale)\n"
    "  --max-pixels N           refuse inputs with more than N pixels\n"
    "  --png-compression N      zlib level 0..9 (default 6)\n"
    "  --keep-colour            leave pixel values alone instead of converting ICC profiles to sRGB\n"
    "  -j, --jobs N             parallel jobs (default 1; 0 = number of CPUs)\n"
    "  -@                       also read input names from stdin, one per line\n"
    "  --json                   (info) print JSON: one object, or an array for several files\n"
    "  -h, --help               this text\n"
    "  --version                library version and SIMD path\n"
    "\n"
    "Exit status: 0 all done, 1 some input failed, 2 usage error.\n";

/* ---------------------------------------------------------------- small helpers */

static void usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("thumb: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'thumb --help'.\n", stderr);
    va_end(ap);
    exit(EXIT_USAGE);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("thumb: out of memory\n", stderr);
        exit(EXIT_SOME_FAILED);
    }
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* "%s%s%s" into a fresh string. */
static char *join3(const char *a, const char *b, const char *c) {
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *p = xmalloc(la + lb + lc + 1);
    memcpy(p, a, la);
    memcpy(p + la, b, lb);
    memcpy(p + la + lb, c, lc + 1);
    return p;
}

/* A whole decimal number in [min, max]; no sign, no spaces, no suffix. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
    if (!s || *s < '0' || *s > '9') return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* "WxH", "Wx", "xH" or "N" (= NxN). 0 for an automatic side. */
static int parse_size(const char *s, uint32_t *w, uint32_t *h) {
    const uint64_t max = 1000000;
    const char *x = strpbrk(s, "xX");
    uint64_t a = 0, b = 0;
    if (!x) {
        if (parse_u64(s, 1, max, &a)) return -1;
        *w = *h = (uint32_t)a;
        return 0;
    }
    if (x == s && x[1] == '\0') return -1;
    if (x != s) {
        char buf[32];
        size_t n = (size_t)(x - s);
        if (n >= sizeof buf) return -1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (parse_u64(buf, 1, max, &a)) return -1;
    }
    if (x[1] != '\0' && parse_u64(x + 1, 1, max, &b)) return -1;
    *w = (uint32_t)a;
    *h = (uint32_t)b;
    return 0;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "#rrggbb" or "#rrggbbaa" (the '#' optional). */
static int parse_colour(const char *s, uint8_t rgba[4]) {
    if (*s == '#') s++;
    size_t n = strlen(s);
    if (n != 6 && n != 8) return -1;
    rgba[3] = 255;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) return -1;
        rgba[i / 2] = (uint8_t)(hi * 16 + lo);
    }
    return 0;
}

static int ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Output format from a file name; UNKNOWN when the extension says nothing we can write. */
static int format_from_name(const char *path) {
    if (ends_with_ci(path, ".png")) return THUMB_FORMAT_PNG;
    if (ends_with_ci(path, ".jpg") || ends_with_ci(path, ".jpeg") || ends_with_ci(path, ".jpe"))
        return THUMB_FORMAT_JPEG;
    return THUMB_FORMAT_UNKNOWN;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Both names exist and are one file (hard links, "./x.jpg" and "x.jpg", ...). */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (strcmp(a, "-") == 0 || stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* mkdir -p. */
static int make_dirs(const char *path) {
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) { rc = -1; break; }
        *s = c;
        if (c == '\0') break;
    }
    if (rc == 0 && !is_dir(path)) { errno = ENOTDIR; rc = -1; }
    free(p);
    return rc;
}

/* Base name without its extension: "a/b/photo.jpeg" -> "photo", ".hidden" stays ".hidden". */
static char *stem_of(const char *path) {
    char *p = xstrdup(path);
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    const char *slash = strrchr(p, '/');
    char *stem = xstrdup(slash ? slash + 1 : p);
    free(p);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    return stem;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- option parsing */

/* One argument step: matches "-x", "--name", "--name=value"; *val receives the value when wanted. */
struct argp {
    int argc;
    char **argv;
    int i;
};

static int opt_is(struct argp *a, const char *shrt, const char *lng, int wants_value, const char **val) {
    const char *arg = a->argv[a->i];
    size_t ll = lng ? strlen(lng) : 0;
    const char *inline_val = NULL;
    int hit = 0;
    if (shrt && strncmp(arg, shrt, strlen(shrt)) == 0) {
        size_t sl = strlen(shrt);
        if (arg[sl] == '\0') hit = 1;
        else if (wants_value) { hit = 1; inline_val = arg + sl; }   /* -q80, -j2 */
    }
    if (!hit && lng && strncmp(arg, lng, ll) == 0) {
        if (arg[ll] == '\0') hit = 1;
        else if (arg[ll] == '=') {
            if (!wants_value) usage_error("option '%s' takes no value", lng);
            hit = 1;
            inline_val = arg + ll + 1;
        }
    }
    if (!hit) return 0;
    if (wants_value) {
        if (inline_val) *val = inline_val;
        else if (a->i + 1 < a->argc) *val = a->argv[++a->i];
        else usage_error("option '%s' needs a value", arg);
    }
    return 1;
}

static void print_version(void) {
    printf("thumb %s (libthumb %s, simd %s)\n", thumb_version_string(), thumb_version_string(),
           thumb_simd_name());
}

/* ---------------------------------------------------------------- info */

static void json_string(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') { fputc('\\', f); fputc((int)c, f); p++; continue; }
        if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            default: fprintf(f, "\\u%04x", c); break;
            }
            p++;
            continue;
        }
        if (c < 0x80) { fputc((int)c, f); p++; continue; }
        /* Multi-byte: copy a well-formed UTF-8 sequence, replace anything else (file names are bytes). */
        int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        int ok = len > 0;
        for (int k = 1; ok && k < len; k++) ok = (p[k] & 0xc0) == 0x80;
        if (ok && len == 3) {
            unsigned cp = ((c & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
            ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        }
        if (ok && len == 4) {
            unsigned cp = ((c & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
            ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (ok) { fwrite(p, 1, (size_t)len, f); p += len; }
        else { fputs("\\ufffd", f); p++; }
    }
    fputc('"', f);
}

static const char *yes_no(int v) { return v ? "yes" : "no"; }
static const char *json_bool(int v) { return v ? "true" : "false"; }

static void info_json(const char *path, const thumb_info *in) {
    fputs("{\"file\": ", stdout);
    json_string(stdout, path);
    printf(", \"format\": \"%s\", \"width\": %u, \"height\": %u, \"stored_width\": %u, \"stored_height\": %u, "
           "\"orientation\": %d, \"channels\": %d, \"bit_depth\": %d, \"has_alpha\": %s, \"progressive\": %s, "
           "\"has_icc\": %s, \"icc_size\": %u, \"has_exif\": %s, \"colour_space\": %d, \"lossless\": %s}",
           thumb_format_name(in->format), in->width, in->height, in->stored_width, in->stored_height,
           in->orientation, in->channels, in->bit_depth, json_bool(in->has_alpha), json_bool(in->progressive),
           json_bool(in->has_icc), in->icc_size, json_bool(in->has_exif), in->colour_space, json_bool(in->lossless));
}

static void info_text(const char *path, const thumb_info *in) {
    printf("%s:\n", path);
    printf("  format       %s\n", thumb_format_name(in->format));
    printf("  size         %ux%u\n", in->width, in->height);
    printf("  stored size  %ux%u\n", in->stored_width, in->stored_height);
    printf("  orientation  %d\n", in->orientation);
    printf("  channels     %d\n", in->channels);
    printf("  bit depth    %d\n", in->bit_depth);
    printf("  alpha        %s\n", yes_no(in->has_alpha));
    printf("  %-12s %s\n", in->format == THUMB_FORMAT_PNG ? "interlaced" : "progressive", yes_no(in->progressive));
    if (in->has_icc) printf("  icc          yes, %u bytes\n", in->icc_size);
    else printf("  icc          no\n");
    printf("  exif         %s\n", yes_no(in->has_exif));
    if (in->format == THUMB_FORMAT_JPEG) printf("  lossless     %s\n", yes_no(in->lossless));
}

static int cmd_info(int argc, char **argv) {
    struct argp a = {argc, argv, 0};
    int json = 0, no_more_opts = 0;
    const char **files = xmalloc(sizeof *files * (size_t)(argc ? argc : 1));
    int n = 0;
    for (; a.i < argc; a.i++) {
        const char *arg = argv[a.i];
        if (no_more_opts || arg[0] != '-' || strcmp(arg, "-") == 0) { files[n++] = arg; continue; }
        if (strcmp(arg, "--") == 0) no_more_opts = 1;
        else if (opt_is(&a, NULL, "--json", 0, NULL)) json = 1;
        else if (opt_is(&a, "-h", "--help", 0, NULL)) { fputs(usage_text, stdout); free(files); return 0; }
        else usage_error("info: unknown option '%s'", arg);
    }
    if (n == 0) { free(files); usage_error("info: no input file"); }

    thumb_ctx *ctx = thumb_ctx_new();
    if (!ctx) { fputs("thumb: out of memory\n", stderr); free(files); return EXIT_SOME_FAILED; }
    int failed = 0;
    if (json && n > 1) fputs("[\n", stdout);
    for (int k = 0; k < n; k++) {
        thumb_info in;
        thumb_info_init(&in);
        int rc = thumb_info_file(ctx, files[k], NULL, &in);
        if (json && n > 1) fputs("  ", stdout);
        if (rc != THUMB_OK) {
            failed++;
            fflush(stdout);
            fprintf(stderr, "thumb: %s: %s: %s\n", files[k], thumb_error_name(rc), thumb_ctx_detail(ctx));
            if (json) {
                /* Keep one entry per input, so the array lines up with the arguments. */
                fputs("{\"file\": ", stdout);
                json_string(stdout, files[k]);
                fputs(", \"error\": ", stdout);
                json_string(stdout, thumb_error_name(rc));
                fputs(", \"detail\": ", stdout);
                json_string(stdout, thumb_ctx_detail(ctx));
                fputc('}', stdout);
            }
        } else if (json) {
            info_json(files[k], &in);
        } else {
            if (k > 0) putchar('\n');
            info_text(files[k], &in);
        }
        if (json) fputs(n > 1 && k + 1 < n ? ",\n" : "\n", stdout);
    }
    if (json && n > 1) fputs("]\n", stdout);
    thumb_ctx_free(ctx);
    free(files);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "thumb: writing to stdout failed: %s\n", strerror(errno));
        return EXIT_SOME_FAILED;
    }
    return failed ? EXIT_SOME_FAILED : 0;
}

/* ---------------------------------------------------------------- thumbnails */

struct job {
    const char *in;
    char *out;              /* final path */
    char *stage;            /* where the library writes it, in the staging directory */
    const char *pre_error;  /* set when the job must fail without running */
};

struct run {
    const thumb_options *opt;
    struct job *jobs;
    size_t n;
    int progress;           /* stderr is a TTY and this is a batch */
    const char *stage_dir;

    pthread_mutex_t mu;     /* guards everything below and all writes to stderr while running */
    size_t next, done, failed, active;
    atomic_int stop;        /* the signal that asked us to stop, 0 while running */
};

static void progress_clear(struct run *r) {
    if (r->progress) fputs("\r\033[K", stderr);
}

static void progress_draw(struct run *r) {
    if (!r->progress) return;
    enum { W = 30 };
    size_t fill = r->n ? r->done * W / r->n : W;
    char bar[W + 1];
    for (size_t k = 0; k < W; k++) bar[k] = k < fill ? '#' : '.';
    bar[W] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu", bar, r->done, r->n);
    if (r->failed) fprintf(stderr, ", %zu failed", r->failed);
    fflush(stderr);
}

static void *worker(void *arg) {
    struct run *r = arg;
    thumb_ctx *ctx = thumb_ctx_new();
    for (;;) {
        pthread_mutex_lock(&r->mu);
        if (r->next == r->n || atomic_load(&r->stop)) { pthread_mutex_unlock(&r->mu); break; }
        struct job *j = &r->jobs[r->next++];
        r->active++;
        pthread_mutex_unlock(&r->mu);

        int rc = THUMB_OK;
        char detail[1024] = "";
        if (j->pre_error) {
            rc = THUMB_EINVAL;
            snprintf(detail, sizeof detail, "%s", j->pre_error);
        } else if (!ctx) {
            rc = THUMB_ENOMEM;
            snprintf(detail, sizeof detail, "cannot create a context");
        } else {
            rc = thumb_thumbnail_file(ctx, j->in, j->stage, r->opt);
            if (rc != THUMB_OK) {
                snprintf(detail, sizeof detail, "%s", thumb_ctx_detail(ctx));
            } else if (rename(j->stage, j->out) != 0) {
                rc = THUMB_EIO;
                snprintf(detail, sizeof detail, "cannot rename to %s: %s", j->out, strerror(errno));
                unlink(j->stage);
            }
        }

        pthread_mutex_lock(&r->mu);
        r->active--;
        r->done++;
        if (rc != THUMB_OK) {
            r->failed++;
            progress_clear(r);
            fprintf(stderr, "thumb: %s: %s: %s\n", j->in, thumb_error_name(rc), detail);
        }
        progress_draw(r);
        pthread_mutex_unlock(&r->mu);
    }
    thumb_ctx_free(ctx);
    return NULL;
}

/* Empty and remove the staging directory. Removing it also stops workers from creating new
 * temporaries there, so repeat until it is gone. */
static void remove_stage(const char *dir) {
    for (int tries = 0; tries < 100; tries++) {
        DIR *d = opendir(dir);
        if (!d) return;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
        if (rmdir(dir) == 0 || (errno != ENOTEMPTY && errno != EEXIST)) return;
    }
}

static sigset_t stop_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

/* Die by sig, as a shell expects of a program it interrupted. */
static void die_by_signal(int sig) {
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* The stop signals are blocked in every thread; this one waits for them. First: no new jobs.
 * Second: remove the staging directory and die now. */
static void *signal_thread(void *arg) {
    struct run *r = arg;
    sigset_t set = stop_signals();
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0) continue;
        int expected = 0;
        /* Not cancelled while holding the lock or halfway through removing the staging directory. */
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        if (atomic_compare_exchange_strong(&r->stop, &expected, sig)) {
            pthread_mutex_lock(&r->mu);
            progress_clear(r);
            fprintf(stderr, "thumb: interrupted: finishing %zu job%s in progress (interrupt again to stop now)\n",
                    r->active, r->active == 1 ? "" : "s");
            progress_draw(r);
            pthread_mutex_unlock(&r->mu);
            pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
            continue;
        }
        remove_stage(r->stage_dir);
        die_by_signal(sig);
    }
    return NULL;
}

struct cli {
    thumb_options opt;
    const char *out;
    int format_set;
    long jobs;
    int from_stdin;
    char **inputs;
    size_t n_inputs, cap;
};

static void add_input(struct cli *c, const char *s) {
    if (c->n_inputs == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        char **p = realloc(c->inputs, c->cap * sizeof *p);
        if (!p) { fputs("thumb: out of memory\n", stderr); exit(EXIT_SOME_FAILED); }
        c->inputs = p;
    }
    c->inputs[c->n_inputs++] = xstrdup(s);
}

static void read_inputs_from_stdin(struct cli *c) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n > 0) add_input(c, line);
    }
    free(line);
}

static void parse_thumb_args(struct cli *c, int argc, char **argv) {
    struct argp a = {argc, argv, 0};
    int no_more_opts = 0;
    thumb_options_init(&c->opt);
    c->jobs = 1;
    for (; a.i < argc; a.i++) {
        const char *arg = argv[a.i], *v = NULL;
        uint64_t u;
        if (no_more_opts || arg[0] != '-' || strcmp(arg, "-") == 0) { add_input(c, arg); continue; }
        if (strcmp(arg, "--") == 0) no_more_opts = 1;
        else if (opt_is(&a, "-h", "--help", 0, NULL)) { fputs(usage_text, stdout); exit(0); }
        else if (opt_is(&a, NULL, "--version", 0, NULL)) { print_version(); exit(0); }
        else if (opt_is(&a, "-o", "--output", 1, &v)) c->out = v;
        else if (opt_is(&a, "-s", "--size", 1, &v)) {
            if (parse_size(v, &c->opt.width, &c->opt.height))
                usage_error("bad size '%s': use WxH, Wx, xH or N (sides 1..1000000)", v);
        } else if (opt_is(&a, NULL, "--fit", 1, &v)) {
            if ((c->opt.fit = thumb_fit_from_name(v)) < 0)
                usage_error("bad --fit '%s': use cover, contain, fill, inside or outside", v);
        } else if (opt_is(&a, NULL, "--position", 1, &v)) {
            if ((c->opt.position = thumb_position_from_name(v)) < 0)
                usage_error("bad --position '%s': use centre, north, northeast, east, southeast, south, "
                            "southwest, west or northwest", v);
        } else if (opt_is(&a, NULL, "--kernel", 1, &v)) {
            if ((c->opt.kernel = thumb_kernel_from_name(v)) < 0)
                usage_error("bad --kernel '%s': use lanczos3, nearest, linear or cubic", v);
        } else if (opt_is(&a, "-q", "--quality", 1, &v)) {
            if (parse_u64(v, 1, 100, &u)) usage_error("bad quality '%s': use 1..100", v);
            c->opt.quality = (int)u;
        } else if (opt_is(&a, NULL, "--format", 1, &v)) {
            if (strcasecmp(v, "jpeg") == 0 || strcasecmp(v, "jpg") == 0) c->opt.format = THUMB_FORMAT_JPEG;
            else if (strcasecmp(v, "png") == 0) c->opt.format = THUMB_FORMAT_PNG;
            else usage_error("bad --format '%s': use jpeg or png", v);
            c->format_set = 1;
        } else if (opt_is(&a, NULL, "--progressive", 0, NULL)) c->opt.progressive = 1;
        else if (opt_is(&a, NULL, "--chroma", 1, &v)) {
            if (strcmp(v, "420") == 0 || strcmp(v, "4:2:0") == 0) c->opt.chroma = THUMB_CHROMA_420;
            else if (strcmp(v, "444") == 0 || strcmp(v, "4:4:4") == 0) c->opt.chroma = THUMB_CHROMA_444;
            else usage_error("bad --chroma '%s': use 420 or 444", v);
        } else if (opt_is(&a, NULL, "--background", 1, &v)) {
            if (parse_colour(v, c->opt.background)) usage_error("bad --background '%s': use #rrggbb or #rrggbbaa", v);
        } else if (opt_is(&a, NULL, "--no-orient", 0, NULL)) c->opt.auto_orient = 0;
        else if (opt_is(&a, NULL, "--without-enlargement", 0, NULL)) c->opt.without_enlargement = 1;
        else if (opt_is(&a, NULL, "--no-fast-shrink", 0, NULL)) c->opt.fast_shrink_on_load = 0;
        else if (opt_is(&a, NULL, "--max-pixels", 1, &v)) {
            if (parse_u64(v, 1, UINT64_MAX, &u)) usage_error("bad --max-pixels '%s'", v);
            c->opt.max_input_pixels = u;
        } else if (opt_is(&a, NULL, "--png-compression", 1, &v)) {
            if (parse_u64(v, 0, 9, &u)) usage_error("bad --png-compression '%s': use 0..9", v);
            c->opt.png_compression = (int)u;
        } else if (opt_is(&a, NULL, "--keep-colour", 0, NULL) || opt_is(&a, NULL, "--keep-color", 0, NULL))
            c->opt.colour = THUMB_COLOUR_KEEP;
        else if (opt_is(&a, "-j", "--jobs", 1, &v)) {
            if (parse_u64(v, 0, MAX_JOBS, &u)) usage_error("bad --jobs '%s': use 0..%d", v, MAX_JOBS);
            c->jobs = (long)u;
        } else if (strcmp(arg, "-@") == 0) c->from_stdin = 1;
        else usage_error("unknown option '%s'", arg);
    }
}

/* Decide every job's output path; returns 1 for a batch (outputs in a directory). */
static int plan_jobs(struct cli *c, struct job *jobs, const char **out_dir) {
    const char *out = c->out;
    size_t olen = strlen(out);
    int batch = c->n_inputs > 1 || c->from_stdin || is_dir(out) || (olen > 0 && out[olen - 1] == '/');
    if (!batch) {
        if (same_file(c->inputs[0], out)) usage_error("the output would overwrite the input '%s'", out);
        if (!c->format_set) {
            c->opt.format = format_from_name(out);
            if (c->opt.format == THUMB_FORMAT_UNKNOWN)
                usage_error("cannot tell the output format from '%s': name it .jpg, .jpeg or .png, or use --format", out);
        }
        jobs[0].in = c->inputs[0];
        jobs[0].out = xstrdup(out);
        const char *slash = strrchr(out, '/');
        char *dir = slash ? xstrdup(out) : xstrdup(".");
        if (slash) dir[slash - out + (slash == out)] = '\0';
        *out_dir = dir;
        return 0;
    }
    struct stat st;
    if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode))
        usage_error("-o '%s' must be a directory for several inputs", out);
    if (!c->format_set) c->opt.format = THUMB_FORMAT_JPEG;
    const char *ext = c->opt.format == THUMB_FORMAT_PNG ? ".png" : ".jpg";
    for (size_t k = 0; k < c->n_inputs; k++) {
        const char *in = c->inputs[k];
        jobs[k].in = in;
        if (strcmp(in, "-") == 0) {
            jobs[k].pre_error = "stdin ('-') can only be the single input of a single output file";
            jobs[k].out = xstrdup("");
            continue;
        }
        char *stem = stem_of(in);
        char *tail = join3("/", stem, ext);
        jobs[k].out = join3(out, out[olen - 1] == '/' ? tail + 1 : tail, "");
        free(tail);
        free(stem);
        if (same_file(in, jobs[k].out)) jobs[k].pre_error = "the output would overwrite the input";
    }
    *out_dir = xstrdup(out);
    return 1;
}

static int cmp_job_out(const void *pa, const void *pb) {
    const struct job *a = *(const struct job *const *)pa, *b = *(const struct job *const *)pb;
    int d = strcmp(a->out, b->out);
    return d ? d : (a < b ? -1 : a > b);
}

/* Two inputs with one output name (a/x.jpg, b/x.png): the later one fails instead of overwriting. */
static void mark_collisions(struct job *jobs, size_t n) {
    struct job **order = xmalloc(n * sizeof *order);
    for (size_t k = 0; k < n; k++) order[k] = &jobs[k];
    qsort(order, n, sizeof *order, cmp_job_out);
    for (size_t k = 1; k < n; k++)
        if (!order[k]->pre_error && order[k]->out[0] && strcmp(order[k]->out, order[k - 1]->out) == 0)
            order[k]->pre_error = "another input has the same output name";
    free(order);
}

static int cmd_thumb(int argc, char **argv) {
    struct cli c = {0};
    parse_thumb_args(&c, argc, argv);
    if (!c.out) usage_error("missing -o OUTPUT");
    if (c.out[0] == '\0') usage_error("empty -o");
    if (strcmp(c.out, "-") == 0) usage_error("writing to stdout is not supported: give -o a file name");
    if (c.from_stdin) read_inputs_from_stdin(&c);
    if (c.n_inputs == 0) usage_error("no input file");
    if (c.jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        c.jobs = cpus > 0 ? (cpus < MAX_JOBS ? cpus : MAX_JOBS) : 1;
    }
    if ((size_t)c.jobs > c.n_inputs) c.jobs = (long)c.n_inputs;

    struct job *jobs = calloc(c.n_inputs, sizeof *jobs);
    if (!jobs) { fputs("thumb: out of memory\n", stderr); return EXIT_SOME_FAILED; }
    const char *out_dir = NULL;
    int batch = plan_jobs(&c, jobs, &out_dir);
    if (batch) {
        mark_collisions(jobs, c.n_inputs);
        if (make_dirs(out_dir) != 0) {
            fprintf(stderr, "thumb: cannot create directory %s: %s\n", out_dir, strerror(errno));
            return EXIT_SOME_FAILED;
        }
    }
    char *stage_dir = join3(out_dir, "/.thumb-XXXXXX", "");
    if (!mkdtemp(stage_dir)) {
        fprintf(stderr, "thumb: cannot create a staging directory in %s: %s\n", out_dir, strerror(errno));
        return EXIT_SOME_FAILED;
    }
    const char *ext = c.opt.format == THUMB_FORMAT_PNG ? ".png" : ".jpg";
    for (size_t k = 0; k < c.n_inputs; k++) {
        char num[32];
        snprintf(num, sizeof num, "/%zu", k);
        jobs[k].stage = join3(stage_dir, num, ext);
    }

    struct run r = {.opt = &c.opt, .jobs = jobs, .n = c.n_inputs, .stage_dir = stage_dir,
                    .progress = batch && isatty(STDERR_FILENO)};
    pthread_mutex_init(&r.mu, NULL);
    atomic_init(&r.stop, 0);

    /* Block the stop signals before any thread exists, so every thread inherits the mask. */
    sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t sig_tid, tids[MAX_JOBS];
    int have_sig_thread = pthread_create(&sig_tid, NULL, signal_thread, &r) == 0;

    double t0 = now_seconds();
    long started = 0;
    for (long k = 1; k < c.jobs; k++) {
        if (pthread_create(&tids[started], NULL, worker, &r) != 0) break;   /* fewer threads is fine */
        started++;
    }
    worker(&r);
    for (long k = 0; k < started; k++) pthread_join(tids[k], NULL);
    double dt = now_seconds() - t0;

    if (have_sig_thread) {
        pthread_cancel(sig_tid);
        pthread_join(sig_tid, NULL);
    }
    remove_stage(stage_dir);

    int sig = atomic_load(&r.stop);
    progress_clear(&r);
    if (batch || sig) {
        size_t ok = r.done - r.failed;
        fprintf(stderr, "thumb: %zu done, %zu failed", ok, r.failed);
        if (r.done < r.n) fprintf(stderr, ", %zu not started (interrupted)", r.n - r.done);
        fprintf(stderr, " in %.2f s (%.1f files/s)\n", dt, dt > 0 ? (double)r.done / dt : 0.0);
    }
    int status = r.failed ? EXIT_SOME_FAILED : 0;

    pthread_mutex_destroy(&r.mu);
    for (size_t k = 0; k < c.n_inputs; k++) { free(jobs[k].out); free(jobs[k].stage); }
    free(jobs);
    for (size_t k = 0; k < c.n_inputs; k++) free(c.inputs[k]);
    free(c.inputs);
    free(stage_dir);
    free((char *)out_dir);
    if (sig) die_by_signal(sig);
    return status;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "info") == 0) return cmd_info(argc - 2, argv + 2);
    return cmd_thumb(argc - 1, argv + 1);
}
