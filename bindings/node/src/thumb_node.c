/*
 * libthumb's Node addon, on raw Node-API (no C++ wrapper).
 *
 * One native entry point does the work: run(kind, input, opts, outPath, callback). index.js
 * validates every sharp-style argument and hands over a flat object of numbers; this file copies
 * it into a plain-data job (thumb_options and pointers) on the main thread, pins the input Buffer
 * with a reference, and runs the job on the libuv pool (napi_create_async_work). The worker
 * touches no JS value; the completion callback (main thread) builds the result or an Error whose
 * .code is the C code's name ("THUMB_ECORRUPT").
 *
 * SPDX-License-Identifier: MIT
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thumb.h>

enum job_kind { KIND_BUFFER = 0, KIND_FILE = 1, KIND_METADATA = 2 };

typedef struct job {
    napi_async_work work;
    napi_ref input_ref;   /* the pinned input Buffer / Uint8Array, NULL for a path */
    napi_ref callback_ref;
    int kind;
    const uint8_t *data;  /* the pinned input's bytes, or file_buf */
    size_t len;
    char *in_path;        /* malloc'd, NULL for memory input */
    char *out_path;       /* malloc'd, KIND_FILE only */
    thumb_options opt;
    /* results, written by the worker */
    int rc;
    char detail[512];
    uint8_t *file_buf;    /* a path input read into memory */
    void *out;            /* thumb_free() */
    size_t out_len;
    thumb_info info;      /* KIND_METADATA: the input's; otherwise the output's */
    uint64_t out_size;    /* bytes written (KIND_FILE) */
    size_t input_size;    /* bytes of memory input (metadata's size) */
} job;

/* ---------------------------------------------------------------- worker side (no JS values) */

/* One context per pool thread, kept for the thread's life: its caches (colour decision, weight
 * tables, the resized-image buffer) make the next job on that thread faster. */
static _Thread_local thumb_ctx *tls_ctx;

static thumb_ctx *worker_ctx(void) {
    if (!tls_ctx) tls_ctx = thumb_ctx_new();
    return tls_ctx;
}

static int fail(job *j, int rc, const char *fmt, const char *a, const char *b) {
    j->rc = rc;
    snprintf(j->detail, sizeof j->detail, fmt, a, b);
    return rc;
}

