#ifndef THUMB_ORIENT_H
#define THUMB_ORIENT_H
#include <stddef.h>
#include <stdint.h>
#include "internal.h"
/* Oriented size of a stored sw x sh image. */
THUMB_HIDDEN void thumb__orient_dims(int o, uint32_t sw, uint32_t sh, uint32_t *ow, uint32_t *oh);
/* Whether orientation o reverses the stored image's x and y axes (a turn or a flip that runs
 * that axis backwards in the displayed image). */
THUMB_HIDDEN void thumb__orient_reversed(int o, bool *rx, bool *ry);
/* Rows Y0 .. Y0 + n - 1 of a stored image in displayed orientation o (1..8) into dst, rows
 * dstride apart. */
THUMB_HIDDEN void thumb__orient_rows(int o, const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, int ch,
                                     uint32_t Y0, uint32_t n, uint8_t *dst, size_t dstride);
/* Copy a stored image into dst in displayed orientation o (1..8). */
THUMB_HIDDEN void thumb__orient_copy(int o, const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, int ch,
                                     uint8_t *dst, size_t dstride);
#endif
