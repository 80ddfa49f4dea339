/* The EXIF orientation parser on arbitrary bytes (internal API). */
#include "fuzz_common.h"
#include "internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* An exact-size heap copy, so ASan sees any read past the end of the block. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p) return 0;
    if (size) memcpy(p, data, size);
    int v = thumb__exif_orientation(p, size);
    FUZZ_CHECK(v >= 0 && v <= 8, "orientation %d", v);
    free(p);
    return 0;
}
