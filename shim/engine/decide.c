/* SPDX-License-Identifier: MIT */
/* The retry decision (see decide.h).
 *
 * The rules, in the order they apply to a failure (README, "What is
 * retried" and "When the policy is spent"):
 * - an errno the rule does not retry ends the call (reason error; a
 *   record only when some retry was made);
 * - where nothing will ever answer (the caller's no_network fact), the
 *   call ends at once with the kernel's errno (reason no_network, a record);
 * - the rule's attempts, then its deadline (and, on a blocking socket,
 *   the program's own SO_SNDTIMEO): a try that would start after it is
 *   not made;
 * - otherwise a retry (or probe_wait) record and a wait of the backoff
 *   delay; meanwhile the name is looked up again.
 * The program gets the errno of the last try the kernel itself answered;
 * a try hostup cut counts as ETIMEDOUT for retry_on only. */
#include <errno.h>

#include "decide.h"
#include "herd.h"
#include "hostup/hostup.h"

void hu_decide_init(hu_attempt *a, const hu_rule *r, int64_t t0, unsigned sndtimeo_ms,
                    int may_wait, int have_host, unsigned relook_ms)
{
    *a = (hu_attempt){.rule = r, .attempt = 1, .t0 = t0, .try_start = t0, .next_try = t0,
                      .may_wait = may_wait, .have_host = have_host, .relook_ms = relook_ms};
    if (r->deadline_ms)
        a->deadline_end = t0 + (int64_t)r->deadline_ms;
    if (sndtimeo_ms)
        a->snd_end = t0 + (int64_t)sndtimeo_ms;
    hu_backoff_init(&a->bo);
}

/* The bound no try may start past: the deadline or SO_SNDTIMEO, the sooner. */
static int64_t end_of(const hu_attempt *a)
{
    int64_t d = a->deadline_end, s = a->snd_end;
    return !d ? s : !s || d < s ? d : s;
}

static void rec(hu_action *out, const hu_attempt *a, const char *event, int err, long delay,
                int64_t now, int reason, int icmp)
{
    out->rec = (hu_decide_rec){.event = event, .err = err, .attempt = a->attempt,
                               .delay_ms = delay, .elapsed_ms = (long)(now - a->t0),
                               .try_ms = (long)(now - a->try_start), .reason = reason,
                               .icmp = icmp, .fold_err = a->retry_err};
}

static void give_up(hu_attempt *a, const hu_decide_ops *o, hu_action *out, int why, int log,
                    int64_t now, int icmp)
{
    out->kind = HU_DO_GIVE_UP;
    out->err = a->shown;
    out->reason = log ? why : -1;
    if (log)
        rec(out, a, HOSTUP_EV_GAVE_UP, a->shown, -1, now, why, icmp);
    if (o->herd_done)
        o->herd_done(o->ctx, out->reason);
    a->probing = 0;
}

/* The herd of the target: joined at the first failure the rule retries
 * (a skipped first moment included: it waits on that herd). */
static void join(hu_attempt *a, const hu_decide_ops *o, int err)
{
    const hu_rule *r = a->rule;
    if (!a->herd_joined && r->attempts > 1 && hu_rule_retries_errno(r, err) && o->herd_join) {
        o->herd_join(o->ctx);
        a->herd_joined = 1;
    }
}

/* A failure of a real try: what the herd and the errno bookkeeping learn. */
static void note_failure(hu_attempt *a, const hu_decide_ops *o, int err, int cut, int64_t now)
{
    if (!cut)
        a->last_real = err;
    join(a, o, err);
    if (o->herd_result)
        o->herd_result(o->ctx, err, a->failed, now, (long)(now - a->t0));
}

/* The wait before the next try, and the look-up of the name meanwhile. */
static void schedule(hu_attempt *a, hu_action *out, unsigned delay, int skipped, int64_t now)
{
    out->kind = HU_DO_WAIT;
    out->until = a->next_try = now + delay;
    if (skipped)
        return;
    out->reset = 1;
    /* one look-up at a time; one out too long is asked anew */
    if (a->relook && now - a->relook_t >= (int64_t)a->relook_ms) {
        out->drop_relook = 1;
        a->relook = 0;
    }
    if (a->have_host && !a->relook) {
        out->start_relook = 1;
        a->relook_t = now;
    }
}

