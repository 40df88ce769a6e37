/* SPDX-License-Identifier: MIT */
/* hostup doctor TARGET: the troubleshooting checklist, run live from where
 * it stands (inside the container, usually).  One line per checklist item
 * with pass/fail and evidence, then the likely cause and the next command.
 * The verdict comes from the same classifier the library's records use;
 * the probes themselves are in doctor_probe.c. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "doctor_net.h"
#include "doctor_probe.h"
#include "help.h"
#include "library.h"
#include "core/diag_overlap.h"
#include "core/environment.h"
#include "hostup/policy.h"
#include "core/probe.h"


enum { PASS, FAIL, SKIP, INFO };
#define MAX_ADDRS 4     /* addresses of a name tried, at most */
static const char *const status_name[] = {"pass", "fail", "skip", "info"};

struct doc {
    json_t *steps;
    int json;
};

static void step(struct doc *d, int item, const char *name, int status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void step(struct doc *d, int item, const char *name, int status, const char *fmt, ...)
{
    char detail[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    json_t *s = json_object();
    json_object_set_new(s, "item", json_integer(item));
    json_object_set_new(s, "name", json_string(name));
    json_object_set_new(s, "status", json_string(status_name[status]));
    json_object_set_new(s, "detail", json_string(detail));
    json_array_append_new(d->steps, s);
    if (d->json)
        return;
    const char *col = status == PASS ? "\033[32m" : status == FAIL ? "\033[31m" : "\033[2m";
    printf("  [%d] %-12s %s%-4s%s  %s\n", item, name, hu_cli_paint(stdout, col), status_name[status],
           hu_cli_paint(stdout, "\033[0m"), detail);
}

/* host[:port], [v6]:port, bare v6, or scheme://[user@]host[:port]/... */
static int parse_target(const char *t, char *host, size_t hlen, unsigned *port)
{
    static const struct { const char *scheme; unsigned port; } defaults[] = {
        {"http", 80}, {"https", 443}, {"postgres", 5432}, {"postgresql", 5432},
        {"mysql", 3306}, {"redis", 6379}, {"amqp", 5672}, {"mongodb", 27017},
        {"ftp", 21}, {"ssh", 22}, {"ldap", 389}, {"smtp", 25},
    };
    char buf[512];
    const char *s = t, *scheme_end = strstr(t, "://");
    *port = 0;
    if (scheme_end) {
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
            if ((size_t)(scheme_end - t) == strlen(defaults[i].scheme) &&
                strncasecmp(t, defaults[i].scheme, strlen(defaults[i].scheme)) == 0)
                *port = defaults[i].port;
        s = scheme_end + 3;
        const char *at = strchr(s, '@'), *slash = strchr(s, '/');
        if (at && (!slash || at < slash))
            s = at + 1;
    }
    snprintf(buf, sizeof buf, "%s", s);
    buf[strcspn(buf, "/?#")] = '\0';
    char *h = buf, *p = NULL;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close)
            return -1;
        *close = '\0';
        h = buf + 1;
        if (close[1] == ':')
            p = close + 2;
    } else if (strchr(buf, ':') == strrchr(buf, ':') && strchr(buf, ':')) {
        p = strchr(buf, ':');
        *p++ = '\0';
    }
    if (p) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (*end || v == 0 || v > 65535)
            return -1;
        *port = (unsigned)v;
    }
    if (!*h || strlen(h) >= hlen)
        return -1;
    snprintf(host, hlen, "%s", h);
    return 0;
}