static int read_whole_file(job *j) {
    int fd = open(j->in_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(j, THUMB_EIO, "cannot open input file '%s': %s", j->in_path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(j, THUMB_EIO, "input '%s' is not a regular file%s", j->in_path, "");
    }
    if (j->opt.max_input_bytes && (uint64_t)st.st_size > j->opt.max_input_bytes) {
        close(fd);
        return fail(j, THUMB_ELIMIT_BYTES, "input file '%s' is larger than the input byte limit%s", j->in_path, "");
    }
    size_t n = (size_t)st.st_size, got = 0;
    j->file_buf = malloc(n ? n : 1);
    if (!j->file_buf) {
        close(fd);
        return fail(j, THUMB_ENOMEM, "cannot allocate %s%s", "the input buffer", "");
    }
    while (got < n) {
        ssize_t r = read(fd, j->file_buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            close(fd);
            return fail(j, THUMB_EIO, "cannot read input file '%s': %s", j->in_path, strerror(errno));
        }
        if (r == 0) break; /* shrank under us: decode what is there (truncation is reported) */
        got += (size_t)r;
    }
    close(fd);
    j->data = j->file_buf;
    j->len = got;
    return THUMB_OK;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Width, height and channels of an output libthumb just wrote: PNG's IHDR, JPEG's SOF. */
static int output_header(const uint8_t *p, size_t n, thumb_info *info) {
    thumb_info_init(info);
    if (n >= 33 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(p + 12, "IHDR", 4) == 0) {
        static const int ch[7] = {1, 0, 3, 1, 2, 0, 4};
        info->format = THUMB_FORMAT_PNG;
        info->width = be32(p + 16);
        info->height = be32(p + 20);
        info->bit_depth = p[24];
        info->channels = p[25] <= 6 ? ch[p[25]] : 0;
        if (p[25] == 3) info->channels = 3; /* palette: sharp counts the expanded bands */
        info->has_alpha = info->channels == 2 || info->channels == 4;
        info->progressive = p[28] == 1;
        return 1;
    }
    if (n >= 4 && p[0] == 0xFF && p[1] == 0xD8) {
        size_t i = 2;
        while (i + 9 < n) {
            if (p[i] != 0xFF) return 0;
            uint8_t m = p[i + 1];
            if (m == 0xFF) { i++; continue; }
            size_t seg = (size_t)p[i + 2] << 8 | p[i + 3];
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                info->format = THUMB_FORMAT_JPEG;
                info->bit_depth = p[i + 4];
                info->height = (uint32_t)p[i + 5] << 8 | p[i + 6];
                info->width = (uint32_t)p[i + 7] << 8 | p[i + 8];
                info->channels = p[i + 9];
                info->progressive = m == 0xC2;
                return 1;
            }
            i += 2 + seg;
        }
    }
    return 0;
}

/* The output format sharp calls 'input': the input's own, when it is one libthumb writes. */
static void format_from_input(job *j, const uint8_t *head, size_t n) {
    if (j->opt.format != THUMB_FORMAT_UNKNOWN) return;
    int f = thumb_sniff(head, n);
    j->opt.format = (f == THUMB_FORMAT_PNG) ? THUMB_FORMAT_PNG : THUMB_FORMAT_JPEG;
}

static int sniff_file_format(job *j) {
    if (j->opt.format != THUMB_FORMAT_UNKNOWN) return THUMB_OK;
    uint8_t head[16];
    int fd = open(j->in_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(j, THUMB_EIO, "cannot open input file '%s': %s", j->in_path, strerror(errno));
    ssize_t r;
    do r = read(fd, head, sizeof head); while (r < 0 && errno == EINTR);
    close(fd);
    format_from_input(j, head, r > 0 ? (size_t)r : 0);
    return THUMB_OK;
}

static _Atomic unsigned tmp_counter;

/* Memory output to out_path: a temporary file beside it, then rename (whole or nothing). */
static int write_atomically(job *j) {
    size_t plen = strlen(j->out_path);
    char *tmp = malloc(plen + 48);
    if (!tmp) return fail(j, THUMB_ENOMEM, "cannot allocate %s%s", "a path", "");
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        snprintf(tmp, plen + 48, "%s.tmp-%ld-%u", j->out_path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        fail(j, THUMB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return j->rc;
    }
    const uint8_t *p = j->out;
    size_t left = j->out_len;
    int ok = 1;
    while (left && ok) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) ok = 0;
        else p += w, left -= (size_t)w;
    }
    int saved = errno;
    if (close(fd) != 0 && ok) ok = 0, saved = errno;
    if (ok && rename(tmp, j->out_path) != 0) ok = 0, saved = errno;
    if (!ok) {
        unlink(tmp);
        fail(j, THUMB_EIO, "cannot write '%s': %s", j->out_path, strerror(saved));
    }
    free(tmp);
    return ok ? THUMB_OK : j->rc;
}

/* sharp's output size where it is not the box itself: one side given (any fit), or inside/outside.
 * sharp (src/common.cc ResolveShrink, src/pipeline.cc) first shrinks a JPEG on load by 2, 4 or 8
 * (libjpeg rounds the scaled size up), then scales that by the shrink factors found again on it, so
 * an auto-scaled side can differ by one from the exact ratio; and a one-sided 'fill' keeps the other
 * side as it is. libthumb is given that exact size with fit 'fill': the same image, scaled whole. */
static void resolve_shrink(double w, double h, const thumb_options *o, double *hs, double *vs) {
    *hs = *vs = 1.0;
    if (o->width && o->height) {
        *hs = w / o->width;
        *vs = h / o->height;
        if (o->fit == THUMB_FIT_COVER || o->fit == THUMB_FIT_OUTSIDE) *hs = *vs = *hs < *vs ? *hs : *vs;
        else if (o->fit == THUMB_FIT_CONTAIN || o->fit == THUMB_FIT_INSIDE) *hs = *vs = *hs > *vs ? *hs : *vs;
    } else if (o->width) {
        *hs = w / o->width;
        if (o->fit != THUMB_FIT_FILL) *vs = *hs;
    } else {
        *vs = h / o->height;
        if (o->fit != THUMB_FIT_FILL) *hs = *vs;
    }
    if (o->without_enlargement) {
        if (*hs < 1.0) *hs = 1.0;
        if (*vs < 1.0) *vs = 1.0;
    }
    if (*hs > w) *hs = w;
    if (*vs > h) *vs = h;
}

static uint32_t round_side(double v) {
    double r = v + 0.5;
    return r < 1.0 ? 1u : (uint32_t)r;
}

#define RC_UNSUPPORTED (-1) /* not a libthumb code: the binding's own TypeError */

static int sharp_geometry(job *j, const thumb_info *in) {
    thumb_options *o = &j->opt;
    int both = o->width && o->height;
    double w = o->auto_orient ? in->width : in->stored_width;
    double h = o->auto_orient ? in->height : in->stored_height;
    double hs, vs;
    resolve_shrink(w, h, o, &hs, &vs);
    double free_hs, free_vs; /* as if enlarging were allowed: below 1 means sharp would pad unscaled */
    thumb_options unclamped = *o;
    unclamped.without_enlargement = 0;
    resolve_shrink(w, h, &unclamped, &free_hs, &free_vs);
    if (o->fit == THUMB_FIT_CONTAIN && o->without_enlargement && (free_hs < 1.0 || free_vs < 1.0)) {
        j->rc = RC_UNSUPPORTED;
        snprintf(j->detail, sizeof j->detail,
                 "resize fit 'contain' with withoutEnlargement on an image smaller than the box is unsupported by "
                 "libthumb (sharp pads it to the box without enlarging it)");
        return j->rc;
    }
    if (both && o->fit != THUMB_FIT_INSIDE && o->fit != THUMB_FIT_OUTSIDE) return THUMB_OK;
    if (in->format == THUMB_FORMAT_JPEG) {
        double shrink = hs < vs ? hs : vs;
        int factor = o->fast_shrink_on_load ? 1 : 2, s = 1;
        if (shrink >= 8 * factor) s = 8;
        else if (shrink >= 4 * factor) s = 4;
        else if (shrink >= 2 * factor) s = 2;
        if (s > 1 && (int)shrink == s) s /= 2;
        if (s > 1) { /* libvips takes the scaled size rounded down */
            w = (double)((uint64_t)w / (uint64_t)s);
            h = (double)((uint64_t)h / (uint64_t)s);
            resolve_shrink(w, h, o, &hs, &vs);
        }
    }
    o->width = round_side(w / hs);
    o->height = round_side(h / vs);
    o->fit = THUMB_FIT_FILL;
    o->without_enlargement = 0;
    return THUMB_OK;
}

/* Needs the header first only when the size is not the box. */
static int wants_geometry(const thumb_options *o) {
    if (!o->width && !o->height) return 0;
    return !(o->width && o->height) || o->fit == THUMB_FIT_INSIDE || o->fit == THUMB_FIT_OUTSIDE ||
           (o->fit == THUMB_FIT_CONTAIN && o->without_enlargement);
}

static void take_detail(job *j, thumb_ctx *ctx) {
    snprintf(j->detail, sizeof j->detail, "%s", thumb_ctx_detail(ctx));
}

static void execute(napi_env env, void *data) {
    (void)env; /* never touched here */
    job *j = data;
    thumb_ctx *ctx = worker_ctx();
    if (!ctx) {
        j->rc = THUMB_ENOMEM;
        return;
    }
    if (j->kind == KIND_METADATA) {
        j->opt.auto_orient = 1; /* width/height stored, autoOrient: {width, height} displayed */
        thumb_info_init(&j->info);
        j->rc = j->in_path ? thumb_info_file(ctx, j->in_path, &j->opt, &j->info)
                           : thumb_info_mem(ctx, j->data, j->len, &j->opt, &j->info);
        if (j->rc) take_detail(j, ctx);
        return;
    }
    if (j->kind == KIND_FILE && j->in_path) {
        /* file to file: libthumb streams it and renames into place itself */
        if (sniff_file_format(j)) return;
        if (wants_geometry(&j->opt)) {
            thumb_info in;
            thumb_info_init(&in);
            if ((j->rc = thumb_info_file(ctx, j->in_path, &j->opt, &in)) != THUMB_OK) {
                take_detail(j, ctx);
                return;
            }
            if (sharp_geometry(j, &in)) return;
        }
        j->rc = thumb_thumbnail_file(ctx, j->in_path, j->out_path, &j->opt);
        if (j->rc) {
            take_detail(j, ctx);
            return;
        }
        struct stat st;
        j->out_size = stat(j->out_path, &st) == 0 ? (uint64_t)st.st_size : 0;
        /* the header is in the first bytes libthumb wrote */
        uint8_t head[4096];
        int fd = open(j->out_path, O_RDONLY | O_CLOEXEC);
        ssize_t r = fd >= 0 ? read(fd, head, sizeof head) : -1;
        if (fd >= 0) close(fd);
        if (!output_header(head, r > 0 ? (size_t)r : 0, &j->info)) thumb_info_file(ctx, j->out_path, NULL, &j->info);
        return;
    }
    if (j->in_path && read_whole_file(j)) return;
    format_from_input(j, j->data, j->len);
    if (wants_geometry(&j->opt)) {
        thumb_info in;
        thumb_info_init(&in);
        if ((j->rc = thumb_info_mem(ctx, j->data, j->len, &j->opt, &in)) != THUMB_OK) {
            take_detail(j, ctx);
            return;
        }
        if (sharp_geometry(j, &in)) return;
    }
    j->rc = thumb_thumbnail_mem(ctx, j->data, j->len, &j->opt, &j->out, &j->out_len);
    if (j->rc) {
        take_detail(j, ctx);
        return;
    }
    if (!output_header(j->out, j->out_len, &j->info)) thumb_info_mem(ctx, j->out, j->out_len, NULL, &j->info);
    j->out_size = j->out_len;
    if (j->kind == KIND_FILE) write_atomically(j);
}

/* ---------------------------------------------------------------- main thread */

#define CHECK(call)                                                                        \
    do {                                                                                   \
        if ((call) != napi_ok) goto napi_failed;                                           \
    } while (0)

static void job_free(napi_env env, job *j) {
    if (!j) return;
    if (j->input_ref) napi_delete_reference(env, j->input_ref);
    if (j->callback_ref) napi_delete_reference(env, j->callback_ref);
    if (j->work) napi_delete_async_work(env, j->work);
    free(j->in_path);
    free(j->out_path);
    free(j->file_buf);
    thumb_free(j->out);
    free(j);
}

static napi_status set_str(napi_env env, napi_value obj, const char *key, const char *val) {
    napi_value v;
    napi_status s = napi_create_string_utf8(env, val, NAPI_AUTO_LENGTH, &v);
    return s != napi_ok ? s : napi_set_named_property(env, obj, key, v);
}

static napi_status set_num(napi_env env, napi_value obj, const char *key, double val) {
    napi_value v;
    napi_status s = napi_create_double(env, val, &v);
    return s != napi_ok ? s : napi_set_named_property(env, obj, key, v);
}

static napi_status set_bool(napi_env env, napi_value obj, const char *key, int val) {
    napi_value v;
    napi_status s = napi_get_boolean(env, val != 0, &v);
    return s != napi_ok ? s : napi_set_named_property(env, obj, key, v);
}

static napi_value make_error(napi_env env, job *j) {
    if (j->rc == RC_UNSUPPORTED) {
        napi_value code, text, err;
        if (napi_create_string_utf8(env, "ERR_THUMB_UNSUPPORTED", NAPI_AUTO_LENGTH, &code) != napi_ok) return NULL;
        if (napi_create_string_utf8(env, j->detail, NAPI_AUTO_LENGTH, &text) != napi_ok) return NULL;
        if (napi_create_type_error(env, code, text, &err) != napi_ok) return NULL;
        return err;
    }
    const char *name = thumb_error_name(j->rc);
    char msg[700];
    if (j->detail[0])
        snprintf(msg, sizeof msg, "%s: %s", thumb_strerror(j->rc), j->detail);
    else
        snprintf(msg, sizeof msg, "%s", thumb_strerror(j->rc));
    napi_value code, text, err;
    if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) != napi_ok) return NULL;
    if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text) != napi_ok) return NULL;
    if (napi_create_error(env, code, text, &err) != napi_ok) return NULL;
    set_num(env, err, "errno", j->rc);
    if (j->detail[0]) set_str(env, err, "detail", j->detail);
    return err;
}

