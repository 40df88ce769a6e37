/* hostup status and hostup metrics: what the shared file (shared.h) says
 * about each target, for people (a table, --json, --watch) and for
 * Prometheus (the text format on stdout, over HTTP with --listen, or as a
 * node_exporter textfile written atomically with --textfile). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "http_request.h"
#include "common.h"
#include "hostup/hostup.h"
#include "hostup/policy.h"
#include "core/shared.h"

struct sopts {
    const char *file, *listen, *textfile;
    int json, watch;
    double every;
};

static int parse(int argc, char **argv, struct sopts *o, int metrics)
{
    o->every = 1.0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0 && !metrics)
            o->json = 1;
        else if (strcmp(a, "--watch") == 0 && !metrics) {
            o->watch = 1;
            if (i + 1 < argc && atof(argv[i + 1]) > 0)
                o->every = atof(argv[++i]);
        } else if ((strcmp(a, "--file") == 0 || (metrics && (strcmp(a, "--listen") == 0 ||
                                                              strcmp(a, "--textfile") == 0))) &&
                   i + 1 < argc) {
            const char **slot = a[2] == 'f' ? &o->file : a[2] == 'l' ? &o->listen : &o->textfile;
            *slot = argv[++i];
        } else {
            fprintf(stderr, "hostup: %s: unknown or incomplete option '%s'\n"
                            "usage: hostup status [--json] [--watch [SECONDS]] [--file PATH]\n"
                            "       hostup metrics [--listen ADDR:PORT] [--textfile PATH] [--file PATH]\n",
                    metrics ? "metrics" : "status", a);
            return -1;
        }
    }
    return 0;
}

/* the file: --file, else where the library would look from here */
static struct hu_shm *open_shared(const struct sopts *o, char *path, size_t len, const char **why)
{
    if (o->file)
        snprintf(path, len, "%s", o->file);
    else if (hu_shm_path(path, len, 0) != 0) {
        *why = "HOSTUP_SHARED=off";
        return NULL;
    }
    return hu_shm_open(path, 1, why);
}

static void slot_addr(const struct hu_shm_slot *s, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (s->family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(s->port);
        memcpy(&a->sin6_addr, s->addr, 16);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(s->port);
        memcpy(&a->sin_addr, s->addr, 4);
    }
}

struct view {
    char target[64];
    const char *state;
    int prober;
    unsigned waiting, procs;
    struct hu_shm_slot s;       /* a copy: the file changes under us */
    long budget_left;           /* -1: no budget */
    long failing_ms;
};

static void view_of(const struct hu_shm *m, unsigned i, const hu_policy *p, int64_t now, struct view *v)
{
    memcpy(&v->s, &m->slots[i], sizeof v->s);
    hu_shm_target(&v->s, v->target, sizeof v->target);
    int lease = v->s.lease_tid && now <= v->s.lease_until && hu_shm_alive(v->s.lease_pid, v->s.lease_tid);
    v->prober = lease ? v->s.lease_pid : 0;
    v->state = v->s.state != HU_SLOT_FAILING ? "ok" : lease ? "probing" : "failing";
    hu_shm_waiting(m, i, &v->waiting, &v->procs);
    struct sockaddr_storage ss;
    slot_addr(&v->s, &ss);
    const hu_rule *r = hu_policy_match(p, NULL, (struct sockaddr *)&ss, v->s.port);
    v->budget_left = hu_shm_budget_left(m, now, r->budget_pct, r->budget_min);
    v->failing_ms = v->s.state == HU_SLOT_FAILING ? (long)(now - v->s.failing_since) : 0;
}

static json_t *view_json(const struct view *v)
{
    json_t *gu = json_object();
    for (int k = 0; k < HU_GU_N; k++)
        json_object_set_new(gu, hu_giveup_names[k], json_integer((json_int_t)v->s.gave_up[k]));
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:o, s:I}", "target", v->target,
                          "state", v->state, "prober_pid", v->prober, "waiting", (int)v->waiting,
                          "waiting_processes", (int)v->procs, "tries", (json_int_t)v->s.tries,
                          "retries", (json_int_t)v->s.retries, "probe_waits", (json_int_t)v->s.probe_waits,
                          "recovered", (json_int_t)v->s.recovered, "gave_up", gu,
                          "failing_ms", (json_int_t)v->failing_ms);
    json_object_set_new(o, "budget_left", v->budget_left < 0 ? json_null() : json_integer(v->budget_left));
    json_object_set_new(o, "last_errno", v->s.last_errno > 0 ? json_string(hu_errno_name(v->s.last_errno))
                                                             : json_null());
    return o;
}

