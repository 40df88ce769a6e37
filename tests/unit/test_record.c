/* SPDX-License-Identifier: MIT */
/* Records (hu_record_new) and the first diagnosis of a failure. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netdb.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "hostup/hostup.h"
#include "core/diagnosis.h"
#include "core/log.h"
#include "suites.h"

static const char *str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_string(v), "\"%s\" is not a string", key);
    return json_string_value(v);
}

static json_int_t num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_integer(v), "\"%s\" is not an integer", key);
    return json_integer_value(v);
}

/* The object's keys, in order, joined by commas. */
static void assert_keys(const json_t *o, const char *want)
{
    char got[512] = "";
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (got[0])
            strcat(got, ",");
        strcat(got, k);
    }
    ck_assert_str_eq(got, want);
}

static struct sockaddr_in v4(const char *a, unsigned port)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
    return s;
}

/* ---- records --------------------------------------------------------------- */

static void assert_time_now(const char *t)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
                             REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&re, t, 0, NULL, 0);
    regfree(&re);
    ck_assert_msg(rc == 0, "time '%s' is not RFC 3339 UTC with milliseconds", t);
    struct tm tm = {0};
    ck_assert_ptr_nonnull(strptime(t, "%Y-%m-%dT%H:%M:%S", &tm));
    long diff = (long)(timegm(&tm) - time(NULL));
    ck_assert_msg(diff >= -5 && diff <= 1, "time '%s' is %ld s off", t, diff);
}

START_TEST(format_time)
{
    char buf[32];
    hu_format_time(buf, sizeof buf);
    ck_assert_uint_eq(strlen(buf), 24);
    assert_time_now(buf);
}
END_TEST

START_TEST(record_connect_retry)
{
    hu_policy *p = hu_policy_parse("db:5432 attempts=8");
    struct sockaddr_in sa = v4("10.0.0.5", 5432);
    json_t *diag = json_pack("{s:s, s:s}", "layer", "link", "cause", "test");
    hu_event ev = {
        .event = HOSTUP_EV_RETRY, .op = "connect", .host = "db",
        .addr = (const struct sockaddr *)&sa, .port = 5432, .err = EHOSTUNREACH,
        .attempt = 2, .attempts = 8, .delay_ms = 400, .elapsed_ms = 1234,
        .rule = &p->rules[0], .diagnosis = diag,
    };
    json_t *rec = hu_record_new(&ev);
    ck_assert_ptr_nonnull(rec);

    assert_keys(rec, "time,event,pid,program,op,host,addr,port,errno,error,attempt,"
                     "attempts,delay_ms,elapsed_ms,rule,diagnosis");
    assert_time_now(str(rec, "time"));
    ck_assert_str_eq(str(rec, "event"), "retry");
    ck_assert_int_eq(num(rec, "pid"), getpid());
    ck_assert_str_eq(str(rec, "program"), program_invocation_short_name);
    ck_assert_str_eq(str(rec, "op"), "connect");
    ck_assert_str_eq(str(rec, "host"), "db");
    ck_assert_str_eq(str(rec, "addr"), "10.0.0.5");
    ck_assert_int_eq(num(rec, "port"), 5432);
    ck_assert_str_eq(str(rec, "errno"), "EHOSTUNREACH");
    ck_assert_str_eq(str(rec, "error"), "No route to host");
    ck_assert_int_eq(num(rec, "attempt"), 2);
    ck_assert_int_eq(num(rec, "attempts"), 8);
    ck_assert_int_eq(num(rec, "delay_ms"), 400);
    ck_assert_int_eq(num(rec, "elapsed_ms"), 1234);
    ck_assert_str_eq(str(rec, "rule"), "db:5432 attempts=8");
    /* the diagnosis is the very object handed in (its reference is stolen) */
    ck_assert_ptr_eq(json_object_get(rec, "diagnosis"), diag);
    ck_assert_int_eq(diag->refcount, 1);
    ck_assert_str_eq(str(diag, "layer"), "link");

    char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ck_assert_int_eq(strncmp(line, "{\"time\":\"", 9), 0);
    ck_assert_ptr_null(strchr(line, '\n'));
    free(line);
    json_decref(rec);
    hu_policy_free(p);
}
END_TEST

