/* HOSTUP_POLICY parsing and rule matching.
 *
 * Text form:  SELECTOR [key=value | off] ... ; SELECTOR ... ; ...
 * A rule that does not parse is dropped whole (a half-applied rule would
 * surprise more than a missing one) and described in policy->errors. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hostup/policy.h"
#include "policy_internal.h"

#define MAX_ATTEMPTS 1000
#define MAX_DURATION_MS (24u * 3600u * 1000u)

static void set_bit64(uint64_t *bits, int n) { bits[n / 64] |= 1ull << (n % 64); }
static int get_bit64(const uint64_t *bits, int n) { return (bits[n / 64] >> (n % 64)) & 1; }

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

/* ---- small parsers ------------------------------------------------------ */

int hu_parse_duration(const char *s, unsigned *ms, const char **why)
{
    char *end;
    /* digits with at most one '.', then the unit: no hex, no exponents */
    size_t digits = strspn(s, "0123456789."), dots = 0;
    for (size_t i = 0; i < digits; i++)
        dots += s[i] == '.';
    if (!isdigit((unsigned char)s[0]) || dots > 1 || (s[digits] && !isalpha((unsigned char)s[digits]))) {
        *why = "not a duration (a number with ms, s or m)";
        return -1;
    }
    errno = 0;
    double v = strtod(s, &end);
    if (end != s + digits) {
        *why = "not a duration (a number with ms, s or m)";
        return -1;
    }
    double scale;
    if (end == s || errno) {
        *why = "not a duration (a number with ms, s or m)";
        return -1;
    }
    if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "s") == 0)
        scale = 1000;
    else if (strcmp(end, "m") == 0)
        scale = 60000;
    else {
        *why = *end ? "unknown unit (use ms, s or m)" : "missing unit (use ms, s or m)";
        return -1;
    }
    v *= scale;
    if (!(v <= MAX_DURATION_MS)) {
        *why = "longer than 24 hours";
        return -1;
    }
    *ms = (unsigned)(v + 0.5);
    if (v > 0 && *ms == 0)
        *ms = 1;    /* a tiny non-zero bound must not turn into "none" */
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "20%", "10/s": a whole number up to max, then exactly unit */
static int parse_with_unit(const char *s, const char *unit, unsigned long max, unsigned long *out)
{
    size_t l = strlen(s), u = strlen(unit);
    char num[16];
    if (l <= u || l - u >= sizeof num || strcmp(s + l - u, unit) != 0)
        return -1;
    memcpy(num, s, l - u);
    num[l - u] = '\0';
    return parse_uint(num, max, out);
}

int hu_parse_cidr(const char *s, int *family, unsigned char addr[16],
                  unsigned *prefix, const char **why)
{
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf) {
        *why = "address too long";
        return -1;
    }
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, buf, addr) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, buf, addr) == 1)
        *family = AF_INET6;
    else {
        *why = "not an IP address";
        return -1;
    }
    unsigned max = *family == AF_INET ? 32 : 128;
    unsigned long p = max;
    if (slash && parse_uint(slash + 1, max, &p) < 0) {
        *why = *family == AF_INET ? "prefix length must be 0 to 32"
                                  : "prefix length must be 0 to 128";
        return -1;
    }
    *prefix = (unsigned)p;
    return 0;
}

static int parse_ports(const char *s, hu_selector *sel, const char **why)
{
    unsigned long lo, hi;
    const char *dash = strchr(s, '-');
    char buf[16];
    if (dash) {
        size_t n = (size_t)(dash - s);
        if (n == 0 || n >= sizeof buf)
            goto bad;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (parse_uint(buf, 65535, &lo) < 0 || parse_uint(dash + 1, 65535, &hi) < 0)
            goto bad;
    } else {
        if (parse_uint(s, 65535, &lo) < 0)
            goto bad;
        hi = lo;
    }
    if (lo == 0 || hi < lo)
        goto bad;
    sel->port_lo = (unsigned)lo;
    sel->port_hi = (unsigned)hi;
    return 0;
bad:
    *why = "port must be N or LO-HI, from 1 to 65535";
    return -1;
}

