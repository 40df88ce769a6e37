/* SPDX-License-Identifier: MIT */
/* Loops over read() for the read-overhead bench (bench/read_overhead.sh).
 *   reads zero N        N x read(fd, buf, 4096) from /dev/zero (callgrind)
 *   reads pread PATH N  N x pread(fd, buf, 4096, 0) of PATH (callgrind; with
 *                       a path rule on PATH the fd is a tracked volume file)
 *   reads file PATH     read PATH to the end in 4 KiB reads; prints the
 *                       seconds it took on stdout */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static char buf[4096];
    if (argc == 3 && strcmp(argv[1], "zero") == 0) {
        int fd = open("/dev/zero", O_RDONLY);
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++)
            if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
                return 1;
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "pread") == 0) {
        int fd = open(argv[2], O_RDONLY);
        long n = atol(argv[3]);
        for (long i = 0; i < n; i++)
            if (pread(fd, buf, sizeof buf, 0) < 0)
                return 1;
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "file") == 0) {
        struct timespec a, b;
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0)
            return 1;
        clock_gettime(CLOCK_MONOTONIC, &a);
        ssize_t r;
        long long total = 0;
        while ((r = read(fd, buf, sizeof buf)) > 0)
            total += r;
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (r < 0)
            return 1;
        printf("%.6f %lld\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9, total);
        return 0;
    }
    fprintf(stderr, "usage: reads zero N | pread PATH N | file PATH\n");
    return 2;
}
