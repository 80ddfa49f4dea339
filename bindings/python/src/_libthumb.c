/*
 * libthumb._libthumb: the Python binding of libthumb, on the plain Python C API.
 *
 * Every call parses its arguments into a thumb_options with the GIL held, then releases the GIL
 * for the whole decode-resize-encode (or header read). Each OS thread has its own thumb_ctx
 * (a pthread key, freed when the thread exits): the C library keeps no global mutable state, and
 * a context reused by one thread keeps its caches warm (weights, the resize buffer).
 *
 * SPDX-License-Identifier: MIT
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <thumb.h>

static PyObject *ThumbError;          /* libthumb.ThumbError */
static PyTypeObject *InfoType;        /* libthumb.Info, a struct sequence */
static PyObject *_zero;               /* the int 0 */

/* ---------------------------------------------------------------- one context per thread */

static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static int ctx_key_rc;

static void ctx_destroy(void *p) { thumb_ctx_free(p); }
static void ctx_key_create(void) { ctx_key_rc = pthread_key_create(&ctx_key, ctx_destroy); }

/* This thread's context, created on first use; NULL with MemoryError set. Called with the GIL. */
static thumb_ctx *thread_ctx(void) {
    pthread_once(&ctx_once, ctx_key_create);
    if (ctx_key_rc != 0) {
        PyErr_SetString(PyExc_RuntimeError, "libthumb: cannot create the per-thread context key");
        return NULL;
    }
    thumb_ctx *ctx = pthread_getspecific(ctx_key);
    if (ctx) return ctx;
    ctx = thumb_ctx_new();
    if (!ctx || pthread_setspecific(ctx_key, ctx) != 0) {
        thumb_ctx_free(ctx);
        PyErr_NoMemory();
        return NULL;
    }
    return ctx;
}

/* ---------------------------------------------------------------- errors */

/* "THUMB_ELIMIT_PIXELS" -> "ELIMIT_PIXELS" */
static const char *short_code(int rc) {
    const char *name = thumb_error_name(rc);
    return strncmp(name, "THUMB_", 6) == 0 ? name + 6 : name;
}

/* A ThumbError instance: message "detail (CODE)" (the detail names the file when one is involved),
 * attributes code, number, detail, path. */
static PyObject *make_error(int rc, const char *detail, PyObject *path) {
    if (!detail || !*detail) detail = thumb_strerror(rc);
    PyObject *msg = PyUnicode_FromFormat("%s (%s)", detail, short_code(rc));
    if (!msg) return NULL;
    PyObject *exc = PyObject_CallOneArg(ThumbError, msg);
    Py_DECREF(msg);
    if (!exc) return NULL;
    PyObject *code = PyUnicode_FromString(short_code(rc));
    PyObject *number = PyLong_FromLong(rc);
    PyObject *det = PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail), "replace");
    int bad = !code || !number || !det || PyObject_SetAttrString(exc, "code", code) < 0 ||
              PyObject_SetAttrString(exc, "number", number) < 0 || PyObject_SetAttrString(exc, "detail", det) < 0 ||
              PyObject_SetAttrString(exc, "path", path ? path : Py_None) < 0;
    Py_XDECREF(code);
    Py_XDECREF(number);
    Py_XDECREF(det);
    if (bad) {
        Py_DECREF(exc);
        return NULL;
    }
    return exc;
}

static void raise_thumb(int rc, thumb_ctx *ctx, PyObject *path) {
    PyObject *exc = make_error(rc, thumb_ctx_detail(ctx), path);
    if (exc) {
        PyErr_SetObject(ThumbError, exc);
        Py_DECREF(exc);
    }
}

/* ---------------------------------------------------------------- options */

/* How an option's Python value is checked and stored in its thumb_options field. */
enum kind {
    K_DIM,         /* uint32_t in min..max, or None (0: derive that side) */
    K_INT,         /* int in min..max */
    K_U32,         /* uint32_t in min..max */
    K_U64,         /* uint64_t in min..max */
    K_BOOL,        /* int set to 0/1 from the object's truth */
    K_KEEP_COLOUR, /* int set from the object's truth: THUMB_COLOUR_KEEP or THUMB_COLOUR_SRGB */
    K_NAME,        /* int: a str looked up in the option's choices */
    K_FORMAT,      /* K_NAME, or None (THUMB_FORMAT_UNKNOWN: JPEG, or from thumbnail_file's dst) */
    K_BACKGROUND   /* uint8_t[4]: (r, g, b[, a]) or '#rrggbb[aa]' */
};

