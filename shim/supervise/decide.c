/* The retry decision the supervisor's loop asks after each failed try.
 *
 * A thin local adapter over the core's policy and backoff, with the same
 * outcomes as the library's blocking connect (shim/wrap/connect.c): give
 * up at once on an errno the rule does not retry, or when the attempts or
 * the deadline are spent; otherwise wait the backoff delay.  The errno a
 * program gets is always one the kernel gave (a try our own bound cut
 * short counts as ETIMEDOUT only for the decision).  Plain inputs, the
 * clock passed in: to be replaced by the engine's one decision. */
#include "sv.h"

void sv_retry_init(sv_retry *t, const hu_rule *r, int64_t end)
{
    t->r = r;
    t->attempt = 1;
    hu_backoff_init(&t->bo);
    t->end = end;
    t->real = 0;
}

sv_decision sv_decide(sv_retry *t, int err, int cut, int64_t now, hu_rng *g)
{
    const hu_rule *r = t->r;
    sv_decision d = {.next = SV_GIVE_UP, .delay_ms = 0, .reason = -1, .log = 1};
    if (!cut && err)
        t->real = err;
    d.err = cut && t->real ? t->real : err;
    if (!hu_rule_retries_errno(r, err)) {
        d.reason = HU_GU_ERROR;
        d.log = t->attempt > 1;     /* a first failure not retried: no record */
        return d;
    }
    unsigned delay = t->attempt < r->attempts ? hu_backoff_next(r, &t->bo, g) : 0;
    if (t->attempt >= r->attempts || (t->end && now + delay >= t->end)) {
        d.reason = t->attempt >= r->attempts ? HU_GU_ATTEMPTS : HU_GU_DEADLINE;
        return d;
    }
    d.next = SV_WAIT;
    d.delay_ms = delay;
    return d;
}
