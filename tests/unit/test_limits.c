/* SPDX-License-Identifier: MIT */
/* Bounds on policy input: HOSTUP_POLICY and HOSTUP_CONFIG size, rule count,
 * the number of errors kept, and config files that are not regular files
 * (a FIFO must not block, /dev/zero must not be read). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "hostup/policy.h"
#include "suites.h"

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = malloc(n * times + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    s[n * times] = '\0';
    return s;
}

START_TEST(errors_capped_with_count)
{
    char *text = repeat("@bad attempts=1; ", 25);
    hu_policy *p = hu_policy_parse(text);
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->nerrors, HU_MAX_ERRORS);
    ck_assert_uint_eq(p->nerrors_more, 15);
    ck_assert_str_eq(p->more_source, "HOSTUP_POLICY");
    ck_assert_int_eq(p->errors[9].rule, 10);
    ck_assert_ptr_null(p->errors[0].action);     /* the default: rule ignored */
    hu_policy_free(p);
    free(text);
}
END_TEST

START_TEST(rules_capped)
{
    char *text = repeat("db attempts=2; ", HU_MAX_RULES + 5);
    hu_policy *p = hu_policy_parse(text);
    ck_assert_uint_eq(p->nrules, HU_MAX_RULES);
    ck_assert_uint_eq(p->nerrors, 1);
    ck_assert_uint_eq(p->nrules_skipped, 5);
    ck_assert_str_eq(p->errors[0].source, "HOSTUP_POLICY");
    ck_assert_str_eq(p->errors[0].reason, "more than 10000 rules in all: 5 rules not read");
    ck_assert_str_eq(p->errors[0].action, "the first 10000 rules apply");
    /* the file's rules come after: none fits, one more record names it */
    hu_policy_add_json(p, "{\"rules\": [{\"match\": \"*\", \"attempts\": 3}]}", "c.json");
    ck_assert_uint_eq(p->nrules, HU_MAX_RULES);
    ck_assert_uint_eq(p->nerrors, 2);
    ck_assert_str_eq(p->errors[1].source, "c.json");
    ck_assert_str_eq(p->errors[1].reason, "more than 10000 rules in all: 1 rule not read");
    hu_policy_free(p);
    free(text);
}
END_TEST

START_TEST(limit_error_kept_after_ten)
{
    /* ten bad rules fill the error list; the cap on rules is still said */
    char *bad = repeat("@x; ", 12);
    char *good = repeat("db; ", HU_MAX_RULES + 1);
    char *text = malloc(strlen(bad) + strlen(good) + 1);
    strcpy(text, bad);
    strcat(text, good);
    hu_policy *p = hu_policy_parse(text);
    ck_assert_uint_eq(p->nrules, HU_MAX_RULES);
    ck_assert_uint_eq(p->nerrors, HU_MAX_ERRORS + 1);
    ck_assert_uint_eq(p->nerrors_more, 2);
    ck_assert_str_eq(p->errors[HU_MAX_ERRORS].reason, "more than 10000 rules in all: 1 rule not read");
    hu_policy_free(p);
    free(text);
    free(good);
    free(bad);
}
END_TEST

START_TEST(policy_over_limit_refused)
{
    char *text = repeat("a", HU_MAX_INPUT + 1);
    memcpy(text, "db attempts=2;", 14);
    hu_policy *p = hu_policy_parse(text);
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->nerrors, 1);
    ck_assert_str_eq(p->errors[0].reason, "longer than 256 KiB (262144 bytes)");
    hu_policy_free(p);
    text[HU_MAX_INPUT] = '\0';      /* exactly 256 KiB: read */
    p = hu_policy_parse(text);
    ck_assert_uint_eq(p->nrules, 1);
    hu_policy_free(p);
    free(text);
}
END_TEST

START_TEST(json_rules_capped)
{
    char *items = repeat("{\"match\": \"db\"},", HU_MAX_RULES + 2);
    items[strlen(items) - 1] = '\0';    /* no trailing comma */
    char *json;
    ck_assert_int_ge(asprintf(&json, "{\"rules\": [%s]}", items), 0);
    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json(p, json, "big.json");
    ck_assert_uint_eq(p->nrules, HU_MAX_RULES);
    ck_assert_uint_eq(p->nerrors, 1);
    ck_assert_str_eq(p->errors[0].reason, "more than 10000 rules in all: 2 rules not read");
    hu_policy_free(p);
    free(json);
    free(items);
}
END_TEST

