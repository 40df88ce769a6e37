/* SPDX-License-Identifier: MIT */
/* The network as `docker network inspect` would show it, seen from inside:
 * each interface with its address, subnet and gateway, and the routes that
 * cover one target, most specific first (the one the kernel uses first).
 * Read with two bounded netlink dumps after a failure; no allocation
 * outside hu_netinfo_json (jansson). */
#ifndef HOSTUP_NETINFO_H
#define HOSTUP_NETINFO_H

#include <jansson.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

struct nlmsghdr;
/* One netlink dump of `type` (RTM_GETADDR, RTM_GETROUTE), all families,
 * each message of sequence seq to cb.  1 when it ran to NLMSG_DONE.
 * Bounded: 100 ms per receive, 64 receives, 250 ms in all. */
int hu_nl_dump(int type, unsigned seq, void (*cb)(const struct nlmsghdr *, void *), void *ctx);

/* Our address in an RTM_NEWADDR message of family AF_INET or AF_INET6
 * (IFA_LOCAL, else IFA_ADDRESS), or NULL. */
const void *hu_ifa_address(const struct nlmsghdr *h);

/* 1 when the first `bits` bits of addresses a and net (network byte
 * order) are the same. */
static inline int hu_prefix_match(const unsigned char *net, const unsigned char *a, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(net, a, full) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net[full] & mask) == (a[full] & mask);
}

#define HU_NETINFO_MAX_IFS 16
#define HU_NETINFO_MAX_ROUTES 8

/* One global-scope address of an interface: the network it sits on. */
typedef struct hu_netinfo_if {
    int ifindex;
    char dev[IF_NAMESIZE];
    int family;
    unsigned char addr[16];         /* ours, network byte order */
    unsigned char prefix;
    int has_gateway;                /* a default route of the main table leaves here */
    unsigned char gateway[16];
} hu_netinfo_if;

/* One route that covers the target. */
typedef struct hu_netinfo_route {
    int family;
    unsigned char dst[16];
    unsigned char dst_len;          /* 0: a default route */
    unsigned char type;             /* RTN_* */
    unsigned char scope;            /* RT_SCOPE_* */
    int has_gateway;
    unsigned char gateway[16];
    int oif;
    char dev[IF_NAMESIZE];
    unsigned table;
    unsigned metric;
} hu_netinfo_route;

typedef struct hu_netinfo {
    int have_ifs, have_routes;      /* each dump ran to its end */
    int n_ifs;
    hu_netinfo_if ifs[HU_NETINFO_MAX_IFS];
    int n_routes;                   /* covering the target, most specific first */
    hu_netinfo_route routes[HU_NETINFO_MAX_ROUTES];
} hu_netinfo;

/* Interfaces, and the routes (any table but "local") covering target's
 * address; target may be NULL (interfaces and default routes only).  An
 * IPv4-mapped IPv6 target is looked at as IPv4.  Each dump: 100 ms per
 * receive, 250 ms in all; a dump that fails leaves its part out. */
void hu_netinfo_read(const struct sockaddr *target, hu_netinfo *out);

/* The on-link route (no gateway, unicast) the kernel picks for the target,
 * and the first less specific route behind it that would take the target
 * elsewhere (through a gateway, or out of another device): NULL when
 * there is none. */
const hu_netinfo_route *hu_netinfo_on_link(const hu_netinfo *n);
const hu_netinfo_route *hu_netinfo_shadowed(const hu_netinfo *n, const hu_netinfo_route *on_link);
/* Our address on ifindex inside the route's prefix; NULL when none. */
const hu_netinfo_if *hu_netinfo_if_in(const hu_netinfo *n, const hu_netinfo_route *r);

/* "198.18.0.0/16 dev eth0 scope link", "default via 198.18.0.1 dev eth0",
 * "unreachable 198.19.6.0/24 table 100", as `ip route` prints them. */
void hu_netinfo_route_text(const hu_netinfo_route *r, char *buf, size_t len);
/* The route's prefix as "198.18.0.0/16". */
void hu_netinfo_prefix_text(const hu_netinfo_route *r, char *buf, size_t len);

/* {"interfaces":[{"dev","addr","subnet","gateway"}],"embedded_dns":bool,
 *  "routes_to_target":[text...]}: embedded_dns left out when docker_dns
 * < 0 (unknown), routes_to_target only when the route dump worked. */
json_t *hu_netinfo_json(const hu_netinfo *n, int docker_dns);

/* 1 the first time an address is asked about in this process (up to the
 * last 32 addresses remembered), else 0: the network evidence goes into the
 * first record of a failing target only.  Never blocks (0 when contended). */
int hu_netinfo_first_for(const struct sockaddr *target);

#endif
