/* SPDX-License-Identifier: MIT */
/* Probes for the diagnosis.  Each is bounded (one netlink round trip with a
 * 100 ms receive timeout, one small file read) and silent on failure: a
 * probe that fails just leaves its evidence out. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>  /* linux/errqueue.h needs struct timespec (musl) */
#include <linux/errqueue.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "probe.h"
#include "sys/readfile.h"
#include "sys/sysio.h"

static int nl_open(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -1;
    struct timeval tv = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void addattr(struct nlmsghdr *n, size_t max, int type, const void *data, size_t len)
{
    size_t rl = RTA_LENGTH(len);
    if (NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rl) > max)
        return;
    struct rtattr *rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
    rta->rta_type = (unsigned short)type;
    rta->rta_len = (unsigned short)rl;
    memcpy(RTA_DATA(rta), data, len);
    n->nlmsg_len = (unsigned)(NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rl));
}

int hu_probe_route(const struct sockaddr *sa, hu_route *out)
{
    struct {
        struct nlmsghdr n;
        struct rtmsg r;
        char buf[64];
    } req;
    char reply[4096];
    memset(out, 0, sizeof *out);
    memset(&req, 0, sizeof req);
    int alen = sa->sa_family == AF_INET ? 4 : 16;
    const void *a = sa->sa_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
    req.n.nlmsg_len = NLMSG_LENGTH(sizeof req.r);
    req.n.nlmsg_type = RTM_GETROUTE;
    req.n.nlmsg_flags = NLM_F_REQUEST;
    req.r.rtm_family = (unsigned char)sa->sa_family;
    req.r.rtm_dst_len = (unsigned char)(alen * 8);
    addattr(&req.n, sizeof req, RTA_DST, a, (size_t)alen);
    out->family = sa->sa_family;

    int fd = nl_open();
    if (fd < 0)
        return -1;
    int rc = -1;
    if (send(fd, &req, req.n.nlmsg_len, 0) < 0)
        goto done;
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n <= 0)
        goto done;
    struct nlmsghdr *h = (struct nlmsghdr *)reply;
    if (!NLMSG_OK(h, (unsigned)n))
        goto done;
    if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        out->found = 1;
        if (-e->error == ENETUNREACH)
            out->no_route = 1;
        else
            out->type = -e->error == EHOSTUNREACH ? RTN_UNREACHABLE
                      : -e->error == EACCES       ? RTN_PROHIBIT
                      : -e->error == EINVAL       ? RTN_BLACKHOLE : 0;
        rc = 0;
        goto done;
    }
    if (h->nlmsg_type != RTM_NEWROUTE)
        goto done;
    struct rtmsg *rt = NLMSG_DATA(h);
    out->found = 1;
    out->type = rt->rtm_type;
    int len = (int)RTM_PAYLOAD(h);
    for (struct rtattr *ra = RTM_RTA(rt); RTA_OK(ra, len); ra = RTA_NEXT(ra, len)) {
        if (ra->rta_type == RTA_GATEWAY && RTA_PAYLOAD(ra) <= 16) {
            out->has_gateway = 1;
            memcpy(out->gateway, RTA_DATA(ra), RTA_PAYLOAD(ra));
        } else if (ra->rta_type == RTA_PREFSRC && RTA_PAYLOAD(ra) <= 16) {
            inet_ntop(rt->rtm_family, RTA_DATA(ra), out->prefsrc, sizeof out->prefsrc);
        } else if (ra->rta_type == RTA_OIF && RTA_PAYLOAD(ra) == 4) {
            memcpy(&out->oif, RTA_DATA(ra), 4);
            if (!if_indextoname((unsigned)out->oif, out->dev))
                out->dev[0] = '\0';
        }
    }
    rc = 0;
done:
    hu_sys_close(fd);
    return rc;
}

int hu_probe_neigh(int family, const unsigned char *addr, int ifindex)
{
    struct {
        struct nlmsghdr n;
        struct ndmsg nd;
    } req;
    char reply[16384];
    int alen = family == AF_INET ? 4 : 16, state = -1;
    memset(&req, 0, sizeof req);
    req.n.nlmsg_len = NLMSG_LENGTH(sizeof req.nd);
    req.n.nlmsg_type = RTM_GETNEIGH;
    req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nd.ndm_family = (unsigned char)family;

    int fd = nl_open();
    if (fd < 0)
        return -1;
    if (send(fd, &req, req.n.nlmsg_len, 0) < 0)
        goto done;
    /* a dump: read until NLMSG_DONE, bounded to a few reads */
    for (int reads = 0; reads < 64; reads++) {
        ssize_t n = recv(fd, reply, sizeof reply, 0);
        if (n <= 0)
            goto done;
        for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (unsigned)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
                goto done;
            if (h->nlmsg_type != RTM_NEWNEIGH)
                continue;
            struct ndmsg *nd = NLMSG_DATA(h);
            if (ifindex && nd->ndm_ifindex != ifindex)
                continue;
            int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *nd));
            for (struct rtattr *ra = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof *nd));
                 RTA_OK(ra, len); ra = RTA_NEXT(ra, len))
                if (ra->rta_type == NDA_DST && (int)RTA_PAYLOAD(ra) == alen &&
                    memcmp(RTA_DATA(ra), addr, (size_t)alen) == 0)
                    state = nd->ndm_state;
        }
    }