static int doctor_path(struct doc *d, const char *path, long timeout_ms, json_t *verdict)
{
    char mnt[1024] = "", fs[1024] = "", src[1024] = "", opts[1024] = "";
    static const char *const netfs[] = {"nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs",
                                        "fuse.sshfs", "9p", "fuse.glusterfs", "fuse.ceph"};
    int network = 0, hard = 0;
    if (hu_doc_find_mount(path, mnt, fs, src, opts, sizeof mnt) == 0) {
        for (size_t i = 0; i < sizeof netfs / sizeof netfs[0]; i++)
            network |= strcmp(fs, netfs[i]) == 0;
        network |= strncmp(fs, "fuse", 4) == 0;
        hard = network && strstr(opts, "soft") == NULL && strncmp(fs, "nfs", 3) == 0;
        step(d, 8, "mount", INFO, "%s on %s type %s (%s)%s", src, mnt, fs, opts,
             hard ? "; hard mount: I/O blocks while the server is down" : "");
    } else
        step(d, 8, "mount", SKIP, "no mount found for %s", path);
    struct stat st;
    int err = 0;
    int rc = hu_doc_stat_bounded(path, timeout_ms, &st, &err);
    char next[1200];
    snprintf(next, sizeof next, "showmount -e %.*s", (int)strcspn(src, ":"), src[0] ? src : "SERVER");
    if (rc == 0) {
        step(d, 8, "stat", PASS, "%s: %s, %lld bytes", path, S_ISDIR(st.st_mode) ? "directory" : "file",
             (long long)st.st_size);
        json_object_set_new(verdict, "reachable", json_true());
        json_object_set_new(verdict, "cause", json_string("the path answers"));
        return 0;
    }
    json_object_set_new(verdict, "reachable", json_false());
    json_object_set_new(verdict, "layer", json_string("volume"));
    if (rc == -2) {
        step(d, 8, "stat", FAIL, "blocked for %ld ms", timeout_ms);
        /* a soft mount gives up after timeo x retrans, but that may be
         * longer than our bound (tests/integration/test_nfs.sh) */
        json_object_set_new(verdict, "cause",
                            json_string(hard ? "stat blocks: the volume's server does not answer "
                                               "(a hard mount waits forever)"
                                             : "stat blocks: the volume's server does not answer"));
    } else {
        step(d, 8, "stat", FAIL, "%s (%s)", hu_errno_name(err), strerror(err));
        const char *cause = err == ESTALE ? "stale file handle: the server restarted or the export changed"
                          : err == ENOTCONN ? "the volume's daemon is gone (FUSE/sshfs endpoint not connected)"
                          : err == ENOENT ? "the path does not exist"
                          : network ? "the volume's server is down or unreachable"
                                    : "the path cannot be read";
        json_object_set_new(verdict, "cause", json_string(cause));
    }
    json_object_set_new(verdict, "next", json_string(network ? next : "ls -l the parent directory; mount"));
    return 1;
}

static void env_step(struct doc *d)
{
    hu_env e;
    hu_env_current(&e);
    json_t *j = hu_env_json(&e, NULL);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    step(d, 3, "environment", INFO, "%s", s ? s : "unknown");
    free(s);
    json_decref(j);
}

/* Whether the library could be preloaded here at all (a Dockerfile check). */
static void library_step(struct doc *d)
{
    char lib[4096], why[512];
    if (hu_cli_find_library(lib, sizeof lib) < 0)
        step(d, 3, "library", SKIP, "libhostup.so not found next to hostup (HOSTUP_LIBRARY names it)");
    else if (hu_cli_library_loads(lib, NULL, why, sizeof why) < 0)
        step(d, 3, "library", FAIL, "%s cannot be loaded in this system: %s; %s", lib, why,
             hu_cli_library_hint());
    else
        step(d, 3, "library", PASS, "%s loads in this system", lib);
}

/* Step 4 "resolve": host's addresses into *res (free it); 1 when the
 * lookup failed (the verdict says why). */
static int resolve_step(struct doc *d, const char *host, struct addrinfo **res, json_t *verdict)
{
    char ns[512] = "", a[INET6_ADDRSTRLEN];
    struct timespec t0;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    hu_probe_nameservers("/etc/resolv.conf", ns, sizeof ns);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = getaddrinfo(host, NULL, &hints, res);
    long rms = hu_doc_ms_since(&t0);
    if (rc != 0) {
        step(d, 4, "resolve", FAIL, "%s: %s (%s) after %ld ms; nameservers %s", host, hu_eai_name(rc),
             gai_strerror(rc), rms, ns[0] ? ns : "none");
        json_t *dg = hu_diagnose_lookup(host, rc, rms, "/etc/resolv.conf");
        json_object_update(verdict, dg);
        json_decref(dg);
        json_object_set_new(verdict, "reachable", json_false());
        return 1;
    }
    char list[512] = "";
    size_t o = 0;
    int count = 0;
    for (struct addrinfo *ai = *res; ai && count < MAX_ADDRS; ai = ai->ai_next, count++) {
        hu_addr_text(ai->ai_addr, a, sizeof a);
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", count ? " " : "", a);
    }
    step(d, 4, "resolve", PASS, "%s -> %s in %ld ms (nameservers %s)", host, list, rms, ns[0] ? ns : "none");
    return 0;
}

