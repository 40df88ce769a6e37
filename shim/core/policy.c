/* SPDX-License-Identifier: MIT */
/* Policies: the default rules, HOSTUP_POLICY's text form, the errors a
 * policy collects, and its lifetime.  Selectors and values are parsed in
 * policy_parse.c, options in policy_option.c, matching in policy_match.c;
 * HOSTUP_CONFIG (JSON) in config.c.
 *
 * Text form:  SELECTOR [key=value | off] ... ; SELECTOR ... ; ...
 * A rule that does not parse is dropped whole (a half-applied rule would
 * surprise more than a missing one) and described in policy->errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostup/policy.h"
#include "policy_internal.h"

void hu_rule_defaults(hu_rule *r)
{
    memset(r, 0, sizeof *r);
    r->sel.kind = HU_SEL_ANY;
    r->text = (char *)"(defaults)";
    /* bench/results/recovery.md: with 8 tries (waits 10 s on average) no
     * client outlived a 20 s outage; 40 tries capped at 2 s with equal
     * jitter reached 99.5 % within 1.8 s (p99) of the service's return,
     * with 20-30 % fewer tries than full jitter at the same cap */
    r->attempts = 40;
    r->timeout_ms = 0;
    r->deadline_ms = 30000;
    r->backoff_first_ms = 200;
    r->backoff_cap_ms = 2000;
    r->multiplier = 2.0;
    r->jitter = HU_JITTER_EQUAL;
    /* Linkerd's and Finagle's retry budget: 20 % of requests plus 10/s */
    r->budget_pct = 20;
    r->budget_min = 10;
    hu_rule_default_retry_on(r);
}

void hu_rule_default_retry_on(hu_rule *r)
{
    memset(r->retry_errno, 0, sizeof r->retry_errno);
    set_bit64(r->retry_errno, EHOSTDOWN);
    set_bit64(r->retry_errno, EHOSTUNREACH);
    set_bit64(r->retry_errno, ENETUNREACH);
    r->retry_eai = 1u << -EAI_AGAIN;
}

void hu_rule_volume_retry_on(hu_rule *r)
{
    memset(r->retry_errno, 0, sizeof r->retry_errno);
    r->retry_eai = 0;
    set_bit64(r->retry_errno, ESTALE);
    set_bit64(r->retry_errno, EHOSTDOWN);
    set_bit64(r->retry_errno, EHOSTUNREACH);
    set_bit64(r->retry_errno, ETIMEDOUT);
    set_bit64(r->retry_errno, ENOTCONN);
}

void hu_rule_volume_defaults(hu_rule *r)
{
    hu_rule_defaults(r);
    r->text = (char *)"(volume defaults)";
    hu_rule_volume_retry_on(r);
}

int hu_rule_retries_errno(const hu_rule *r, int err)
{
    return !r->off && err > 0 && err < HU_ERRNO_MAX && get_bit64(r->retry_errno, err);
}

int hu_rule_retries_eai(const hu_rule *r, int eai)
{
    return !r->off && eai < 0 && -eai < HU_EAI_MAX && ((r->retry_eai >> -eai) & 1);
}

/* ---- whole policies ----------------------------------------------------- */

static void push_error(hu_policy *p, const char *source, int rule, int line, int column,
                       const char *text, size_t textlen, const char *reason, const char *action)
{
    hu_policy_error *e = realloc(p->errors, (p->nerrors + 1) * sizeof *e);
    if (!e)
        return;
    p->errors = e;
    e += p->nerrors;
    e->rule = rule;
    e->line = line;
    e->column = column;
    e->action = action;
    e->source = strdup(source);
    e->text = strndup(text, textlen);
    e->reason = strdup(reason);
    if (!e->source || !e->text || !e->reason) {
        free(e->source);
        free(e->text);
        free(e->reason);
        return;
    }
    p->nerrors++;
}

void hu_policy_add_error(hu_policy *p, const char *source, int rule, int line,
                         int column, const char *text, size_t textlen, const char *reason)
{
    /* 100 KB of garbage must not become hundreds of records */
    if (p->nerrors >= HU_MAX_ERRORS) {
        if (!p->more_source)
            p->more_source = strdup(source);
        p->nerrors_more++;
        return;
    }
    push_error(p, source, rule, line, column, text, textlen, reason, NULL);
}

void hu_policy_add_limit_error(hu_policy *p, const char *source, const char *reason,
                               const char *action)
{
    push_error(p, source, 0, 0, 0, "", 0, reason, action);
}

int hu_policy_rule_room(hu_policy *p)
{
    if (p->nrules < HU_MAX_RULES)
        return 1;
    p->nrules_skipped++;
    return 0;
}

void hu_policy_report_rule_cap(hu_policy *p, const char *source, size_t skipped_before)
{
    size_t n = p->nrules_skipped - skipped_before;
    if (!n)
        return;
    char reason[200];
    snprintf(reason, sizeof reason, "more than %d rules in all: %zu rule%s not read",
             HU_MAX_RULES, n, n == 1 ? "" : "s");
    hu_policy_add_limit_error(p, source, reason, "the first 10000 rules apply");
}

