/* SPDX-License-Identifier: MIT */
/* The read family on files of network volumes: read, pread, pread64,
 * readv, preadv, preadv64, preadv2, preadv64v2, __read_chk, __pread_chk,
 * __pread64_chk.  On musl: no preadv2 (before 1.2.5) and no _chk entry
 * points, so neither is wrapped there.
 *
 * Fast path: a file flag per fd (fdtable.h).  For an fd that is not a
 * tracked file the wrapper is two loads, a compare and a tail call; the
 * slow path is a separate function so the fast one saves no registers.
 * A tracked fd runs the real call first; only a failure whose errno the
 * file's rule retries goes further (volume.c: wait and read again on the
 * same fd, or reopen after ESTALE).  A failed read moves no offset and
 * transfers no byte, so the try after it continues exactly where the
 * program was. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine/fdtable.h"
#include "sys/real.h"
#include "engine/volume.h"

enum kind { K_READ, K_PREAD, K_PREAD64, K_READV, K_PREADV, K_PREADV64, K_PREADV2, K_PREADV64V2 };

struct rd {
    enum kind kind;
    const char *op;
    void *buf;
    size_t n;
    const struct iovec *iov;
    int cnt;
    off64_t off;                /* -1: the fd's own position */
    int flags;
};

static ssize_t call(int fd, const struct rd *c)
{
    switch (c->kind) {
    case K_READ: return hu_real.read(fd, c->buf, c->n);
    case K_PREAD: return hu_real.pread(fd, c->buf, c->n, (off_t)c->off);
    case K_PREAD64: return hu_real.pread64(fd, c->buf, c->n, c->off);
    case K_READV: return hu_real.readv(fd, c->iov, c->cnt);
    case K_PREADV: return hu_real.preadv(fd, c->iov, c->cnt, (off_t)c->off);
    case K_PREADV64: return hu_real.preadv64(fd, c->iov, c->cnt, c->off);
    case K_PREADV2: return hu_real.preadv2(fd, c->iov, c->cnt, (off_t)c->off, c->flags);
    case K_PREADV64V2: return hu_real.preadv64v2(fd, c->iov, c->cnt, c->off, c->flags);
    }
    errno = ENOSYS;
    return -1;
}

/* The read once more, for hu_vol_retry. */
struct read_again {
    int fd;
    const struct rd *c;
    ssize_t r;
};

static int read_again(void *ctx)
{
    struct read_again *ra = ctx;
    ra->r = call(ra->fd, ra->c);
    return ra->r >= 0 ? 0 : -1;
}

/* The first try failed with errno. */
__attribute__((noinline)) static ssize_t failed(int fd, const struct rd *c, int entry_errno)
{
    int err = errno;
    ssize_t r = -1;
    if (hu_guard || !hu_vol_errno_maybe(err)) {
        errno = err;
        return -1;
    }
    hu_guard++;
    hu_vol_try t;
    if (hu_vol_fd_begin(&t, c->op, fd, c->off, err)) {
        struct read_again ra = {fd, c, -1};
        err = hu_vol_retry(&t, err, read_again, &ra) < 0 ? errno : entry_errno;
        r = ra.r;
        hu_vol_end(&t);
    }
    hu_guard--;
    errno = err;
    return r;
}

__attribute__((noinline)) static ssize_t slow(int fd, const struct rd *c)
{
    hu_ensure_bound();
    int saved = errno;
    ssize_t r = call(fd, c);
    if (HU_LIKELY(r >= 0))
        return r;
    return failed(fd, c, saved);
}

#define FN(name) __atomic_load_n(&hu_real.name, __ATOMIC_RELAXED)

/* Each wrapper is the fast check and a tail call on both sides; the slow
 * side (a separate function, so the fast one saves no registers) builds
 * the call's description. */
#define WRAP(ret, name, params, args, ...)                                      \
    __attribute__((noinline)) static ret name##_slow params                      \
    {                                                                            \
        struct rd c = {__VA_ARGS__};                                             \
        return slow(fd, &c);                                                     \
    }                                                                            \
    __attribute__((visibility("default"))) ret name params                       \
    {                                                                            \
        ret(*fn) params = FN(name);                                              \
        if (HU_LIKELY(fn != NULL && !hu_fd_maybe_file(fd)))                      \
            return fn args;                                                      \
        return name##_slow args;                                                 \
    }

