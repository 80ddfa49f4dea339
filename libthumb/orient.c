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

void thumb__orient_reversed(int o, bool *rx, bool *ry) {
    uint32_t x, y;
    stored_of(o, 0, 0, 2, 2, &x, &y); /* the oriented origin comes from the stored far side? */
    *rx = x == 1;
    *ry = y == 1;
}

/* One oriented row: ow pixels from s, step bytes apart in the stored image. */
static inline void copy_row(uint8_t *d, const uint8_t *s, ptrdiff_t step, uint32_t ow, int ch) {
    for (uint32_t X = 0; X < ow; X++, d += ch, s += step)
        for (int c = 0; c < ch; c++) d[c] = s[c];
}

/* Where oriented row Y starts in the stored image, and the step (bytes) along it: the stored
 * position moves by one pixel or one row, always the same way. */
static const uint8_t *row_start(int o, const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, int ch, uint32_t Y,
                                ptrdiff_t *step) {
    uint32_t ow, oh, x0, y0, x1, y1;
    thumb__orient_dims(o, sw, sh, &ow, &oh);
    stored_of(o, 0, Y, sw, sh, &x0, &y0);
    stored_of(o, ow > 1 ? 1 : 0, Y, sw, sh, &x1, &y1);
    *step = ((ptrdiff_t)y1 - (ptrdiff_t)y0) * (ptrdiff_t)sstride + ((ptrdiff_t)x1 - (ptrdiff_t)x0) * ch;
    return src + y0 * sstride + (size_t)x0 * ch;
}

void thumb__orient_rows(int o, const uint8_t *src, uint32_t sw, uint32_t sh, size_t sstride, int ch, uint32_t Y0,
                        uint32_t n, uint8_t *dst, size_t dstride) {
    uint32_t ow, oh;
    thumb__orient_dims(o, sw, sh, &ow, &oh);
    if (o < 5 || n < 2 || ch != 3) {
        /* rows of the stored image, forwards or backwards: row by row reads well */
        for (uint32_t i = 0; i < n; i++) {
            ptrdiff_t step;
            const uint8_t *s = row_start(o, src, sw, sh, sstride, ch, Y0 + i, &step);
            uint8_t *d = dst + i * dstride;
            switch (ch) { /* constant channel counts: the inner loop unrolls */
            case 1: copy_row(d, s, step, ow, 1); break;
            case 3: copy_row(d, s, step, ow, 3); break;
            case 4: copy_row(d, s, step, ow, 4); break;
            default: copy_row(d, s, step, ow, ch); break;
            }
        }
        return;
    }
    /* A transpose: each oriented row is a stored column. Walk the n rows together, pixel by
     * pixel, so consecutive reads come from one stored row instead of n cache lines apart. */
    ptrdiff_t step, across;
    const uint8_t *s0 = row_start(o, src, sw, sh, sstride, ch, Y0, &step);
    const uint8_t *s1 = row_start(o, src, sw, sh, sstride, ch, Y0 + 1, &across);
    across = s1 - s0; /* from one oriented row to the next */
    for (uint32_t X = 0; X < ow; X++, s0 += step) {
        const uint8_t *s = s0;
        uint8_t *d = dst + (size_t)X * 3;
        for (uint32_t i = 0; i < n; i++, s += across, d += dstride) {
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
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
    for (uint32_t Y = 0; Y < oh; Y += 16)
        thumb__orient_rows(o, src, sw, sh, sstride, ch, Y, oh - Y < 16 ? oh - Y : 16, dst + Y * dstride, dstride);
}
