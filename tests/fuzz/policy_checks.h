/* SPDX-License-Identifier: MIT */
/* Properties of a parsed policy, shared by fuzz_policy.c and fuzz_config.c:
 * errors are complete, hu_rule_describe behaves like snprintf, matching
 * never returns a path rule for a network target (nor the reverse), and
 * every rule that names one literal target matches it (or an earlier rule
 * does). */
#ifndef HOSTUP_FUZZ_POLICY_CHECKS_H
#define HOSTUP_FUZZ_POLICY_CHECKS_H

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "hostup/policy.h"
#include "fuzz_common.h"

static uint32_t hash(const uint8_t *d, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 16777619u;
    return h;
}

static void check_describe(const hu_rule *r)
{
    char big[4096], small[64];
    size_t n = hu_rule_describe(r, big, sizeof big);
    FUZZ_CHECK(n < sizeof big);
    FUZZ_CHECK(strlen(big) == n);
    static const size_t lens[] = {1, 2, 7, 40, sizeof small};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(small, 'Z', sizeof small);
        FUZZ_CHECK(hu_rule_describe(r, small, lens[i]) == n);
        size_t want = n < lens[i] - 1 ? n : lens[i] - 1;
        FUZZ_CHECK(strlen(small) == want);
        FUZZ_CHECK(memcmp(small, big, want) == 0);
    }
    small[0] = 'Z';
    FUZZ_CHECK(hu_rule_describe(r, small, 0) == n);
    FUZZ_CHECK(small[0] == 'Z');
}

static long rule_index(const hu_policy *p, const hu_rule *r)
{
    if (r == &p->defaults)
        return -1;
    FUZZ_CHECK(r >= p->rules && r < p->rules + p->nrules);
    return (long)(r - p->rules);
}

/* Each rule naming one literal target is reached by that target. */
static void check_self_match(const hu_policy *p)
{
    /* each match scans the rules before: the first 64 and every 16th
     * after them keep a long policy from costing n^2 */
    for (size_t i = 0; i < p->nrules; i += i < 64 ? 1 : 16) {
        const hu_rule *r = &p->rules[i];
        const hu_selector *s = &r->sel;
        unsigned port = s->port_lo;     /* 0: any port, any will do */
        const hu_rule *m = NULL;
        if (s->kind == HU_SEL_ANY) {
            m = hu_policy_match(p, NULL, NULL, port);
        } else if (s->kind == HU_SEL_HOST) {
            size_t n = strlen(s->pattern);
            if (n == 0 || n >= 256 || s->pattern[n - 1] == '.')
                continue;
            m = hu_policy_match(p, s->pattern, NULL, port);
        } else if (s->kind == HU_SEL_ADDR || s->kind == HU_SEL_CIDR) {
            struct sockaddr_storage ss;
            memset(&ss, 0, sizeof ss);
            if (s->family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                memcpy(&a->sin_addr, s->addr, 4);
            } else {
                FUZZ_CHECK(s->family == AF_INET6);
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                memcpy(&a->sin6_addr, s->addr, 16);
            }
            m = hu_policy_match(p, NULL, (struct sockaddr *)&ss, port);
        } else if (s->kind == HU_SEL_PATH) {
            m = hu_policy_match_path(p, s->pattern);
            FUZZ_CHECK(m != NULL);
        }
        long k = rule_index(p, m);
        FUZZ_CHECK(k >= 0 && (size_t)k <= i);
    }
}

static void check_errors(const hu_policy *p)
{
    for (size_t i = 0; i < p->nerrors; i++) {
        const hu_policy_error *e = &p->errors[i];
        FUZZ_CHECK(e->source && e->text && e->reason);
        FUZZ_CHECK(e->rule >= 0 && e->line >= 0 && e->column >= 0);
        FUZZ_CHECK(e->reason[0] != '\0');
    }
}