enum { F_THUMB = 1, F_INFO = 2 }; /* which calls take the option */

/* The str values of a K_NAME or K_FORMAT option: from_name maps a name or an alias to the value;
 * names are the ones error messages list, and for K_NAME names[v] is value v's (defaults()). */
typedef struct {
    int (*from_name)(const char *s);
    const char *const *names;
    int n;
} choices;

typedef struct {
    const char *name; /* the Python keyword */
    int kind;
    size_t off;       /* of the thumb_options field */
    int calls;
    unsigned long long min, max; /* the integer kinds: the range accepted */
    const choices *ch;           /* K_NAME, K_FORMAT */
} optdesc;

/* Output formats, in any case; 'jpg' is JPEG. */
static int format_from_name(const char *s) {
    if (strcasecmp(s, "jpeg") == 0 || strcasecmp(s, "jpg") == 0) return THUMB_FORMAT_JPEG;
    if (strcasecmp(s, "png") == 0) return THUMB_FORMAT_PNG;
    return -1;
}

static int chroma_from_name(const char *s) {
    if (strcmp(s, "4:2:0") == 0 || strcmp(s, "420") == 0) return THUMB_CHROMA_420;
    if (strcmp(s, "4:4:4") == 0 || strcmp(s, "444") == 0) return THUMB_CHROMA_444;
    return -1;
}

static const char *const FIT_NAMES[] = {"cover", "contain", "fill", "inside", "outside"};
static const char *const POSITION_NAMES[] = {"centre", "north", "northeast", "east", "southeast",
                                             "south", "southwest", "west", "northwest"};
static const char *const KERNEL_NAMES[] = {"lanczos3", "nearest", "linear", "cubic"};
static const char *const FORMAT_NAMES[] = {"jpeg", "png"};
static const char *const CHROMA_NAMES[] = {"4:2:0", "4:4:4"};
#define CHOICES(from_name, names) {from_name, names, (int)(sizeof names / sizeof *names)}
static const choices FIT = CHOICES(thumb_fit_from_name, FIT_NAMES);
static const choices POSITION = CHOICES(thumb_position_from_name, POSITION_NAMES);
static const choices KERNEL = CHOICES(thumb_kernel_from_name, KERNEL_NAMES);
static const choices FORMAT = CHOICES(format_from_name, FORMAT_NAMES);
static const choices CHROMA = CHOICES(chroma_from_name, CHROMA_NAMES);
#undef CHOICES

#define OFF(f) offsetof(thumb_options, f)
static const optdesc OPTS[] = {
    {"width", K_DIM, OFF(width), F_THUMB, 1, UINT32_MAX, NULL},
    {"height", K_DIM, OFF(height), F_THUMB, 1, UINT32_MAX, NULL},
    {"fit", K_NAME, OFF(fit), F_THUMB, 0, 0, &FIT},
    {"position", K_NAME, OFF(position), F_THUMB, 0, 0, &POSITION},
    {"kernel", K_NAME, OFF(kernel), F_THUMB, 0, 0, &KERNEL},
    {"format", K_FORMAT, OFF(format), F_THUMB, 0, 0, &FORMAT},
    {"quality", K_INT, OFF(quality), F_THUMB, 1, 100, NULL},
    {"progressive", K_BOOL, OFF(progressive), F_THUMB, 0, 0, NULL},
    {"background", K_BACKGROUND, OFF(background), F_THUMB, 0, 0, NULL},
    {"auto_orient", K_BOOL, OFF(auto_orient), F_THUMB | F_INFO, 0, 0, NULL},
    {"without_enlargement", K_BOOL, OFF(without_enlargement), F_THUMB, 0, 0, NULL},
    {"max_pixels", K_U64, OFF(max_input_pixels), F_THUMB | F_INFO, 1, UINT64_MAX, NULL},
    {"chroma_subsampling", K_NAME, OFF(chroma), F_THUMB, 0, 0, &CHROMA},
    {"optimize_coding", K_BOOL, OFF(optimize_coding), F_THUMB, 0, 0, NULL},
    {"png_compression", K_INT, OFF(png_compression), F_THUMB, 0, 9, NULL},
    {"keep_colour", K_KEEP_COLOUR, OFF(colour), F_THUMB, 0, 0, NULL},
    {"embed_srgb_profile", K_BOOL, OFF(embed_srgb_profile), F_THUMB, 0, 0, NULL},
    {"fast_shrink", K_BOOL, OFF(fast_shrink_on_load), F_THUMB, 0, 0, NULL},
    {"max_input_bytes", K_U64, OFF(max_input_bytes), F_THUMB, 0, UINT64_MAX, NULL},
    {"max_jpeg_scans", K_U32, OFF(max_jpeg_scans), F_THUMB, 1, UINT32_MAX, NULL},
    {"max_png_chunk_size", K_U32, OFF(max_png_chunk_size), F_THUMB | F_INFO, 1, UINT32_MAX, NULL},
    {"max_png_chunk_cache", K_U32, OFF(max_png_chunk_cache), F_THUMB | F_INFO, 0, UINT32_MAX, NULL},
    {"max_png_chunks", K_U32, OFF(max_png_chunks), F_THUMB | F_INFO, 1, UINT32_MAX, NULL},
    {"max_output_width", K_U32, OFF(max_output_width), F_THUMB, 1, UINT32_MAX, NULL},
    {"max_output_height", K_U32, OFF(max_output_height), F_THUMB, 1, UINT32_MAX, NULL},
    {"max_output_pixels", K_U64, OFF(max_output_pixels), F_THUMB, 1, UINT64_MAX, NULL},
    {"max_frame_bytes", K_U64, OFF(max_frame_bytes), F_THUMB, 1, UINT64_MAX, NULL},
    {"max_icc_bytes", K_U32, OFF(max_icc_bytes), F_THUMB | F_INFO, 0, UINT32_MAX, NULL},
};
#undef OFF
#define NOPTS ((int)(sizeof OPTS / sizeof *OPTS))

