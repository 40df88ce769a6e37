/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE   /* EAI_NODATA, EAI_ADDRFAMILY */
/* The small parsers: durations, CIDRs, selectors, errno/EAI names. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "hostup/policy.h"
#include "suites.h"

/* ---- hu_parse_duration --------------------------------------------------- */

static unsigned duration_ok(const char *s)
{
    unsigned ms = 12345;
    const char *why = NULL;
    ck_assert_msg(hu_parse_duration(s, &ms, &why) == 0, "'%s' rejected: %s", s, why);
    return ms;
}

static const char *duration_bad(const char *s)
{
    unsigned ms = 777;
    const char *why = NULL;
    ck_assert_int_eq(hu_parse_duration(s, &ms, &why), -1);
    ck_assert_uint_eq(ms, 777);     /* untouched on error */
    ck_assert_ptr_nonnull(why);
    return why;
}

START_TEST(duration_units)
{
    ck_assert_uint_eq(duration_ok("250ms"), 250);
    ck_assert_uint_eq(duration_ok("2s"), 2000);
    ck_assert_uint_eq(duration_ok("1.5s"), 1500);
    ck_assert_uint_eq(duration_ok("2m"), 120000);
    ck_assert_uint_eq(duration_ok("0s"), 0);
    ck_assert_uint_eq(duration_ok("0ms"), 0);
    ck_assert_uint_eq(duration_ok("1440m"), 86400000);
    ck_assert_uint_eq(duration_ok("0.4ms"), 1);    /* non-zero never becomes "none" */
}
END_TEST

START_TEST(duration_errors)
{
    ck_assert_str_eq(duration_bad(""), "not a duration (a number with ms, s or m)");
    ck_assert_str_eq(duration_bad("5"), "missing unit (use ms, s or m)");
    ck_assert_str_eq(duration_bad("5x"), "unknown unit (use ms, s or m)");
    ck_assert_str_eq(duration_bad("-1s"), "not a duration (a number with ms, s or m)");
    ck_assert_str_eq(duration_bad("25h"), "unknown unit (use ms, s or m)");
    ck_assert_str_eq(duration_bad("1441m"), "longer than 24 hours");
    ck_assert_str_eq(duration_bad("s"), "not a duration (a number with ms, s or m)");
    ck_assert_str_eq(duration_bad("5 s"), "not a duration (a number with ms, s or m)");
    ck_assert_str_eq(duration_bad("0x10s"), "not a duration (a number with ms, s or m)");
    ck_assert_str_eq(duration_bad("1e3ms"), "not a duration (a number with ms, s or m)");
    ck_assert_str_eq(duration_bad("1..2s"), "not a duration (a number with ms, s or m)");
}
END_TEST

/* ---- hu_parse_cidr -------------------------------------------------------- */

START_TEST(cidr_v4)
{
    int fam = 0;
    unsigned char a[16];
    unsigned prefix = 99;
    const char *why = NULL;
    static const unsigned char want[16] = {10, 1, 2, 0};

    ck_assert_int_eq(hu_parse_cidr("10.1.2.0/24", &fam, a, &prefix, &why), 0);
    ck_assert_int_eq(fam, AF_INET);
    ck_assert_uint_eq(prefix, 24);
    ck_assert_mem_eq(a, want, 16);

    ck_assert_int_eq(hu_parse_cidr("10.1.2.0", &fam, a, &prefix, &why), 0);
    ck_assert_uint_eq(prefix, 32);  /* no prefix: the full length */
    ck_assert_int_eq(hu_parse_cidr("0.0.0.0/0", &fam, a, &prefix, &why), 0);
    ck_assert_uint_eq(prefix, 0);
    ck_assert_int_eq(hu_parse_cidr("192.0.2.1/32", &fam, a, &prefix, &why), 0);
    ck_assert_uint_eq(prefix, 32);
}
END_TEST

