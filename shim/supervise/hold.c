/* SPDX-License-Identifier: MIT */
/* One held connect, on its own thread: the retry loop.  Each failed try
 * goes to the one retry decision (sv_decide); its waits go through the
 * herd (engine/herd.c), so a program here and a preloaded one elsewhere
 * share one prober per dead target; the program is answered only with the
 * final result: 0, or the errno the kernel itself gave.
 *
 * Bounds on a try, the earliest wins: the rule's timeout (cut, retried as
 * ETIMEDOUT), the program's SO_SNDTIMEO on a blocking socket and, for a
 * non-blocking one, SV_GRACE_MS (answered EINPROGRESS with the SYN left in
 * flight: the program's own loop takes over, as without hostup); once the
 * kernel has failed a try, the deadline (min of the rule's, SO_SNDTIMEO
 * and SV_HOLD_CAP_MS) ends it with that errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/retry.h"
#include "hostup/hostup.h"
#include "sv.h"

#define SV_GRACE_MS 3000        /* a non-blocking program's SYN in flight */
#define SV_HOLD_CAP_MS 30000    /* no new try after this long */
#define SV_STEP_MS 250          /* is the trapped call still there? */

enum { CUT = -1, GONE = -2 };
enum bound { BY_NONE, BY_TIMEOUT, BY_HANDOVER, BY_END };

static const struct sockaddr *target(const struct sv_hold *h)
{
    return (const struct sockaddr *)&h->ss;
}

/* connect(AF_UNSPEC): back to TCP_CLOSE for a fresh SYN; the ECONNRESET
 * that leaves in SO_ERROR is nobody's */
static void reset(int fd)
{
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    int err = 0;
    socklen_t l = sizeof err;
    (void)connect(fd, &unspec, sizeof unspec);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
}

static int tcp_state(int fd)
{
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    memset(&ti, 0, sizeof ti);
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 ? ti.tcpi_state : -1;
}

/* The earliest bound on a try that began at start. */
static int64_t try_until(const struct sv_hold *h, const sv_retry *t, int64_t start, enum bound *by)
{
    int64_t until = 0;
    *by = BY_NONE;
#define EARLIER(at, why)                                \
    do {                                                \
        int64_t a_ = (at);                              \
        if (!until || a_ < until) {                     \
            until = a_;                                 \
            *by = (why);                                \
        }                                               \
    } while (0)
    if (h->r->timeout_ms)
        EARLIER(start + h->r->timeout_ms, BY_TIMEOUT);
    if (h->flags & O_NONBLOCK)
        EARLIER(start + SV_GRACE_MS, BY_HANDOVER);
    else if (h->sndtimeo_ms)
        EARLIER(h->t0 + h->sndtimeo_ms, BY_HANDOVER);
    if (t->a.last_real && t->end)
        EARLIER(t->end, BY_END);
#undef EARLIER
    return until;
}

/* Wait for the try in flight: 0, an errno, CUT at until, or GONE. */
static int settle(struct sv_hold *h, int64_t until)
{
    for (;;) {
        int64_t left = until ? until - hu_now_ms() : SV_STEP_MS;
        if (left <= 0)
            return CUT;
        struct pollfd p = {h->fd, POLLOUT, 0};
        int n = poll(&p, 1, (int)(left < SV_STEP_MS ? left : SV_STEP_MS));
        if (n > 0) {
            int err = 0;
            socklen_t l = sizeof err;
            if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
                err = errno;
            if (err)
                return err;
            int st = tcp_state(h->fd);
            if (st == TCP_SYN_SENT)
                continue;
            if (st == TCP_CLOSE) {  /* the error was read already: ICMP's */
                hu_icmp icmp = {0};
                hu_drain_errqueue(h->fd, &icmp);
                return icmp.have && icmp.ee_errno ? icmp.ee_errno : ECONNABORTED;
            }
            return 0;
        }
        if (!sv_id_valid(h->s, h->id))
            return GONE;    /* killed, or a signal ended the call */
    }
}

