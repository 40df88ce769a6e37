/* SPDX-License-Identifier: MIT */
/* The live probes hostup doctor runs (doctor_probe.h): ICMP echo through a
 * ping or raw socket, a bounded TCP connect, a stat in a child, the mount
 * of a path from mountinfo. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doctor_probe.h"
#include "sys/sysio.h"

long hu_doc_ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ICMP or ICMPv6 echo through a ping socket (no privilege needed where
 * net.ipv4.ping_group_range allows), else a raw one (root).  On a raw
 * ICMPv6 socket the kernel computes the checksum and gives no IP header. */
int hu_doc_icmp_echo(const struct sockaddr *sa, long *ms, const char **why)
{
    int v6 = sa->sa_family == AF_INET6;
    int proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, proto), raw = 0;
    if (fd < 0) {
        fd = socket(sa->sa_family, SOCK_RAW | SOCK_CLOEXEC, proto);
        raw = 1;
    }
    if (fd < 0) {
        *why = "no privilege for ICMP (not root, ping_group_range closed)";
        return -1;
    }
    unsigned char pkt[64] = {0};
    if (v6)
        pkt[0] = ICMP6_ECHO_REQUEST;
    else
        pkt[0] = ICMP_ECHO;
    pkt[7] = 1;     /* sequence 1; id and checksum: the kernel fills them on ping sockets */
    if (raw)
        pkt[4] = 0x68, pkt[5] = 0x75;   /* an id for matching */
    if (raw && !v6) {
        uint32_t sum = 0;
        for (int i = 0; i < 64; i += 2)
            sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        pkt[2] = (unsigned char)(~sum >> 8), pkt[3] = (unsigned char)~sum;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    socklen_t sl = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    struct sockaddr_storage to;
    memcpy(&to, sa, sl);
    ((struct sockaddr_in *)&to)->sin_port = 0;
    if (sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sl) < 0) {
        *why = strerror(errno);
        close(fd);
        return -1;
    }
    for (;;) {
        long left = 1000 - hu_doc_ms_since(&t0);
        struct pollfd p = {fd, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            *why = "no echo reply within 1 s";
            close(fd);
            return 1;
        }
        unsigned char in[1500];
        ssize_t n = recv(fd, in, sizeof in, 0);
        if (n <= 0)
            continue;
        unsigned char *icmp = in;
        if (raw && !v6) {
            size_t ihl = (size_t)(in[0] & 0x0f) * 4;
            if ((size_t)n < ihl + 8)
                continue;
            icmp = in + ihl;
        } else if (n < 8)
            continue;
        int reply = v6 ? icmp[0] == ICMP6_ECHO_REPLY : icmp[0] == ICMP_ECHOREPLY;
        if (raw && (icmp[4] != 0x68 || icmp[5] != 0x75))
            continue;   /* a raw socket sees every echo reply: only ours */
        if (reply) {
            *ms = hu_doc_ms_since(&t0);
            close(fd);
            return 0;
        }
    }
}

void hu_doc_tcp_try(const struct sockaddr *sa, socklen_t len, long timeout_ms, struct hu_doc_tcp *r)
{
    struct timespec t0;
    memset(r, 0, sizeof *r);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r->err = errno;
        return;
    }
    /* IPv6 queues the ICMP error only when asked (IPv4 TCP does anyway) */
    int one = 1;
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
    if (connect(fd, sa, len) == 0)
        r->err = 0;
    else if (errno != EINPROGRESS)
        r->err = errno;
    else {
        struct pollfd p = {fd, POLLOUT, 0};
        int n = poll(&p, 1, (int)timeout_ms);
        if (n == 0)
            r->err = ETIMEDOUT;
        else {
            socklen_t l = sizeof r->err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &r->err, &l);
        }
    }
    r->ms = hu_doc_ms_since(&t0);
    hu_drain_errqueue(fd, &r->icmp);
    close(fd);
}

/* stat in a child, so a hard mount that blocks in the kernel cannot hang us */
int hu_doc_stat_bounded(const char *path, long timeout_ms, struct stat *st, int *err)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        struct { int rc, err; struct stat st; } m;
        m.rc = hu_sys_stat(path, &m.st);
        m.err = errno;
        ssize_t w = write(pfd[1], &m, sizeof m);
        _exit(w == (ssize_t)sizeof m ? 0 : 1);
    }
    close(pfd[1]);
    struct pollfd p = {pfd[0], POLLIN, 0};
    int rc = -2;
    if (poll(&p, 1, (int)timeout_ms) > 0) {
        struct { int rc, err; struct stat st; } m;
        if (read(pfd[0], &m, sizeof m) == (ssize_t)sizeof m) {
            rc = m.rc;
            *err = m.err;
            *st = m.st;
        }
    } else
        kill(pid, SIGKILL);     /* blocked: the verdict says why */
    close(pfd[0]);
    waitpid(pid, NULL, 0);
    return rc;
}

/* The mount holding path: longest mount point that prefixes it. */
int hu_doc_find_mount(const char *path, char *mnt, char *fstype, char *source, char *opts, size_t len)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    char line[4096];
    size_t best = 0;
    while (fgets(line, sizeof line, f)) {
        char mp[1024], fs[128], src[1024], o1[1024], o2[1024];
        /* id parent major:minor root mountpoint options [optional...] - fstype source superopts */
        char *dash = strstr(line, " - ");
        if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s %1023s", mp, o1) != 2 ||
            sscanf(dash + 3, "%127s %1023s %1023s", fs, src, o2) != 3)
            continue;
        /* mountinfo escapes spaces as \040 */
        for (char *q; (q = strstr(mp, "\\040"));)
            memmove(q + 1, q + 4, strlen(q + 4) + 1), *q = ' ';
        size_t n = strlen(mp);
        if (strncmp(path, mp, n) == 0 && (path[n] == '/' || path[n] == '\0' || n == 1) && n >= best) {
            best = n;
            snprintf(mnt, len, "%s", mp);
            snprintf(fstype, len, "%s", fs);
            snprintf(source, len, "%s", src);
            snprintf(opts, len, "%.500s,%.500s", o1, o2);
        }
    }
    fclose(f);
    return best ? 0 : -1;
}
