/* Where each input's thumbnail goes: one output file, or DIR/<input name without extension>.<jpg|png>
 * for a batch; inputs that must fail before they run (stdin in a batch, an output that would overwrite
 * its input or another input's output).
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

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

int make_dirs(const char *path) {
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

int plan_jobs(struct cli *c, struct job *jobs, const char **out_dir) {
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

void mark_collisions(struct job *jobs, size_t n) {
    struct job **order = xmalloc(n * sizeof *order);
    for (size_t k = 0; k < n; k++) order[k] = &jobs[k];
    qsort(order, n, sizeof *order, cmp_job_out);
    for (size_t k = 1; k < n; k++)
        if (!order[k]->pre_error && order[k]->out[0] && strcmp(order[k]->out, order[k - 1]->out) == 0)
            order[k]->pre_error = "another input has the same output name";
    free(order);
}