START_TEST(record_gave_up_v6)
{
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", &sa.sin6_addr);
    hu_event ev = {
        .event = HOSTUP_EV_GAVE_UP, .op = "connect", .addr = (const struct sockaddr *)&sa,
        .port = 443, .err = ECONNREFUSED, .attempt = 4, .attempts = 4,
        .delay_ms = -1, .elapsed_ms = 9000,
    };
    json_t *rec = hu_record_new(&ev);
    assert_keys(rec, "time,event,pid,program,op,addr,port,errno,error,attempt,attempts,elapsed_ms");
    ck_assert_str_eq(str(rec, "event"), "gave_up");
    ck_assert_str_eq(str(rec, "addr"), "2001:db8::1");
    ck_assert_str_eq(str(rec, "errno"), "ECONNREFUSED");
    ck_assert_str_eq(str(rec, "error"), "Connection refused");
    ck_assert_ptr_null(json_object_get(rec, "delay_ms"));
    ck_assert_int_eq(num(rec, "attempt"), 4);
    ck_assert_int_eq(num(rec, "elapsed_ms"), 9000);
    json_decref(rec);

    ev.delay_ms = 0;    /* zero is a delay, not "none" */
    rec = hu_record_new(&ev);
    ck_assert_int_eq(num(rec, "delay_ms"), 0);
    json_decref(rec);
}
END_TEST

START_TEST(record_lookup)
{
    hu_event ev = {
        .event = HOSTUP_EV_RETRY, .op = "getaddrinfo", .host = "db.example",
        .eai = EAI_AGAIN, .attempt = 1, .attempts = 8, .delay_ms = 150, .elapsed_ms = 20,
    };
    json_t *rec = hu_record_new(&ev);
    assert_keys(rec, "time,event,pid,program,op,host,errno,error,attempt,attempts,delay_ms,elapsed_ms");
    ck_assert_str_eq(str(rec, "op"), "getaddrinfo");
    ck_assert_str_eq(str(rec, "host"), "db.example");
    ck_assert_str_eq(str(rec, "errno"), "EAI_AGAIN");
    ck_assert_str_eq(str(rec, "error"), gai_strerror(EAI_AGAIN));
    ck_assert_str_eq(str(rec, "error"), "Temporary failure in name resolution");
    json_decref(rec);
}
END_TEST

START_TEST(record_invalid_utf8_host)
{
    hu_event ev = {
        .event = HOSTUP_EV_RETRY, .op = "getaddrinfo", .host = "db\xff\xfe.example",
        .eai = EAI_NONAME, .attempt = 1, .attempts = 2, .delay_ms = -1,
    };
    json_t *rec = hu_record_new(&ev);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(str(rec, "host"), "db\\xff\\xfe.example");
    ck_assert_str_eq(str(rec, "errno"), "EAI_NONAME");
    char *line = json_dumps(rec, JSON_COMPACT);
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_nonnull(strstr(line, "\"host\":\"db\\\\xff\\\\xfe.example\""));
    free(line);
    json_decref(rec);
}
END_TEST

/* ---- hu_classify_connect ------------------------------------------------- */

static void assert_checklist(const json_t *d, const int *want, size_t n)
{
    const json_t *a = json_object_get(d, "checklist");
    ck_assert(json_is_array(a));
    ck_assert_uint_eq(json_array_size(a), n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(json_integer_value(json_array_get(a, i)), want[i]);
}

#define CHECKLIST(d, ...) do { static const int w_[] = {__VA_ARGS__}; \
        assert_checklist(d, w_, sizeof w_ / sizeof w_[0]); } while (0)

static hu_facts facts(const struct sockaddr_in *sa, int err)
{
    hu_facts f;
    memset(&f, 0, sizeof f);
    f.addr = (const struct sockaddr *)sa;
    f.port = ntohs(sa->sin_port);
    f.err = err;
    f.neigh_state = -1;
    return f;
}

static void unicast_route(hu_facts *f, const char *gateway, const char *dev)
{
    f->have_route = 1;
    f->route.found = 1;
    f->route.type = RTN_UNICAST;
    f->route.family = AF_INET;
    if (gateway) {
        f->route.has_gateway = 1;
        ck_assert_int_eq(inet_pton(AF_INET, gateway, f->route.gateway), 1);
    }
    snprintf(f->route.dev, sizeof f->route.dev, "%s", dev);
}

