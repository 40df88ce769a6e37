/* SPDX-License-Identifier: MIT */
/* The kernel, directly: system calls for the library's own files (and the
 * CLI's stat checks).  A raw call meets no wrapper, ours or another
 * preloaded library's, needs no symbol of a recent libc (glibc exports
 * stat and fstat only since 2.33; before, they were inline wrappers of
 * __xstat and __fxstat, which musl lacks), and works where there is no
 * hu_real (the CLI, the unit tests).  On x86_64 and aarch64 the kernel's
 * struct stat is libc's. */
#ifndef HOSTUP_SYS_SYSIO_H
#define HOSTUP_SYS_SYSIO_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <sys/wait.h>
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

/* For the bounded reader's child process (readfile_bounded.c) */
static inline int hu_sys_pipe2(int fds[2], int flags)
{
    return (int)syscall(SYS_pipe2, fds, flags);
}

/* A child process sharing nothing (fork's copy of memory and descriptors)
 * that sends no signal when it ends: the program's SIGCHLD handler and
 * wait(-1) never see it (wait4 with __WCLONE does).  No atfork handler
 * runs.  With flags and stack 0 the arguments' order, which differs
 * between architectures, does not matter. */
static inline long hu_sys_clone_quiet(void)
{
    return syscall(SYS_clone, 0L, 0L, 0L, 0L, 0L);
}

static inline long hu_sys_wait_clone(long pid)
{
    int status;
    return syscall(SYS_wait4, pid, &status, __WCLONE, 0L);
}

/* ppoll, relative timeout: the kernel's, not the wrapper's */
static inline int hu_sys_ppoll(struct pollfd *fds, unsigned long n, const struct timespec *ts)
{
    return (int)syscall(SYS_ppoll, fds, n, ts, 0L, 0L);
}

/* The signal mask, as the kernel sees it (8 bytes: 64 signals) */
static inline int hu_sys_sigmask(int how, const unsigned long *set, unsigned long *old)
{
    return (int)syscall(SYS_rt_sigprocmask, how, set, old, sizeof *set);
}

/* Signal sig back to its default action: a zeroed struct of the kernel's
 * layout (handler, flags, restorer, mask) is SIG_DFL on every
 * architecture. */
static inline int hu_sys_signal_default(int sig)
{
    unsigned long act[4] = {0, 0, 0, 0};
    return (int)syscall(SYS_rt_sigaction, sig, act, 0L, sizeof act[3]);
}

static inline __attribute__((noreturn)) void hu_sys_exit_group(int code)
{
    for (;;)
        syscall(SYS_exit_group, code);
}

static inline long hu_sys_getdents64(int fd, void *buf, size_t len)
{
    return syscall(SYS_getdents64, fd, buf, len);
}

/* close_range (Linux 5.9; the call numbers are the same on every
 * architecture since 5.1, so they are spelled out for older headers) */
static inline int hu_sys_close_range(unsigned first, unsigned last)
{
    return (int)syscall(436, first, last, 0U);
}

/* openat2(path, O_PATH, RESOLVE_CACHED) (Linux 5.12): a descriptor for
 * the file only if the kernel's caches resolve the whole path, no file
 * system asked; no open reaches the file system either. */
static inline int hu_sys_openat2_cached_path(const char *path)
{
    struct { unsigned long long flags, mode, resolve; } how = {O_PATH | O_CLOEXEC, 0, 0x20};
    return (int)syscall(437, AT_FDCWD, path, &how, sizeof how);
}

/* statx's 64-bit mount id (Linux 6.8), the one statmount takes */
#define HU_STATX_MNT_ID_UNIQUE 0x4000U
#define HU_STATX_TYPE 0x1U
#define HU_AT_STATX_DONT_SYNC 0x4000

/* struct statx as the kernel lays it out (256 bytes; musl before 1.2.5
 * has none): the fields the bounded reader looks at, and padding. */
struct hu_statx {
    unsigned mask, blksize;
    unsigned long long attributes;
    unsigned nlink, uid, gid;
    unsigned short mode, pad1;
    unsigned long long ino, size, blocks, attributes_mask;
    unsigned long long times[8];        /* atime, btime, ctime, mtime */
    unsigned rdev_major, rdev_minor, dev_major, dev_minor;
    unsigned long long mnt_id;
    unsigned long long spare[13];
};

/* statx on an open descriptor (AT_EMPTY_PATH); -1 with ENOSYS where the
 * headers name no statx call */
static inline int hu_sys_fstatx(int fd, int flags, unsigned mask, struct hu_statx *sx)
{
#ifdef SYS_statx
    return (int)syscall(SYS_statx, fd, "", flags | AT_EMPTY_PATH, mask, sx);
#else
    (void)fd, (void)flags, (void)mask, (void)sx;
    errno = ENOSYS;
    return -1;
#endif
}

/* The magic number of the file system of mount mnt_id (statmount,
 * STATMOUNT_SB_BASIC; Linux 6.8): 0, or -1 (errno). */
static inline int hu_sys_statmount_magic(unsigned long long mnt_id, unsigned long long *magic)
{
    struct { unsigned size, spare; unsigned long long mnt_id, param; } req = {24, 0, mnt_id, 1};
    struct {
        unsigned size, spare;
        unsigned long long mask;
        unsigned dev_major, dev_minor;
        unsigned long long magic;
        unsigned long long rest[62];
    } sm;
    if (syscall(457, &req, &sm, sizeof sm, 0U) != 0)
        return -1;
    if (!(sm.mask & 1)) {
        errno = ENODATA;
        return -1;
    }
    *magic = sm.magic;
    return 0;
}

#if defined(STATX_INO) && defined(SYS_statx)
/* statx, whatever the libc (glibc has it since 2.28, musl since 1.2.5) */
static inline int hu_sys_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
    return (int)syscall(SYS_statx, dirfd, path, flags, mask, sx);
}
#endif

#endif
