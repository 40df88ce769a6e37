/* SPDX-License-Identifier: MIT */
/* getaddrinfo() and gethostbyname*(): retry the whole lookup when its
 * result is retryable for the matched rule (EAI_AGAIN by default), and
 * remember which name produced which address for connect()'s rules.
 * glibc's own DNS traffic never passes through our connect (it calls a
 * hidden __connect), so a lookup can only be retried as a whole call. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diagnosis.h"
#include "core/offline.h"
#include "core/shared.h"
#include "hostup/hostup.h"
#include "engine/init.h"
#include "engine/lookup.h"
#include "engine/names.h"
#include "engine/retry.h"
#include "sys/real.h"
#include "core/log.h"

#define RESOLV_CONF "/etc/resolv.conf"

typedef int (*lookup_fn)(void *ctx);   /* returns 0 or an EAI_* code */

static int eai_in(uint32_t mask, int rc)
{
    return rc < 0 && -rc < HU_EAI_MAX && ((mask >> -rc) & 1);
}

static unsigned service_port(const char *service)
{
    if (!service)
        return 0;
    char *end;
    unsigned long v = strtoul(service, &end, 10);
    if (end != service && !*end)
        return v <= 65535 ? (unsigned)v : 0;
    struct servent se, *res = NULL;
    char buf[1024];
    if (getservbyname_r(service, "tcp", &se, buf, sizeof buf, &res) == 0 && res)
        return ntohs((uint16_t)res->s_port);
    return 0;
}

/* One lookup call being retried: what its records say. */
struct lookup_call {
    const char *op, *node;
    unsigned port;
    const hu_rule *r;
    int64_t t0, try_start;      /* the call began; the last try began */
    int retry_eai;              /* the code of its retry records: an outcome
                                 * carries the count of those folded */
};

static void log_lookup(const struct lookup_call *k, const char *event, int rc, unsigned attempt,
                       long delay, int reason)
{
    if (!hu_log_enabled())
        return;
    int64_t now = hu_now_ms();
    long try_ms = rc ? (long)(now - k->try_start) : 0;
    const hu_rule *r = k->r;
    hu_event ev = {.event = event, .op = k->op, .host = k->node, .port = k->port, .eai = rc,
                   .err = rc == EAI_SYSTEM ? errno : 0, .attempt = attempt,
                   .attempts = r->attempts, .delay_ms = delay, .elapsed_ms = (long)(now - k->t0),
                   .rule = r, .backtrace = 1,
                   .reason = reason >= 0 ? hu_giveup_names[reason] : NULL};
    /* log storms: a recovered (no code of its own) or a gave_up is admitted
     * under its retries' code, whose folded count it carries */
    hu_event key = ev;
    if (k->retry_eai && strcmp(event, HOSTUP_EV_RETRY) != 0) {
        key.eai = k->retry_eai;
        key.err = 0;
    }
    if ((ev.suppressed = hu_log_admit(&key)) < 0)
        return;
    if (rc)
        ev.diagnosis = hu_diagnose_lookup(k->node, rc, try_ms, RESOLV_CONF);
    if (rc == EAI_AGAIN && r->timeout_ms && try_ms >= (long)r->timeout_ms &&
        strcmp(k->op, "getaddrinfo") == 0 && ev.diagnosis) {
        /* the try was cut by the rule's timeout= (see lookup.c) */
        char cause[96];
        snprintf(cause, sizeof cause, "DNS server did not answer within the rule's timeout (%u ms)",
                 r->timeout_ms);
        json_object_set_new(ev.diagnosis, "cause", json_string(cause));
    }
    if (reason == HU_GU_NO_NETWORK) {
        char ns[256];
        if (hu_probe_nameservers(RESOLV_CONF, ns, sizeof ns) != 0)
            ns[0] = '\0';
        hu_offline_explain(ev.diagnosis, ns);
    }
    if (rc)
        hu_diag_add_env(ev.diagnosis, NULL);
    hu_log_event(&ev);
}

/* Called under the guard after a first lookup failed with rc at t0.  Where
 * no nameserver can ever be reached (only loopback here, core/offline.h),
 * the first EAI_AGAIN is final, as it is without hostup: one record. */
