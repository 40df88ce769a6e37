/* SPDX-License-Identifier: MIT */
/* An overlapping network versus a host that is gone (diag_overlap.h).
 *
 * Points for each side; the side with more points ranks first, the other
 * is kept as the alternative:
 *   overlap +2  the name has dots: not a container's name, and Docker's
 *               embedded DNS only forwards such names to outside resolvers
 *   overlap +1  a single-label name resolved by something other than
 *               Docker's embedded DNS
 *   overlap +1  the on-link prefix is one of Docker's address pools
 *   overlap +2  a less specific route other than the default (a VPN's)
 *               covers the target too: the on-link prefix hides it
 *   absent  +2  a single-label name from Docker's embedded DNS, or a
 *               Kubernetes service name: a container's or a pod's name
 * A tie goes to the absent host (the older, plainer verdict).  Considered
 * at all only when the target sits in an on-link route of the main table
 * and a less specific route (the default) would take it elsewhere, and the
 * prefix is wide (an IPv4 /16 or wider), a Docker pool, or has 2 points. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag_overlap.h"

#define WIDE_V4 16

static int match_bits(const unsigned char *net, const unsigned char *a, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(net, a, full) != 0)
        return 0;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return !rest || (net[full] & mask) == (a[full] & mask);
}

/* One "base/len[:size]" entry of a pool list: 1 when prefix/len fits it. */
static int pool_entry_fits(const char *w, size_t wl, int family, const unsigned char *prefix, unsigned len)
{
    char buf[96], *slash, *colon;
    unsigned char base[16];
    if (wl >= sizeof buf)
        return 0;
    memcpy(buf, w, wl);
    buf[wl] = '\0';
    if (!(slash = strchr(buf, '/')))
        return 0;
    *slash++ = '\0';
    if ((colon = strchr(slash, ':')))
        *colon++ = '\0';
    unsigned max = family == AF_INET ? 32 : 128;
    unsigned blen = (unsigned)strtoul(slash, NULL, 10);
    unsigned size = colon ? (unsigned)strtoul(colon, NULL, 10) : blen;
    if (inet_pton(family, buf, base) != 1 || blen > max || size > max)
        return 0;
    return len >= blen && len <= size && match_bits(base, prefix, blen);
}

int hu_overlap_in_pools(const char *pools, int family, const unsigned char *prefix, unsigned len)
{
    const char *p = pools ? pools : HU_DOCKER_POOLS_DEFAULT;
    while (*p) {
        p += strspn(p, " ,\t");
        size_t wl = strcspn(p, " ,\t");
        if (wl && pool_entry_fits(p, wl, family, prefix, len))
            return 1;
        p += wl;
    }
    return 0;
}

/* ---- the judgement ------------------------------------------------------- */

struct tally {
    int overlap, absent;
    json_t *pro, *con;              /* the reasons, for people */
};