static int valid_host_pattern(const char *h)
{
    if (!*h)
        return 0;
    for (const char *p = h; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-._*?", *p))
            return 0;
    return 1;
}

int hu_parse_selector(const char *s, hu_selector *sel, const char **why)
{
    char buf[512];
    size_t n = strlen(s);
    memset(sel, 0, sizeof *sel);
    if (n == 0 || n >= sizeof buf) {
        *why = n ? "selector too long" : "empty selector";
        return -1;
    }
    memcpy(buf, s, n + 1);

    if (buf[0] == '/') {
        while (n > 1 && buf[n - 1] == '/')
            buf[--n] = '\0';
        sel->kind = HU_SEL_PATH;
        sel->pattern = strdup(buf);
        return sel->pattern ? 0 : -1;
    }

    char *host = buf, *port = NULL;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close) {
            *why = "missing ']' after IPv6 address";
            return -1;
        }
        *close = '\0';
        host = buf + 1;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1]) {
            *why = "unexpected text after ']'";
            return -1;
        }
    } else {
        char *colon = strchr(buf, ':');
        if (colon && strchr(colon + 1, ':')) {
            *why = "IPv6 addresses need brackets, as in [fd00::1]:5432";
            return -1;
        }
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
    }
    if (port && parse_ports(port, sel, why) < 0)
        return -1;

    if (strcmp(host, "*") == 0) {
        sel->kind = HU_SEL_ANY;
        return 0;
    }
    int is_v6 = buf[0] == '[';
    int looks_numeric = is_v6 || strchr(host, '/') ||
                        strspn(host, "0123456789.") == strlen(host);
    if (looks_numeric) {
        if (hu_parse_cidr(host, &sel->family, sel->addr, &sel->prefix, why) < 0)
            return -1;
        if (is_v6 != (sel->family == AF_INET6)) {
            *why = "IPv6 addresses need brackets, as in [fd00::1]:5432";
            return -1;
        }
        sel->kind = strchr(host, '/') ? HU_SEL_CIDR : HU_SEL_ADDR;
        return 0;
    }
    if (!valid_host_pattern(host)) {
        *why = "not a host name, address, CIDR or path";
        return -1;
    }
    size_t hl = strlen(host);
    if (hl > 1 && host[hl - 1] == '.')
        host[hl - 1] = '\0';
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    sel->kind = HU_SEL_HOST;
    sel->pattern = strdup(host);
    return sel->pattern ? 0 : -1;
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

/* Apply one key=value (or "off") to r.  On error *why is set and *bad
 * points to the offending part of the token. */
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
    const char *v = eq + 1;
#define KEY(k) (klen == sizeof(k) - 1 && strncmp(tok, k, klen) == 0)
    if (KEY("attempts")) {
        unsigned long n;
        if (parse_uint(v, MAX_ATTEMPTS, &n) < 0 || n < 1) {
            *why = "attempts must be a whole number from 1 to 1000";
            return -1;
        }
        r->attempts = (unsigned)n;
    } else if (KEY("timeout")) {
        if (hu_parse_duration(v, &r->timeout_ms, why) < 0)
            return -1;
    } else if (KEY("deadline")) {
        if (hu_parse_duration(v, &r->deadline_ms, why) < 0)
            return -1;
    } else if (KEY("backoff")) {
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
    } else if (KEY("multiplier")) {
        char *end;
        double m = strtod(v, &end);
        if (end == v || *end || !(m >= 1.0 && m <= 100.0)) {
            *why = "multiplier must be a number from 1 to 100";
            return -1;
        }
        r->multiplier = m;
    } else if (KEY("jitter")) {
        if (strcmp(v, "full") == 0)
            r->jitter = HU_JITTER_FULL;
        else if (strcmp(v, "equal") == 0)
            r->jitter = HU_JITTER_EQUAL;
        else if (strcmp(v, "decorrelated") == 0)
            r->jitter = HU_JITTER_DECORRELATED;
        else if (strcmp(v, "none") == 0)
            r->jitter = HU_JITTER_NONE;
        else {
            *why = "jitter must be full, equal, decorrelated or none";
            return -1;
        }
    } else if (KEY("so_error")) {
        if (strcmp(v, "einprogress") == 0)
            r->so_error_zero = 0;
        else if (strcmp(v, "zero") == 0)
            r->so_error_zero = 1;
        else {
            *why = "so_error must be einprogress or zero";
            return -1;
        }
    } else if (KEY("retry_on")) {
        return parse_retry_on(r, v, why);
    } else if (KEY("budget")) {
        unsigned long n;
        if (strcmp(v, "off") == 0) {
            r->budget_pct = -1;
        } else if (parse_with_unit(v, "%", 1000, &n) == 0) {
            r->budget_pct = (int)n;
        } else {
            *why = "budget must be N% (0 to 1000) or off";
            return -1;
        }
    } else if (KEY("budget_min")) {
        unsigned long n;
        if (parse_with_unit(v, "/s", 100000, &n) < 0) {
            *why = "budget_min must be N/s (0 to 100000)";
            return -1;
        }
        r->budget_min = (unsigned)n;
    } else {
        *why = "unknown option (attempts, timeout, deadline, backoff, multiplier, jitter, retry_on, so_error, budget, budget_min, off)";
        return -1;
    }
#undef KEY
    return 0;
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
    hu_rule *nr = realloc(p->rules, (p->nrules + 1) * sizeof *nr);
    if (!nr)
        return -1;
    p->rules = nr;
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

/* ---- matching ------------------------------------------------------------ */

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
