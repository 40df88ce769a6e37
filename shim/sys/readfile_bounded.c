/* SPDX-License-Identifier: MIT */
/* The small-file reader, bounded in time (readfile_bounded.h).  A child
 * process reads the file and sends a header and the bytes through a pipe;
 * the caller waits for them until its deadline and then walks away. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "readfile_bounded.h"
#include "sysio.h"

/* What the child sends first; then reply.n bytes when n > 0. */
struct reply {
    ssize_t n;
    int err;
    hu_readfile_info info;
};

static int write_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    while (len) {
        ssize_t w = hu_sys_write(fd, c, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Every descriptor but keep: a child stuck on a dead mount must not hold
 * the program's pipes and sockets open (a reader of its stdout would wait
 * for an end of file).  close_range (Linux 5.9), else /proc/self/fd. */
static void close_all_but(int keep)
{
    if ((keep == 0 || hu_sys_close_range(0, (unsigned)keep - 1) == 0) &&
        hu_sys_close_range((unsigned)keep + 1, ~0U) == 0)
        return;
    int dir = hu_sys_open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0)
        return;
    char buf[4096];
    long n;
    while ((n = hu_sys_getdents64(dir, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            const char *name = buf + off + 19;      /* d_ino 8, d_off 8, d_reclen 2, d_type 1 */
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            off += reclen;
            int fd = 0;
            for (const char *c = name; *c >= '0' && *c <= '9'; c++)
                fd = fd * 10 + (*c - '0');
            if (name[0] >= '0' && name[0] <= '9' && fd != keep && fd != dir)
                hu_sys_close(fd);
        }
    }
    hu_sys_close(dir);
}

/* The child: born with every signal blocked (the caller's handlers must
 * never run here), it puts every signal back to its default action, so
 * that ^C or the closed pipe ends it, and reads. */
static __attribute__((noreturn)) void child(int out, const char *path, unsigned flags,
                                            char *buf, size_t size)
{
    for (int sig = 1; sig <= 64; sig++)
        hu_sys_signal_default(sig);
    unsigned long none = 0;
    hu_sys_sigmask(SIG_SETMASK, &none, NULL);
    close_all_but(out);
    struct reply r;
    memset(&r, 0, sizeof r);
    r.n = hu_read_file(path, flags, buf, size, &r.info);
    r.err = errno;
    if (write_all(out, &r, sizeof r) == 0 && r.n > 0)
        write_all(out, buf, (size_t)r.n);
    hu_sys_exit_group(0);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Up to len bytes from fd before the deadline; how many (fewer at the end
 * of file), or -1 when time ran out or the pipe failed. */
static ssize_t read_until(int fd, void *p, size_t len, long long deadline)
{
    size_t got = 0;
    while (got < len) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000};
        struct pollfd pfd = {fd, POLLIN, 0};
        int rc = hu_sys_ppoll(&pfd, 1, &ts);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            continue;                   /* re-checks the deadline */
        ssize_t r = hu_sys_read(fd, (char *)p + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* The child's answer; HU_RF_TIME when it did not come in time, HU_RF_READ
 * (EIO) when the child died first.  *done: the child has closed its end
 * (it is exiting, or gone, so waiting for it cannot block). */
static ssize_t receive(int fd, char *buf, size_t size, hu_readfile_info *info,
                       long long deadline, int *done)
{
    struct reply r;
    char end;
    *done = 0;
    ssize_t got = read_until(fd, &r, sizeof r, deadline);
    if (got >= 0 && got < (ssize_t)sizeof r) {
        *done = 1;
        errno = EIO;
        return HU_RF_READ;
    }
    if (got < 0)
        return HU_RF_TIME;
    if (r.n >= (ssize_t)size)
        r.n = HU_RF_READ;               /* cannot be: the child had size too */
    if (r.n > 0 && read_until(fd, buf, (size_t)r.n, deadline) != r.n)
        return HU_RF_TIME;
    *done = read_until(fd, &end, 1, deadline) == 0;
    *info = r.info;
    if (r.n >= 0)
        buf[r.n] = '\0';
    errno = r.err;
    return r.n;
}

/* File systems whose reads this machine's own kernel and disks answer
 * (magic numbers of linux/magic.h): a file on one is read here, at once,
 * with no child process. */
static int local_magic(unsigned long long magic)
{
    static const unsigned long long magics[] = {
        0xEF53,         /* ext2, ext3, ext4 */
        0x58465342,     /* xfs */
        0x9123683E,     /* btrfs */
        0xca451a4e,     /* bcachefs */
        0xF2F52010,     /* f2fs */
        0x2fc12fc1,     /* zfs */
        0x01021994,     /* tmpfs, devtmpfs */
        0x858458f6,     /* ramfs */
        0x794c7630,     /* overlay (containers' root) */
        0x73717368,     /* squashfs */
        0xE0F5E1E2,     /* erofs */
        0x4d44,         /* vfat, msdos */
        0x2011BAB0,     /* exfat */
        0x9fa0,         /* proc */
        0x62656572,     /* sysfs */
    };
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if (magics[i] == magic)
            return 1;
    return 0;
}

/* Is the file at path surely on a local file system?  Decided without
 * waiting on any file system: openat2's RESOLVE_CACHED resolves from the
 * kernel's caches only (EAGAIN when that would take a lookup) and O_PATH
 * opens nothing; statx with AT_STATX_DONT_SYNC answers from cached
 * attributes (NFS, FUSE, CIFS and Ceph honour it); statmount (Linux 6.8)
 * names the mount's file system by its magic number.  Before 6.8 a file
 * on a block device counts as local; anything else takes the child. */
static int surely_local(const char *path)
{
    int fd = hu_sys_openat2_cached_path(path);
    if (fd < 0)
        return 0;
    struct hu_statx sx;
    int local = 0;
    if (hu_sys_fstatx(fd, HU_AT_STATX_DONT_SYNC, HU_STATX_TYPE | HU_STATX_MNT_ID_UNIQUE, &sx) == 0) {
        unsigned long long magic;
        if ((sx.mask & HU_STATX_MNT_ID_UNIQUE) && hu_sys_statmount_magic(sx.mnt_id, &magic) == 0)
            local = local_magic(magic);
        else
            local = sx.dev_major != 0;
    }
    hu_sys_close(fd);
    return local;
}

ssize_t hu_read_file_within(const char *path, unsigned flags, char *buf, size_t size,
                            hu_readfile_info *info, unsigned timeout_ms)
{
    hu_readfile_info local;
    int fds[2];
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    if (!timeout_ms || surely_local(path) || hu_sys_pipe2(fds, O_CLOEXEC) != 0)
        return hu_read_file(path, flags, buf, size, info);
    long long deadline = now_ms() + timeout_ms;
    unsigned long all = ~0UL, old;
    hu_sys_sigmask(SIG_SETMASK, &all, &old);
    long pid = hu_sys_clone_quiet();
    if (pid == 0)
        child(fds[1], path, flags, buf, size);
    hu_sys_sigmask(SIG_SETMASK, &old, NULL);
    hu_sys_close(fds[1]);
    if (pid < 0) {
        hu_sys_close(fds[0]);
        return hu_read_file(path, flags, buf, size, info);
    }
    int done;
    ssize_t n = receive(fds[0], buf, size, info, deadline, &done);
    int err = errno;
    hu_sys_close(fds[0]);        /* a child still writing gets SIGPIPE */
    if (done)
        hu_sys_wait_clone(pid);
    /* else it ends when its file system answers; as a zombie no wait(-1)
     * without __WALL sees, until the program ends */
    errno = n == HU_RF_TIME ? ETIMEDOUT : err;
    return n;
}
