/* SPDX-License-Identifier: MIT */
/* The environment of a failure, from files: container runtime, platform,
 * resolver configuration (small bounded file reads under a root
 * directory, so tests use fixtures), and the record's "env" object.  Our
 * own networks and the cache are env_net.c.  No allocation outside
 * hu_env_json. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "environment.h"
#include "sys/readfile.h"

/* ---- bounded file reads ------------------------------------------------- */

/* root + rel into buf (NUL-terminated).  A file larger than the buffer is
 * cut after its last complete line.  -1 when it cannot be read. */
static ssize_t read_small(const char *root, const char *rel, char *buf, size_t len)
{
    char path[1024];
    int n = snprintf(path, sizeof path, "%s%s", root ? root : "", rel);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    ssize_t got = hu_read_file(path, HU_RF_LINES, buf, len, NULL);
    return got < 0 ? -1 : got;
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
    if (exists(root, "/.dockerenv"))
        c = stronger(c, HU_CONTAINER_DOCKER);
    if (exists(root, "/run/.containerenv"))     /* podman's marker; it has no /.dockerenv */
        c = stronger(c, HU_CONTAINER_PODMAN);
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