/* Step 4 "route": the kernel's route to f->addr, into f. */
static void route_step(struct doc *d, hu_facts *f, const char *a)
{
    if (hu_probe_route(f->addr, &f->route) == 0 && f->route.found) {
        f->have_route = 1;
        char gw[INET6_ADDRSTRLEN] = "";
        if (f->route.has_gateway)
            inet_ntop(f->route.family, f->route.gateway, gw, sizeof gw);
        if (f->route.no_route)
            step(d, 4, "route", FAIL, "no route to %s", a);
        else if (f->route.type != RTN_UNICAST && f->route.type != RTN_LOCAL)
            step(d, 4, "route", FAIL, "%s route for %s", hu_route_type_name(f->route.type), a);
        else
            step(d, 4, "route", PASS, "%s %s%s dev %s", a, gw[0] ? "via " : "on-link", gw, f->route.dev);
    } else
        step(d, 4, "route", SKIP, "netlink route lookup failed");
}

/* Steps 4 "network" and 6 "routes": the interfaces as `docker network
 * inspect` shows them, and the routes that cover the target (a VPN's among
 * them), into *n. */
static void network_steps(struct doc *d, const struct sockaddr *sa, const hu_env *e, hu_netinfo *n, const char *a)
{
    char text[700];
    hu_netinfo_read(sa, n);
    hu_doc_net_interfaces(n, e, text, sizeof text);
    step(d, 4, "network", n->have_ifs ? INFO : SKIP, "%s", text);
    if (hu_doc_net_routes(n, text, sizeof text))
        step(d, 6, "routes", INFO, "to %s, the first wins: %s", a, text);
    else
        step(d, 6, "routes", SKIP, "netlink route dump failed");
}

/* Step 5 "tcp connect": one try at f->addr, its outcome into f. */
static void tcp_step(struct doc *d, hu_facts *f, socklen_t sl, long timeout_ms, const char *a)
{
    if (!f->port) {
        step(d, 5, "tcp connect", SKIP, "no port given (use host:port or a URL)");
        return;
    }
    struct hu_doc_tcp tr;
    hu_doc_tcp_try(f->addr, sl, timeout_ms, &tr);
    f->err = tr.err;
    f->try_ms = tr.ms;
    f->icmp = tr.icmp;
    if (!tr.err)
        step(d, 5, "tcp connect", PASS, "%s port %u accepts connections (%ld ms)", a, f->port, tr.ms);
    else
        step(d, 5, "tcp connect", FAIL, "%s port %u: %s (%s) after %ld ms%s%s", a, f->port,
             hu_errno_name(tr.err), strerror(tr.err), tr.ms,
             tr.icmp.have && tr.icmp.offender[0] ? "; ICMP from " : "",
             tr.icmp.have ? tr.icmp.offender : "");
}

/* Step 2 "neighbour", after the connect: it is what makes the kernel
 * resolve the neighbour (the target on-link, else the gateway). */
static void neighbour_step(struct doc *d, hu_facts *f)
{
    if (!f->have_route || f->route.no_route || f->route.type != RTN_UNICAST)
        return;
    unsigned char target[16];
    const unsigned char *who = hu_neigh_target(f, target);
    f->neigh_state = hu_probe_neigh(f->addr->sa_family, who, f->route.oif);
    f->have_neigh = 1;
    char w[INET6_ADDRSTRLEN];
    inet_ntop(f->addr->sa_family, who, w, sizeof w);
    int bad = f->neigh_state == NUD_FAILED || f->neigh_state == NUD_INCOMPLETE;
    /* a try that timed out with ARP/ND still unanswered is an ARP
     * failure cut short: the verdict says link, as the records do */
    step(d, 2, "neighbour", bad ? FAIL : f->neigh_state < 0 ? SKIP : PASS, "%s %s (%s)%s", w,
         hu_neigh_state_name(f->neigh_state), f->route.has_gateway ? "gateway" : "target, on-link",
         bad && f->port && f->err == ETIMEDOUT ? "; no ARP/ND answer: the TCP try timed out before ARP gave up" : "");
}

