/* SPDX-License-Identifier: MIT */
/* The interfaces and the routes to a target (netlink address and route
 * dumps), for the network evidence of a failing target: what `ip addr`,
 * `ip route` and `docker network inspect` would show.  Bounded like the
 * other probes; a dump that fails leaves its part out. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "netinfo.h"
#include "sys/sysio.h"

/* What a dump callback gets: the result, and the target being covered. */
struct walk {
    hu_netinfo *n;
    int family;                     /* of the target; 0 without one */
    unsigned char target[16];
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hu_nl_dump(int type, unsigned seq, void (*cb)(const struct nlmsghdr *, void *), void *ctx)
{
    struct {
        struct nlmsghdr n;
        struct rtmsg r;             /* larger than ifaddrmsg; family first in both */
    } req;
    char reply[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
    memset(&req, 0, sizeof req);
    req.n.nlmsg_len = NLMSG_LENGTH(type == RTM_GETADDR ? sizeof(struct ifaddrmsg) : sizeof(struct rtmsg));
    req.n.nlmsg_type = (unsigned short)type;
    req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.n.nlmsg_seq = seq;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return 0;
    struct timeval tv = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int done = 0, bad = 0;
    long long deadline = mono_ms() + 250;
    if (send(fd, &req, req.n.nlmsg_len, 0) < 0)
        bad = 1;
    for (int reads = 0; !bad && !done && reads < 64 && mono_ms() < deadline; reads++) {
        ssize_t got = recv(fd, reply, sizeof reply, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        int left = (int)got;
        for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (unsigned)left) && !done && !bad;
             h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != req.n.nlmsg_seq)
                continue;
            done = h->nlmsg_type == NLMSG_DONE;
            bad = h->nlmsg_type == NLMSG_ERROR;
            if (!done && !bad)
                cb(h, ctx);
        }
    }
    hu_sys_close(fd);
    return done;
}

const void *hu_ifa_address(const struct nlmsghdr *h)
{
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
    const void *local = NULL, *address = NULL;
    int len = (int)IFA_PAYLOAD(h);
    for (const struct rtattr *ra = IFA_RTA(ifa); RTA_OK(ra, len); ra = RTA_NEXT(ra, len)) {
        if (RTA_PAYLOAD(ra) != alen)
            continue;
        if (ra->rta_type == IFA_LOCAL)
            local = RTA_DATA(ra);
        else if (ra->rta_type == IFA_ADDRESS)
            address = RTA_DATA(ra);
    }
    /* IFA_ADDRESS is the peer on point-to-point links; IFA_LOCAL is ours */
    return local ? local : address;
}

static void on_addr(const struct nlmsghdr *h, void *ctx)
{
    struct walk *w = ctx;
    hu_netinfo *n = w->n;
    if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
        return;
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    if ((ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) || ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
        n->n_ifs >= HU_NETINFO_MAX_IFS)
        return;
    size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
    const void *a = hu_ifa_address(h);
    if (!a)
        return;
    hu_netinfo_if *i = &n->ifs[n->n_ifs++];
    memset(i, 0, sizeof *i);
    i->ifindex = (int)ifa->ifa_index;
    if (!if_indextoname(ifa->ifa_index, i->dev))
        snprintf(i->dev, sizeof i->dev, "if%u", ifa->ifa_index);
    i->family = ifa->ifa_family;
    memcpy(i->addr, a, alen);
    i->prefix = ifa->ifa_prefixlen;
}

/* A route's attributes into r; its table (RTA_TABLE beats rtm_table). */
static void route_attrs(const struct nlmsghdr *h, const struct rtmsg *rt, hu_netinfo_route *r)
{
    size_t alen = rt->rtm_family == AF_INET ? 4 : 16;
    int len = (int)RTM_PAYLOAD(h);
    r->table = rt->rtm_table;
    for (const struct rtattr *ra = RTM_RTA(rt); RTA_OK(ra, len); ra = RTA_NEXT(ra, len)) {
        size_t pl = RTA_PAYLOAD(ra);
        if (ra->rta_type == RTA_DST && pl == alen)
            memcpy(r->dst, RTA_DATA(ra), alen);
        else if (ra->rta_type == RTA_GATEWAY && pl == alen) {
            memcpy(r->gateway, RTA_DATA(ra), alen);
            r->has_gateway = 1;
        } else if (ra->rta_type == RTA_OIF && pl == 4)
            memcpy(&r->oif, RTA_DATA(ra), 4);
        else if (ra->rta_type == RTA_TABLE && pl == 4)
            memcpy(&r->table, RTA_DATA(ra), 4);
        else if (ra->rta_type == RTA_PRIORITY && pl == 4)
            memcpy(&r->metric, RTA_DATA(ra), 4);
    }
}

/* Most specific first, then by metric: the order the kernel tries them in
 * (within one table). */
