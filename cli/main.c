/*
 * thumb: command-line front end of libthumb. Uses the public API (thumb.h) only.
 *
 *   thumb INPUT... -o OUTPUT [-s WxH] [options]     make thumbnails (one file, or a batch into a directory)
 *   thumb info FILE... [--json]                     print header metadata
 *
 * Exit status: 0 all done, 1 some input failed, 2 usage error. Interrupted by SIGINT/SIGTERM/SIGHUP,
 * it finishes the jobs in flight, prints the summary and dies by the same signal.
 * cli.h lists the files the CLI is made of.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char usage_text[] =
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

void usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("thumb: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'thumb --help'.\n", stderr);
    va_end(ap);
    exit(EXIT_USAGE);
}

void print_version(void) {
    printf("thumb %s (libthumb %s, simd %s)\n", thumb_version_string(), thumb_version_string(),
           thumb_simd_name());
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "info") == 0) return cmd_info(argc - 2, argv + 2);
    return cmd_thumb(argc - 1, argv + 1);
}
