/* SPDX-License-Identifier: MIT */
/* The stdio readers on files of network volumes, on glibc and on musl.
 *
 * stdio fills the FILE buffer through a read of its own that no preload
 * can see (glibc's internal read(), musl's system calls), so the readers
 * are wrapped themselves: fread, fread_unlocked, fgets, fgets_unlocked,
 * getline, getdelim, __getdelim, fgetc, getc, _IO_getc, fgetc_unlocked,
 * getc_unlocked, getchar, getchar_unlocked; on glibc also the
 * _FORTIFY_SOURCE entry points (__fread_chk, __fread_unlocked_chk,
 * __fgets_chk, __fgets_unlocked_chk) and __uflow/__underflow (what the
 * getc_unlocked macro and inline readers call when the buffer is empty).
 * musl has neither, and its FILE is opaque.
 *
 * Why continuing is exact: both libcs empty the buffer before they refill
 * it (glibc may read straight into the caller's buffer), and a failed read
 * moves no offset; so when a read error is flagged, every byte the stream
 * handed out is accounted for, nothing is buffered, and the kernel offset
 * is the stream's position.  After the fd is usable again (a wait, or a
 * reopen at that same offset) the error flag is cleared and the call goes
 * on from where it stopped.  For that the call must know how many bytes it
 * already delivered: fread is asked for bytes (size 1), and fgets/getdelim
 * are done here (libc's own return NULL / -1 after an error mid-line and
 * the bytes they consumed would be lost): on glibc on the FILE's get area,
 * as glibc does them, with __underflow to refill; on musl a character at a
 * time through getc_unlocked.  Only FILEs whose fd is tracked take this
 * path; streams that already had an error (and glibc's wide-oriented ones)
 * are left to libc. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fdtable.h"
#include "sys/real.h"
#include "engine/volume.h"

/* <bits/stdio.h> turns some of these into macros when optimising */
#undef fread_unlocked
#undef fgetc_unlocked
#undef getc_unlocked
#undef getchar_unlocked
#undef getc
#undef getchar

#define FN(name) __atomic_load_n(&hu_real.name, __ATOMIC_RELAXED)
#define EXPORT __attribute__((visibility("default")))

typedef int (*char_fn)(FILE *);

/* Retry state of one stdio call. */
struct sctx {
    const char *op;
    int tried, ok;
    hu_vol_try t;
    char ch;            /* musl: the character avail() read */
};

/* fp has its error flag set by a failed read with err: make its fd usable
 * again.  0: the flag is cleared, go on; -1: hand the failure over (the
 * flag stays, errno is set). */
static int recover(FILE *fp, struct sctx *s, int err)
{
    int rc = -1;
    if (!hu_vol_errno_maybe(err)) {
        errno = err;
        return -1;
    }
    hu_guard++;
    if (!s->tried) {
        s->tried = 1;
        s->ok = hu_vol_fd_begin(&s->t, s->op, hu_file_fd(fp), -1, err);
    }
    if (!s->ok)
        errno = err;
    else if (hu_vol_step(&s->t, err) == 0) {
        clearerr_unlocked(fp);
        rc = 0;
    }
    int e = errno;
    hu_guard--;
    errno = e;
    return rc;
}

static void finish(struct sctx *s, int good)
{
    if (!s->ok)
        return;
    int e = errno;
    hu_guard++;
    if (good)
        hu_vol_success(&s->t);
    hu_vol_end(&s->t);
    hu_guard--;
    errno = e;
}

/* The next character of a locked fp through get, recovering read failures:
 * EOF at the end, or EOF with *bad set after a failure that was handed
 * back. */
static int next_char(FILE *fp, char_fn get, struct sctx *s, int *bad)
{
    for (;;) {
        errno = 0;
        int c = get(fp);
        if (c != EOF || !ferror_unlocked(fp))
            return c;
        if (recover(fp, s, errno) < 0) {
            *bad = 1;
            return EOF;
        }
    }
}

