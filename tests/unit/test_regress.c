/* SPDX-License-Identifier: MIT */
/* Regression tests for inputs found by the fuzz harnesses (tests/fuzz/):
 * each feeds the input that crashed to its parser and checks that it
 * neither crashes nor gives a senseless result. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "core/mounts.h"
#include "hostup/policy.h"
#include "suites.h"

/* fuzz_mounts: a mountinfo line that ends after the source (no super
 * options) made hu_mountinfo_parse_line unescape the "" literal it uses in
 * their place, writing into read-only memory (SEGV). */
START_TEST(mountinfo_without_super_options)
{
    char line[] = "36 25 0:52 / /mnt/nfs rw,relatime - nfs4 fileserver:/export";
    hu_mount m;
    ck_assert_int_eq(hu_mountinfo_parse_line(line, &m), 0);
    ck_assert_str_eq(m.point, "/mnt/nfs");
    ck_assert_str_eq(m.fstype, "nfs4");
    ck_assert_str_eq(m.source, "fileserver:/export");
    ck_assert_str_eq(m.options, "");
    ck_assert_int_eq(m.network, 1);

    char trailing[] = "37 25 0:53 / /mnt/my\\040share rw - cifs //nas/share ";
    ck_assert_int_eq(hu_mountinfo_parse_line(trailing, &m), 0);
    ck_assert_str_eq(m.point, "/mnt/my share");
    ck_assert_str_eq(m.options, "");

    /* the seed that found it: malformed lines are dropped, one good line kept */
    const char *table = "1 2 3 / /x rw - \n"
                        "1 2 3:4 / relative rw - ext4 src\n"
                        "1 2 x:y / /a rw - ext4 s o\n"
                        "22 1 8:1 / / rw - ext4 /dev/sda1\n";
    hu_mounts *t = hu_mounts_parse(table, strlen(table));
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->n, 1);
    ck_assert_str_eq(t->m[0].point, "/");
    ck_assert_str_eq(t->m[0].options, "");
    hu_mounts_free(t);
}
END_TEST

/* fuzz_policy: the rule array grew by one rule per rule, so every rule
 * copied all before it wherever realloc copies: 10,000 rules (the most
 * read) took 11 s under ASan (the make check ASan run of these tests),
 * 17 ms a 4 KiB input.  It doubles now. */
START_TEST(policy_many_rules_linear)
{
    size_t n = 10000;
    char *s = malloc(n * 2 + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 2 * i, i % 2 ? "*;" : "a;", 2);
    s[n * 2] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hu_policy *p = hu_policy_parse(s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->nrules, n);
    ck_assert_str_eq(p->rules[n - 1].text, "*");
    ck_assert_msg(ms < 2000, "10,000 rules parsed in %ld ms", ms);
    hu_policy_free(p);
    free(s);
}
END_TEST

Suite *regress_suite(void)
{
    Suite *s = suite_create("regress");
    TCase *t = tcase_create("fuzz");
    tcase_add_test(t, mountinfo_without_super_options);
    tcase_add_test(t, policy_many_rules_linear);
    suite_add_tcase(s, t);
    return s;
}