static int try_now(struct sv_hold *h, int64_t until)
{
    if (connect(h->fd, target(h), h->len) == 0)
        return 0;
    return errno == EINPROGRESS ? settle(h, until) : errno;
}

void sv_hold_reply(struct sv_hold *h, int err)
{
    const struct sv *s = h->s;
    if (h->addfd && (err == 0 || err == EINPROGRESS)) {
        /* ours becomes the program's socket, with its flags */
        fcntl(h->fd, F_SETFL, h->flags);
        if (sv_install_fd(s, h->id, h->fd, h->pfd, h->cloexec) < 0)
            err = errno == ENOENT ? 0 : errno;
    } else if (!h->addfd && !(h->flags & O_NONBLOCK)) {
        fcntl(h->fd, F_SETFL, h->flags);
    }
    if (h->fd >= 0)
        close(h->fd);
    sv_answer(s, h->id, err);
}

void sv_hold_finish(struct sv_hold *h, int err)
{
    sv_hold_reply(h, err);
    free(h);
}

struct loop {
    struct sv_hold *h;
    sv_retry t;
    hu_herd herd;
    int64_t try_start;
    int err, cut, skipped;
    int joined;                 /* the herd: joined at the first failure */
    hu_icmp icmp;               /* of the last failed try */
};

static void failed(struct loop *L, int retry, int64_t now)
{
    struct sv_hold *h = L->h;
    if (!L->joined) {
        hu_herd_join(&L->herd, target(h), h->r);
        L->joined = 1;
    }
    hu_herd_result(&L->herd, L->err, retry, now, (long)(now - h->t0));
}

