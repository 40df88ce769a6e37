/* SPDX-License-Identifier: MIT */
/* fork() while another thread sits in a retry: the child must still
 * resolve, connect and (through the library) log, without deadlock.
 *   hu_fork DEAD_HOST DEAD_PORT LIVE_HOST LIVE_PORT */
#define _GNU_SOURCE
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int connect_to(const char *host, const char *port, char *line, size_t len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    int rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc == 0 && line) {
        ssize_t n = read(fd, line, len - 1);
        line[n > 0 ? n : 0] = '\0';
        line[strcspn(line, "\n")] = '\0';
    }
    close(fd);
    return rc;
}

static char **args;

static void *in_retry(void *arg)
{
    (void)arg;
    connect_to(args[1], args[2], NULL, 0);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    args = argv;
    pthread_t t;
    pthread_create(&t, NULL, in_retry, NULL);
    usleep(500 * 1000);             /* let the thread enter its retry loop */
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);                  /* a deadlock would otherwise hang the test */
        char line[256] = "";
        int rc = connect_to(argv[3], argv[4], line, sizeof line);
        printf("child: %s\n", rc == 0 ? line : "connect failed");
        fflush(stdout);
        /* and a failure in the child is retried and logged too */
        connect_to(argv[1], argv[2], NULL, 0);
        _exit(rc == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("child exit: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    pthread_join(t, NULL);
    return 0;
}
