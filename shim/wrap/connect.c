/* connect(): retry TCP connects that fail with a retryable errno.
 *
 * Fast path: the real connect runs first, untouched; only a failure whose
 * errno some rule retries leads any further.  A try the library makes
 * itself is bounded by the rule's timeout and the overall deadline (and
 * the program's own SO_SNDTIMEO) with O_NONBLOCK + poll on the same fd. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "engine/conn.h"
#include "core/diagnosis.h"
#include "engine/fdtable.h"
#include "engine/herd.h"
#include "hostup/hostup.h"
#include "engine/hu.h"
#include "core/log.h"

static int errno_in(const uint64_t *bits, int e)
{
    return e > 0 && e < HU_ERRNO_MAX && ((bits[e / 64] >> (e % 64)) & 1);
}

static int is_tcp(int fd)
{
    int type = 0, proto = 0;
    socklen_t l = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_STREAM)
        return 0;
    l = sizeof proto;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) < 0)
        return 0;
    return proto == IPPROTO_TCP || proto == 262 /* IPPROTO_MPTCP */;
}

static unsigned sndtimeo_ms(int fd)
{
    struct timeval tv = {0, 0};
    socklen_t l = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) < 0)
        return 0;
    return (unsigned)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* Leave a connection attempt in flight and report EINTR, as POSIX says an
 * interrupted blocking connect does. */
static int interrupted(int fd, const struct sockaddr *sa, socklen_t len, int flags)
{
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    hu_real.connect(fd, sa, len);
    fcntl(fd, F_SETFL, flags);
    return EINTR;
}

/* try_once() ran out of its time limit before the kernel's verdict. */
#define CUT (-1)

/* One try.  Returns 0, the errno of the kernel's verdict, CUT when
 * limit_ms ran out first (the SYN is still in flight: the caller resets
 * or keeps it), EINPROGRESS for a program's non-blocking socket, or EINTR
 * when a signal must reach the program.  limit_ms 0: no limit. */
static int try_once(int fd, const struct sockaddr *sa, socklen_t len, int flags, int64_t limit_ms)
{
    if ((flags & O_NONBLOCK) || limit_ms <= 0) {
        return hu_real.connect(fd, sa, len) == 0 ? 0 : errno;
    }
    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return hu_real.connect(fd, sa, len) == 0 ? 0 : errno;
    int err = hu_real.connect(fd, sa, len) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
        int64_t end = hu_now_ms() + limit_ms;
        err = 0;
        for (;;) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int64_t left = end - hu_now_ms();
            int n = left > 0 ? poll(&pfd, 1, (int)(left > 86400000 ? 86400000 : left)) : 0;
            if (n > 0) {
                socklen_t l = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
                    err = errno;
                if (err)
                    break;
                /* SO_ERROR 0 is not proof of a connection: the error may
                 * already be gone (reading the ICMP error queue clears it),
                 * so ask TCP itself */
                int st = hu_tcp_state(fd);
                if (st == TCP_SYN_SENT)
                    continue;           /* still trying: a spurious wake-up */
                if (st == TCP_CLOSE) {
                    hu_icmp icmp = {0};
                    hu_drain_errqueue(fd, &icmp);
                    err = icmp.have && icmp.ee_errno ? icmp.ee_errno : ECONNABORTED;
                }
                break;
            }
            if (n == 0) {
                fcntl(fd, F_SETFL, flags);
                return CUT;
            }
            if (errno == EINTR && hu_signal_wants_eintr()) {
                fcntl(fd, F_SETFL, flags);
                return EINTR;   /* the SYN is still in flight, as POSIX wants */
            }
        }
        if (err)
            hu_sock_reset(fd);
    }
    fcntl(fd, F_SETFL, flags);
    return err;
}

static void drop_lookup(hu_lookup **l)
{
    hu_lookup_drop(*l);
    *l = NULL;
}

/* Before a try: the new look-up's answer, waited for until look_until (or
 * the deadline).  When the name moved, the try goes to its new address
 * (*ss, *len) and a readdressed record says so; returns 1 then. */