int hu_policy_push_rule(hu_policy *p, const hu_rule *r)
{
    /* the array doubles when full (its size: the next power of two); one
     * rule more each time made 10,000 rules cost 50 million rule copies
     * wherever realloc copies (11 s under ASan; found by fuzz_policy) */
    size_t n = p->nrules;
    if ((n & (n - 1)) == 0) {   /* 0, 1, 2, 4, ...: full */
        hu_rule *nr = realloc(p->rules, (n ? 2 * n : 1) * sizeof *nr);
        if (!nr)
            return -1;
        p->rules = nr;
    }
    p->rules[p->nrules++] = *r;
    return 0;
}

void hu_rule_release(hu_rule *r)
{
    free(r->sel.pattern);
    free(r->text);
    r->sel.pattern = r->text = NULL;
}

static int is_sep(char c) { return c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r'; }

/* Parse one rule from [s, s+len).  base is the column of s in the whole
 * policy text (0-based). */
static void parse_rule(hu_policy *p, const char *s, size_t len, size_t base, int number)
{
    hu_rule r;
    const char *why = NULL;
    char tok[1100];
    size_t i = 0, tokstart = 0;
    hu_rule_defaults(&r);
    r.number = number;
    r.text = strndup(s, len);
    if (!r.text)
        return;

    int first = 1;
    while (i < len) {
        while (i < len && is_sep(s[i]))
            i++;
        if (i >= len)
            break;
        tokstart = i;
        while (i < len && !is_sep(s[i]))
            i++;
        size_t tl = i - tokstart;
        if (tl >= sizeof tok) {
            why = "option too long";
            goto fail;
        }
        memcpy(tok, s + tokstart, tl);
        tok[tl] = '\0';
        if (first) {
            first = 0;
            if (strchr(tok, '=') || strcmp(tok, "off") == 0) {
                why = "a rule starts with a selector: host[:port], address, CIDR, path or *";
                goto fail;
            }
            if (hu_parse_selector(tok, &r.sel, &why) < 0)
                goto fail;
            if (r.sel.kind == HU_SEL_PATH)
                hu_rule_volume_retry_on(&r);
        } else if (hu_rule_apply_option(&r, tok, &why) < 0) {
            goto fail;
        }
    }
    if (hu_policy_push_rule(p, &r) < 0)
        hu_rule_release(&r);
    return;
fail:;
    char reason[1300];
    snprintf(reason, sizeof reason, "'%.*s': %s", (int)(i - tokstart), s + tokstart, why);
    hu_policy_add_error(p, "HOSTUP_POLICY", number, 1, (int)(base + tokstart + 1), s, len, reason);
    hu_rule_release(&r);
}

hu_policy *hu_policy_new(void)
{
    hu_policy *p = calloc(1, sizeof *p);
    if (p)
        hu_rule_defaults(&p->defaults);
    return p;
}

hu_policy *hu_policy_parse(const char *text)
{
    hu_policy *p = hu_policy_new();
    if (!p)
        return NULL;
    size_t n = text ? strnlen(text, HU_MAX_INPUT + 1) : 0;
    if (n > HU_MAX_INPUT) {
        hu_policy_add_limit_error(p, "HOSTUP_POLICY", "longer than 256 KiB (262144 bytes)",
                                  "HOSTUP_POLICY ignored; HOSTUP_CONFIG and the defaults apply");
        n = 0;
    }
    size_t start = 0;
    int number = 0;
    for (size_t i = 0; i < n + (n > 0); i++) {
        if (i < n && text[i] != ';')
            continue;
        /* trim and skip empty rules, so "a; ; b;" is fine */
        size_t a = start, b = i;
        while (a < b && is_sep(text[a]))
            a++;
        while (b > a && is_sep(text[b - 1]))
            b--;
        if (b > a && hu_policy_rule_room(p))
            parse_rule(p, text + a, b - a, a, ++number);
        start = i + 1;
    }
    hu_policy_report_rule_cap(p, "HOSTUP_POLICY", 0);
    hu_policy_finish(p);
    return p;
}

void hu_policy_finish(hu_policy *p)
{
    memcpy(p->any_errno, p->defaults.retry_errno, sizeof p->any_errno);
    p->any_eai = p->defaults.retry_eai;
    p->any_timeout = 0;
    for (size_t i = 0; i < p->nrules; i++) {
        const hu_rule *r = &p->rules[i];
        if (r->sel.kind == HU_SEL_PATH)
            continue;   /* file calls keep their own set (volume.c) */
        for (size_t w = 0; w < HU_ERRNO_MAX / 64; w++)
            p->any_errno[w] |= r->retry_errno[w];
        p->any_eai |= r->retry_eai;
        if (r->timeout_ms && !r->off && r->sel.kind != HU_SEL_PATH)
            p->any_timeout = 1;
    }
}

void hu_policy_free(hu_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nrules; i++)
        hu_rule_release(&p->rules[i]);
    for (size_t i = 0; i < p->nerrors; i++) {
        free(p->errors[i].source);
        free(p->errors[i].text);
        free(p->errors[i].reason);
    }
    free(p->rules);
    free(p->errors);
    free(p->more_source);
    free(p);
}