/* ---- what differs between glibc's FILE and musl's ------------------------
 *
 * fp_fast: fp's fd is certainly not tracked (the wrappers' fast path).
 * wide: a wide-oriented stream, left to libc.
 * prog_stdin: the program's stdin.
 * avail/take: the bytes of a locked fp that are ready, refilling and
 * recovering as needed: how many (0 at the end, or with *bad set after a
 * failure handed back), at *p; take(fp, k) consumes k of them.  can_avail:
 * the libc function avail needs is there.
 * char_get: what a wrapped character reader reads with under the lock. */
#ifdef HU_MUSL

/* No file can be tracked until the volume gate opened (a network mount or
 * a path rule exists), so most programs never pay for musl's fileno (which
 * takes the FILE's lock). */
static inline int fp_fast(FILE *fp)
{
    return __atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE) != 1 ||
           !hu_fd_maybe_file(hu_file_fd(fp));
}

static inline int wide(FILE *fp) { (void)fp; return 0; }

/* musl's stdin is a constant pointer to its FILE: never NULL */
static inline FILE *prog_stdin(void)
{
    FILE *in = stdin;
    if (!in)
        __builtin_unreachable();
    return in;
}

/* The FILE's buffer is out of reach: one character at a time, which
 * getc_unlocked takes from it. */
static size_t avail(FILE *fp, struct sctx *s, int *bad, const char **p)
{
    int c = next_char(fp, hu_real.getc_unlocked, s, bad);
    if (c == EOF)
        return 0;
    s->ch = (char)c;
    *p = &s->ch;
    return 1;
}

static inline void take(FILE *fp, size_t k) { (void)fp; (void)k; }

static inline int can_avail(void) { return hu_real.getc_unlocked != NULL; }

static inline char_fn char_get(char_fn real) { (void)real; return hu_real.getc_unlocked; }

#else /* glibc */

static inline int fp_fast(FILE *fp) { return !hu_fd_maybe_file(fp->_fileno); }

static inline int wide(FILE *fp) { return fp->_mode > 0; }

/* Inside this library the name stdin is jansson's private stand-in
 * (jansson_link.c), so the program's is looked up by name. */
static FILE *prog_stdin(void)
{
    FILE **ref = hu_real_stdin_ref();
    return ref ? *ref : NULL;
}

/* The get area, refilled by __underflow. */
static size_t avail(FILE *fp, struct sctx *s, int *bad, const char **p)
{
    for (;;) {
        if (fp->_IO_read_ptr < fp->_IO_read_end) {
            *p = fp->_IO_read_ptr;
            return (size_t)(fp->_IO_read_end - fp->_IO_read_ptr);
        }
        errno = 0;
        if (hu_real.__underflow(fp) != EOF)
            continue;
        if (!ferror_unlocked(fp))
            return 0;
        if (recover(fp, s, errno) < 0) {
            *bad = 1;
            return 0;
        }
    }
}

static inline void take(FILE *fp, size_t k) { fp->_IO_read_ptr += k; }

static inline int can_avail(void) { return hu_real.__underflow != NULL; }

/* the call itself: __underflow must not take the character */
static inline char_fn char_get(char_fn real) { return real; }

#endif

/* Pass to libc: our own calls, wide streams, a stream already in error. */
static int leave_to_libc(FILE *fp)
{
    return hu_guard || wide(fp) || ferror_unlocked(fp);
}

/* ---- fread ------------------------------------------------------------ */

typedef size_t (*fread_fn)(void *, size_t, size_t, FILE *);

static size_t fread_core(void *buf, size_t size, size_t n, FILE *fp, fread_fn real, const char *op)
{
    size_t total, got = 0;
    if (!size || !n || __builtin_mul_overflow(size, n, &total))
        return real(buf, size, n, fp);
    int saved = errno, bad = 0;
    flockfile(fp);
    if (leave_to_libc(fp)) {
        got = real(buf, size, n, fp);
        funlockfile(fp);
        return got;
    }
    struct sctx s = {.op = op};
    for (;;) {
        errno = 0;
        /* bytes, so a partly delivered item is counted too */
        got += real((char *)buf + got, 1, total - got, fp);
        if (got == total || !ferror_unlocked(fp))
            break;
        if (recover(fp, &s, errno) < 0) {
            bad = 1;
            break;
        }
    }
    int e = errno;
    finish(&s, !bad);
    funlockfile(fp);
    errno = bad ? e : saved;
    return got / size;
}

