/* Header parsing and decoding of arbitrary bytes: thumb_info_mem, then a 32x32 cover
 * thumbnail so the decode, resample and encode paths run as well. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    thumb_ctx *ctx = thumb_ctx_new();
    if (!ctx) return 0;
    thumb_options o;
    thumb_options_init(&o);
    fuzz_tight_limits(&o);

    thumb_info info;
    thumb_info_init(&info);
    int rc = thumb_info_mem(ctx, data, size, &o, &info);
    FUZZ_CHECK(fuzz_known_code(rc), "thumb_info_mem returned %d", rc);
    if (rc == THUMB_OK) {
        FUZZ_CHECK(info.width >= 1 && info.height >= 1, "info %ux%u", info.width, info.height);
        FUZZ_CHECK(info.orientation >= 1 && info.orientation <= 8, "orientation %d", info.orientation);
        FUZZ_CHECK(info.channels >= 1 && info.channels <= 4, "channels %d", info.channels);
        FUZZ_CHECK((uint64_t)info.width * info.height <= o.max_input_pixels, "info %ux%u over the pixel limit",
                   info.width, info.height);
    }

    /* Whatever the header said, the thumbnail must fail cleanly or produce exactly 32x32. */
    o.width = 32;
    o.height = 32;
    o.quality = 50;
    void *out = NULL;
    size_t out_len = 0;
    int rc2 = thumb_thumbnail_mem(ctx, data, size, &o, &out, &out_len);
    FUZZ_CHECK(fuzz_known_code(rc2), "thumb_thumbnail_mem returned %d", rc2);
    if (rc2 == THUMB_OK) {
        FUZZ_CHECK(rc == THUMB_OK, "thumbnail succeeded where info failed with %s", thumb_error_name(rc));
        thumb_info oi;
        fuzz_check_output(out, out_len, THUMB_FORMAT_JPEG, &oi);
        FUZZ_CHECK(oi.width == 32 && oi.height == 32, "cover 32x32 gave %ux%u", oi.width, oi.height);
        thumb_free(out);
    }
    thumb_ctx_free(ctx);
    return 0;
}
