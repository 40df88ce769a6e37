/* SPDX-License-Identifier: MIT */
/* Start-up time: from just before exec to the first line of main().
 *   startup N [PRELOAD]
 * Spawns itself N times, alternating without and with PRELOAD in
 * LD_PRELOAD (when given), and prints one line per spawn:
 *   "bare|shim microseconds"
 * The child gets the parent's CLOCK_MONOTONIC reading taken just before
 * posix_spawn() and writes back how long it took to reach main(). */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "child") == 0) {
        long long d = now_ns() - atoll(argv[2]);
        int fd = atoi(argv[3]);
        return write(fd, &d, sizeof d) != sizeof d;
    }
    if (argc < 2)
        return 64;
    int n = atoi(argv[1]);
    const char *pre = argc > 2 ? argv[2] : NULL;
    /* the environment of each child: ours without LD_PRELOAD, plus it */
    int ne = 0;
    while (environ[ne])
        ne++;
    char **env_bare = calloc(ne + 2, sizeof *env_bare), **env_shim = calloc(ne + 2, sizeof *env_shim);
    int k = 0;
    for (int i = 0; i < ne; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env_bare[k] = env_shim[k] = environ[i], k++;
    char *pl = NULL;
    if (pre && asprintf(&pl, "LD_PRELOAD=%s", pre) < 0)
        return 1;
    env_shim[k] = pl;
    int p[2];
    if (pipe(p))
        return 1;
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl < 0)
        return 1;
    self[sl] = 0;
    for (int i = 0; i < n; i++) {
        int shim = pre && (i & 1);
        char t0s[32], fds[16];
        snprintf(fds, sizeof fds, "%d", p[1]);
        long long t0 = now_ns();
        snprintf(t0s, sizeof t0s, "%lld", t0);
        char *args[] = {self, "child", t0s, fds, NULL};
        pid_t pid;
        if (posix_spawn(&pid, self, NULL, NULL, args, shim ? env_shim : env_bare))
            return 1;
        long long d;
        if (read(p[0], &d, sizeof d) != sizeof d)
            return 1;
        waitpid(pid, NULL, 0);
        printf("%s %.1f\n", shim ? "shim" : "bare", d / 1000.0);
    }
    return 0;
}
