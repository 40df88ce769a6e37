/* SPDX-License-Identifier: MIT */
/* Talking to the seccomp listener (answers, ADDFD) and reaching into the
 * program's process for its socket (pidfd_getfd, or /proc for the ADDFD
 * way when pidfd_getfd is refused). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sv.h"

int sv_id_valid(const struct sv *s, uint64_t id)
{
    return ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static void send_resp(const struct sv *s, uint64_t id, int err, unsigned flags)
{
    /* the kernel's layout may be larger than ours: zeroed, its size */
    union { struct seccomp_notif_resp r; char pad[256]; } u;
    memset(&u, 0, sizeof u);
    u.r.id = id;
    u.r.error = err ? -err : 0;
    u.r.flags = flags;
    /* ENOENT: the call is gone (its thread was killed); nothing to answer */
    while (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, &u.r) < 0 && errno == EINTR)
        ;
}

void sv_answer(const struct sv *s, uint64_t id, int err)
{
    send_resp(s, id, err, 0);
}

void sv_continue(const struct sv *s, uint64_t id)
{
    send_resp(s, id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

static int open_pidfd(pid_t tid)
{
    /* a thread's own pidfd (6.9); before that the process's, which shares
     * the fd table with all but CLONE_FILES-less threads */
    int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
    if (pidfd < 0 && errno == EINVAL)
        pidfd = (int)syscall(SYS_pidfd_open, sv_tgid(tid), 0);
    return pidfd;
}

/* The receiver's one-entry cache of the last thread's pidfd: a pidfd
 * names one task for good, so a tid reused by another thread never
 * reaches the old one's files (pidfd_getfd fails: ESRCH, opened anew). */
static pid_t cached_tid;
static int cached_pidfd = -1;

int sv_take_fd(pid_t tid, int fd)
{
    for (int fresh = 0; fresh < 2; fresh++) {
        if (tid != cached_tid || cached_pidfd < 0 || fresh) {
            if (cached_pidfd >= 0)
                close(cached_pidfd);
            cached_tid = tid;
            cached_pidfd = open_pidfd(tid);
            if (cached_pidfd < 0)
                return -1;
        }
        int ours = (int)syscall(SYS_pidfd_getfd, cached_pidfd, fd, 0);
        if (ours >= 0 || errno != ESRCH)
            return ours;
    }
    return -1;
}

int sv_read_mem(struct sv *s, pid_t tid, void *buf, size_t len, uint64_t addr)
{
    if (!s->vm_refused) {
        struct iovec local = {buf, len};
        struct iovec remote = {(void *)(uintptr_t)addr, len};
        ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);
        if (n >= 0 || errno != EPERM)
            return n == (ssize_t)len;
        s->vm_refused = 1;      /* for good: Docker 20.10's default profile */
        if (s->verbose)
            fprintf(stderr, "hostup: process_vm_readv is refused here: addresses read "
                            "from /proc/PID/mem\n");
    }
    /* open anew each time: a file of a task that ended would still read
     * its memory; the caller's ID_VALID proves this one is the caller's */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, buf, len, (off_t)addr);
    close(fd);
    return n == (ssize_t)len;
}

int sv_install_fd(const struct sv *s, uint64_t id, int ours, int at, int cloexec)
{
    struct seccomp_notif_addfd a;
    memset(&a, 0, sizeof a);
    a.id = id;
    a.flags = SECCOMP_ADDFD_FLAG_SETFD;
    a.srcfd = (unsigned)ours;
    a.newfd = (unsigned)at;
    a.newfd_flags = cloexec ? O_CLOEXEC : 0;
    return ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
}

int sv_inspect_fd(pid_t tid, int fd, int *family, int *flags, int *cloexec)
{
    char path[64], proto[32] = "";
    snprintf(path, sizeof path, "/proc/%d/fd/%d", tid, fd);
    /* sockfs names the protocol of a socket: TCP, TCPv6, MPTCP, UDP, ... */
    ssize_t n = getxattr(path, "system.sockprotoname", proto, sizeof proto - 1);
    if (n <= 0)
        return 0;
    proto[n] = '\0';
    if (strcmp(proto, "TCP") == 0 || strcmp(proto, "MPTCP") == 0)
        *family = AF_INET;
    else if (strcmp(proto, "TCPv6") == 0 || strcmp(proto, "MPTCPv6") == 0)
        *family = AF_INET6;
    else
        return 0;
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", tid, fd);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[128];
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "flags:", 6) == 0) {
            long v = strtol(line + 6, NULL, 8);     /* octal */
            *cloexec = (v & O_CLOEXEC) != 0;
            *flags = (int)(v & ~(long)(O_CLOEXEC | O_ACCMODE));
            found = 1;
        }
    fclose(f);
    return found;
}

static void read_small(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? (size_t)n : 0] = '\0';
}

pid_t sv_tgid(pid_t tid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/status", tid);
    read_small(path, buf, sizeof buf);
    const char *t = strstr(buf, "\nTgid:");
    return t ? (pid_t)atoi(t + 6) : tid;
}

void sv_comm(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    read_small(path, buf, len);
    buf[strcspn(buf, "\n")] = '\0';
    if (!buf[0])
        snprintf(buf, len, "?");
}
