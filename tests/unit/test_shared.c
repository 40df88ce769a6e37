/* SPDX-License-Identifier: MIT */
/* The shared state file (shim/core/shared.c): where it lives, what is refused,
 * and the budget window's arithmetic. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "core/shared.h"
#include "suites.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hu-unit-shm.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(path_choice)
{
    char buf[256];
    unsetenv(HU_SHM_ENV);
    ck_assert_int_eq(hu_shm_path(buf, sizeof buf, 0), 0);
    char want[64];
    snprintf(want, sizeof want, "/dev/shm/hostup-%u", (unsigned)geteuid());
    ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "default %s", buf);
    setenv(HU_SHM_ENV, "off", 1);
    ck_assert_int_eq(hu_shm_path(buf, sizeof buf, 0), 1);
    setenv(HU_SHM_ENV, "/tmp/x.shm", 1);
    ck_assert_int_eq(hu_shm_path(buf, sizeof buf, 0), 0);
    ck_assert_str_eq(buf, "/tmp/x.shm");
    /* AT_SECURE: the variable is ignored, even "off" */
    ck_assert_int_eq(hu_shm_path(buf, sizeof buf, 1), 0);
    ck_assert_msg(strncmp(buf, want, strlen(want)) == 0, "secure %s", buf);
    unsetenv(HU_SHM_ENV);
}
END_TEST

START_TEST(create_and_reopen)
{
    char p[128];
    const char *why = NULL;
    snprintf(p, sizeof p, "%s/a.shm", dir);
    ck_assert_ptr_null(hu_shm_open(p, 1, &why));    /* read-only never creates */
    struct hu_shm *m = hu_shm_open(p, 0, &why);
    ck_assert_msg(m != NULL, "%s", why);
    ck_assert_uint_eq(m->magic, HU_SHM_MAGIC);
    ck_assert_uint_eq(m->version, HU_SHM_VERSION);
    m->slots[3].key = 42;
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_uint_eq((size_t)st.st_size, sizeof(struct hu_shm));
    struct hu_shm *r = hu_shm_open(p, 1, &why);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->slots[3].key, 42);     /* the same file, shared */
    hu_shm_close(r);
    hu_shm_close(m);
}
END_TEST

static void expect_refused(const char *p, const char *reason)
{
    const char *why = NULL;
    struct hu_shm *m = hu_shm_open(p, 0, &why);
    ck_assert_msg(m == NULL, "%s accepted", p);
    ck_assert_msg(why && strstr(why, reason), "%s: '%s', wanted '%s'", p, why, reason);
}