WRAP(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n),
     .kind = K_READ, .op = "read", .buf = buf, .n = n, .off = -1)
WRAP(ssize_t, pread, (int fd, void *buf, size_t n, off_t off), (fd, buf, n, off),
     .kind = K_PREAD, .op = "pread", .buf = buf, .n = n, .off = off)
WRAP(ssize_t, pread64, (int fd, void *buf, size_t n, off64_t off), (fd, buf, n, off),
     .kind = K_PREAD64, .op = "pread64", .buf = buf, .n = n, .off = off)
WRAP(ssize_t, readv, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt),
     .kind = K_READV, .op = "readv", .iov = iov, .cnt = cnt, .off = -1)
WRAP(ssize_t, preadv, (int fd, const struct iovec *iov, int cnt, off_t off), (fd, iov, cnt, off),
     .kind = K_PREADV, .op = "preadv", .iov = iov, .cnt = cnt, .off = off)
WRAP(ssize_t, preadv64, (int fd, const struct iovec *iov, int cnt, off64_t off),
     (fd, iov, cnt, off),
     .kind = K_PREADV64, .op = "preadv64", .iov = iov, .cnt = cnt, .off = off)
#ifdef __GLIBC__
WRAP(ssize_t, preadv2, (int fd, const struct iovec *iov, int cnt, off_t off, int flags),
     (fd, iov, cnt, off, flags),
     .kind = K_PREADV2, .op = "preadv2", .iov = iov, .cnt = cnt, .off = off, .flags = flags)
WRAP(ssize_t, preadv64v2, (int fd, const struct iovec *iov, int cnt, off64_t off, int flags),
     (fd, iov, cnt, off, flags),
     .kind = K_PREADV64V2, .op = "preadv64v2", .iov = iov, .cnt = cnt, .off = off,
     .flags = flags)

/* _FORTIFY_SOURCE: the real checker aborts on an overflow; otherwise the
 * same as the plain call.  size > buflen goes to the checker too. */
__attribute__((noinline)) static ssize_t read_chk_slow(int fd, void *buf, size_t n, size_t buflen)
{
    hu_ensure_bound();
    if (n > buflen)
        return hu_real.__read_chk(fd, buf, n, buflen);
    struct rd c = {.kind = K_READ, .op = "read", .buf = buf, .n = n, .off = -1};
    return slow(fd, &c);
}

__attribute__((visibility("default")))
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    ssize_t (*fn)(int, void *, size_t, size_t) = FN(__read_chk);
    if (HU_LIKELY(fn != NULL && !hu_fd_maybe_file(fd)))
        return fn(fd, buf, n, buflen);
    return read_chk_slow(fd, buf, n, buflen);
}

__attribute__((noinline)) static ssize_t pread_chk_slow(int fd, void *buf, size_t n, off64_t off,
                                                        size_t buflen, int is64)
{
    hu_ensure_bound();
    if (n > buflen)
        return is64 ? hu_real.__pread64_chk(fd, buf, n, off, buflen)
                    : hu_real.__pread_chk(fd, buf, n, (off_t)off, buflen);
    struct rd c = {.kind = is64 ? K_PREAD64 : K_PREAD, .op = is64 ? "pread64" : "pread",
                   .buf = buf, .n = n, .off = off};
    return slow(fd, &c);
}

__attribute__((visibility("default")))
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
    ssize_t (*fn)(int, void *, size_t, off_t, size_t) = FN(__pread_chk);
    if (HU_LIKELY(fn != NULL && !hu_fd_maybe_file(fd)))
        return fn(fd, buf, n, off, buflen);
    return pread_chk_slow(fd, buf, n, off, buflen, 0);
}

__attribute__((visibility("default")))
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
    ssize_t (*fn)(int, void *, size_t, off64_t, size_t) = FN(__pread64_chk);
    if (HU_LIKELY(fn != NULL && !hu_fd_maybe_file(fd)))
        return fn(fd, buf, n, off, buflen);
    return pread_chk_slow(fd, buf, n, off, buflen, 1);
}
#endif