__attribute__((noinline)) static size_t fread_slow(void *buf, size_t size, size_t n, FILE *fp,
                                                   int unlocked)
{
    hu_ensure_bound();
    fread_fn real = unlocked ? hu_real.fread_unlocked : hu_real.fread;
    if (!real)
        real = hu_real.fread;
    return fread_core(buf, size, n, fp, real, unlocked ? "fread_unlocked" : "fread");
}
EXPORT size_t fread(void *buf, size_t size, size_t n, FILE *fp)
{
    fread_fn fn = FN(fread);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(buf, size, n, fp);
    return fread_slow(buf, size, n, fp, 0);
}
EXPORT size_t fread_unlocked(void *buf, size_t size, size_t n, FILE *fp)
{
    fread_fn fn = FN(fread_unlocked);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(buf, size, n, fp);
    return fread_slow(buf, size, n, fp, 1);
}

#ifndef HU_MUSL
static size_t fread_chk_common(void *buf, size_t buflen, size_t size, size_t n, FILE *fp, int unlocked)
{
    hu_ensure_bound();
    size_t total;
    if (!hu_fd_maybe_file(fp->_fileno) || __builtin_mul_overflow(size, n, &total) || total > buflen)
        return unlocked ? hu_real.__fread_unlocked_chk(buf, buflen, size, n, fp)
                        : hu_real.__fread_chk(buf, buflen, size, n, fp);
    return unlocked ? fread_core(buf, size, n, fp, hu_real.fread_unlocked, "fread_unlocked")
                    : fread_core(buf, size, n, fp, hu_real.fread, "fread");
}
EXPORT size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *fp)
{
    return fread_chk_common(buf, buflen, size, n, fp, 0);
}
EXPORT size_t __fread_unlocked_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *fp)
{
    return fread_chk_common(buf, buflen, size, n, fp, 1);
}
#endif

/* ---- fgets and getdelim: done here, through avail/take ------------------- */

typedef char *(*fgets_fn)(char *, int, FILE *);

static char *fgets_core(char *buf, int n, FILE *fp, fgets_fn real, const char *op)
{
    if (n <= 1 || !buf || !can_avail())
        return real(buf, n, fp);
    int saved = errno, bad = 0;
    flockfile(fp);
    if (leave_to_libc(fp)) {
        char *r = real(buf, n, fp);
        funlockfile(fp);
        return r;
    }
    struct sctx s = {.op = op};
    size_t max = (size_t)n - 1, got = 0, k;
    const char *p;
    while (got < max && (k = avail(fp, &s, &bad, &p))) {
        if (k > max - got)
            k = max - got;
        const char *nl = memchr(p, '\n', k);
        if (nl)
            k = (size_t)(nl - p) + 1;
        memcpy(buf + got, p, k);
        take(fp, k);
        got += k;
        if (nl)
            break;
    }
    int e = errno;
    finish(&s, !bad);
    funlockfile(fp);
    if (bad) {              /* as libc: a read error means NULL */
        errno = e;
        return NULL;
    }
    errno = saved;
    if (got == 0)
        return NULL;
    buf[got] = '\0';
    return buf;
}

__attribute__((noinline)) static char *fgets_slow(char *buf, int n, FILE *fp, int unlocked)
{
    hu_ensure_bound();
    fgets_fn real = unlocked && hu_real.fgets_unlocked ? hu_real.fgets_unlocked : hu_real.fgets;
    if (hu_guard)
        return real(buf, n, fp);
    return fgets_core(buf, n, fp, real, unlocked ? "fgets_unlocked" : "fgets");
}
EXPORT char *fgets(char *buf, int n, FILE *fp)
{
    fgets_fn fn = FN(fgets);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(buf, n, fp);
    return fgets_slow(buf, n, fp, 0);
}
EXPORT char *fgets_unlocked(char *buf, int n, FILE *fp)
{
    fgets_fn fn = FN(fgets_unlocked);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(buf, n, fp);
    return fgets_slow(buf, n, fp, 1);
}

