/* SPDX-License-Identifier: MIT */
/* The decision where no network exists (shim/engine/decide.c, the caller's
 * no_network fact, core/offline.h): a failure the rule retries ends at once
 * with the kernel's errno and one gave_up record; a try hostup cut, an
 * errno the rule does not retry and a network that exists keep their old
 * paths.  And the errno an outcome record is keyed by for log storms. */
#include <errno.h>
#include <string.h>

#include <check.h>

#include "core/shared.h"
#include "engine/decide.h"
#include "engine/herd.h"
#include "hostup/hostup.h"
#include "suites.h"

struct herd_count {
    int joins, results, dones, last_done;
};

static struct herd_count hc;
static hu_rng rng;
static hu_decide_ops ops;

static hu_rng *test_rng(void) { return &rng; }
static void c_join(void *c) { ((struct herd_count *)c)->joins++; }
static void c_result(void *c, int err, int retry, int64_t now, long el)
{
    (void)err, (void)retry, (void)now, (void)el;
    ((struct herd_count *)c)->results++;
}
static void c_done(void *c, int reason)
{
    ((struct herd_count *)c)->dones++;
    ((struct herd_count *)c)->last_done = reason;
}

static void setup(void)
{
    memset(&hc, 0, sizeof hc);
    hc.last_done = -2;
    hu_rng_seed(&rng, 11);
    ops = (hu_decide_ops){.ctx = &hc, .rng = test_rng, .herd_join = c_join,
                          .herd_result = c_result, .herd_done = c_done};
}

/* The defaults' shape: many attempts, a long deadline, fixed 100 ms waits. */
static hu_rule rule(unsigned timeout)
{
    hu_rule r;
    hu_rule_defaults(&r);
    r.backoff_first_ms = r.backoff_cap_ms = 100;
    r.jitter = HU_JITTER_NONE;
    r.timeout_ms = timeout;
    return r;
}

#define T0 5000

START_TEST(first_failure_gives_up_at_once)
{
    hu_rule r = rule(0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 1, 1000);
    a.no_network = 1;
    hu_decide_failed(&a, &ops, ENETUNREACH, 0, 0, T0 + 1, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ENETUNREACH);
    ck_assert_int_eq(x.reason, HU_GU_NO_NETWORK);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_GAVE_UP);     /* the one record */
    ck_assert_int_eq(x.rec.err, ENETUNREACH);
    ck_assert_int_eq(x.rec.reason, HU_GU_NO_NETWORK);
    ck_assert_uint_eq(x.rec.attempt, 1);
    ck_assert_int_eq(x.rec.elapsed_ms, 1);
    ck_assert_int_eq(x.rec.icmp, 1);
    ck_assert_int_eq(x.rec.fold_err, 0);                  /* no retry record before it */
    ck_assert_int_eq(hc.joins, 0);                        /* no herd for nothing */
    ck_assert_int_eq(hc.results, 0);
    ck_assert_int_eq(hc.last_done, HU_GU_NO_NETWORK);
}
END_TEST

START_TEST(same_failure_with_a_network_is_retried)
{
    hu_rule r = rule(0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 1, 1000);
    hu_decide_failed(&a, &ops, ENETUNREACH, 0, 0, T0 + 1, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_RETRY);
    ck_assert_int_eq(hc.joins, 1);
}
END_TEST

START_TEST(errno_not_retried_keeps_its_path)
{
    hu_rule r = rule(0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    a.no_network = 1;
    hu_decide_failed(&a, &ops, ECONNREFUSED, 0, 0, T0 + 1, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ECONNREFUSED);
    ck_assert_int_eq(x.reason, -1);
    ck_assert_ptr_null(x.rec.event);
}
END_TEST

/* A try hostup cut has no kernel answer: no fact applies to it. */
START_TEST(cut_try_keeps_retrying)
{
    hu_rule r = rule(300);
    r.retry_errno[ETIMEDOUT / 64] |= 1ull << (ETIMEDOUT % 64);     /* retry_on=+ETIMEDOUT */
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 1, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    ck_assert_int_eq(x.kind, HU_DO_TRY);
    hu_decide_start(&a, T0 + 101);
    a.no_network = 1;
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 401, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_RETRY);
}
END_TEST

/* The network goes away during the retries: the next failure ends it, and
 * the herd joined meanwhile is left. */
START_TEST(network_gone_mid_retry)
{
    hu_rule r = rule(0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 1, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, T0 + 101);
    a.no_network = 1;
    hu_decide_tried(&a, &ops, ENETUNREACH, 0, T0 + 102, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ENETUNREACH);
    ck_assert_int_eq(x.rec.reason, HU_GU_NO_NETWORK);
    ck_assert_uint_eq(x.rec.attempt, 2);
    ck_assert_int_eq(x.rec.fold_err, EHOSTUNREACH);
    ck_assert_int_eq(hc.joins, 1);
    ck_assert_int_eq(hc.dones, 1);
    ck_assert_int_eq(hc.last_done, HU_GU_NO_NETWORK);
}
END_TEST

/* Log storms: a recovered record (no errno of its own) and a gave_up with
 * another errno are keyed by the errno of the retry records before them,
 * whose folded count they carry (docs/records.md, "Log storms"). */
START_TEST(outcome_names_its_retries_errno)
{
    hu_rule r = rule(0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 1, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, T0 + 101);
    hu_decide_tried(&a, &ops, 0, 0, T0 + 102, &x);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_RECOVERED);
    ck_assert_int_eq(x.rec.err, 0);
    ck_assert_int_eq(x.rec.fold_err, EHOSTUNREACH);

    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 1, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, T0 + 101);
    hu_decide_tried(&a, &ops, ECONNREFUSED, 0, T0 + 102, &x);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_GAVE_UP);
    ck_assert_int_eq(x.rec.err, ECONNREFUSED);
    ck_assert_int_eq(x.rec.fold_err, EHOSTUNREACH);
}
END_TEST

TCase *decide_offline_tcase(void)
{
    TCase *t = tcase_create("no_network");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, first_failure_gives_up_at_once);
    tcase_add_test(t, same_failure_with_a_network_is_retried);
    tcase_add_test(t, errno_not_retried_keeps_its_path);
    tcase_add_test(t, cut_try_keeps_retrying);
    tcase_add_test(t, network_gone_mid_retry);
    tcase_add_test(t, outcome_names_its_retries_errno);
    return t;
}
