/* SPDX-License-Identifier: MIT */
/* N threads connect at once to HOST PORT (resolved per thread through
 * getaddrinfo) and read the server's first line; prints "ok K/N". */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *host, *port, *want;
static int ok_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return NULL;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    char buf[256] = "";
    if (connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = '\0';
        if (strncmp(buf, want, strlen(want)) == 0) {
            pthread_mutex_lock(&lock);
            ok_count++;
            pthread_mutex_unlock(&lock);
        }
    }
    close(fd);
    freeaddrinfo(res);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: hu_threads N HOST PORT EXPECTED_PREFIX\n");
        return 2;
    }
    int n = atoi(argv[1]);
    host = argv[2], port = argv[3], want = argv[4];
    pthread_t *t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("ok %d/%d\n", ok_count, n);
    return ok_count == n ? 0 : 1;
}