static void *over(struct loop *L, int err, int reason)
{
    struct sv *s = L->h->s;
    hu_herd_done(&L->herd, reason);
    sv_hold_finish(L->h, err);
    __atomic_sub_fetch(&s->holding, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void *gone(struct loop *L)
{
    struct sv_hold *h = L->h;
    struct sv *s = h->s;
    hu_herd_done(&L->herd, -1);
    if (!h->addfd && !(h->flags & O_NONBLOCK))
        fcntl(h->fd, F_SETFL, h->flags);
    close(h->fd);
    free(h);
    __atomic_sub_fetch(&s->holding, 1, __ATOMIC_RELAXED);
    return NULL;
}

/* The try's outcome, when it ends the connect: 1 (answered), else 0 with
 * L->err the failure to decide on. */
static int outcome(struct loop *L, int res, enum bound by, int retry)
{
    struct sv_hold *h = L->h;
    int64_t now = hu_now_ms();
    L->cut = res == CUT;
    if (res == 0) {
        hu_herd_result(&L->herd, 0, retry, now, (long)(now - h->t0));
        if (L->t.a.attempt > 1 || L->herd.waited_ms)
            sv_record(HOSTUP_EV_RECOVERED, h, 0, L->t.a.attempt, -1, (long)(now - h->t0), 0, NULL, -1,
                      L->herd.waited_ms);
        return 1;
    }
    if (L->cut && by == BY_HANDOVER)
        return 1;   /* EINPROGRESS, the SYN still in flight */
    memset(&L->icmp, 0, sizeof L->icmp);
    hu_drain_errqueue(h->fd, &L->icmp);
    reset(h->fd);
    if (L->cut && by == BY_END) {
        sv_record(HOSTUP_EV_GAVE_UP, h, L->t.a.last_real, L->t.a.attempt, -1, (long)(now - h->t0),
                  (long)(now - L->try_start), &L->icmp, HU_GU_DEADLINE, 0);
        L->err = L->t.a.last_real;
        return 1;
    }
    L->err = L->cut ? ETIMEDOUT : res;
    failed(L, retry, now);
    return 0;
}

static void *finish_outcome(struct loop *L, int res, enum bound by)
{
    if (res == 0)
        return over(L, 0, -1);
    if (res == CUT && by == BY_HANDOVER)
        return over(L, EINPROGRESS, -1);
    return over(L, L->err, HU_GU_DEADLINE);
}

/* Wait for the next try moment and make the try.  Returns NULL when the
 * connect is over (answered), else L to decide again. */
static void *next_try(struct loop *L, unsigned delay)
{
    struct sv_hold *h = L->h;
    int64_t sched = hu_now_ms() + delay;
    for (;;) {
        enum hu_herd_act act;
        hu_herd_pause(&L->herd, sched, &act);
        if (act == HU_HERD_SKIP) {
            L->skipped = 1;     /* the moment is spent, as if tried */
            L->t.a.attempt++;
            return L;
        }
        int64_t now = hu_now_ms();
        if (act != HU_HERD_GO && !hu_herd_budget(h->r, now)) {
            sv_record(HOSTUP_EV_GAVE_UP, h, L->t.a.last_real ? L->t.a.last_real : L->err, L->t.a.attempt, -1,
                      (long)(now - h->t0), (long)(now - L->try_start), NULL, HU_GU_BUDGET, 0);
            return over(L, L->t.a.last_real ? L->t.a.last_real : L->err, HU_GU_BUDGET);
        }
        if (!sv_id_valid(h->s, h->id))
            return gone(L);
        if (act != HU_HERD_PROBE)
            L->t.a.attempt++;
        L->try_start = now;
        enum bound by;
        int64_t until = try_until(h, &L->t, now, &by);
        int res = try_now(h, until);
        if (res == GONE)
            return gone(L);
        if (outcome(L, res, by, 1))
            return finish_outcome(L, res, by);
        if (!L->cut)
            L->t.a.last_real = L->err;
        if (act != HU_HERD_PROBE || !hu_rule_retries_errno(h->r, L->err))
            return L;
        /* an extra probe failed: its own schedule goes on */
    }
}

void *sv_hold_run(void *arg)
{
    struct loop L;
    memset(&L, 0, sizeof L);
    struct sv_hold *h = L.h = arg;
    const hu_rule *r = h->r;
    int64_t bound = r->deadline_ms;
    if (h->sndtimeo_ms && (!bound || h->sndtimeo_ms < bound))
        bound = h->sndtimeo_ms;
    if (!bound || bound > SV_HOLD_CAP_MS)
        bound = SV_HOLD_CAP_MS;
    sv_retry_init(&L.t, r, h->t0, h->t0 + bound);
    L.try_start = h->t0;
    L.herd.waiter = -1;
    if (!h->first) {            /* another process probes: no first try */
        L.err = h->skip_err;
        L.skipped = 1;
        hu_herd_join(&L.herd, target(h), r);
        L.joined = 1;
    } else if (h->first == EINPROGRESS) {
        enum bound by;
        int res = settle(h, try_until(h, &L.t, h->t0, &by));
        if (res == GONE)
            return gone(&L);
        if (outcome(&L, res, by, 0))
            return finish_outcome(&L, res, by);
    } else {
        L.err = h->first;
        hu_drain_errqueue(h->fd, &L.icmp);
        reset(h->fd);
        failed(&L, 0, hu_now_ms());
    }
    for (;;) {
        int64_t now = hu_now_ms();
        const hu_icmp *icmp = L.skipped ? NULL : &L.icmp;
        sv_decision d = sv_decide(&L.t, L.err, L.cut, now);
        if (d.next == SV_GIVE_UP) {
            if (d.log)
                sv_record(HOSTUP_EV_GAVE_UP, h, d.err, L.t.a.attempt, -1, (long)(now - h->t0),
                          (long)(now - L.try_start), icmp, d.reason, 0);
            return over(&L, d.err, d.reason);
        }
        sv_record(L.skipped ? HOSTUP_EV_PROBE_WAIT : HOSTUP_EV_RETRY, h, L.err, L.t.a.attempt,
                  d.delay_ms, (long)(now - h->t0), (long)(now - L.try_start), icmp, -1, 0);
        L.skipped = 0;
        if (!next_try(&L, d.delay_ms))
            return NULL;
    }
}
