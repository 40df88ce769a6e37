/* Regression tests for inputs found by the fuzz harnesses (tests/fuzz/):
 * each feeds the input that crashed to its parser and checks that it
 * neither crashes nor gives a senseless result. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "core/mounts.h"
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

Suite *regress_suite(void)
{
    Suite *s = suite_create("regress");
    TCase *t = tcase_create("fuzz");
    tcase_add_test(t, mountinfo_without_super_options);
    suite_add_tcase(s, t);
    return s;
}
