/* SPDX-License-Identifier: MIT */
/* The retry decision (shim/engine/decide.c): every transition, with a fake
 * clock, a fake herd and scripted tries; and the same failure sequence
 * driven the way the blocking connect and the event loop drive it gives
 * the same records and the same final errno. */
#include <errno.h>
#include <string.h>

#include <check.h>

#include "engine/decide.h"
#include "engine/herd.h"
#include "hostup/hostup.h"
#include "suites.h"

/* ---- a fake herd ----------------------------------------------------------- */

struct fake {
    int joins, results, retries, dones, last_done, budget_left, budget_asks;
    int last_result;
};

static void f_join(void *c) { ((struct fake *)c)->joins++; }
static void f_result(void *c, int err, int retry, int64_t now, long el)
{
    struct fake *f = c;
    (void)now;
    (void)el;
    f->results++;
    f->retries += retry;
    f->last_result = err;
}
static void f_done(void *c, int reason)
{
    struct fake *f = c;
    f->dones++;
    f->last_done = reason;
}
static int f_budget(void *c, const hu_rule *r, int64_t now)
{
    struct fake *f = c;
    (void)r;
    (void)now;
    f->budget_asks++;
    return f->budget_left-- > 0;
}

static hu_rng rng;
static hu_rng *test_rng(void) { return &rng; }
static struct fake fk;
static hu_decide_ops ops;

static void setup(void)
{
    memset(&fk, 0, sizeof fk);
    fk.budget_left = 1000;
    fk.last_done = -2;
    hu_rng_seed(&rng, 7);
    ops = (hu_decide_ops){.ctx = &fk, .rng = test_rng, .herd_join = f_join, .herd_result = f_result,
                          .herd_done = f_done, .herd_budget = f_budget};
}

/* attempts, fixed 100 ms backoff, deadline, timeout */
static hu_rule rule(unsigned attempts, unsigned deadline, unsigned timeout)
{
    hu_rule r;
    hu_rule_defaults(&r);
    r.attempts = attempts;
    r.backoff_first_ms = r.backoff_cap_ms = 100;
    r.jitter = HU_JITTER_NONE;
    r.deadline_ms = deadline;
    r.timeout_ms = timeout;
    return r;
}

#define T0 1000

static void add_errno(hu_rule *r, int e) { r->retry_errno[e / 64] |= 1ull << (e % 64); }

/* ---- single transitions ------------------------------------------------------ */

START_TEST(not_retried_first_try_no_record)
{
    hu_rule r = rule(5, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, ECONNREFUSED, 0, 0, T0 + 5, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ECONNREFUSED);
    ck_assert_ptr_null(x.rec.event);
    ck_assert_int_eq(fk.joins, 0);
    ck_assert_int_eq(fk.last_done, -1);
}
END_TEST

START_TEST(retry_then_error_gives_up_with_reason_error)
{
    hu_rule r = rule(5, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 1, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 5, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_RETRY);
    ck_assert_int_eq(x.rec.err, EHOSTUNREACH);
    ck_assert_int_eq(x.rec.delay_ms, 100);
    ck_assert_int_eq(x.rec.icmp, 1);
    ck_assert_int_eq(x.reset, 1);
    ck_assert_int_eq(x.start_relook, 1);
    ck_assert_int_eq(x.until, T0 + 105);
    ck_assert_int_eq(fk.joins, 1);
    ck_assert_int_eq(fk.results, 1);
    ck_assert_int_eq(fk.retries, 0);
    hu_decide_due(&a, &ops, HU_HERD_TRY, T0 + 105, &x);
    ck_assert_int_eq(x.kind, HU_DO_TRY);
    ck_assert_uint_eq(a.attempt, 2);
    ck_assert_int_eq(hu_decide_start(&a, T0 + 105), -1);
    hu_decide_tried(&a, &ops, ECONNREFUSED, 0, T0 + 110, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ECONNREFUSED);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_GAVE_UP);
    ck_assert_int_eq(x.rec.reason, HU_GU_ERROR);
    ck_assert_uint_eq(x.rec.attempt, 2);
    ck_assert_int_eq(x.rec.try_ms, 5);
    ck_assert_int_eq(fk.retries, 1);
    ck_assert_int_eq(fk.last_done, HU_GU_ERROR);
}
END_TEST

