/* The environment of a failure: container runtime, platform, resolver
 * configuration (small bounded file reads under a root directory, so tests
 * use fixtures) and our own networks (netlink).  No allocation outside
 * hu_env_json. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "environment.h"

extern char **environ;

/* ---- bounded file reads ------------------------------------------------- */

/* root + rel into buf (NUL-terminated).  A file larger than the buffer is
 * cut after its last complete line.  -1 when it cannot be read. */
static ssize_t read_small(const char *root, const char *rel, char *buf, size_t len)
{
    char path[1024];
    int n = snprintf(path, sizeof path, "%s%s", root ? root : "", rel);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    /* O_NONBLOCK: a FIFO planted in place of the file must not hang us */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    size_t got = 0;
    int failed = 0;
    for (int i = 0; i < 16 && got < len - 1; i++) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            failed = 1;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (failed && got == 0)
        return -1;
    buf[got] = '\0';
    if (got == len - 1) {
        char *nl = strrchr(buf, '\n');
        if (nl) {
            nl[1] = '\0';
            got = (size_t)(nl + 1 - buf);
        }
    }
    return (ssize_t)got;
}

static int exists(const char *root, const char *rel)
{
    char path[1024];
    int n = snprintf(path, sizeof path, "%s%s", root ? root : "", rel);
    return n > 0 && (size_t)n < sizeof path && access(path, F_OK) == 0;
}

/* Next line of a NUL-terminated buffer: *p advances past it; the line is
 * [start, start + *len) without its newline.  NULL at the end. */
static const char *next_line(const char **p, size_t *len)
{
    const char *s = *p;
    if (!*s)
        return NULL;
    const char *nl = strchr(s, '\n');
    *len = nl ? (size_t)(nl - s) : strlen(s);
    *p = nl ? nl + 1 : s + *len;
    return s;
}

/* Next whitespace-separated word of [*p, end). */
static const char *next_word(const char **p, const char *end, size_t *len)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
    const char *w = s;
    while (s < end && *s != ' ' && *s != '\t' && *s != '\r')
        s++;
    *p = s;
    *len = (size_t)(s - w);
    return *len ? w : NULL;
}

/* Append a word to a space-separated list; a word that does not fit is
 * left out whole. */
static void append_word(char *buf, size_t size, const char *w, size_t wlen)
{
    size_t o = strlen(buf);
    size_t need = wlen + (o ? 1 : 0);
    if (o + need + 1 > size)
        return;
    if (o)
        buf[o++] = ' ';
    memcpy(buf + o, w, wlen);
    buf[o + wlen] = '\0';
}

static int word_is(const char *w, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(w, lit, len) == 0;
}

static int has_prefix(const char *w, size_t len, const char *lit)
{
    size_t l = strlen(lit);
    return len >= l && memcmp(w, lit, l) == 0;
}

static int has_suffix(const char *w, size_t len, const char *lit)
{
    size_t l = strlen(lit);
    return len >= l && memcmp(w + len - l, lit, l) == 0;
}

/* ---- cgroups ------------------------------------------------------------ */

/* What one path component of a cgroup path says about the runtime.  The
 * daemons' own units (docker.service, containerd.service) are not
 * containers. */
static int component_marker(const char *c, size_t len)
{
    if (memmem(c, len, "kubepods", 8))
        return HU_CONTAINER_KUBERNETES;
    if (word_is(c, len, "docker") || (has_prefix(c, len, "docker-") && has_suffix(c, len, ".scope")))
        return HU_CONTAINER_DOCKER;
    if ((memmem(c, len, "containerd", 10) && !word_is(c, len, "containerd.service")) ||
        has_prefix(c, len, "nerdctl-"))
        return HU_CONTAINER_CONTAINERD;
    return has_prefix(c, len, "libpod") ? HU_CONTAINER_PODMAN : HU_CONTAINER_UNKNOWN;
}