#ifndef HU_MUSL
static char *fgets_chk_common(char *buf, size_t size, int n, FILE *fp, int unlocked)
{
    hu_ensure_bound();
    if (!hu_fd_maybe_file(fp->_fileno) || n < 0 || (size_t)n > size)
        return unlocked ? hu_real.__fgets_unlocked_chk(buf, size, n, fp)
                        : hu_real.__fgets_chk(buf, size, n, fp);
    return fgets_slow(buf, n, fp, unlocked);
}
EXPORT char *__fgets_chk(char *buf, size_t size, int n, FILE *fp)
{
    return fgets_chk_common(buf, size, n, fp, 0);
}
EXPORT char *__fgets_unlocked_chk(char *buf, size_t size, int n, FILE *fp)
{
    return fgets_chk_common(buf, size, n, fp, 1);
}
#endif

typedef ssize_t (*getdelim_fn)(char **, size_t *, int, FILE *);

static ssize_t getdelim_core(char **lp, size_t *np, int delim, FILE *fp, getdelim_fn real,
                             const char *op)
{
    if (!lp || !np || !can_avail())
        return real(lp, np, delim, fp);
    int saved = errno, bad = 0, nomem = 0;
    flockfile(fp);
    if (leave_to_libc(fp)) {
        ssize_t r = real(lp, np, delim, fp);
        funlockfile(fp);
        return r;
    }
    if (!*lp || !*np) {
        char *b = realloc(*lp, 120);
        if (!b) {
            funlockfile(fp);
            errno = ENOMEM;
            return -1;
        }
        *lp = b;
        *np = 120;
    }
    struct sctx s = {.op = op};
    size_t got = 0, k;
    const char *p;
    while ((k = avail(fp, &s, &bad, &p))) {
        const char *d = memchr(p, (unsigned char)delim, k);
        if (d)
            k = (size_t)(d - p) + 1;
        if (got + k + 1 > *np) {
            size_t want = 2 * *np > got + k + 1 ? 2 * *np : got + k + 1;
            char *b = realloc(*lp, want);
            if (!b) {
                nomem = 1;
                break;
            }
            *lp = b;
            *np = want;
        }
        memcpy(*lp + got, p, k);
        take(fp, k);
        got += k;
        if (d)
            break;
    }
    int e = errno;
    finish(&s, !bad);
    funlockfile(fp);
    if (nomem) {
        errno = ENOMEM;
        return -1;
    }
    if (bad) {
        errno = e;
        return -1;
    }
    errno = saved;
    if (got == 0)
        return -1;
    (*lp)[got] = '\0';
    return (ssize_t)got;
}

enum dwhich { D_GETDELIM, D___GETDELIM, D_GETLINE };

__attribute__((noinline)) static ssize_t getdelim_slow(char **lp, size_t *np, int delim, FILE *fp,
                                                       enum dwhich w)
{
    hu_ensure_bound();
    getdelim_fn real = w == D___GETDELIM && hu_real.__getdelim ? hu_real.__getdelim : hu_real.getdelim;
    if (hu_guard)
        return w == D_GETLINE && hu_real.getline ? hu_real.getline(lp, np, fp)
                                                 : real(lp, np, delim, fp);
    return getdelim_core(lp, np, delim, fp, real, w == D_GETLINE ? "getline" : "getdelim");
}
EXPORT ssize_t getdelim(char **lp, size_t *np, int delim, FILE *fp)
{
    getdelim_fn fn = FN(getdelim);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(lp, np, delim, fp);
    return getdelim_slow(lp, np, delim, fp, D_GETDELIM);
}
EXPORT ssize_t __getdelim(char **lp, size_t *np, int delim, FILE *fp)
{
    getdelim_fn fn = FN(__getdelim);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(lp, np, delim, fp);
    return getdelim_slow(lp, np, delim, fp, D___GETDELIM);
}
EXPORT ssize_t getline(char **lp, size_t *np, FILE *fp)
{
    ssize_t (*fn)(char **, size_t *, FILE *) = FN(getline);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(lp, np, fp);
    return getdelim_slow(lp, np, '\n', fp, D_GETLINE);
}

