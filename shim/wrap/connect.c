/* SPDX-License-Identifier: MIT */
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
#include "core/offline.h"
#include "engine/fdtable.h"
#include "engine/herd.h"
#include "hostup/hostup.h"
#include "engine/init.h"
#include "engine/lookup.h"
#include "engine/moved.h"
#include "engine/names.h"
#include "engine/relookup.h"
#include "engine/retry.h"
#include "sys/real.h"
#include "core/log.h"
#include "engine/stale.h"

static int errno_in(const uint64_t *bits, int e)
{
    return e > 0 && e < HU_ERRNO_MAX && ((bits[e / 64] >> (e % 64)) & 1);
}

/* One system call: TCP and MPTCP sockets are always SOCK_STREAM. */
static int is_tcp(int fd)
{
    int proto = 0;
    socklen_t l = sizeof proto;
    if (hu_real.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) < 0)
        return 0;
    return proto == IPPROTO_TCP || proto == 262 /* IPPROTO_MPTCP */;
}

static unsigned sndtimeo_ms(int fd)
{
    struct timeval tv = {0, 0};
    socklen_t l = sizeof tv;
    if (hu_real.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) < 0)
        return 0;
    return (unsigned)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* Leave a connection attempt in flight and report EINTR, as POSIX says an
 * interrupted blocking connect does. */
static int interrupted(int fd, const struct sockaddr *sa, socklen_t len, int flags)
{
    hu_real.fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    hu_real.connect(fd, sa, len);
    hu_real.fcntl(fd, F_SETFL, flags);
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
    if (hu_real.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return hu_real.connect(fd, sa, len) == 0 ? 0 : errno;
    int err = hu_real.connect(fd, sa, len) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
        int64_t end = hu_now_ms() + limit_ms;
        err = 0;
        for (;;) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            int64_t left = end - hu_now_ms();
            int n = left > 0 ? hu_real.poll(&pfd, 1, (int)(left > 86400000 ? 86400000 : left)) : 0;
            if (n > 0) {
                socklen_t l = sizeof err;
                if (hu_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
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
                hu_real.fcntl(fd, F_SETFL, flags);
                return CUT;
            }
            if (errno == EINTR && hu_signal_wants_eintr()) {
                hu_real.fcntl(fd, F_SETFL, flags);
                return EINTR;   /* the SYN is still in flight, as POSIX wants */
            }
        }
        if (err)
            hu_sock_reset(fd);
    }
    hu_real.fcntl(fd, F_SETFL, flags);
    return err;
}

static void drop_lookup(hu_lookup **l)
{
    hu_lookup_drop(*l);
    *l = NULL;
}

/* One blocking connect being retried: what the decision's actions
 * (engine/decide.h) are carried out on. */
struct call {
    int fd, flags;
    struct sockaddr_storage ss;     /* the address tried now */
    socklen_t len;
    char host[256];
    int have_host;
    unsigned port;
    const hu_rule *r;
    hu_attempt a;
    hu_herd herd;
    hu_herd_ref ref;
    hu_decide_ops ops;
    hu_lookup *relook;              /* the host name looked up again (hosts that move) */
    hu_icmp icmp;                   /* the last failed try's ICMP errors */
};

#define SA(k) ((const struct sockaddr *)&(k)->ss)

static void log_rec(struct call *k, const hu_decide_rec *rec)
{
    hu_conn_log_rec(rec, SA(k), k->have_host ? k->host : NULL, k->port, k->r, &k->icmp,
                    k->herd.waited_ms);
}

/* Before a try: the new look-up's answer, waited for until `until`.  When
 * the name moved, the try goes to its new address and a readdressed
 * record says so. */
static void readdress(struct call *k, int64_t until)
{
    struct sockaddr_storage moved;
    socklen_t mlen = 0;
    int m = hu_relookup_moved(k->relook, k->host, SA(k), until, &moved, &mlen);
    if (m >= 0) {
        k->relook = NULL;   /* finished, and dropped by hu_relookup_moved */
        k->a.relook = 0;
    }
    if (m != 1)
        return;
    hu_decide_rec rec;
    hu_decide_moved(&k->a, &k->ops, hu_now_ms(), &rec);
    hu_conn_log_readdressed(SA(k), (const struct sockaddr *)&moved, k->host, k->port, rec.attempt,
                            k->r, rec.elapsed_ms, 0);
    memcpy(&k->ss, &moved, sizeof moved);
    k->len = mlen;
}

/* HU_DO_TRY: one try, bounded as the decision says; its outcome decides
 * the next action (*act).  Returns -1, or EINTR for the program (a
 * signal: the SYN is left in flight, as POSIX says). */
