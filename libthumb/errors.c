/* Error codes, their text, and the per-context detail. */
#include "internal.h"

#include <stdio.h>

static const struct {
    const char *name;
    const char *text;
} errors[THUMB_ERROR_COUNT_] = {
    [THUMB_OK] = {"THUMB_OK", "success"},
    [THUMB_EINVAL] = {"THUMB_EINVAL", "invalid argument"},
    [THUMB_ENOMEM] = {"THUMB_ENOMEM", "out of memory"},
    [THUMB_EIO] = {"THUMB_EIO", "input/output error"},
    [THUMB_EUNSUPPORTED] = {"THUMB_EUNSUPPORTED", "unsupported image format"},
    [THUMB_ECORRUPT] = {"THUMB_ECORRUPT", "corrupt image data"},
    [THUMB_ETRUNCATED] = {"THUMB_ETRUNCATED", "truncated image data"},
    [THUMB_ELIMIT_PIXELS] = {"THUMB_ELIMIT_PIXELS", "image has more pixels than allowed"},
    [THUMB_ELIMIT_BYTES] = {"THUMB_ELIMIT_BYTES", "input is larger than allowed"},
    [THUMB_ELIMIT_SCANS] = {"THUMB_ELIMIT_SCANS", "progressive JPEG has more scans than allowed"},
    [THUMB_ELIMIT_CHUNK] = {"THUMB_ELIMIT_CHUNK", "metadata chunk over its size or count limit"},
    [THUMB_ELIMIT_OUTPUT] = {"THUMB_ELIMIT_OUTPUT", "output dimensions over the limit"},
    [THUMB_ELIMIT_MEMORY] = {"THUMB_ELIMIT_MEMORY", "frame buffer over the memory limit"},
    [THUMB_ECALLBACK] = {"THUMB_ECALLBACK", "a read or write callback failed"},
    [THUMB_EICC] = {"THUMB_EICC", "unusable colour profile"},
};

const char *thumb_strerror(int code) {
    if (code < 0 || code >= THUMB_ERROR_COUNT_ || !errors[code].text) return "unknown error";
    return errors[code].text;
}

const char *thumb_error_name(int code) {
    if (code < 0 || code >= THUMB_ERROR_COUNT_ || !errors[code].name) return "THUMB_EUNKNOWN";
    return errors[code].name;
}

const char *thumb_ctx_detail(const thumb_ctx *ctx) {
    return ctx ? ctx->detail : "";
}

int thumb__fail(thumb_ctx *ctx, int code, const char *fmt, ...) {
    /* Keep the first (innermost) detail: outer layers that pass a code through don't overwrite it. */
    if (ctx && ctx->detail[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->detail, sizeof ctx->detail, fmt, ap);
        va_end(ap);
    }
    return code;
}