START_TEST(attempts_spent)
{
    hu_rule r = rule(2, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0, &x);
    ck_assert_int_eq(x.start_relook, 0);    /* no name */
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, T0 + 100);
    hu_decide_tried(&a, &ops, EHOSTUNREACH, 0, T0 + 101, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.rec.reason, HU_GU_ATTEMPTS);
    ck_assert_int_eq(x.err, EHOSTUNREACH);
    ck_assert_int_eq(x.rec.elapsed_ms, 101);
}
END_TEST

START_TEST(deadline_before_next_try)
{
    hu_rule r = rule(50, 250, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 100, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);   /* 100 + 100 < 250 */
    hu_decide_due(&a, &ops, HU_HERD_TRY, T0 + 200, &x);
    hu_decide_start(&a, T0 + 200);
    hu_decide_tried(&a, &ops, EHOSTUNREACH, 0, T0 + 200, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);    /* 200 + 100 >= 250 */
    ck_assert_int_eq(x.rec.reason, HU_GU_DEADLINE);
    ck_assert_int_eq(fk.last_done, HU_GU_DEADLINE);
}
END_TEST

START_TEST(sndtimeo_is_the_end_when_sooner)
{
    hu_rule r = rule(50, 30000, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 150, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 60, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);    /* 60 + 100 >= 150 */
    ck_assert_int_eq(x.rec.reason, HU_GU_DEADLINE);
    ck_assert_int_eq(x.err, EHOSTUNREACH);
}
END_TEST

START_TEST(try_bounds)
{
    hu_rule r = rule(50, 1000, 300);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 0, 0, 1000);
    /* no real errno yet: only the timeout cuts */
    ck_assert_int_eq(hu_decide_start(&a, T0 + 900), T0 + 1200);
    ck_assert_int_eq(a.cut_by_end, 0);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 10, &x);
    /* a real errno: the deadline cuts too, when sooner */
    ck_assert_int_eq(hu_decide_start(&a, T0 + 800), T0 + 1000);
    ck_assert_int_eq(a.cut_by_end, 1);
    ck_assert_int_eq(hu_decide_start(&a, T0 + 500), T0 + 800);
    ck_assert_int_eq(a.cut_by_end, 0);
    /* past the end: at once */
    ck_assert_int_eq(hu_decide_start(&a, T0 + 1005), T0 + 1006);
    /* SO_SNDTIMEO cuts from the first try */
    hu_decide_init(&a, &r, T0, 200, 1, 0, 1000);
    ck_assert_int_eq(hu_decide_start(&a, T0), T0 + 200);
    ck_assert_int_eq(a.cut_by_end, 1);
}
END_TEST

START_TEST(cut_try_shows_last_real_errno)
{
    hu_rule r = rule(3, 0, 300);
    add_errno(&r, ETIMEDOUT);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_start(&a, T0);
    hu_decide_tried(&a, &ops, EHOSTUNREACH, 0, T0 + 50, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, T0 + 150);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 450, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    ck_assert_int_eq(x.rec.err, ETIMEDOUT);     /* the retry says what happened */
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, T0 + 550);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 850, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, EHOSTUNREACH);      /* the program: the kernel's last */
    ck_assert_int_eq(x.rec.err, EHOSTUNREACH);
    ck_assert_int_eq(x.rec.reason, HU_GU_ATTEMPTS);
}
END_TEST

