/* SPDX-License-Identifier: MIT */
/* The environment of a failure, live: our own networks and default
 * gateways (netlink dumps, bounded), and whether a target is in one of
 * them.  The cache that records read is env_cache.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "environment.h"
#include "netinfo.h"
#include "sys/sysio.h"


/* ---- netlink ------------------------------------------------------------- */

static void add_net(hu_env *e, int family, const void *addr, unsigned prefix, unsigned scope)
{
    if (e->n_nets >= HU_ENV_MAX_NETS)
        return;
    hu_env_net *n = &e->nets[e->n_nets++];
    memset(n, 0, sizeof *n);
    n->family = family;
    memcpy(n->addr, addr, family == AF_INET ? 4 : 16);
    n->prefix = (unsigned char)prefix;
    n->scope = (unsigned char)scope;
}

static void on_addr(const struct nlmsghdr *h, void *ctx)
{
    hu_env *e = ctx;
    if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
        return;
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
        return;
    const void *a = hu_ifa_address(h);
    if (a)
        add_net(e, ifa->ifa_family, a, ifa->ifa_prefixlen, ifa->ifa_scope);
}

static void on_route(const struct nlmsghdr *h, void *ctx)
{
    hu_env *e = ctx;
    if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
        return;
    struct rtmsg *rt = NLMSG_DATA(h);
    if (rt->rtm_dst_len != 0 || rt->rtm_type != RTN_UNICAST ||
        (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
        return;
    size_t alen = rt->rtm_family == AF_INET ? 4 : 16;
    unsigned table = rt->rtm_table;
    const void *gw = NULL;
    int len = (int)RTM_PAYLOAD(h);
    for (struct rtattr *ra = RTM_RTA(rt); RTA_OK(ra, len); ra = RTA_NEXT(ra, len)) {
        if (ra->rta_type == RTA_TABLE && RTA_PAYLOAD(ra) == 4)
            memcpy(&table, RTA_DATA(ra), 4);
        else if (ra->rta_type == RTA_GATEWAY && RTA_PAYLOAD(ra) == alen)
            gw = RTA_DATA(ra);
        else if (ra->rta_type == RTA_MULTIPATH && !gw &&
                 RTA_PAYLOAD(ra) >= sizeof(struct rtnexthop)) {
            /* first next hop of a multipath default */
            struct rtnexthop *nh = RTA_DATA(ra);
            int nlen = (int)nh->rtnh_len - (int)RTNH_LENGTH(0);
            if (nh->rtnh_len <= RTA_PAYLOAD(ra) && nlen > 0)
                for (struct rtattr *na = RTNH_DATA(nh); RTA_OK(na, nlen); na = RTA_NEXT(na, nlen))
                    if (na->rta_type == RTA_GATEWAY && RTA_PAYLOAD(na) == alen)
                        gw = RTA_DATA(na);
        }
    }
    if (table != RT_TABLE_MAIN || !gw)
        return;
    if (rt->rtm_family == AF_INET && !e->have_gw4) {
        memcpy(e->gw4, gw, 4);
        e->have_gw4 = 1;
    } else if (rt->rtm_family == AF_INET6 && !e->have_gw6) {
        memcpy(e->gw6, gw, 16);
        e->have_gw6 = 1;
    }
}

void hu_env_read_net(hu_env *out)
{
    out->n_nets = 0;
    out->have_gw4 = out->have_gw6 = 0;
    out->have_net = hu_nl_dump(RTM_GETADDR, RTM_GETADDR, on_addr, out);
    if (!out->have_net)
        out->n_nets = 0;            /* a partial dump would say "not ours" wrongly */
    hu_nl_dump(RTM_GETROUTE, RTM_GETROUTE, on_route, out);
}

/* ---- questions and evidence ---------------------------------------------- */

int hu_env_in_own_network(const hu_env *e, const struct sockaddr *sa)
{
    int family;
    const unsigned char *a;
    if (!e || !sa)
        return 0;
    if (sa->sa_family == AF_INET) {
        family = AF_INET;
        a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        family = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
        a = family == AF_INET ? &a6->s6_addr[12] : a6->s6_addr;
    } else {
        return 0;
    }
    unsigned max = family == AF_INET ? 32 : 128;
    for (int i = 0; i < e->n_nets && i < HU_ENV_MAX_NETS; i++) {
        const hu_env_net *n = &e->nets[i];
        if (n->family == family && hu_prefix_match(n->addr, a, n->prefix > max ? max : n->prefix))
            return 1;
    }
    return 0;
}
