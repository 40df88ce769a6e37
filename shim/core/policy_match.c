/* SPDX-License-Identifier: MIT */
/* Rule matching: the first rule whose selector takes a host, address and
 * port, or a path; and a rule's effective values as text. */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "hostup/policy.h"
#include "policy_internal.h"

static int addr_in(const hu_selector *sel, const struct sockaddr *sa)
{
    const unsigned char *a;
    unsigned char mapped[16];
    int fam = sa->sa_family;
    if (fam == AF_INET) {
        a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (fam == AF_INET6) {
        a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        /* ::ffff:a.b.c.d matches IPv4 rules, as the user means the same host */
        static const unsigned char v4pfx[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};
        if (sel->family == AF_INET && memcmp(a, v4pfx, 12) == 0) {
            memcpy(mapped, a + 12, 4);
            a = mapped;
            fam = AF_INET;
        }
    } else
        return 0;
    if (fam != sel->family)
        return 0;
    unsigned full = sel->prefix / 8, rest = sel->prefix % 8;
    if (memcmp(a, sel->addr, full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((a[full] & mask) != (sel->addr[full] & mask))
            return 0;
    }
    return 1;
}

static int host_match(const char *pattern, const char *host)
{
    size_t n = strlen(host);
    char buf[256];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, host, n + 1);
    if (n > 1 && buf[n - 1] == '.')
        buf[n - 1] = '\0';
    return fnmatch(pattern, buf, FNM_CASEFOLD) == 0;
}

const hu_rule *hu_policy_match(const hu_policy *p, const char *host,
                               const struct sockaddr *sa, unsigned port)
{
    for (size_t i = 0; i < p->nrules; i++) {
        const hu_rule *r = &p->rules[i];
        const hu_selector *s = &r->sel;
        if (s->port_lo && (port < s->port_lo || port > s->port_hi))
            continue;
        switch (s->kind) {
        case HU_SEL_ANY:
            return r;
        case HU_SEL_HOST:
            if (host && host_match(s->pattern, host))
                return r;
            break;
        case HU_SEL_ADDR:
        case HU_SEL_CIDR:
            if (sa && addr_in(s, sa))
                return r;
            break;
        case HU_SEL_PATH:
            break;
        }
    }
    return &p->defaults;
}

const hu_rule *hu_policy_match_path(const hu_policy *p, const char *path)
{
    for (size_t i = 0; i < p->nrules; i++) {
        const hu_rule *r = &p->rules[i];
        if (r->sel.kind != HU_SEL_PATH)
            continue;
        size_t n = strlen(r->sel.pattern);
        if (strncmp(path, r->sel.pattern, n) == 0 &&
            (path[n] == '\0' || path[n] == '/' || (n == 1 && r->sel.pattern[0] == '/')))
            return r;
    }
    return NULL;
}

static const char *jitter_name(enum hu_jitter j)
{
    switch (j) {
    case HU_JITTER_FULL: return "full";
    case HU_JITTER_EQUAL: return "equal";
    case HU_JITTER_DECORRELATED: return "decorrelated";
    case HU_JITTER_NONE: return "none";
    }
    return "?";
}

/* 90000 -> "90s", 1500 -> "1500ms", 120000 -> "2m": the shortest exact form */
static const char *dur(unsigned ms, char *b, size_t n)
{
    if (ms && ms % 60000 == 0)
        snprintf(b, n, "%um", ms / 60000);
    else if (ms && ms % 1000 == 0)
        snprintf(b, n, "%us", ms / 1000);
    else
        snprintf(b, n, "%ums", ms);
    return b;
}

size_t hu_rule_describe(const hu_rule *r, char *buf, size_t len)
{
    char d1[24], d2[24];
    size_t n = 0;
#define OUT(...) do { int k = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__); \
                      if (k > 0) n += (size_t)k; } while (0)
    if (r->off) {
        OUT("off");
        return n;
    }
    OUT("attempts=%u timeout=%s", r->attempts, r->timeout_ms ? dur(r->timeout_ms, d1, sizeof d1) : "none");
    OUT(" deadline=%s", r->deadline_ms ? dur(r->deadline_ms, d1, sizeof d1) : "none");
    OUT(" backoff=%s..%s multiplier=%g jitter=%s so_error=%s", dur(r->backoff_first_ms, d1, sizeof d1),
        dur(r->backoff_cap_ms, d2, sizeof d2), r->multiplier, jitter_name(r->jitter),
        r->so_error_zero ? "zero" : "einprogress");
    OUT(" retry_on=");
    const char *sep = "";
    for (int e = 1; e < HU_ERRNO_MAX; e++)
        if (get_bit64(r->retry_errno, e)) {
            OUT("%s%s", sep, hu_errno_name(e));
            sep = "|";
        }
    for (int e = 1; e < HU_EAI_MAX; e++)
        if ((r->retry_eai >> e) & 1) {
            OUT("%s%s", sep, hu_eai_name(-e));
            sep = "|";
        }
    if (r->budget_pct < 0)
        OUT(" budget=off");
    else
        OUT(" budget=%d%%", r->budget_pct);
    OUT(" budget_min=%u/s", r->budget_min);
#undef OUT
    return n;
}
