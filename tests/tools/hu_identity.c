/* SPDX-License-Identifier: MIT */
/* A socket's state belongs to that socket: a program connects a socket to
 * PORT_A (down), abandons it after 300 ms and closes it in a way a
 * preloaded library does not see, then uses the same fd number for
 * something else.  Whatever hostup kept for the old socket must not apply.
 *
 *   hu_identity CLOSER NEXT HOST PORT_A PORT_B
 *   CLOSER: syscall      syscall(SYS_close), as libuv does
 *           close_range  close_range(fd, fd, 0)
 *           closefrom    closefrom(fd)
 *           deepbind     close() inside a library loaded with RTLD_DEEPBIND
 *                        (libhu_deepclose.so, next to this program)
 *           exec         the socket is O_CLOEXEC: re-exec this program
 *   NEXT:   connect      socket() at the same number, blocking connect to
 *                        PORT_B (SO_SNDTIMEO 2 s): "connected: LINE"
 *           rawconnect   the same with syscall(SYS_socket)
 *           epoll-idle   socket() at the same number (non-blocking), epoll_wait
 *                        700 ms on the old socket's epoll instance, then
 *                        connect (blocking)
 *           pipe-poll    a pipe at the same number, one byte in it, poll:
 *                        "readable" (POLLIN alone, within 100 ms)
 *           pipe-epoll   the same through the old socket's epoll instance
 *           so_error     socket() at the same number: getsockopt(SO_ERROR)
 *                        says "so_error 0"
 * Prints the outcome, or "error NAME"; notes go to stderr.  Exit 0 when it
 * reached PORT_B or the pipe was readable. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in addr;

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int fail(const char *what, int err)
{
    printf("error %s%s%s\n", what, *what ? " " : "", strerrorname_np(err));
    return 1;
}

/* The first socket: non-blocking connect to PORT_A, in epoll instance ep,
 * waited on for 300 ms as a program with a connect timeout does. */
static int abandoned(int ep, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    addr.sin_port = htons(port);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
        fprintf(stderr, "note: connect to %d: %s\n", port, strerrorname_np(errno));
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    long end = now_ms() + 300;
    for (long left; (left = end - now_ms()) > 0;)
        if (epoll_wait(ep, &ev, 1, (int)left) > 0)
            break;
    return fd;
}

static void close_unseen(const char *how, int fd, char **argv)
{
    if (!strcmp(how, "syscall")) {
        syscall(SYS_close, fd);
    } else if (!strcmp(how, "close_range")) {
        close_range((unsigned)fd, (unsigned)fd, 0);
    } else if (!strcmp(how, "closefrom")) {
        closefrom(fd);
    } else if (!strcmp(how, "deepbind")) {
        char lib[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", lib, sizeof lib - 32);
        lib[n > 0 ? n : 0] = '\0';
        strcpy(strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib, "libhu_deepclose.so");
        void *h = dlopen(lib, RTLD_NOW | RTLD_DEEPBIND);
        int (*deep_close)(int) = h ? (int (*)(int))dlsym(h, "hu_deep_close") : NULL;
        if (!deep_close) {
            printf("error dlopen %s\n", dlerror());
            exit(1);
        }
        deep_close(fd);
    } else if (!strcmp(how, "exec")) {
        char num[16];
        snprintf(num, sizeof num, "%d", fd);
        execl("/proc/self/exe", argv[0], "execd", argv[2], argv[3], argv[4], argv[5], num,
              (char *)NULL);
        fail("exec", errno);
        exit(1);
    } else {
        fprintf(stderr, "unknown closer %s\n", how);
        exit(2);
    }
}

static int connect_b(int s, int old, int port)
{
    if (s != old)
        fprintf(stderr, "note: the new socket is fd %d, not %d\n", s, old);
    struct timeval tv = {2, 0};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    addr.sin_port = htons(port);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0)
        return fail("", errno);
    char buf[256];
    ssize_t n = read(s, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    printf("connected: %s\n", buf);
    return 0;
}

/* A pipe whose read end gets the old number, with a byte waiting. */
static int ready_pipe(int old)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        exit(fail("pipe", errno));
    if (p[0] != old)
        fprintf(stderr, "note: the pipe is fd %d, not %d\n", p[0], old);
    if (write(p[1], "x", 1) != 1)
        exit(fail("write", errno));
    return p[0];
}

static int readable(short revents, long t0)
{
    long ms = now_ms() - t0;
    if (revents == POLLIN && ms < 100)
        printf("readable\n");
    else
        printf("revents 0x%x after %ld ms\n", (unsigned)revents, ms);
    return revents != POLLIN;
}

static int next(const char *what, int ep, int old, int port)
{
    long t0 = now_ms();
    if (!strcmp(what, "connect"))
        return connect_b(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), old, port);
    if (!strcmp(what, "rawconnect"))
        return connect_b((int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), old, port);
    if (!strcmp(what, "epoll-idle")) {     /* non-blocking while idle, as event loops make them */
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct epoll_event ev;
        epoll_wait(ep, &ev, 1, 700);
        fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
        return connect_b(s, old, port);
    }
    if (!strcmp(what, "pipe-poll")) {
        struct pollfd p = {ready_pipe(old), POLLIN, 0};
        if (poll(&p, 1, 2000) < 0)
            return fail("poll", errno);
        return readable(p.revents, t0);
    }
    if (!strcmp(what, "pipe-epoll")) {
        int r = ready_pipe(old);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)r};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev) < 0)
            return fail("epoll_ctl", errno);
        int n = epoll_wait(ep, &ev, 1, 2000);
        if (n < 0)
            return fail("epoll_wait", errno);
        return readable(n == 1 && ev.data.u64 == (uint64_t)r ? (short)ev.events : 0, t0);
    }
    if (!strcmp(what, "so_error")) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err = -1;
        socklen_t l = sizeof err;
        if (s != old)
            fprintf(stderr, "note: the new socket is fd %d, not %d\n", s, old);
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
            return fail("getsockopt", errno);
        printf("so_error %d\n", err);
        return err != 0;
    }
    fprintf(stderr, "unknown next step %s\n", what);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    alarm(30);     /* a bug must fail the test, not hang it */
    addr.sin_family = AF_INET;
    if (inet_pton(AF_INET, argv[3], &addr.sin_addr) != 1)
        return 2;
    if (!strcmp(argv[1], "execd") && argc == 7)     /* after exec: fd argv[6] is gone */
        return next(argv[2], epoll_create1(EPOLL_CLOEXEC), atoi(argv[6]), atoi(argv[5]));
    /* the epoll instance first, so that closefrom(fd) spares it */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int fd = abandoned(ep, atoi(argv[4]));
    close_unseen(argv[1], fd, argv);
    return next(argv[2], ep, fd, atoi(argv[5]));
}
