/* SPDX-License-Identifier: MIT */
/* Hosts that move: the name that produced an address looked up again
 * through the real resolver on a helper thread (lookup.c), and the new
 * address it gives, remembered for the name (names.c) and for new
 * connections to the old one (moved.c). */
#define _GNU_SOURCE
#include <netdb.h>
#include <string.h>

#include "addrkey.h"
#include "moved.h"
#include "names.h"
#include "relookup.h"
#include "retry.h"

hu_lookup *hu_relookup_start(const char *host, const struct sockaddr *sa)
{
    unsigned char fam, addr[16];
    if (!host || !sa || hu_addr_key(sa, &fam, addr) < 0)
        return NULL;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = fam;
    hints.ai_socktype = SOCK_STREAM;
    return hu_lookup_start(host, NULL, &hints);
}

/* The first address of res in sa's family, unless res still holds sa's;
 * as sa's kind of sockaddr (IPv4-mapped on an IPv6 socket), sa's port. */
static int pick_moved(const struct addrinfo *res, const struct sockaddr *sa,
                      struct sockaddr_storage *out, socklen_t *outlen)
{
    unsigned char fam, addr[16], f2, a2[16];
    const struct addrinfo *first = NULL;
    if (hu_addr_key(sa, &fam, addr) < 0)
        return 0;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (!ai->ai_addr || hu_addr_key(ai->ai_addr, &f2, a2) < 0 || f2 != fam)
            continue;
        if (memcmp(a2, addr, 16) == 0)
            return 0;           /* the name still has this address */
        if (!first)
            first = ai;
    }
    if (!first)
        return 0;
    hu_addr_key(first->ai_addr, &f2, a2);
    uint32_t scope = first->ai_addr->sa_family == AF_INET6
                         ? ((const struct sockaddr_in6 *)first->ai_addr)->sin6_scope_id
                         : 0;
    return hu_addr_like(sa, f2, a2, scope, out, outlen) == 0;
}

int hu_relookup_moved(hu_lookup *l, const char *host, const struct sockaddr *sa,
                      int64_t until_ms, struct sockaddr_storage *out, socklen_t *outlen)
{
    struct addrinfo *res = NULL;
    int rc = hu_lookup_wait(l, until_ms, &res, NULL);
    if (rc == HU_LOOKUP_PENDING)
        return -1;
    hu_lookup_drop(l);
    if (rc != 0 || !res)
        return 0;
    int moved = pick_moved(res, sa, out, outlen);
    hu_names_remember_ai(host, res);    /* rules and records follow the name */
    freeaddrinfo(res);
    if (moved)          /* and new connections to the old address (moved.h) */
        hu_moved_note(host, sa, (const struct sockaddr *)out, hu_now_ms());
    return moved;
}