static const char *space_name(const thumb_info *in) {
    if (in->format == THUMB_FORMAT_JPEG) {
        switch (in->colour_space) {
        case 1: return "b-w";
        case 4:
        case 5: return "cmyk";
        default: return "srgb";
        }
    }
    return (in->channels <= 2) ? (in->bit_depth == 16 ? "grey16" : "b-w") : (in->bit_depth == 16 ? "rgb16" : "srgb");
}

static napi_value make_metadata(napi_env env, job *j) {
    const thumb_info *in = &j->info;
    napi_value o, ao;
    const char *fmt = thumb_format_name(in->format);
    if (napi_create_object(env, &o) != napi_ok) return NULL;
    set_str(env, o, "format", fmt);
    char media[32];
    snprintf(media, sizeof media, "image/%s", fmt);
    set_str(env, o, "mediaType", media);
    if (!j->in_path) set_num(env, o, "size", (double)j->input_size);
    set_num(env, o, "width", in->stored_width);
    set_num(env, o, "height", in->stored_height);
    set_str(env, o, "space", space_name(in));
    int channels = in->channels;
    if (in->format == THUMB_FORMAT_JPEG && (in->colour_space == 4 || in->colour_space == 5)) channels = 4;
    if (in->format == THUMB_FORMAT_PNG && in->colour_space == 103) channels = in->has_alpha ? 4 : 3;
    set_num(env, o, "channels", channels);
    set_str(env, o, "depth", in->bit_depth == 16 ? "ushort" : "uchar");
    set_bool(env, o, "isProgressive", in->progressive);
    if (in->format == THUMB_FORMAT_PNG) {
        set_bool(env, o, "isPalette", in->colour_space == 103);
        set_num(env, o, "bitsPerSample", in->bit_depth);
    }
    set_bool(env, o, "hasProfile", in->has_icc);
    set_bool(env, o, "hasAlpha", in->has_alpha);
    set_bool(env, o, "hasExif", in->has_exif);
    if (in->orientation > 1) set_num(env, o, "orientation", in->orientation); /* 1 (upright) is left out */
    if (in->has_icc) set_num(env, o, "iccSize", in->icc_size);
    if (napi_create_object(env, &ao) != napi_ok) return NULL;
    set_num(env, ao, "width", in->width);
    set_num(env, ao, "height", in->height);
    napi_set_named_property(env, o, "autoOrient", ao);
    return o;
}