/* Strongest marker wins: kubernetes (pods run on any), docker, podman, containerd. */
static int stronger(int a, int b)
{
    static const int rank[] = {
        [HU_CONTAINER_UNKNOWN] = 0, [HU_CONTAINER_NONE] = 1, [HU_CONTAINER_CONTAINERD] = 2,
        [HU_CONTAINER_PODMAN] = 3, [HU_CONTAINER_DOCKER] = 4, [HU_CONTAINER_KUBERNETES] = 5,
    };
    return rank[b] > rank[a] ? b : a;
}

struct cgroup_scan {
    int marker;         /* strongest runtime marker seen */
    int lines;          /* lines in "hierarchy:controllers:path" form */
    int host_init;      /* some path is /init.scope (systemd's PID 1 on a host) */
    int all_root_v1;    /* every line is a v1 line with path "/" */
};

static void scan_cgroup(const char *buf, struct cgroup_scan *s)
{
    const char *p = buf, *line;
    size_t len;
    s->marker = HU_CONTAINER_UNKNOWN;
    s->lines = 0;
    s->host_init = 0;
    s->all_root_v1 = 1;
    while ((line = next_line(&p, &len))) {
        const char *end = line + len;
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        if (!c2)
            continue;
        s->lines++;
        const char *path = c2 + 1;
        size_t plen = (size_t)(end - path);
        while (plen && (path[plen - 1] == '\r' || path[plen - 1] == ' '))
            plen--;
        int v2 = c1 - line == 1 && line[0] == '0' && c2 == c1 + 1;
        if (v2 || !word_is(path, plen, "/"))
            s->all_root_v1 = 0;
        if (word_is(path, plen, "/init.scope"))
            s->host_init = 1;
        for (const char *q = path, *pe = path + plen; q < pe;) {
            const char *slash = memchr(q, '/', (size_t)(pe - q));
            const char *ce = slash ? slash : pe;
            if (ce > q)
                s->marker = stronger(s->marker, component_marker(q, (size_t)(ce - q)));
            q = ce + 1;
        }
    }
    if (!s->lines)
        s->all_root_v1 = 0;
}

/* ---- resolver ----------------------------------------------------------- */

static void parse_options(const char *p, const char *end, hu_env *out)
{
    const char *w;
    size_t wl;
    while ((w = next_word(&p, end, &wl))) {
        if (!has_prefix(w, wl, "ndots:"))
            continue;
        int n = 0;
        for (size_t i = 6; i < wl && w[i] >= '0' && w[i] <= '9' && n < 1000; i++)
            n = n * 10 + (w[i] - '0');
        out->ndots = n > 15 ? 15 : n;    /* the resolver's own cap */
    }
}

/* The whole search list from [p, end); `first_only` for "domain". */
static void set_search(const char *p, const char *end, int first_only, hu_env *out)
{
    const char *w;
    size_t wl;
    out->search[0] = '\0';
    while ((w = next_word(&p, end, &wl))) {
        append_word(out->search, sizeof out->search, w, wl);
        if (first_only)
            break;
    }
}

static void parse_resolv(const char *buf, hu_env *out)
{
    const char *p = buf, *line;
    size_t len;
    out->have_resolv = 1;
    out->ndots = 1;                     /* the default when no option says otherwise */
    while ((line = next_line(&p, &len))) {
        const char *q = line, *end = line + len, *kw, *w;
        size_t kl, wl;
        if (!(kw = next_word(&q, end, &kl)) || *kw == '#' || *kw == ';')
            continue;
        if (word_is(kw, kl, "nameserver")) {
            if ((w = next_word(&q, end, &wl))) {
                append_word(out->nameservers, sizeof out->nameservers, w, wl);
                if (word_is(w, wl, "127.0.0.11"))
                    out->docker_dns = 1;
            }
        } else if (word_is(kw, kl, "search") || word_is(kw, kl, "domain")) {
            set_search(q, end, word_is(kw, kl, "domain"), out);   /* the last one wins */
        } else if (word_is(kw, kl, "options")) {
            parse_options(q, end, out);
        }
    }
}

/* ---- reading it all ------------------------------------------------------ */

