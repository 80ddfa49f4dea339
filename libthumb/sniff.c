/* Format detection from magic bytes only; names and MIME types are never trusted. */
#include "internal.h"

#include <string.h>

int thumb__sniff(const uint8_t *p, size_t n) {
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return THUMB_FORMAT_JPEG;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return THUMB_FORMAT_PNG;
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) return THUMB_FORMAT_GIF;
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) return THUMB_FORMAT_WEBP;
    if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0) {
        const uint8_t *b = p + 8;
        if (memcmp(b, "avif", 4) == 0 || memcmp(b, "avis", 4) == 0) return THUMB_FORMAT_AVIF;
        if (memcmp(b, "heic", 4) == 0 || memcmp(b, "heix", 4) == 0 || memcmp(b, "hevc", 4) == 0 ||
            memcmp(b, "heim", 4) == 0 || memcmp(b, "heis", 4) == 0 || memcmp(b, "mif1", 4) == 0 ||
            memcmp(b, "msf1", 4) == 0)
            return THUMB_FORMAT_HEIF;
    }
    if (n >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0)) return THUMB_FORMAT_TIFF;
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') return THUMB_FORMAT_BMP;
    if (n >= 2 && p[0] == 0xFF && p[1] == 0x0A) return THUMB_FORMAT_JXL;
    if (n >= 12 && memcmp(p, "\0\0\0\x0cJXL \r\n\x87\n", 12) == 0) return THUMB_FORMAT_JXL;
    if (n >= 4 && memcmp(p, "\0\0\1\0", 4) == 0) return THUMB_FORMAT_ICO;
    return THUMB_FORMAT_UNKNOWN;
}

int thumb_sniff(const void *data, size_t len) {
    if (!data) return THUMB_FORMAT_UNKNOWN;
    return thumb__sniff(data, len);
}

const char *thumb_format_name(int format) {
    switch (format) {
    case THUMB_FORMAT_JPEG: return "jpeg";
    case THUMB_FORMAT_PNG: return "png";
    case THUMB_FORMAT_GIF: return "gif";
    case THUMB_FORMAT_WEBP: return "webp";
    case THUMB_FORMAT_HEIF: return "heif";
    case THUMB_FORMAT_AVIF: return "avif";
    case THUMB_FORMAT_TIFF: return "tiff";
    case THUMB_FORMAT_BMP: return "bmp";
    case THUMB_FORMAT_JXL: return "jxl";
    case THUMB_FORMAT_ICO: return "ico";
    default: return "unknown";
    }
}
