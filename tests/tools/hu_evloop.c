/* SPDX-License-Identifier: MIT */
/* An event-loop client for edge cases: a non-blocking connect driven by
 * poll, select or epoll (level, edge, one-shot; registered before or after
 * connect), with a 20 ms timer whose longest gap is measured, plus fd
 * tricks during the retry (dup2, close and reuse).
 *
 *   hu_evloop MODE HOST PORT [LIVE_PORT]
 *   MODE: poll | select | epoll-lt | epoll-et | epoll-oneshot | epoll-early
 *         | dup2 | close
 * Decides like curl >= 7.88: POLLERR/POLLHUP (or EPOLLERR/EPOLLHUP) means
 * failure, with SO_ERROR fetched for the message.  Prints "connected: LINE"
 * or "error ERRNAME"; "max_gap_ms=N ticks=N" goes to stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long last_tick, max_gap, ticks;
static void tick(void)
{
    long n = now_ms();
    if (last_tick && n - last_tick > max_gap)
        max_gap = n - last_tick;
    last_tick = n;
    ticks++;
}

static struct addrinfo *resolve(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        printf("error %s\n", gai_strerror(rc));
        exit(1);
    }
    return res;
}

static int start(struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        printf("error %s\n", strerrorname_np(errno));
        exit(1);
    }
    return fd;
}

static int finish(int fd, int failed)
{
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
    fprintf(stderr, "max_gap_ms=%ld ticks=%ld\n", max_gap, ticks);
    if (failed || err) {
        printf("error %s\n", err ? strerrorname_np(err) : "POLLERR");
        return 1;
    }
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    printf("connected: %s\n", buf);
    return 0;
}

static int by_poll(int fd)
{
    for (;;) {
        struct pollfd p = {fd, POLLOUT, 0};
        int n = poll(&p, 1, 20);
        tick();
        if (n < 0 && errno != EINTR)
            return finish(fd, 1);
        if (n > 0)
            return finish(fd, (p.revents & (POLLERR | POLLHUP)) != 0);
    }
}

static int by_select(int fd)
{
    for (;;) {
        fd_set w;
        FD_ZERO(&w);
        FD_SET(fd, &w);
        struct timeval tv = {0, 20000};
        int n = select(fd + 1, NULL, &w, NULL, &tv);
        tick();
        if (n < 0 && errno != EINTR)
            return finish(fd, 1);
        if (n > 0)      /* select cannot tell: SO_ERROR decides */
            return finish(fd, 0);
    }
}

static int by_epoll(int fd, int ep, uint32_t flags)
{
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(ep, &ev, 1, 20);
        tick();
        if (n < 0 && errno != EINTR)
            return finish(fd, 1);
        if (n > 0) {
            if (ev.data.u64 != 0xfeedULL) {
                printf("error wrong-epoll-data\n");
                return 1;
            }
            return finish(fd, (ev.events & (EPOLLERR | EPOLLHUP)) != 0);
        }
        (void)flags;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    alarm(30);     /* a bug must fail the test, not hang it */
    const char *mode = argv[1];
    struct addrinfo *ai = resolve(argv[2], argv[3]);
    if (!strcmp(mode, "poll"))
        return by_poll(start(ai));
    if (!strcmp(mode, "select"))
        return by_select(start(ai));
    if (!strncmp(mode, "epoll-", 6)) {
        uint32_t flags = EPOLLOUT | (!strcmp(mode, "epoll-et") ? EPOLLET : 0) |
                         (!strcmp(mode, "epoll-oneshot") ? EPOLLONESHOT : 0);
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = flags, .data.u64 = 0xfeedULL};
        int fd;
        if (!strcmp(mode, "epoll-early")) {     /* nginx: register, then connect */
            fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
            ev.events = EPOLLOUT | EPOLLIN | EPOLLET;
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                printf("error %s\n", strerrorname_np(errno));
                return 1;
            }
        } else {                                /* libuv: connect, then register */
            fd = start(ai);
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        return by_epoll(fd, ep, flags);
    }
    if (!strcmp(mode, "dup2")) {
        int fd = start(ai), fd2 = 100;
        for (int i = 0; i < 10; i++) {      /* into the retry first */
            poll(&(struct pollfd){fd, POLLOUT, 0}, 1, 20);
            tick();
        }
        dup2(fd, fd2);
        close(fd);
        return by_poll(fd2);
    }
    if (!strcmp(mode, "close") && argc == 5) {
        int fd = start(ai);
        for (int i = 0; i < 15; i++) {      /* 300 ms into the outage */
            poll(&(struct pollfd){fd, POLLOUT, 0}, 1, 20);
            tick();
        }
        close(fd);
        /* the same fd number, a fresh socket, a live port: no stale state */
        struct addrinfo *live = resolve(argv[2], argv[4]);
        int fd2 = start(live);
        if (fd2 != fd)
            fprintf(stderr, "note: fd %d reused as %d\n", fd, fd2);
        return by_poll(fd2);
    }
    return 2;
}
