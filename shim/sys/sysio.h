/* The kernel, directly: system calls for the library's own files (and the
 * CLI's stat checks).  A raw call meets no wrapper, ours or another
 * preloaded library's, needs no symbol of a recent libc (glibc exports
 * stat and fstat only since 2.33; before, they were inline wrappers of
 * __xstat and __fxstat, which musl lacks), and works where there is no
 * hu_real (the CLI, the unit tests).  On x86_64 and aarch64 the kernel's
 * struct stat is libc's. */
#ifndef HOSTUP_SYS_SYSIO_H
#define HOSTUP_SYS_SYSIO_H

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int hu_sys_open(const char *path, int flags, mode_t mode)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static inline int hu_sys_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

static inline ssize_t hu_sys_read(int fd, void *buf, size_t len)
{
    return (ssize_t)syscall(SYS_read, fd, buf, len);
}

static inline ssize_t hu_sys_write(int fd, const void *buf, size_t len)
{
    return (ssize_t)syscall(SYS_write, fd, buf, len);
}

static inline int hu_sys_fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}

static inline int hu_sys_stat(const char *path, struct stat *st)
{
    return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
}

#if defined(STATX_INO) && defined(SYS_statx)
/* statx, whatever the libc (glibc has it since 2.28, musl since 1.2.5) */
static inline int hu_sys_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
    return (int)syscall(SYS_statx, dirfd, path, flags, mask, sx);
}
#endif

#endif