/* An int in lo..hi from an integer-like object (int, numpy integer; not bool, not float);
 * -1 with TypeError ("name must be <what>, not float") or ValueError set otherwise. */
static int get_integer(PyObject *o, const char *name, const char *what, unsigned long long lo,
                       unsigned long long hi, unsigned long long *out) {
    if (PyBool_Check(o) || !PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be %s, not %.100s", name, what, Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *v = PyNumber_Index(o);
    if (!v) return -1;
    int negative = PyObject_RichCompareBool(v, _zero, Py_LT);
    unsigned long long x = negative ? 0 : PyLong_AsUnsignedLongLong(v);
    Py_DECREF(v);
    if (negative < 0) return -1;
    if (negative || (x == (unsigned long long)-1 && PyErr_Occurred()) || x < lo || x > hi) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s must be in %llu..%llu, not %R", name, lo, hi, o);
        return -1;
    }
    *out = x;
    return 0;
}

/* The UTF-8 of a str option; NULL with TypeError when it is not a str. */
static const char *get_str(PyObject *o, const char *name) {
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str, not %.100s", name, Py_TYPE(o)->tp_name);
        return NULL;
    }
    return PyUnicode_AsUTF8(o);
}

/* ValueError "fit must be one of 'cover', 'contain', ..., not 'bogus'". */
static int bad_choice(const char *name, PyObject *o, const choices *ch) {
    char list[256] = "";
    size_t at = 0;
    for (int i = 0; i < ch->n && at < sizeof list; i++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s'%s'", i ? ", " : "", ch->names[i]);
    PyErr_Format(PyExc_ValueError, "%s must be one of %s, not %R", name, list, o);
    return -1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* background: (r, g, b), (r, g, b, a) with 0..255 ints, or '#rrggbb' / '#rrggbbaa'. */
static int set_background(PyObject *o, uint8_t bg[4]) {
    uint8_t v[4] = {0, 0, 0, 255};
    if (PyUnicode_Check(o)) {
        const char *s = PyUnicode_AsUTF8(o);
        if (!s) return -1;
        size_t n = strlen(s);
        if (s[0] != '#' || (n != 7 && n != 9)) goto bad_str;
        for (size_t i = 0; i < (n - 1) / 2; i++) {
            int hi = hexval(s[1 + 2 * i]), lo = hexval(s[2 + 2 * i]);
            if (hi < 0 || lo < 0) goto bad_str;
            v[i] = (uint8_t)(hi * 16 + lo);
        }
        memcpy(bg, v, 4);
        return 0;
    bad_str:
        PyErr_Format(PyExc_ValueError, "background must be '#rrggbb' or '#rrggbbaa', not %R", o);
        return -1;
    }
    if (!PyTuple_Check(o) && !PyList_Check(o)) {
        PyErr_Format(PyExc_TypeError, "background must be an (r, g, b) or (r, g, b, a) tuple or a '#rrggbb' str, not %.100s",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
    if (n != 3 && n != 4) {
        PyErr_Format(PyExc_ValueError, "background must have 3 (r, g, b) or 4 (r, g, b, a) values, not %zd", n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long long x;
        if (get_integer(PySequence_Fast_GET_ITEM(o, i), "each background value", "an int", 0, 255, &x) < 0) return -1;
        v[i] = (uint8_t)x;
    }
    memcpy(bg, v, 4);
    return 0;
}

static int set_option(const optdesc *d, PyObject *o, thumb_options *opt) {
    char *field = (char *)opt + d->off;
    unsigned long long x;
    const char *s;
    int i;
    switch (d->kind) {
    case K_DIM:
    case K_INT:
    case K_U32:
    case K_U64:
        if (d->kind == K_DIM && o == Py_None) x = 0; /* derive that side */
        else if (get_integer(o, d->name, d->kind == K_DIM ? "an int or None" : "an int", d->min, d->max, &x) < 0)
            return -1;
        if (d->kind == K_INT) *(int *)field = (int)x;
        else if (d->kind == K_U64) *(uint64_t *)field = (uint64_t)x;
        else *(uint32_t *)field = (uint32_t)x;
        return 0;
    case K_BOOL:
    case K_KEEP_COLOUR:
        if ((i = PyObject_IsTrue(o)) < 0) return -1;
        *(int *)field = d->kind == K_BOOL ? i : (i ? THUMB_COLOUR_KEEP : THUMB_COLOUR_SRGB);
        return 0;
    case K_FORMAT:
    case K_NAME:
        if (d->kind == K_FORMAT && o == Py_None) {
            *(int *)field = THUMB_FORMAT_UNKNOWN;
            return 0;
        }
        if (!(s = get_str(o, d->name))) return -1;
        if ((i = d->ch->from_name(s)) < 0) return bad_choice(d->name, o, d->ch);
        *(int *)field = i;
        return 0;
    case K_BACKGROUND:
        return set_background(o, (uint8_t *)field);
    }
    PyErr_SetString(PyExc_SystemError, "libthumb: unknown option kind");
    return -1;
}

/* An option's value in opt as Python has it (for defaults()); a new reference, NULL on error. */
static PyObject *get_option(const optdesc *d, const thumb_options *opt) {
    const char *field = (const char *)opt + d->off;
    const uint8_t *bg = (const uint8_t *)field;
    int v;
    switch (d->kind) {
    case K_DIM:
        if (*(const uint32_t *)field == 0) Py_RETURN_NONE; /* derive that side */
        /* fall through */
    case K_U32:
        return PyLong_FromUnsignedLong(*(const uint32_t *)field);
    case K_U64:
        return PyLong_FromUnsignedLongLong(*(const uint64_t *)field);
    case K_INT:
        return PyLong_FromLong(*(const int *)field);
    case K_BOOL:
        return PyBool_FromLong(*(const int *)field);
    case K_KEEP_COLOUR:
        return PyBool_FromLong(*(const int *)field == THUMB_COLOUR_KEEP);
    case K_FORMAT: /* UNKNOWN: thumbnail() makes JPEG (thumbnail_file follows dst's extension) */
        v = *(const int *)field;
        return PyUnicode_FromString(thumb_format_name(v == THUMB_FORMAT_UNKNOWN ? THUMB_FORMAT_JPEG : v));
    case K_NAME:
        return PyUnicode_FromString(d->ch->names[*(const int *)field]);
    case K_BACKGROUND:
        return Py_BuildValue("(iiii)", bg[0], bg[1], bg[2], bg[3]);
    }
    PyErr_SetString(PyExc_SystemError, "libthumb: unknown option kind");
    return NULL;
}

/* A function's signature: its name (for messages), the options it takes (F_THUMB or F_INFO), and
 * its leading parameters, which must be given, positionally or by name. The first of those is the
 * image: data (a bytes-like object) or, when file is set, a path. */
typedef struct {
    const char *name;
    int calls;
    int file;
    int nlead;
    const char *lead[2];
} callsig;

static const callsig THUMBNAIL = {"thumbnail", F_THUMB, 0, 1, {"data"}};
static const callsig THUMBNAIL_FILE = {"thumbnail_file", F_THUMB, 1, 2, {"src", "dst"}};
static const callsig INFO = {"info", F_INFO, 0, 1, {"data"}};
static const callsig INFO_FILE = {"info_file", F_INFO, 1, 1, {"path"}};

/*
 * The arguments of a call: the leading parameters, then options. The options taken positionally
 * after the leading ones are width and height (calls of F_THUMB); width is required for those
 * calls, everything else is keyword-only. lead[] receives borrowed references.
 */
static int parse_call(const callsig *sig, PyObject *args, PyObject *kw, PyObject **lead, thumb_options *opt) {
    const char *fname = sig->name;
    int calls = sig->calls, nlead = sig->nlead;
    PyObject *vals[NOPTS];
    memset(vals, 0, sizeof vals);
    for (int i = 0; i < nlead; i++) lead[i] = NULL;
    int npos_opts = calls == F_THUMB ? 2 : 0; /* width, height are OPTS[0], OPTS[1] */
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if (nargs > nlead + npos_opts) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d positional arguments (%zd given)", fname,
                     nlead + npos_opts, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (i < nlead) lead[i] = PyTuple_GET_ITEM(args, i);
        else vals[i - nlead] = PyTuple_GET_ITEM(args, i);
    }
    if (kw) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(kw, &pos, &key, &value)) {
            const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
            if (!k) {
                if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s() keywords must be strings", fname);
                return -1;
            }
            PyObject **slot = NULL;
            for (int i = 0; i < nlead && !slot; i++)
                if (strcmp(k, sig->lead[i]) == 0) slot = &lead[i];
            for (int i = 0; i < NOPTS && !slot; i++)
                if ((OPTS[i].calls & calls) && strcmp(k, OPTS[i].name) == 0) slot = &vals[i];
            if (!slot) {
                PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%s'", fname, k);
                return -1;
            }
            if (*slot) {
                PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, k);
                return -1;
            }
            *slot = value;
        }
    }
    for (int i = 0; i < nlead; i++)
        if (!lead[i]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, sig->lead[i]);
            return -1;
        }
    if (calls == F_THUMB && !vals[0]) {
        PyErr_Format(PyExc_TypeError, "%s() missing required argument 'width' (None keeps the input size)", fname);
        return -1;
    }
    thumb_options_init(opt);
    for (int i = 0; i < NOPTS; i++)
        if (vals[i] && set_option(&OPTS[i], vals[i], opt) < 0) return -1;
    /* libspng refuses a chunk cache smaller than one chunk (and says only "invalid argument") */
    if (opt->max_png_chunk_cache < opt->max_png_chunk_size) {
        PyErr_Format(PyExc_ValueError, "max_png_chunk_cache (%u) must be at least max_png_chunk_size (%u)",
                     (unsigned)opt->max_png_chunk_cache, (unsigned)opt->max_png_chunk_size);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- inputs */

/* A contiguous read-only view of data; -1 with TypeError/BufferError on anything else. */
static int get_data(PyObject *o, Py_buffer *view) {
    if (PyUnicode_Check(o) || !PyObject_CheckBuffer(o)) {
        PyErr_Format(PyExc_TypeError,
                     "data must be a bytes-like object (bytes, bytearray, memoryview, mmap...), not %.100s%s",
                     Py_TYPE(o)->tp_name, PyUnicode_Check(o) ? " (to read a file, use thumbnail_file or open(path, 'rb').read())" : "");
        return -1;
    }
    if (PyObject_GetBuffer(o, view, PyBUF_SIMPLE) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_BufferError)) return -1;
        PyErr_Clear();
        PyErr_Format(PyExc_BufferError,
                     "data must be a contiguous buffer: this %.100s is not (pass bytes(data) or a contiguous copy)",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    return 0;
}

/* A path argument as a file-system encoded bytes object (str, bytes, os.PathLike). */
static PyObject *get_path(PyObject *o, const char *name) {
    PyObject *b = NULL;
    if (!PyUnicode_Check(o) && !PyBytes_Check(o) && !PyObject_HasAttrString(o, "__fspath__")) {
        PyErr_Format(PyExc_TypeError, "%s must be a path (str, bytes or os.PathLike), not %.100s", name,
                     Py_TYPE(o)->tp_name);
        return NULL;
    }
    if (!PyUnicode_FSConverter(o, &b)) return NULL;
    if (PyBytes_GET_SIZE(b) == 0) {
        Py_DECREF(b);
        PyErr_Format(PyExc_ValueError, "%s is an empty path", name);
        return NULL;
    }
    /* The C library reads stdin for "-": here a path is always a path. */
    if (strcmp(PyBytes_AS_STRING(b), "-") == 0) {
        Py_DECREF(b);
        b = PyBytes_FromString("./-");
    }
    return b;
}

/* ---------------------------------------------------------------- calls */

/* One call from its arguments to its return: the leading arguments (borrowed), the options, this
 * thread's context, and the image argument converted with the GIL held. */
typedef struct {
    const callsig *sig;
    PyObject *lead[2];
    thumb_options opt;
    thumb_ctx *ctx;
    Py_buffer view; /* data, when !sig->file */
    PyObject *path; /* the file-system encoded path, when sig->file */
} call;

/* Everything before the GIL is released: the arguments, the context, the image argument.
 * -1 with an exception set; 0, and then end_call() releases the image. */
static int begin_call(call *c, const callsig *sig, PyObject *args, PyObject *kw) {
    c->sig = sig;
    if (parse_call(sig, args, kw, c->lead, &c->opt) < 0 || !(c->ctx = thread_ctx())) return -1;
    if (sig->file) return (c->path = get_path(c->lead[0], sig->lead[0])) ? 0 : -1;
    return get_data(c->lead[0], &c->view);
}

static void end_call(call *c) {
    if (c->sig->file) Py_DECREF(c->path);
    else PyBuffer_Release(&c->view);
}

/* ---------------------------------------------------------------- functions */

static PyObject *py_thumbnail(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    call c;
    if (begin_call(&c, &THUMBNAIL, args, kw) < 0) return NULL;
    if (c.opt.format == THUMB_FORMAT_UNKNOWN) c.opt.format = THUMB_FORMAT_JPEG;

    void *out = NULL;
    size_t out_len = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = thumb_thumbnail_mem(c.ctx, c.view.buf, (size_t)c.view.len, &c.opt, &out, &out_len);
    Py_END_ALLOW_THREADS
    end_call(&c);

    PyObject *result = NULL;
    if (rc != THUMB_OK) raise_thumb(rc, c.ctx, NULL);
    else if (out_len > (size_t)PY_SSIZE_T_MAX) PyErr_NoMemory();
    else result = PyBytes_FromStringAndSize(out, (Py_ssize_t)out_len);
    thumb_free(out);
    return result;
}

static PyObject *py_thumbnail_file(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    call c;
    if (begin_call(&c, &THUMBNAIL_FILE, args, kw) < 0) return NULL;
    PyObject *dst = get_path(c.lead[1], "dst");
    if (!dst) {
        end_call(&c);
        return NULL;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = thumb_thumbnail_file(c.ctx, PyBytes_AS_STRING(c.path), PyBytes_AS_STRING(dst), &c.opt);
    Py_END_ALLOW_THREADS
    end_call(&c);
    Py_DECREF(dst);
    if (rc != THUMB_OK) {
        /* the detail names the file that failed when it matters (reading vs writing) */
        raise_thumb(rc, c.ctx, NULL);
        return NULL;
    }
    Py_RETURN_NONE;
}

static const char *colour_space_name(int format, int cs) {
    if (format == THUMB_FORMAT_JPEG) {
        static const char *const n[] = {"unknown", "grey", "ycbcr", "rgb", "cmyk", "ycck"};
        return cs >= 0 && cs <= 5 ? n[cs] : "unknown";
    }
    if (format == THUMB_FORMAT_PNG) {
        switch (cs - 100) {
        case 0: return "grey";
        case 2: return "rgb";
        case 3: return "palette";
        case 4: return "grey-alpha";
        case 6: return "rgba";
        }
    }
    return "unknown";
}

static PyObject *make_info(const thumb_info *in) {
    PyObject *o = PyStructSequence_New(InfoType);
    if (!o) return NULL;
    PyObject *v[] = {
        PyUnicode_FromString(thumb_format_name(in->format)),
        PyLong_FromUnsignedLong(in->width),
        PyLong_FromUnsignedLong(in->height),
        PyLong_FromLong(in->orientation),
        PyLong_FromLong(in->channels),
        PyLong_FromLong(in->bit_depth),
        PyBool_FromLong(in->has_alpha),
        PyBool_FromLong(in->progressive),
        PyBool_FromLong(in->has_icc),
        PyLong_FromUnsignedLong(in->icc_size),
        PyBool_FromLong(in->has_exif),
        PyUnicode_FromString(colour_space_name(in->format, in->colour_space)),
        PyLong_FromUnsignedLong(in->stored_width),
        PyLong_FromUnsignedLong(in->stored_height),
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        if (!v[i]) bad = 1;
        PyStructSequence_SET_ITEM(o, (Py_ssize_t)i, v[i] ? v[i] : (Py_INCREF(Py_None), Py_None));
    }
    if (bad) {
        Py_DECREF(o);
        return NULL;
    }
    return o;
}

/* info() and info_file(): the header of data, or of the file at path. */
static PyObject *read_info(const callsig *sig, PyObject *args, PyObject *kw) {
    call c;
    if (begin_call(&c, sig, args, kw) < 0) return NULL;
    thumb_info info;
    thumb_info_init(&info);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sig->file ? thumb_info_file(c.ctx, PyBytes_AS_STRING(c.path), &c.opt, &info)
                   : thumb_info_mem(c.ctx, c.view.buf, (size_t)c.view.len, &c.opt, &info);
    Py_END_ALLOW_THREADS
    end_call(&c);
    if (rc != THUMB_OK) {
        /* ThumbError.path: the path as the caller gave it */
        raise_thumb(rc, c.ctx, sig->file ? c.lead[0] : NULL);
        return NULL;
    }
    return make_info(&info);
}

static PyObject *py_info(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    return read_info(&INFO, args, kw);
}

static PyObject *py_info_file(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    return read_info(&INFO_FILE, args, kw);
}

static PyObject *py_sniff(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (get_data(arg, &view) < 0) return NULL;
    int fmt = thumb_sniff(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    if (fmt == THUMB_FORMAT_UNKNOWN) Py_RETURN_NONE;
    return PyUnicode_FromString(thumb_format_name(fmt));
}

/* The ThumbError a C code maps to (for tests and for callers re-raising): _error(number, detail). */
static PyObject *py_error(PyObject *self, PyObject *args) {
    (void)self;
    int rc;
    const char *detail = "";
    if (!PyArg_ParseTuple(args, "i|s:_error", &rc, &detail)) return NULL;
    return make_error(rc, detail, NULL);
}

/* The C library's defaults for every option, under the Python names. */
static PyObject *py_defaults(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
    thumb_options opt;
    thumb_options_init(&opt);
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    for (int i = 0; i < NOPTS; i++) {
        PyObject *v = get_option(&OPTS[i], &opt);
        if (!v || PyDict_SetItemString(d, OPTS[i].name, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

/* ---------------------------------------------------------------- module */

PyDoc_STRVAR(thumbnail_doc,
"thumbnail(data, width, height=None, *, fit='cover', position='centre', kernel='lanczos3',\n"
"          format='jpeg', quality=80, progressive=False, background=(255, 255, 255),\n"
"          auto_orient=True, without_enlargement=False, max_pixels=268402689, ...) -> bytes\n"
"\n"
"Make a JPEG or PNG thumbnail of a JPEG or PNG image held in memory.\n\n"
"data is any contiguous bytes-like object. width/height is the box (None derives that side from\n"
"the aspect ratio; both None keeps the input size). Raises ThumbError (with .code) when the image\n"
"cannot be made, TypeError/ValueError for bad arguments. The GIL is released while it runs.");

PyDoc_STRVAR(thumbnail_file_doc,
"thumbnail_file(src, dst, width, height=None, *, format=None, ...) -> None\n"
"\n"
"Stream a thumbnail from the file src to the file dst (str, bytes or os.PathLike). The input is\n"
"read once, front to back; dst appears whole (temporary file + rename) or not at all, and an\n"
"existing dst is left untouched on failure. format=None follows dst's extension (.png -> PNG,\n"
"anything else -> JPEG). Takes the options of thumbnail().");

PyDoc_STRVAR(info_doc,
"info(data, *, auto_orient=True, max_pixels=268402689, ...) -> Info\n"
"\n"
"Read an image's header: format, displayed width/height (after EXIF orientation unless\n"
"auto_orient=False), orientation, channels, bit depth, alpha, progressive, ICC, EXIF.");

PyDoc_STRVAR(info_file_doc,
"info_file(path, *, auto_orient=True, ...) -> Info\n"
"\n"
"info() of a file, reading only its header.");

PyDoc_STRVAR(sniff_doc,
"sniff(data, /) -> str | None\n"
"\n"
"The format named by data's magic bytes ('jpeg', 'png', 'gif', 'webp', ...), or None.");

static PyMethodDef methods[] = {
    {"thumbnail", (PyCFunction)(void (*)(void))py_thumbnail, METH_VARARGS | METH_KEYWORDS, thumbnail_doc},
    {"thumbnail_file", (PyCFunction)(void (*)(void))py_thumbnail_file, METH_VARARGS | METH_KEYWORDS, thumbnail_file_doc},
    {"info", (PyCFunction)(void (*)(void))py_info, METH_VARARGS | METH_KEYWORDS, info_doc},
    {"info_file", (PyCFunction)(void (*)(void))py_info_file, METH_VARARGS | METH_KEYWORDS, info_file_doc},
    {"sniff", py_sniff, METH_O, sniff_doc},
    {"defaults", py_defaults, METH_NOARGS, "defaults() -> dict: every option's default (the C library's)."},
    {"_error", py_error, METH_VARARGS, "_error(number, detail='') -> ThumbError: the error a C code maps to."},
    {NULL, NULL, 0, NULL},
};

static PyStructSequence_Field info_fields[] = {
    {"format", "'jpeg' or 'png' (or the sniffed name of another format)"},
    {"width", "displayed width: after EXIF orientation (unless auto_orient=False)"},
    {"height", "displayed height"},
    {"orientation", "EXIF orientation 1..8 (1 when absent)"},
    {"channels", "as decoded: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (CMYK decodes to 3)"},
    {"bit_depth", "bits per sample as stored: 8 for JPEG; 1, 2, 4, 8 or 16 for PNG"},
    {"has_alpha", "the image has an alpha channel (or PNG transparency)"},
    {"progressive", "progressive JPEG or Adam7-interlaced PNG"},
    {"has_icc", "an ICC profile is embedded"},
    {"icc_size", "bytes of the embedded ICC profile, 0 when none"},
    {"has_exif", "EXIF metadata is present"},
    {"colour_space", "JPEG: grey, ycbcr, rgb, cmyk, ycck; PNG: grey, rgb, palette, grey-alpha, rgba"},
    {"stored_width", "width as stored in the file, before orientation"},
    {"stored_height", "height as stored in the file"},
    {NULL, NULL},
};

static PyStructSequence_Desc info_desc = {
    "libthumb.Info",
    "An image's header information (libthumb.info / info_file).",
    info_fields,
    14,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "libthumb._libthumb",
    "libthumb's C extension; use the libthumb package.", -1, methods, NULL, NULL, NULL, NULL,
};

PyDoc_STRVAR(error_doc,
"A JPEG/PNG thumbnail or header read failed.\n\n"
"code: the C error name without THUMB_, e.g. 'ETRUNCATED', 'ELIMIT_PIXELS' (see ERROR_CODES);\n"
"number: its number in thumb.h; detail: libthumb's detail text; path: the file, for info_file.");

PyMODINIT_FUNC PyInit__libthumb(void);
PyMODINIT_FUNC PyInit__libthumb(void) {
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    PyObject *codes = NULL;
    if (!ThumbError) {
        PyObject *dict = Py_BuildValue("{s:s,s:i,s:s,s:O}", "code", "EUNKNOWN", "number", -1, "detail", "", "path", Py_None);
        if (!dict) goto fail;
        ThumbError = PyErr_NewExceptionWithDoc("libthumb.ThumbError", error_doc, NULL, dict);
        Py_DECREF(dict);
        if (!ThumbError) goto fail;
    }
    if (!InfoType) {
        InfoType = PyStructSequence_NewType(&info_desc);
        if (!InfoType) goto fail;
    }
    if (!_zero && !(_zero = PyLong_FromLong(0))) goto fail;
    Py_INCREF(ThumbError);
    if (PyModule_AddObject(m, "ThumbError", ThumbError) < 0) {
        Py_DECREF(ThumbError);
        goto fail;
    }
    Py_INCREF(InfoType);
    if (PyModule_AddObject(m, "Info", (PyObject *)InfoType) < 0) {
        Py_DECREF(InfoType);
        goto fail;
    }

    codes = PyDict_New();
    if (!codes) goto fail;
    for (int rc = 1; rc < THUMB_ERROR_COUNT_; rc++) {
        PyObject *n = PyLong_FromLong(rc);
        if (!n || PyDict_SetItemString(codes, short_code(rc), n) < 0) {
            Py_XDECREF(n);
            goto fail;
        }
        Py_DECREF(n);
    }
    if (PyModule_AddObject(m, "ERROR_CODES", codes) < 0) goto fail;
    codes = NULL;
    if (PyModule_AddStringConstant(m, "libthumb_version", thumb_version_string()) < 0) goto fail;
    if (PyModule_AddIntConstant(m, "libthumb_version_number", thumb_version_number()) < 0) goto fail;
    if (PyModule_AddStringConstant(m, "simd", thumb_simd_name()) < 0) goto fail;
    return m;
fail:
    Py_XDECREF(codes);
    Py_DECREF(m);
    return NULL;
}
