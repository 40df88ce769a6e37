/* SPDX-License-Identifier: MIT */
/* The open and stat families on network volumes.
 *
 * open, open64, __open, __open64, openat, openat64, creat, creat64, the
 * _FORTIFY_SOURCE entry points __open_2, __open64_2, __openat_2,
 * __openat64_2, and fopen, fopen64, freopen, freopen64 (glibc opens
 * through an internal call no preload sees, so the stdio openers are
 * wrapped themselves; fclose too, which closes the same way).  stat,
 * stat64, lstat, lstat64, fstatat, fstatat64, statx and the pre-2.33
 * entry points __xstat, __xstat64, __lxstat, __lxstat64, __fxstatat,
 * __fxstatat64.  On musl: the same less glibc's own entry points (__open*,
 * __xstat*; musl programs never call them) and less statx where musl has
 * none (before 1.2.5).
 *
 * The real call runs first, untouched.  A successful open is examined
 * only while some network mount or path rule exists (hu_vol_gate), to
 * track the file for the read wrappers.  A failure is looked at only when
 * its errno is one that some volume rule retries, and retried only when
 * the path is on a network mount or under a path rule.  An open with
 * O_EXCL is never retried: its first try may have created the file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/fdtable.h"
#include "sys/real.h"
#include "engine/volume.h"

enum okind {
    O_OPEN, O_OPEN64, O___OPEN, O___OPEN64, O_OPENAT, O_OPENAT64, O_CREAT_, O_CREAT64_,
    O_OPEN_2, O_OPEN64_2, O_OPENAT_2, O_OPENAT64_2,
    O_FOPEN, O_FOPEN64, O_FREOPEN, O_FREOPEN64,
};

struct oc {
    enum okind kind;
    const char *op;
    int dirfd;
    const char *path;
    int flags;
    mode_t mode;
    const char *fmode;
    FILE *stream;
};

/* An fd, or a FILE * for the stdio openers; -1 / 0 on failure.  Inlined,
 * as do_open is, into each wrapper, with the kind a constant: the switch
 * folds away, and the description (struct oc) is built only when the
 * slow side needs it. */
static inline __attribute__((always_inline)) intptr_t
call_open_args(enum okind kind, int dirfd, const char *path, int flags, mode_t mode,
               const char *fmode, FILE *stream)
{
    switch (kind) {
    case O_OPEN: return hu_real.open(path, flags, mode);
    case O_OPEN64: return hu_real.open64(path, flags, mode);
    case O___OPEN: return hu_real.__open(path, flags, mode);
    case O___OPEN64: return hu_real.__open64(path, flags, mode);
    case O_OPENAT: return hu_real.openat(dirfd, path, flags, mode);
    case O_OPENAT64: return hu_real.openat64(dirfd, path, flags, mode);
    case O_CREAT_: return hu_real.creat(path, mode);
    case O_CREAT64_: return hu_real.creat64(path, mode);
    case O_OPEN_2: return hu_real.__open_2(path, flags);
    case O_OPEN64_2: return hu_real.__open64_2(path, flags);
    case O_OPENAT_2: return hu_real.__openat_2(dirfd, path, flags);
    case O_OPENAT64_2: return hu_real.__openat64_2(dirfd, path, flags);
    case O_FOPEN: return (intptr_t)hu_real.fopen(path, fmode);
    case O_FOPEN64: return (intptr_t)hu_real.fopen64(path, fmode);
    case O_FREOPEN: return (intptr_t)hu_real.freopen(path, fmode, stream);
    case O_FREOPEN64: return (intptr_t)hu_real.freopen64(path, fmode, stream);
    }
    errno = ENOSYS;
    return -1;
}

static intptr_t call_open(const struct oc *c)
{
    return call_open_args(c->kind, c->dirfd, c->path, c->flags, c->mode, c->fmode, c->stream);
}

static int is_stdio(const struct oc *c) { return c->kind >= O_FOPEN; }