static int show_status(const struct sopts *o, const hu_policy *p)
{
    char path[4096];
    const char *why = NULL;
    struct hu_shm *m = open_shared(o, path, sizeof path, &why);
    if (!m) {
        fprintf(stderr, "hostup: no shared state at %s: %s\n", path, why);
        return EX_NOINPUT;
    }
    int64_t now = hu_shm_now_ms();
    uint64_t first, retries;
    hu_shm_window(m, now / 1000, &first, &retries);
    json_t *arr = o->json ? json_array() : NULL;
    int n = 0;
    if (!o->json) {
        printf("shared state: %s (window %d s: %llu first tries, %llu retries; %llu refused by the budget)\n",
               path, HU_SHM_WINDOW, (unsigned long long)first, (unsigned long long)retries,
               (unsigned long long)m->budget_refused);
        printf("%-24s %-8s %7s %7s %7s %7s %9s %8s %-14s\n", "TARGET", "STATE", "PROBER", "WAITING",
               "TRIES", "RECOV", "GAVE_UP", "BUDGET", "LAST ERROR");
    }
    for (unsigned i = 0; i < HU_SHM_SLOTS; i++) {
        if (!__atomic_load_n(&m->slots[i].key, __ATOMIC_ACQUIRE))
            continue;
        struct view v;
        view_of(m, i, p, now, &v);
        n++;
        if (o->json) {
            json_array_append_new(arr, view_json(&v));
            continue;
        }
        char prober[24] = "-", budget[24] = "off";
        uint64_t gave = 0;
        for (int k = 0; k < HU_GU_N; k++)
            gave += v.s.gave_up[k];
        if (v.prober)
            snprintf(prober, sizeof prober, "%d", v.prober);
        if (v.budget_left >= 0)
            snprintf(budget, sizeof budget, "%ld", v.budget_left);
        printf("%-24s %-8s %7s %7u %7llu %7llu %9llu %8s %-14s\n", v.target, v.state, prober, v.waiting,
               (unsigned long long)v.s.tries, (unsigned long long)v.s.recovered,
               (unsigned long long)gave, budget, v.s.last_errno > 0 ? hu_errno_name(v.s.last_errno) : "-");
    }
    if (o->json) {
        hu_cli_put_json(json_pack("{s:s, s:i, s:{s:I, s:I, s:I}, s:o}", "file", path, "window_s", HU_SHM_WINDOW,
                                  "budget", "first_tries", (json_int_t)first, "retries", (json_int_t)retries,
                                  "refused", (json_int_t)m->budget_refused, "targets", arr));
    } else if (!n) {
        printf("(no target has failed)\n");
    }
    fflush(stdout);
    hu_shm_close(m);
    return 0;
}

/* Options, and the policy whose budget numbers apply to each target (the
 * environment's, as the library would read it), for body; its exit status. */
static int with_policy(int argc, char **argv, int metrics,
                       int (*body)(const struct sopts *o, const hu_policy *p))
{
    struct sopts o = {0};
    if (parse(argc, argv, &o, metrics) < 0)
        return EX_USAGE;
    hu_policy *p = hu_policy_parse(getenv(HOSTUP_ENV_POLICY));
    if (!p)
        return EX_SOFTWARE;
    int rc = body(&o, p);
    hu_policy_free(p);
    return rc;
}

static int status_body(const struct sopts *o, const hu_policy *p)
{
    int rc;
    for (;;) {
        if (o->watch && !o->json && isatty(1))
            fputs("\033[H\033[2J", stdout);
        rc = show_status(o, p);
        if (!o->watch)
            break;
        usleep((useconds_t)(o->every * 1e6));
    }
    return rc;
}

int cmd_status(int argc, char **argv)
{
    return with_policy(argc, argv, 0, status_body);
}

/* ---- metrics ----------------------------------------------------------- */

struct buf { char *p; size_t n, cap; };

