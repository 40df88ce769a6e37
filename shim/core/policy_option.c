/* SPDX-License-Identifier: MIT */
/* A rule's options, key=value or "off" (policy_internal.h): each key has
 * its own setter; a value out of range is refused with the reason. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostup/policy.h"
#include "policy_internal.h"

#define MAX_ATTEMPTS 1000

/* "20%", "10/s": a whole number up to max, then exactly unit */
static int parse_with_unit(const char *s, const char *unit, unsigned long max, unsigned long *out)
{
    size_t l = strlen(s), u = strlen(unit);
    char num[16];
    if (l <= u || l - u >= sizeof num || strcmp(s + l - u, unit) != 0)
        return -1;
    memcpy(num, s, l - u);
    num[l - u] = '\0';
    return hu_parse_uint(num, max, out);
}

/* retry_on=NAME|NAME...; a leading '+' keeps the defaults. */
static int parse_retry_on(hu_rule *r, const char *v, const char **why)
{
    if (*v == '+')
        v++;
    else {
        memset(r->retry_errno, 0, sizeof r->retry_errno);
        r->retry_eai = 0;
    }
    char buf[1024];
    size_t n = strlen(v);
    if (n == 0 || n >= sizeof buf) {
        *why = "expected NAME|NAME... (errno or EAI names)";
        return -1;
    }
    memcpy(buf, v, n + 1);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        int e;
        if ((e = hu_eai_from_name(tok)) != 0 && -e < HU_EAI_MAX)
            r->retry_eai |= 1u << -e;
        else if ((e = hu_errno_from_name(tok)) != 0)
            set_bit64(r->retry_errno, e);
        else {
            *why = "unknown errno or EAI name";
            return -1;
        }
    }
    return 0;
}

static int set_attempts(hu_rule *r, const char *v, const char **why)
{
    unsigned long n;
    if (hu_parse_uint(v, MAX_ATTEMPTS, &n) < 0 || n < 1) {
        *why = "attempts must be a whole number from 1 to 1000";
        return -1;
    }
    r->attempts = (unsigned)n;
    return 0;
}

static int set_timeout(hu_rule *r, const char *v, const char **why)
{
    return hu_parse_duration(v, &r->timeout_ms, why);
}

static int set_deadline(hu_rule *r, const char *v, const char **why)
{
    return hu_parse_duration(v, &r->deadline_ms, why);
}

/* backoff=FIRST..CAP */
static int set_backoff(hu_rule *r, const char *v, const char **why)
{
    const char *dots = strstr(v, "..");
    char first[32];
    unsigned a, b;
    if (!dots || (size_t)(dots - v) >= sizeof first) {
        *why = "backoff must be FIRST..CAP, as in 100ms..5s";
        return -1;
    }
    memcpy(first, v, (size_t)(dots - v));
    first[dots - v] = '\0';
    if (hu_parse_duration(first, &a, why) < 0 || hu_parse_duration(dots + 2, &b, why) < 0)
        return -1;
    if (a > b) {
        *why = "backoff FIRST is larger than CAP";
        return -1;
    }
    r->backoff_first_ms = a;
    r->backoff_cap_ms = b;
    return 0;
}

static int set_multiplier(hu_rule *r, const char *v, const char **why)
{
    char *end;
    double m = strtod(v, &end);
    if (end == v || *end || !(m >= 1.0 && m <= 100.0)) {
        *why = "multiplier must be a number from 1 to 100";
        return -1;
    }
    r->multiplier = m;
    return 0;
}

static int set_jitter(hu_rule *r, const char *v, const char **why)
{
    static const struct { const char *name; enum hu_jitter jitter; } names[] = {
        {"full", HU_JITTER_FULL}, {"equal", HU_JITTER_EQUAL},
        {"decorrelated", HU_JITTER_DECORRELATED}, {"none", HU_JITTER_NONE},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i].name) == 0) {
            r->jitter = names[i].jitter;
            return 0;
        }
    *why = "jitter must be full, equal, decorrelated or none";
    return -1;
}

static int set_so_error(hu_rule *r, const char *v, const char **why)
{
    if (strcmp(v, "einprogress") == 0)
        r->so_error_zero = 0;
    else if (strcmp(v, "zero") == 0)
        r->so_error_zero = 1;
    else {
        *why = "so_error must be einprogress or zero";
        return -1;
    }
    return 0;
}

static int set_budget(hu_rule *r, const char *v, const char **why)
{
    unsigned long n;
    if (strcmp(v, "off") == 0) {
        r->budget_pct = -1;
    } else if (parse_with_unit(v, "%", 1000, &n) == 0) {
        r->budget_pct = (int)n;
    } else {
        *why = "budget must be N% (0 to 1000) or off";
        return -1;
    }
    return 0;
}

static int set_budget_min(hu_rule *r, const char *v, const char **why)
{
    unsigned long n;
    if (parse_with_unit(v, "/s", 100000, &n) < 0) {
        *why = "budget_min must be N/s (0 to 100000)";
        return -1;
    }
    r->budget_min = (unsigned)n;
    return 0;
}

static const struct {
    const char *key;
    int (*set)(hu_rule *r, const char *value, const char **why);
} options[] = {
    {"attempts", set_attempts}, {"timeout", set_timeout}, {"deadline", set_deadline},
    {"backoff", set_backoff}, {"multiplier", set_multiplier}, {"jitter", set_jitter},
    {"so_error", set_so_error}, {"retry_on", parse_retry_on}, {"budget", set_budget},
    {"budget_min", set_budget_min},
};

/* Apply one key=value (or "off") to r.  On error *why is set. */
int hu_rule_apply_option(hu_rule *r, const char *tok, const char **why)
{
    if (strcmp(tok, "off") == 0) {
        r->off = 1;
        return 0;
    }
    const char *eq = strchr(tok, '=');
    if (!eq) {
        *why = "expected key=value or 'off'";
        return -1;
    }
    size_t klen = (size_t)(eq - tok);
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strlen(options[i].key) == klen && strncmp(tok, options[i].key, klen) == 0)
            return options[i].set(r, eq + 1, why) < 0 ? -1 : 0;
    *why = "unknown option (attempts, timeout, deadline, backoff, multiplier, jitter, retry_on, so_error, budget, budget_min, off)";
    return -1;
}
