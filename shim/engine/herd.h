/* SPDX-License-Identifier: MIT */
/* Herd control across processes (library side of shared.h).
 *
 * One prober per dead target: the first process whose try fails takes the
 * target's lease and keeps trying on its own schedule (every PROBE_MS once
 * the target has failed for a while and others wait); every other process
 * keeps its own schedule too, but at each of its try moments it skips the
 * try (a probe_wait) while a live prober holds the lease.  When any try
 * connects, the target turns ok and the waiters try at once, spread over a
 * few tens of ms.  So each connect gives up exactly when it would alone
 * (same attempts, same deadline), and only the prober sends SYNs.
 *
 * The retry budget: retries (SYNs after a failure, except the tries made
 * because the target just answered) are charged to the shared 10 s window
 * and refused once they exceed the rule's share of first tries. */
#ifndef HOSTUP_HERD_H
#define HOSTUP_HERD_H

#include <stdint.h>
#include <sys/socket.h>

#include "decide.h"
#include "hostup/policy.h"
#include "core/shared.h"

#define HU_HIDDEN_H __attribute__((visibility("hidden")))

/* NULL until the first connect() maps the file, or when there is none. */
extern struct hu_shm *hu_shm_map HU_HIDDEN_H;
extern int hu_shm_tried HU_HIDDEN_H;
void hu_herd_map(void) HU_HIDDEN_H;

/* The fast path's view: the map (mapping it on first use), or NULL. */
static inline struct hu_shm *hu_herd_get(void)
{
    if (__builtin_expect(!__atomic_load_n(&hu_shm_tried, __ATOMIC_ACQUIRE), 0))
        hu_herd_map();
    return __atomic_load_n(&hu_shm_map, __ATOMIC_RELAXED);
}

/* A first try was made on sa (an inet address the kernel accepted): one
 * process-local add; the sum reaches the shared window at most once a
 * second (hu_herd_flush). */
extern uint32_t hu_herd_pending HU_HIDDEN_H;
extern int64_t hu_herd_flush_at HU_HIDDEN_H;
void hu_herd_flush(int64_t now) HU_HIDDEN_H;
static inline void hu_herd_first(const struct sockaddr *sa, int64_t now)
{
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
        return;
    __atomic_add_fetch(&hu_herd_pending, 1, __ATOMIC_RELAXED);
    if (now >= __atomic_load_n(&hu_herd_flush_at, __ATOMIC_RELAXED))
        hu_herd_flush(now);
}

typedef struct hu_herd {
    struct hu_shm_slot *slot;   /* NULL: this connect retries on its own */
    unsigned idx;               /* slot index */
    int32_t token, pid;         /* the thread and process that joined */
    int holding;                /* it holds the slot's lease */
    int waiter;                 /* its entry in the waiter table; -1 none */
    int64_t wait_from;          /* when it began to wait for the prober */
    long waited_ms;             /* time spent waiting for the prober */
    unsigned lease_ms;          /* how long a lease lasts without news */
    int go;                     /* the target answered: the next try is free */
    int probe_free;             /* the try now is the prober's extra one:
                                   paced (herd.c, probe_pace), not charged
                                   to the budget */
} hu_herd;

enum hu_herd_act {
    HU_HERD_NOTYET,             /* nothing to do before *wake */
    HU_HERD_TRY,                /* its own try moment: try (a retry) */
    HU_HERD_PROBE,              /* the prober's extra try, or a lease taken
                                   over: try now, not counted as an attempt */
    HU_HERD_GO,                 /* the target answered: try now, free */
    HU_HERD_SKIP,               /* its try moment, while another probes */
};

/* Join the target of sa (after a failure).  h->slot stays NULL without a
 * shared file or a free slot. */
void hu_herd_join(hu_herd *h, const struct sockaddr *sa, const hu_rule *r) HU_HIDDEN_H;
/* Before a first try: is the target failing with a live prober that is
 * not us?  Then *err is its last errno. */
int hu_herd_should_wait(const struct sockaddr *sa, int *err) HU_HIDDEN_H;
/* A try of ours ended: err 0 = connected (elapsed: since the call began). */
void hu_herd_result(hu_herd *h, int err, int retry, int64_t now, long elapsed_ms) HU_HIDDEN_H;
/* The connect is over: gave up (reason: enum hu_giveup) or -1. */
void hu_herd_done(hu_herd *h, int reason) HU_HIDDEN_H;
/* What to do now, given its own next try moment sched. */
enum hu_herd_act hu_herd_decide(hu_herd *h, int64_t sched, int64_t now, int64_t *wake) HU_HIDDEN_H;
/* Blocking: wait (on the slot's futex, in short steps) for the next act
 * other than NOTYET.  Returns EINTR when a handler without SA_RESTART ran
 * (call under the guard, as hu_backoff_wait). */
int hu_herd_pause(hu_herd *h, int64_t sched, enum hu_herd_act *act) HU_HIDDEN_H;
/* How long to hold back a try after the target answered. */
unsigned hu_herd_spread_ms(hu_herd *h) HU_HIDDEN_H;
/* May a retry go now under r's budget?  Charges it when yes. */
int hu_herd_budget(const hu_rule *r, int64_t now) HU_HIDDEN_H;
void hu_herd_atfork_child(void) HU_HIDDEN_H;

/* A connect's herd as the retry decision reaches it (decide.h): sa is the
 * address it tries now (the same storage across a readdress). */
typedef struct hu_herd_ref {
    hu_herd *herd;
    const struct sockaddr *sa;
    const hu_rule *rule;
} hu_herd_ref;
/* Fills o for ref, with this thread's generator. */
void hu_herd_ops(hu_decide_ops *o, hu_herd_ref *ref) HU_HIDDEN_H;

#endif
