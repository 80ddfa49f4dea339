/* Input sources (memory or read callback) and output sinks (growable buffer or write callback). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tsrc_init_mem(tsrc *s, thumb_ctx *ctx, const void *data, size_t len, uint64_t limit) {
    memset(s, 0, sizeof *s);
    static const uint8_t empty[1];
    s->mem = data ? data : empty;
    s->mem_len = data ? len : 0;
    s->limit = limit;
    s->ctx = ctx;
}

void tsrc_init_stream(tsrc *s, thumb_ctx *ctx, thumb_read_fn read, void *user, uint64_t limit) {
    memset(s, 0, sizeof *s);
    s->read = read;
    s->user = user;
    s->limit = limit;
    s->ctx = ctx;
}

/* One call of the user's callback, with the byte limit applied. */
static int64_t raw_read(tsrc *s, uint8_t *buf, size_t n) {
    if (s->error) return -1;
    if (s->eof || n == 0) return 0;
    int64_t got = s->read(s->user, buf, n);
    if (got < 0 || (uint64_t)got > n) {
        s->error = thumb__fail(s->ctx, THUMB_ECALLBACK, "read callback failed");
        return -1;
    }
    if (got == 0) s->eof = true;
    return got;
}

static int over_limit(tsrc *s, uint64_t more) {
    if (s->limit && s->consumed + more > s->limit) {
        s->error = thumb__fail(s->ctx, THUMB_ELIMIT_BYTES, "input is over the %llu-byte limit",
                               (unsigned long long)s->limit);
        return 1;
    }
    return 0;
}

size_t tsrc_peek(tsrc *s, const uint8_t **p, size_t n) {
    if (n > sizeof s->peek) n = sizeof s->peek;
    if (s->mem) {
        *p = s->mem + s->mem_pos;
        size_t left = s->mem_len - s->mem_pos;
        return left < n ? left : n;
    }
    while (s->peek_len < n && !s->eof && !s->error) {
        int64_t got = raw_read(s, s->peek + s->peek_len, n - s->peek_len);
        if (got <= 0) break;
        s->peek_len += (size_t)got;
    }
    *p = s->peek + s->peek_pos;
    return s->peek_len - s->peek_pos < n ? s->peek_len - s->peek_pos : n;
}

int64_t tsrc_read(tsrc *s, void *buf, size_t n) {
    if (s->error) return -1;
    if (n == 0) return 0;
    size_t got = 0;
    if (s->mem) {
        size_t left = s->mem_len - s->mem_pos;
        got = left < n ? left : n;
        memcpy(buf, s->mem + s->mem_pos, got);
        s->mem_pos += got;
    } else if (s->peek_pos < s->peek_len) {
        size_t left = s->peek_len - s->peek_pos;
        got = left < n ? left : n;
        memcpy(buf, s->peek + s->peek_pos, got);
        s->peek_pos += got;
    } else {
        int64_t r = raw_read(s, buf, n);
        if (r < 0) return -1;
        got = (size_t)r;
    }
    if (got && over_limit(s, got)) return -1;
    s->consumed += got;
    return (int64_t)got;
}

int tsink_write(tsink *s, const void *data, size_t n) {
    if (s->error) return s->error;
    if (n == 0) return THUMB_OK;
    if (s->write) {
        if (s->write(s->user, data, n) != 0)
            return s->error = thumb__fail(s->ctx, THUMB_ECALLBACK, "write callback failed");
    } else {
        size_t need;
        if (!thumb__add_size(s->len, n, &need))
            return s->error = thumb__fail(s->ctx, THUMB_ENOMEM, "output too large");
        if (need > s->cap) {
            size_t cap = s->cap ? s->cap : 65536;
            while (cap < need) {
                if (!thumb__mul_size(cap, 2, &cap))
                    return s->error = thumb__fail(s->ctx, THUMB_ENOMEM, "output too large");
            }
            uint8_t *nb = realloc(s->buf, cap);
            if (!nb) return s->error = thumb__fail(s->ctx, THUMB_ENOMEM, "out of memory growing output to %zu bytes", cap);
            s->buf = nb;
            s->cap = cap;
        }
        memcpy(s->buf + s->len, data, n);
        s->len = need;
    }
    s->written += n;
    return THUMB_OK;
}