static int platform_of(const char *rel)
{
    if (!rel[0])
        return HU_PLATFORM_UNKNOWN;
    if (strcasestr(rel, "microsoft"))   /* WSL1's "-Microsoft" has no network stack of its own */
        return strcasestr(rel, "WSL2") || strcasestr(rel, "microsoft-standard")
                   ? HU_PLATFORM_WSL2 : HU_PLATFORM_UNKNOWN;
    if (strstr(rel, "linuxkit"))
        return HU_PLATFORM_DOCKER_DESKTOP;
    return HU_PLATFORM_LINUX;
}

void hu_env_read(const char *root, char **envp, hu_env *out)
{
    char buf[4096];
    memset(out, 0, sizeof *out);
    out->ndots = -1;
    if (!root)
        root = "";

    /* container */
    struct cgroup_scan init = {0}, self = {0};
    int have_init = read_small(root, "/proc/1/cgroup", buf, sizeof buf) >= 0;
    if (have_init)
        scan_cgroup(buf, &init);
    if (read_small(root, "/proc/self/cgroup", buf, sizeof buf) >= 0)
        scan_cgroup(buf, &self);
    int c = stronger(init.marker, self.marker);
    c = stronger(c, exists(root, "/.dockerenv") ? HU_CONTAINER_DOCKER     /* podman's: .containerenv */
                    : exists(root, "/run/.containerenv") ? HU_CONTAINER_PODMAN : HU_CONTAINER_UNKNOWN);
    const char *localdomain = NULL, *res_options = NULL;
    for (char **v = envp; v && *v; v++) {
        if (strncmp(*v, "KUBERNETES_SERVICE_HOST=", 24) == 0 && (*v)[24])
            c = stronger(c, HU_CONTAINER_KUBERNETES);
        else if (strncmp(*v, "LOCALDOMAIN=", 12) == 0)
            localdomain = *v + 12;
        else if (strncmp(*v, "RES_OPTIONS=", 12) == 0)
            res_options = *v + 12;
    }
    /* "none" only on positive evidence that PID 1 is a host's init: a bare
     * "0::/" is also what a container with its own cgroup namespace sees. */
    if (c == HU_CONTAINER_UNKNOWN && have_init && init.lines && (init.host_init || init.all_root_v1))
        c = HU_CONTAINER_NONE;
    out->container = c;

    /* platform */
    if (read_small(root, "/proc/sys/kernel/osrelease", buf, 256) >= 0) {
        buf[strcspn(buf, " \t\r\n")] = '\0';
        out->platform = platform_of(buf);
    }

    /* resolver; LOCALDOMAIN and RES_OPTIONS override the file, as in the resolver */
    if (read_small(root, "/etc/resolv.conf", buf, sizeof buf) >= 0)
        parse_resolv(buf, out);
    if (localdomain)
        set_search(localdomain, localdomain + strlen(localdomain), 0, out);
    if (res_options)
        parse_options(res_options, res_options + strlen(res_options), out);
}

/* ---- netlink ------------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static void on_addr(struct nlmsghdr *h, hu_env *e)
{
    if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
        return;
    struct ifaddrmsg *ifa = NLMSG_DATA(h);
    if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
        return;
    size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;
    const void *local = NULL, *address = NULL;
    int len = (int)IFA_PAYLOAD(h);
    for (struct rtattr *ra = IFA_RTA(ifa); RTA_OK(ra, len); ra = RTA_NEXT(ra, len)) {
        if (RTA_PAYLOAD(ra) != alen)
            continue;
        if (ra->rta_type == IFA_LOCAL)
            local = RTA_DATA(ra);
        else if (ra->rta_type == IFA_ADDRESS)
            address = RTA_DATA(ra);
    }
    /* IFA_ADDRESS is the peer on point-to-point links; IFA_LOCAL is ours */
    const void *a = local ? local : address;
    if (a)
        add_net(e, ifa->ifa_family, a, ifa->ifa_prefixlen, ifa->ifa_scope);
}

