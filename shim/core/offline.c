/* SPDX-License-Identifier: MIT */
/* Is there no network at all here? (see offline.h)
 *
 * The link check is one netlink RTM_GETLINK dump: any interface that is not
 * loopback, in any state, means a network may come (an interface brought
 * up, a route added), so hostup keeps retrying.  That answer is the common
 * one on a failure in a networked place and is cached for a second; "only
 * loopback" leads to giving up, so it is never taken from the cache.  The
 * cache is one atomic word: no lock a fork could leave taken. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "offline.h"
#include "probe.h"
#include "sys/readfile.h"
#include "sys/sysio.h"

#define NETWORK_CACHE_MS 1000
#define MAX_NAMESERVERS 3       /* glibc's MAXNS: the rest are never asked */

/* ms (CLOCK_MONOTONIC) until which "a non-loopback interface exists" holds */
static int64_t network_until;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hu_offline_reset(void) { __atomic_store_n(&network_until, 0, __ATOMIC_RELAXED); }

/* The links of one reply: 1 when one is not loopback; *done at NLMSG_DONE;
 * -1 on a netlink error. */
static int scan_links(const char *buf, size_t len, int *done)
{
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_DONE) {
            *done = 1;
            return 0;
        }
        if (h->nlmsg_type == NLMSG_ERROR)
            return -1;
        if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
            continue;
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        if (!(ifi->ifi_flags & IFF_LOOPBACK))
            return 1;
    }
    return 0;
}

/* 1: only loopback interfaces; 0: some other; -1: cannot tell.  Bounded:
 * 100 ms per receive, 32 receives, 250 ms in all. */
static int only_loopback_now(void)
{
    struct {
        struct nlmsghdr n;
        struct ifinfomsg i;
    } req;
    /* a link's message is 1-3 KiB; one cut short is an error: no answer */
    char reply[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
    memset(&req, 0, sizeof req);
    req.n.nlmsg_len = NLMSG_LENGTH(sizeof req.i);
    req.n.nlmsg_type = RTM_GETLINK;
    req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.n.nlmsg_seq = 0x4f46;   /* "OF" */
    req.i.ifi_family = AF_UNSPEC;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -1;
    struct timeval tv = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int rc = send(fd, &req, req.n.nlmsg_len, 0) < 0 ? -1 : 1, done = 0;
    int64_t deadline = mono_ms() + 250;
    for (int reads = 0; rc == 1 && !done; reads++) {
        if (reads >= 32 || mono_ms() >= deadline) {
            rc = -1;
            break;
        }
        ssize_t got = recv(fd, reply, sizeof reply, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            rc = -1;
            break;
        }
        int other = scan_links(reply, (size_t)got, &done);
        rc = other < 0 ? -1 : other ? 0 : 1;
    }
    hu_sys_close(fd);
    return rc;
}

static int only_loopback(void)
{
    if (mono_ms() < __atomic_load_n(&network_until, __ATOMIC_RELAXED))
        return 0;
    int lo = only_loopback_now();
    if (lo == 0)
        __atomic_store_n(&network_until, mono_ms() + NETWORK_CACHE_MS, __ATOMIC_RELAXED);
    return lo;
}

/* 127.0.0.0/8, ::1 and their v4-mapped forms: loopback may come up. */
static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

int hu_offline_target(const struct sockaddr *sa, int err)
{
    if ((err != ENETUNREACH && err != EHOSTUNREACH) || !sa ||
        (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) || is_loopback(sa))
        return 0;
    if (only_loopback() != 1)
        return 0;
    /* a v4-mapped address goes out as IPv4: ask for that route */
    struct sockaddr_in v4;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        memset(&v4, 0, sizeof v4);
        v4.sin_family = AF_INET;
        memcpy(&v4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
        sa = (const struct sockaddr *)&v4;
    }
    hu_route r;
    if (hu_probe_route(sa, &r) != 0 || !r.found)
        return 0;
    return r.no_route || r.type == RTN_UNREACHABLE || r.type == RTN_PROHIBIT ||
           r.type == RTN_BLACKHOLE;
}

/* "nameserver ADDR" of one resolver file line into ss; 0 when it is not one. */
static int nameserver_of(const char *line, struct sockaddr_storage *ss)
{
    char a[64];
    line += strspn(line, " \t");
    if (strncmp(line, "nameserver", 10) != 0 || (line[10] != ' ' && line[10] != '\t') ||
        sscanf(line + 10, "%63s", a) != 1)
        return 0;
    a[strcspn(a, "%")] = '\0';      /* fe80::1%eth0: the scope is not needed here */
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, a, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    else
        return 0;
    return 1;
}

int hu_offline_nameservers(const char *resolv_path)
{
    char data[4096];
    if (hu_read_file(resolv_path, 0, data, sizeof data, NULL) < 0)
        return 0;
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line && n < MAX_NAMESERVERS;
         line = strtok_r(NULL, "\n", &save)) {
        struct sockaddr_storage ss;
        if (!nameserver_of(line, &ss))
            continue;
        n++;
        if (!hu_offline_target((const struct sockaddr *)&ss, ENETUNREACH))
            return 0;
    }
    return n > 0;
}

void hu_offline_explain(json_t *diagnosis, const char *nameservers)
{
    if (!diagnosis)
        return;
    char cause[400];
    if (nameservers)
        snprintf(cause, sizeof cause, "no network here: no interface but loopback, and no route "
                 "to any nameserver (%s); nothing can answer, so hostup did not retry",
                 nameservers);
    else
        snprintf(cause, sizeof cause, "no network here: no interface but loopback, and no route "
                 "to the address; nothing can answer, so hostup did not retry");
    json_object_set_new(diagnosis, "cause", json_string(cause));
    json_object_set_new(diagnosis, "next", json_string(
        "ip link; give the container or sandbox a network (docker run --network NAME), "
        "or run the program offline"));
    json_t *ev = json_object_get(diagnosis, "evidence");
    if (ev)
        json_object_set_new(ev, "interfaces", json_string("loopback only"));
}