/* fopen's mode as open flags: what a reopen must use. */
static int mode_flags(const char *m)
{
    int f;
    switch (m ? m[0] : 'r') {
    case 'w': f = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': f = O_WRONLY | O_CREAT | O_APPEND; break;
    default: f = O_RDONLY; break;
    }
    for (const char *p = m ? m + 1 : ""; *p && *p != ','; p++) {
        if (*p == '+')
            f = (f & ~O_ACCMODE) | O_RDWR;
        else if (*p == 'x')
            f |= O_EXCL;
        else if (*p == 'e')
            f |= O_CLOEXEC;
    }
    return f;
}

/* The open once more, for hu_vol_retry. */
struct open_again {
    const struct oc *c;
    intptr_t res;
};

static int open_again(void *ctx)
{
    struct open_again *oa = ctx;
    oa->res = call_open(oa->c);
    return (is_stdio(oa->c) ? oa->res == 0 : oa->res < 0) ? -1 : 0;
}

/* The open failed (or succeeded on a tracked volume): the slow side. */
__attribute__((noinline)) static intptr_t open_slow(const struct oc *c, intptr_t res, int entry_errno)
{
    int failed = is_stdio(c) ? res == 0 : res < 0;
    int flags = is_stdio(c) ? mode_flags(c->fmode) : c->flags;
    if (!failed) {
        int fd = is_stdio(c) ? fileno((FILE *)res) : (int)res;
        hu_vol_opened(fd, flags, c->dirfd, c->path);
        return res;
    }
    int err = errno;
    if (__atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE) < 0) {
        hu_vol_init();
        errno = err;
    }
    if (!hu_vol_errno_maybe(err) || (flags & O_EXCL) || !c->path) {
        errno = err;
        return res;
    }
    hu_guard++;
    hu_vol_try t;
    if (hu_vol_path_begin(&t, c->op, c->dirfd, c->path, err)) {
        struct open_again oa = {c, res};
        failed = hu_vol_retry(&t, err, open_again, &oa) < 0;
        err = failed ? errno : entry_errno;
        res = oa.res;
        hu_vol_end(&t);
    }
    hu_guard--;
    if (!failed) {
        int fd = is_stdio(c) ? fileno((FILE *)res) : (int)res;
        hu_vol_opened(fd, flags, c->dirfd, c->path);
    }
    errno = err;
    return res;
}

/* After the real call, unless it succeeded with no network mount and no
 * path rule anywhere (a separate function: the fast path keeps a small
 * frame, and the description is built only for this call). */
__attribute__((noinline)) static intptr_t open_after(const struct oc *c, intptr_t res, int saved)
{
    int failed = is_stdio(c) ? res == 0 : res < 0;
    int gate = __atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE);
    if (!failed && gate > 0 &&
        hu_vol_open_untracked(is_stdio(c) ? hu_file_fd((FILE *)res) : (int)res))
        return res;
    if (failed && gate >= 0 && HU_LIKELY(!hu_vol_errno_maybe(errno)))
        return res;
    return open_slow(c, res, saved);
}

/* The open watched: the real call, then a look at its outcome. */
static inline __attribute__((always_inline)) intptr_t
open_watched(enum okind kind, const char *op, int dirfd, const char *path, int flags, mode_t mode,
             const char *fmode, FILE *stream)
{
    int saved = errno;
    if (kind == O_FREOPEN || kind == O_FREOPEN64) {
        /* the stream's fd is closed inside libc, where close() is not seen */
        int old = stream ? fileno(stream) : -1;
        if (old >= 0 && hu_fd_maybe_file(old))
            hu_vol_forget(old);
        errno = saved;
    }
    intptr_t res = call_open_args(kind, dirfd, path, flags, mode, fmode, stream);
    int failed = kind >= O_FOPEN ? res == 0 : res < 0;
    if (HU_LIKELY(!failed && __atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE) == 0))
        return res;
    return open_after(&(struct oc){kind, op, dirfd, path, flags, mode, fmode, stream}, res, saved);
}

/* One out-of-line watched open per kind (the kind a constant in each, so
 * the real call is direct), kept out of the wrappers' own frames. */