static int try_next(struct call *k, hu_action *act)
{
    if (k->a.failed)
        hu_sock_reset(k->fd);
    if (k->relook)
        readdress(k, act->relook_until);
    int64_t now = hu_now_ms(), cut_at = hu_decide_start(&k->a, now);
    int err = try_once(k->fd, SA(k), k->len, k->flags, cut_at < 0 ? 0 : cut_at - now);
    if (err == EINPROGRESS || err == EINTR) {
        hu_herd_done(&k->herd, -1);
        return err;
    }
    int cut = err == CUT;
    if (cut)
        err = ETIMEDOUT;
    memset(&k->icmp, 0, sizeof k->icmp);
    /* stale entries would make POLLERR sticky; on a failure they are evidence */
    hu_drain_errqueue(k->fd, err ? &k->icmp : NULL);
    k->a.no_network = !cut && hu_offline_target(SA(k), err);
    hu_decide_tried(&k->a, &k->ops, err, cut, hu_now_ms(), act);
    /* a cut try's SYN is stopped, unless the program's own SO_SNDTIMEO
     * ended its first try: the kernel leaves that SYN in flight */
    if (cut && !(act->kind == HU_DO_GIVE_UP && act->err == EINPROGRESS))
        hu_sock_reset(k->fd);
    return -1;
}

/* HU_DO_WAIT: until the try's moment, or what the herd says first (a
 * skipped moment, the target answered).  Meanwhile the name is looked up
 * again.  Returns -1, or EINTR for the program. */
static int wait_due(struct call *k, hu_action *act)
{
    if (act->drop_relook)
        drop_lookup(&k->relook);
    if (act->start_relook) {
        k->relook = hu_relookup_start(k->host, SA(k));
        k->a.relook = k->relook != NULL;
    }
    enum hu_herd_act h;
    if (hu_herd_pause(&k->herd, act->until, &h) == EINTR) {
        hu_herd_done(&k->herd, -1);
        return interrupted(k->fd, SA(k), k->len, k->flags);
    }
    memset(&k->icmp, 0, sizeof k->icmp);
    hu_decide_due(&k->a, &k->ops, (int)h, hu_now_ms(), act);
    return -1;
}

/* Carry out decisions until one ends the call: the errno for the program,
 * or 0 when connected. */
static int run(struct call *k, hu_action *act)
{
    for (;;) {
        log_rec(k, &act->rec);
        int rc = -1;
        switch (act->kind) {
        case HU_DO_DONE:
            return 0;
        case HU_DO_GIVE_UP:
            return act->err;
        case HU_DO_TRY:
            rc = try_next(k, act);
            break;
        case HU_DO_WAIT:
            rc = wait_due(k, act);
            break;
        }
        if (rc >= 0)
            return rc;
    }
}

/* An event loop's socket: never sleep here.  Track it; the program's own
 * poll/select/epoll calls drive the retries. */
static int nonblocking(struct call *k, const struct sockaddr *sa0, int err, int64_t t0)
{
    const hu_rule *r = k->r;
    if (!err)
        err = hu_real.connect(k->fd, sa0, k->len) == 0 ? 0 : errno;
    if (err && err != EINPROGRESS && !hu_rule_retries_errno(r, err))
        return err;
    if (r->off || (err == EINPROGRESS && r->attempts < 2))
        return err;
    hu_table_lock();
    enum hu_verdict v = hu_conn_begin(k->fd, SA(k), k->len, r, k->have_host ? k->host : NULL, t0,
                                      err == EINPROGRESS ? 0 : err);
    hu_table_unlock();
    return err == EINPROGRESS || v == HU_HIDE ? EINPROGRESS : err;
}

/* The retry.  err is the errno of a first try that already ran, or 0
 * when the first try is still to be made (a rule with a timeout); with
 * skip, no first try ran and err is the errno another process's probe
 * last met. */