/* Step 2 "icmp echo": 0 when the address answers ping. */
static int icmp_step(struct doc *d, const struct sockaddr *sa, const char *a)
{
    long ems = 0;
    const char *why = "";
    int e = hu_doc_icmp_echo(sa, &ems, &why);
    if (e == 0)
        step(d, 2, "icmp echo", PASS, "%s answers ping in %ld ms", a, ems);
    else
        step(d, 2, "icmp echo", e < 0 ? SKIP : FAIL, "%s: %s", a, why);
    return e;
}

/* The verdict from the facts: 0 reachable, 1 not.  in: the network
 * evidence, for telling an overlapping network from a host that is gone. */
static int host_verdict(const hu_facts *f, int echo, const hu_overlap_in *in, json_t *verdict)
{
    if (f->port && !f->err) {
        json_object_set_new(verdict, "reachable", json_true());
        json_object_set_new(verdict, "cause", json_string("the target accepts connections from here"));
        return 0;
    }
    json_object_set_new(verdict, "reachable", json_false());
    if (!f->port) {
        json_object_set_new(verdict, "cause", json_string(echo == 0 ? "the host answers ping; give a port to test the service"
                                                                    : "the host does not answer ping; give a port to test the service"));
        return echo == 0 ? 0 : 1;
    }
    json_t *dg = hu_classify_connect(f);
    hu_diag_overlap(dg, in);
    json_object_set_new(json_object_get(dg, "evidence"), "network",
                        hu_netinfo_json(in->net, in->env->have_resolv ? in->env->docker_dns : -1));
    json_object_update(verdict, dg);
    json_decref(dg);
    return 1;
}

/* The steps for one address of the target; 0 when it is reachable. */
static int doctor_address(struct doc *d, const char *host, const struct addrinfo *ai, unsigned port,
                          long timeout_ms, json_t *verdict)
{
    char a[INET6_ADDRSTRLEN];
    struct sockaddr_storage ss;
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);   /* same place in sin6 */
    hu_addr_text((struct sockaddr *)&ss, a, sizeof a);
    hu_facts f = {.addr = (struct sockaddr *)&ss, .port = port};
    hu_env env;
    hu_netinfo net;
    hu_env_current(&env);
    route_step(d, &f, a);
    network_steps(d, f.addr, &env, &net, a);
    tcp_step(d, &f, ai->ai_addrlen, timeout_ms, a);
    neighbour_step(d, &f);
    int echo = icmp_step(d, f.addr, a);
    hu_overlap_in in = {.addr = f.addr, .host = strcmp(host, a) ? host : NULL, .env = &env, .net = &net};
    int rc = host_verdict(&f, echo, &in, verdict);
    json_object_set_new(verdict, "addr", json_string(a));
    return rc;
}

/* Every address of a name is tried, as clients do (a dual-stack name whose
 * IPv6 address fails is still reached over IPv4): the verdict is the first
 * reachable address's, else the first address's; "addresses" has each
 * one's outcome. */
static int doctor_host(struct doc *d, const char *host, unsigned port, long timeout_ms, json_t *verdict)
{
    struct addrinfo *res = NULL;
    if (resolve_step(d, host, &res, verdict)) {
        env_step(d);
        return 1;
    }
    json_t *each = json_array(), *first = NULL;
    int rc = 1, count = 0;
    for (struct addrinfo *ai = res; ai && count < MAX_ADDRS && rc; ai = ai->ai_next, count++) {
        json_t *v = json_object();
        rc = doctor_address(d, host, ai, port, timeout_ms, v);
        json_t *o = json_object();
        json_object_set(o, "addr", json_object_get(v, "addr"));
        json_object_set(o, "reachable", json_object_get(v, "reachable"));
        if (json_object_get(v, "cause"))
            json_object_set(o, "cause", json_object_get(v, "cause"));
        json_array_append_new(each, o);
        if (!rc || !first) {
            json_decref(first);
            first = v;
        } else
            json_decref(v);
    }
    freeaddrinfo(res);
    json_object_update(verdict, first);
    json_decref(first);
    if (!rc && count > 1) {
        char cause[400];
        snprintf(cause, sizeof cause, "the target accepts connections from here, at %s (address %d of %s)",
                 json_string_value(json_object_get(verdict, "addr")), count, host);
        json_object_set_new(verdict, "cause", json_string(cause));
    }
    if (count > 1)
        json_object_set_new(verdict, "addresses", each);
    else
        json_decref(each);
    env_step(d);
    return rc;
}