START_TEST(every_try_cut_gives_etimedout)
{
    hu_rule r = rule(2, 0, 300);
    add_errno(&r, ETIMEDOUT);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_start(&a, T0);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 300, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, x.until);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 700, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ETIMEDOUT);
}
END_TEST

START_TEST(cut_by_deadline_gives_up_with_real_errno)
{
    hu_rule r = rule(50, 500, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 0, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 10, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, T0 + 110, &x);
    ck_assert_int_eq(hu_decide_start(&a, T0 + 110), T0 + 500);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 500, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, EHOSTUNREACH);
    ck_assert_int_eq(x.rec.reason, HU_GU_DEADLINE);
    ck_assert_int_eq(x.rec.try_ms, 390);
    ck_assert_int_eq(fk.last_result, ETIMEDOUT);
}
END_TEST

START_TEST(sndtimeo_first_try_is_einprogress)
{
    hu_rule r = rule(50, 0, 5000);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 2000, 1, 0, 1000);
    ck_assert_int_eq(hu_decide_start(&a, T0), T0 + 2000);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 2000, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, EINPROGRESS);
    ck_assert_ptr_null(x.rec.event);
    ck_assert_int_eq(fk.joins, 0);
}
END_TEST

START_TEST(sndtimeo_later_try_without_real_errno)
{
    hu_rule r = rule(50, 0, 300);
    add_errno(&r, ETIMEDOUT);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 500, 1, 0, 1000);
    hu_decide_start(&a, T0);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 300, &x);     /* by the timeout */
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    hu_decide_due(&a, &ops, HU_HERD_TRY, T0 + 400, &x);
    ck_assert_int_eq(hu_decide_start(&a, T0 + 400), T0 + 500);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 500, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ETIMEDOUT);
    ck_assert_int_eq(x.rec.reason, HU_GU_DEADLINE);
}
END_TEST

START_TEST(probe_keeps_its_schedule)
{
    hu_rule r = rule(5, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0, &x);
    int64_t sched = x.until;
    hu_decide_due(&a, &ops, HU_HERD_PROBE, T0 + 50, &x);
    ck_assert_int_eq(x.kind, HU_DO_TRY);
    ck_assert_uint_eq(a.attempt, 1);            /* not counted */
    ck_assert_int_eq(fk.budget_asks, 1);
    hu_decide_start(&a, T0 + 50);
    hu_decide_tried(&a, &ops, EHOSTUNREACH, 0, T0 + 60, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    ck_assert_ptr_null(x.rec.event);
    ck_assert_int_eq(x.until, sched);
    ck_assert_int_eq(x.reset, 1);
    /* a probe that meets an errno not retried ends it */
    hu_decide_due(&a, &ops, HU_HERD_PROBE, T0 + 70, &x);
    hu_decide_start(&a, T0 + 70);
    hu_decide_tried(&a, &ops, ECONNREFUSED, 0, T0 + 71, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ECONNREFUSED);
    ck_assert_ptr_null(x.rec.event);            /* attempt 1: no retry was made */
}
END_TEST

START_TEST(probe_success_is_a_recovery)
{
    hu_rule r = rule(5, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0, &x);
    hu_decide_due(&a, &ops, HU_HERD_PROBE, T0 + 50, &x);
    hu_decide_start(&a, T0 + 50);
    hu_decide_tried(&a, &ops, 0, 0, T0 + 52, &x);
    ck_assert_int_eq(x.kind, HU_DO_DONE);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_RECOVERED);
    ck_assert_uint_eq(x.rec.attempt, 1);
    ck_assert_int_eq(x.rec.waited, 1);
    ck_assert_int_eq(fk.last_result, 0);
    ck_assert_int_eq(fk.last_done, -1);
}
END_TEST

