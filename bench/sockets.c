/* SPDX-License-Identifier: MIT */
/* Memory with many open sockets.
 *   sockets N
 * A child process listens on loopback and accepts; this process opens N
 * TCP sockets, connects each without blocking (as event loops do), waits
 * with poll() until all are connected, then prints its own
 *   "VmRSS_kB VmHWM_kB seconds"
 * (seconds: the time to open and connect them all).  Needs N + 100 fds in
 * each process; raises RLIMIT_NOFILE itself. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long status_kb(const char *key)
{
    char line[256];
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = atol(line + strlen(key) + 1);
    if (f)
        fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    struct rlimit rl = {(rlim_t)n + 1000, (rlim_t)n + 1000};
    if (setrlimit(RLIMIT_NOFILE, &rl)) {
        perror("setrlimit");
        return 1;
    }
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4096) ||
        getsockname(l, (struct sockaddr *)&a, &al))
        return 1;
    pid_t child = fork();
    if (child == 0) {   /* accepts and keeps everything until killed */
        for (;;)
            if (accept(l, NULL, NULL) < 0 && errno != EINTR && errno != ECONNABORTED)
                pause();
    }
    close(l);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pollfd *p = calloc(n, sizeof *p);
    for (int i = 0; i < n; i++) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (s < 0 || (connect(s, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS)) {
            perror("socket/connect");
            kill(child, SIGKILL);
            return 1;
        }
        p[i] = (struct pollfd){s, POLLOUT, 0};
        if (i % 1000 == 999 || i == n - 1) {    /* wait for this batch */
            int from = i - i % 1000, left = i - from + 1;
            while (left > 0) {
                if (poll(p + from, i - from + 1, 5000) <= 0) {
                    kill(child, SIGKILL);
                    return 1;
                }
                for (int k = from; k <= i; k++)
                    if (p[k].revents) {
                        int err = 0;
                        socklen_t el = sizeof err;
                        getsockopt(p[k].fd, SOL_SOCKET, SO_ERROR, &err, &el);
                        if (err) {
                            fprintf(stderr, "connect: %s\n", strerror(err));
                            kill(child, SIGKILL);
                            return 1;
                        }
                        p[k].fd = -p[k].fd - 1;     /* done: poll ignores it */
                        left--;
                    }
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%ld %ld %.3f\n", status_kb("VmRSS:"), status_kb("VmHWM:"),
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    return 0;
}