START_TEST(refusals)
{
    char good[128], p[160];
    const char *why;
    snprintf(good, sizeof good, "%s/good.shm", dir);
    struct hu_shm *m = hu_shm_open(good, 0, &why);
    ck_assert_ptr_nonnull(m);
    hu_shm_close(m);
    snprintf(p, sizeof p, "%s/link.shm", dir);
    ck_assert_int_eq(symlink(good, p), 0);
    expect_refused(p, "symbolic link");
    snprintf(p, sizeof p, "%s/loose.shm", dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cp %s %s && chmod 640 %s", good, p, p);
    ck_assert_int_eq(system(cmd), 0);
    expect_refused(p, "group or others");
    snprintf(p, sizeof p, "%s/short.shm", dir);
    int fd = open(p, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_eq(write(fd, "hostup", 6), 6);
    close(fd);
    expect_refused(p, "wrong size");
    /* sparse: a write to a page the file system cannot supply is SIGBUS */
    snprintf(p, sizeof p, "%s/sparse.shm", dir);
    fd = open(p, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_eq(ftruncate(fd, (off_t)sizeof(struct hu_shm)), 0);
    close(fd);
    expect_refused(p, "sparse");
    snprintf(p, sizeof p, "%s/zero.shm", dir);
    fd = open(p, O_CREAT | O_WRONLY, 0600);
    static const char zeros[sizeof(struct hu_shm)];
    ck_assert_int_eq(write(fd, zeros, sizeof zeros), (ssize_t)sizeof zeros);
    close(fd);
    expect_refused(p, "bad header");
    snprintf(p, sizeof p, "%s", dir);
    expect_refused(p, "");      /* a directory */
    if (geteuid() == 0) {
        snprintf(p, sizeof p, "%s/foreign.shm", dir);
        snprintf(cmd, sizeof cmd, "cp %s %s && chown 65534 %s", good, p, p);
        ck_assert_int_eq(system(cmd), 0);
        expect_refused(p, "another user");
    }
}
END_TEST

/* A lease counts only while its holder is who it was, probes, and does
 * not claim more than one probe can take. */
START_TEST(lease_identity)
{
    static struct hu_shm_slot s;
    int64_t now = hu_shm_now_ms();
    uint64_t me = hu_shm_start_time(getpid());
    ck_assert_uint_ne(me, 0);
    memset(&s, 0, sizeof s);
    s.lease_tid = s.lease_pid = getpid();
    s.lease_pidns = 7;
    s.lease_start = me;
    s.lease_until = now + 5000;
    s.last_probe = now;
    ck_assert_int_eq(hu_shm_lease_alive(&s, now, 7), 1);
    s.lease_start = me + 1;                 /* a reused pid */
    ck_assert_int_eq(hu_shm_lease_alive(&s, now, 7), 0);
    s.lease_start = me;
    s.lease_until = now + HU_LEASE_MAX_MS + 1;  /* further ahead than a probe takes */
    ck_assert_int_eq(hu_shm_lease_alive(&s, now, 7), 0);
    s.lease_until = now + 5000;
    s.last_probe = now - HU_LEASE_MAX_MS - 1;   /* no progress */
    ck_assert_int_eq(hu_shm_lease_alive(&s, now, 7), 0);
    /* pid 1, alive, with a start time that is not its own */
    s.last_probe = now;
    s.lease_tid = s.lease_pid = 1;
    s.lease_start = hu_shm_start_time(1) + 1;
    ck_assert_int_eq(hu_shm_lease_alive(&s, now, 7), 0);
    /* another pid namespace: its expiry alone */
    ck_assert_int_eq(hu_shm_lease_alive(&s, now, 8), 1);
    s.lease_until = now - 1;
    ck_assert_int_eq(hu_shm_lease_alive(&s, now, 8), 0);
}
END_TEST

START_TEST(budget_window)
{
    static struct hu_shm m;
    memset(&m, 0, sizeof m);
    int64_t sec = 1000;
    /* 10 s of 100 first tries and 5 retries, and one stale bucket */
    for (int i = 0; i < HU_SHM_WINDOW; i++) {
        m.budget[i].sec = sec - i;
        m.budget[i].first = 100;
        m.budget[i].retries = 5;
    }
    m.budget[9].sec = sec - 10;     /* outside the window */
    uint64_t first, retries;
    hu_shm_window(&m, sec, &first, &retries);
    ck_assert_uint_eq(first, 900);
    ck_assert_uint_eq(retries, 45);
    /* 20 % of 900 + 10/s x 10 s = 280 allowed, 45 used */
    ck_assert_int_eq(hu_shm_budget_left(&m, sec * 1000 + 500, 20, 10), 235);
    ck_assert_int_eq(hu_shm_budget_left(&m, sec * 1000, 0, 1), 0);     /* 10 allowed, 45 used */
    ck_assert_int_eq(hu_shm_budget_left(&m, sec * 1000, -1, 10), -1);  /* budget=off */
    /* all of it old: an empty window */
    ck_assert_int_eq(hu_shm_budget_left(&m, (sec + 60) * 1000, 20, 10), 100);
}
END_TEST

Suite *shared_suite(void)
{
    Suite *s = suite_create("shared");
    TCase *tc = tcase_create("file");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, path_choice);
    tcase_add_test(tc, create_and_reopen);
    tcase_add_test(tc, lease_identity);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, budget_window);
    suite_add_tcase(s, tc);
    return s;
}
