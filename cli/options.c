/* The thumbnail command's arguments: options into a thumb_options, inputs into a list.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "cli.h"

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

int opt_is(struct argp *a, const char *shrt, const char *lng, int wants_value, const char **val) {
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

static void add_input(struct cli *c, const char *s) {
    if (c->n_inputs == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        char **p = realloc(c->inputs, c->cap * sizeof *p);
        if (!p) { fputs("thumb: out of memory\n", stderr); exit(EXIT_SOME_FAILED); }
        c->inputs = p;
    }
    c->inputs[c->n_inputs++] = xstrdup(s);
}

void read_inputs_from_stdin(struct cli *c) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n > 0) add_input(c, line);
    }
    free(line);
}

void parse_thumb_args(struct cli *c, int argc, char **argv) {
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