START_TEST(classify_no_route)
{
    struct sockaddr_in sa = v4("10.9.9.9", 5432);
    hu_facts f = facts(&sa, ENETUNREACH);
    f.have_route = 1;
    f.route.found = 1;
    f.route.no_route = 1;
    f.try_ms = 1;
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "route");
    ck_assert_str_eq(str(d, "cause"), "no route to the address");
    ck_assert_str_eq(str(d, "next"), "ip route get 10.9.9.9");
    CHECKLIST(d, 1, 4);
    json_t *ev = json_object_get(d, "evidence");
    assert_keys(ev, "route,try_ms");
    ck_assert_str_eq(str(ev, "route"), "none");
    ck_assert_int_eq(num(ev, "try_ms"), 1);
    json_decref(d);
}
END_TEST

START_TEST(classify_unreachable_route)
{
    struct sockaddr_in sa = v4("10.9.9.9", 80);
    hu_facts f = facts(&sa, EHOSTUNREACH);
    f.have_route = 1;
    f.route.found = 1;
    f.route.type = RTN_UNREACHABLE;
    f.route.family = AF_INET;
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "route");
    ck_assert_str_eq(str(d, "cause"), "the routing table has an unreachable route for the address");
    ck_assert_str_eq(str(json_object_get(d, "evidence"), "route"), "unreachable");
    ck_assert_ptr_null(json_object_get(json_object_get(d, "evidence"), "on_link"));
    CHECKLIST(d, 1, 4);
    json_decref(d);

    f.route.type = RTN_PROHIBIT;
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "cause"), "a prohibit route refuses the address");
    json_decref(d);
}
END_TEST

START_TEST(classify_on_link_arp_failed)
{
    struct sockaddr_in sa = v4("10.0.0.5", 5432);
    hu_facts f = facts(&sa, EHOSTUNREACH);
    unicast_route(&f, NULL, "eth0");
    f.have_neigh = 1;
    f.neigh_state = NUD_FAILED;
    f.try_ms = 3050;
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "link");
    ck_assert_str_eq(str(d, "cause"), "on-link host does not answer ARP/ND");
    ck_assert_str_eq(str(d, "next"), "ping -c 3 10.0.0.5");
    CHECKLIST(d, 1, 2, 3, 4);
    json_t *ev = json_object_get(d, "evidence");
    assert_keys(ev, "route,dev,on_link,neighbour,try_ms");
    ck_assert_str_eq(str(ev, "route"), "unicast");
    ck_assert_str_eq(str(ev, "dev"), "eth0");
    ck_assert(json_is_true(json_object_get(ev, "on_link")));
    ck_assert_str_eq(str(ev, "neighbour"), "10.0.0.5 FAILED");
    ck_assert_int_eq(num(ev, "try_ms"), 3050);
    json_decref(d);

    /* a reachable neighbour and a quick failure: not the link */
    f.neigh_state = NUD_REACHABLE;
    f.try_ms = 5;
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "host");
    ck_assert_str_eq(str(d, "cause"), "host unreachable");
    json_decref(d);
}
END_TEST

START_TEST(classify_gateway_arp_failed)
{
    struct sockaddr_in sa = v4("198.51.100.7", 443);
    hu_facts f = facts(&sa, EHOSTUNREACH);
    unicast_route(&f, "10.0.0.1", "eth0");
    f.have_neigh = 1;
    f.neigh_state = NUD_INCOMPLETE;
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "link");
    ck_assert_str_eq(str(d, "cause"), "the gateway 10.0.0.1 does not answer ARP/ND");
    json_t *ev = json_object_get(d, "evidence");
    ck_assert_str_eq(str(ev, "gateway"), "10.0.0.1");
    ck_assert(json_is_false(json_object_get(ev, "on_link")));
    ck_assert_str_eq(str(ev, "neighbour"), "10.0.0.1 INCOMPLETE");
    json_decref(d);
}
END_TEST