static int readdress(hu_lookup **relook, int64_t look_until, int64_t end, const char *host,
                     struct sockaddr_storage *ss, socklen_t *len, unsigned port, unsigned attempt,
                     const hu_rule *r, int64_t t0)
{
    const struct sockaddr *sa = (const struct sockaddr *)ss;
    struct sockaddr_storage moved;
    socklen_t mlen = 0;
    int m = hu_names_moved(*relook, host, sa, end && look_until > end ? end : look_until, &moved, &mlen);
    if (m >= 0)
        *relook = NULL;     /* finished, and dropped by hu_names_moved */
    if (m != 1)
        return 0;
    hu_conn_log_readdressed(sa, (const struct sockaddr *)&moved, host, port, attempt, r,
                            (long)(hu_now_ms() - t0));
    memcpy(ss, &moved, sizeof moved);
    *len = mlen;
    return 1;
}

/* The retry loop.  err is the errno of a first try that already ran, or 0
 * when the first try is still to be made (a rule with a timeout); with
 * skip, no first try ran and err is the errno another process's probe
 * last met. */
static int connect_retry(int fd, const struct sockaddr *sa0, socklen_t len, int err, int64_t t0,
                         int skip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, sa0, len < sizeof ss ? len : sizeof ss);
    const struct sockaddr *sa = (const struct sockaddr *)&ss;

    if (!is_tcp(fd))
        return err ? err : (hu_real.connect(fd, sa0, len) == 0 ? 0 : errno);

    char host[256];
    int have_host = hu_names_lookup(sa, host, sizeof host);
    unsigned port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    const hu_rule *r = hu_policy_match(hu_policy_get(), have_host ? host : NULL, sa, port);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        flags = 0;

    /* The whole retry is bounded by the deadline and by the program's own
     * SO_SNDTIMEO on a blocking socket. */
    int64_t bound = r->deadline_ms;
    unsigned snd = (flags & O_NONBLOCK) ? 0 : sndtimeo_ms(fd);
    if (snd && (!bound || snd < bound))
        bound = snd;
    int64_t end = bound ? t0 + bound : 0;
    int64_t try_start = t0;

    /* The target is failing and another process probes it: a blocking
     * connect waits for that probe instead of sending its first SYN.  Any
     * other socket (or a rule that would not retry) makes its first try. */
    if (skip && ((flags & O_NONBLOCK) || r->off || r->attempts < 2 || !hu_rule_retries_errno(r, err))) {
        skip = 0;
        err = hu_real.connect(fd, sa0, len) == 0 ? 0 : errno;
        if (!err)
            return 0;
    }

    if (flags & O_NONBLOCK) {
        /* an event loop's socket: never sleep here.  Track it; the program's
         * own poll/select/epoll calls drive the retries. */
        if (!err)
            err = hu_real.connect(fd, sa0, len) == 0 ? 0 : errno;
        if (err && err != EINPROGRESS && !hu_rule_retries_errno(r, err))
            return err;
        if (r->off || (err == EINPROGRESS && r->attempts < 2))
            return err;
        hu_table_lock();
        enum hu_verdict v = hu_conn_begin(fd, sa, len, r, have_host ? host : NULL, t0,
                                          err == EINPROGRESS ? 0 : err);
        hu_table_unlock();
        return err == EINPROGRESS || v == HU_HIDE ? EINPROGRESS : err;
    }

    /* real: the errno of the last try the kernel itself ended.  A try that
     * hostup's own bound cut short counts as ETIMEDOUT for the retry
     * decision, but never reaches the program while a real errno is known
     * (README, "When the policy is spent").  The deadline and SO_SNDTIMEO
     * cut a try only then; before that only the rule's timeout does. */
    int real = err, cut = 0;
    if (!err) {     /* first try, bounded by the rule's timeout */
        if (r->off || !r->timeout_ms)
            return hu_real.connect(fd, sa0, len) == 0 ? 0 : errno;
        int64_t limit = r->timeout_ms;
        int by_snd = snd && snd < limit;
        if (by_snd)
            limit = snd;
        err = try_once(fd, sa, len, flags, limit);
        if (err == CUT && by_snd)
            return EINPROGRESS;     /* as the kernel's own connect past SO_SNDTIMEO: SYN in flight */
        if (!err || err == EINPROGRESS || err == EINTR)
            return err;
        cut = err == CUT;
        if (cut)
            hu_sock_reset(fd);
        err = cut ? ETIMEDOUT : err;
        real = cut ? 0 : err;
    }

    hu_backoff bo;
    hu_backoff_init(&bo);
    unsigned attempt = 1;
    const char *host_or = have_host ? host : NULL;
    /* skipped: the last try moment was skipped for another process's probe
     * (the first one too, when the target was known to be failing) */
    int skipped = skip;
    hu_herd herd;
    hu_herd_join(&herd, sa, r);
    HU_ERRQUEUE_WATCH(errwatch, fd);   /* IPv6: the ICMP evidence of the tries made here */
    if (!skipped && hu_rule_retries_errno(r, err) && r->attempts > 1)
        hu_herd_result(&herd, err, 0, hu_now_ms(), 0);
    /* the host name looked up again (hosts that move), dropped on return */
    hu_lookup *relook __attribute__((cleanup(drop_lookup))) = NULL;
    int64_t look_until = 0;     /* wait for it until then; after that ask anew */
    for (;;) {
        int64_t now = hu_now_ms();
        hu_icmp icmp = {0};
        hu_drain_errqueue(fd, &icmp);   /* stale entries would make POLLERR sticky */
        int shown = cut && real ? real : err;
        if (!hu_rule_retries_errno(r, err)) {
            if (attempt > 1)
                hu_conn_log_herd(HOSTUP_EV_GAVE_UP, sa, host_or, port, shown, attempt, r, -1,
                                 (long)(now - t0), (long)(now - try_start), &icmp, HU_GU_ERROR, 0);
            hu_herd_done(&herd, attempt > 1 ? HU_GU_ERROR : -1);
            return shown;
        }
        unsigned delay = attempt < r->attempts ? hu_backoff_next(r, &bo, hu_thread_rng()) : 0;
        if (attempt >= r->attempts || (end && now + delay >= end)) {
            int why = attempt >= r->attempts ? HU_GU_ATTEMPTS : HU_GU_DEADLINE;
            hu_conn_log_herd(HOSTUP_EV_GAVE_UP, sa, host_or, port, shown, attempt, r, -1,
                             (long)(now - t0), (long)(now - try_start), &icmp, why, 0);
            hu_herd_done(&herd, why);
            return shown;
        }
        hu_conn_log(skipped ? HOSTUP_EV_PROBE_WAIT : HOSTUP_EV_RETRY, sa, host_or, port, err, attempt,
                    r, delay, (long)(now - t0), (long)(now - try_start), skipped ? NULL : &icmp);

        /* until a try is made: its own moment, the prober's extra tries,
         * or the moment the target answered another process */
        int64_t sched = now + delay;
        /* the name may have moved: ask again during the wait, and wait for
         * the answer at most the rule's timeout (or HU_RELOOKUP_MS) from
         * now; one still out is kept until then, and then asked anew */
        if (!skipped && relook && now >= look_until)
            drop_lookup(&relook);
        if (!skipped && have_host && !relook) {
            relook = hu_names_relookup(host, sa);
            look_until = now + hu_relookup_ms(r);
        }
        skipped = 0;
        for (;;) {
            enum hu_herd_act act;
            if (hu_herd_pause(&herd, sched, &act) == EINTR) {
                hu_herd_done(&herd, -1);
                return interrupted(fd, sa, len, flags);
            }
            if (act == HU_HERD_SKIP) {
                skipped = 1;    /* the moment is spent, as if tried */
                attempt++;
                break;
            }
            if (act != HU_HERD_GO && !hu_herd_budget(r, hu_now_ms())) {
                now = hu_now_ms();
                hu_conn_log_herd(HOSTUP_EV_GAVE_UP, sa, host_or, port, shown, attempt, r, -1,
                                 (long)(now - t0), (long)(now - try_start), NULL, HU_GU_BUDGET, 0);
                hu_herd_done(&herd, HU_GU_BUDGET);
                return shown;
            }
            hu_sock_reset(fd);
            if (act != HU_HERD_PROBE)
                attempt++;
            if (relook && readdress(&relook, look_until, end, host, &ss, &len, port, attempt, r, t0)) {
                hu_herd_done(&herd, -1);    /* the old address's prober is not ours */
                hu_herd_join(&herd, sa, r);
            }
            try_start = hu_now_ms();
            int64_t limit = r->timeout_ms;
            int by_end = 0;
            if (end && real && (!limit || end - try_start < limit)) {
                limit = end - try_start > 0 ? end - try_start : 1;
                by_end = 1;
            }
            err = try_once(fd, sa, len, flags, limit);
            cut = err == CUT;
            if (cut) {
                hu_sock_reset(fd);
                err = ETIMEDOUT;
            } else if (err && err != EINPROGRESS && err != EINTR) {
                real = err;
            }
            now = hu_now_ms();
            hu_herd_result(&herd, err, 1, now, (long)(now - t0));
            if (!err) {
                hu_drain_errqueue(fd, NULL);
                hu_conn_log_herd(HOSTUP_EV_RECOVERED, sa, host_or, port, 0, attempt, r, -1,
                                 (long)(now - t0), 0, NULL, -1, herd.waited_ms);
                hu_herd_done(&herd, -1);
                return 0;
            }
            if (err == EINPROGRESS || err == EINTR) {
                hu_herd_done(&herd, -1);
                return err;
            }
            if (cut && by_end) {    /* the deadline came during this try: the last real errno */
                hu_drain_errqueue(fd, &icmp);
                hu_conn_log_herd(HOSTUP_EV_GAVE_UP, sa, host_or, port, real, attempt, r, -1,
                                 (long)(now - t0), (long)(now - try_start), &icmp, HU_GU_DEADLINE, 0);
                hu_herd_done(&herd, HU_GU_DEADLINE);
                return real;
            }
            if (act != HU_HERD_PROBE || !hu_rule_retries_errno(r, err))
                break;
            /* an extra probe failed: its own schedule goes on */
            hu_drain_errqueue(fd, NULL);
        }
    }
}