static napi_value make_info(napi_env env, job *j) {
    napi_value o;
    if (napi_create_object(env, &o) != napi_ok) return NULL;
    set_str(env, o, "format", thumb_format_name(j->info.format ? j->info.format : j->opt.format));
    set_num(env, o, "width", j->info.width);
    set_num(env, o, "height", j->info.height);
    set_num(env, o, "channels", j->info.channels);
    set_bool(env, o, "premultiplied", 0);
    set_num(env, o, "size", (double)j->out_size);
    return o;
}

static void complete(napi_env env, napi_status status, void *data) {
    job *j = data;
    napi_value cb, global, argv[3], undef;
    int argc = 1;
    CHECK(napi_get_reference_value(env, j->callback_ref, &cb));
    CHECK(napi_get_global(env, &global));
    CHECK(napi_get_undefined(env, &undef));
    if (status == napi_cancelled) {
        j->rc = THUMB_ECALLBACK;
        snprintf(j->detail, sizeof j->detail, "the job was cancelled");
    }
    if (j->rc != THUMB_OK) {
        argv[0] = make_error(env, j);
        if (!argv[0]) goto napi_failed;
    } else if (j->kind == KIND_METADATA) {
        argv[0] = undef;
        argv[1] = make_metadata(env, j);
        if (!argv[1]) goto napi_failed;
        argc = 2;
    } else {
        argv[0] = undef;
        if (j->kind == KIND_BUFFER) {
            CHECK(napi_create_buffer_copy(env, j->out_len, j->out, NULL, &argv[1]));
        } else {
            argv[1] = undef;
        }
        argv[2] = make_info(env, j);
        if (!argv[2]) goto napi_failed;
        argc = 3;
    }
    /* free what the job holds before calling back: the callback may start the next job */
    napi_ref cb_ref = j->callback_ref;
    j->callback_ref = NULL;
    job_free(env, j);
    napi_call_function(env, global, cb, (size_t)argc, argv, NULL);
    napi_delete_reference(env, cb_ref);
    return;
napi_failed:
    job_free(env, j);
    napi_throw_error(env, "THUMB_ENOMEM", "libthumb: could not build the result");
}

