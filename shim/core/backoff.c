/* SPDX-License-Identifier: MIT */
/* Backoff schedule.  Formulas follow AWS's "exponential backoff and jitter"
 * (full, equal, decorrelated) so users can compare with what they know. */
#include "hostup/backoff.h"

/* splitmix64: tiny, good enough for jitter, no shared state. */
uint64_t hu_rng_next(hu_rng *g)
{
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void hu_rng_seed(hu_rng *g, uint64_t seed) { g->s = seed; }

unsigned hu_rng_between(hu_rng *g, unsigned lo, unsigned hi)
{
    if (hi <= lo)
        return lo;
    return lo + (unsigned)(hu_rng_next(g) % ((uint64_t)hi - lo + 1));
}

void hu_backoff_init(hu_backoff *b)
{
    b->retry = 0;
    b->prev_ms = 0;
}

unsigned hu_backoff_expo(const hu_rule *r, unsigned n)
{
    /* a loop, not pow(): keeps libm out of the preloaded library */
    double d = r->backoff_first_ms;
    for (unsigned i = 0; i < n && d < r->backoff_cap_ms; i++)
        d *= r->multiplier;
    return d >= r->backoff_cap_ms ? r->backoff_cap_ms : (unsigned)d;
}

unsigned hu_backoff_next(const hu_rule *r, hu_backoff *b, hu_rng *g)
{
    unsigned expo = hu_backoff_expo(r, b->retry), d;
    switch (r->jitter) {
    case HU_JITTER_NONE:
        d = expo;
        break;
    case HU_JITTER_EQUAL:
        d = expo / 2 + hu_rng_between(g, 0, expo - expo / 2);
        break;
    case HU_JITTER_DECORRELATED: {
        unsigned prev = b->prev_ms ? b->prev_ms : r->backoff_first_ms;
        uint64_t hi = (uint64_t)prev * 3;
        d = hu_rng_between(g, r->backoff_first_ms,
                           hi > r->backoff_cap_ms ? r->backoff_cap_ms : (unsigned)hi);
        break;
    }
    case HU_JITTER_FULL:
    default:
        d = hu_rng_between(g, 0, expo);
        break;
    }
    b->retry++;
    b->prev_ms = d;
    return d;
}