START_TEST(cidr_v6)
{
    int fam = 0;
    unsigned char a[16];
    unsigned prefix = 99;
    const char *why = NULL;
    static const unsigned char want[16] = {0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

    ck_assert_int_eq(hu_parse_cidr("fd00::1/8", &fam, a, &prefix, &why), 0);
    ck_assert_int_eq(fam, AF_INET6);
    ck_assert_uint_eq(prefix, 8);
    ck_assert_mem_eq(a, want, 16);

    ck_assert_int_eq(hu_parse_cidr("::1", &fam, a, &prefix, &why), 0);
    ck_assert_uint_eq(prefix, 128);
    ck_assert_int_eq(hu_parse_cidr("::/0", &fam, a, &prefix, &why), 0);
    ck_assert_uint_eq(prefix, 0);
    ck_assert_int_eq(hu_parse_cidr("2001:db8::/128", &fam, a, &prefix, &why), 0);
    ck_assert_uint_eq(prefix, 128);
}
END_TEST

static const char *cidr_bad(const char *s)
{
    int fam = 0;
    unsigned char a[16];
    unsigned prefix = 0;
    const char *why = NULL;
    ck_assert_int_eq(hu_parse_cidr(s, &fam, a, &prefix, &why), -1);
    ck_assert_ptr_nonnull(why);
    return why;
}

START_TEST(cidr_errors)
{
    ck_assert_str_eq(cidr_bad("10.0.0.0/33"), "prefix length must be 0 to 32");
    ck_assert_str_eq(cidr_bad("10.0.0.0/"), "prefix length must be 0 to 32");
    ck_assert_str_eq(cidr_bad("10.0.0.0/-1"), "prefix length must be 0 to 32");
    ck_assert_str_eq(cidr_bad("10.0.0.0/8x"), "prefix length must be 0 to 32");
    ck_assert_str_eq(cidr_bad("fd00::/129"), "prefix length must be 0 to 128");
    ck_assert_str_eq(cidr_bad("10.0.0/8"), "not an IP address");
    ck_assert_str_eq(cidr_bad("256.0.0.1"), "not an IP address");
    ck_assert_str_eq(cidr_bad("db.example"), "not an IP address");
    ck_assert_str_eq(cidr_bad(""), "not an IP address");
    ck_assert_str_eq(cidr_bad("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd/64"),
                     "address too long");
}
END_TEST

/* ---- hu_parse_selector ---------------------------------------------------- */

START_TEST(selector_kinds)
{
    hu_selector s;
    const char *why = NULL;
    static const unsigned char v4[16] = {10, 0, 0, 1};
    static const unsigned char v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    ck_assert_int_eq(hu_parse_selector("*", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_ANY);
    ck_assert_ptr_null(s.pattern);

    ck_assert_int_eq(hu_parse_selector("DB.Example.COM.", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_HOST);
    ck_assert_str_eq(s.pattern, "db.example.com");   /* lower case, no final dot */
    ck_assert_uint_eq(s.port_lo, 0);
    ck_assert_uint_eq(s.port_hi, 0);
    free(s.pattern);

    ck_assert_int_eq(hu_parse_selector("*.svc.cluster.local", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_HOST);
    ck_assert_str_eq(s.pattern, "*.svc.cluster.local");
    free(s.pattern);

    ck_assert_int_eq(hu_parse_selector("10.0.0.1", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_ADDR);
    ck_assert_int_eq(s.family, AF_INET);
    ck_assert_uint_eq(s.prefix, 32);
    ck_assert_mem_eq(s.addr, v4, 16);

    ck_assert_int_eq(hu_parse_selector("[fd00::1]", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_ADDR);
    ck_assert_int_eq(s.family, AF_INET6);
    ck_assert_uint_eq(s.prefix, 128);
    ck_assert_mem_eq(s.addr, v6, 16);

    ck_assert_int_eq(hu_parse_selector("10.0.0.0/8", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_CIDR);
    ck_assert_int_eq(s.family, AF_INET);
    ck_assert_uint_eq(s.prefix, 8);

    ck_assert_int_eq(hu_parse_selector("[fd00::/8]", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_CIDR);
    ck_assert_int_eq(s.family, AF_INET6);
    ck_assert_uint_eq(s.prefix, 8);

    ck_assert_int_eq(hu_parse_selector("/mnt/data//", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_PATH);
    ck_assert_str_eq(s.pattern, "/mnt/data");        /* trailing slashes dropped */
    free(s.pattern);

    ck_assert_int_eq(hu_parse_selector("/", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_PATH);
    ck_assert_str_eq(s.pattern, "/");
    free(s.pattern);
}
END_TEST

START_TEST(selector_ports)
{
    hu_selector s;
    const char *why = NULL;

    ck_assert_int_eq(hu_parse_selector("db:5432", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_HOST);
    ck_assert_str_eq(s.pattern, "db");
    ck_assert_uint_eq(s.port_lo, 5432);
    ck_assert_uint_eq(s.port_hi, 5432);
    free(s.pattern);

    ck_assert_int_eq(hu_parse_selector("*:8000-8099", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_ANY);
    ck_assert_uint_eq(s.port_lo, 8000);
    ck_assert_uint_eq(s.port_hi, 8099);

    ck_assert_int_eq(hu_parse_selector("10.0.0.0/8:443", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_CIDR);
    ck_assert_uint_eq(s.prefix, 8);
    ck_assert_uint_eq(s.port_lo, 443);
    ck_assert_uint_eq(s.port_hi, 443);

    ck_assert_int_eq(hu_parse_selector("[::1]:1-65535", &s, &why), 0);
    ck_assert_int_eq(s.kind, HU_SEL_ADDR);
    ck_assert_int_eq(s.family, AF_INET6);
    ck_assert_uint_eq(s.port_lo, 1);
    ck_assert_uint_eq(s.port_hi, 65535);
}
END_TEST

static const char *selector_bad(const char *s)
{
    hu_selector sel;
    const char *why = NULL;
    ck_assert_int_eq(hu_parse_selector(s, &sel, &why), -1);
    ck_assert_ptr_nonnull(why);
    return why;
}

START_TEST(selector_errors)
{
    static const char port[] = "port must be N or LO-HI, from 1 to 65535";
    static const char brackets[] = "IPv6 addresses need brackets, as in [fd00::1]:5432";
    ck_assert_str_eq(selector_bad("db:70000"), port);
    ck_assert_str_eq(selector_bad("db:0"), port);
    ck_assert_str_eq(selector_bad("db:"), port);
    ck_assert_str_eq(selector_bad("db:http"), port);
    ck_assert_str_eq(selector_bad("db:9000-8000"), port);
    ck_assert_str_eq(selector_bad("db:-80"), port);
    ck_assert_str_eq(selector_bad("fd00::1"), brackets);
    ck_assert_str_eq(selector_bad("[10.0.0.1]"), brackets);
    ck_assert_str_eq(selector_bad("[fd00::1"), "missing ']' after IPv6 address");
    ck_assert_str_eq(selector_bad("[fd00::1]x"), "unexpected text after ']'");
    ck_assert_str_eq(selector_bad("[db]"), "not an IP address");
    ck_assert_str_eq(selector_bad("10.0.0.300"), "not an IP address");
    ck_assert_str_eq(selector_bad("db@host"), "not a host name, address, CIDR or path");
    ck_assert_str_eq(selector_bad(""), "empty selector");
}
END_TEST

/* ---- errno and EAI names -------------------------------------------------- */

START_TEST(errno_names)
{
    static const int codes[] = {EHOSTUNREACH, EHOSTDOWN, ENETUNREACH, ECONNREFUSED,
                                ETIMEDOUT, ECONNRESET, EACCES};
    static const char *const names[] = {"EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH",
                                        "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "EACCES"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        ck_assert_str_eq(hu_errno_name(codes[i]), names[i]);
        ck_assert_int_eq(hu_errno_from_name(names[i]), codes[i]);
    }
    ck_assert_int_eq(hu_errno_from_name("ehostunreach"), EHOSTUNREACH);
    ck_assert_int_eq(hu_errno_from_name("ENOSUCHTHING"), 0);
    ck_assert_int_eq(hu_errno_from_name(""), 0);
    ck_assert_int_eq(hu_errno_from_name("EWOULDBLOCK"), EAGAIN);   /* aliases glibc does not list */
    ck_assert_int_eq(hu_errno_from_name("ENOTSUP"), EOPNOTSUPP);
    ck_assert_str_eq(hu_errno_name(0), "EUNKNOWN");
    ck_assert_str_eq(hu_errno_name(-5), "EUNKNOWN");
}
END_TEST

START_TEST(errno_round_trip_all)
{
    /* every errno the C library names survives name -> number -> name */
    int named = 0;
    for (int e = 1; e < HU_ERRNO_MAX; e++) {
        const char *n = hu_errno_name(e);
        if (strcmp(n, "EUNKNOWN") == 0)
            continue;
        named++;
        ck_assert_msg(hu_errno_from_name(n) == e, "%s: %d -> %d", n, e, hu_errno_from_name(n));
    }
    ck_assert_int_ge(named, 130);
}
END_TEST

START_TEST(eai_names)
{
    static const int codes[] = {EAI_BADFLAGS, EAI_NONAME, EAI_AGAIN, EAI_FAIL, EAI_NODATA,
                                EAI_FAMILY, EAI_SOCKTYPE, EAI_SERVICE, EAI_ADDRFAMILY,
                                EAI_MEMORY, EAI_SYSTEM, EAI_OVERFLOW};
    static const char *const names[] = {"EAI_BADFLAGS", "EAI_NONAME", "EAI_AGAIN", "EAI_FAIL",
                                        "EAI_NODATA", "EAI_FAMILY", "EAI_SOCKTYPE", "EAI_SERVICE",
                                        "EAI_ADDRFAMILY", "EAI_MEMORY", "EAI_SYSTEM", "EAI_OVERFLOW"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        ck_assert_str_eq(hu_eai_name(codes[i]), names[i]);
        ck_assert_int_eq(hu_eai_from_name(names[i]), codes[i]);
        ck_assert_int_lt(-codes[i], HU_EAI_MAX);  /* fits the retry bitmap */
    }
    ck_assert_str_eq(hu_eai_name(-3), "EAI_AGAIN");
    ck_assert_int_eq(hu_eai_from_name("eai_again"), EAI_AGAIN);
    ck_assert_int_eq(hu_eai_from_name("EHOSTDOWN"), 0);
    ck_assert_str_eq(hu_eai_name(0), "EAI_UNKNOWN");
    ck_assert_str_eq(hu_eai_name(-999), "EAI_UNKNOWN");
}
END_TEST

Suite *parse_suite(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tcase_create("duration");
    tcase_add_test(tc, duration_units);
    tcase_add_test(tc, duration_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("cidr");
    tcase_add_test(tc, cidr_v4);
    tcase_add_test(tc, cidr_v6);
    tcase_add_test(tc, cidr_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("selector");
    tcase_add_test(tc, selector_kinds);
    tcase_add_test(tc, selector_ports);
    tcase_add_test(tc, selector_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_test(tc, errno_names);
    tcase_add_test(tc, errno_round_trip_all);
    tcase_add_test(tc, eai_names);
    suite_add_tcase(s, tc);
    return s;
}