START_TEST(skip_is_a_probe_wait)
{
    hu_rule r = rule(3, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 1, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0, &x);
    hu_decide_due(&a, &ops, HU_HERD_SKIP, x.until, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_PROBE_WAIT);
    ck_assert_uint_eq(x.rec.attempt, 2);
    ck_assert_int_eq(x.rec.icmp, 0);
    ck_assert_int_eq(x.reset, 0);
    ck_assert_int_eq(x.start_relook, 0);
    ck_assert_int_eq(fk.results, 1);            /* nothing tried */
    hu_decide_due(&a, &ops, HU_HERD_SKIP, x.until, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.rec.reason, HU_GU_ATTEMPTS);
    ck_assert_int_eq(x.err, EHOSTUNREACH);
}
END_TEST

START_TEST(skipped_first_moment_joins_and_recovers)
{
    hu_rule r = rule(5, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    a.last_real = EHOSTUNREACH;
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 1, T0, &x);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_PROBE_WAIT);
    ck_assert_uint_eq(x.rec.attempt, 1);
    ck_assert_int_eq(fk.joins, 1);
    ck_assert_int_eq(fk.results, 0);
    hu_decide_due(&a, &ops, HU_HERD_GO, T0 + 30, &x);
    ck_assert_int_eq(x.kind, HU_DO_TRY);
    ck_assert_int_eq(fk.budget_asks, 0);        /* the target answered: free */
    hu_decide_start(&a, T0 + 30);
    hu_decide_tried(&a, &ops, 0, 0, T0 + 31, &x);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_RECOVERED);
    ck_assert_uint_eq(x.rec.attempt, 2);
    ck_assert_int_eq(fk.retries, 1);
}
END_TEST

START_TEST(budget_refused)
{
    hu_rule r = rule(5, 0, 300);
    add_errno(&r, ETIMEDOUT);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 0, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, T0 + 100);
    hu_decide_tried(&a, &ops, ETIMEDOUT, 1, T0 + 400, &x);
    fk.budget_left = 0;
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, EHOSTUNREACH);      /* the kernel's, not the cut's */
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_GAVE_UP);
    ck_assert_int_eq(x.rec.reason, HU_GU_BUDGET);
    ck_assert_int_eq(x.rec.icmp, 0);
    ck_assert_uint_eq(x.rec.attempt, 2);
    ck_assert_int_eq(fk.last_done, HU_GU_BUDGET);
}
END_TEST

