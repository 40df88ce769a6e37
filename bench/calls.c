/* Loops over one wrapped call, for instruction counts under callgrind.
 *   calls connect|getaddrinfo|gethostbyname|poll100|epoll1000|close N
 * poll100: poll() over 100 idle pipe ends; epoll1000: epoll_wait() on an
 * epoll set of 1,000 idle pipe ends; both with timeout 0.  close: open()
 * and close() of a local file.
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
        for (long i = 0; i < n; i++) {
            int fd = open("/dev/null", O_RDONLY);
            if (fd < 0 || close(fd) != 0)
                return 1;
        }
    } else
        return 2;
    return 0;
}
