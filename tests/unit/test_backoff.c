/* SPDX-License-Identifier: MIT */
/* Backoff schedule: exponential growth, cap, and the four jitter kinds. */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "hostup/backoff.h"
#include "suites.h"

#define DRAWS 10000
#define RETRIES 10

static hu_rule rule_with(unsigned first, unsigned cap, double mult, enum hu_jitter j)
{
    hu_rule r;
    hu_rule_defaults(&r);
    r.backoff_first_ms = first;
    r.backoff_cap_ms = cap;
    r.multiplier = mult;
    r.jitter = j;
    return r;
}

/* ---- the generator -------------------------------------------------------- */

START_TEST(rng_splitmix64)
{
    /* splitmix64 from state 0: the reference generator's first outputs */
    hu_rng g;
    hu_rng_seed(&g, 0);
    ck_assert_uint_eq(hu_rng_next(&g), 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(hu_rng_next(&g), 0x6e789e6aa1b965f4ull);
    ck_assert_uint_eq(hu_rng_next(&g), 0x06c45d188009454full);
}
END_TEST

START_TEST(rng_same_seed_same_sequence)
{
    hu_rng a, b, c;
    hu_rng_seed(&a, 42);
    hu_rng_seed(&b, 42);
    hu_rng_seed(&c, 43);
    int differs = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = hu_rng_next(&a);
        ck_assert_uint_eq(x, hu_rng_next(&b));
        differs += x != hu_rng_next(&c);
    }
    ck_assert_int_eq(differs, 100);

    /* whole schedules repeat too */
    hu_rule r = rule_with(100, 10000, 2.0, HU_JITTER_DECORRELATED);
    hu_backoff ba, bb;
    hu_backoff_init(&ba);
    hu_backoff_init(&bb);
    hu_rng_seed(&a, 7);
    hu_rng_seed(&b, 7);
    for (int i = 0; i < 50; i++)
        ck_assert_uint_eq(hu_backoff_next(&r, &ba, &a), hu_backoff_next(&r, &bb, &b));
}
END_TEST

START_TEST(rng_between_bounds)
{
    hu_rng g;
    hu_rng_seed(&g, 1);
    ck_assert_uint_eq(hu_rng_between(&g, 5, 5), 5);
    ck_assert_uint_eq(hu_rng_between(&g, 9, 3), 9);     /* hi <= lo: lo */
    int seen[4] = {0};
    unsigned bad = 0;
    for (int i = 0; i < DRAWS; i++) {
        unsigned v = hu_rng_between(&g, 10, 13);
        if (v < 10 || v > 13)
            bad++;
        else
            seen[v - 10]++;
    }
    ck_assert_uint_eq(bad, 0);
    for (int i = 0; i < 4; i++)     /* both ends inclusive, roughly uniform */
        ck_assert_int_gt(seen[i], DRAWS / 4 - 300);
}
END_TEST

/* ---- expo ----------------------------------------------------------------- */

START_TEST(expo_grows_and_caps)
{
    hu_rule r = rule_with(200, 8000, 2.0, HU_JITTER_NONE);
    static const unsigned want[] = {200, 400, 800, 1600, 3200, 6400, 8000, 8000, 8000};
    for (unsigned n = 0; n < sizeof want / sizeof want[0]; n++)
        ck_assert_uint_eq(hu_backoff_expo(&r, n), want[n]);
    ck_assert_uint_eq(hu_backoff_expo(&r, 1000000), 8000);

    r = rule_with(100, 5000, 1.5, HU_JITTER_NONE);
    ck_assert_uint_eq(hu_backoff_expo(&r, 1), 150);
    ck_assert_uint_eq(hu_backoff_expo(&r, 2), 225);
    ck_assert_uint_eq(hu_backoff_expo(&r, 3), 337);   /* 337.5, truncated */

    r = rule_with(300, 300, 2.0, HU_JITTER_NONE);
    ck_assert_uint_eq(hu_backoff_expo(&r, 0), 300);
    ck_assert_uint_eq(hu_backoff_expo(&r, 5), 300);

    r = rule_with(250, 8000, 1.0, HU_JITTER_NONE);      /* multiplier 1: constant */
    ck_assert_uint_eq(hu_backoff_expo(&r, 7), 250);
}
END_TEST

/* ---- the jitter kinds ---------------------------------------------------- */

START_TEST(jitter_none_exact)
{
    hu_rule r = rule_with(200, 8000, 2.0, HU_JITTER_NONE);
    hu_rng g;
    hu_rng_seed(&g, 11);
    unsigned bad = 0;
    for (int t = 0; t < DRAWS; t++) {
        hu_backoff b;
        hu_backoff_init(&b);
        for (unsigned n = 0; n < RETRIES; n++)
            bad += hu_backoff_next(&r, &b, &g) != hu_backoff_expo(&r, n);
        if (t == 0)
            ck_assert_uint_eq(b.retry, RETRIES);
    }
    ck_assert_uint_eq(bad, 0);
}
END_TEST

/* Runs DRAWS schedules of RETRIES delays; fails on the first delay outside
 * [lo(n, prev), hi(n, prev)] and returns the mean delay per retry index. */
typedef void bounds_fn(const hu_rule *r, unsigned n, unsigned prev, unsigned *lo, unsigned *hi);