static void fuzz_policy_checks(const hu_policy *p, const char *host, const char *path, uint32_t h)
{
    unsigned port = h & 0xffff;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6, mapped;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    v4.sin_family = AF_INET;
    memcpy(&v4.sin_addr, &h, 4);
    v6.sin6_family = AF_INET6;
    for (int i = 0; i < 16; i += 4)
        memcpy(&v6.sin6_addr.s6_addr[i], &h, 4);
    v6.sin6_addr.s6_addr[0] = 0xfd;
    mapped = v6;
    memset(mapped.sin6_addr.s6_addr, 0, 10);
    mapped.sin6_addr.s6_addr[10] = mapped.sin6_addr.s6_addr[11] = 0xff;
    /* the host part as an address too, when it is one */
    struct sockaddr_in hv4 = v4;
    struct sockaddr_in6 hv6 = v6;
    int have_hv4 = inet_pton(AF_INET, host, &hv4.sin_addr) == 1;
    int have_hv6 = inet_pton(AF_INET6, host, &hv6.sin6_addr) == 1;

    const hu_rule *seen[16];
    size_t ns = 0;
    seen[ns++] = hu_policy_match(p, host, NULL, port);
    seen[ns++] = hu_policy_match(p, host, NULL, 0);
    seen[ns++] = hu_policy_match(p, NULL, NULL, port);
    seen[ns++] = hu_policy_match(p, host, (struct sockaddr *)&v4, port);
    seen[ns++] = hu_policy_match(p, NULL, (struct sockaddr *)&v6, port);
    seen[ns++] = hu_policy_match(p, host, (struct sockaddr *)&mapped, port);
    if (have_hv4)
        seen[ns++] = hu_policy_match(p, NULL, (struct sockaddr *)&hv4, port);
    if (have_hv6)
        seen[ns++] = hu_policy_match(p, NULL, (struct sockaddr *)&hv6, port);
    for (size_t i = 0; i < ns; i++) {
        FUZZ_CHECK(seen[i] != NULL);
        FUZZ_CHECK(seen[i]->sel.kind != HU_SEL_PATH);
        rule_index(p, seen[i]);
    }
    const hu_rule *pr = hu_policy_match_path(p, path);
    if (pr) {
        FUZZ_CHECK(pr->sel.kind == HU_SEL_PATH);
        rule_index(p, pr);
    }
    static const int errs[] = {INT_MIN, -1, 0, 1, EHOSTUNREACH, ESTALE, HU_ERRNO_MAX - 1,
                               HU_ERRNO_MAX, HU_ERRNO_MAX + 1, INT_MAX};
    static const int eais[] = {INT_MIN + 1, -HU_EAI_MAX - 1, -HU_EAI_MAX, -HU_EAI_MAX + 1, EAI_AGAIN,
                               EAI_NONAME, -1, 0, 1, INT_MAX};
    for (size_t i = 0; i <= p->nrules; i++) {
        const hu_rule *r = i < p->nrules ? &p->rules[i] : &p->defaults;
        FUZZ_CHECK(r->text != NULL);
        FUZZ_CHECK(r->attempts >= 1 && r->attempts <= 1000);
        FUZZ_CHECK(r->backoff_first_ms <= r->backoff_cap_ms);
        FUZZ_CHECK(r->multiplier >= 1.0 && r->multiplier <= 100.0);
        for (size_t j = 0; j < sizeof errs / sizeof errs[0]; j++)
            hu_rule_retries_errno(r, errs[j]);
        for (size_t j = 0; j < sizeof eais / sizeof eais[0]; j++)
            hu_rule_retries_eai(r, eais[j]);
        /* describing costs most of a run: every rule's kind reaches the
         * first places, so the first 8, the defaults and a sample do */
        if (i < 8 || i == p->nrules || (i + h) % 32 == 0)
            check_describe(r);
    }
    check_self_match(p);
    check_errors(p);
}

#endif