static int get_i32(napi_env env, napi_value obj, const char *key, int32_t *out) {
    napi_value v;
    napi_valuetype t;
    if (napi_get_named_property(env, obj, key, &v) != napi_ok) return -1;
    if (napi_typeof(env, v, &t) != napi_ok) return -1;
    if (t == napi_undefined) return 0;
    if (t == napi_boolean) {
        bool b;
        if (napi_get_value_bool(env, v, &b) != napi_ok) return -1;
        *out = b;
        return 0;
    }
    double d;
    if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d != d) return -1;
    /* saturate: a width of 3e9 must stay huge (and be refused as over the output limit), not wrap */
    *out = d >= 2147483647.0 ? INT32_MAX : d <= -2147483648.0 ? INT32_MIN : (int32_t)d;
    return 0;
}

static int get_u64(napi_env env, napi_value obj, const char *key, uint64_t *out) {
    napi_value v;
    napi_valuetype t;
    double d;
    if (napi_get_named_property(env, obj, key, &v) != napi_ok) return -1;
    if (napi_typeof(env, v, &t) != napi_ok) return -1;
    if (t == napi_undefined) return 0;
    if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0)) return -1;
    *out = d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
    return 0;
}

static char *get_path(napi_env env, napi_value v) {
    size_t n;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) return NULL;
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (napi_get_value_string_utf8(env, v, s, n + 1, &n) != napi_ok || strlen(s) != n) {
        free(s); /* an embedded NUL would name another file */
        return NULL;
    }
    return s;
}

