/* SPDX-License-Identifier: MIT */
/* An address as a key (name memory, moved hosts): its family and 16 bytes,
 * IPv4-mapped IPv6 folded to IPv4, so a name resolved to 1.2.3.4 also
 * matches a connect to ::ffff:1.2.3.4; and back to a sockaddr of the kind
 * and port of the one a program passed. */
#ifndef HOSTUP_ENGINE_ADDRKEY_H
#define HOSTUP_ENGINE_ADDRKEY_H

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

static inline int hu_addr_key(const struct sockaddr *sa, unsigned char *family, unsigned char addr[16])
{
    memset(addr, 0, 16);
    if (sa->sa_family == AF_INET) {
        *family = AF_INET;
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
            *family = AF_INET;
            memcpy(addr, a + 12, 4);
        } else {
            *family = AF_INET6;
            memcpy(addr, a, 16);
        }
        return 0;
    }
    return -1;
}

/* The address (family, addr, scope) as the kind of sockaddr `like` is,
 * with like's port: IPv4-mapped when like is IPv6 and the address IPv4.
 * Returns -1 when like is IPv4 and the address IPv6. */
static inline int hu_addr_like(const struct sockaddr *like, unsigned char family,
                               const unsigned char addr[16], uint32_t scope,
                               struct sockaddr_storage *out, socklen_t *outlen)
{
    memset(out, 0, sizeof *out);
    if (like->sa_family == AF_INET) {
        if (family != AF_INET)
            return -1;
        struct sockaddr_in *o = (struct sockaddr_in *)out;
        o->sin_family = AF_INET;
        o->sin_port = ((const struct sockaddr_in *)like)->sin_port;
        memcpy(&o->sin_addr, addr, 4);
        *outlen = sizeof *o;
        return 0;
    }
    struct sockaddr_in6 *o = (struct sockaddr_in6 *)out;
    o->sin6_family = AF_INET6;
    o->sin6_port = ((const struct sockaddr_in6 *)like)->sin6_port;
    if (family == AF_INET) {    /* ::ffff:a.b.c.d */
        o->sin6_addr.s6_addr[10] = o->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&o->sin6_addr.s6_addr[12], addr, 4);
    } else {
        memcpy(&o->sin6_addr, addr, 16);
        o->sin6_scope_id = scope;
    }
    *outlen = sizeof *o;
    return 0;
}

#endif
