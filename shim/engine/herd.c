/* SPDX-License-Identifier: MIT */
/* Herd control: leases, waits, the budget (see herd.h and shared.h).
 *
 * Everything in the file is written with atomics; no lock is ever held,
 * so a process killed between any two instructions leaves at worst a
 * lease (taken back when its owner is found dead or the lease lapses), a
 * waiter entry (skipped once its owner is dead) or a counter off by one. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "herd.h"
#include "sys/real.h"
#include "hostup/hostup.h"
#include "retry.h"
#include "core/log.h"
#include "sys/sysio.h"

struct hu_shm *hu_shm_map;
int hu_shm_tried;
HU_FORK_STATE uint32_t hu_herd_pending;
int64_t hu_herd_flush_at;
static uint64_t my_pidns;
static uint64_t my_start;       /* this process's start time (a lease's identity) */
static int32_t my_start_pid;
/* the file, and why it was refused: said once, at the first connect that
 * would have used it (a healthy program prints nothing) */
static char shm_path[4096];
static const char *shm_refused;
static int shm_refusal_said;
static int64_t shm_touched;

#define PROBE_AFTER_MS 1000     /* failing this long, with waiters: probe often */
#define PROBE_MS 250            /* ... every PROBE_MS, down to PROBE_MIN_MS */
#define PROBE_MIN_MS 60
#define PROBE_SHARE_MS 16000    /* ... so as to send one SYN per 16 s per waiter */
#define WAIT_STEP_MS 100        /* a blocked waiter re-checks the prober this often */
#define RAMP_US 1700            /* the return: one waiter's try per 1.7 ms (59 per 100 ms) */
#define RAMP_MAX_MS 5000
#define PROBE_LIMIT 32          /* slots looked at for one target */
#define TOUCH_MS 60000          /* the file's mtime, at most this often */

HU_FORK_STATE static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static void refused(const char *path, const char *why)
{
    json_t *rec = json_object();
    if (!rec)
        return;
    hu_record_add_common(rec, HOSTUP_EV_CONFIG_ERROR);
    json_object_set_new(rec, "source", json_string(HU_SHM_ENV));
    json_object_set_new(rec, "text", json_string(path));
    json_object_set_new(rec, "reason", json_string(why));
    json_object_set_new(rec, "action", json_string("no shared state: this process retries on its own"));
    hu_log_emit(rec);
}

