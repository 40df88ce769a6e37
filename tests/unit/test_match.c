/* SPDX-License-Identifier: MIT */
/* hu_policy_match and hu_policy_match_path: which rule decides. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <check.h>

#include "hostup/policy.h"
#include "suites.h"

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
    return s;
}

static struct sockaddr_in6 v6(const char *a)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof s);
    s.sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
    return s;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* Number of the rule that matches, 0 for the defaults. */
static int match_host(const hu_policy *p, const char *host, unsigned port)
{
    return hu_policy_match(p, host, NULL, port)->number;
}

static int match_sa(const hu_policy *p, const struct sockaddr *sa, unsigned port)
{
    return hu_policy_match(p, NULL, sa, port)->number;
}

static hu_policy *policy(const char *text)
{
    hu_policy *p = hu_policy_parse(text);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(p->nerrors == 0, "%s", p->nerrors ? p->errors[0].reason : "");
    return p;
}

START_TEST(exact_host)
{
    hu_policy *p = policy("db.example.com attempts=3");
    ck_assert_int_eq(match_host(p, "db.example.com", 5432), 1);
    ck_assert_int_eq(match_host(p, "DB.Example.COM", 5432), 1);    /* case-insensitive */
    ck_assert_int_eq(match_host(p, "db.example.com.", 5432), 1);   /* trailing dot */
    ck_assert_int_eq(match_host(p, "db.example.co", 5432), 0);
    ck_assert_int_eq(match_host(p, "xdb.example.com", 5432), 0);
    ck_assert_int_eq(match_host(p, "", 5432), 0);
    ck_assert_int_eq(match_host(p, "db.example.com..", 5432), 0);
    hu_policy_free(p);

    p = policy("DB.");   /* the rule is normalised the same way */
    ck_assert_int_eq(match_host(p, "db", 0), 1);
    ck_assert_int_eq(match_host(p, "Db.", 0), 1);
    hu_policy_free(p);
}
END_TEST

START_TEST(glob_host)
{
    hu_policy *p = policy("*.svc.cluster.local; db-*; cache-?");
    ck_assert_int_eq(match_host(p, "api.default.svc.cluster.local", 80), 1);
    ck_assert_int_eq(match_host(p, "API.svc.cluster.local.", 80), 1);
    ck_assert_int_eq(match_host(p, "svc.cluster.local", 80), 0);
    ck_assert_int_eq(match_host(p, "api.svc.cluster.local.evil", 80), 0);
    ck_assert_int_eq(match_host(p, "db-1", 80), 2);
    ck_assert_int_eq(match_host(p, "db", 80), 0);
    ck_assert_int_eq(match_host(p, "cache-1", 80), 3);
    ck_assert_int_eq(match_host(p, "cache-12", 80), 0);
    hu_policy_free(p);
}
END_TEST

START_TEST(host_rule_needs_host)
{
    hu_policy *p = policy("db; 10.0.0.1");
    struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
    ck_assert_int_eq(match_sa(p, SA(b), 5432), 0);         /* host NULL: "db" skipped */
    ck_assert_int_eq(match_sa(p, SA(a), 5432), 2);
    ck_assert_int_eq(match_host(p, "10.0.0.1", 5432), 0);  /* address rules need sa */
    ck_assert_int_eq(hu_policy_match(p, "db", SA(a), 5432)->number, 1);
    hu_policy_free(p);
}
END_TEST

START_TEST(address_v4_v6)
{
    hu_policy *p = policy("192.0.2.7; [2001:db8::7]");
    struct sockaddr_in a = v4("192.0.2.7"), b = v4("192.0.2.8");
    struct sockaddr_in6 c = v6("2001:db8::7"), d = v6("2001:db8::8");
    ck_assert_int_eq(match_sa(p, SA(a), 80), 1);
    ck_assert_int_eq(match_sa(p, SA(b), 80), 0);
    ck_assert_int_eq(match_sa(p, SA(c), 80), 2);
    ck_assert_int_eq(match_sa(p, SA(d), 80), 0);
    hu_policy_free(p);
}
END_TEST