START_TEST(notyet_waits)
{
    hu_rule r = rule(5, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 0, 0, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0, &x);
    hu_decide_due(&a, &ops, HU_HERD_NOTYET, T0 + 10, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    ck_assert_int_eq(x.until, T0 + 100);
    ck_assert_ptr_null(x.rec.event);
    ck_assert_uint_eq(a.attempt, 1);
}
END_TEST

START_TEST(first_success_no_record)
{
    hu_rule r = rule(5, 0, 300);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_start(&a, T0);
    hu_decide_tried(&a, &ops, 0, 0, T0 + 1, &x);
    ck_assert_int_eq(x.kind, HU_DO_DONE);
    ck_assert_ptr_null(x.rec.event);
    ck_assert_int_eq(fk.retries, 0);
}
END_TEST

START_TEST(relook_lifecycle)
{
    hu_rule r = rule(10, 30000, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 1, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0, &x);
    ck_assert_int_eq(x.start_relook, 1);
    a.relook = 1;                               /* the caller started one */
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    ck_assert_int_eq(x.relook_until, T0 + 1000);  /* blocking: wait for its answer */
    hu_decide_start(&a, T0 + 100);
    hu_decide_tried(&a, &ops, EHOSTUNREACH, 0, T0 + 200, &x);
    ck_assert_int_eq(x.start_relook, 0);        /* one at a time */
    ck_assert_int_eq(x.drop_relook, 0);
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    hu_decide_start(&a, T0 + 400);
    hu_decide_tried(&a, &ops, EHOSTUNREACH, 0, T0 + 1100, &x);
    ck_assert_int_eq(x.drop_relook, 1);         /* out too long: asked anew */
    ck_assert_int_eq(x.start_relook, 1);
    ck_assert_int_eq(a.relook_t, T0 + 1100);
    /* the name moved: a readdressed record; the old herd is left */
    hu_decide_due(&a, &ops, HU_HERD_TRY, x.until, &x);
    int dones = fk.dones;
    hu_decide_rec rec;
    hu_decide_moved(&a, &ops, T0 + 1500, &rec);
    ck_assert_str_eq(rec.event, HOSTUP_EV_READDRESSED);
    ck_assert_uint_eq(rec.attempt, 4);
    ck_assert_int_eq(rec.elapsed_ms, 1500);
    ck_assert_int_eq(fk.dones, dones + 1);
    ck_assert_int_eq(a.herd_joined, 0);
    hu_decide_start(&a, T0 + 1500);
    hu_decide_tried(&a, &ops, EHOSTUNREACH, 0, T0 + 1600, &x);
    ck_assert_int_eq(fk.joins, 2);              /* the new address's herd */
    /* an event loop never waits for the answer */
    a.may_wait = 0;
    a.relook = 1;
    int64_t due_at = x.until;
    hu_decide_due(&a, &ops, HU_HERD_TRY, due_at, &x);
    ck_assert_int_eq(x.relook_until, due_at);
}
END_TEST

START_TEST(relook_wait_bounded_by_end)
{
    hu_rule r = rule(10, 500, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 1, 1000);
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 100, &x);
    a.relook = 1;
    hu_decide_due(&a, &ops, HU_HERD_TRY, T0 + 200, &x);
    ck_assert_int_eq(x.relook_until, T0 + 500);
    a.may_wait = 0;
    hu_decide_failed(&a, &ops, EHOSTUNREACH, 0, 0, T0 + 210, &x);
    hu_decide_due(&a, &ops, HU_HERD_TRY, T0 + 310, &x);
    ck_assert_int_eq(x.relook_until, T0 + 310);
}
END_TEST

START_TEST(no_herd_ops)
{
    hu_rule r = rule(3, 0, 0);
    hu_decide_ops bare = {.rng = test_rng};
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 1000);
    hu_decide_failed(&a, &bare, EHOSTUNREACH, 0, 0, T0, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    hu_decide_due(&a, &bare, HU_HERD_TRY, x.until, &x);
    ck_assert_int_eq(x.kind, HU_DO_TRY);
    hu_decide_tried(&a, &bare, 0, 0, T0 + 150, &x);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_RECOVERED);
}
END_TEST

/* ---- the two connect paths, driven the same way -------------------------- */

/* The herd's verdict at each try moment, the same for both paths: the
 * script's, then HU_HERD_TRY (a process without a shared file). */
static const int *herd_script;
static int herd_len, herd_at;

static int herd_next(void) { return herd_at < herd_len ? herd_script[herd_at++] : HU_HERD_TRY; }

/* A scripted try: the kernel's verdict err after ms (0 = connected). */
struct step { int err, ms; };
struct logline { const char *event; int err, reason; unsigned attempt; long delay; };

struct run {
    struct logline lines[64];
    int n, final;
};

static void keep(struct run *o, const hu_decide_rec *rec)
{
    if (rec->event && o->n < 64)
        o->lines[o->n++] = (struct logline){rec->event, rec->err, rec->reason, rec->attempt,
                                            rec->delay_ms};
}

/* One try at now: its end time, err and cut, by the script and the bound. */
static int64_t play(const struct step *s, int64_t now, int64_t cut_at, int *err, int *cut)
{
    int64_t end = now + s->ms;
    *cut = cut_at >= 0 && cut_at < end;
    *err = *cut ? ETIMEDOUT : s->err;
    return *cut ? cut_at : end;
}

/* As wrap/connect.c: the program's first try failed with the script's
 * first step; then the decisions are carried out, sleeping to each
 * moment (herd_pause without a shared file says TRY at the moment). */