typedef intptr_t (*watched_fn)(const char *, int, const char *, int, mode_t, const char *, FILE *);
#define WATCHED(K)                                                                              \
    __attribute__((noinline, unused)) static intptr_t watched_##K(                             \
        const char *op, int dirfd, const char *path, int flags, mode_t mode, const char *fmode, \
        FILE *stream)                                                                           \
    {                                                                                           \
        return open_watched(K, op, dirfd, path, flags, mode, fmode, stream);                    \
    }
#define OPEN_KINDS(X)                                                                          \
    X(O_OPEN) X(O_OPEN64) X(O___OPEN) X(O___OPEN64) X(O_OPENAT) X(O_OPENAT64) X(O_CREAT_)      \
    X(O_CREAT64_) X(O_OPEN_2) X(O_OPEN64_2) X(O_OPENAT_2) X(O_OPENAT64_2) X(O_FOPEN)          \
    X(O_FOPEN64) X(O_FREOPEN) X(O_FREOPEN64)
OPEN_KINDS(WATCHED)
#define WATCHED_CASE(K) case K: return watched_##K;

static inline __attribute__((always_inline)) watched_fn watched_for(enum okind kind)
{
    switch (kind) {
    OPEN_KINDS(WATCHED_CASE)
    }
    return watched_O_OPEN;
}

/* No network mount and no path rule (hu_vol_gate 0): nothing to look at,
 * before or after, so the wrapper only passes the call on.  A network
 * mount made after the program started is noticed at its next start.
 * freopen is always watched: it first forgets the stream's old fd. */
static inline __attribute__((always_inline)) intptr_t
do_open(enum okind kind, const char *op, int dirfd, const char *path, int flags, mode_t mode,
        const char *fmode, FILE *stream)
{
    if (HU_LIKELY(!hu_guard) &&
        (kind == O_FREOPEN || kind == O_FREOPEN64 ||
         HU_UNLIKELY(__atomic_load_n(&hu_vol_gate, __ATOMIC_RELAXED) != 0)))
        return watched_for(kind)(op, dirfd, path, flags, mode, fmode, stream);
    return call_open_args(kind, dirfd, path, flags, mode, fmode, stream);
}

/* open's mode argument exists only with O_CREAT or O_TMPFILE. */
#define MODE(flags)                                                 \
    mode_t mode = 0;                                                \
    if ((flags) & (O_CREAT | __O_TMPFILE)) {                        \
        va_list ap;                                                 \
        va_start(ap, flags);                                        \
        mode = (mode_t)va_arg(ap, int);                             \
        va_end(ap);                                                 \
    }

#define EXPORT __attribute__((visibility("default")))