START_TEST(cidr_v4)
{
    hu_policy *p = policy("10.0.0.0/8; 192.168.1.128/25; 172.16.0.0/12");
    struct sockaddr_in a = v4("10.255.1.2"), b = v4("11.0.0.1"), c = v4("192.168.1.200"),
                       d = v4("192.168.1.127"), e = v4("172.31.255.255"), f = v4("172.32.0.0");
    ck_assert_int_eq(match_sa(p, SA(a), 80), 1);
    ck_assert_int_eq(match_sa(p, SA(b), 80), 0);
    ck_assert_int_eq(match_sa(p, SA(c), 80), 2);
    ck_assert_int_eq(match_sa(p, SA(d), 80), 0);
    ck_assert_int_eq(match_sa(p, SA(e), 80), 3);
    ck_assert_int_eq(match_sa(p, SA(f), 80), 0);
    hu_policy_free(p);

    p = policy("0.0.0.0/0");
    struct sockaddr_in6 g = v6("2001:db8::1");
    ck_assert_int_eq(match_sa(p, SA(b), 80), 1);
    ck_assert_int_eq(match_sa(p, SA(g), 80), 0);   /* a v4 rule never matches v6 */
    hu_policy_free(p);
}
END_TEST

START_TEST(cidr_v6)
{
    hu_policy *p = policy("[fd00::/8]; [2001:db8:abcd::/49]");
    struct sockaddr_in6 a = v6("fd12:3456::1"), b = v6("fe80::1"),
                        c = v6("2001:db8:abcd:7fff::1"), d = v6("2001:db8:abcd:8000::1");
    struct sockaddr_in e = v4("10.0.0.1");
    ck_assert_int_eq(match_sa(p, SA(a), 80), 1);
    ck_assert_int_eq(match_sa(p, SA(b), 80), 0);
    ck_assert_int_eq(match_sa(p, SA(c), 80), 2);
    ck_assert_int_eq(match_sa(p, SA(d), 80), 0);
    ck_assert_int_eq(match_sa(p, SA(e), 80), 0);
    hu_policy_free(p);
}
END_TEST

START_TEST(v4_mapped_v6)
{
    hu_policy *p = policy("10.0.0.0/8; 192.0.2.7");
    struct sockaddr_in6 a = v6("::ffff:10.1.2.3"), b = v6("::ffff:192.0.2.7"),
                        c = v6("::ffff:11.1.2.3"), d = v6("::10.1.2.3");
    ck_assert_int_eq(match_sa(p, SA(a), 80), 1);
    ck_assert_int_eq(match_sa(p, SA(b), 80), 2);
    ck_assert_int_eq(match_sa(p, SA(c), 80), 0);
    ck_assert_int_eq(match_sa(p, SA(d), 80), 0);   /* not mapped: stays v6 */
    hu_policy_free(p);
}
END_TEST

START_TEST(ports)
{
    hu_policy *p = policy("db:5432; web:8000-8099; *:443");
    ck_assert_int_eq(match_host(p, "db", 5432), 1);
    ck_assert_int_eq(match_host(p, "db", 5433), 0);
    ck_assert_int_eq(match_host(p, "db", 0), 0);       /* unknown port: no port rule */
    ck_assert_int_eq(match_host(p, "web", 8000), 2);
    ck_assert_int_eq(match_host(p, "web", 8050), 2);
    ck_assert_int_eq(match_host(p, "web", 8099), 2);
    ck_assert_int_eq(match_host(p, "web", 7999), 0);
    ck_assert_int_eq(match_host(p, "web", 8100), 0);
    ck_assert_int_eq(match_host(p, "anything", 443), 3);
    ck_assert_int_eq(match_host(p, NULL, 443), 3);
    hu_policy_free(p);

    p = policy("10.0.0.0/8:5432");
    struct sockaddr_in a = v4("10.0.0.1");
    ck_assert_int_eq(match_sa(p, SA(a), 5432), 1);
    ck_assert_int_eq(match_sa(p, SA(a), 5431), 0);
    hu_policy_free(p);
}
END_TEST

