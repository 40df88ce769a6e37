/* SPDX-License-Identifier: MIT */
/* libhu_dlopen_leaf.so: the library tests/tools/hu_dlopen.c opens.  It
 * lives in a directory of its own (build/tools/dlopen_leaf/) that only the
 * DT_RUNPATH of hu_dlopen and of libhu_dlopen_opener.so name, and it calls
 * connect(), so that a program opening it with RTLD_DEEPBIND shows whether
 * that call still reaches hostup. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

const char *leaf_name(void)
{
    return "leaf";
}

/* 0 when connected, else the errno of a blocking connect to ip:port */
int leaf_connect(const char *ip, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return errno;
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ? 0 : errno;
    close(fd);
    return rc;
}
