/* SPDX-License-Identifier: MIT */
/* The retry decision the supervisor's loop asks after each failed try:
 * the engine's one decision (engine/decide.h), which the library's
 * blocking connect, its event loops and its volume calls follow too.  It
 * gives up at once on an errno the rule does not retry, or when the
 * attempts or the deadline are spent; otherwise it waits the backoff
 * delay.  The errno a program gets is always one the kernel gave (a try
 * our own bound cut short counts as ETIMEDOUT only for the decision).
 * The loop (hold.c) keeps its own herd and bounds; this adapter hands the
 * decision no herd and no name to look up again. */
#define _GNU_SOURCE
#include "engine/retry.h"
#include "sv.h"

void sv_retry_init(sv_retry *t, const hu_rule *r, int64_t t0, int64_t end)
{
    hu_decide_init(&t->a, r, t0, 0, 1, 0, 0);
    /* the supervisor's own bound (deadline, SO_SNDTIMEO, its hold cap) */
    t->a.deadline_end = end;
    t->end = end;
}

sv_decision sv_decide(sv_retry *t, int err, int cut, int64_t now)
{
    hu_decide_ops o = {.rng = hu_thread_rng};
    hu_action x;
    hu_decide_failed(&t->a, &o, err, cut, 0, now, &x);
    if (x.kind == HU_DO_WAIT)
        return (sv_decision){.next = SV_WAIT, .delay_ms = (unsigned)(x.until - now), .reason = -1};
    return (sv_decision){.next = SV_GIVE_UP, .err = x.err, .reason = x.reason,
                         .log = x.rec.event != NULL};
}
