/* The smallest EXIF reader that can be trusted: it finds IFD0's Orientation tag and checks
 * every offset against the block before reading through it. */
#include "internal.h"

static unsigned rd16(const uint8_t *p, int le) { return le ? (unsigned)p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | p[1]; }
static uint32_t rd32(const uint8_t *p, int le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int thumb__exif_orientation(const uint8_t *tiff, size_t len) {
    if (!tiff || len < 8) return 0;
    int le;
    if (tiff[0] == 'I' && tiff[1] == 'I') le = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') le = 0;
    else return 0;
    if (rd16(tiff + 2, le) != 42) return 0;
    uint32_t ifd = rd32(tiff + 4, le);
    if (ifd < 8 || ifd > len || len - ifd < 2) return 0;
    unsigned count = rd16(tiff + ifd, le);
    /* Each entry is 12 bytes; the count must fit in what is left of the block. */
    if ((size_t)count > (len - ifd - 2) / 12) return 0;
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *e = tiff + ifd + 2 + (size_t)i * 12;
        if (rd16(e, le) != 0x0112) continue;
        unsigned type = rd16(e + 2, le);
        uint32_t n = rd32(e + 4, le);
        unsigned v;
        if (type == 3 && n >= 1) v = rd16(e + 8, le);          /* SHORT, inline */
        else if (type == 4 && n >= 1) v = rd32(e + 8, le);      /* LONG, inline (seen in the wild) */
        else return 0;
        return (v >= 1 && v <= 8) ? (int)v : 0;
    }
    return 0;
}
