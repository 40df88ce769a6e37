/* SPDX-License-Identifier: MIT */
/* The policy's small parsers (hostup/policy.h, policy_internal.h):
 * durations, whole numbers, addresses with a prefix, ports, and the
 * selector that starts every rule. */
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

#define MAX_DURATION_MS (24u * 3600u * 1000u)

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

int hu_parse_uint(const char *s, unsigned long max, unsigned long *out)
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
    if (slash && hu_parse_uint(slash + 1, max, &p) < 0) {
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
        if (hu_parse_uint(buf, 65535, &lo) < 0 || hu_parse_uint(dash + 1, 65535, &hi) < 0)
            goto bad;
    } else {
        if (hu_parse_uint(s, 65535, &lo) < 0)
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