static void on_route(struct nlmsghdr *h, hu_env *e)
{
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

/* One dump request of `type` for all families; each message goes to cb.
 * 1 when the dump ran to NLMSG_DONE.  Bounded: 100 ms per receive, 64
 * receives, 250 ms in all. */
static int nl_dump(int type, void (*cb)(struct nlmsghdr *, hu_env *), hu_env *e)
{
    struct {
        struct nlmsghdr n;
        struct rtmsg r;         /* the larger of rtmsg and ifaddrmsg; family first in both */
    } req;
    char reply[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
    memset(&req, 0, sizeof req);
    req.n.nlmsg_len = NLMSG_LENGTH(type == RTM_GETADDR ? sizeof(struct ifaddrmsg) : sizeof(struct rtmsg));
    req.n.nlmsg_type = (unsigned short)type;
    req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.n.nlmsg_seq = (unsigned)type;
    req.r.rtm_family = AF_UNSPEC;

    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return 0;
    struct timeval tv = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int done = 0;
    int64_t deadline = mono_ms() + 250;
    if (send(fd, &req, req.n.nlmsg_len, 0) < 0)
        goto out;
    for (int reads = 0; reads < 64 && !done && mono_ms() < deadline; reads++) {
        ssize_t n = recv(fd, reply, sizeof reply, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        int left = (int)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (unsigned)left);
             h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != req.n.nlmsg_seq)
                continue;
            if (h->nlmsg_type == NLMSG_DONE) {
                done = 1;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR)
                goto out;
            cb(h, e);
        }
    }
out:
    close(fd);
    return done;
}

void hu_env_read_net(hu_env *out)
{
    out->n_nets = 0;
    out->have_gw4 = out->have_gw6 = 0;
    out->have_net = nl_dump(RTM_GETADDR, on_addr, out);
    if (!out->have_net)
        out->n_nets = 0;            /* a partial dump would say "not ours" wrongly */
    nl_dump(RTM_GETROUTE, on_route, out);
}

/* ---- questions and evidence ---------------------------------------------- */

static int prefix_match(const unsigned char *net, const unsigned char *a, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(net, a, full) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net[full] & mask) == (a[full] & mask);
}

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
        if (n->family == family && prefix_match(n->addr, a, n->prefix > max ? max : n->prefix))
            return 1;
    }
    return 0;
}

const char *hu_env_container_name(int c)
{
    switch (c) {
    case HU_CONTAINER_NONE: return "none";
    case HU_CONTAINER_DOCKER: return "docker";
    case HU_CONTAINER_KUBERNETES: return "kubernetes";
    case HU_CONTAINER_CONTAINERD: return "containerd";
    case HU_CONTAINER_PODMAN: return "podman";
    default: return NULL;
    }
}

const char *hu_env_platform_name(int p)
{
    switch (p) {
    case HU_PLATFORM_LINUX: return "linux";
    case HU_PLATFORM_WSL2: return "wsl2";
    case HU_PLATFORM_DOCKER_DESKTOP: return "docker-desktop";
    default: return NULL;
    }
}

json_t *hu_env_json(const hu_env *e, const struct sockaddr *sa)
{
    json_t *o = json_object();
    const char *s;
    if (!o)
        return NULL;
    if ((s = hu_env_container_name(e->container)))
        json_object_set_new(o, "container", json_string(s));
    if ((s = hu_env_platform_name(e->platform)))
        json_object_set_new(o, "platform", json_string(s));
    if (e->have_resolv) {
        json_object_set_new(o, "dns", json_string(e->docker_dns ? "docker-embedded" : "other"));
        json_object_set_new(o, "nameservers", json_string(e->nameservers[0] ? e->nameservers : "none"));
    }
    if (e->search[0])
        json_object_set_new(o, "search", json_string(e->search));
    if (e->ndots >= 0)
        json_object_set_new(o, "ndots", json_integer(e->ndots));

    char list[HU_ENV_MAX_NETS * (INET6_ADDRSTRLEN + 5)] = "";
    char a[INET6_ADDRSTRLEN + 5];
    for (int i = 0; i < e->n_nets && i < HU_ENV_MAX_NETS; i++) {
        const hu_env_net *n = &e->nets[i];
        if (n->scope != RT_SCOPE_UNIVERSE || (n->family != AF_INET && n->family != AF_INET6) ||
            !inet_ntop(n->family, n->addr, a, INET6_ADDRSTRLEN))
            continue;
        snprintf(a + strlen(a), sizeof a - strlen(a), "/%u", n->prefix);
        append_word(list, sizeof list, a, strlen(a));
    }
    if (list[0])
        json_object_set_new(o, "own_addr", json_string(list));

    list[0] = '\0';
    if (e->have_gw4 && inet_ntop(AF_INET, e->gw4, a, sizeof a))
        append_word(list, sizeof list, a, strlen(a));
    if (e->have_gw6 && inet_ntop(AF_INET6, e->gw6, a, sizeof a))
        append_word(list, sizeof list, a, strlen(a));
    if (list[0])
        json_object_set_new(o, "gateway", json_string(list));

    if (sa && e->have_net)
        json_object_set_new(o, "target_in_own_network", json_boolean(hu_env_in_own_network(e, sa)));
    return o;
}