static void insert_route(hu_netinfo *n, const hu_netinfo_route *r)
{
    int at = n->n_routes;
    while (at > 0 && (n->routes[at - 1].dst_len < r->dst_len ||
                      (n->routes[at - 1].dst_len == r->dst_len && n->routes[at - 1].metric > r->metric)))
        at--;
    if (at >= HU_NETINFO_MAX_ROUTES)
        return;
    int last = n->n_routes < HU_NETINFO_MAX_ROUTES ? n->n_routes : HU_NETINFO_MAX_ROUTES - 1;
    memmove(&n->routes[at + 1], &n->routes[at], (size_t)(last - at) * sizeof *r);
    n->routes[at] = *r;
    if (n->n_routes < HU_NETINFO_MAX_ROUTES)
        n->n_routes++;
}

static void on_route(const struct nlmsghdr *h, void *ctx)
{
    struct walk *w = ctx;
    if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
        return;
    const struct rtmsg *rt = NLMSG_DATA(h);
    if (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6)
        return;
    hu_netinfo_route r;
    memset(&r, 0, sizeof r);
    r.family = rt->rtm_family;
    r.dst_len = rt->rtm_dst_len;
    r.type = rt->rtm_type;
    r.scope = rt->rtm_scope;
    route_attrs(h, rt, &r);
    if (r.table == RT_TABLE_LOCAL || r.type == RTN_MULTICAST || r.type == RTN_BROADCAST)
        return;
    /* a default route of the main table names its interface's gateway */
    if (r.dst_len == 0 && r.has_gateway && r.table == RT_TABLE_MAIN)
        for (int i = 0; i < w->n->n_ifs; i++)
            if (w->n->ifs[i].ifindex == r.oif && w->n->ifs[i].family == r.family && !w->n->ifs[i].has_gateway) {
                w->n->ifs[i].has_gateway = 1;
                memcpy(w->n->ifs[i].gateway, r.gateway, 16);
            }
    if (w->family != r.family || !hu_prefix_match(r.dst, w->target, r.dst_len))
        return;
    if (r.family == AF_INET6 && r.dst_len == 0 && !r.has_gateway && r.type != RTN_UNICAST)
        return;                     /* the kernel's own "unreachable default" of IPv6 */
    /* named only when kept: a name costs a socket and an ioctl */
    if (r.oif && !if_indextoname((unsigned)r.oif, r.dev))
        snprintf(r.dev, sizeof r.dev, "if%d", r.oif);
    insert_route(w->n, &r);
}

void hu_netinfo_read(const struct sockaddr *target, hu_netinfo *out)
{
    struct walk w = {.n = out};
    memset(out, 0, sizeof *out);
    if (target && target->sa_family == AF_INET) {
        w.family = AF_INET;
        memcpy(w.target, &((const struct sockaddr_in *)target)->sin_addr, 4);
    } else if (target && target->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)target)->sin6_addr;
        w.family = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
        memcpy(w.target, w.family == AF_INET ? &a6->s6_addr[12] : a6->s6_addr, w.family == AF_INET ? 4 : 16);
    }
    out->have_ifs = hu_nl_dump(RTM_GETADDR, RTM_GETADDR + 0x4e49u, on_addr, &w);   /* "NI" */
    out->have_routes = hu_nl_dump(RTM_GETROUTE, RTM_GETROUTE + 0x4e49u, on_route, &w) && w.family;
    if (!out->have_routes)
        out->n_routes = 0;          /* a partial dump could hide the route that wins */
}

const hu_netinfo_route *hu_netinfo_on_link(const hu_netinfo *n)
{
    for (int i = 0; i < n->n_routes; i++) {
        const hu_netinfo_route *r = &n->routes[i];
        if (r->table != RT_TABLE_MAIN)
            continue;               /* policy routing: not judged, only shown */
        if (r->type == RTN_UNICAST && !r->has_gateway && r->oif)
            return r;
        return NULL;                /* the kernel's choice is not on-link */
    }
    return NULL;
}

const hu_netinfo_route *hu_netinfo_shadowed(const hu_netinfo *n, const hu_netinfo_route *on_link)
{
    for (int i = 0; on_link && i < n->n_routes; i++) {
        const hu_netinfo_route *r = &n->routes[i];
        if (r == on_link || r->table != RT_TABLE_MAIN || r->type != RTN_UNICAST || r->dst_len >= on_link->dst_len)
            continue;
        if (r->has_gateway || r->oif != on_link->oif)
            return r;
    }
    return NULL;
}

const hu_netinfo_if *hu_netinfo_if_in(const hu_netinfo *n, const hu_netinfo_route *r)
{
    for (int i = 0; r && i < n->n_ifs; i++) {
        const hu_netinfo_if *f = &n->ifs[i];
        if (f->ifindex == r->oif && f->family == r->family && hu_prefix_match(r->dst, f->addr, r->dst_len))
            return f;
    }
    return NULL;
}

void hu_netinfo_prefix_text(const hu_netinfo_route *r, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?";
    inet_ntop(r->family, r->dst, a, sizeof a);
    snprintf(buf, len, "%s/%u", a, r->dst_len);
}

