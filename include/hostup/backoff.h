/* SPDX-License-Identifier: MIT */
/* Backoff delays with jitter (exponential growth, capped).  The generator is
 * explicit so tests can seed it and threads never share one. */
#ifndef HOSTUP_BACKOFF_H
#define HOSTUP_BACKOFF_H

#include <stdint.h>
#include "hostup/policy.h"

typedef struct hu_rng { uint64_t s; } hu_rng;

void hu_rng_seed(hu_rng *g, uint64_t seed);
uint64_t hu_rng_next(hu_rng *g);
/* Uniform in [lo, hi] (inclusive); lo when hi <= lo. */
unsigned hu_rng_between(hu_rng *g, unsigned lo, unsigned hi);

typedef struct hu_backoff {
    unsigned retry;     /* retries scheduled so far */
    unsigned prev_ms;   /* last delay, for decorrelated jitter */
} hu_backoff;

void hu_backoff_init(hu_backoff *b);
/* Delay before the next try, in ms:
 *   expo = min(cap, first * multiplier^retry)
 *   none: expo   full: U(0, expo)   equal: expo/2 + U(0, expo/2)
 *   decorrelated: min(cap, U(first, prev * 3))  */
unsigned hu_backoff_next(const hu_rule *r, hu_backoff *b, hu_rng *g);
/* The upper bound hu_backoff_next can return for retry n (0-based). */
unsigned hu_backoff_expo(const hu_rule *r, unsigned n);

#endif
