/* EXIF orientation, applied to the small output only: the plan already mapped the crop into
 * stored space, so here the resized pixels are just flipped or transposed into place. */
#include "internal.h"
#include "orient.h"

#include <string.h>

void thumb__orient_dims(int o, uint32_t sw, uint32_t sh, uint32_t *ow, uint32_t *oh) {
    if (o >= 5) { *ow = sh; *oh = sw; }
    else { *ow = sw; *oh = sh; }
}

/* Oriented pixel (X, Y) comes from stored pixel (x, y); see the EXIF spec's table. */
static inline void stored_of(int o, uint32_t X, uint32_t Y, uint32_t sw, uint32_t sh, uint32_t *x, uint32_t *y) {
    switch (o) {
    default:
    case 1: *x = X; *y = Y; break;
    case 2: *x = sw - 1 - X; *y = Y; break;
    case 3: *x = sw - 1 - X; *y = sh - 1 - Y; break;
    case 4: *x = X; *y = sh - 1 - Y; break;
    case 5: *x = Y; *y = X; break;
    case 6: *x = Y; *y = sh - 1 - X; break;
    case 7: *x = sw - 1 - Y; *y = sh - 1 - X; break;
    case 8: *x = sw - 1 - Y; *y = X; break;
    }
}

void thumb__orient_copy(int o, const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, int ch,
                        uint8_t *dst, size_t dstride) {
    uint32_t ow, oh;
    thumb__orient_dims(o, sw, sh, &ow, &oh);
    if (o == 1) {
        for (uint32_t y = 0; y < sh; y++) memcpy(dst + y * dstride, src + y * sstride, (size_t)sw * ch);
        return;
    }
    for (uint32_t Y = 0; Y < oh; Y++) {
        uint8_t *d = dst + Y * dstride;
        for (uint32_t X = 0; X < ow; X++) {
            uint32_t x, y;
            stored_of(o, X, Y, sw, sh, &x, &y);
            const uint8_t *s = src + y * sstride + (size_t)x * ch;
            for (int c = 0; c < ch; c++) d[(size_t)X * ch + c] = s[c];
        }
    }
}