void hu_netinfo_route_text(const hu_netinfo_route *r, char *buf, size_t len)
{
    static const char *const types[] = {[RTN_UNREACHABLE] = "unreachable", [RTN_PROHIBIT] = "prohibit",
                                        [RTN_BLACKHOLE] = "blackhole", [RTN_THROW] = "throw"};
    char pfx[INET6_ADDRSTRLEN + 5], gw[INET6_ADDRSTRLEN] = "";
    const char *type = r->type < sizeof types / sizeof types[0] ? types[r->type] : NULL;
    if (r->dst_len)
        hu_netinfo_prefix_text(r, pfx, sizeof pfx);
    else
        snprintf(pfx, sizeof pfx, "default");
    if (r->has_gateway)
        inet_ntop(r->family, r->gateway, gw, sizeof gw);
    int o = snprintf(buf, len, "%s%s%s%s%s%s%s%s", type ? type : "", type ? " " : "", pfx, gw[0] ? " via " : "",
                     gw, r->dev[0] ? " dev " : "", r->dev, r->scope == RT_SCOPE_LINK ? " scope link" : "");
    if (o >= 0 && (size_t)o < len && r->table != RT_TABLE_MAIN)
        o += snprintf(buf + o, len - (size_t)o, " table %u", r->table);
    if (o >= 0 && (size_t)o < len && r->metric)
        snprintf(buf + o, len - (size_t)o, " metric %u", r->metric);
}

static json_t *if_json(const hu_netinfo_if *f)
{
    char a[INET6_ADDRSTRLEN + 5], s[INET6_ADDRSTRLEN + 5];
    hu_netinfo_route net = {.family = f->family, .dst_len = f->prefix};
    unsigned bytes = f->family == AF_INET ? 4 : 16;
    for (unsigned b = 0; b < bytes; b++) {
        unsigned bits = f->prefix > b * 8 ? f->prefix - b * 8 : 0;
        net.dst[b] = bits >= 8 ? f->addr[b] : (unsigned char)(f->addr[b] & (0xff00 >> bits));
    }
    json_t *o = json_object();
    json_object_set_new(o, "dev", json_string(f->dev));
    inet_ntop(f->family, f->addr, a, INET6_ADDRSTRLEN);
    snprintf(a + strlen(a), sizeof a - strlen(a), "/%u", f->prefix);
    json_object_set_new(o, "addr", json_string(a));
    hu_netinfo_prefix_text(&net, s, sizeof s);
    json_object_set_new(o, "subnet", json_string(s));
    if (f->has_gateway && inet_ntop(f->family, f->gateway, a, INET6_ADDRSTRLEN))
        json_object_set_new(o, "gateway", json_string(a));
    return o;
}

json_t *hu_netinfo_json(const hu_netinfo *n, int docker_dns)
{
    char text[160];
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (n->have_ifs) {
        json_t *ifs = json_array();
        for (int i = 0; i < n->n_ifs; i++)
            json_array_append_new(ifs, if_json(&n->ifs[i]));
        json_object_set_new(o, "interfaces", ifs);
    }
    if (docker_dns >= 0)
        json_object_set_new(o, "embedded_dns", json_boolean(docker_dns));
    if (n->have_routes) {
        json_t *rs = json_array();
        for (int i = 0; i < n->n_routes; i++) {
            hu_netinfo_route_text(&n->routes[i], text, sizeof text);
            json_array_append_new(rs, json_string(text));
        }
        json_object_set_new(o, "routes_to_target", rs);
    }
    return o;
}

/* ---- the first record of a target ----------------------------------------- */

#define SEEN_SLOTS 32
static unsigned char seen[SEEN_SLOTS][17];     /* family + address; [0] == 0: free */
static unsigned seen_next;
static char seen_busy;                         /* a flag, not a lock: nobody waits */

int hu_netinfo_first_for(const struct sockaddr *target)
{
    unsigned char key[17] = {0};
    if (!target || (target->sa_family != AF_INET && target->sa_family != AF_INET6))
        return 0;
    key[0] = (unsigned char)target->sa_family;
    if (target->sa_family == AF_INET)
        memcpy(key + 1, &((const struct sockaddr_in *)target)->sin_addr, 4);
    else
        memcpy(key + 1, &((const struct sockaddr_in6 *)target)->sin6_addr, 16);
    /* never wait: a thread that finds the table busy, or a child forked
     * while it was, leaves the evidence out rather than hanging */
    if (__atomic_test_and_set(&seen_busy, __ATOMIC_ACQUIRE))
        return 0;
    int first = 1;
    for (int i = 0; i < SEEN_SLOTS && first; i++)
        first = memcmp(seen[i], key, sizeof key) != 0;
    if (first) {
        memcpy(seen[seen_next], key, sizeof key);
        seen_next = (seen_next + 1) % SEEN_SLOTS;
    }
    __atomic_clear(&seen_busy, __ATOMIC_RELEASE);
    return first;
}