static void blocking(const hu_rule *r, const struct step *s, int n, struct run *o)
{
    hu_attempt a;
    hu_action x;
    setup();
    int64_t now = T0 + s[0].ms;
    hu_decide_init(&a, r, T0, 0, 1, 1, 1000);
    hu_decide_failed(&a, &ops, s[0].err, 0, 0, now, &x);
    for (int i = 1;;) {
        keep(o, &x.rec);
        if (x.kind == HU_DO_DONE || x.kind == HU_DO_GIVE_UP) {
            o->final = x.kind == HU_DO_DONE ? 0 : x.err;
            return;
        }
        if (x.kind == HU_DO_WAIT) {
            now = x.until;
            hu_decide_due(&a, &ops, herd_next(), now, &x);
            continue;
        }
        int err, cut;
        int64_t cut_at = hu_decide_start(&a, now);
        now = play(&s[i < n ? i : n - 1], now, cut_at, &err, &cut);
        i++;
        hu_decide_tried(&a, &ops, err, cut, now, &x);
    }
}

/* As engine/conn.c: EINPROGRESS first; the program's wait calls come every
 * 50 ms (or sooner when a try is due or a bound runs out); each tick
 * fires due tries and expires bounds. */
static void eventloop(const hu_rule *r, const struct step *s, int n, struct run *o)
{
    hu_attempt a;
    hu_action x;
    setup();
    hu_decide_init(&a, r, T0, 0, 0, 1, 1000);
    int64_t cut_at = hu_decide_start(&a, T0), now = T0;
    int err, cut, i = 0;
    int64_t verdict = play(&s[0], T0, cut_at, &err, &cut);
    for (;;) {
        /* the wait: until the verdict, the cut or the next try */
        now = verdict;
        hu_decide_tried(&a, &ops, err, cut, now, &x);
        i++;
        for (;;) {
            keep(o, &x.rec);
            if (x.kind == HU_DO_DONE || x.kind == HU_DO_GIVE_UP) {
                o->final = x.kind == HU_DO_DONE ? 0 : x.err;
                return;
            }
            if (x.kind == HU_DO_TRY)
                break;
            while (now < a.next_try)    /* the loop's own wake-ups */
                now = now + 50 < a.next_try ? now + 50 : a.next_try;
            hu_decide_due(&a, &ops, herd_next(), now, &x);
        }
        cut_at = hu_decide_start(&a, now);
        verdict = play(&s[i < n ? i : n - 1], now, cut_at, &err, &cut);
    }
}

static void same_on_both(const hu_rule *r, const struct step *s, int n, int want_final,
                         const char *want_last)
{
    struct run b, e;
    memset(&b, 0, sizeof b);
    memset(&e, 0, sizeof e);
    herd_at = 0;
    blocking(r, s, n, &b);
    herd_at = 0;
    eventloop(r, s, n, &e);
    ck_assert_int_eq(b.final, want_final);
    ck_assert_int_eq(e.final, want_final);
    ck_assert_int_eq(b.n, e.n);
    for (int k = 0; k < b.n; k++) {
        ck_assert_str_eq(b.lines[k].event, e.lines[k].event);
        ck_assert_int_eq(b.lines[k].err, e.lines[k].err);
        ck_assert_int_eq(b.lines[k].reason, e.lines[k].reason);
        ck_assert_uint_eq(b.lines[k].attempt, e.lines[k].attempt);
        ck_assert_int_eq(b.lines[k].delay, e.lines[k].delay);
    }
    if (want_last)
        ck_assert_str_eq(b.lines[b.n - 1].event, want_last);
    else
        ck_assert_int_eq(b.n, 0);
}

START_TEST(same_recovery)
{
    hu_rule r = rule(10, 30000, 0);
    struct step s[] = {{EHOSTUNREACH, 3}, {EHOSTUNREACH, 3}, {EHOSTDOWN, 2}, {0, 1}};
    same_on_both(&r, s, 4, 0, HOSTUP_EV_RECOVERED);
}
END_TEST

