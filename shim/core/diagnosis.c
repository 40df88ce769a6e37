/* SPDX-License-Identifier: MIT */
/* Diagnosis.  The classification follows what the kernel tells apart:
 * route lookup result, neighbour (ARP/ND) state, the ICMP error queued on
 * the socket and its sender, and the time a try took (about 3 s means our
 * own ARP gave up). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <time.h>  /* linux/errqueue.h needs struct timespec (musl) */
#include <linux/errqueue.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diagnosis.h"
#include "environment.h"
#include "hostup/policy.h"

#define ARP_GIVE_UP_MS 2500  /* 3 probes at 1 s; a bit of slack below */

/* Probe results per address, kept for a second: a storm of failures on one
 * dead host costs one round of probes per second, not one per failure. */
#define CACHE_SLOTS 16
#define CACHE_MS 1000
static struct {
    unsigned char key[17];  /* family + address */
    int64_t at;
    hu_route route;
    int neigh_state, have_route, have_neigh;
} cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cache_key(const struct sockaddr *sa, unsigned char key[17])
{
    memset(key, 0, 17);
    key[0] = (unsigned char)sa->sa_family;
    if (sa->sa_family == AF_INET)
        memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    else
        memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static void probe_uncached(hu_facts *f);

void hu_gather_connect(hu_facts *f)
{
    unsigned char key[17];
    int64_t now = mono_ms();
    cache_key(f->addr, key);
    unsigned slot = 0;
    for (int i = 0; i < 17; i++)
        slot = slot * 31 + key[i];
    slot %= CACHE_SLOTS;
    pthread_mutex_lock(&cache_lock);
    if (cache[slot].at && now - cache[slot].at < CACHE_MS && !memcmp(cache[slot].key, key, 17)) {
        f->route = cache[slot].route;
        f->neigh_state = cache[slot].neigh_state;
        f->have_route = cache[slot].have_route;
        f->have_neigh = cache[slot].have_neigh;
        pthread_mutex_unlock(&cache_lock);
        return;
    }
    pthread_mutex_unlock(&cache_lock);
    probe_uncached(f);
    pthread_mutex_lock(&cache_lock);
    memcpy(cache[slot].key, key, 17);
    cache[slot].at = now;
    cache[slot].route = f->route;
    cache[slot].neigh_state = f->neigh_state;
    cache[slot].have_route = f->have_route;
    cache[slot].have_neigh = f->have_neigh;
    pthread_mutex_unlock(&cache_lock);
}

const unsigned char *hu_neigh_target(const hu_facts *f, unsigned char buf[16])
{
    if (f->route.has_gateway)
        return f->route.gateway;
    if (f->addr->sa_family == AF_INET)
        memcpy(buf, &((const struct sockaddr_in *)f->addr)->sin_addr, 4);
    else
        memcpy(buf, &((const struct sockaddr_in6 *)f->addr)->sin6_addr, 16);
    return buf;
}

static void probe_uncached(hu_facts *f)
{
    if (hu_probe_route(f->addr, &f->route) == 0)
        f->have_route = 1;
    if (!f->have_route || !f->route.found || f->route.no_route || f->route.type != RTN_UNICAST)
        return;
    unsigned char target[16];
    f->neigh_state = hu_probe_neigh(f->addr->sa_family, hu_neigh_target(f, target), f->route.oif);
    f->have_neigh = 1;
}

static json_t *checklist(const int *items)
{
    json_t *a = json_array();
    for (; *items; items++)
        json_array_append_new(a, json_integer(*items));
    return a;
}

static json_t *verdict(const char *layer, const char *cause, json_t *evidence,
                       const int *items, const char *next)
{
    json_t *d = json_object();
    json_object_set_new(d, "layer", json_string(layer));
    json_object_set_new(d, "cause", json_string(cause));
    json_object_set_new(d, "evidence", evidence);
    json_object_set_new(d, "checklist", checklist(items));
    json_object_set_new(d, "next", json_string(next));
    return d;
}

/* An ICMP "from" our own address is the kernel reporting its own ARP/ND
 * failure, not a remote router speaking. */
static int icmp_is_local(const hu_facts *f)
{
    return f->icmp.origin == SO_EE_ORIGIN_LOCAL ||
           (f->route.prefsrc[0] && strcmp(f->icmp.offender, f->route.prefsrc) == 0);
}

/* What a connect failure's classification goes by. */
struct clues {
    const hu_facts *f;
    json_t *ev;                     /* the evidence, handed to the verdict */
    char a[INET6_ADDRSTRLEN];       /* the target address */
    char gw[INET6_ADDRSTRLEN];      /* the gateway, "" if none or on-link */
    int on_link, neigh_dead;
    int icmp_remote;                /* an ICMP error from another host */
    int from_target;                /* ... from the target itself */
};

/* The evidence: the route, the neighbour, the ICMP error, the try's time. */
static void gather_evidence(struct clues *c)
{
    const hu_facts *f = c->f;
    const hu_route *r = &f->route;
    char buf[256];
    int nstate = f->have_neigh ? f->neigh_state : -2;
    if (f->have_route && r->found) {
        if (r->no_route)
            json_object_set_new(c->ev, "route", json_string("none"));
        else {
            json_object_set_new(c->ev, "route", json_string(hu_route_type_name(r->type)));
            if (r->has_gateway) {
                inet_ntop(r->family, r->gateway, c->gw, sizeof c->gw);
                json_object_set_new(c->ev, "gateway", json_string(c->gw));
            } else if (r->type == RTN_UNICAST)
                c->on_link = 1;
            if (r->dev[0])
                json_object_set_new(c->ev, "dev", json_string(r->dev));
            if (r->type == RTN_UNICAST)
                json_object_set_new(c->ev, "on_link", json_boolean(c->on_link));
        }
    }
    if (f->have_neigh) {
        snprintf(buf, sizeof buf, "%s %s", c->on_link ? c->a : c->gw, hu_neigh_state_name(nstate));
        json_object_set_new(c->ev, "neighbour", json_string(buf));
    }
    if (f->icmp.have) {
        snprintf(buf, sizeof buf, "type %d code %d%s%s%s", f->icmp.type, f->icmp.code,
                 f->icmp.offender[0] ? " from " : "", f->icmp.offender, icmp_is_local(f) ? " (ourselves)" : "");
        json_object_set_new(c->ev, "icmp", json_string(buf));
    }
    json_object_set_new(c->ev, "try_ms", json_integer(f->try_ms));
    c->neigh_dead = nstate == NUD_FAILED || nstate == NUD_INCOMPLETE;
    c->icmp_remote = f->icmp.have && !icmp_is_local(f) && f->icmp.offender[0];
    c->from_target = c->icmp_remote && strcmp(f->icmp.offender, c->a) == 0;
}

static const int route_items[] = {1, 4, 0}, link_items[] = {1, 2, 3, 4, 0},
                 host_items[] = {1, 2, 5, 0}, service_items[] = {5, 0},
                 fw_items[] = {6, 0};

/* A route that rules the address out, whatever the errno; else NULL. */
static json_t *route_verdict(struct clues *c)
{
    const hu_facts *f = c->f;
    const hu_route *r = &f->route;
    char next[160];
    snprintf(next, sizeof next, "ip route get %s", c->a);
    if (f->have_route && r->found && r->no_route)
        return verdict("route", "no route to the address", c->ev, route_items, next);
    if (f->have_route && r->found && r->type == RTN_UNREACHABLE)
        return verdict("route", "the routing table has an unreachable route for the address", c->ev, route_items, next);
    if (f->have_route && r->found && (r->type == RTN_PROHIBIT || r->type == RTN_BLACKHOLE))
        return verdict("route", r->type == RTN_PROHIBIT ? "a prohibit route refuses the address"
                                                        : "a blackhole route discards the address",
                       c->ev, route_items, next);
    return NULL;
}

/* Our own ARP/ND unanswered: the on-link host or the gateway; else NULL.
 * slow: the try took as long as ARP takes to give up. */
static json_t *link_verdict(struct clues *c, int slow, const char *next)
{
    char cause[256];
    if (c->on_link && (c->neigh_dead || slow))
        return verdict("link", "on-link host does not answer ARP/ND", c->ev, link_items, next);
    if (!c->on_link && c->gw[0] && c->neigh_dead) {
        snprintf(cause, sizeof cause, "the gateway %s does not answer ARP/ND", c->gw);
        return verdict("link", cause, c->ev, link_items, next);
    }
    return NULL;
}

/* ICMP "administratively prohibited" and its kin: IPv4 type 3 codes 9, 10,
 * 13; ICMPv6 type 1 codes 1 (prohibited), 5 (source policy), 6 (reject
 * route).  The kernel turns the ICMPv6 ones into EACCES. */
static int icmp_prohibited(const hu_icmp *i)
{
    if (i->origin == SO_EE_ORIGIN_ICMP6)
        return i->type == 1 && (i->code == 1 || i->code == 5 || i->code == 6);
    return i->code == 9 || i->code == 10 || i->code == 13;
}

/* A remote sender's "prohibited": the firewall that sent it; else NULL. */
static json_t *prohibited_verdict(struct clues *c, const char *next)
{
    const hu_facts *f = c->f;
    char cause[256];
    if (!c->icmp_remote || !icmp_prohibited(&f->icmp))
        return NULL;
    snprintf(cause, sizeof cause, "%s administratively prohibited (code %d) from %s",
             f->icmp.origin == SO_EE_ORIGIN_ICMP6 ? "ICMPv6" : "ICMP", f->icmp.code, f->icmp.offender);
    return verdict("firewall", cause, c->ev, fw_items, next);
}

/* IPv6 without an ICMP error seen (the first try: the queue was not on
 * yet), but the target is on-link and answers ND: the "unreachable" can
 * only be its own.  (IPv4 always has the ICMP error to go by.) */
static int target_answered(const struct clues *c)
{
    int s = c->f->have_neigh ? c->f->neigh_state : -1;
    return c->f->addr->sa_family == AF_INET6 && !c->f->icmp.have && c->on_link &&
           (s == NUD_REACHABLE || s == NUD_STALE || s == NUD_DELAY || s == NUD_PROBE || s == NUD_PERMANENT);
}

static json_t *unreachable_verdict(struct clues *c)
{
    const hu_facts *f = c->f;
    char cause[256], next[160];
    snprintf(next, sizeof next, "ping -c 3 %s", c->a);
    json_t *d = prohibited_verdict(c, next);
    if (d)
        return d;
    if (c->from_target || target_answered(c)) {
        snprintf(cause, sizeof cause, "the target itself answered ICMP host unreachable: "
                 "a firewall on it rejects the port, or the service's host is stopping");
        return verdict("firewall", cause, c->ev, fw_items, next);
    }
    if (c->icmp_remote) {
        snprintf(cause, sizeof cause, "ICMP host unreachable from a router (%s)", f->icmp.offender);
        return verdict("host", cause, c->ev, host_items, next);
    }
    d = link_verdict(c, f->try_ms >= ARP_GIVE_UP_MS, next);
    return d ? d : verdict("host", "host unreachable", c->ev, host_items, next);
}

static json_t *errno_verdict(struct clues *c)
{
    const hu_facts *f = c->f;
    char cause[256], next[160];
    json_t *d;
    snprintf(next, sizeof next, "nc -vz %s %u", c->a, f->port);
    switch (f->err) {
    case ECONNREFUSED:
        snprintf(cause, sizeof cause, "the host is up but nothing listens on port %u", f->port);
        return verdict("service", cause, c->ev, service_items, next);
    case ETIMEDOUT:
        /* a timeout while our own ARP/ND is still unanswered is the link */
        if ((d = link_verdict(c, 0, next)))
            return d;
        return verdict("firewall", "no answer to the connection request: a firewall drops it, or the host is gone",
                       c->ev, fw_items, next);
    case EACCES:
    case EPERM:     /* ICMPv6 prohibited from a remote firewall, or our own */
        if ((d = prohibited_verdict(c, next)))
            return d;
        return verdict("firewall", "a local firewall or policy refused the connection", c->ev, fw_items, next);
    case EHOSTDOWN:
        snprintf(cause, sizeof cause, "ICMP host unknown%s%s: the host is down",
                 c->icmp_remote ? " from " : "", c->icmp_remote ? f->icmp.offender : "");
        snprintf(next, sizeof next, "ping -c 3 %s", c->a);
        return verdict("host", cause, c->ev, host_items, next);
    case ENETUNREACH:
        snprintf(cause, sizeof cause, "network unreachable%s%s", c->icmp_remote ? ": router " : "",
                 c->icmp_remote ? f->icmp.offender : "");
        snprintf(next, sizeof next, "ip route get %s", c->a);
        return verdict("route", cause, c->ev, route_items, next);
    case EHOSTUNREACH:
        return unreachable_verdict(c);
    default:
        snprintf(cause, sizeof cause, "%s", hu_errno_desc(f->err));
        return verdict("host", cause, c->ev, host_items, next);
    }
}

json_t *hu_classify_connect(const hu_facts *f)
{
    struct clues c = { .f = f, .ev = json_object() };
    hu_addr_text(f->addr, c.a, sizeof c.a);
    gather_evidence(&c);
    json_t *d = route_verdict(&c);
    return d ? d : errno_verdict(&c);
}

json_t *hu_diagnose_lookup(const char *host, int eai, long try_ms, const char *resolv_path)
{
    static const int dns_items[] = {1, 4, 0};
    char ns[512], next[300];
    json_t *ev = json_object();
    if (hu_probe_nameservers(resolv_path, ns, sizeof ns) == 0)
        json_object_set_new(ev, "nameservers", json_string(ns[0] ? ns : "none"));
    json_object_set_new(ev, "try_ms", json_integer(try_ms));
    snprintf(next, sizeof next, "nslookup %s", host ? host : "");
    switch (eai) {
    case EAI_NONAME:
        return verdict("dns", "the name does not exist (NXDOMAIN); in compose, its service may not have started yet",
                       ev, dns_items, next);
    case EAI_AGAIN:
#ifndef __GLIBC__
        /* musl's resolver ignores a SERVFAIL reply (after one quick retry)
         * and waits for the timeout: the two cannot be told apart by time */
        return verdict("dns", try_ms >= 900 ? "DNS server did not answer in time, or answered SERVFAIL"
                                            : "DNS server failure (SERVFAIL or refused)",
                       ev, dns_items, next);
#endif
        return verdict("dns", try_ms >= 900 ? "DNS server did not answer in time"
                                            : "DNS server failure (SERVFAIL or refused)",
                       ev, dns_items, next);
    case EAI_FAIL:
        return verdict("dns", "DNS server returned a non-recoverable failure", ev, dns_items, next);
    default:
        return verdict("dns", gai_strerror(eai), ev, dns_items, next);
    }
}

void hu_diag_add_env(json_t *diagnosis, const struct sockaddr *sa)
{
    json_t *evidence = json_object_get(diagnosis, "evidence");
    if (!evidence)
        return;
    hu_env e;
    hu_env_current(&e);     /* cached: read at most every 10 s */
    json_t *j = hu_env_json(&e, sa);
    if (j)
        json_object_set_new(evidence, "env", j);
}
