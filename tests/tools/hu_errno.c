/* SPDX-License-Identifier: MIT */
/* Prints what each call returns and what errno it leaves, for calls that
 * must behave exactly as in libc.  Run with and without the library: the
 * outputs must be identical.  Needs no network beyond loopback. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SENTINEL 4242

static void show(const char *what, int rc, int err)
{
    const char *n = err == SENTINEL ? "unchanged" : strerrorname_np(err);
    printf("%-40s rc=%d errno=%s\n", what, rc, n ? n : "?");
}

int main(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 8);
    getsockname(l, (struct sockaddr *)&a, &al);

    int s = socket(AF_INET, SOCK_STREAM, 0);
    errno = SENTINEL;
    int rc = connect(s, (struct sockaddr *)&a, sizeof a);
    show("connect loopback listener", rc, errno);
    close(s);

    struct sockaddr_in closed = a;
    close(l);                       /* nothing listens there now */
    s = socket(AF_INET, SOCK_STREAM, 0);
    errno = SENTINEL;
    rc = connect(s, (struct sockaddr *)&closed, sizeof closed);
    show("connect closed port", rc, errno);
    close(s);

    errno = SENTINEL;
    rc = connect(-1, (struct sockaddr *)&a, sizeof a);
    show("connect bad fd", rc, errno);

    s = socket(AF_INET, SOCK_STREAM, 0);
    errno = SENTINEL;
    rc = connect(s, (struct sockaddr *)&a, 3);
    show("connect bad addrlen", rc, errno);
    errno = SENTINEL;
    rc = connect(s, NULL, sizeof a);
    show("connect NULL address", rc, errno);
    close(s);

    struct sockaddr_un un = {.sun_family = AF_UNIX};
    strcpy(un.sun_path, "/nonexistent/hostup.sock");
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    errno = SENTINEL;
    rc = connect(s, (struct sockaddr *)&un, sizeof un);
    show("connect AF_UNIX missing", rc, errno);
    close(s);

    s = socket(AF_INET, SOCK_DGRAM, 0);
    errno = SENTINEL;
    rc = connect(s, (struct sockaddr *)&a, sizeof a);
    show("connect UDP", rc, errno);
    close(s);

    struct addrinfo *res = NULL, hints = {.ai_socktype = SOCK_STREAM};
    errno = SENTINEL;
    rc = getaddrinfo("localhost", "80", &hints, &res);
    show("getaddrinfo localhost", rc, errno);
    if (!rc)
        freeaddrinfo(res);
    errno = SENTINEL;
    rc = getaddrinfo("127.0.0.1", NULL, NULL, &res);
    show("getaddrinfo numeric, NULL hints", rc, errno);
    if (!rc)
        freeaddrinfo(res);
    errno = SENTINEL;
    rc = getaddrinfo(NULL, NULL, NULL, &res);
    show("getaddrinfo NULL NULL", rc, errno);
    errno = SENTINEL;
    rc = getaddrinfo(NULL, "80", &hints, &res);
    show("getaddrinfo NULL node", rc, errno);
    if (!rc)
        freeaddrinfo(res);
    errno = SENTINEL;
    struct hostent *he = gethostbyname("localhost");
    show("gethostbyname localhost", he ? 0 : -1, errno);

    /* read and poll with bad arguments (a NULL the compiler cannot see) */
    void *volatile nothing = NULL;
    char rb[8];
    errno = SENTINEL;
    rc = (int)read(-1, rb, sizeof rb);
    show("read bad fd", rc, errno);
    errno = SENTINEL;
    rc = (int)read(987654, rb, sizeof rb);
    show("read fd never opened", rc, errno);
    int pfd[2];
    if (pipe(pfd) == 0 && write(pfd[1], "abc", 3) == 3) {
        errno = SENTINEL;
        rc = (int)read(pfd[0], nothing, sizeof rb);
        show("read NULL buffer", rc, errno);
        close(pfd[0]);
        close(pfd[1]);
    }
    errno = SENTINEL;
    rc = poll(NULL, 0, 0);
    show("poll nfds=0", rc, errno);
    struct pollfd pf[2] = {{.fd = -1, .events = POLLIN}, {.fd = -5, .events = POLLOUT}};
    errno = SENTINEL;
    rc = poll(pf, 2, 0);
    show("poll negative fds", rc, errno);
    printf("%-40s revents=%d,%d\n", "poll negative fds", pf[0].revents, pf[1].revents);
    errno = SENTINEL;
    rc = poll(nothing, 1, 0);
    show("poll NULL fds, nfds=1", rc, errno);
    return 0;
}
