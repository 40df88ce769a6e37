/* SPDX-License-Identifier: MIT */
/* The retry decision: what to do after a failed try, for every caller.
 *
 * One state machine decides for the blocking connect (wrap/connect.c), the
 * event-loop connect (engine/conn.c) and the network-volume calls
 * (engine/volume_retry.c): try again now, wait (until when), skip a try
 * moment for another process's probe (herd), take a moved name's new
 * address (readdress), or give up with which errno and which record.
 *
 * It never calls the system: no clock (now is an input), no socket, no
 * log.  The attempt state is plain data; the herd and the generator come
 * through hu_decide_ops; each answer is an hu_action the caller carries
 * out (reset, wait, connect, write the record described).  So a caller
 * outside the program's call (a supervisor) can drive it too, and the
 * unit tests drive it with a fake clock (tests/unit/test_decide.c). */
#ifndef HOSTUP_DECIDE_H
#define HOSTUP_DECIDE_H

#include <stdint.h>

#include "hostup/backoff.h"
#include "hostup/policy.h"

#define HU_DECIDE_HIDDEN __attribute__((visibility("hidden")))

/* The side effects a decision needs.  Any function may be NULL: no herd
 * (volumes, a process without the shared file).  rng: the generator for
 * the backoff's jitter, asked for only when a delay is drawn (the healthy
 * path never pays for it). */
typedef struct hu_decide_ops {
    void *ctx;
    hu_rng *(*rng)(void);
    /* join the target's herd (after a failure the rule retries) */
    void (*herd_join)(void *ctx);
    /* a try ended: err 0 = connected; retry: it followed a failure */
    void (*herd_result)(void *ctx, int err, int retry, int64_t now, long elapsed_ms);
    /* the call is over: gave up (enum hu_giveup) or -1 */
    void (*herd_done)(void *ctx, int reason);
    /* may a retry go now under the rule's budget?  Charges it when yes. */
    int (*herd_budget)(void *ctx, const hu_rule *r, int64_t now);
    /* does the rule retry err on this call?  NULL: its retry_on alone
     * (volumes add a soft NFS mount's slow EIO, volume.h) */
    int (*retries)(void *ctx, const hu_rule *r, int err);
} hu_decide_ops;

/* One call's retry state (all times hu_now_ms() milliseconds). */
typedef struct hu_attempt {
    const hu_rule *rule;
    unsigned attempt;           /* the try's number, the first is 1 */
    int64_t t0;                 /* the program's call began */
    int64_t try_start;          /* the last try began */
    int64_t next_try;           /* the next try's own moment */
    int64_t deadline_end;       /* t0 + the rule's deadline; 0 none */
    int64_t snd_end;            /* t0 + the program's SO_SNDTIMEO (blocking); 0 none */
    hu_backoff bo;
    int last_err;               /* last failure, as retry_on sees it (ETIMEDOUT when cut) */
    int last_real;              /* errno of the last try the kernel itself ended */
    int shown;                  /* errno the program gets if it ends now */
    int failed;                 /* some try failed: a success now is a recovery */
    int herd_joined;
    int probing;                /* the try in flight is the prober's extra one */
    int cut_by_end;             /* the try in flight is bounded by the deadline or SO_SNDTIMEO */
    int may_wait;               /* the caller may block (waits for a relook's answer) */
    int have_host;              /* a name to look up again (hosts that move) */
    int relook;                 /* a look-up of the name is out (the caller keeps it) */
    int64_t relook_t;           /* ... since then */
    unsigned relook_ms;         /* how long one look-up may stay out */
    int no_network;             /* a fact the caller sets before it reports a
                                 * failure: nothing will ever answer (only
                                 * loopback here, no route: core/offline.h) */
    int retry_err;              /* errno of the last retry record */
} hu_attempt;

enum hu_do {
    HU_DO_WAIT,                 /* wait until .until, then ask hu_decide_due */
    HU_DO_TRY,                  /* make a try now: hu_decide_start, then hu_decide_tried */
    HU_DO_GIVE_UP,              /* hand .err to the program */
    HU_DO_DONE,                 /* connected */
};

/* A record to write: event NULL = none.  The caller adds what it alone
 * knows: the target, the drained ICMP facts (icmp), the time spent
 * waiting for another process's probe (waited). */
typedef struct hu_decide_rec {
    const char *event;
    int err;
    unsigned attempt;
    long delay_ms;              /* -1: none */
    long elapsed_ms;
    long try_ms;
    int reason;                 /* enum hu_giveup, or -1 */
    int icmp;
    int waited;
    int fold_err;               /* gave_up, recovered: the errno of the call's
                                 * retry records, whose folded count they carry */
} hu_decide_rec;

typedef struct hu_action {
    enum hu_do kind;
    int err;                    /* GIVE_UP: the errno for the program */
    int reason;                 /* GIVE_UP: enum hu_giveup, -1 for a first
                                 * failure no rule retries (not counted) */
    int64_t until;              /* WAIT: the next try's moment */
    int reset;                  /* WAIT: reset the socket (leave epoll) first */
    int drop_relook;            /* WAIT: abandon the look-up that is out */
    int start_relook;           /* WAIT: look the name up again (set .relook if one started) */
    int64_t relook_until;       /* TRY: wait this long for the look-up's answer */
    hu_decide_rec rec;
} hu_action;

/* Start: the call began at t0; deadline and SO_SNDTIMEO bounds in ms (0 none). */
void hu_decide_init(hu_attempt *a, const hu_rule *r, int64_t t0, unsigned sndtimeo_ms,
                    int may_wait, int have_host, unsigned relook_ms) HU_DECIDE_HIDDEN;
/* A try failed with err; cut: our own bound ended it first (err is then
 * ETIMEDOUT); skipped: no try was made, a moment passed while another
 * process probes (err: its errno).  WAIT or GIVE_UP; GIVE_UP at once, with
 * reason no_network and a record, when a->no_network says nothing will
 * ever answer a failure the rule retries. */
void hu_decide_failed(hu_attempt *a, const hu_decide_ops *o, int err, int cut, int skipped,
                      int64_t now, hu_action *out) HU_DECIDE_HIDDEN;
/* The wait is over and the herd says act (enum hu_herd_act: a process
 * without the shared file passes HU_HERD_TRY).  TRY, WAIT or GIVE_UP. */
void hu_decide_due(hu_attempt *a, const hu_decide_ops *o, int herd_act, int64_t now,
                   hu_action *out) HU_DECIDE_HIDDEN;
/* A try starts now: when hostup's own bound cuts it (absolute ms), or -1. */
int64_t hu_decide_start(hu_attempt *a, int64_t now) HU_DECIDE_HIDDEN;
/* The try started by hu_decide_start ended: err 0 = connected, else as
 * hu_decide_failed.  DONE, WAIT or GIVE_UP. */
void hu_decide_tried(hu_attempt *a, const hu_decide_ops *o, int err, int cut, int64_t now,
                     hu_action *out) HU_DECIDE_HIDDEN;
/* The failure was repaired on the spot (a stale handle reopened): the
 * next try is now, and counts as one. */
void hu_decide_again(hu_attempt *a, int64_t now) HU_DECIDE_HIDDEN;
/* Before a try the look-up said the name moved: the readdressed record;
 * the old address's herd is left (the new one is joined at a failure). */
void hu_decide_moved(hu_attempt *a, const hu_decide_ops *o, int64_t now,
                     hu_decide_rec *rec) HU_DECIDE_HIDDEN;

#endif