static void reason(json_t *list, int *points, int add, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reason(json_t *list, int *points, int add, const char *fmt, ...)
{
    char text[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_array_append_new(list, json_string(text));
    *points += add;
}

static int is_address(const char *host)
{
    unsigned char b[16];
    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* Kubernetes names: "svc", "svc.ns", "*.svc", "*.cluster.local". */
static int kubernetes_name(const char *h, size_t len)
{
    const char *dot = memchr(h, '.', len);
    return !dot || !memchr(dot + 1, '.', len - (size_t)(dot + 1 - h)) ||
           (len > 4 && !memcmp(h + len - 4, ".svc", 4)) ||
           (len > 14 && !strncasecmp(h + len - 14, ".cluster.local", 14));
}

/* What the name the program asked for says. */
static void judge_name(const hu_overlap_in *in, struct tally *t)
{
    const char *h = in->host;
    const hu_env *e = in->env;
    if (!h || !*h || is_address(h))
        return;
    size_t len = strlen(h);
    if (h[len - 1] == '.')
        len--;                      /* a rooted name */
    int dotted = memchr(h, '.', len) != NULL;
    int embedded = e && e->have_resolv && e->docker_dns;
    if (e && e->container == HU_CONTAINER_KUBERNETES && kubernetes_name(h, len))
        reason(t->con, &t->absent, 2, "%.*s is a Kubernetes service name: a pod's address", (int)len, h);
    else if (dotted)
        reason(t->pro, &t->overlap, 2, "%.*s is a DNS name, not a container's: %s", (int)len, h,
               embedded ? "Docker's embedded DNS only forwards it to outside resolvers"
                        : "resolved outside Docker");
    else if (embedded)
        reason(t->con, &t->absent, 2, "%.*s is a container's or service's name, from Docker's embedded DNS",
               (int)len, h);
    else if (e && e->have_resolv)
        reason(t->pro, &t->overlap, 1, "%.*s was resolved by %s, not Docker's embedded DNS", (int)len, h,
               e->nameservers[0] ? e->nameservers : "/etc/hosts");
}

/* The hypothesis' facts: the interface, the prefix, our address, the
 * target, and where the target would go without the on-link prefix. */
static json_t *facts(const hu_overlap_in *in, const hu_netinfo_route *on, const hu_netinfo_route *other)
{
    char text[160];
    json_t *o = json_object();
    json_object_set_new(o, "dev", json_string(on->dev));
    hu_netinfo_prefix_text(on, text, sizeof text);
    json_object_set_new(o, "prefix", json_string(text));
    const hu_netinfo_if *ours = hu_netinfo_if_in(in->net, on);
    if (ours && inet_ntop(ours->family, ours->addr, text, INET6_ADDRSTRLEN)) {
        snprintf(text + strlen(text), sizeof text - strlen(text), "/%u", ours->prefix);
        json_object_set_new(o, "addr", json_string(text));
    }
    const void *a = in->addr->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)in->addr)->sin_addr
                                                   : (const void *)&((const struct sockaddr_in6 *)in->addr)->sin6_addr;
    if (inet_ntop(in->addr->sa_family, a, text, INET6_ADDRSTRLEN))
        json_object_set_new(o, "target", json_string(text));
    hu_netinfo_route_text(other, text, sizeof text);
    json_object_set_new(o, "otherwise", json_string(text));
    return o;
}

json_t *hu_overlap_judge(const hu_overlap_in *in, int *first)
{
    *first = 0;
    if (!in->net || !in->addr || (in->addr->sa_family != AF_INET && in->addr->sa_family != AF_INET6))
        return NULL;
    const hu_netinfo_route *on = hu_netinfo_on_link(in->net);
    const hu_netinfo_route *other = hu_netinfo_shadowed(in->net, on);
    if (!on || !other || on->family != in->addr->sa_family)
        return NULL;                /* on-link for real, or nowhere else to go */
    struct tally t = {0, 0, json_array(), json_array()};
    char pfx[INET6_ADDRSTRLEN + 5];
    hu_netinfo_prefix_text(on, pfx, sizeof pfx);
    int wide = on->family == AF_INET && on->dst_len <= WIDE_V4;
    const char *pools = in->pools ? in->pools : secure_getenv(HU_ENV_DOCKER_POOLS);
    int pool = hu_overlap_in_pools(pools, on->family, on->dst, on->dst_len);
    judge_name(in, &t);
    if (pool)
        reason(t.pro, &t.overlap, 1, "%s is in %s", pfx,
               pools ? "the Docker address pools of " HU_ENV_DOCKER_POOLS : "Docker's default address pools");
    if (other->dst_len) {
        char r[160];
        hu_netinfo_route_text(other, r, sizeof r);
        reason(t.pro, &t.overlap, 2, "the route %s covers the target too, hidden by %s", r, pfx);
    } else if (wide)
        reason(t.pro, &t.overlap, 0, "a wide on-link prefix (/%u) beside a default route", on->dst_len);
    if (!wide && !pool && t.overlap < 2) {
        json_decref(t.pro);
        json_decref(t.con);
        return NULL;
    }
    json_t *o = facts(in, on, other);
    json_object_set_new(o, "for", t.pro);
    json_object_set_new(o, "against", t.con);
    *first = t.overlap > t.absent;
    return o;
}

/* ---- the verdicts -------------------------------------------------------- */

static const char fix_overlap[] =
    "give the Docker network a subnet outside the target's network: \"default-address-pools\" in "
    "/etc/docker/daemon.json (then recreate the network), or ipam.config[].subnet of the compose network";
static const char fix_absent[] =
    "start the host; a stopped container: docker ps -a, then docker start NAME (docker compose up -d SERVICE)";

static json_t *items(int a, int b, int c, int d)
{
    json_t *l = json_array();
    int all[] = {a, b, c, d};
    for (int i = 0; i < 4 && all[i]; i++)
        json_array_append_new(l, json_integer(all[i]));
    return l;
}

/* The overlap verdict's fields (layer, cause, checklist, next, fix). */
static json_t *overlap_verdict(const json_t *hyp)
{
    const char *dev = json_string_value(json_object_get(hyp, "dev"));
    const char *pfx = json_string_value(json_object_get(hyp, "prefix"));
    const char *target = json_string_value(json_object_get(hyp, "target"));
    const char *other = json_string_value(json_object_get(hyp, "otherwise"));
    char cause[512], next[400];
    snprintf(cause, sizeof cause,
             "the network of %s (%s) overlaps the target's: %s is looked for on-link by ARP/ND "
             "instead of by the route %s",
             dev, pfx, target ? target : "?", other ? other : "?");
    snprintf(next, sizeof next,
             "ip route get %s; on the host: docker network inspect NET --format '{{json .IPAM.Config}}' "
             "and compare its Subnet with the VPN's routes (ip route)",
             target ? target : "?");
    json_t *v = json_object();
    json_object_set_new(v, "layer", json_string("network"));
    json_object_set_new(v, "cause", json_string(cause));
    json_object_set_new(v, "checklist", items(4, 6, 0, 0));
    json_object_set_new(v, "next", json_string(next));
    json_object_set_new(v, "fix", json_string(fix_overlap));
    return v;
}

void hu_diag_overlap(json_t *diagnosis, const hu_overlap_in *in)
{
    json_t *ev = json_object_get(diagnosis, "evidence");
    const char *layer = json_string_value(json_object_get(diagnosis, "layer"));
    if (!ev || !layer || strcmp(layer, "link") != 0 || !json_is_true(json_object_get(ev, "on_link")))
        return;
    int first = 0;
    json_t *hyp = hu_overlap_judge(in, &first);
    if (!hyp)
        return;
    json_t *overlap = overlap_verdict(hyp);
    json_object_set_new(ev, "overlap", hyp);
    json_t *alt = json_array();
    if (first) {
        json_t *link = json_object();
        static const char *const keys[] = {"layer", "cause", "checklist", "next"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            json_object_set(link, keys[i], json_object_get(diagnosis, keys[i]));
        json_object_set_new(link, "fix", json_string(fix_absent));
        json_array_append_new(alt, link);
        json_object_update(diagnosis, overlap);
        json_decref(overlap);
    } else {
        json_object_set_new(diagnosis, "fix", json_string(fix_absent));
        json_array_append_new(alt, overlap);
    }
    json_object_set_new(diagnosis, "alternatives", alt);
}

void hu_diag_network(json_t *diagnosis, const struct sockaddr *sa, const char *host)
{
    hu_diag_add_env(diagnosis, sa);
    json_t *ev = json_object_get(diagnosis, "evidence");
    if (!ev || !sa)
        return;
    const char *layer = json_string_value(json_object_get(diagnosis, "layer"));
    int on_link = layer && !strcmp(layer, "link") && json_is_true(json_object_get(ev, "on_link"));
    int first = hu_netinfo_first_for(sa);
    if (!on_link && !first)
        return;                     /* nothing to judge, evidence already shown */
    hu_env env;
    hu_netinfo net;
    hu_env_current(&env);           /* cached: read at most every 10 s */
    hu_netinfo_read(sa, &net);
    if (first)
        json_object_set_new(ev, "network", hu_netinfo_json(&net, env.have_resolv ? env.docker_dns : -1));
    hu_overlap_in in = {.addr = sa, .host = host, .env = &env, .net = &net};
    hu_diag_overlap(diagnosis, &in);
}

json_t *hu_diagnose_connect(const struct sockaddr *sa, unsigned port, const char *host, int err,
                            long try_ms, const hu_icmp *icmp)
{
    /* Java and other dual-stack programs connect to ::ffff:a.b.c.d: the
     * routes and neighbours to probe are IPv4 ones */
    struct sockaddr_in v4;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        memset(&v4, 0, sizeof v4);
        v4.sin_family = AF_INET;
        v4.sin_port = s6->sin6_port;
        memcpy(&v4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
        sa = (const struct sockaddr *)&v4;
    }
    hu_facts f = {.addr = sa, .port = port, .err = err, .try_ms = try_ms};
    if (icmp)
        f.icmp = *icmp;
    hu_gather_connect(&f);
    json_t *d = hu_classify_connect(&f);
    hu_diag_network(d, sa, host);
    return d;
}