void hu_decide_failed(hu_attempt *a, const hu_decide_ops *o, int err, int cut, int skipped,
                      int64_t now, hu_action *out)
{
    const hu_rule *r = a->rule;
    *out = (hu_action){.rec.event = NULL};
    int retried = o->retries ? o->retries(o->ctx, r, err) : hu_rule_retries_errno(r, err);
    a->last_err = err;
    if (retried && a->no_network && !cut && !skipped) {
        /* nothing will ever answer: the kernel's errno now, no herd */
        a->last_real = a->shown = err;
        give_up(a, o, out, HU_GU_NO_NETWORK, 1, now, 1);
        return;
    }
    if (!skipped)
        note_failure(a, o, err, cut, now);
    else
        join(a, o, err);
    a->failed = 1;
    a->shown = cut && a->last_real ? a->last_real : err;
    if (a->probing) {           /* the prober's extra try: its own schedule goes on */
        a->probing = 0;
        if (retried) {
            out->kind = HU_DO_WAIT;
            out->until = a->next_try;
            out->reset = 1;
            return;
        }
    }
    if (!retried) {
        give_up(a, o, out, HU_GU_ERROR, a->attempt > 1, now, 1);
        return;
    }
    if (a->attempt >= r->attempts) {
        give_up(a, o, out, HU_GU_ATTEMPTS, 1, now, 1);
        return;
    }
    unsigned delay = hu_backoff_next(r, &a->bo, o->rng());
    int64_t end = end_of(a);
    if (end && now + delay >= end) {
        give_up(a, o, out, HU_GU_DEADLINE, 1, now, 1);
        return;
    }
    if (!skipped)
        a->retry_err = err;
    rec(out, a, skipped ? HOSTUP_EV_PROBE_WAIT : HOSTUP_EV_RETRY, err, delay, now, -1, !skipped);
    schedule(a, out, delay, skipped, now);
}

void hu_decide_due(hu_attempt *a, const hu_decide_ops *o, int herd_act, int64_t now,
                   hu_action *out)
{
    *out = (hu_action){.rec.event = NULL};
    switch (herd_act) {
    case HU_HERD_NOTYET:
        out->kind = HU_DO_WAIT;
        out->until = a->next_try;
        return;
    case HU_HERD_SKIP:          /* the moment is spent, as if tried */
        a->attempt++;
        hu_decide_failed(a, o, a->last_err, 0, 1, now, out);
        return;
    case HU_HERD_PROBE:
    case HU_HERD_TRY:
        if (o->herd_budget && !o->herd_budget(o->ctx, a->rule, now)) {
            give_up(a, o, out, HU_GU_BUDGET, 1, now, 0);
            return;
        }
        break;
    default:                    /* HU_HERD_GO: the target answered, the try is free */
        break;
    }
    a->probing = herd_act == HU_HERD_PROBE;
    if (!a->probing)
        a->attempt++;
    out->kind = HU_DO_TRY;
    out->relook_until = now;
    if (a->relook && a->may_wait) {
        int64_t until = a->relook_t + (int64_t)a->relook_ms, end = end_of(a);
        out->relook_until = end && until > end ? end : until;
    }
}

int64_t hu_decide_start(hu_attempt *a, int64_t now)
{
    const hu_rule *r = a->rule;
    a->try_start = now;
    int64_t b = r->timeout_ms ? now + (int64_t)r->timeout_ms : -1;
    /* the deadline cuts a try only once some try has a real errno to hand
     * over; the program's own SO_SNDTIMEO always does, as in the kernel */
    int64_t end = a->snd_end;
    if (a->deadline_end && a->last_real && (!end || a->deadline_end < end))
        end = a->deadline_end;
    a->cut_by_end = end && (b < 0 || end <= b);
    if (a->cut_by_end)
        b = end > now ? end : now + 1;
    return b;
}

void hu_decide_tried(hu_attempt *a, const hu_decide_ops *o, int err, int cut, int64_t now,
                     hu_action *out)
{
    *out = (hu_action){.rec.event = NULL};
    if (!err) {
        if (o->herd_result)
            o->herd_result(o->ctx, 0, a->failed, now, (long)(now - a->t0));
        out->kind = HU_DO_DONE;
        if (a->failed) {
            rec(out, a, HOSTUP_EV_RECOVERED, 0, -1, now, -1, 0);
            out->rec.waited = 1;
        }
        if (o->herd_done)
            o->herd_done(o->ctx, -1);
        a->probing = 0;
        return;
    }
    if (cut && a->cut_by_end && !a->failed) {
        /* the first try met SO_SNDTIMEO: the kernel's own answer, the SYN
         * still in flight */
        out->kind = HU_DO_GIVE_UP;
        out->err = EINPROGRESS;
        out->reason = -1;
        return;
    }
    if (cut && a->cut_by_end) { /* the deadline came during this try */
        note_failure(a, o, err, 1, now);
        a->last_err = err;
        a->shown = a->last_real ? a->last_real : err;
        give_up(a, o, out, HU_GU_DEADLINE, 1, now, 1);
        return;
    }
    hu_decide_failed(a, o, err, cut, 0, now, out);
}

void hu_decide_again(hu_attempt *a, int64_t now)
{
    a->failed = 1;
    a->attempt++;
    a->try_start = a->next_try = now;
}

void hu_decide_moved(hu_attempt *a, const hu_decide_ops *o, int64_t now, hu_decide_rec *r)
{
    *r = (hu_decide_rec){.event = HOSTUP_EV_READDRESSED, .attempt = a->attempt, .delay_ms = -1,
                         .elapsed_ms = (long)(now - a->t0), .reason = -1};
    a->relook = 0;
    if (a->herd_joined && o->herd_done)
        o->herd_done(o->ctx, -1);   /* the old address's prober is not ours */
    a->herd_joined = 0;
}