/* ---- the cache ------------------------------------------------------------ */

/* Two slots: a refresh writes the one readers are not pointed at, then
 * publishes it.  Each slot has a sequence number (odd while written) so a
 * reader that raced a write retries.  The refresher is recorded by pid, so
 * a child forked in the middle of a refresh takes the job over instead of
 * waiting for a thread that does not exist in it. */
#ifndef HU_ENV_TTL_MS
#define HU_ENV_TTL_MS 10000
#endif

static hu_env slot[2];
static unsigned slot_seq[2];
static int64_t slot_at[2];
static int slot_cur = -1;
static pid_t refresher;

static int copy_slot(int i, hu_env *out)
{
    unsigned s1 = __atomic_load_n(&slot_seq[i], __ATOMIC_ACQUIRE);
    if (s1 & 1)
        return 0;
    memcpy(out, &slot[i], sizeof *out);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&slot_seq[i], __ATOMIC_RELAXED) == s1;
}

static int become_refresher(pid_t me)
{
    pid_t owner = __atomic_load_n(&refresher, __ATOMIC_ACQUIRE);
    if (owner == me)
        return 0;                   /* another thread of ours is at it */
    return __atomic_compare_exchange_n(&refresher, &owner, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void read_now(hu_env *out)
{
    hu_env_read("", environ, out);
    hu_env_read_net(out);
}

void hu_env_current(hu_env *out)
{
    for (int tries = 0; tries < 4; tries++) {
        int64_t now = mono_ms();
        int i = __atomic_load_n(&slot_cur, __ATOMIC_ACQUIRE);
        int fresh = i >= 0 && now - __atomic_load_n(&slot_at[i], __ATOMIC_ACQUIRE) < HU_ENV_TTL_MS;
        if (fresh && copy_slot(i, out))
            return;
        if (fresh)
            continue;               /* raced a writer two refreshes ahead: look again */
        pid_t me = getpid();
        if (!become_refresher(me)) {
            if (i >= 0 && copy_slot(i, out))
                return;             /* stale by a little; the refresher is on it */
            break;
        }
        int j = i < 0 ? 0 : 1 - i;
        hu_env fresh_env;
        read_now(&fresh_env);       /* the slow part, outside the slot */
        unsigned s = (__atomic_load_n(&slot_seq[j], __ATOMIC_RELAXED) | 1u) + 2;
        __atomic_store_n(&slot_seq[j], s, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy(&slot[j], &fresh_env, sizeof fresh_env);
        __atomic_store_n(&slot_seq[j], s + 1, __ATOMIC_RELEASE);
        __atomic_store_n(&slot_at[j], mono_ms(), __ATOMIC_RELEASE);
        __atomic_store_n(&slot_cur, j, __ATOMIC_RELEASE);
        __atomic_store_n(&refresher, 0, __ATOMIC_RELEASE);
        *out = fresh_env;
        return;
    }
    read_now(out);                  /* nothing cached we could use: our own read */
}
