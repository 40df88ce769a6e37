/* SPDX-License-Identifier: MIT */
/* Log storms (shim/core/log.c, hu_log_admit): retries of one target and
 * errno fold within the window; the first after it is a summary with the
 * count; after the summary they fold until the outcome, which carries the
 * count, so one failing connect under the defaults writes three lines; and
 * an outcome keyed by its retries' errno (a recovered has none of its own)
 * carries their folded count, which it lost before. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "core/log.h"
#include "hostup/hostup.h"
#include "suites.h"

#define WINDOW_MS 40

static struct sockaddr_in target;

static void setup(void)
{
    hu_log_set_window(WINDOW_MS);
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_addr.s_addr = htonl(0xc6120005);     /* 198.18.0.5 */
}

static void teardown(void) { hu_log_set_window(1000); }

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long admit(const char *event, unsigned port, int err)
{
    hu_event ev = {.event = event, .op = "connect", .addr = (const struct sockaddr *)&target,
                   .port = port, .err = err};
    return hu_log_admit(&ev);
}

START_TEST(one_connect_writes_three_lines)
{
    unsigned port = 7001;
    int written = 0;
    long folded = 0;
    /* 40 retries, one every 15 ms (600 ms: 15 windows), then the outcome */
    for (int i = 0; i < 40; i++) {
        long n = admit(HOSTUP_EV_RETRY, port, EHOSTUNREACH);
        if (n >= 0) {
            written++;
            folded += n;
        }
        sleep_ms(15);
    }
    ck_assert_int_eq(written, 2);       /* the first retry and one summary */
    long last = admit(HOSTUP_EV_GAVE_UP, port, EHOSTUNREACH);
    ck_assert_int_eq(folded + last, 38); /* every folded retry is counted once */
    /* the outcome ended the round: the next connect's summary comes after
     * one window again */
    ck_assert_int_eq(admit(HOSTUP_EV_RETRY, port, EHOSTUNREACH), -1);
    sleep_ms(WINDOW_MS + 10);
    ck_assert_int_eq(admit(HOSTUP_EV_RETRY, port, EHOSTUNREACH), 1);
}
END_TEST

START_TEST(recovered_carries_the_folded_count)
{
    unsigned port = 7002;
    ck_assert_int_eq(admit(HOSTUP_EV_RETRY, port, EHOSTUNREACH), 0);
    ck_assert_int_eq(admit(HOSTUP_EV_RETRY, port, EHOSTUNREACH), -1);
    ck_assert_int_eq(admit(HOSTUP_EV_RETRY, port, EHOSTUNREACH), -1);
    /* with no errno it matches nothing: the two would be lost */
    ck_assert_int_eq(admit(HOSTUP_EV_RECOVERED, port, 0), 0);
    /* keyed by its retries' errno (engine/conn_log.c does so) */
    ck_assert_int_eq(admit(HOSTUP_EV_RECOVERED, port, EHOSTUNREACH), 2);
    ck_assert_int_eq(admit(HOSTUP_EV_RECOVERED, port, EHOSTUNREACH), 0);
}
END_TEST

START_TEST(window_off_folds_nothing)
{
    hu_log_set_window(0);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(admit(HOSTUP_EV_RETRY, 7003, EHOSTUNREACH), 0);
}
END_TEST

Suite *storm_suite(void)
{
    Suite *s = suite_create("storm");
    TCase *t = tcase_create("admit");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 10);
    tcase_add_test(t, one_connect_writes_three_lines);
    tcase_add_test(t, recovered_carries_the_folded_count);
    tcase_add_test(t, window_off_folds_nothing);
    suite_add_tcase(s, t);
    return s;
}
