/* SPDX-License-Identifier: MIT */
/* hostup status: what the shared file (shared.h) says about each target,
 * for people (a table, --watch) and for programs (--json); and what it
 * shares with hostup metrics (status.h, metrics.c): options, the file, one
 * target's view. */
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
#include "common.h"
#include "hostup/hostup.h"
#include "hostup/policy.h"
#include "core/shared.h"
#include "sys/sysio.h"
#include "help.h"
#include "status.h"

/* --help: the exit status to return at once; else -1 to go on. */
static int parse(int argc, char **argv, struct sopts *o, const char *cmd)
{
    int metrics = strcmp(cmd, "metrics") == 0;
    o->every = 1.0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            hu_cli_help(cmd, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0 && !metrics)
            o->json = 1;
        else if (strcmp(a, "--prune") == 0 && !metrics)
            o->prune = 1;
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
            fprintf(stderr, "hostup: %s: %s '%s'\n", cmd, a[0] == '-' && a[1] ? "unknown or incomplete option"
                                                                              : "takes no arguments:", a);
            hu_cli_synopsis(cmd, stderr);
            return EX_USAGE;
        }
    }
    return -1;
}

/* the file: --file, else where the library would look from here */
struct hu_shm *hu_status_open(const struct sopts *o, char *path, size_t len, const char **why)
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

/* this process's pid namespace: a lease's pid means something only there */
static uint64_t my_pidns(void)
{
    struct stat st;
    return hu_sys_stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

void hu_status_view(const struct hu_shm *m, unsigned i, const hu_policy *p, int64_t now, struct view *v)
{
    memcpy(&v->s, &m->slots[i], sizeof v->s);
    hu_shm_target(&v->s, v->target, sizeof v->target);
    int lease = hu_shm_lease_alive(&v->s, now, my_pidns());
    v->prober = lease ? v->s.lease_pid : 0;
    v->state = v->s.state != HU_SLOT_FAILING ? "ok" : lease ? "probing" : "failing";
    hu_shm_waiting(m, i, &v->waiting, &v->procs);
    struct sockaddr_storage ss;
    slot_addr(&v->s, &ss);
    const hu_rule *r = hu_policy_match(p, NULL, (struct sockaddr *)&ss, v->s.port);
    v->budget_left = hu_shm_budget_left(m, now, r->budget_pct, r->budget_min);
    v->failing_ms = v->s.state == HU_SLOT_FAILING ? (long)(now - v->s.failing_since) : 0;
}

/* A u64 counter as JSON.  jansson's integers are int64_t: a counter above
 * INT64_MAX (a file written by something else, or wrapped) would show as a
 * negative number.  Such a value goes in as a marker string, a NUL and its
 * digits, that put_json() writes back as the bare number: no other string
 * in these documents can hold a NUL, as all come from C strings. */
#define U64_MARK "\"\\u0000u64:"
static json_t *ju64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char s[32];
    int n = snprintf(s, sizeof s, "%cu64:%llu", '\0', (unsigned long long)v);
    return json_stringn(s, (size_t)n);
}

/* hu_cli_put_json with the markers of ju64 turned back into numbers. */
static void put_json(json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!s) {
        puts("{}");
        return;
    }
    for (char *at = s, *m; (m = strstr(at, U64_MARK)) != NULL; at = m) {
        char *digits = m + strlen(U64_MARK), *end = digits + strspn(digits, "0123456789");
        if (*end != '"') {      /* not ours after all */
            m = digits;
            continue;
        }
        size_t nd = (size_t)(end - digits);
        memmove(m, digits, nd);
        memmove(m + nd, end + 1, strlen(end + 1) + 1);
        m += nd;
    }
    puts(s);
    free(s);
}

static json_t *view_json(const struct view *v)
{
    json_t *gu = json_object();
    for (int k = 0; k < HU_GU_N; k++)
        json_object_set_new(gu, hu_giveup_names[k], ju64(v->s.gave_up[k]));
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:I}", "target", v->target,
                          "state", v->state, "prober_pid", v->prober, "waiting", (int)v->waiting,
                          "waiting_processes", (int)v->procs, "tries", ju64(v->s.tries),
                          "retries", ju64(v->s.retries), "probe_waits", ju64(v->s.probe_waits),
                          "recovered", ju64(v->s.recovered), "gave_up", gu,
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
    struct hu_shm *m = hu_status_open(o, path, sizeof path, &why);
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
        hu_status_view(m, i, p, now, &v);
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
        put_json(json_pack("{s:s, s:i, s:{s:o, s:o, s:o}, s:o}", "file", path, "window_s", HU_SHM_WINDOW,
                           "budget", "first_tries", ju64(first), "retries", ju64(retries),
                           "refused", ju64(m->budget_refused), "targets", arr));
    } else if (!n) {
        printf("(no target has failed)\n");
    }
    fflush(stdout);
    hu_shm_close(m);
    return 0;
}

int hu_status_with_policy(int argc, char **argv, const char *cmd,
                          int (*body)(const struct sopts *o, const hu_policy *p))
{
    struct sopts o = {0};
    int rc = parse(argc, argv, &o, cmd);
    if (rc >= 0)
        return rc;
    hu_policy *p = hu_policy_parse(getenv(HOSTUP_ENV_POLICY));
    if (!p)
        return EX_SOFTWARE;
    rc = body(&o, p);
    hu_policy_free(p);
    return rc;
}

static void pruned(const char *path) { printf("removed %s\n", path); }

static int status_body(const struct sopts *o, const hu_policy *p)
{
    int rc;
    if (o->prune) {
        int n = hu_shm_prune(NULL, 0, 1, pruned);
        printf("%d unused shared file%s removed\n", n, n == 1 ? "" : "s");
        return 0;
    }
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
    return hu_status_with_policy(argc, argv, "status", status_body);
}