void hu_herd_map(void)
{
    int saved = errno;
    hu_guard++;
    pthread_mutex_lock(&map_lock);
    if (!__atomic_load_n(&hu_shm_tried, __ATOMIC_ACQUIRE)) {
        char path[4096];
        const char *why = NULL;
        struct stat st;
        if (hu_sys_stat("/proc/self/ns/pid", &st) == 0)
            my_pidns = (uint64_t)st.st_ino;
        if (hu_shm_path(path, sizeof path, getauxval(AT_SECURE) != 0) == 0) {
            struct hu_shm *m = hu_shm_open(path, 0, &why);
            memcpy(shm_path, path, sizeof shm_path);
            shm_touched = hu_now_ms();
            if (m)
                __atomic_store_n(&hu_shm_map, m, __ATOMIC_RELEASE);
            else
                shm_refused = why;
        }
        __atomic_store_n(&hu_shm_tried, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&map_lock);
    hu_guard--;
    errno = saved;
}

HU_FORK_CODE void hu_herd_atfork_child(void)
{
    /* the parent's first tries are the parent's to report */
    __atomic_store_n(&hu_herd_pending, 0, __ATOMIC_RELAXED);
    HU_MUTEX_RESET(&map_lock);
}

/* At a connect's first failure that a rule retries: a refused file is
 * said now (once), and a file in use is touched (what pruning goes by). */
static void herd_used(void)
{
    if (shm_refused && !__atomic_exchange_n(&shm_refusal_said, 1, __ATOMIC_ACQ_REL))
        refused(shm_path, shm_refused);
    int64_t now = hu_now_ms(), last = __atomic_load_n(&shm_touched, __ATOMIC_RELAXED);
    if (hu_shm_map && now - last >= TOUCH_MS &&
        __atomic_compare_exchange_n(&shm_touched, &last, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        hu_shm_touch(shm_path);
}

/* The identity a lease records beside the pid (a pid may be reused). */
static uint64_t self_start(void)
{
    int32_t pid = (int32_t)getpid();
    if (__atomic_load_n(&my_start_pid, __ATOMIC_ACQUIRE) != pid) {
        __atomic_store_n(&my_start, hu_shm_start_time(pid), __ATOMIC_RELAXED);
        __atomic_store_n(&my_start_pid, pid, __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&my_start, __ATOMIC_RELAXED);
}

static int32_t my_tid(void) { return (int32_t)syscall(SYS_gettid); }

/* ---- slots --------------------------------------------------------------- */

static uint64_t target_key(const struct sockaddr *sa, uint16_t *family, uint16_t *port,
                           uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        /* ::ffff:a.b.c.d is the IPv4 host */
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            *family = AF_INET;
            memcpy(addr, &s6->sin6_addr.s6_addr[12], 4);
        } else {
            *family = AF_INET6;
            memcpy(addr, &s6->sin6_addr, 16);
        }
        *port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        *family = AF_INET;
        memcpy(addr, &s4->sin_addr, 4);
        *port = ntohs(s4->sin_port);
    }
    uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a over family, port, address */
    h = (h ^ *family) * 0x100000001b3ull;
    h = (h ^ *port) * 0x100000001b3ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    return h ? h : 1;
}

/* The slot of sa; claims a free one when claim is set. */
static struct hu_shm_slot *find_slot(struct hu_shm *m, const struct sockaddr *sa, int claim,
                                     unsigned *idx)
{
    uint16_t family, port;
    uint8_t addr[16];
    uint64_t key = target_key(sa, &family, &port, addr);
    int64_t now = hu_now_ms();
    for (int pass = 0; pass < (claim ? 2 : 1); pass++) {
        for (unsigned k = 0; k < PROBE_LIMIT; k++) {
            unsigned i = (unsigned)((key + k) % HU_SHM_SLOTS);
            struct hu_shm_slot *s = &m->slots[i];
            uint64_t cur = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
            if (cur == key) {
                *idx = i;
                return s;
            }
            if (!claim)
                continue;
            /* the second pass takes back a slot nobody used for 10 min */
            int stale = pass == 1 && cur && __atomic_load_n(&s->state, __ATOMIC_RELAXED) == HU_SLOT_OK &&
                        !__atomic_load_n(&s->lease_tid, __ATOMIC_RELAXED) &&
                        now - __atomic_load_n(&s->last_change, __ATOMIC_RELAXED) > 600000;
            if ((cur == 0 || stale) &&
                __atomic_compare_exchange_n(&s->key, &cur, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                if (stale) {    /* a new target: its own counters */
                    size_t from = offsetof(struct hu_shm_slot, state);
                    memset((char *)s + from, 0, sizeof *s - from);
                }
                s->family = family;
                s->port = port;
                memcpy(s->addr, addr, 16);
                __atomic_store_n(&s->last_change, now, __ATOMIC_RELAXED);
                *idx = i;
                return s;
            }
            if (cur == key) {
                *idx = i;
                return s;
            }
        }
    }
    return NULL;
}

/* never below zero, even after a process died between the two writes of
 * a change */
static void one_less_failing(struct hu_shm *m)
{
    uint32_t f = __atomic_load_n(&m->failing, __ATOMIC_ACQUIRE);
    while (f && !__atomic_compare_exchange_n(&m->failing, &f, f - 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

static void futex_wake(uint32_t *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void bump(struct hu_shm_slot *s)
{
    __atomic_add_fetch(&s->gen, 1, __ATOMIC_RELEASE);
    futex_wake(&s->gen);
}

static int lease_alive(const struct hu_shm_slot *s, int64_t now)
{
    return hu_shm_lease_alive(s, now, my_pidns);
}

static int holds(hu_herd *h)
{
    if (!h->holding)
        return 0;
    if (__atomic_load_n(&h->slot->lease_tid, __ATOMIC_ACQUIRE) != h->token || getpid() != h->pid)
        h->holding = 0;     /* taken over (it lapsed), or we are a forked child */
    return h->holding;
}

static void take_lease(hu_herd *h, int64_t now)
{
    struct hu_shm_slot *s = h->slot;
    int32_t cur = __atomic_load_n(&s->lease_tid, __ATOMIC_ACQUIRE);
    if (cur == h->token && getpid() == h->pid) {
        h->holding = 1;
    } else if ((cur == 0 || !lease_alive(s, now)) &&
               __atomic_compare_exchange_n(&s->lease_tid, &cur, h->token, 0, __ATOMIC_ACQ_REL,
                                           __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&s->lease_pid, h->pid, __ATOMIC_RELAXED);
        __atomic_store_n(&s->lease_pidns, my_pidns, __ATOMIC_RELAXED);
        __atomic_store_n(&s->lease_start, self_start(), __ATOMIC_RELAXED);
        /* progress counts from now; the first probe may go at once */
        __atomic_store_n(&s->last_probe, now - PROBE_MS, __ATOMIC_RELAXED);
        h->holding = 1;
    } else {
        return;
    }
    __atomic_store_n(&s->lease_until, now + h->lease_ms, __ATOMIC_RELEASE);
}

static void release_lease(hu_herd *h)
{
    int32_t tok = h->token;
    if (holds(h) && __atomic_compare_exchange_n(&h->slot->lease_tid, &tok, 0, 0, __ATOMIC_ACQ_REL,
                                                __ATOMIC_ACQUIRE))
        bump(h->slot);      /* a waiter takes over */
    h->holding = 0;
}

static void waiter_add(hu_herd *h, int64_t now)
{
    if (h->waiter >= 0)
        return;
    if (!h->wait_from)
        h->wait_from = now;
    struct hu_shm *m = hu_shm_map;
    unsigned start = (unsigned)h->token * 2654435761u % HU_SHM_WAITERS;
    for (int pass = 0; pass < 2; pass++)
        for (unsigned k = 0; k < HU_SHM_WAITERS; k++) {
            struct hu_shm_waiter *w = &m->waiters[(start + k) % HU_SHM_WAITERS];
            int32_t cur = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);
            /* the second pass takes back entries of dead processes (at
             * most 64 checked: each costs a system call) */
            if (cur && (pass == 0 || k >= 64 || hu_shm_alive(w->pid, cur)))
                continue;
            if (__atomic_compare_exchange_n(&w->tid, &cur, h->token, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                w->pid = h->pid;
                w->slot = h->idx;
                w->since = now;
                h->waiter = (int)((start + k) % HU_SHM_WAITERS);
                return;
            }
        }
    /* table full: it still waits, uncounted */
}

static void waiter_remove(hu_herd *h, int64_t now)
{
    if (h->wait_from)
        h->waited_ms += (long)(now - h->wait_from);
    h->wait_from = 0;
    if (h->waiter < 0)
        return;
    struct hu_shm_waiter *w = &hu_shm_map->waiters[h->waiter];
    int32_t tok = h->token;
    if (getpid() == h->pid)
        __atomic_compare_exchange_n(&w->tid, &tok, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    h->waiter = -1;
}

/* Waiters of the slot (no liveness check: a hint for the prober's pace
 * and the spread). */
static unsigned waiters_of(unsigned idx)
{
    unsigned n = 0;
    for (unsigned i = 0; i < HU_SHM_WAITERS; i++) {
        const struct hu_shm_waiter *w = &hu_shm_map->waiters[i];
        n += __atomic_load_n(&w->tid, __ATOMIC_RELAXED) && w->slot == idx;
    }
    return n;
}

/* The prober's pace while others wait: every PROBE_MS, more often as more
 * wait (the sooner the verdict, the more connects it serves), never more
 * than one SYN per PROBE_SHARE_MS per waiter.  0: nobody waits. */
static unsigned probe_pace(unsigned idx)
{
    unsigned n = waiters_of(idx);
    if (!n)
        return 0;
    unsigned ms = PROBE_SHARE_MS / n;
    return ms > PROBE_MS ? PROBE_MS : ms < PROBE_MIN_MS ? PROBE_MIN_MS : ms;
}

/* ---- the connect's side -------------------------------------------------- */

void hu_herd_join(hu_herd *h, const struct sockaddr *sa, const hu_rule *r)
{
    memset(h, 0, sizeof *h);
    h->waiter = -1;
    struct hu_shm *m = __atomic_load_n(&hu_shm_map, __ATOMIC_ACQUIRE);
    if (!m) {
        herd_used();
        return;
    }
    h->slot = find_slot(m, sa, 1, &h->idx);
    h->token = my_tid();
    h->pid = getpid();
    /* covers the prober's sleep to its next try and the try itself; a
     * prober that dies is noticed sooner (its pid is gone).  Never more
     * than others accept (HU_LEASE_MAX_MS). */
    unsigned ms = 2 * r->backoff_cap_ms + (r->timeout_ms ? r->timeout_ms : 10000) + 1000;
    h->lease_ms = ms < HU_LEASE_MAX_MS ? ms : HU_LEASE_MAX_MS;
    herd_used();
}

int hu_herd_should_wait(const struct sockaddr *sa, int *err)
{
    struct hu_shm *m = __atomic_load_n(&hu_shm_map, __ATOMIC_ACQUIRE);
    unsigned idx;
    struct hu_shm_slot *s = m ? find_slot(m, sa, 0, &idx) : NULL;
    int64_t now = hu_now_ms();
    if (!s || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != HU_SLOT_FAILING)
        return 0;
    if (!lease_alive(s, now)) {
        /* failing, and nobody has probed it for a minute: every process
         * that knew is gone.  Forget it, so that healthy connects are back
         * to their single read of the file. */
        uint32_t st = HU_SLOT_FAILING;
        if (now - __atomic_load_n(&s->last_probe, __ATOMIC_RELAXED) > 60000 &&
            __atomic_compare_exchange_n(&s->state, &st, HU_SLOT_OK, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&s->last_change, now, __ATOMIC_RELAXED);
            one_less_failing(m);
        }
        return 0;
    }
    if (__atomic_load_n(&s->lease_tid, __ATOMIC_RELAXED) == my_tid())
        return 0;
    *err = __atomic_load_n(&s->last_errno, __ATOMIC_RELAXED);
    return *err > 0;
}

void hu_herd_result(hu_herd *h, int err, int retry, int64_t now, long elapsed_ms)
{
    struct hu_shm_slot *s = h->slot;
    if (!s)
        return;
    __atomic_add_fetch(&s->tries, 1, __ATOMIC_RELAXED);
    if (retry)
        __atomic_add_fetch(&s->retries, 1, __ATOMIC_RELAXED);
    uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    if (err) {
        __atomic_store_n(&s->last_errno, err, __ATOMIC_RELAXED);
        if (st == HU_SLOT_OK && __atomic_compare_exchange_n(&s->state, &st, HU_SLOT_FAILING, 0,
                                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&s->failing_since, now, __ATOMIC_RELAXED);
            __atomic_store_n(&s->last_change, now, __ATOMIC_RELAXED);
            __atomic_add_fetch(&hu_shm_map->failing, 1, __ATOMIC_RELEASE);
        }
        take_lease(h, now);
        if (h->holding)
            __atomic_store_n(&s->last_probe, now, __ATOMIC_RELAXED);
        return;
    }
    waiter_remove(h, now);
    if (retry) {
        unsigned b = 0;
        while (b < HU_SHM_HIST - 1 && elapsed_ms > (long)hu_shm_hist_ms[b])
            b++;
        __atomic_add_fetch(&s->recovered, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->hist[b], 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->hist_sum_ms, (uint64_t)(elapsed_ms > 0 ? elapsed_ms : 0), __ATOMIC_RELAXED);
    }
    if (st == HU_SLOT_FAILING) {    /* the waiters' return starts now (hu_herd_spread_ms) */
        __atomic_store_n(&s->ramp_next, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&s->ramp_from, now, __ATOMIC_RELEASE);
    }
    if (st == HU_SLOT_FAILING && __atomic_compare_exchange_n(&s->state, &st, HU_SLOT_OK, 0,
                                                              __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&s->last_change, now, __ATOMIC_RELAXED);
        one_less_failing(hu_shm_map);
        bump(s);            /* the waiters' moment */
    }
    release_lease(h);
}

void hu_herd_done(hu_herd *h, int reason)
{
    if (!h->slot)
        return;
    if (reason >= 0 && reason < HU_GU_N)
        __atomic_add_fetch(&h->slot->gave_up[reason], 1, __ATOMIC_RELAXED);
    waiter_remove(h, hu_now_ms());
    release_lease(h);
    h->slot = NULL;
}

enum hu_herd_act hu_herd_decide(hu_herd *h, int64_t sched, int64_t now, int64_t *wake)
{
    struct hu_shm_slot *s = h->slot;
    *wake = sched;
    if (!s)
        return now >= sched ? HU_HERD_TRY : HU_HERD_NOTYET;
    if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == HU_SLOT_OK) {
        waiter_remove(h, now);
        return HU_HERD_GO;      /* someone connected since our failure */
    }
    if (!holds(h))
        take_lease(h, now);     /* free, lapsed, or its owner is dead */
    if (h->holding) {
        waiter_remove(h, now);
        __atomic_store_n(&s->lease_until, now + h->lease_ms, __ATOMIC_RELEASE);
        int64_t next = sched, last = __atomic_load_n(&s->last_probe, __ATOMIC_RELAXED);
        unsigned pace = probe_pace(h->idx);
        if (now - __atomic_load_n(&s->failing_since, __ATOMIC_RELAXED) >= PROBE_AFTER_MS &&
            pace && last + pace < next)
            next = last + pace;
        /* look again within PROBE_MS: the target may pass PROBE_AFTER_MS,
         * or waiters may come, while it sleeps toward its own moment */
        *wake = next < now + PROBE_MS ? next : now + PROBE_MS;
        if (now < next)
            return HU_HERD_NOTYET;
        __atomic_store_n(&s->last_probe, now, __ATOMIC_RELAXED);
        h->probe_free = now < sched;
        return now >= sched ? HU_HERD_TRY : HU_HERD_PROBE;
    }
    waiter_add(h, now);
    if (now >= sched) {
        __atomic_add_fetch(&s->probe_waits, 1, __ATOMIC_RELAXED);
        return HU_HERD_SKIP;
    }
    if (sched > now + WAIT_STEP_MS)
        *wake = now + WAIT_STEP_MS;
    return HU_HERD_NOTYET;
}

int hu_herd_pause(hu_herd *h, int64_t sched, enum hu_herd_act *act)
{
    for (;;) {
        int64_t now = hu_now_ms(), wake;
        uint32_t gen = h->slot ? __atomic_load_n(&h->slot->gen, __ATOMIC_ACQUIRE) : 0;
        *act = hu_herd_decide(h, sched, now, &wake);
        if (*act == HU_HERD_GO) {
            if (hu_backoff_wait(hu_herd_spread_ms(h), 1) == EINTR)
                return EINTR;
            return 0;
        }
        if (*act != HU_HERD_NOTYET)
            return 0;
        if (!h->slot) {
            if (hu_backoff_wait((unsigned)(wake - now), 1) == EINTR)
                return EINTR;
            continue;
        }
        int64_t ms = wake - now;
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        hu_guard--;     /* the program's handlers may run here, wrapped as usual */
        long rc = syscall(SYS_futex, &h->slot->gen, FUTEX_WAIT, gen, &ts, NULL, 0);
        int e = rc < 0 ? errno : 0;
        hu_guard++;
        if (e == EINTR && hu_signal_wants_eintr())
            return EINTR;
    }
}

/* The return after a recovery is a ramp: each waiter takes the next
 * ticket and tries RAMP_US after the one before, counted from the moment
 * the target answered, so the service sees at most 100 ms / RAMP_US of
 * them in any 100 ms, however many wait, and the ramp lasts as long as
 * there are waiters (200: 0.34 s).  A waiter that notices late (an event
 * loop looks every 50 ms) goes as soon as its ticket's moment has passed. */
unsigned hu_herd_spread_ms(hu_herd *h)
{
    struct hu_shm_slot *s = h->slot;
    if (!s)
        return 0;
    uint32_t ticket = __atomic_fetch_add(&s->ramp_next, 1, __ATOMIC_RELAXED);
    int64_t at = __atomic_load_n(&s->ramp_from, __ATOMIC_ACQUIRE) + (int64_t)ticket * RAMP_US / 1000;
    int64_t ms = at - hu_now_ms();
    return ms <= 0 ? 0 : ms > RAMP_MAX_MS ? RAMP_MAX_MS : (unsigned)ms;
}

/* ---- the retry decision's view (decide.h) --------------------------------- */

static void op_join(void *ctx)
{
    hu_herd_ref *x = ctx;
    hu_herd_join(x->herd, x->sa, x->rule);
}

static void op_result(void *ctx, int err, int retry, int64_t now, long elapsed_ms)
{
    hu_herd_result(((hu_herd_ref *)ctx)->herd, err, retry, now, elapsed_ms);
}

static void op_done(void *ctx, int reason) { hu_herd_done(((hu_herd_ref *)ctx)->herd, reason); }

/* The prober's extra tries replace the waiters' own retries, at a pace
 * bounded by their number (probe_pace): they are not charged, or the
 * faster pace of many waiters would spend the budget, and every waiter
 * that takes the lease after would give up in turn. */
static int op_budget(void *ctx, const hu_rule *r, int64_t now)
{
    hu_herd *h = ((hu_herd_ref *)ctx)->herd;
    if (h->probe_free) {
        h->probe_free = 0;
        return 1;
    }
    return hu_herd_budget(r, now);
}

void hu_herd_ops(hu_decide_ops *o, hu_herd_ref *ref)
{
    *o = (hu_decide_ops){.ctx = ref, .rng = hu_thread_rng, .herd_join = op_join,
                         .herd_result = op_result, .herd_done = op_done, .herd_budget = op_budget};
}
