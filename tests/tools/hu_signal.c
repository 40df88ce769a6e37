/* SPDX-License-Identifier: MIT */
/* A SIGALRM handler must run promptly while the library waits between
 * tries.  hu_signal restart|norestart HOST PORT: alarm(1), then a blocking
 * connect; prints when the handler ran and how connect ended. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct timespec t0;
static volatile long handler_ms = -1;

static long since(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static void on_alarm(int sig) { (void)sig; handler_ms = since(); }

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    struct sigaction sa = {.sa_handler = on_alarm};
    sa.sa_flags = strcmp(argv[1], "restart") == 0 ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    alarm(1);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    printf("handler_ms=%ld connect=%s at_ms=%ld\n", handler_ms, rc == 0 ? "ok" : strerrorname_np(e), since());
    return 0;
}