/* One refusal of path: one error with this reason, the defaults kept. */
static void assert_refused(const char *path, const char *reason)
{
    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json_file(p, path);
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->nerrors, 1);
    ck_assert_str_eq(p->errors[0].source, path);
    ck_assert_str_eq(p->errors[0].reason, reason);
    ck_assert_str_eq(p->errors[0].action, "file ignored; HOSTUP_POLICY and the defaults apply");
    ck_assert_uint_eq(p->defaults.attempts, 40);
    hu_policy_free(p);
}

START_TEST(config_not_regular_refused)
{
    char dir[] = "/tmp/hostup-limits-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    alarm(10);      /* a FIFO with no writer would block a plain open for ever */
    assert_refused(fifo, "a FIFO, not a regular file: not read");
    assert_refused("/dev/zero", "a character device, not a regular file: not read");
    assert_refused(dir, "a directory, not a regular file: not read");
    alarm(0);
    unlink(fifo);
    rmdir(dir);
}
END_TEST

START_TEST(config_over_limit_refused)
{
    char path[] = "/tmp/hostup-limits-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 50 * 1000 * 1000), 0);     /* sparse: costs nothing */
    /* refused on its size alone: the reason quotes fstat's size */
    assert_refused(path, "larger than 256 KiB (50000000 bytes): not read");
    /* 256 KiB exactly is read: a valid config padded with spaces */
    static const char body[] = "{\"rules\": [{\"match\": \"db\", \"attempts\": 7}]}";
    char *content = repeat(" ", HU_MAX_INPUT);
    memcpy(content, body, sizeof body - 1);
    ck_assert_int_eq(ftruncate(fd, 0), 0);
    ck_assert_int_eq(pwrite(fd, content, HU_MAX_INPUT, 0), (ssize_t)HU_MAX_INPUT);
    close(fd);
    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json_file(p, path);
    ck_assert_msg(p->nerrors == 0 && p->nrules == 1 && p->rules[0].attempts == 7,
                  "a config of exactly HU_MAX_INPUT bytes is read");
    hu_policy_free(p);
    unlink(path);
    free(content);
}
END_TEST

/* A path the kernel's caches cannot resolve alone (/proc/self/cwd/..., a
 * magic link: RESOLVE_CACHED says EAGAIN) is read by the bounded reader's
 * child process (sys/readfile_bounded.c): the same refusals, and all of a
 * 256 KiB file through its pipe. */
START_TEST(config_read_by_child)
{
    char dir[] = "/tmp/hostup-limits-XXXXXX", cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert_int_eq(mkfifo("fifo", 0600), 0);
    alarm(10);
    assert_refused("/proc/self/cwd/fifo", "a FIFO, not a regular file: not read");
    assert_refused("/proc/self/cwd/none.json", "unable to open /proc/self/cwd/none.json: No such file or directory");
    static const char body[] = "{\"rules\": [{\"match\": \"db\", \"attempts\": 9}]}";
    char *content = repeat(" ", HU_MAX_INPUT);
    memcpy(content, body, sizeof body - 1);
    int fd = open("big.json", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_eq(write(fd, content, HU_MAX_INPUT), (ssize_t)HU_MAX_INPUT);
    close(fd);
    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json_file(p, "/proc/self/cwd/big.json");
    ck_assert_msg(p->nerrors == 0 && p->nrules == 1 && p->rules[0].attempts == 9,
                  "a config of HU_MAX_INPUT bytes comes through the child's pipe whole");
    hu_policy_free(p);
    alarm(0);
    free(content);
    unlink("big.json");
    unlink("fifo");
    ck_assert_int_eq(chdir(cwd), 0);
    rmdir(dir);
}
END_TEST

Suite *limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("input");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, errors_capped_with_count);
    tcase_add_test(tc, rules_capped);
    tcase_add_test(tc, limit_error_kept_after_ten);
    tcase_add_test(tc, policy_over_limit_refused);
    tcase_add_test(tc, json_rules_capped);
    tcase_add_test(tc, config_not_regular_refused);
    tcase_add_test(tc, config_over_limit_refused);
    tcase_add_test(tc, config_read_by_child);
    suite_add_tcase(s, tc);
    return s;
}
