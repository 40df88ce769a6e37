/* SPDX-License-Identifier: MIT */
/* Descriptor bookkeeping for the fd table: close, dup, dup2, dup3 and
 * fcntl(F_DUPFD*) keep tracked connections, epoll registrations and files
 * on network volumes with the right fd numbers; getsockopt(SO_ERROR) is the backstop for programs
 * that ask a connecting socket for its result without waiting first. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/socket.h>

#include "engine/conn.h"
#include "engine/fdtable.h"
#include "sys/real.h"
#include "engine/stale.h"
#include "engine/volume.h"

static inline int known(int fd)
{
    hu_fdent *e = hu_fd_get(fd);
    return e && (e->conn || e->epfd >= 0 || e->file);
}

/* Whatever the number held is gone: its connection, its epoll
 * registration, its file.  Call with the lock held. */
static void forget_locked(int fd)
{
    hu_fdent *e = hu_fd_get(fd);
    if (e)
        e->epfd = -1;
    hu_conn_forget_fd(fd);
    hu_vol_forget_fd(fd);
}

static void forget(int fd)
{
    hu_table_lock();
    forget_locked(fd);
    hu_table_unlock();
}

static void duplicated(int fd, int fd2)
{
    hu_table_lock();
    forget_locked(fd2);                 /* whatever fd2 was before is gone */
    if (hu_conn_of_verified(fd))        /* fd's own state, if still its socket's */
        hu_conn_dup(fd, fd2);
    hu_vol_dup(fd, fd2);
    hu_table_unlock();
}

__attribute__((noinline)) static int close_slow(int fd)
{
    hu_ensure_bound();
    /* forget first: once closed, the number may be reused by another thread */
    if (known(fd) && !hu_guard)
        forget(fd);
    return hu_real.close(fd);
}

__attribute__((visibility("default")))
int close(int fd)
{
    if (HU_LIKELY(!known(fd)))
        return hu_real.close(fd);
    return close_slow(fd);
}

__attribute__((visibility("default")))
int dup(int fd)
{
    hu_ensure_bound();
    int fd2 = hu_real.dup(fd);
    if (fd2 >= 0 && !hu_guard && (known(fd) || known(fd2))) {
        int saved = errno;
        duplicated(fd, fd2);
        errno = saved;
    }
    return fd2;
}

static int after_dup2(int fd, int fd2, int rc)
{
    if (rc >= 0 && fd != fd2 && !hu_guard && (known(fd) || known(fd2))) {
        int saved = errno;
        duplicated(fd, fd2);
        errno = saved;
    }
    return rc;
}

__attribute__((visibility("default")))
int dup2(int fd, int fd2)
{
    hu_ensure_bound();
    return after_dup2(fd, fd2, hu_real.dup2(fd, fd2));
}

__attribute__((visibility("default")))
int dup3(int fd, int fd2, int flags)
{
    hu_ensure_bound();
    return after_dup2(fd, fd2, hu_real.dup3(fd, fd2, flags));
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
    int rc = real(fd, cmd, arg);
    if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && rc >= 0)
        return after_dup2(fd, rc, rc);
    return rc;
}

/* fcntl's third argument is an int or a pointer; both travel in the same
 * register, so it is passed on as a pointer, as glibc itself does. */
__attribute__((visibility("default")))
int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    hu_ensure_bound();
    return fcntl_common(hu_real.fcntl, fd, cmd, arg);
}

__attribute__((visibility("default")))
int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    hu_ensure_bound();
    return fcntl_common(hu_real.fcntl64, fd, cmd, arg);   /* fcntl where libc lacks it */
}

__attribute__((visibility("default")))
int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    hu_ensure_bound();
    if (HU_LIKELY(level != SOL_SOCKET || name != SO_ERROR) || hu_guard || !val || !len ||
        *len < sizeof(int))
        return hu_real.getsockopt(fd, level, name, val, len);
    /* a connection done with and owing nothing has nothing to say, whose
     * ever socket fd is now: no identity check (a system call) needed */
    const hu_conn *c0 = hu_conn_of(fd);
    if (HU_LIKELY(!c0 || (c0->state == HU_CONN_DONE && !c0->pending_err)))
        return hu_real.getsockopt(fd, level, name, val, len);
    int saved = errno, err;
    hu_guard++;
    hu_table_lock();
    hu_conn *c = hu_conn_of_verified(fd);
    err = c ? hu_conn_so_error(c, fd) : -1;
    hu_table_unlock();
    hu_guard--;
    if (err < 0) {      /* nothing of ours to say: the kernel's answer */
        errno = saved;
        return hu_real.getsockopt(fd, level, name, val, len);
    }
    *(int *)val = err;
    *len = sizeof(int);
    errno = saved;
    return 0;
}