static int lookup_retry(const char *op, const char *node, unsigned port, int rc,
                        int64_t t0, lookup_fn fn, void *ctx)
{
    struct lookup_call k = {op, node, port, hu_policy_match(hu_policy_get(), node, NULL, port),
                            t0, t0, 0};
    const hu_rule *r = k.r;
    int64_t end = r->deadline_ms ? t0 + r->deadline_ms : 0;
    hu_backoff bo;
    hu_backoff_init(&bo);
    for (unsigned attempt = 1;; attempt++) {
        int64_t now = hu_now_ms();
        if (!hu_rule_retries_eai(r, rc)) {
            if (attempt > 1)
                log_lookup(&k, HOSTUP_EV_GAVE_UP, rc, attempt, -1, HU_GU_ERROR);
            return rc;
        }
        if (rc == EAI_AGAIN && hu_offline_nameservers(RESOLV_CONF)) {
            log_lookup(&k, HOSTUP_EV_GAVE_UP, rc, attempt, -1, HU_GU_NO_NETWORK);
            return rc;
        }
        unsigned delay = attempt < r->attempts ? hu_backoff_next(r, &bo, hu_thread_rng()) : 0;
        if (attempt >= r->attempts || (end && now + delay >= end)) {
            log_lookup(&k, HOSTUP_EV_GAVE_UP, rc, attempt, -1,
                       attempt >= r->attempts ? HU_GU_ATTEMPTS : HU_GU_DEADLINE);
            return rc;
        }
        log_lookup(&k, HOSTUP_EV_RETRY, rc, attempt, delay, -1);
        k.retry_eai = rc;
        /* a lookup is not interrupted by signals in libc either: the
         * handler runs, then the wait goes on */
        hu_backoff_wait(delay, 0);
        k.try_start = hu_now_ms();
        rc = fn(ctx);
        if (rc == 0) {
            log_lookup(&k, HOSTUP_EV_RECOVERED, 0, attempt + 1, -1, -1);
            return 0;
        }
    }
}

/* ---- getaddrinfo ---- */

struct gai_ctx {
    const char *node, *service;
    const struct addrinfo *hints;
    struct addrinfo **res;
    unsigned timeout_ms;    /* the rule's timeout=: bounds each try; 0: libc's own */
    int timed_out;          /* the last try was cut at timeout_ms */
    hu_lookup *pending;     /* that try's look-up, still running */
};

static int gai_call(void *p)
{
    struct gai_ctx *c = p;
    if (c->timeout_ms)
        return hu_getaddrinfo_bounded(c->node, c->service, c->hints, c->res, c->timeout_ms,
                                      &c->pending, &c->timed_out);
    return hu_real.getaddrinfo(c->node, c->service, c->hints, c->res);
}

/* After a first try: the answer remembered, or the failure retried if a
 * rule says so; the look-up a cut try left running dropped. */
static int gai_after(struct gai_ctx *c, int rc, int64_t t0)
{
    int saved = errno;
    hu_guard++;
    if (rc == 0) {
        if (*c->res)
            hu_names_remember_ai(c->node, *c->res);
    } else if (eai_in(hu_policy_get()->any_eai, rc)) {
        rc = lookup_retry("getaddrinfo", c->node, service_port(c->service), rc, t0, gai_call, c);
        if (rc == 0 && *c->res)
            hu_names_remember_ai(c->node, *c->res);
        saved = rc == EAI_SYSTEM ? errno : saved;
    }
    hu_lookup_drop(c->pending);
    hu_guard--;
    errno = saved;
    return rc;
}

/* The slow path from its start: a rule with timeout= (anywhere in the
 * policy) bounds each try of a name's lookup; or the first try failed. */
static __attribute__((noinline)) int gai_slow(const char *node, const char *service,
                                              const struct addrinfo *hints,
                                              struct addrinfo **res, int rc, int64_t t0)
{
    struct gai_ctx c = {node, service, hints, res, 0, 0, NULL};
    if (rc == 0 && !hu_is_numeric_host(node)) {     /* not tried yet */
        int saved = errno;
        hu_guard++;
        const hu_rule *r = hu_policy_match(hu_policy_get(), node, NULL, service_port(service));
        if (!r->off)
            c.timeout_ms = r->timeout_ms;
        hu_guard--;
        errno = saved;
    }
    if (rc == 0)
        rc = gai_call(&c);
    return gai_after(&c, rc, t0);
}

/* The healthy path is the real call, a clock read (a retry's deadline
 * counts from here) and the name memory's check that it holds the answer
 * (which keeps errno and takes the guard when it has to write). */
__attribute__((visibility("default")))
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    hu_ensure_bound();
    if (HU_UNLIKELY(!hu_real.getaddrinfo)) {
        errno = ENOSYS;
        return EAI_SYSTEM;
    }
    if (hu_guard || !node || !res)
        return hu_real.getaddrinfo(node, service, hints, res);
    int64_t t0 = hu_now_ms();
    if (HU_UNLIKELY(hu_policy_get()->any_timeout))
        return gai_slow(node, service, hints, res, 0, t0);
    int rc = hu_real.getaddrinfo(node, service, hints, res);
    if (HU_UNLIKELY(rc != 0))
        return gai_slow(node, service, hints, res, rc, t0);
    if (*res)
        hu_names_remember_ai(node, *res);
    return 0;
}

/* ---- gethostbyname family ---- */

