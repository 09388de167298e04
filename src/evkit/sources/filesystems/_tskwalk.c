/*
 * _tskwalk: the per-entry work of `evkit ls` in C, linked against the system libtsk.
 *
 * The Python walk (TskFileSystem.walk in tsk.py, printed by entry_json / _text_line) is the
 * reference: this file repeats it step for step, so that the two print the same bytes. Through
 * pytsk3 each entry costs several microseconds of Python; here it costs about what it costs
 * `fls`. Python still decides everything above the filesystem (container, volumes, locator
 * prefix, which filesystems) and calls walk() once per filesystem (see tsk_native.py).
 *
 * Same walk as tsk.py, deliberately not tsk_fs_dir_walk(): that one reorders the root
 * folder, stops at 128 levels or 4096 path bytes and treats deleted folders differently.
 * NTFS is refused: its entries need the attribute addresses and named streams of tsk.py, and
 * the system libtsk parses damaged MFT entries differently from pytsk3's newer TSK anyway.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <tsk/libtsk.h>

#define FLUSH_AT (1 << 20) /* write to the fd in blocks of about 1 MiB */

enum { ONLY_ALL = 0, ONLY_DELETED = 1, ONLY_ALLOCATED = 2 };

/* ---------------------------------------------------------------------------------------- */
/* A growable byte buffer; the output buffer also has an fd it is flushed to.               */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *data = PyMem_RawRealloc(b->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const void *p, size_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int buf_str(Buf *b, const char *s) { return buf_put(b, s, strlen(s)); }

/* Decimal digits of v, written backwards so that they end at `end`; returns where they start.
 * (printf costs more than the whole rest of an entry's formatting.) */
static char *digits(char *end, uint64_t v) {
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static int put_u64(Buf *b, uint64_t v) {
    char tmp[24], *end = tmp + sizeof tmp;
    char *start = digits(end, v);
    return buf_put(b, start, (size_t)(end - start));
}

static int put_i64(Buf *b, int64_t v) {
    if (v >= 0)
        return put_u64(b, (uint64_t)v);
    return buf_put(b, "-", 1) < 0 ? -1 : put_u64(b, (uint64_t)0 - (uint64_t)v);
}

/* s padded with spaces to width, on the left (right-aligned) or on the right, as Python's
 * format specs >N and <N do. */
static int put_padded(Buf *b, const char *s, size_t width, int right) {
    size_t n = strlen(s), pad = n < width ? width - n : 0;
    if (buf_reserve(b, n + pad) < 0)
        return -1;
    if (right) {
        memset(b->data + b->len, ' ', pad);
        b->len += pad;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    if (!right) {
        memset(b->data + b->len, ' ', pad);
        b->len += pad;
    }
    return 0;
}

/* Writes everything buffered to fd, retrying short writes and EINTR (a broken pipe becomes
 * BrokenPipeError, which the CLI already handles). */
static int buf_flush(Buf *b, int fd) {
    size_t done = 0;
    while (done < b->len) {
        ssize_t n = write(fd, b->data + done, b->len - done);
        if (n < 0) {
            if (errno == EINTR) {
                if (PyErr_CheckSignals() < 0)
                    return -1;
                continue;
            }
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        done += (size_t)n;
    }
    b->len = 0;
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Names: the same bytes-to-text rules as evkit.names and evkit.locator.                     */

static const char HEX_LOWER[] = "0123456789abcdef";
static const char HEX_UPPER[] = "0123456789ABCDEF";

/* Length of the valid UTF-8 sequence at s (Python's strict decoder: no overlong forms, no
 * surrogates, nothing above U+10FFFF), its code point in *cp; 0 when s[0] starts none, in
 * which case surrogateescape turns that one byte into U+DC80..U+DCFF. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char c = s[0];
    if (c >= 0xC2 && c <= 0xDF) {
        if (n >= 2 && (s[1] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
            return 2;
        }
        return 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
            return 3;
        }
        return 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
            *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                  ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            return 4;
        }
        return 0;
    }
    return 0;
}

/* names._INVISIBLE: characters names.escape writes as \xNN although they are printable. */
static int invisible(uint32_t cp) {
    return cp == 0x061C || cp == 0x200B || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || cp == 0x2060 || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0xFEFF;
}

/* One byte as \xNN (names.escape); inside JSON the backslash itself is doubled. */
static int put_xnn(Buf *b, unsigned char c, int json) {
    char t[6] = {'\\', '\\', 'x', HEX_LOWER[c >> 4], HEX_LOWER[c & 15], 0};
    return json ? buf_put(b, t, 5) : buf_put(b, t + 1, 4);
}

/* Appends the name as names.escape shows it and, with json, as encode_basestring then writes
 * that text (only '"' and '\' remain to escape: escape() leaves no control character).
 * Returns 1 when escape() changed something (the name is not names.is_clean), 0 when not,
 * -1 on error. */
static int put_shown(Buf *b, const unsigned char *s, size_t n, int json) {
    int changed = 0;
    size_t i = 0;
    if (buf_reserve(b, n) < 0)
        return -1;
    while (i < n) {
        unsigned char c = s[i];
        size_t run = i;
        /* copy plain ASCII in one go: this is nearly every byte of nearly every name */
        while (run < n && s[run] >= 0x20 && s[run] < 0x7F && s[run] != '\\' && s[run] != '"')
            run++;
        if (run > i) {
            if (buf_put(b, s + i, run - i) < 0)
                return -1;
            i = run;
            continue;
        }
        if (c == '"') {
            if (json ? buf_put(b, "\\\"", 2) : buf_put(b, "\"", 1))
                return -1;
            i++;
        } else if (c == '\\') {
            changed = 1;
            if (json ? buf_put(b, "\\\\\\\\", 4) : buf_put(b, "\\\\", 2))
                return -1;
            i++;
        } else if (c < 0x80) { /* C0 control or DEL */
            changed = 1;
            if (put_xnn(b, c, json) < 0)
                return -1;
            i++;
        } else {
            uint32_t cp = 0;
            size_t len = utf8_seq(s + i, n - i, &cp);
            if (len == 0) { /* undecodable byte */
                changed = 1;
                if (put_xnn(b, c, json) < 0)
                    return -1;
                i++;
            } else if (cp < 0xA0 || invisible(cp)) { /* C1 control or invisible: each UTF-8 byte */
                changed = 1;
                for (size_t k = 0; k < len; k++)
                    if (put_xnn(b, s[i + k], json) < 0)
                        return -1;
                i += len;
            } else {
                if (buf_put(b, s + i, len) < 0)
                    return -1;
                i += len;
            }
        }
    }
    return changed;
}

/* Appends locator.quote(value) as encode_basestring writes it: %XX (upper case) for % > # @,
 * controls (C0, DEL, C1), U+2028/U+2029 and undecodable bytes; '"' and '\' JSON-escaped. */
static int put_quoted(Buf *b, const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = 1;
        int encode;
        if (c < 0x80) {
            encode = c < 0x20 || c == 0x7F || c == '%' || c == '>' || c == '#' || c == '@';
        } else {
            uint32_t cp = 0;
            len = utf8_seq(s + i, n - i, &cp);
            encode = len == 0 || cp < 0xA0 || cp == 0x2028 || cp == 0x2029;
            if (len == 0)
                len = 1;
        }
        for (size_t k = 0; k < len; k++) {
            unsigned char d = s[i + k];
            int r;
            if (encode) {
                char t[3] = {'%', HEX_UPPER[d >> 4], HEX_UPPER[d & 15]};
                r = buf_put(b, t, 3);
            } else if (d == '"') {
                r = buf_put(b, "\\\"", 2);
            } else if (d == '\\') {
                r = buf_put(b, "\\\\", 2);
            } else {
                r = buf_put(b, &d, 1);
            }
            if (r < 0)
                return -1;
        }
        i += len;
    }
    return 0;
}

static int put_hex(Buf *b, const unsigned char *s, size_t n) {
    if (buf_reserve(b, 2 * n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = HEX_LOWER[s[i] >> 4];
        b->data[b->len++] = HEX_LOWER[s[i] & 15];
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Times: evkit.timefmt.iso_utc.                                                            */

/* Proleptic Gregorian date of a day count since 1970-01-01 (what gmtime computes). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void two_digits(char *p, unsigned v) {
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/* Writes iso_utc(seconds, nanos) as a JSON value ("..." or null) when json, else as the text
 * column of _text_line ('-' for none, padded to 30). Years outside 1000..9999 (which no TSK
 * filesystem yields, but a damaged one might) are left to iso_utc itself, whose strftime and
 * overflow rules are not worth copying. */
static int put_time(Buf *b, int64_t secs, uint32_t nanos, PyObject *iso_utc, int json) {
    char text[64]; /* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnnZ" at most, or iso_utc's answer */
    if (nanos == 0 && secs == 0) {
        text[0] = 0;
    } else {
        int64_t days = secs / 86400, rest = secs % 86400;
        if (rest < 0) {
            rest += 86400;
            days -= 1;
        }
        int64_t y;
        unsigned mo, d;
        civil_from_days(days, &y, &mo, &d);
        if (y >= 1000 && y <= 9999) {
            memcpy(text, "YYYY-MM-DDTHH:MM:SS", 19);
            two_digits(text, (unsigned)(y / 100));
            two_digits(text + 2, (unsigned)(y % 100));
            two_digits(text + 5, mo);
            two_digits(text + 8, d);
            two_digits(text + 11, (unsigned)(rest / 3600));
            two_digits(text + 14, (unsigned)(rest / 60 % 60));
            two_digits(text + 17, (unsigned)(rest % 60));
            size_t n = 19;
            if (nanos) { /* f"{nanos:09d}" without its trailing zeros */
                char tmp[16], *end = tmp + sizeof tmp, *start = digits(end, nanos);
                text[n++] = '.';
                for (size_t k = (size_t)(end - start); k < 9; k++)
                    text[n++] = '0';
                while (end[-1] == '0')
                    end--;
                memcpy(text + n, start, (size_t)(end - start));
                n += (size_t)(end - start);
            }
            text[n++] = 'Z';
            text[n] = 0;
        } else {
            PyObject *r = PyObject_CallFunction(iso_utc, "LI", (long long)secs, (unsigned)nanos);
            if (r == NULL)
                return -1;
            const char *u = r == Py_None ? "" : PyUnicode_AsUTF8(r);
            if (u == NULL || strlen(u) >= sizeof text) {
                Py_DECREF(r);
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_SystemError, "_tskwalk: unexpected text from iso_utc");
                return -1;
            }
            strcpy(text, u);
            Py_DECREF(r);
        }
    }
    if (!json)
        return put_padded(b, text[0] ? text : "-", 30, 0);
    if (!text[0])
        return buf_put(b, "null", 4);
    return buf_put(b, "\"", 1) < 0 || buf_str(b, text) < 0 ? -1 : buf_put(b, "\"", 1);
}

/* ---------------------------------------------------------------------------------------- */
/* The walk.                                                                                */

/* Inode numbers of the folders already entered (tsk.py's `visited`): open addressing, 0 is
 * the empty slot (inode 0 is never entered: `head.inode` must be true). */
typedef struct {
    uint64_t *slots;
    size_t cap, used;
} InodeSet;

/* Adds inode; returns 1 if it was new, 0 if already there, -1 on error. */
static int set_add(InodeSet *s, uint64_t inode) {
    if (2 * (s->used + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        uint64_t *slots = PyMem_RawCalloc(cap, sizeof *slots);
        if (slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (s->slots[i] == 0)
                continue;
            size_t j = (size_t)(s->slots[i] * 0x9E3779B97F4A7C15ULL) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = s->slots[i];
        }
        PyMem_RawFree(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j = (size_t)(inode * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == inode)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = inode;
    s->used++;
    return 1;
}

typedef struct {
    TSK_FS_DIR *dir;
    size_t next;     /* index of the next name to read */
    size_t path_len; /* length of this folder's path in Walk.path */
} Frame;

typedef struct {
    TSK_FS_INFO *fs;
    int fd, json, only, recursive;
    PyObject *iso_utc;
    Buf out;
    Buf path;         /* mount prefix + path in the filesystem of the current entry */
    size_t fs_start;  /* where the filesystem path starts in `path` */
    const char *loc;  /* locator text up to the filesystem path, already JSON-escaped */
    size_t loc_len;
    Frame *stack;
    size_t depth, stack_cap;
    InodeSet visited;
    Py_ssize_t written;
} Walk;

/* What an entry shows beyond its path and name (the Entry fields of tsk.py that ls prints). */
typedef struct {
    const char *type;
    int deleted;
    int has_inode;           /* inode is null when there is no metadata and no address */
    uint64_t inode;          /* also the address ("0" when there is none) */
    int64_t size;
    const TSK_FS_META *meta; /* the times come from here; NULL: all null */
    const char *link;        /* link target, NULL when there is none */
} Shown;

static const char *meta_kind(TSK_FS_META_TYPE_ENUM t) {
    switch (t) {
    case TSK_FS_META_TYPE_REG:
    case TSK_FS_META_TYPE_VIRT:
        return "file";
    case TSK_FS_META_TYPE_DIR:
    case TSK_FS_META_TYPE_VIRT_DIR:
        return "dir";
    case TSK_FS_META_TYPE_LNK:
        return "link";
    default:
        return "other";
    }
}

static const char *name_kind(TSK_FS_NAME_TYPE_ENUM t) {
    switch (t) {
    case TSK_FS_NAME_TYPE_REG:
    case TSK_FS_NAME_TYPE_VIRT:
        return "file";
    case TSK_FS_NAME_TYPE_DIR:
    case TSK_FS_NAME_TYPE_VIRT_DIR:
        return "dir";
    case TSK_FS_NAME_TYPE_LNK:
        return "link";
    default:
        return "other";
    }
}

/* entry_json() of listing.py. */
static int emit_json(Walk *w, size_t name_at, const Shown *e) {
    Buf *o = &w->out;
    const unsigned char *path = (const unsigned char *)w->path.data;
    const TSK_FS_META *m = e->meta;
    size_t len = w->path.len;
    int changed;
    if (buf_str(o, "{\"path\": \"") < 0 || (changed = put_shown(o, path, len, 1)) < 0 ||
        buf_str(o, "\", \"name\": \"") < 0 || put_shown(o, path + name_at, len - name_at, 1) < 0 ||
        buf_str(o, "\", \"inode\": ") < 0 || (e->has_inode ? put_u64(o, e->inode) : buf_str(o, "null")) < 0 ||
        buf_str(o, ", \"type\": \"") < 0 || buf_str(o, e->type) < 0 || buf_str(o, "\", \"size\": ") < 0 ||
        put_i64(o, e->size) < 0 || buf_str(o, e->deleted ? ", \"deleted\": true" : ", \"deleted\": false") < 0)
        return -1;
    if (buf_str(o, ", \"mtime\": ") < 0 || (m ? put_time(o, m->mtime, m->mtime_nano, w->iso_utc, 1) : buf_str(o, "null")) < 0 ||
        buf_str(o, ", \"atime\": ") < 0 || (m ? put_time(o, m->atime, m->atime_nano, w->iso_utc, 1) : buf_str(o, "null")) < 0 ||
        buf_str(o, ", \"ctime\": ") < 0 || (m ? put_time(o, m->ctime, m->ctime_nano, w->iso_utc, 1) : buf_str(o, "null")) < 0 ||
        buf_str(o, ", \"crtime\": ") < 0 ||
        (m ? put_time(o, m->crtime, m->crtime_nano, w->iso_utc, 1) : buf_str(o, "null")) < 0)
        return -1;
    if (buf_str(o, ", \"locator\": \"") < 0 || buf_put(o, w->loc, w->loc_len) < 0 ||
        put_quoted(o, path + w->fs_start, len - w->fs_start) < 0 || buf_put(o, "#", 1) < 0 ||
        put_u64(o, e->inode) < 0 || buf_str(o, "\", \"address\": \"") < 0 || put_u64(o, e->inode) < 0 ||
        buf_put(o, "\"", 1) < 0)
        return -1;
    if (e->link != NULL && (buf_str(o, ", \"link_target\": \"") < 0 ||
                            put_shown(o, (const unsigned char *)e->link, strlen(e->link), 1) < 0 ||
                            buf_put(o, "\"", 1) < 0))
        return -1;
    if (changed && (buf_str(o, ", \"path_hex\": \"") < 0 || put_hex(o, path, len) < 0 || buf_put(o, "\"", 1) < 0))
        return -1;
    return buf_put(o, "}\n", 2);
}

/* Decimal text of v (negative when is_signed and v as int64 is), ending at end[-1] = 0. */
static const char *int_text(char *end, uint64_t v, int is_signed) {
    int negative = is_signed && (int64_t)v < 0;
    *--end = 0;
    char *start = digits(end, negative ? (uint64_t)0 - v : v);
    if (negative)
        *--start = '-';
    return start;
}

/* _text_line() of cli/ls.py (without hashes). */
static int emit_text(Walk *w, const Shown *e) {
    Buf *o = &w->out;
    char size[24], addr[24];
    const char *mark = e->deleted ? " * " : "   ";
    if (put_padded(o, e->type, 4, 0) < 0 || buf_str(o, mark) < 0 ||
        put_padded(o, int_text(addr + sizeof addr, e->inode, 0), 12, 1) < 0 || buf_put(o, " ", 1) < 0 ||
        put_padded(o, strcmp(e->type, "dir") == 0 ? "" : int_text(size + sizeof size, (uint64_t)e->size, 1), 12, 1) < 0 ||
        buf_put(o, "  ", 2) < 0 ||
        put_time(o, e->meta ? e->meta->mtime : 0, e->meta ? e->meta->mtime_nano : 0, w->iso_utc, 0) < 0 ||
        buf_put(o, " ", 1) < 0 || put_shown(o, (const unsigned char *)w->path.data, w->path.len, 0) < 0)
        return -1;
    if (e->link != NULL &&
        (buf_str(o, " -> ") < 0 || put_shown(o, (const unsigned char *)e->link, strlen(e->link), 0) < 0))
        return -1;
    return buf_put(o, "\n", 1);
}

/* One output line for the entry whose path is w->path and whose name is the path's tail from
 * name_at, unless --deleted/--allocated leave it out. */
static int emit(Walk *w, size_t name_at, const Shown *e) {
    if (w->only == ONLY_DELETED ? !e->deleted : w->only == ONLY_ALLOCATED ? e->deleted : 0)
        return 0;
    if ((w->json ? emit_json(w, name_at, e) : emit_text(w, e)) < 0)
        return -1;
    w->written++;
    return w->out.len >= FLUSH_AT ? buf_flush(&w->out, w->fd) : 0;
}

static int push_dir(Walk *w, TSK_FS_DIR *dir) {
    if (w->depth == w->stack_cap) {
        size_t cap = w->stack_cap ? 2 * w->stack_cap : 64;
        Frame *s = PyMem_RawRealloc(w->stack, cap * sizeof *s);
        if (s == NULL) {
            tsk_fs_dir_close(dir);
            PyErr_NoMemory();
            return -1;
        }
        w->stack = s;
        w->stack_cap = cap;
    }
    w->stack[w->depth++] = (Frame){dir, 0, w->path.len};
    return 0;
}

/* tsk.py _entries + the descend step of walk() for one name of the folder on top. */
static int visit(Walk *w, TSK_FS_FILE *f) {
    const TSK_FS_NAME *nm = f->name;
    const char *raw = nm->name ? nm->name : "";
    if (strcmp(raw, ".") == 0 || strcmp(raw, "..") == 0)
        return 0;
    Frame *top = &w->stack[w->depth - 1];
    w->path.len = top->path_len;
    /* children of the root are "/name", of anything else "parent/name" */
    if (w->path.len - w->fs_start == 1 && w->path.data[w->path.len - 1] == '/')
        w->path.len--;
    if (buf_put(&w->path, "/", 1) < 0)
        return -1;
    size_t name_at = w->path.len;
    if (buf_str(&w->path, raw) < 0)
        return -1;

    int deleted = (nm->flags & TSK_FS_NAME_FLAG_UNALLOC) != 0;
    TSK_FS_FILE *g = NULL; /* the orphaned metadata of a deleted name, when used */
    TSK_FS_META *meta = f->meta;
    if (meta == NULL && deleted && nm->meta_addr) {
        /* tsk.py _orphaned_meta: only metadata that is still unallocated (not reused) */
        g = tsk_fs_file_open_meta(w->fs, NULL, nm->meta_addr);
        if (g != NULL && g->meta != NULL && (g->meta->flags & TSK_FS_META_FLAG_UNALLOC)) {
            meta = g->meta;
        } else {
            tsk_fs_file_close(g);
            g = NULL;
        }
        tsk_error_reset();
    }
    Shown e;
    if (meta == NULL)
        e = (Shown){name_kind(nm->type), deleted, nm->meta_addr != 0, nm->meta_addr, 0, NULL, NULL};
    else
        e = (Shown){meta_kind(meta->type), deleted || (meta->flags & TSK_FS_META_FLAG_UNALLOC), 1, meta->addr,
                    meta->size, meta, meta->type == TSK_FS_META_TYPE_LNK && meta->link && meta->link[0] ? meta->link : NULL};
    int rc = emit(w, name_at, &e);
    if (rc == 0 && w->recursive && strcmp(e.type, "dir") == 0 && e.has_inode && e.inode != 0) {
        int added = set_add(&w->visited, e.inode);
        if (added < 0) {
            rc = -1;
        } else if (added && meta != NULL) { /* pytsk3's as_directory() needs metadata */
            TSK_FS_DIR *sub = tsk_fs_dir_open_meta(w->fs, meta->addr);
            if (sub != NULL)
                rc = push_dir(w, sub);
            tsk_error_reset();
        }
    }
    tsk_fs_file_close(g);
    return rc;
}

static int run_walk(Walk *w) {
    for (unsigned long n = 1; w->depth > 0; n++) {
        /* Ctrl-C only sets a flag while C runs: look at it now and then, so that a listing of
         * millions of files stops as promptly as the Python walk does */
        if (n % 4096 == 0 && PyErr_CheckSignals() < 0)
            return -1;
        Frame *top = &w->stack[w->depth - 1];
        if (top->next >= tsk_fs_dir_getsize(top->dir)) {
            tsk_fs_dir_close(top->dir);
            w->depth--;
            continue;
        }
        TSK_FS_FILE *f = tsk_fs_dir_get(top->dir, top->next++);
        if (f == NULL) { /* as the Python walk: give up on this folder only */
            tsk_error_reset();
            top->next = SIZE_MAX;
            continue;
        }
        int rc = visit(w, f);
        tsk_fs_file_close(f);
        if (rc < 0)
            return -1;
    }
    return buf_flush(&w->out, w->fd);
}

/* ---------------------------------------------------------------------------------------- */
/* Python entry point.                                                                      */

/* The filesystem types walked here, named as tsk.py's FS_TYPES names them (libtsk's own
 * names differ, "hfsp" for "hfs"); NULL for the others, NTFS included (see the top). */
static const char *fs_name(TSK_FS_TYPE_ENUM t) {
    switch (t) {
    case TSK_FS_TYPE_FAT12:
        return "fat12";
    case TSK_FS_TYPE_FAT16:
        return "fat16";
    case TSK_FS_TYPE_FAT32:
        return "fat32";
    case TSK_FS_TYPE_EXFAT:
        return "exfat";
    case TSK_FS_TYPE_EXT2:
        return "ext2";
    case TSK_FS_TYPE_EXT3:
        return "ext3";
    case TSK_FS_TYPE_EXT4:
        return "ext4";
    case TSK_FS_TYPE_HFS:
        return "hfs";
    case TSK_FS_TYPE_ISO9660:
        return "iso9660";
    default:
        return NULL;
    }
}

PyDoc_STRVAR(walk_doc,
"walk(images, offset, fs_type, start_inode, start_path, mount_prefix, locator_prefix,\n"
"     recursive, json, only, fd, iso_utc) -> int | None\n\n"
"Write the listing of one TSK filesystem to fd; the number of lines written, or None\n"
"(nothing written) when libtsk cannot open the image, the filesystem (or finds another\n"
"type than fs_type) or the start folder. images: raw segment paths in order;\n"
"start_inode: None for the root; start_path, mount_prefix: bytes; locator_prefix: the\n"
"locator text before the path, JSON-escaped; only: 0 all, 1 deleted, 2 allocated.");

static PyObject *walk(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *images, *start_obj, *iso_utc;
    long long offset;
    const char *fs_type, *loc;
    Py_ssize_t loc_len;
    Py_buffer start_path, prefix;
    int recursive, json, only, fd;
    if (!PyArg_ParseTuple(args, "OLsOy*y*y#ppiiO", &images, &offset, &fs_type, &start_obj, &start_path,
                          &prefix, &loc, &loc_len, &recursive, &json, &only, &fd, &iso_utc))
        return NULL;

    PyObject *result = NULL, *seq = NULL;
    PyObject **paths = NULL;
    const char **names = NULL;
    Py_ssize_t n_img = 0;
    TSK_IMG_INFO *img = NULL;
    Walk w = {0};
    w.fd = fd;
    w.json = json;
    w.only = only;
    w.recursive = recursive;
    w.iso_utc = iso_utc;
    w.loc = loc;
    w.loc_len = (size_t)loc_len;

    seq = PySequence_Fast(images, "images must be a sequence of paths");
    if (seq == NULL)
        goto done;
    n_img = PySequence_Fast_GET_SIZE(seq);
    if (n_img < 1 || n_img > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "images: give one or more segment paths");
        goto done;
    }
    paths = PyMem_Calloc((size_t)n_img, sizeof *paths);
    names = PyMem_Calloc((size_t)n_img, sizeof *names);
    if (paths == NULL || names == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_img; i++) {
        if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(seq, i), &paths[i]))
            goto done;
        names[i] = PyBytes_AS_STRING(paths[i]);
    }

    img = tsk_img_open_utf8((int)n_img, names, TSK_IMG_TYPE_RAW, 0);
    if (img == NULL)
        goto unsupported;
    w.fs = tsk_fs_open_img(img, (TSK_OFF_T)offset, TSK_FS_TYPE_DETECT);
    const char *found = w.fs ? fs_name(w.fs->ftype) : NULL;
    if (found == NULL || strcmp(found, fs_type) != 0)
        goto unsupported;
    TSK_INUM_T start = w.fs->root_inum;
    if (start_obj != Py_None) {
        start = PyLong_AsUnsignedLongLong(start_obj);
        if (PyErr_Occurred())
            goto done;
    }
    /* A start folder whose metadata is not a folder's (a zeroed root inode) is one that the
     * system libtsk lists and pytsk3's newer TSK refuses: the Python walk decides. */
    TSK_FS_DIR *dir = tsk_fs_dir_open_meta(w.fs, start);
    if (dir == NULL)
        goto unsupported;
    if (dir->fs_file == NULL || dir->fs_file->meta == NULL || !TSK_FS_IS_DIR_META(dir->fs_file->meta->type)) {
        tsk_fs_dir_close(dir);
        goto unsupported;
    }
    if (buf_put(&w.path, prefix.buf, (size_t)prefix.len) < 0) {
        tsk_fs_dir_close(dir);
        goto done;
    }
    w.fs_start = w.path.len;
    if (buf_put(&w.path, start_path.buf, (size_t)start_path.len) < 0) {
        tsk_fs_dir_close(dir);
        goto done;
    }
    if (push_dir(&w, dir) < 0 || run_walk(&w) < 0)
        goto done;
    result = PyLong_FromSsize_t(w.written);
    goto done;

unsupported:
    tsk_error_reset();
    result = Py_NewRef(Py_None);
done:
    while (w.depth > 0)
        tsk_fs_dir_close(w.stack[--w.depth].dir);
    PyMem_RawFree(w.stack);
    PyMem_RawFree(w.visited.slots);
    PyMem_RawFree(w.out.data);
    PyMem_RawFree(w.path.data);
    if (w.fs != NULL)
        tsk_fs_close(w.fs);
    if (img != NULL)
        tsk_img_close(img);
    for (Py_ssize_t i = 0; paths != NULL && i < n_img; i++)
        Py_XDECREF(paths[i]);
    PyMem_Free(paths);
    PyMem_Free(names);
    Py_XDECREF(seq);
    PyBuffer_Release(&start_path);
    PyBuffer_Release(&prefix);
    return result;
}

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS, walk_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_tskwalk", "The C side of `evkit ls` on TSK filesystems (see tsk_native.py).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__tskwalk(void) { return PyModule_Create(&module); }