__attribute__((format(printf, 2, 3))) static void out(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)(k > 0 ? k : 0) + 1;
        char *np = realloc(b->p, cap);
        if (!np)
            return;
        b->p = np;
        b->cap = cap;
    }
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The Prometheus text format (version 0.0.4) of every counter. */
static void render(struct buf *b, const struct sopts *o, const hu_policy *p)
{
    char path[4096];
    const char *why = NULL;
    struct hu_shm *m = open_shared(o, path, sizeof path, &why);
    family(b, "hostup_shared_up", "gauge", "1 when the shared state file could be read.");
    out(b, "hostup_shared_up %d\n", m != NULL);
    if (!m)
        return;
    int64_t now = hu_shm_now_ms();
    struct view *vs = calloc(HU_SHM_SLOTS, sizeof *vs);
    unsigned nv = 0;
    for (unsigned i = 0; vs && i < HU_SHM_SLOTS; i++)
        if (__atomic_load_n(&m->slots[i].key, __ATOMIC_ACQUIRE))
            view_of(m, i, p, now, &vs[nv++]);
    uint64_t first, retries;
    hu_shm_window(m, now / 1000, &first, &retries);
    family(b, "hostup_budget_window_first_tries", "gauge", "First tries in the budget window (10 s), all processes.");
    out(b, "hostup_budget_window_first_tries %llu\n", (unsigned long long)first);
    family(b, "hostup_budget_window_retries", "gauge", "Retries charged in the budget window (10 s), all processes.");
    out(b, "hostup_budget_window_retries %llu\n", (unsigned long long)retries);
    family(b, "hostup_budget_refused_total", "counter", "Retries refused because the budget was spent.");
    out(b, "hostup_budget_refused_total %llu\n", (unsigned long long)m->budget_refused);
#define PER(name, type, help, expr)                                        \
    family(b, name, type, help);                                           \
    for (unsigned i = 0; i < nv; i++)                                      \
        out(b, name "{target=\"%s\"} %llu\n", vs[i].target, (unsigned long long)(expr));
    PER("hostup_tries_total", "counter", "Connect tries made after the target had failed.", vs[i].s.tries)
    PER("hostup_retries_total", "counter", "Of those, retries (not first tries).", vs[i].s.retries)
    PER("hostup_probe_waits_total", "counter", "Tries skipped because another process probed the target.",
        vs[i].s.probe_waits)
    PER("hostup_recovered_total", "counter", "Connects that succeeded after a failure.", vs[i].s.recovered)
    PER("hostup_waiting", "gauge", "Connects waiting for the target's prober now.", vs[i].waiting)
    PER("hostup_waiting_processes", "gauge", "Processes among them.", vs[i].procs)
    PER("hostup_target_failing", "gauge", "1 while the target is failing.", vs[i].s.state == HU_SLOT_FAILING)
#undef PER
    family(b, "hostup_gave_up_total", "counter", "Connects that gave up, by reason (attempts, deadline, budget, error).");
    for (unsigned i = 0; i < nv; i++)
        for (int k = 0; k < HU_GU_N; k++)
            out(b, "hostup_gave_up_total{target=\"%s\",reason=\"%s\"} %llu\n", vs[i].target, hu_giveup_names[k],
                (unsigned long long)vs[i].s.gave_up[k]);
    family(b, "hostup_time_to_recover_seconds", "histogram",
           "Time from a connect call to its success after a failure.");
    for (unsigned i = 0; i < nv; i++) {
        uint64_t cum = 0;
        for (int k = 0; k < HU_SHM_HIST; k++) {
            cum += vs[i].s.hist[k];
            if (k < HU_SHM_HIST - 1)
                out(b, "hostup_time_to_recover_seconds_bucket{target=\"%s\",le=\"%g\"} %llu\n", vs[i].target,
                    hu_shm_hist_ms[k] / 1000.0, (unsigned long long)cum);
            else
                out(b, "hostup_time_to_recover_seconds_bucket{target=\"%s\",le=\"+Inf\"} %llu\n", vs[i].target,
                    (unsigned long long)cum);
        }
        out(b, "hostup_time_to_recover_seconds_sum{target=\"%s\"} %.3f\n", vs[i].target,
            (double)vs[i].s.hist_sum_ms / 1000.0);
        out(b, "hostup_time_to_recover_seconds_count{target=\"%s\"} %llu\n", vs[i].target,
            (unsigned long long)cum);
    }
    free(vs);
    hu_shm_close(m);
}

static int write_textfile(const char *path, const struct buf *b)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f || fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0) {
        fprintf(stderr, "hostup: %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        return EX_SOFTWARE;
    }
    if (rename(tmp, path) != 0) {   /* node_exporter never sees half a file */
        fprintf(stderr, "hostup: %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return EX_SOFTWARE;
    }
    return 0;
}

static int serve(const char *addr, const struct sopts *o, const hu_policy *p)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535) {
        fprintf(stderr, "hostup: --listen needs ADDR:PORT, as in 127.0.0.1:9464\n");
        return EX_USAGE;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "hostup: --listen: '%s' is not an IPv4 address\n", host);
        return EX_USAGE;
    }
    int one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 16) != 0) {
        fprintf(stderr, "hostup: --listen %s: %s\n", addr, strerror(errno));
        return EX_UNAVAILABLE;
    }
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "hostup: serving metrics on http://%s/metrics\n", addr);
    for (;;) {
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        struct timeval tv = {2, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct hu_http_request req;     /* http_request.c */
        hu_http_request_init(&req);
        for (;;) {
            size_t room;
            char *at = hu_http_request_space(&req, &room);
            ssize_t k = read(c, at, room);
            if (hu_http_request_add(&req, k > 0 ? (size_t)k : 0))
                break;
        }
        struct buf b = {0};
        const char *status = "200 OK";
        if (hu_http_request_wants_metrics(&req))
            render(&b, o, p);
        else {
            status = "404 Not Found";
            out(&b, "try /metrics\n");
        }
        char head[256];
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, b.n);
        if (write(c, head, (size_t)hn) == hn && b.n)
            (void)!write(c, b.p, b.n);
        free(b.p);
        close(c);
    }
}

static int metrics_body(const struct sopts *o, const hu_policy *p)
{
    if (o->listen)
        return serve(o->listen, o, p);
    int rc = 0;
    struct buf b = {0};
    render(&b, o, p);
    if (o->textfile)
        rc = write_textfile(o->textfile, &b);
    else if (b.n)
        fwrite(b.p, 1, b.n, stdout);
    free(b.p);
    return rc;
}

int cmd_metrics(int argc, char **argv)
{
    return with_policy(argc, argv, 1, metrics_body);
}
