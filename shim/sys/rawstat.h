/* stat and fstat as system calls.  glibc exports stat and fstat only since
 * 2.33 (before, they were inline wrappers of __xstat and __fxstat, which
 * musl lacks), and a raw call never meets another preloaded library's
 * wrapper.  On x86_64 and aarch64 the kernel's struct stat is libc's. */
#ifndef HOSTUP_RAWSTAT_H
#define HOSTUP_RAWSTAT_H

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int hu_raw_fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}

static inline int hu_raw_stat(const char *path, struct stat *st)
{
    return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
}

#endif