done:
    hu_sys_close(fd);
    return state;
}

const char *hu_neigh_state_name(int s)
{
    switch (s) {
    case NUD_INCOMPLETE: return "INCOMPLETE";
    case NUD_REACHABLE: return "REACHABLE";
    case NUD_STALE: return "STALE";
    case NUD_DELAY: return "DELAY";
    case NUD_PROBE: return "PROBE";
    case NUD_FAILED: return "FAILED";
    case NUD_NOARP: return "NOARP";
    case NUD_PERMANENT: return "PERMANENT";
    case -1: return "none";
    default: return "OTHER";
    }
}

const char *hu_route_type_name(int t)
{
    switch (t) {
    case RTN_UNICAST: return "unicast";
    case RTN_LOCAL: return "local";
    case RTN_UNREACHABLE: return "unreachable";
    case RTN_PROHIBIT: return "prohibit";
    case RTN_BLACKHOLE: return "blackhole";
    case RTN_THROW: return "throw";
    default: return "other";
    }
}

void hu_drain_errqueue(int fd, hu_icmp *out)
{
    char data[256], ctl[512];
    struct sockaddr_in6 from;
    for (int i = 0; i < 64; i++) {      /* bounded: the queue is small */
        struct iovec iov = {data, sizeof data};
        struct msghdr m = {0};
        m.msg_name = &from;
        m.msg_namelen = sizeof from;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = ctl;
        m.msg_controllen = sizeof ctl;
        if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                  (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
                continue;
            struct sock_extended_err *ee = (struct sock_extended_err *)CMSG_DATA(c);
            if (!out)
                continue;
            out->have = 1;
            out->entries++;
            out->origin = ee->ee_origin;
            out->type = ee->ee_type;
            out->code = ee->ee_code;
            out->ee_errno = (int)ee->ee_errno;
            out->offender[0] = '\0';
            struct sockaddr *off = SO_EE_OFFENDER(ee);
            if (off->sa_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)off)->sin_addr, out->offender, sizeof out->offender);
            else if (off->sa_family == AF_INET6) {
                const struct in6_addr *a6 = &((struct sockaddr_in6 *)off)->sin6_addr;
                if (IN6_IS_ADDR_V4MAPPED(a6))   /* an IPv4 sender seen by a dual-stack socket */
                    inet_ntop(AF_INET, &a6->s6_addr[12], out->offender, sizeof out->offender);
                else
                    inet_ntop(AF_INET6, a6, out->offender, sizeof out->offender);
            }
        }
    }
}

int hu_errqueue_watch(int fd)
{
    /* raw calls: getsockopt is one of the names the library exports */
    int saved = errno, domain = 0, on = 0, one = 1;
    socklen_t l = sizeof domain;
    int set = syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) == 0 &&
              domain == AF_INET6 &&
              (l = sizeof on, syscall(SYS_getsockopt, fd, IPPROTO_IPV6, IPV6_RECVERR, &on, &l) == 0) &&
              !on &&
              syscall(SYS_setsockopt, fd, IPPROTO_IPV6, IPV6_RECVERR, &one, (socklen_t)sizeof one) == 0;
    errno = saved;
    return set;
}

void hu_errqueue_unwatch(int fd)
{
    int saved = errno, off = 0;
    syscall(SYS_setsockopt, fd, IPPROTO_IPV6, IPV6_RECVERR, &off, (socklen_t)sizeof off);
    errno = saved;
}

void hu_errqueue_done(int fd, int *watched)
{
    if (*watched)
        hu_errqueue_unwatch(fd);
    *watched = 0;
}

void hu_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *p = sa->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (!inet_ntop(sa->sa_family, p, buf, (socklen_t)len))
        snprintf(buf, len, "?");
}

int hu_probe_nameservers(const char *path, char *buf, size_t len)
{
    char data[4096];
    if (hu_read_file(path, 0, data, sizeof data, NULL) < 0)
        return -1;
    size_t o = 0;
    buf[0] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char ns[64];
        line += strspn(line, " \t");
        if (strncmp(line, "nameserver", 10) != 0 || (line[10] != ' ' && line[10] != '\t'))
            continue;
        if (sscanf(line + 10, "%63s", ns) == 1 && o + strlen(ns) + 2 < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "", ns);
    }
    return 0;
}