static int herr_to_eai(int h)
{
    switch (h) {
    case TRY_AGAIN: return EAI_AGAIN;
    case HOST_NOT_FOUND: return EAI_NONAME;
    case NO_RECOVERY: return EAI_FAIL;
    case NO_DATA: return EAI_NODATA;
    default: return EAI_FAIL;
    }
}

struct ghbn_ctx {
    const char *name;
    int v2, af;             /* v2: the gethostbyname2 forms, with af */
    struct hostent *ret;    /* non-reentrant result */
    /* reentrant forms */
    struct hostent *he;
    char *buf;
    size_t buflen;
    struct hostent **result;
    int *h_errnop;
    int r_rc;               /* return value of the _r call */
};

static int ghbn_call(void *p)
{
    struct ghbn_ctx *c = p;
    if (c->result) {
        c->r_rc = c->v2 ? hu_real.gethostbyname2_r(c->name, c->af, c->he, c->buf, c->buflen,
                                                   c->result, c->h_errnop)
                        : hu_real.gethostbyname_r(c->name, c->he, c->buf, c->buflen,
                                                  c->result, c->h_errnop);
        if (*c->result)
            return 0;
        return c->r_rc == ERANGE ? EAI_OVERFLOW : herr_to_eai(*c->h_errnop);
    }
    c->ret = c->v2 ? hu_real.gethostbyname2(c->name, c->af) : hu_real.gethostbyname(c->name);
    return c->ret ? 0 : herr_to_eai(h_errno);
}

/* Shared body: first call, then the retry loop if the failure qualifies. */
static int ghbn_run(struct ghbn_ctx *c, const char *op)
{
    int64_t t0 = hu_now_ms();
    int rc = ghbn_call(c);
    int saved = errno;
    if (rc != 0 && eai_in(hu_policy_get()->any_eai, rc)) {
        hu_guard++;
        int h = c->h_errnop ? *c->h_errnop : h_errno;
        rc = lookup_retry(op, c->name, 0, rc, t0, ghbn_call, c);
        if (rc)     /* the program sees the last try's h_errno */
            h = c->h_errnop ? *c->h_errnop : h_errno;
        hu_guard--;
        if (rc) {
            if (c->h_errnop)
                *c->h_errnop = h;
            else
                h_errno = h;
        }
    }
    if (rc == 0 && !hu_is_numeric_host(c->name)) {
        hu_guard++;
        hu_names_remember_hostent(c->name, c->result ? *c->result : c->ret);
        hu_guard--;
    }
    errno = saved;
    return rc;
}

#define GHBN_PROLOGUE(fn, ...)                                     \
    hu_ensure_bound();                                             \
    if (HU_UNLIKELY(!hu_real.fn)) {                                \
        errno = ENOSYS;                                            \
        return __VA_ARGS__;                                        \
    }

__attribute__((visibility("default")))
struct hostent *gethostbyname(const char *name)
{
    GHBN_PROLOGUE(gethostbyname, NULL)
    if (hu_guard || !name)
        return hu_real.gethostbyname(name);
    struct ghbn_ctx c = {.name = name};
    ghbn_run(&c, "gethostbyname");
    return c.ret;
}

__attribute__((visibility("default")))
struct hostent *gethostbyname2(const char *name, int af)
{
    GHBN_PROLOGUE(gethostbyname2, NULL)
    if (hu_guard || !name)
        return hu_real.gethostbyname2(name, af);
    struct ghbn_ctx c = {.name = name, .v2 = 1, .af = af};
    ghbn_run(&c, "gethostbyname2");
    return c.ret;
}

__attribute__((visibility("default")))
int gethostbyname_r(const char *name, struct hostent *he, char *buf, size_t buflen,
                    struct hostent **result, int *h_errnop)
{
    GHBN_PROLOGUE(gethostbyname_r, ENOSYS)
    if (hu_guard || !name || !result || !h_errnop)
        return hu_real.gethostbyname_r(name, he, buf, buflen, result, h_errnop);
    struct ghbn_ctx c = {.name = name, .he = he, .buf = buf, .buflen = buflen,
                         .result = result, .h_errnop = h_errnop};
    ghbn_run(&c, "gethostbyname_r");
    return c.r_rc;
}

__attribute__((visibility("default")))
int gethostbyname2_r(const char *name, int af, struct hostent *he, char *buf, size_t buflen,
                     struct hostent **result, int *h_errnop)
{
    GHBN_PROLOGUE(gethostbyname2_r, ENOSYS)
    if (hu_guard || !name || !result || !h_errnop)
        return hu_real.gethostbyname2_r(name, af, he, buf, buflen, result, h_errnop);
    struct ghbn_ctx c = {.name = name, .v2 = 1, .af = af, .he = he, .buf = buf, .buflen = buflen,
                         .result = result, .h_errnop = h_errnop};
    ghbn_run(&c, "gethostbyname2_r");
    return c.r_rc;
}
