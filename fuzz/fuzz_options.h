/* fuzz_thumbnail's option bytes: the first FUZZ_PARAM_BYTES bytes of an input choose the options,
 * the rest is the image. Shared with tests/test_crashers.c, which replays thumbnail-* findings with
 * the options they were found with. */
#ifndef THUMB_FUZZ_OPTIONS_H
#define THUMB_FUZZ_OPTIONS_H

#include "thumb.h"

#include <stdint.h>

#define FUZZ_PARAM_BYTES 14

static inline void fuzz_thumbnail_options(const uint8_t *b, thumb_options *o) {
    o->fit = b[0] % 5;
    o->position = b[1] % 9;
    o->kernel = b[2] % 4;
    o->width = 1 + ((unsigned)b[3] << 8 | b[4]) % 300;
    o->height = 1 + ((unsigned)b[5] << 8 | b[6]) % 300;
    switch ((b[9] >> 4) % 3) { /* both sides, or one derived from the aspect ratio */
    case 1: o->height = 0; break;
    case 2: o->width = 0; break;
    default: break;
    }
    o->format = (b[7] & 1) ? THUMB_FORMAT_PNG : THUMB_FORMAT_JPEG;
    o->progressive = (b[7] >> 1) & 1;
    o->auto_orient = (b[7] >> 2) & 1;
    o->without_enlargement = (b[7] >> 3) & 1;
    o->chroma = (b[7] >> 4) & 1;
    o->optimize_coding = (b[7] >> 5) & 1;
    o->colour = (b[7] >> 6) & 1;
    o->quality = 1 + b[8] % 100;
    o->png_compression = (b[9] & 15) % 10;
    o->background[0] = b[10];
    o->background[1] = b[11];
    o->background[2] = b[12];
    o->background[3] = b[13];
}

#endif
