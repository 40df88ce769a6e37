/* SPDX-License-Identifier: MIT */
/* A second preloaded library that wraps connect() and resolves a name
 * inside it (as proxy libraries do).  Loaded after libhostup.so, it sits
 * between hostup and libc: hostup's own retries call into it, and its
 * getaddrinfo lands back in hostup, which must pass it straight through
 * (recursion guard) instead of starting a nested retry.  Shared object. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <sys/socket.h>

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    static int (*next)(int, const struct sockaddr *, socklen_t);
    if (!next)
        *(void **)&next = dlsym(RTLD_NEXT, "connect");
    const char *name = getenv("HU_STACK_NAME");
    if (name) {
        struct addrinfo *res = NULL;
        if (getaddrinfo(name, NULL, NULL, &res) == 0)
            freeaddrinfo(res);
    }
    return next(fd, sa, len);
}