static int connect_retry(int fd, const struct sockaddr *sa0, socklen_t len, int err, int64_t t0,
                         int skip)
{
    if (!is_tcp(fd))
        return err ? err : (hu_real.connect(fd, sa0, len) == 0 ? 0 : errno);
    struct call k;
    memset(&k, 0, sizeof k);
    k.fd = fd;
    memcpy(&k.ss, sa0, len < sizeof k.ss ? len : sizeof k.ss);
    k.len = len;
    k.have_host = hu_names_lookup(SA(&k), k.host, sizeof k.host);
    k.port = ntohs(((const struct sockaddr_in *)sa0)->sin_port);
    const hu_rule *r = k.r = hu_policy_match(hu_policy_get(), k.have_host ? k.host : NULL, SA(&k), k.port);
    k.flags = hu_real.fcntl(fd, F_GETFL);
    if (k.flags < 0)
        k.flags = 0;

    /* The target is failing and another process probes it: a connect
     * waits for that probe instead of sending its first SYN (an event
     * loop's socket is held, engine/conn.c: hu_conn_hold).  A rule that
     * would not retry makes the first try. */
    int held = skip && !r->off && r->attempts >= 2 && hu_rule_retries_errno(r, err);
    if (held && (k.flags & O_NONBLOCK)) {
        hu_table_lock();
        held = hu_conn_hold(fd, SA(&k), k.len, r, k.have_host ? k.host : NULL, t0, err) == HU_HIDE;
        hu_table_unlock();
        if (held)
            return EINPROGRESS;
    }
    if (skip && !held) {
        skip = 0;
        err = hu_real.connect(fd, sa0, len) == 0 ? 0 : errno;
        if (!err)
            return 0;
    }
    if (k.flags & O_NONBLOCK)
        return nonblocking(&k, sa0, err, t0);
    if (!err && (r->off || !r->timeout_ms))
        return hu_real.connect(fd, sa0, len) == 0 ? 0 : errno;

    /* the whole connect is bounded by the deadline and by the program's
     * own SO_SNDTIMEO, as the kernel bounds it */
    hu_decide_init(&k.a, r, t0, sndtimeo_ms(fd), 1, k.have_host, hu_relookup_ms(r));
    k.herd.waiter = -1;
    k.ref = (hu_herd_ref){.herd = &k.herd, .sa = SA(&k), .rule = r};
    hu_herd_ops(&k.ops, &k.ref);
    hu_action act = {.kind = HU_DO_TRY, .relook_until = t0};  /* a first try, bounded */
    if (skip) {
        k.a.last_real = err;    /* the errno the kernel gave the prober */
        hu_decide_failed(&k.a, &k.ops, err, 0, 1, hu_now_ms(), &act);
    } else if (err) {
        hu_drain_errqueue(fd, &k.icmp);
        k.a.no_network = hu_offline_target(SA(&k), err);
        hu_decide_failed(&k.a, &k.ops, err, 0, 0, hu_now_ms(), &act);
    }
    int watched = hu_errqueue_watch(fd);    /* IPv6: the ICMP evidence of our tries */
    int rc = run(&k, &act);
    hu_errqueue_done(fd, &watched);
    drop_lookup(&k.relook);
    return rc;
}

/* A host that moved (engine/moved.h): a new TCP connect to its old
 * address goes to the new one, while the name memory still says the old
 * address is that name's and the rule would have followed the move.  The
 * first such connect writes a readdressed record (remembered). */
__attribute__((noinline)) static const struct sockaddr *
remembered(int fd, const struct sockaddr *sa, socklen_t *len, struct sockaddr_storage *to)
{
    char host[256], named[256];
    socklen_t tolen;
    int64_t now = hu_now_ms();
    if (sa->sa_family == AF_INET6 && *len < sizeof(struct sockaddr_in6))
        return sa;
    if (!hu_moved_find(sa, now, to, &tolen, host, sizeof host) ||
        !hu_names_lookup(sa, named, sizeof named) || strcmp(host, named) != 0 || !is_tcp(fd))
        return sa;
    unsigned port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    const hu_rule *r = hu_policy_match(hu_policy_get(), host, sa, port);
    if (r->off || r->attempts < 2)
        return sa;
    if (hu_moved_used(sa))
        hu_conn_log_readdressed(sa, (const struct sockaddr *)to, host, port, 1, r, 0, 1);
    *len = tolen;
    return (const struct sockaddr *)to;
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
    if (HU_UNLIKELY(hu_conn_of(fd) != NULL)) {
        /* the program calls connect again on a socket we are retrying, or
         * on a new socket that got the number of one closed behind our
         * back: then the old one's state is dropped (stale.h) */
        hu_guard++;
        hu_table_lock();
        hu_conn *c = hu_conn_of_verified(fd);
        err = c ? hu_conn_reconnect(c, fd) : -1;
        if (err < 0)    /* finished with it: a fresh connect follows */
            hu_conn_forget_fd(fd);
        hu_table_unlock();
        hu_guard--;
        if (err >= 0) {
            errno = err ? err : entry_errno;
            return err ? -1 : 0;
        }
    }
    struct sockaddr_storage moved_to;
    if (HU_UNLIKELY(__atomic_load_n(&hu_moved_live, __ATOMIC_RELAXED)) && sa &&
        len >= sizeof(struct sockaddr_in) && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
        hu_guard++;
        sa = remembered(fd, sa, &len, &moved_to);
        hu_guard--;
        errno = entry_errno;
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
        /* only a TCP connect waits for the prober: a UDP connect sends
         * nothing and must never be touched */
        skip = hu_herd_should_wait(sa, &err) && is_tcp(fd);
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