/* The flat options index.js built: every field a number (or boolean), already validated. */
static int read_options(napi_env env, napi_value o, thumb_options *opt) {
    int32_t v;
    thumb_options_init(opt);
    opt->max_output_pixels = 268402689ull; /* sharp has no output limit below its input limit */
#define I32(key, field)                                       \
    v = (int32_t)opt->field;                                  \
    if (get_i32(env, o, key, &v)) return -1;                  \
    opt->field = v;
    I32("width", width)
    I32("height", height)
    I32("fit", fit)
    I32("position", position)
    I32("kernel", kernel)
    I32("withoutEnlargement", without_enlargement)
    I32("autoOrient", auto_orient)
    I32("format", format)
    I32("quality", quality)
    I32("progressive", progressive)
    I32("chroma", chroma)
    I32("optimizeCoding", optimize_coding)
    I32("pngCompression", png_compression)
    I32("fastShrinkOnLoad", fast_shrink_on_load)
    I32("colour", colour)
#undef I32
    if (get_u64(env, o, "maxInputPixels", &opt->max_input_pixels)) return -1;
    if (opt->max_input_pixels == 0) opt->max_input_pixels = UINT64_MAX; /* sharp: 0 = no limit */
    napi_value bg;
    bool is_arr = false;
    if (napi_get_named_property(env, o, "background", &bg) == napi_ok && napi_is_array(env, bg, &is_arr) == napi_ok &&
        is_arr) {
        for (uint32_t i = 0; i < 4; i++) {
            napi_value e;
            int32_t c;
            if (napi_get_element(env, bg, i, &e) != napi_ok || napi_get_value_int32(env, e, &c) != napi_ok) return -1;
            opt->background[i] = (uint8_t)(c < 0 ? 0 : c > 255 ? 255 : c);
        }
    }
    return 0;
}