START_TEST(classify_icmp_from_router)
{
    struct sockaddr_in sa = v4("10.1.2.3", 5432);
    hu_facts f = facts(&sa, EHOSTUNREACH);
    unicast_route(&f, "10.0.0.1", "eth0");
    f.icmp.have = 1;
    f.icmp.origin = SO_EE_ORIGIN_ICMP;
    f.icmp.type = 3;
    f.icmp.code = 1;
    f.icmp.ee_errno = EHOSTUNREACH;
    strcpy(f.icmp.offender, "192.0.2.1");
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "host");
    ck_assert_str_eq(str(d, "cause"), "ICMP host unreachable from a router (192.0.2.1)");
    ck_assert_str_eq(str(json_object_get(d, "evidence"), "icmp"), "type 3 code 1 from 192.0.2.1");
    CHECKLIST(d, 1, 2, 5);
    json_decref(d);

    /* the same ICMP from the target itself points at its firewall */
    strcpy(f.icmp.offender, "10.1.2.3");
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "firewall");
    ck_assert_str_eq(str(d, "cause"), "the target itself answered ICMP host unreachable: "
                                      "a firewall on it rejects the port, or the service's host is stopping");
    json_decref(d);

    /* administratively prohibited */
    strcpy(f.icmp.offender, "192.0.2.1");
    f.icmp.code = 13;
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "firewall");
    ck_assert_str_eq(str(d, "cause"), "ICMP administratively prohibited (code 13) from 192.0.2.1");
    CHECKLIST(d, 6);
    json_decref(d);
}
END_TEST

/* Issue 19: IPv6 gets the classification IPv4 gets.  The kernel turns an
 * ICMPv6 "administratively prohibited" into EACCES: from a remote sender it
 * names that sender, as IPv4 does, rather than a local firewall; the
 * target's own unreachable is its firewall, also on the first try, whose
 * ICMP error is not queued yet (the target answers ND). */
START_TEST(classify_ipv6_like_ipv4)
{
    struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons(5432)};
    ck_assert_int_eq(inet_pton(AF_INET6, "2001:2::2", &sa6.sin6_addr), 1);
    hu_facts f = {.addr = (struct sockaddr *)&sa6, .port = 5432, .err = EACCES, .neigh_state = -1};
    f.have_route = f.route.found = 1;
    f.route.type = RTN_UNICAST;
    f.route.family = AF_INET6;
    f.route.has_gateway = 1;
    ck_assert_int_eq(inet_pton(AF_INET6, "2001:2::1", f.route.gateway), 1);
    snprintf(f.route.prefsrc, sizeof f.route.prefsrc, "2001:2:1::1");
    f.icmp.have = 1;
    f.icmp.origin = SO_EE_ORIGIN_ICMP6;
    f.icmp.type = 1;
    f.icmp.code = 1;
    f.icmp.ee_errno = EACCES;
    strcpy(f.icmp.offender, "2001:2::1");
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "firewall");
    ck_assert_str_eq(str(d, "cause"), "ICMPv6 administratively prohibited (code 1) from 2001:2::1");
    json_decref(d);
    /* reject-route (code 6) from the target itself */
    f.icmp.code = 6;
    strcpy(f.icmp.offender, "2001:2::2");
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "cause"), "ICMPv6 administratively prohibited (code 6) from 2001:2::2");
    json_decref(d);
    /* our own refusal stays the local firewall */
    f.icmp.have = 0;
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "cause"), "a local firewall or policy refused the connection");
    json_decref(d);

    /* address unreachable (code 3) from the target: its firewall */
    f.err = EHOSTUNREACH;
    f.icmp.have = 1;
    f.icmp.code = 3;
    f.icmp.ee_errno = EHOSTUNREACH;
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "firewall");
    json_decref(d);
    /* the same from a router: the host */
    strcpy(f.icmp.offender, "2001:2::1");
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "host");
    ck_assert_str_eq(str(d, "cause"), "ICMP host unreachable from a router (2001:2::1)");
    json_decref(d);
    /* on-link, answering ND, no ICMP queued yet (the first try) */
    f.icmp.have = 0;
    f.route.has_gateway = 0;
    f.have_neigh = 1;
    f.neigh_state = NUD_REACHABLE;
    f.try_ms = 2;
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "firewall");
    json_decref(d);
    /* ... and not answering ND: the link */
    f.neigh_state = NUD_FAILED;
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "link");
    json_decref(d);
}
END_TEST

START_TEST(classify_host_down)
{
    struct sockaddr_in sa = v4("10.0.0.5", 22);
    hu_facts f = facts(&sa, EHOSTDOWN);
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "host");
    ck_assert_str_eq(str(d, "cause"), "ICMP host unknown: the host is down");
    ck_assert_str_eq(str(d, "next"), "ping -c 3 10.0.0.5");
    CHECKLIST(d, 1, 2, 5);
    assert_keys(json_object_get(d, "evidence"), "try_ms");
    json_decref(d);

    f.icmp.have = 1;
    f.icmp.origin = SO_EE_ORIGIN_ICMP;
    f.icmp.type = 3;
    f.icmp.code = 7;
    strcpy(f.icmp.offender, "10.0.0.1");
    d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "cause"), "ICMP host unknown from 10.0.0.1: the host is down");
    json_decref(d);
}
END_TEST