START_TEST(same_attempts)
{
    hu_rule r = rule(4, 30000, 0);
    struct step s[] = {{EHOSTUNREACH, 3}};
    same_on_both(&r, s, 1, EHOSTUNREACH, HOSTUP_EV_GAVE_UP);
}
END_TEST

START_TEST(same_error)
{
    hu_rule r = rule(10, 30000, 0);
    struct step s[] = {{ENETUNREACH, 1}, {ECONNREFUSED, 1}};
    same_on_both(&r, s, 2, ECONNREFUSED, HOSTUP_EV_GAVE_UP);
}
END_TEST

START_TEST(same_not_retried)
{
    hu_rule r = rule(10, 30000, 0);
    struct step s[] = {{ECONNREFUSED, 1}};
    same_on_both(&r, s, 1, ECONNREFUSED, NULL);
}
END_TEST

START_TEST(same_deadline_cut)
{
    /* rate-limited ICMP: the first try is answered, later ones hang until
     * the deadline cuts them: the program gets the kernel's errno */
    hu_rule r = rule(100, 1000, 0);
    struct step s[] = {{EHOSTUNREACH, 3}, {EHOSTUNREACH, 5000}};
    same_on_both(&r, s, 2, EHOSTUNREACH, HOSTUP_EV_GAVE_UP);
}
END_TEST

START_TEST(same_timeout_cuts)
{
    hu_rule r = rule(5, 30000, 200);
    add_errno(&r, ETIMEDOUT);
    struct step s[] = {{EHOSTUNREACH, 3}, {EHOSTUNREACH, 900}, {EHOSTUNREACH, 900}};
    same_on_both(&r, s, 3, EHOSTUNREACH, HOSTUP_EV_GAVE_UP);
}
END_TEST

START_TEST(same_with_a_prober)
{
    /* another process probes: two moments skipped, then the target
     * answers it and this connect tries at once */
    static const int acts[] = {HU_HERD_SKIP, HU_HERD_SKIP, HU_HERD_GO};
    herd_script = acts;
    herd_len = 3;
    hu_rule r = rule(10, 30000, 0);
    struct step s[] = {{EHOSTUNREACH, 3}, {0, 1}};
    same_on_both(&r, s, 2, 0, HOSTUP_EV_RECOVERED);
    struct run b;
    memset(&b, 0, sizeof b);
    herd_at = 0;
    blocking(&r, s, 2, &b);
    ck_assert_int_eq(b.n, 4);
    ck_assert_str_eq(b.lines[1].event, HOSTUP_EV_PROBE_WAIT);
    ck_assert_uint_eq(b.lines[2].attempt, 3);
    ck_assert_uint_eq(b.lines[3].attempt, 4);
    herd_len = 0;
}
END_TEST

START_TEST(same_skipped_to_the_end)
{
    static const int acts[] = {HU_HERD_SKIP, HU_HERD_SKIP, HU_HERD_SKIP, HU_HERD_SKIP};
    herd_script = acts;
    herd_len = 4;
    hu_rule r = rule(3, 30000, 0);
    struct step s[] = {{EHOSTDOWN, 3}};
    same_on_both(&r, s, 1, EHOSTDOWN, HOSTUP_EV_GAVE_UP);
    herd_len = 0;
}
END_TEST

static int eio_too(void *ctx, const hu_rule *r, int err)
{
    (void)ctx;
    (void)r;
    return err == EIO || err == EHOSTDOWN;
}

