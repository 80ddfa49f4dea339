/* The batch progress bar on a terminal: "[#####.....] DONE/N, F failed" redrawn in place on stderr.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "cli.h"

void progress_clear(struct run *r) {
    if (r->progress) fputs("\r\033[K", stderr);
}

void progress_draw(struct run *r) {
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