static void check_bounds(const hu_rule *r, uint64_t seed, bounds_fn *bounds, double mean[RETRIES])
{
    hu_rng g;
    double sum[RETRIES] = {0};
    unsigned prev_wrong = 0;
    hu_rng_seed(&g, seed);
    for (int t = 0; t < DRAWS; t++) {
        hu_backoff b;
        unsigned prev = 0;
        hu_backoff_init(&b);
        for (unsigned n = 0; n < RETRIES; n++) {
            unsigned lo, hi, d = hu_backoff_next(r, &b, &g);
            bounds(r, n, prev, &lo, &hi);
            if (d < lo || d > hi)
                ck_abort_msg("draw %d retry %u: %u outside [%u, %u]", t, n, d, lo, hi);
            prev_wrong += b.prev_ms != d;
            sum[n] += d;
            prev = d;
        }
    }
    ck_assert_uint_eq(prev_wrong, 0);
    for (int n = 0; n < RETRIES; n++)
        mean[n] = sum[n] / DRAWS;
}

static void full_bounds(const hu_rule *r, unsigned n, unsigned prev, unsigned *lo, unsigned *hi)
{
    (void)prev;
    *lo = 0;
    *hi = hu_backoff_expo(r, n);
}

static void equal_bounds(const hu_rule *r, unsigned n, unsigned prev, unsigned *lo, unsigned *hi)
{
    (void)prev;
    *hi = hu_backoff_expo(r, n);
    *lo = *hi / 2;
}

static void decorrelated_bounds(const hu_rule *r, unsigned n, unsigned prev, unsigned *lo, unsigned *hi)
{
    (void)n;
    unsigned base = prev ? prev : r->backoff_first_ms;
    *lo = r->backoff_first_ms;
    *hi = base * 3 < r->backoff_cap_ms ? base * 3 : r->backoff_cap_ms;
}

START_TEST(jitter_full_bounds_and_mean)
{
    hu_rule r = rule_with(200, 8000, 2.0, HU_JITTER_FULL);
    double mean[RETRIES];
    check_bounds(&r, 1234, full_bounds, mean);
    for (unsigned n = 0; n < RETRIES; n++) {
        double half = hu_backoff_expo(&r, n) / 2.0;
        ck_assert_msg(mean[n] > half * 0.95 && mean[n] < half * 1.05,
                      "retry %u: mean %.1f, expo/2 %.1f", n, mean[n], half);
    }
}
END_TEST

START_TEST(jitter_equal_bounds)
{
    hu_rule r = rule_with(201, 8000, 2.0, HU_JITTER_EQUAL);   /* odd: rounding at both ends */
    double mean[RETRIES];
    check_bounds(&r, 99, equal_bounds, mean);
    for (unsigned n = 0; n < RETRIES; n++) {
        double want = hu_backoff_expo(&r, n) * 0.75;
        ck_assert_msg(mean[n] > want * 0.97 && mean[n] < want * 1.03,
                      "retry %u: mean %.1f, want about %.1f", n, mean[n], want);
    }
}
END_TEST

START_TEST(jitter_decorrelated_bounds)
{
    hu_rule r = rule_with(100, 5000, 2.0, HU_JITTER_DECORRELATED);
    double mean[RETRIES];
    check_bounds(&r, 5, decorrelated_bounds, mean);
    /* the first delay is U(first, 3 * first) */
    ck_assert_msg(mean[0] > 190 && mean[0] < 210, "mean of first delay %.1f", mean[0]);
    /* later delays reach the cap and stay below it */
    ck_assert_double_gt(mean[RETRIES - 1], 1500);
    ck_assert_double_lt(mean[RETRIES - 1], 5000);
}
END_TEST

START_TEST(jitter_reaches_extremes)
{
    /* full jitter covers both ends of [0, expo] with a small expo */
    hu_rule r = rule_with(3, 3, 2.0, HU_JITTER_FULL);
    hu_rng g;
    hu_rng_seed(&g, 3);
    int seen[4] = {0};
    for (int i = 0; i < 1000; i++) {
        hu_backoff b;
        hu_backoff_init(&b);
        unsigned d = hu_backoff_next(&r, &b, &g);
        ck_assert_uint_le(d, 3);
        seen[d]++;
    }
    for (int i = 0; i < 4; i++)
        ck_assert_int_gt(seen[i], 150);
}
END_TEST

Suite *backoff_suite(void)
{
    Suite *s = suite_create("backoff");
    TCase *tc = tcase_create("rng");
    tcase_add_test(tc, rng_splitmix64);
    tcase_add_test(tc, rng_same_seed_same_sequence);
    tcase_add_test(tc, rng_between_bounds);
    suite_add_tcase(s, tc);

    tc = tcase_create("schedule");
    tcase_add_test(tc, expo_grows_and_caps);
    tcase_add_test(tc, jitter_none_exact);
    tcase_add_test(tc, jitter_full_bounds_and_mean);
    tcase_add_test(tc, jitter_equal_bounds);
    tcase_add_test(tc, jitter_decorrelated_bounds);
    tcase_add_test(tc, jitter_reaches_extremes);
    suite_add_tcase(s, tc);
    return s;
}