START_TEST(classify_refused)
{
    struct sockaddr_in sa = v4("10.0.0.5", 5432);
    hu_facts f = facts(&sa, ECONNREFUSED);
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "service");
    ck_assert_str_eq(str(d, "cause"), "the host is up but nothing listens on port 5432");
    ck_assert_str_eq(str(d, "next"), "nc -vz 10.0.0.5 5432");
    CHECKLIST(d, 5);
    json_decref(d);
}
END_TEST

START_TEST(classify_timed_out)
{
    struct sockaddr_in sa = v4("10.0.0.5", 5432);
    hu_facts f = facts(&sa, ETIMEDOUT);
    f.try_ms = 127000;
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "firewall");
    ck_assert_str_eq(str(d, "cause"),
                     "no answer to the connection request: a firewall drops it, or the host is gone");
    ck_assert_str_eq(str(d, "next"), "nc -vz 10.0.0.5 5432");
    CHECKLIST(d, 6);
    ck_assert_int_eq(num(json_object_get(d, "evidence"), "try_ms"), 127000);
    json_decref(d);
}
END_TEST

/* hostup doctor --timeout 1s against a host that does not answer ARP: the
 * try times out with the neighbour INCOMPLETE (or, later, FAILED); that is
 * the link, with the same cause as the EHOSTUNREACH an ARP failure gives */
START_TEST(classify_timed_out_arp)
{
    struct sockaddr_in sa = v4("10.0.0.5", 5432);
    int states[] = {NUD_INCOMPLETE, NUD_FAILED};
    for (int i = 0; i < 2; i++) {
        hu_facts f = facts(&sa, ETIMEDOUT);
        unicast_route(&f, NULL, "eth0");
        f.have_neigh = 1;
        f.neigh_state = states[i];
        f.try_ms = 1000;
        json_t *d = hu_classify_connect(&f);
        ck_assert_str_eq(str(d, "layer"), "link");
        ck_assert_str_eq(str(d, "cause"), "on-link host does not answer ARP/ND");
        json_decref(d);
        unicast_route(&f, "10.0.0.1", "eth0");     /* behind a gateway that is gone */
        d = hu_classify_connect(&f);
        ck_assert_str_eq(str(d, "layer"), "link");
        ck_assert_str_eq(str(d, "cause"), "the gateway 10.0.0.1 does not answer ARP/ND");
        json_decref(d);
        f.neigh_state = NUD_REACHABLE;              /* ARP answered: a drop, not the link */
        d = hu_classify_connect(&f);
        ck_assert_str_eq(str(d, "layer"), "firewall");
        json_decref(d);
    }
}
END_TEST

START_TEST(classify_local_icmp)
{
    struct sockaddr_in sa = v4("10.0.0.5", 80);
    hu_facts f = facts(&sa, EHOSTUNREACH);
    f.icmp.have = 1;
    f.icmp.origin = SO_EE_ORIGIN_LOCAL;
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(json_object_get(d, "evidence"), "icmp"), "type 0 code 0 (ourselves)");
    ck_assert_str_eq(str(d, "layer"), "host");
    ck_assert_str_eq(str(d, "cause"), "host unreachable");
    json_decref(d);
}
END_TEST

START_TEST(classify_icmp_from_own_address)
{
    /* the kernel reports its own ARP failure as ICMP from our source
     * address: that is the link, not a router */
    struct sockaddr_in sa = v4("10.0.0.5", 5432);
    hu_facts f = facts(&sa, EHOSTUNREACH);
    unicast_route(&f, NULL, "eth0");
    strcpy(f.route.prefsrc, "10.0.0.9");
    f.have_neigh = 1;
    f.neigh_state = NUD_FAILED;
    f.icmp.have = 1;
    f.icmp.origin = SO_EE_ORIGIN_ICMP;
    f.icmp.type = 3;
    f.icmp.code = 1;
    strcpy(f.icmp.offender, "10.0.0.9");
    json_t *d = hu_classify_connect(&f);
    ck_assert_str_eq(str(d, "layer"), "link");
    ck_assert_str_eq(str(d, "cause"), "on-link host does not answer ARP/ND");
    ck_assert_str_eq(str(json_object_get(d, "evidence"), "icmp"), "type 3 code 1 from 10.0.0.9 (ourselves)");
    json_decref(d);
}
END_TEST