START_TEST(first_match_wins)
{
    hu_policy *p = policy("db attempts=2; db:5432 attempts=3; * attempts=4");
    const hu_rule *r = hu_policy_match(p, "db", NULL, 5432);
    ck_assert_ptr_eq(r, &p->rules[0]);
    ck_assert_uint_eq(r->attempts, 2);
    hu_policy_free(p);

    p = policy("db:5432 attempts=3; db attempts=2");
    ck_assert_int_eq(match_host(p, "db", 5432), 1);
    ck_assert_int_eq(match_host(p, "db", 80), 2);
    hu_policy_free(p);
}
END_TEST

START_TEST(star_matches_all)
{
    hu_policy *p = policy("* attempts=4");
    struct sockaddr_in a = v4("203.0.113.9");
    struct sockaddr_in6 b = v6("2001:db8::1");
    ck_assert_int_eq(match_host(p, "anything", 1), 1);
    ck_assert_int_eq(match_host(p, NULL, 0), 1);
    ck_assert_int_eq(match_sa(p, SA(a), 65535), 1);
    ck_assert_int_eq(match_sa(p, SA(b), 22), 1);
    hu_policy_free(p);
}
END_TEST

START_TEST(defaults_fallback)
{
    hu_policy *p = policy("db attempts=3; /mnt/data attempts=5");
    const hu_rule *r = hu_policy_match(p, "web", NULL, 80);
    ck_assert_ptr_eq(r, &p->defaults);
    ck_assert_uint_eq(r->attempts, 40);
    ck_assert_int_eq(r->number, 0);
    /* path rules never match network targets */
    ck_assert_ptr_eq(hu_policy_match(p, "/mnt/data", NULL, 0), &p->defaults);
    ck_assert_ptr_eq(hu_policy_match(p, NULL, NULL, 0), &p->defaults);
    hu_policy_free(p);

    p = policy("");
    ck_assert_ptr_eq(hu_policy_match(p, "db", NULL, 5432), &p->defaults);
    hu_policy_free(p);
}
END_TEST

START_TEST(path_prefix)
{
    hu_policy *p = policy("db; /mnt/data/ attempts=10; /srv attempts=2");
    const hu_rule *r = hu_policy_match_path(p, "/mnt/data");
    ck_assert_ptr_eq(r, &p->rules[1]);
    ck_assert_uint_eq(r->attempts, 10);
    ck_assert_ptr_eq(hu_policy_match_path(p, "/mnt/data/"), &p->rules[1]);
    ck_assert_ptr_eq(hu_policy_match_path(p, "/mnt/data/x/y"), &p->rules[1]);
    ck_assert_ptr_null(hu_policy_match_path(p, "/mnt/database"));
    ck_assert_ptr_null(hu_policy_match_path(p, "/mnt/dat"));
    ck_assert_ptr_null(hu_policy_match_path(p, "/mnt"));
    ck_assert_ptr_eq(hu_policy_match_path(p, "/srv/x"), &p->rules[2]);
    ck_assert_ptr_null(hu_policy_match_path(p, "db"));
    hu_policy_free(p);

    p = policy("/ attempts=3");
    ck_assert_ptr_eq(hu_policy_match_path(p, "/"), &p->rules[0]);
    ck_assert_ptr_eq(hu_policy_match_path(p, "/etc/passwd"), &p->rules[0]);
    ck_assert_ptr_null(hu_policy_match_path(p, "relative"));
    hu_policy_free(p);
}
END_TEST

Suite *match_suite(void)
{
    Suite *s = suite_create("match");
    TCase *tc = tcase_create("network");
    tcase_add_test(tc, exact_host);
    tcase_add_test(tc, glob_host);
    tcase_add_test(tc, host_rule_needs_host);
    tcase_add_test(tc, address_v4_v6);
    tcase_add_test(tc, cidr_v4);
    tcase_add_test(tc, cidr_v6);
    tcase_add_test(tc, v4_mapped_v6);
    tcase_add_test(tc, ports);
    tcase_add_test(tc, first_match_wins);
    tcase_add_test(tc, star_matches_all);
    tcase_add_test(tc, defaults_fallback);
    suite_add_tcase(s, tc);

    tc = tcase_create("path");
    tcase_add_test(tc, path_prefix);
    suite_add_tcase(s, tc);
    return s;
}