/* ---- one character at a time ----------------------------------------- */

static int char_core(FILE *fp, char_fn real, const char *op)
{
    int saved = errno, bad = 0, c;
    char_fn get = char_get(real);
    flockfile(fp);
    if (leave_to_libc(fp) || !get) {
        c = real(fp);
        funlockfile(fp);
        return c;
    }
    struct sctx s = {.op = op};
    c = next_char(fp, get, &s, &bad);
    int e = errno;
    finish(&s, !bad);
    funlockfile(fp);
    errno = bad ? e : saved;
    return c;
}

static int real_getchar(FILE *fp) { (void)fp; return hu_real.getchar(); }
static int real_getchar_unlocked(FILE *fp) { (void)fp; return hu_real.getchar_unlocked(); }

enum cwhich { C_FGETC, C_GETC, C_IO_GETC, C_FGETC_UNLOCKED, C_GETC_UNLOCKED, C_GETCHAR,
              C_GETCHAR_UNLOCKED, C_UFLOW, C_UNDERFLOW };

__attribute__((noinline)) static int char_slow(FILE *fp, enum cwhich w)
{
    hu_ensure_bound();
    static const char *const ops[] = {"fgetc", "getc", "getc", "fgetc_unlocked", "getc_unlocked",
                                      "getchar", "getchar_unlocked", "getc_unlocked", "getc_unlocked"};
    char_fn real;
    switch (w) {
    case C_FGETC: real = hu_real.fgetc; break;
    case C_GETC: real = hu_real.getc; break;
    case C_IO_GETC: real = hu_real._IO_getc ? hu_real._IO_getc : hu_real.getc; break;
    case C_FGETC_UNLOCKED: real = hu_real.fgetc_unlocked; break;
    case C_GETC_UNLOCKED: real = hu_real.getc_unlocked; break;
    case C_GETCHAR: real = real_getchar; break;
    case C_GETCHAR_UNLOCKED: real = real_getchar_unlocked; break;
    case C_UFLOW: real = hu_real.__uflow; break;
    default: real = hu_real.__underflow; break;
    }
    if (!real && w != C_UNDERFLOW)  /* a libc without that reader (__underflow takes none) */
        real = hu_real.fgetc;
    if (!real) {            /* no libc reader at all: nothing to call */
        errno = ENOSYS;
        return EOF;
    }
    if (hu_guard)
        return real(fp);
    return char_core(fp, real, ops[w]);
}

#define CHARFN(name, which)                                 \
    EXPORT int name(FILE *fp)                               \
    {                                                       \
        char_fn fn = FN(name);                              \
        if (HU_LIKELY(fn && fp_fast(fp)))                   \
            return fn(fp);                                  \
        return char_slow(fp, which);                        \
    }
CHARFN(fgetc, C_FGETC)
CHARFN(getc, C_GETC)
CHARFN(_IO_getc, C_IO_GETC)
CHARFN(fgetc_unlocked, C_FGETC_UNLOCKED)
CHARFN(getc_unlocked, C_GETC_UNLOCKED)
#ifndef HU_MUSL
CHARFN(__uflow, C_UFLOW)
CHARFN(__underflow, C_UNDERFLOW)
#endif

#define CHARFN_STDIN(name, which)                           \
    EXPORT int name(void)                                   \
    {                                                       \
        int (*fn)(void) = FN(name);                         \
        FILE *in = prog_stdin();                            \
        if (HU_LIKELY(fn && in && fp_fast(in)))             \
            return fn();                                    \
        if (!in)                                            \
            return fn ? fn() : EOF;                         \
        return char_slow(in, which);                        \
    }
CHARFN_STDIN(getchar, C_GETCHAR)
CHARFN_STDIN(getchar_unlocked, C_GETCHAR_UNLOCKED)
