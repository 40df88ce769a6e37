/* SPDX-License-Identifier: MIT */
/* The supervisor's cost (bench/supervise.sh): a static client that
 * connects to a loopback server N times (blocking connect, close), or
 * makes N getppid() calls (a system call the filter lets through).
 *
 *   connects serve PORT        accept and close, forever
 *   connects connect PORT N    N connects to 127.0.0.1:PORT
 *   connects syscall N         N getppid() calls */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int serve(int port)
{
    struct sockaddr_in a = loopback(port);
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4096) < 0) {
        perror("serve");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c >= 0)
            close(c);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "serve") == 0)
        return serve(atoi(argv[2]));
    if (argc >= 3 && strcmp(argv[1], "syscall") == 0) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++)
            syscall(SYS_getppid);
        return 0;
    }
    if (argc < 4 || strcmp(argv[1], "connect") != 0) {
        fprintf(stderr, "usage: connects serve PORT | connect PORT N | syscall N\n");
        return 2;
    }
    struct sockaddr_in a = loopback(atoi(argv[2]));
    long n = atol(argv[3]);
    for (long i = 0; i < n; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
            perror("connect");
            return 1;
        }
        close(s);
    }
    return 0;
}