__attribute__((visibility("default")))
int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    hu_ensure_bound();
    if (HU_UNLIKELY(!hu_real.connect)) {
        errno = ENOSYS;
        return -1;
    }
    if (hu_guard)
        return hu_real.connect(fd, sa, len);
    int entry_errno = errno, err;
    hu_conn *c = hu_conn_of(fd);
    if (HU_UNLIKELY(c != NULL)) {
        /* the program calls connect again on a socket we are retrying */
        hu_guard++;
        hu_table_lock();
        err = hu_conn_reconnect(c, fd);
        if (err < 0)    /* finished with it: a fresh connect follows */
            hu_conn_forget_fd(fd);
        hu_table_unlock();
        hu_guard--;
        if (err >= 0) {
            errno = err ? err : entry_errno;
            return err ? -1 : 0;
        }
    }
    const hu_policy *p = hu_policy_get();
    int64_t t0 = hu_now_ms();
    /* the one read of shared memory a healthy connect pays: is any target
     * failing at all? */
    struct hu_shm *m = hu_herd_get();
    int skip = 0;
    if (HU_UNLIKELY(m && __atomic_load_n(&m->failing, __ATOMIC_RELAXED)) && sa &&
        len >= sizeof(struct sockaddr_in) && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
        hu_guard++;
        skip = hu_herd_should_wait(sa, &err);
        hu_guard--;
        if (skip)
            goto retry;
    }
    if (HU_UNLIKELY(p->any_timeout) && sa && len >= sizeof(struct sockaddr_in) &&
        (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
        if (m)
            hu_herd_first(sa, t0);
        goto slow;
    }
    if (HU_LIKELY(hu_real.connect(fd, sa, len) == 0)) {
        if (m)
            hu_herd_first(sa, t0);
        return 0;
    }
    err = errno;
    if (m && err != EFAULT)
        hu_herd_first(sa, t0);
    /* the kernel accepted sa, so reading it is safe from here on */
    if (HU_LIKELY(err != EINPROGRESS && !errno_in(p->any_errno, err)) ||
        (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return -1;
    goto retry;
slow:
    err = 0;
retry:
    hu_guard++;
    int rc = connect_retry(fd, sa, len, err, t0, skip);
    hu_guard--;
    errno = rc ? rc : entry_errno;
    return rc ? -1 : 0;
}
