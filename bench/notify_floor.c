/* SPDX-License-Identifier: MIT */
/* The floor of seccomp user notification on this machine: a child makes
 * N getppid() calls, each trapped (SECCOMP_RET_USER_NOTIF) and answered at
 * once by the parent, blocking in SECCOMP_IOCTL_NOTIF_RECV, with nothing
 * else done: the two context switches of a trapped call and the two
 * ioctls, which every connect under `hostup run` pays before any work of
 * its own.  bench/supervise.sh times it as its other rows.
 *
 *   notify_floor N [async]   async: without SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static int trap_getppid(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

static void pass_fd(int sock, int fd)
{
    char byte = 0, buf[CMSG_SPACE(sizeof fd)];
    struct iovec iov = {&byte, 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fd);
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(sock, &mh, 0) != 1)
        _exit(1);
}

static int take_fd(int sock)
{
    char byte, buf[CMSG_SPACE(sizeof(int))];
    int fd = -1;
    struct iovec iov = {&byte, 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf};
    if (recvmsg(sock, &mh, 0) == 1 && CMSG_FIRSTHDR(&mh))
        memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof fd);
    return fd;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0;
    int sync = !(argc > 2 && strcmp(argv[2], "async") == 0), sv[2];
    if (n <= 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        fprintf(stderr, "usage: notify_floor N [async]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int fd = trap_getppid();
        if (fd < 0)
            _exit(1);
        pass_fd(sv[1], fd);
        close(fd);
        for (long i = 0; i < n; i++)
            syscall(SYS_getppid);
        _exit(0);
    }
    int listener = take_fd(sv[0]);
    if (listener < 0)
        return 1;
    if (sync)
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    union { struct seccomp_notif n; char pad[256]; } req;
    union { struct seccomp_notif_resp r; char pad[256]; } resp;
    for (long i = 0; i < n; i++) {
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req.n) != 0)
            return 1;
        memset(&resp, 0, sizeof resp);
        resp.r.id = req.n.id;
        resp.r.val = 1;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp.r);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("%ld\n", n);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