EXPORT int open(const char *path, int flags, ...)
{
    MODE(flags);
    return (int)do_open(O_OPEN, "open", AT_FDCWD, path, flags, mode, NULL, NULL);
}
EXPORT int open64(const char *path, int flags, ...)
{
    MODE(flags);
    return (int)do_open(O_OPEN64, "open64", AT_FDCWD, path, flags, mode, NULL, NULL);
}
#ifdef __GLIBC__
EXPORT int __open(const char *path, int flags, ...)
{
    MODE(flags);
    return (int)do_open(O___OPEN, "open", AT_FDCWD, path, flags, mode, NULL, NULL);
}
EXPORT int __open64(const char *path, int flags, ...)
{
    MODE(flags);
    return (int)do_open(O___OPEN64, "open64", AT_FDCWD, path, flags, mode, NULL, NULL);
}
#endif
EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    MODE(flags);
    return (int)do_open(O_OPENAT, "openat", dirfd, path, flags, mode, NULL, NULL);
}
EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    MODE(flags);
    return (int)do_open(O_OPENAT64, "openat64", dirfd, path, flags, mode, NULL, NULL);
}
EXPORT int creat(const char *path, mode_t mode)
{
    return (int)do_open(O_CREAT_, "creat", AT_FDCWD, path,
                                     O_CREAT | O_WRONLY | O_TRUNC, mode, NULL, NULL);
}
EXPORT int creat64(const char *path, mode_t mode)
{
    return (int)do_open(O_CREAT64_, "creat64", AT_FDCWD, path,
                                     O_CREAT | O_WRONLY | O_TRUNC, mode, NULL, NULL);
}
#ifdef __GLIBC__
EXPORT int __open_2(const char *path, int flags)
{
    return (int)do_open(O_OPEN_2, "open", AT_FDCWD, path, flags, 0, NULL, NULL);
}
EXPORT int __open64_2(const char *path, int flags)
{
    return (int)do_open(O_OPEN64_2, "open64", AT_FDCWD, path, flags, 0, NULL, NULL);
}
EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    return (int)do_open(O_OPENAT_2, "openat", dirfd, path, flags, 0, NULL, NULL);
}
EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    return (int)do_open(O_OPENAT64_2, "openat64", dirfd, path, flags, 0, NULL, NULL);
}
#endif
EXPORT FILE *fopen(const char *path, const char *m)
{
    return (FILE *)do_open(O_FOPEN, "fopen", AT_FDCWD, path, 0, 0, m, NULL);
}
EXPORT FILE *fopen64(const char *path, const char *m)
{
    return (FILE *)do_open(O_FOPEN64, "fopen64", AT_FDCWD, path, 0, 0, m, NULL);
}
EXPORT FILE *freopen(const char *path, const char *m, FILE *stream)
{
    return (FILE *)do_open(O_FREOPEN, "freopen", AT_FDCWD, path, 0, 0, m, stream);
}
EXPORT FILE *freopen64(const char *path, const char *m, FILE *stream)
{
    return (FILE *)do_open(O_FREOPEN64, "freopen64", AT_FDCWD, path, 0, 0, m, stream);
}

/* fclose closes the fd inside libc, where close() is not seen. */
__attribute__((noinline)) static int fclose_slow(FILE *fp)
{
    hu_ensure_bound();
    int fd = fp ? hu_file_fd(fp) : -1;
    if (!hu_guard && fd >= 0 && hu_fd_maybe_file(fd)) {
        int saved = errno;
        hu_vol_forget(fd);
        errno = saved;
    }
    return hu_real.fclose(fp);
}

EXPORT int fclose(FILE *fp)
{
    int (*fn)(FILE *) = __atomic_load_n(&hu_real.fclose, __ATOMIC_RELAXED);
    if (HU_LIKELY(fn != NULL && fp && !hu_fd_maybe_file(hu_file_fd(fp))))
        return fn(fp);
    return fclose_slow(fp);
}

/* ---- the stat family -------------------------------------------------- */

enum skind { S_STAT, S_STAT64, S_LSTAT, S_LSTAT64, S_FSTATAT, S_FSTATAT64, S_STATX,
             S_XSTAT, S_XSTAT64, S_LXSTAT, S_LXSTAT64, S_FXSTATAT, S_FXSTATAT64 };

struct sc {
    enum skind kind;
    const char *op;
    int dirfd;
    const char *path;
    void *buf;
    int flags;
    unsigned mask;
    int ver;
};

static int call_stat(const struct sc *c)
{
    switch (c->kind) {
    case S_STAT: return hu_real.stat(c->path, c->buf);
    case S_STAT64: return hu_real.stat64(c->path, c->buf);
    case S_LSTAT: return hu_real.lstat(c->path, c->buf);
    case S_LSTAT64: return hu_real.lstat64(c->path, c->buf);
    case S_FSTATAT: return hu_real.fstatat(c->dirfd, c->path, c->buf, c->flags);
    case S_FSTATAT64: return hu_real.fstatat64(c->dirfd, c->path, c->buf, c->flags);
    case S_STATX: return hu_real.statx(c->dirfd, c->path, c->flags, c->mask, c->buf);
    case S_XSTAT: return hu_real.__xstat(c->ver, c->path, c->buf);
    case S_XSTAT64: return hu_real.__xstat64(c->ver, c->path, c->buf);
    case S_LXSTAT: return hu_real.__lxstat(c->ver, c->path, c->buf);
    case S_LXSTAT64: return hu_real.__lxstat64(c->ver, c->path, c->buf);
    case S_FXSTATAT: return hu_real.__fxstatat(c->ver, c->dirfd, c->path, c->buf, c->flags);
    case S_FXSTATAT64: return hu_real.__fxstatat64(c->ver, c->dirfd, c->path, c->buf, c->flags);
    }
    errno = ENOSYS;
    return -1;
}

