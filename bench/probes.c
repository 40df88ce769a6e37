/* SPDX-License-Identifier: MIT */
/* Cost of the diagnosis probes run after a failure (route and neighbour via
 * netlink, resolv.conf): the bound the records' evidence costs, uncached;
 * and of the network evidence of a target's first record (an address and
 * a route dump, core/netinfo.c).
 *   probes ADDR N */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/netinfo.h"
#include "core/probe.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, argv[1], &a.sin_addr);
    long n = atol(argv[2]);
    struct timespec t0, t1;
    double worst = 0;
    char ns[256];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        struct timespec s, e;
        hu_route r;
        clock_gettime(CLOCK_MONOTONIC, &s);
        hu_probe_route((struct sockaddr *)&a, &r);
        hu_probe_neigh(AF_INET, (unsigned char *)&a.sin_addr, r.oif);
        hu_probe_nameservers("/etc/resolv.conf", ns, sizeof ns);
        clock_gettime(CLOCK_MONOTONIC, &e);
        double us = (e.tv_sec - s.tv_sec) * 1e6 + (e.tv_nsec - s.tv_nsec) / 1e3;
        if (us > worst)
            worst = us;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double total = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
    printf("probes per failure: mean %.1f us, worst %.1f us over %ld rounds\n", total / n, worst, n);
    worst = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        struct timespec s, e;
        hu_netinfo ni;
        clock_gettime(CLOCK_MONOTONIC, &s);
        hu_netinfo_read((struct sockaddr *)&a, &ni);
        clock_gettime(CLOCK_MONOTONIC, &e);
        double us = (e.tv_sec - s.tv_sec) * 1e6 + (e.tv_nsec - s.tv_nsec) / 1e3;
        if (us > worst)
            worst = us;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    total = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
    printf("network evidence (first record of a target, on-link verdicts): mean %.1f us, worst %.1f us over %ld rounds\n",
           total / n, worst, n);
    return 0;
}
