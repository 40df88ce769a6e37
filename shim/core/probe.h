/* SPDX-License-Identifier: MIT */
/* Cheap probes run only after a failure: the kernel's route and neighbour
 * for an address (netlink), the ICMP error queue of a socket, resolv.conf. */
#ifndef HOSTUP_PROBE_H
#define HOSTUP_PROBE_H

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

typedef struct hu_route {
    int found;              /* the kernel answered the lookup */
    int no_route;           /* it said ENETUNREACH */
    int type;               /* RTN_UNICAST, RTN_UNREACHABLE, RTN_PROHIBIT, ... */
    int family;
    int has_gateway;
    unsigned char gateway[16];
    int oif;
    char dev[IF_NAMESIZE];
    char prefsrc[INET6_ADDRSTRLEN];   /* our source address; "" if none */
} hu_route;

typedef struct hu_icmp {
    int have;
    int origin;             /* SO_EE_ORIGIN_ICMP / _ICMP6 / _LOCAL */
    int type, code, ee_errno;
    char offender[INET6_ADDRSTRLEN];   /* "" when the kernel gave none */
    int entries;            /* how many were queued */
} hu_icmp;

int hu_probe_route(const struct sockaddr *sa, hu_route *out);
/* Neighbour state (NUD_*) for addr on ifindex; -1 when there is no entry. */
int hu_probe_neigh(int family, const unsigned char *addr, int ifindex);
const char *hu_neigh_state_name(int state);
const char *hu_route_type_name(int type);
/* Empty the socket's error queue; keeps the newest entry in *out. */
void hu_drain_errqueue(int fd, hu_icmp *out);
/* IPv4 TCP queues ICMP errors on the error queue during a connect without
 * being asked; IPv6 only with IPV6_RECVERR.  hostup sets it for the tries
 * it makes, so IPv6 records carry the same ICMP evidence, and clears it
 * when the connect leaves its hands (with it on, an ICMP error would end
 * an established connection).  watch: 1 when it set the option (the
 * program had not), else 0; unwatch only after a 1. */
int hu_errqueue_watch(int fd);
void hu_errqueue_unwatch(int fd);
/* The connect is done: the option cleared (and the queue with it) when
 * *watched says we set it; nothing to do, no call made, otherwise. */
void hu_errqueue_done(int fd, int *watched);
/* The address of sa as text ("?" when it cannot be shown). */
void hu_addr_text(const struct sockaddr *sa, char *buf, size_t len);
/* Nameservers from the resolver configuration file, joined by spaces. */
int hu_probe_nameservers(const char *resolv_path, char *buf, size_t len);

#endif