/* Running under our own library would retry the doctor's probes. */
static void leave_preload(char **argv)
{
    const char *p = getenv("LD_PRELOAD");
    if (!p || !strstr(p, "libhostup"))
        return;
    char keep[4096] = "";
    size_t o = 0;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", p);
    for (char *save = NULL, *t = strtok_r(buf, " :", &save); t; t = strtok_r(NULL, " :", &save))
        if (!strstr(t, "libhostup") && o + strlen(t) + 2 < sizeof keep)
            o += (size_t)snprintf(keep + o, sizeof keep - o, "%s%s", o ? " " : "", t);
    if (o)
        setenv("LD_PRELOAD", keep, 1);
    else
        unsetenv("LD_PRELOAD");
    execv("/proc/self/exe", argv);
}

/* The options into d, *timeout_ms and *target: -1 to go on, else the exit
 * status (--help, or a usage error). */
static int parse_args(int argc, char **argv, struct doc *d, long *timeout_ms, const char **target)
{
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            d->json = 1;
        else if (!strcmp(argv[i], "--timeout")) {
            unsigned ms = 0;
            if (i + 1 >= argc) {
                fprintf(stderr, "hostup: doctor: --timeout needs a duration, as in 5s or 500ms\n");
                return EX_USAGE;
            }
            const char *why = "must be > 0";
            if (hu_parse_duration(argv[++i], &ms, &why) < 0 || !ms) {
                fprintf(stderr, "hostup: doctor: --timeout %s: %s\n", argv[i], why);
                return EX_USAGE;
            }
            *timeout_ms = ms;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            hu_cli_help("doctor", stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "hostup: doctor: unknown option '%s'\n", argv[i]);
            hu_cli_synopsis("doctor", stderr);
            return EX_USAGE;
        } else if (*target) {
            fprintf(stderr, "hostup: doctor: one TARGET only\n");
            return EX_USAGE;
        } else
            *target = argv[i];
    }
    if (!*target) {
        hu_cli_synopsis("doctor", stderr);
        return EX_USAGE;
    }
    return -1;
}

/* The verdict's last lines, for people. */
static void print_verdict(const json_t *verdict, int rc)
{
    const char *layer = json_string_value(json_object_get(verdict, "layer"));
    const char *cause = json_string_value(json_object_get(verdict, "cause"));
    const char *next = json_string_value(json_object_get(verdict, "next"));
    printf("%s%s%s%s%s: %s\n", hu_cli_paint(stdout, "\033[1m"), rc ? "likely cause" : "verdict",
           layer ? " (" : "", layer ? layer : "", layer ? ")" : "", cause ? cause : "?");
    if (next)
        printf("next: %s%s\n", next, hu_cli_paint(stdout, "\033[0m"));
    else
        printf("%s", hu_cli_paint(stdout, "\033[0m"));
    hu_doc_print_alternatives(verdict);
}

int cmd_doctor(int argc, char **argv)
{
    struct doc d = {json_array(), 0};
    /* longer than an ARP failure (3 probes 1 s apart, then EHOSTUNREACH at
     * about 3.05 s), so an on-link host that is gone shows as such */
    long timeout_ms = 5000;
    const char *target = NULL;
    leave_preload(argv);
    int rc = parse_args(argc, argv, &d, &timeout_ms, &target);
    if (rc >= 0)
        return rc;
    json_t *verdict = json_object();
    if (!d.json)
        printf("hostup doctor %s\n", target);
    if (target[0] == '/') {
        step(&d, 1, "target", INFO, "path %s", target);
        library_step(&d);
        rc = doctor_path(&d, target, timeout_ms, verdict);
    } else {
        char host[256];
        unsigned port;
        if (parse_target(target, host, sizeof host, &port) < 0) {
            fprintf(stderr, "hostup: doctor: cannot read target '%s' (host[:port], URL or /path)\n", target);
            json_decref(verdict);
            return EX_USAGE;
        }
        step(&d, 1, "target", INFO, "host %s%s%.0u", host, port ? " port " : "", port);
        library_step(&d);
        rc = doctor_host(&d, host, port, timeout_ms, verdict);
    }
    if (d.json) {
        hu_cli_put_json(json_pack("{s:s, s:o, s:o}", "target", target, "steps", d.steps, "verdict", verdict));
        return rc;
    }
    print_verdict(verdict, rc);
    json_decref(d.steps);
    json_decref(verdict);
    return rc;
}