/* run(kind, input, opts, outPath, callback) */
static napi_value run(napi_env env, napi_callback_info info) {
    size_t argc = 5;
    napi_value argv[5], name;
    napi_valuetype t;
    int32_t kind;
    job *j = NULL;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
    if (argc < 5 || napi_get_value_int32(env, argv[0], &kind) != napi_ok || kind < 0 || kind > 2) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "libthumb: run(kind, input, opts, outPath, callback)");
        return NULL;
    }
    if (napi_typeof(env, argv[4], &t) != napi_ok || t != napi_function) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "libthumb: the callback must be a function");
        return NULL;
    }
    j = calloc(1, sizeof *j);
    if (!j) {
        napi_throw_error(env, "THUMB_ENOMEM", "libthumb: out of memory");
        return NULL;
    }
    j->kind = kind;

    /* input: Buffer / typed array (pinned) or a path */
    bool is_buf = false, is_ta = false;
    CHECK(napi_typeof(env, argv[1], &t));
    if (t == napi_string) {
        if (!(j->in_path = get_path(env, argv[1]))) goto bad_input;
    } else {
        void *p = NULL;
        size_t n = 0;
        CHECK(napi_is_buffer(env, argv[1], &is_buf));
        if (is_buf) {
            CHECK(napi_get_buffer_info(env, argv[1], &p, &n));
        } else {
            CHECK(napi_is_typedarray(env, argv[1], &is_ta));
            if (!is_ta) goto bad_input;
            napi_typedarray_type tt;
            size_t elems, off;
            napi_value ab;
            CHECK(napi_get_typedarray_info(env, argv[1], &tt, &elems, &p, &ab, &off));
            if (tt != napi_uint8_array && tt != napi_uint8_clamped_array) goto bad_input;
            n = elems;
        }
        CHECK(napi_create_reference(env, argv[1], 1, &j->input_ref));
        j->data = p;
        j->len = n;
        j->input_size = n;
    }
    CHECK(napi_typeof(env, argv[2], &t));
    if (t != napi_object || read_options(env, argv[2], &j->opt)) {
        job_free(env, j);
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "libthumb: bad native options object");
        return NULL;
    }
    if (kind == KIND_FILE) {
        CHECK(napi_typeof(env, argv[3], &t));
        if (t != napi_string || !(j->out_path = get_path(env, argv[3]))) {
            job_free(env, j);
            napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "libthumb: the output path must be a string");
            return NULL;
        }
    }
    CHECK(napi_create_reference(env, argv[4], 1, &j->callback_ref));
    CHECK(napi_create_string_utf8(env, "libthumb", NAPI_AUTO_LENGTH, &name));
    CHECK(napi_create_async_work(env, NULL, name, execute, complete, j, &j->work));
    CHECK(napi_queue_async_work(env, j->work));
    return NULL;

bad_input:
    job_free(env, j);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "libthumb: input must be a Buffer, a Uint8Array or a path string without NUL");
    return NULL;
napi_failed:
    job_free(env, j);
    {
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (!pending) napi_throw_error(env, "THUMB_ENOMEM", "libthumb: a Node-API call failed");
    }
    return NULL;
}

static napi_value error_names(napi_env env, napi_callback_info info) {
    (void)info;
    napi_value o;
    if (napi_create_object(env, &o) != napi_ok) return NULL;
    for (int c = 0; c < THUMB_ERROR_COUNT_; c++) set_num(env, o, thumb_error_name(c), c);
    return o;
}

NAPI_MODULE_INIT() {
    napi_value fn;
    if (napi_create_function(env, "run", NAPI_AUTO_LENGTH, run, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, "run", fn) != napi_ok) return NULL;
    if (napi_create_function(env, "errorCodes", NAPI_AUTO_LENGTH, error_names, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, "errorCodes", fn) != napi_ok) return NULL;
    set_str(env, exports, "version", thumb_version_string());
    set_str(env, exports, "simd", thumb_simd_name());
    return exports;
}