START_TEST(caller_says_what_is_retried)
{
    /* volumes: a soft NFS mount's slow EIO is retried (volume.h) */
    hu_rule r = rule(3, 0, 0);
    hu_decide_ops v = {.rng = test_rng, .retries = eio_too};
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 0);
    hu_decide_failed(&a, &ops, EIO, 0, 0, T0, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    hu_decide_init(&a, &r, T0, 0, 1, 0, 0);
    hu_decide_failed(&a, &v, EIO, 0, 0, T0, &x);
    ck_assert_int_eq(x.kind, HU_DO_WAIT);
    ck_assert_int_eq(x.rec.err, EIO);
    hu_decide_due(&a, &v, HU_HERD_TRY, x.until, &x);
    hu_decide_failed(&a, &v, ENOENT, 0, 0, T0 + 200, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);
    ck_assert_int_eq(x.err, ENOENT);
    ck_assert_int_eq(x.rec.reason, HU_GU_ERROR);
}
END_TEST

START_TEST(again_counts_a_try)
{
    hu_rule r = rule(2, 0, 0);
    hu_attempt a;
    hu_action x;
    hu_decide_init(&a, &r, T0, 0, 1, 0, 0);
    hu_decide_again(&a, T0 + 5);                /* a stale handle reopened */
    ck_assert_uint_eq(a.attempt, 2);
    ck_assert_int_eq(a.try_start, T0 + 5);
    hu_decide_failed(&a, &ops, EHOSTDOWN, 0, 0, T0 + 6, &x);
    ck_assert_int_eq(x.kind, HU_DO_GIVE_UP);   /* it counted */
    ck_assert_int_eq(x.rec.reason, HU_GU_ATTEMPTS);
    hu_decide_init(&a, &r, T0, 0, 1, 0, 0);
    hu_decide_again(&a, T0 + 5);
    hu_decide_tried(&a, &ops, 0, 0, T0 + 6, &x);
    ck_assert_str_eq(x.rec.event, HOSTUP_EV_RECOVERED);
}
END_TEST

Suite *decide_suite(void)
{
    Suite *s = suite_create("decide");
    TCase *t = tcase_create("transitions");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, not_retried_first_try_no_record);
    tcase_add_test(t, retry_then_error_gives_up_with_reason_error);
    tcase_add_test(t, attempts_spent);
    tcase_add_test(t, deadline_before_next_try);
    tcase_add_test(t, sndtimeo_is_the_end_when_sooner);
    tcase_add_test(t, try_bounds);
    tcase_add_test(t, cut_try_shows_last_real_errno);
    tcase_add_test(t, every_try_cut_gives_etimedout);
    tcase_add_test(t, cut_by_deadline_gives_up_with_real_errno);
    tcase_add_test(t, sndtimeo_first_try_is_einprogress);
    tcase_add_test(t, sndtimeo_later_try_without_real_errno);
    tcase_add_test(t, probe_keeps_its_schedule);
    tcase_add_test(t, probe_success_is_a_recovery);
    tcase_add_test(t, skip_is_a_probe_wait);
    tcase_add_test(t, skipped_first_moment_joins_and_recovers);
    tcase_add_test(t, budget_refused);
    tcase_add_test(t, notyet_waits);
    tcase_add_test(t, first_success_no_record);
    tcase_add_test(t, relook_lifecycle);
    tcase_add_test(t, relook_wait_bounded_by_end);
    tcase_add_test(t, no_herd_ops);
    tcase_add_test(t, again_counts_a_try);
    tcase_add_test(t, caller_says_what_is_retried);
    suite_add_tcase(s, t);
    TCase *p = tcase_create("paths");
    tcase_add_test(p, same_recovery);
    tcase_add_test(p, same_attempts);
    tcase_add_test(p, same_error);
    tcase_add_test(p, same_not_retried);
    tcase_add_test(p, same_deadline_cut);
    tcase_add_test(p, same_timeout_cuts);
    tcase_add_test(p, same_with_a_prober);
    tcase_add_test(p, same_skipped_to_the_end);
    suite_add_tcase(s, p);
    suite_add_tcase(s, decide_offline_tcase());     /* test_decide_offline.c */
    return s;
}