/* The stat once more, for hu_vol_retry. */
static int stat_again(void *c) { return call_stat(c) == 0 ? 0 : -1; }

__attribute__((noinline)) static int stat_failed(const struct sc *c, int entry_errno)
{
    int err = errno, rc = -1;
    if (!c->path || (!c->path[0] && !(c->flags & AT_EMPTY_PATH))) {
        errno = err;
        return -1;
    }
    hu_guard++;
    hu_vol_try t;
    int dirfd = c->dirfd;
    const char *path = c->path;
    char self[40];
    if (!path[0]) {         /* AT_EMPTY_PATH: the fd itself */
        snprintf(self, sizeof self, "/proc/self/fd/%d", dirfd);
        path = self;
        dirfd = AT_FDCWD;
    }
    if (hu_vol_path_begin(&t, c->op, dirfd, path, err)) {
        rc = hu_vol_retry(&t, err, stat_again, (void *)c);
        err = rc < 0 ? errno : entry_errno;
        hu_vol_end(&t);
    }
    hu_guard--;
    errno = err;
    return rc;
}

static int do_stat(const struct sc *c)
{
    hu_ensure_bound();
    int saved = errno;
    int rc = call_stat(c);
    if (HU_LIKELY(rc == 0) || hu_guard)
        return rc;
    if (__atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE) < 0)
        hu_vol_init();
    if (HU_LIKELY(!hu_vol_errno_maybe(errno)))
        return rc;
    return stat_failed(c, saved);
}

EXPORT int stat(const char *path, struct stat *st)
{
    return do_stat(&(struct sc){S_STAT, "stat", AT_FDCWD, path, st, 0, 0, 0});
}
EXPORT int stat64(const char *path, struct stat64 *st)
{
    return do_stat(&(struct sc){S_STAT64, "stat64", AT_FDCWD, path, st, 0, 0, 0});
}
EXPORT int lstat(const char *path, struct stat *st)
{
    return do_stat(&(struct sc){S_LSTAT, "lstat", AT_FDCWD, path, st, 0, 0, 0});
}
EXPORT int lstat64(const char *path, struct stat64 *st)
{
    return do_stat(&(struct sc){S_LSTAT64, "lstat64", AT_FDCWD, path, st, 0, 0, 0});
}
EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return do_stat(&(struct sc){S_FSTATAT, "fstatat", dirfd, path, st, flags, 0, 0});
}
EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    return do_stat(&(struct sc){S_FSTATAT64, "fstatat64", dirfd, path, st, flags, 0, 0});
}
#ifdef STATX_INO
EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *st)
{
    return do_stat(&(struct sc){S_STATX, "statx", dirfd, path, st, flags, mask, 0});
}
#endif
#ifdef __GLIBC__
EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
    return do_stat(&(struct sc){S_XSTAT, "stat", AT_FDCWD, path, st, 0, 0, ver});
}
EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
    return do_stat(&(struct sc){S_XSTAT64, "stat64", AT_FDCWD, path, st, 0, 0, ver});
}
EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
    return do_stat(&(struct sc){S_LXSTAT, "lstat", AT_FDCWD, path, st, 0, 0, ver});
}
EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
    return do_stat(&(struct sc){S_LXSTAT64, "lstat64", AT_FDCWD, path, st, 0, 0, ver});
}
EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
    return do_stat(&(struct sc){S_FXSTATAT, "fstatat", dirfd, path, st, flags, 0, ver});
}
EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
    return do_stat(&(struct sc){S_FXSTATAT64, "fstatat64", dirfd, path, st, flags, 0, ver});
}
#endif
