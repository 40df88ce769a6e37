/* Loops over one wrapped call, for instruction counts under callgrind.
 *   calls connect|getaddrinfo|gethostbyname N
 * connect: TCP connect to a loopback listener, then close (accepting in
 * the same thread keeps the backlog short). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long n = atol(argv[2]);
    if (strcmp(argv[1], "connect") == 0) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        bind(l, (struct sockaddr *)&a, sizeof a);
        listen(l, 64);
        getsockname(l, (struct sockaddr *)&a, &al);
        for (long i = 0; i < n; i++) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(s, (struct sockaddr *)&a, sizeof a) != 0)
                return 1;
            close(accept(l, NULL, NULL));
            close(s);
        }
    } else if (strcmp(argv[1], "getaddrinfo") == 0) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
        for (long i = 0; i < n; i++) {
            if (getaddrinfo("localhost", "80", &hints, &res) != 0)
                return 1;
            freeaddrinfo(res);
        }
    } else if (strcmp(argv[1], "gethostbyname") == 0) {
        for (long i = 0; i < n; i++)
            if (!gethostbyname("localhost"))
                return 1;
    } else
        return 2;
    return 0;
}