/* ---- hu_diagnose_lookup -------------------------------------------------- */

static char resolv_path[64];

static void write_resolv(const char *body)
{
    strcpy(resolv_path, "/tmp/hostup-resolv-XXXXXX");
    int fd = mkstemp(resolv_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    close(fd);
}

START_TEST(lookup_noname)
{
    write_resolv("# generated\nsearch example.com\nnameserver 10.0.0.2\n"
                 "  nameserver 2001:db8::53\noptions ndots:5\n#nameserver 9.9.9.9\n"
                 "nameservers 1.2.3.4\nnameserver5.6.7.8\n");
    json_t *d = hu_diagnose_lookup("db", EAI_NONAME, 12, resolv_path);
    unlink(resolv_path);
    ck_assert_str_eq(str(d, "layer"), "dns");
    ck_assert_str_eq(str(d, "cause"), "the name does not exist (NXDOMAIN); "
                                      "in compose, its service may not have started yet");
    ck_assert_str_eq(str(d, "next"), "nslookup db");
    CHECKLIST(d, 1, 4);
    json_t *ev = json_object_get(d, "evidence");
    assert_keys(ev, "nameservers,try_ms");
    ck_assert_str_eq(str(ev, "nameservers"), "10.0.0.2 2001:db8::53");
    ck_assert_int_eq(num(ev, "try_ms"), 12);
    json_decref(d);
}
END_TEST

START_TEST(lookup_again)
{
    write_resolv("nameserver 127.0.0.11\n");
    json_t *d = hu_diagnose_lookup("db", EAI_AGAIN, 5000, resolv_path);
    ck_assert_str_eq(str(d, "layer"), "dns");
    ck_assert_str_eq(str(d, "cause"), "DNS server did not answer in time");
    ck_assert_str_eq(str(json_object_get(d, "evidence"), "nameservers"), "127.0.0.11");
    json_decref(d);

    d = hu_diagnose_lookup("db", EAI_AGAIN, 30, resolv_path);
    ck_assert_str_eq(str(d, "cause"), "DNS server failure (SERVFAIL or refused)");
    json_decref(d);
    unlink(resolv_path);
}
END_TEST

START_TEST(lookup_resolv_edge_cases)
{
    write_resolv("search example.com\n");
    json_t *d = hu_diagnose_lookup("db", EAI_FAIL, 10, resolv_path);
    unlink(resolv_path);
    ck_assert_str_eq(str(json_object_get(d, "evidence"), "nameservers"), "none");
    ck_assert_str_eq(str(d, "cause"), "DNS server returned a non-recoverable failure");
    json_decref(d);

    /* no file: no nameservers key, the rest still there */
    d = hu_diagnose_lookup(NULL, EAI_NONAME, 10, "/nonexistent/resolv.conf");
    assert_keys(json_object_get(d, "evidence"), "try_ms");
    ck_assert_str_eq(str(d, "next"), "nslookup ");
    json_decref(d);
}
END_TEST

Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("record");
    tcase_add_test(tc, format_time);
    tcase_add_test(tc, record_connect_retry);
    tcase_add_test(tc, record_gave_up_v6);
    tcase_add_test(tc, record_lookup);
    tcase_add_test(tc, record_invalid_utf8_host);
    suite_add_tcase(s, tc);

    tc = tcase_create("classify");
    tcase_add_test(tc, classify_no_route);
    tcase_add_test(tc, classify_unreachable_route);
    tcase_add_test(tc, classify_on_link_arp_failed);
    tcase_add_test(tc, classify_gateway_arp_failed);
    tcase_add_test(tc, classify_icmp_from_router);
    tcase_add_test(tc, classify_ipv6_like_ipv4);
    tcase_add_test(tc, classify_host_down);
    tcase_add_test(tc, classify_refused);
    tcase_add_test(tc, classify_timed_out);
    tcase_add_test(tc, classify_timed_out_arp);
    tcase_add_test(tc, classify_local_icmp);
    tcase_add_test(tc, classify_icmp_from_own_address);
    suite_add_tcase(s, tc);

    tc = tcase_create("lookup");
    tcase_add_test(tc, lookup_noname);
    tcase_add_test(tc, lookup_again);
    tcase_add_test(tc, lookup_resolv_edge_cases);
    suite_add_tcase(s, tc);
    return s;
}
