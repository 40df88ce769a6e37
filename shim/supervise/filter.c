/* SPDX-License-Identifier: MIT */
/* The seccomp filter: installed by the child before exec, its listener
 * sent to the parent over SCM_RIGHTS; and whether this kernel can do it. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sv.h"

#if defined(__x86_64__)
#define SV_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SV_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* What the child tells the parent, with the listener attached when ok. */
struct sv_msg {
    int err;            /* 0: the listener is attached */
    int killable;       /* installed with WAIT_KILLABLE_RECV */
    char stage[40];     /* what failed */
};

static int install(unsigned long flags)
{
#ifdef SV_AUDIT_ARCH
    /* connect of this architecture traps; everything else (other
     * architectures' numbering included) is allowed, for ~20 ns */
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SV_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_connect, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
#else
    (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

static void send_msg(int sock, const struct sv_msg *m, int fd)
{
    struct iovec iov = {(void *)m, sizeof *m};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

void sv_child_setup(int sock)
{
    struct sv_msg m;
    memset(&m, 0, sizeof m);
    int fd = -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        m.err = errno;
        snprintf(m.stage, sizeof m.stage, "prctl(NO_NEW_PRIVS)");
    } else {
        unsigned long base = SECCOMP_FILTER_FLAG_NEW_LISTENER;
        fd = install(base | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
        m.killable = fd >= 0;
        if (fd < 0 && errno == EINVAL)      /* before 5.19 */
            fd = install(base);
        if (fd < 0) {
            m.err = errno;
            snprintf(m.stage, sizeof m.stage, "seccomp(SET_MODE_FILTER)");
        }
    }
    send_msg(sock, &m, fd);
    if (fd >= 0)
        close(fd);      /* the program must not hold its own listener */
    close(sock);
}

int sv_parent_receive(int sock, struct sv *s, char *why, size_t len)
{
    struct sv_msg m;
    memset(&m, 0, sizeof m);
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct iovec iov = {&m, sizeof m};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    ssize_t n;
    while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    int fd = -1;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    if (n != (ssize_t)sizeof m || m.err || fd < 0) {
        if (fd >= 0)
            close(fd);
        if (n == (ssize_t)sizeof m && m.err)
            snprintf(why, len, "%s failed: %s", m.stage, strerror(m.err));
        else
            snprintf(why, len, "the program's process ended before it could be supervised");
        return -1;
    }
    s->killable = m.killable;
    return fd;
}

int sv_kernel_ok(char *why, size_t len)
{
    struct utsname u;
    unsigned major = 0, minor = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
        return 0;       /* cannot tell: let seccomp itself say */
    /* SECCOMP_IOCTL_NOTIF_ADDFD (5.9): the way in under Docker's profile,
     * and SECCOMP_USER_NOTIF_FLAG_CONTINUE (5.5) */
    if (major < 5 || (major == 5 && minor < 9)) {
        snprintf(why, len, "kernel %s lacks seccomp user notification with ADDFD (needs 5.9)",
                 u.release);
        return -1;
    }
    return 0;
}
