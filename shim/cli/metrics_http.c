/* SPDX-License-Identifier: MIT */
/* hostup metrics --listen: the metrics over HTTP/1.0, one request per
 * connection.  One thread, poll() over the listening socket and up to
 * MAX_CLIENTS connections, all non-blocking: a client that sends its
 * request a byte at a time (or never reads the answer) holds up no other
 * client, and has REQUEST_MS in all, from accept to the last byte of the
 * answer, before it is dropped.  When all places are taken, the oldest
 * connection makes room for the new one, so a scrape always gets in. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "http_request.h"
#include "metrics.h"

#define MAX_CLIENTS 16
#define REQUEST_MS 2000

struct client {
    int fd;                 /* -1: free */
    int64_t deadline;       /* ms, CLOCK_MONOTONIC */
    struct hu_buf answer;   /* head and body, once the request is read */
    size_t sent;
    struct hu_http_request req;     /* http_request.c (fuzzed apart) */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drop(struct client *c)
{
    close(c->fd);
    free(c->answer.p);
    memset(&c->answer, 0, sizeof c->answer);
    c->fd = -1;
}

/* A free place for a new connection: the oldest one's when all are taken. */
static struct client *place(struct client *cs)
{
    struct client *oldest = &cs[0];
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (cs[i].fd < 0)
            return &cs[i];
        if (cs[i].deadline < oldest->deadline)
            oldest = &cs[i];
    }
    drop(oldest);
    return oldest;
}

static void accept_all(int l, struct client *cs)
{
    for (;;) {
        int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;     /* EAGAIN: none left; anything else: try again at the next poll */
        struct client *c = place(cs);
        c->fd = fd;
        c->deadline = now_ms() + REQUEST_MS;
        hu_http_request_init(&c->req);
        c->sent = 0;
    }
}

/* The answer to c's request, whole, in c->answer. */
static void answer(struct client *c, const struct sopts *o, const hu_policy *p)
{
    struct hu_buf body = {0};
    const char *status = "200 OK";
    if (hu_http_request_wants_metrics(&c->req))
        hu_metrics_render(&body, o, p);
    else {
        status = "404 Not Found";
        hu_buf_printf(&body, "try /metrics\n");
    }
    hu_buf_printf(&c->answer,
                  "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
                  status, body.n, (int)body.n, body.p ? body.p : "");
    free(body.p);
}

/* What poll said about c: read more of the request, or send more of the
 * answer; the connection is dropped when done or broken. */
static void serve_client(struct client *c, short revents, const struct sopts *o, const hu_policy *p)
{
    if (!c->answer.p) {
        size_t room;
        char *at = hu_http_request_space(&c->req, &room);
        ssize_t k = read(c->fd, at, room);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (k < 0) {
            drop(c);
            return;
        }
        /* the end of the head, a full buffer or the client's end of
         * sending: answer what there is */
        if (!hu_http_request_add(&c->req, (size_t)k))
            return;
        answer(c, o, p);
    } else if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
        return;
    ssize_t w = send(c->fd, c->answer.p + c->sent, c->answer.n - c->sent, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (w > 0)
        c->sent += (size_t)w;
    if (w < 0 || c->sent >= c->answer.n)
        drop(c);
}

/* ADDR:PORT as an IPv4 socket address; -1 after saying why not. */
static int listen_addr(const char *addr, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
        fprintf(stderr, "hostup: --listen needs ADDR:PORT, as in 127.0.0.1:9464\n");
        return -1;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        fprintf(stderr, "hostup: --listen: '%s' is not an IPv4 address\n", host);
        return -1;
    }
    return 0;
}

static void serve_loop(int l, const struct sopts *o, const hu_policy *p)
{
    struct client cs[MAX_CLIENTS];
    for (int i = 0; i < MAX_CLIENTS; i++)
        cs[i] = (struct client){.fd = -1};
    for (;;) {
        struct pollfd pfd[MAX_CLIENTS + 1] = {{.fd = l, .events = POLLIN}};
        int64_t now = now_ms(), wait = -1;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (cs[i].fd >= 0 && cs[i].deadline <= now)
                drop(&cs[i]);   /* too slow: its time is up */
            pfd[i + 1].fd = cs[i].fd;   /* poll skips negative fds */
            pfd[i + 1].events = cs[i].answer.p ? POLLOUT : POLLIN;
            if (cs[i].fd >= 0 && (wait < 0 || cs[i].deadline - now < wait))
                wait = cs[i].deadline - now;
        }
        if (poll(pfd, MAX_CLIENTS + 1, (int)wait) < 0)
            continue;
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (cs[i].fd >= 0 && pfd[i + 1].revents)
                serve_client(&cs[i], pfd[i + 1].revents, o, p);
        if (pfd[0].revents & POLLIN)
            accept_all(l, cs);
    }
}

int hu_metrics_serve(const char *addr, const struct sopts *o, const hu_policy *p)
{
    struct sockaddr_in sa;
    if (listen_addr(addr, &sa) < 0)
        return EX_USAGE;
    int one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 64) != 0) {
        fprintf(stderr, "hostup: --listen %s: %s\n", addr, strerror(errno));
        return EX_UNAVAILABLE;
    }
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "hostup: serving metrics on http://%s/metrics\n", addr);
    serve_loop(l, o, p);
    return 0;
}
