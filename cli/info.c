/* `thumb info FILE... [--json]`: each file's header metadata (thumb_info_file), as text or JSON
 * (one object, or an array lined up with the arguments, failures included).
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

int cmd_info(int argc, char **argv) {
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
