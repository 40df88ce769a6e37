/* The stdio readers on files of network volumes, musl's way (the glibc
 * build uses wrap_stdio.c).
 *
 * musl's FILE is opaque and its stdio reads with system calls of its own
 * (no read() a preload sees, no __uflow/__underflow a program calls), so
 * the public readers are wrapped: fread, fread_unlocked, fgets,
 * fgets_unlocked, getline, getdelim, __getdelim, fgetc, getc, _IO_getc,
 * fgetc_unlocked, getc_unlocked, getchar, getchar_unlocked.  musl has no
 * _FORTIFY_SOURCE entry points (__fread_chk...) to wrap.
 *
 * Why continuing is exact on musl: a failed refill leaves the buffer empty
 * (rpos == rend), moves no offset and sets the error flag; fread reports
 * every byte it delivered when asked for bytes (size 1).  So after the fd
 * is usable again (a wait, or a reopen at that offset) the flag is cleared
 * and the call goes on.  fgets and getdelim cannot be resumed like that:
 * musl's return NULL / -1 after an error mid-line, and the bytes they
 * already consumed would be lost.  On a tracked FILE they are done here, a
 * character at a time through getc_unlocked, which loses nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdtable.h"
#include "hu.h"
#include "volume.h"

#ifdef HU_MUSL

#define FN(name) __atomic_load_n(&hu_real.name, __ATOMIC_RELAXED)
#define EXPORT __attribute__((visibility("default")))

/* Fast path: no file can be tracked until the volume gate opened (a
 * network mount or a path rule exists), so most programs never pay for
 * musl's fileno (which takes the FILE's lock). */
static inline int fp_fast(FILE *fp)
{
    return __atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE) != 1 ||
           !hu_fd_maybe_file(hu_file_fd(fp));
}

/* Retry state of one stdio call. */
struct sctx {
    const char *op;
    int tried, ok;
    hu_vol_try t;
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

/* Pass to libc: our own calls, a stream already in error. */
static int leave_to_libc(FILE *fp)
{
    return hu_guard || ferror_unlocked(fp);
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

/* ---- one character at a time ----------------------------------------- */

/* The next character of a locked fp, recovering read failures: EOF at the
 * end, or EOF with *bad set after a failure that was handed back. */
static int next_char(FILE *fp, struct sctx *s, int *bad)
{
    for (;;) {
        errno = 0;
        int c = hu_real.getc_unlocked(fp);
        if (c != EOF || !ferror_unlocked(fp))
            return c;
        if (recover(fp, s, errno) < 0) {
            *bad = 1;
            return EOF;
        }
    }
}

typedef int (*char_fn)(FILE *);

static int char_core(FILE *fp, char_fn real, const char *op)
{
    int saved = errno, bad = 0, c;
    flockfile(fp);
    if (leave_to_libc(fp) || !hu_real.getc_unlocked) {
        c = real(fp);
        funlockfile(fp);
        return c;
    }
    struct sctx s = {.op = op};
    c = next_char(fp, &s, &bad);
    int e = errno;
    finish(&s, !bad);
    funlockfile(fp);
    errno = bad ? e : saved;
    return c;
}

static int real_getchar(FILE *fp) { (void)fp; return hu_real.getchar(); }
static int real_getchar_unlocked(FILE *fp) { (void)fp; return hu_real.getchar_unlocked(); }

enum cwhich { C_FGETC, C_GETC, C_IO_GETC, C_FGETC_UNLOCKED, C_GETC_UNLOCKED, C_GETCHAR,
              C_GETCHAR_UNLOCKED };

__attribute__((noinline)) static int char_slow(FILE *fp, enum cwhich w)
{
    hu_ensure_bound();
    static const char *const ops[] = {"fgetc", "getc", "getc", "fgetc_unlocked", "getc_unlocked",
                                      "getchar", "getchar_unlocked"};
    char_fn real;
    switch (w) {
    case C_FGETC: real = hu_real.fgetc; break;
    case C_GETC: real = hu_real.getc; break;
    case C_IO_GETC: real = hu_real._IO_getc ? hu_real._IO_getc : hu_real.getc; break;
    case C_FGETC_UNLOCKED: real = hu_real.fgetc_unlocked; break;
    case C_GETC_UNLOCKED: real = hu_real.getc_unlocked; break;
    case C_GETCHAR: real = real_getchar; break;
    default: real = real_getchar_unlocked; break;
    }
    if (!real)
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

EXPORT int getchar(void)
{
    int (*fn)(void) = FN(getchar);
    if (HU_LIKELY(fn && fp_fast(stdin)))
        return fn();
    return char_slow(stdin, C_GETCHAR);
}
EXPORT int getchar_unlocked(void)
{
    int (*fn)(void) = FN(getchar_unlocked);
    if (HU_LIKELY(fn && fp_fast(stdin)))
        return fn();
    return char_slow(stdin, C_GETCHAR_UNLOCKED);
}

/* ---- fgets and getdelim: a character at a time -------------------------- */

typedef char *(*fgets_fn)(char *, int, FILE *);

static char *fgets_core(char *buf, int n, FILE *fp, fgets_fn real, const char *op)
{
    if (n <= 1 || !buf || !hu_real.getc_unlocked)
        return real(buf, n, fp);
    int saved = errno, bad = 0;
    flockfile(fp);
    if (leave_to_libc(fp)) {
        char *r = real(buf, n, fp);
        funlockfile(fp);
        return r;
    }
    struct sctx s = {.op = op};
    size_t max = (size_t)n - 1, got = 0;
    while (got < max) {
        int c = next_char(fp, &s, &bad);
        if (c == EOF)
            break;
        buf[got++] = (char)c;
        if (c == '\n')
            break;
    }
    int e = errno;
    finish(&s, !bad);
    funlockfile(fp);
    if (bad) {              /* as musl: a read error means NULL */
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

typedef ssize_t (*getdelim_fn)(char **, size_t *, int, FILE *);

static ssize_t getdelim_core(char **lp, size_t *np, int delim, FILE *fp, getdelim_fn real,
                             const char *op)
{
    if (!lp || !np || !hu_real.getc_unlocked)
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
    size_t got = 0;
    for (;;) {
        int c = next_char(fp, &s, &bad);
        if (c == EOF)
            break;
        if (got + 2 > *np) {
            size_t want = 2 * *np;
            char *b = realloc(*lp, want);
            if (!b) {
                nomem = 1;
                break;
            }
            *lp = b;
            *np = want;
        }
        (*lp)[got++] = (char)c;
        if (c == (unsigned char)delim)
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

__attribute__((noinline)) static ssize_t getdelim_slow(char **lp, size_t *np, int delim, FILE *fp,
                                                       const char *op)
{
    hu_ensure_bound();
    if (hu_guard)
        return hu_real.getdelim(lp, np, delim, fp);
    return getdelim_core(lp, np, delim, fp, hu_real.getdelim, op);
}
EXPORT ssize_t getdelim(char **lp, size_t *np, int delim, FILE *fp)
{
    getdelim_fn fn = FN(getdelim);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(lp, np, delim, fp);
    return getdelim_slow(lp, np, delim, fp, "getdelim");
}
EXPORT ssize_t __getdelim(char **lp, size_t *np, int delim, FILE *fp)
{
    return getdelim(lp, np, delim, fp);
}
EXPORT ssize_t getline(char **lp, size_t *np, FILE *fp)
{
    getdelim_fn fn = FN(getdelim);
    if (HU_LIKELY(fn && fp_fast(fp)))
        return fn(lp, np, '\n', fp);
    return getdelim_slow(lp, np, '\n', fp, "getline");
}

#endif
