/* SPDX-License-Identifier: MIT */
/* Loops over one call, for instruction counts under callgrind (and wall
 * time per call with a large N).
 *   calls OP N
 * OP: connect getaddrinfo gethostbyname poll100 epoll1000 close readfile
 *     writefile readpipe writepipe noop
 * readfile/writefile: read()/write() of 64 bytes on a regular file in
 * $TMPDIR (or /tmp); readpipe/writepipe: read()/write() of 16 bytes on a
 * pipe, filled (or drained) by one call outside the loop per 64 KiB, so
 * the other end adds no per-call work.  noop: nothing, for start-up.
 * poll100: poll() over 100 idle pipe ends; epoll1000: epoll_wait() on an
 * epoll set of 1,000 idle pipe ends; both with timeout 0.  close: open()
 * and close() of a regular file in $TMPDIR (or /tmp; the local disk).
 * connect: TCP connect to a loopback listener, then close (accepting in
 * the same thread keeps the backlog short). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int tmpfile_fd(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/hostup-calls.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long n = atol(argv[2]);
    if (strcmp(argv[1], "connect") == 0) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        bind(l, (struct sockaddr *)&a, sizeof a);
        listen(l, 64);
        getsockname(l, (struct sockaddr *)&a, &al);
        for (long i = 0; i < n; i++) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(s, (struct sockaddr *)&a, sizeof a) != 0)
                return 1;
            close(accept(l, NULL, NULL));
            close(s);
        }
    } else if (strcmp(argv[1], "getaddrinfo") == 0) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
        for (long i = 0; i < n; i++) {
            if (getaddrinfo("localhost", "80", &hints, &res) != 0)
                return 1;
            freeaddrinfo(res);
        }
    } else if (strcmp(argv[1], "gethostbyname") == 0) {
        for (long i = 0; i < n; i++)
            if (!gethostbyname("localhost"))
                return 1;
    } else if (strcmp(argv[1], "poll100") == 0) {
        struct pollfd p[100];
        for (int i = 0; i < 50; i++) {
            int fds[2];
            if (pipe(fds))
                return 1;
            p[2 * i] = (struct pollfd){fds[0], POLLIN, 0};
            p[2 * i + 1] = (struct pollfd){fds[1], POLLIN, 0};
        }
        for (long i = 0; i < n; i++)
            if (poll(p, 100, 0) != 0)
                return 1;
    } else if (strcmp(argv[1], "epoll1000") == 0) {
        int ep = epoll_create1(0);
        for (int i = 0; i < 500; i++) {
            int fds[2];
            if (pipe(fds))
                return 1;
            for (int k = 0; k < 2; k++) {
                struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[k]};
                epoll_ctl(ep, EPOLL_CTL_ADD, fds[k], &ev);
            }
        }
        struct epoll_event out[64];
        for (long i = 0; i < n; i++)
            if (epoll_wait(ep, out, 64, 0) != 0)
                return 1;
    } else if (strcmp(argv[1], "close") == 0) {
        const char *dir = getenv("TMPDIR");
        char path[4096];
        snprintf(path, sizeof path, "%s/hostup-open.%d", dir && *dir ? dir : "/tmp", (int)getpid());
        int f = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
        if (f < 0 || close(f) != 0)
            return 1;
        for (long i = 0; i < n; i++) {
            int fd = open(path, O_RDONLY);
            if (fd < 0 || close(fd) != 0)
                return 1;
        }
        unlink(path);
    } else if (strcmp(argv[1], "readfile") == 0) {
        char buf[64];
        int fd = tmpfile_fd();
        if (fd < 0 || ftruncate(fd, (off_t)n * 64))
            return 1;
        for (long i = 0; i < n; i++)
            if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
                return 1;
    } else if (strcmp(argv[1], "writefile") == 0) {
        char buf[64] = {0};
        int fd = tmpfile_fd();
        if (fd < 0)
            return 1;
        for (long i = 0; i < n; i++)
            if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
                return 1;
    } else if (strcmp(argv[1], "readpipe") == 0 || strcmp(argv[1], "writepipe") == 0) {
        static char big[65536];
        char buf[16] = {0};
        int fds[2], rd = argv[1][0] == 'r';
        if (pipe(fds))
            return 1;
        for (long i = 0; i < n; i++) {
            if (i % 4096 == 0 && rd && write(fds[1], big, sizeof big) != (ssize_t)sizeof big)
                return 1;
            if (rd ? read(fds[0], buf, sizeof buf) != (ssize_t)sizeof buf
                   : write(fds[1], buf, sizeof buf) != (ssize_t)sizeof buf)
                return 1;
            if (i % 4096 == 4095 && !rd && read(fds[0], big, sizeof big) != (ssize_t)sizeof big)
                return 1;
        }
    } else if (strcmp(argv[1], "noop") != 0)
        return 2;
    return 0;
}
