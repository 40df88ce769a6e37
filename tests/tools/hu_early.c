/* SPDX-License-Identifier: MIT */
/* Preloaded after libhostup.so, so its constructor runs before hostup's:
 * it calls connect() before hostup's own initialisation has run, which
 * must still work (lazy initialisation in the wrapper).  HU_EARLY_ADDR and
 * HU_EARLY_PORT name the target.  Built as a shared object. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void early(void)
{
    const char *addr = getenv("HU_EARLY_ADDR"), *port = getenv("HU_EARLY_PORT");
    if (!addr || !port)
        return;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    inet_pton(AF_INET, addr, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    fprintf(stderr, "early connect: %s\n", rc == 0 ? "ok" : strerrorname_np(errno));
    close(fd);
}
