/* The asynchronous retry state machine (see conn.h).
 *
 * Kernel facts it relies on (Linux, measured; shared/notes/clients.md):
 * - the first ICMP error on a SYN_SENT socket is "soft": POLLERR with
 *   SO_ERROR set while the SYN goes on, so TCP_INFO decides, not revents;
 * - ICMP errors pile up in the socket's error queue and keep POLLERR
 *   raised even after the connection is established: drain it;
 * - connect(AF_UNSPEC) resets any state to TCP_CLOSE, after which one
 *   connect() starts a fresh SYN;
 * - a socket in TCP_CLOSE polls as POLLOUT|POLLHUP forever, so a socket
 *   waiting for its next try must be left out of the program's wait. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <poll.h>

#include "conn.h"
#include "core/diagnosis.h"
#include "fdtable.h"
#include "hostup/hostup.h"
#include "hu.h"
#include "core/log.h"

int hu_conns_active;
static hu_conn *active_head;

/* A small pool keeps the normal EINPROGRESS path free of malloc. */
#define POOL 256
static hu_conn pool[POOL];
static unsigned char pool_used[POOL];

static hu_conn *conn_alloc(void)
{
    for (int i = 0; i < POOL; i++)
        if (!pool_used[i]) {
            pool_used[i] = 1;
            memset(&pool[i], 0, sizeof pool[i]);
            return &pool[i];
        }
    return calloc(1, sizeof(hu_conn));
}

static void conn_free(hu_conn *c)
{
    if (c >= pool && c < pool + POOL)
        pool_used[c - pool] = 0;
    else
        free(c);
}

static int is_active(const hu_conn *c)
{
    return c->state != HU_CONN_DONE || c->pending_err;
}

static void set_active(hu_conn *c, int was)
{
    int now = is_active(c);
    if (now == was)
        return;
    if (now) {
        c->prev_active = NULL;
        c->next_active = active_head;
        if (active_head)
            active_head->prev_active = c;
        active_head = c;
        __atomic_add_fetch(&hu_conns_active, 1, __ATOMIC_RELEASE);
    } else {
        if (c->prev_active)
            c->prev_active->next_active = c->next_active;
        else
            active_head = c->next_active;
        if (c->next_active)
            c->next_active->prev_active = c->prev_active;
        c->next_active = c->prev_active = NULL;
        __atomic_sub_fetch(&hu_conns_active, 1, __ATOMIC_RELEASE);
    }
}

hu_conn *hu_conn_active_head(void) { return active_head; }

hu_conn *hu_conn_of(int fd)
{
    hu_fdent *e = hu_fd_get(fd);
    return e ? e->conn : NULL;
}

/* Done with the new look-up of the host name, if one runs: abandoned. */
static void drop_relook(hu_conn *c)
{
    hu_lookup_drop(c->relook);
    c->relook = NULL;
}

static void release(hu_conn *c)
{
    if (--c->refs > 0)
        return;
    drop_relook(c);
    hu_herd_done(&c->herd, -1);
    int was = is_active(c);
    c->state = HU_CONN_DONE;
    c->pending_err = 0;
    set_active(c, was);
    conn_free(c);
}

void hu_conn_forget_fd(int fd)
{
    hu_fdent *e = hu_fd_get(fd);
    if (!e)
        return;
    e->epfd = -1;
    if (e->conn) {
        hu_conn *c = e->conn;
        e->conn = NULL;
        if (c->fd == fd)        /* a dup may still hold it, under another number */
            c->fd = -1;
        release(c);
    }
}

void hu_conn_dup(int fd, int fd2)
{
    hu_fdent *e = hu_fd_get(fd), *e2;
    if (!e || !e->conn || !(e2 = hu_fd_make(fd2)))
        return;
    if (e2->conn)
        hu_conn_forget_fd(fd2);
    e2->conn = e->conn;
    e->conn->refs++;
}

void hu_conn_log(const char *event, const struct sockaddr *sa, const char *host, unsigned port,
                 int err, unsigned attempt, const hu_rule *r, long delay, long elapsed,
                 long try_ms, const hu_icmp *icmp)
{
    hu_conn_log_herd(event, sa, host, port, err, attempt, r, delay, elapsed, try_ms, icmp, -1, 0);
}

void hu_conn_log_herd(const char *event, const struct sockaddr *sa, const char *host, unsigned port,
                      int err, unsigned attempt, const hu_rule *r, long delay, long elapsed,
                      long try_ms, const hu_icmp *icmp, int reason, long waited_ms)
{
    if (!hu_log_enabled())
        return;
    hu_event ev = {.event = event, .op = "connect", .host = host, .addr = sa, .port = port,
                   .err = err, .attempt = attempt, .attempts = r->attempts,
                   .delay_ms = delay, .elapsed_ms = elapsed, .rule = r, .backtrace = 1,
                   .reason = reason >= 0 && reason < HU_GU_N ? hu_giveup_names[reason] : NULL,
                   .waited_ms = waited_ms};
    if ((ev.suppressed = hu_log_admit(&ev)) < 0)
        return;     /* folded into a later record: no probes spent on it */
    if (err) {
        /* Java and other dual-stack programs connect to ::ffff:a.b.c.d: the
         * routes and neighbours to probe are IPv4 ones */
        struct sockaddr_in v4;
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            memset(&v4, 0, sizeof v4);
            v4.sin_family = AF_INET;
            v4.sin_port = s6->sin6_port;
            memcpy(&v4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
            sa = (const struct sockaddr *)&v4;
        }
        hu_facts f = {.addr = sa, .port = port, .err = err, .try_ms = try_ms};
        if (icmp)
            f.icmp = *icmp;
        hu_gather_connect(&f);
        ev.diagnosis = hu_classify_connect(&f);
        hu_diag_add_env(ev.diagnosis, sa);
    }
    hu_log_event(&ev);
}

void hu_conn_log_readdressed(const struct sockaddr *old, const struct sockaddr *sa, const char *host,
                             unsigned port, unsigned attempt, const hu_rule *r, long elapsed)
{
    if (!hu_log_enabled())
        return;
    hu_event ev = {.event = HOSTUP_EV_READDRESSED, .op = "connect", .host = host, .addr = sa,
                   .port = port, .attempt = attempt, .attempts = r->attempts, .delay_ms = -1,
                   .elapsed_ms = elapsed, .rule = r, .fd = -1, .offset = -1};
    json_t *rec = hu_record_new(&ev);
    char a[INET6_ADDRSTRLEN];
    const void *p = old->sa_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)old)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)old)->sin_addr;
    if (rec && inet_ntop(old->sa_family, p, a, sizeof a))
        json_object_set_new(rec, "old_addr", json_string(a));
    hu_log_emit(rec);
}

#define LOG(c, ev, err, delay, now, icmp)                                                       \
    hu_conn_log(ev, (const struct sockaddr *)&(c)->addr, (c)->have_host ? (c)->host : NULL,    \
                (c)->port, err, (c)->attempt, (c)->rule, delay, (long)((now) - (c)->t0),       \
                (long)((now) - (c)->try_start), icmp)

void hu_sock_reset(int fd)
{
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    int err = 0;
    socklen_t l = sizeof err;
    hu_real.connect(fd, &unspec, sizeof unspec);
    /* tcp_disconnect() sets ECONNRESET on a socket it takes out of
     * SYN_SENT: nobody asked for that error, so it must not reach the
     * program's next getsockopt(SO_ERROR) or poll */
    hu_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
}

int hu_tcp_state(int fd)
{
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (hu_real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
        return -1;
    return ti.tcpi_state;
}

/* Leave epoll while waiting: a reset socket would report EPOLLHUP at every
 * wait (EPOLLHUP/EPOLLERR cannot be masked), and the loop would spin. */
static void leave_epoll(hu_conn *c, int fd)
{
    hu_fdent *e = hu_fd_get(fd);
    if (!e || e->epfd < 0 || c->ep_removed)
        return;
    if (hu_real.epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL) == 0) {
        c->ep_removed = 1;
        c->epfd = e->epfd;
        c->ep_events = e->ep_events;
        c->ep_data = e->ep_data;
    } else
        e->epfd = -1;       /* stale: that fd number was closed behind us */
}

static void rejoin_epoll(hu_conn *c, int fd)
{
    if (!c->ep_removed)
        return;
    struct epoll_event ev = {.events = c->ep_events, .data.u64 = c->ep_data};
    hu_real.epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
    c->ep_removed = 0;
}

#define LOG_HERD(c, ev, err, now, reason, waited)                                              \
    hu_conn_log_herd(ev, (const struct sockaddr *)&(c)->addr, (c)->have_host ? (c)->host : NULL, \
                     (c)->port, err, (c)->attempt, (c)->rule, -1, (long)((now) - (c)->t0),     \
                     (long)((now) - (c)->try_start), NULL, reason, waited)

/* A try failed with err, or (cut) hostup's own bound ended it first: then
 * err is ETIMEDOUT for the retry decision; or (skipped) a try moment passed
 * while another process probes.  Schedule the next try (HU_HIDE) or hand
 * the failure to the program (HU_PASS, with the errno owed through
 * SO_ERROR): the last errno the kernel itself gave, so a cut try never
 * surfaces as a new kind of failure (README, "When the policy is spent"). */
static enum hu_verdict failed_x(hu_conn *c, int fd, int err, int cut, int64_t now, int skipped)
{
    hu_icmp icmp = {0};
    int was = is_active(c);
    if (!skipped)
        hu_drain_errqueue(fd, &icmp);
    const hu_rule *r = c->rule;
    c->last_err = err;
    if (!skipped) {
        if (!c->herd_joined && hu_rule_retries_errno(r, err) && r->attempts > 1) {
            hu_herd_join(&c->herd, (const struct sockaddr *)&c->addr, r);
            c->herd_joined = 1;
        }
        hu_herd_result(&c->herd, err, c->attempt > 1, now, (long)(now - c->t0));
    }
    if (c->probing) {   /* the prober's extra try: its own schedule goes on */
        c->probing = 0;
        if (hu_rule_retries_errno(r, err)) {
            hu_sock_reset(fd);
            leave_epoll(c, fd);
            c->state = HU_CONN_WAITING;
            set_active(c, was);
            return HU_HIDE;
        }
    }
    unsigned delay = 0;
    if (!cut && !skipped) {
        c->last_real = err;
        c->last_soft = hu_tcp_state(fd) == TCP_SYN_SENT;
    }
    int retry = hu_rule_retries_errno(r, err) && c->attempt < r->attempts;
    int why = !hu_rule_retries_errno(r, err) ? HU_GU_ERROR : HU_GU_ATTEMPTS;
    if (retry) {
        delay = hu_backoff_next(r, &c->bo, hu_thread_rng());
        if (r->deadline_ms && now + delay >= c->t0 + (int64_t)r->deadline_ms) {
            retry = 0;
            why = HU_GU_DEADLINE;
        }
    }
    if (!retry) {
        int shown = cut && c->last_real ? c->last_real : err;
        if (c->attempt > 1 || hu_rule_retries_errno(r, err))
            hu_conn_log_herd(HOSTUP_EV_GAVE_UP, (const struct sockaddr *)&c->addr,
                             c->have_host ? c->host : NULL, c->port, shown, c->attempt, r, -1,
                             (long)(now - c->t0), (long)(now - c->try_start), &icmp, why, 0);
        if (skipped)
            rejoin_epoll(c, fd);    /* the program must see the failure */
        hu_herd_done(&c->herd, why);
        hu_errqueue_done(fd, &c->errq_watch);  /* the socket as the program made it */
        c->state = HU_CONN_DONE;
        c->pending_err = shown;
        drop_relook(c);
        set_active(c, was);
        return HU_PASS;
    }
    if (skipped) {
        LOG(c, HOSTUP_EV_PROBE_WAIT, err, delay, now, NULL);
    } else {
        LOG(c, HOSTUP_EV_RETRY, err, delay, now, &icmp);
        hu_sock_reset(fd);
        leave_epoll(c, fd);
        /* the name may have moved to another address: ask again while we
         * wait (one look-up at a time; the next try takes its answer if it
         * is in; one out too long is asked anew) */
        if (c->relook && now - c->relook_t >= hu_relookup_ms(r))
            drop_relook(c);
        if (c->have_host && !c->relook) {
            c->relook = hu_names_relookup(c->host, (const struct sockaddr *)&c->addr);
            c->relook_t = now;
        }
    }
    c->errq_watch = c->errq_watch || hu_errqueue_watch(fd);     /* IPv6: ICMP evidence */
    c->state = HU_CONN_WAITING;
    c->next_try = now + delay;
    set_active(c, was);
    return HU_HIDE;
}

static enum hu_verdict failed(hu_conn *c, int fd, int err, int cut, int64_t now)
{
    return failed_x(c, fd, err, cut, now, 0);
}

static void succeeded(hu_conn *c, int fd, int64_t now)
{
    int was = is_active(c);
    hu_errqueue_done(fd, &c->errq_watch);   /* stale ICMP entries keep POLLERR up */
    hu_herd_result(&c->herd, 0, c->attempt > 1, now, (long)(now - c->t0));
    if (c->attempt > 1)
        LOG_HERD(c, HOSTUP_EV_RECOVERED, 0, now, -1, c->herd.waited_ms);
    drop_relook(c);
    hu_herd_done(&c->herd, -1);
    c->state = HU_CONN_DONE;
    set_active(c, was);
}

/* A connection waiting for its next try, with a shared file: may it try
 * now (0), when should its wait end (> 0), or did it give up (-1, handed
 * to the program)?  The program's wait is cut short every EVLOOP_STEP so
 * that the prober's success is seen soon; its loop never blocks here. */
#define EVLOOP_STEP_MS 50
static int64_t herd_gate(hu_conn *c, int fd, int64_t now)
{
    int64_t wake;
    if (!c->herd.slot || c->herd.go)
        return now >= c->next_try ? 0 : c->next_try;
    switch (hu_herd_decide(&c->herd, c->next_try, now, &wake)) {
    case HU_HERD_GO:        /* the target answered: try soon, spread out */
        c->herd.go = 1;
        c->next_try = now + hu_herd_spread_ms(&c->herd);
        return now >= c->next_try ? 0 : c->next_try;
    case HU_HERD_SKIP:
        c->attempt++;
        if (failed_x(c, fd, c->last_err, 0, now, 1) == HU_PASS)
            return -1;
        return c->next_try < now + EVLOOP_STEP_MS ? c->next_try : now + EVLOOP_STEP_MS;
    case HU_HERD_NOTYET:
        return wake < now + EVLOOP_STEP_MS ? (wake > now ? wake : now + 1) : now + EVLOOP_STEP_MS;
    case HU_HERD_PROBE:
        c->probing = 1;
        /* fall through */
    case HU_HERD_TRY:
        break;
    }
    if (!hu_herd_budget(c->rule, now)) {
        int was = is_active(c);
        LOG_HERD(c, HOSTUP_EV_GAVE_UP, c->last_err, now, HU_GU_BUDGET, 0);
        rejoin_epoll(c, fd);
        hu_herd_done(&c->herd, HU_GU_BUDGET);
        hu_errqueue_done(fd, &c->errq_watch);
        c->state = HU_CONN_DONE;
        c->pending_err = c->last_err;
        c->probing = 0;
        set_active(c, was);
        return -1;
    }
    return 0;
}

enum hu_verdict hu_conn_begin(int fd, const struct sockaddr *sa, socklen_t len,
                              const hu_rule *r, const char *host, int64_t t0, int err)
{
    hu_fdent *e = hu_fd_make(fd);
    if (!e)
        return HU_PASS;
    if (e->conn)
        hu_conn_forget_fd(fd);
    hu_conn *c = conn_alloc();
    if (!c)
        return HU_PASS;
    c->refs = 1;
    c->fd = fd;
    c->state = HU_CONN_DONE;    /* made active below */
    memcpy(&c->addr, sa, len < sizeof c->addr ? len : sizeof c->addr);
    c->addrlen = len;
    c->port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (host) {
        snprintf(c->host, sizeof c->host, "%s", host);
        c->have_host = 1;
    }
    c->rule = r;
    c->attempt = 1;
    c->t0 = c->try_start = t0;
    c->herd.waiter = -1;
    hu_backoff_init(&c->bo);
    e->conn = c;
    if (err == 0) {
        c->state = HU_CONN_CONNECTING;
        set_active(c, 0);
        return HU_PASS;
    }
    /* the program's own connect failed at once and it gets that errno from
     * connect() itself: nothing is owed later, unless a retry is due */
    if (failed(c, fd, err, 0, hu_now_ms()) == HU_HIDE)
        return HU_HIDE;
    c->pending_err = 0;
    set_active(c, 1);
    return HU_PASS;
}

enum hu_verdict hu_conn_examine(hu_conn *c, int fd, short *revents)
{
    if (c->state != HU_CONN_CONNECTING)
        return HU_PASS;
    int64_t now = hu_now_ms();
    int st = hu_tcp_state(fd), err = 0;
    socklen_t l = sizeof err;
    switch (st) {
    case TCP_ESTABLISHED:
        /* POLLERR here is only queued ICMP noise from earlier tries */
        succeeded(c, fd, now);
        *revents &= (short)~POLLERR;
        return HU_PASS;
    case TCP_SYN_SENT:
        if (!(*revents & (POLLERR | POLLHUP)))
            return HU_HIDE;     /* not decided yet */
        hu_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (!err) {             /* a soft error already taken: keep waiting */
            hu_drain_errqueue(fd, NULL);
            return HU_HIDE;
        }
        return failed(c, fd, err, 0, now);
    case TCP_CLOSE:
        hu_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
        return failed(c, fd, err ? err : ECONNABORTED, 0, now);
    default:
        succeeded(c, fd, now);  /* past the handshake (e.g. CLOSE_WAIT) */
        return HU_PASS;
    }
}

/* Before a try: take the new look-up's answer if it is in (an event loop
 * never waits for it). */
static void readdress(hu_conn *c, int64_t now)
{
    struct sockaddr_storage moved;
    socklen_t mlen = 0;
    int m = hu_names_moved(c->relook, c->host, (const struct sockaddr *)&c->addr, 0, &moved, &mlen);
    if (m >= 0)
        c->relook = NULL;
    if (m != 1)
        return;
    hu_conn_log_readdressed((const struct sockaddr *)&c->addr, (const struct sockaddr *)&moved,
                            c->host, c->port, c->attempt, c->rule, (long)(now - c->t0));
    memcpy(&c->addr, &moved, sizeof moved);
    c->addrlen = mlen;
    /* the shared prober was the old address's: join the new one's at the
     * next failure */
    hu_herd_done(&c->herd, -1);
    c->herd_joined = 0;
}

/* When hostup's own bound ends the try in flight: the rule's timeout, and
 * the deadline once some try has a real errno to hand over (before that
 * the try runs to the kernel's verdict, so the program never gets an
 * error the kernel did not give).  -1: none. */
static int64_t try_bound(const hu_conn *c)
{
    const hu_rule *r = c->rule;
    int64_t b = r->timeout_ms ? c->try_start + (int64_t)r->timeout_ms : -1;
    if (r->deadline_ms && c->last_real) {
        int64_t d = c->t0 + (int64_t)r->deadline_ms;
        if (b < 0 || d < b)
            b = d;
    }
    return b;
}

int64_t hu_conn_tick(hu_conn *c, int fd, int64_t now)
{
    if (c->state == HU_CONN_WAITING) {
        int64_t at = herd_gate(c, fd, now);
        if (at != 0)
            return at;
        if (!c->probing)
            c->attempt++;
        c->herd.go = 0;
        c->try_start = now;
        if (c->relook)
            readdress(c, now);
        int rc = hu_real.connect(fd, (struct sockaddr *)&c->addr, c->addrlen);
        int err = rc == 0 ? 0 : errno;
        rejoin_epoll(c, fd);
        if (rc == 0) {
            succeeded(c, fd, now);
            return -1;
        }
        c->state = HU_CONN_CONNECTING;
        if (err != EINPROGRESS) {
            if (failed(c, fd, err, 0, now) == HU_HIDE)
                return c->next_try;
            c->sock_reset = 1;      /* failed at once: nothing pending in the kernel */
            return -1;
        }
    }
    if (c->state == HU_CONN_CONNECTING) {
        int64_t limit = try_bound(c);
        if (limit < 0 || now < limit)
            return limit;
        if (failed(c, fd, ETIMEDOUT, 1, now) == HU_HIDE)
            return c->next_try;
        /* our own bound ran out while the SYN is still in flight: stop it,
         * so the program hears the verdict now */
        hu_sock_reset(fd);
        c->sock_reset = 1;
    }
    return -1;
}

/* SO_ERROR while a retry is scheduled: the SYN is not in flight, yet the
 * program must keep waiting.  EINPROGRESS keeps libuv and asyncio waiting
 * (see README, "SO_ERROR"); so_error=zero serves clients that read 0 as
 * "still connecting" (libpq, curl <= 7.87). */
static int waiting_answer(const hu_conn *c)
{
    return c->rule->so_error_zero ? 0 : EINPROGRESS;
}

int hu_conn_so_error(hu_conn *c, int fd)
{
    int was = is_active(c);
    if (c->state == HU_CONN_DONE) {
        if (!c->pending_err)
            return -1;
        int err = c->pending_err;   /* owed once, as the kernel clears it */
        c->pending_err = 0;
        set_active(c, was);
        return err;
    }
    if (c->state == HU_CONN_WAITING)
        return waiting_answer(c);
    int err = 0;
    socklen_t l = sizeof err;
    if (hu_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || !err) {
        if (!err && hu_tcp_state(fd) == TCP_ESTABLISHED)
            succeeded(c, fd, hu_now_ms());
        return err;
    }
    if (failed(c, fd, err, 0, hu_now_ms()) == HU_HIDE)
        return waiting_answer(c);
    c->pending_err = 0;             /* handed over right now */
    set_active(c, 1);
    return err;
}

/* The program calls connect() again on a tracked socket (Ruby, Perl's
 * IO::Socket with a Timeout, hiredis: connect, wait, connect again to learn
 * the outcome).  Answer as the kernel would have without us. */
int hu_conn_reconnect(hu_conn *c, int fd)
{
    int was = is_active(c);
    if (c->state == HU_CONN_WAITING)
        return EALREADY;
    if (c->state == HU_CONN_DONE) {
        if (!c->pending_err)
            return -1;
        /* handed back on the first ICMP error, which is only a soft error:
         * the SYN is still in flight, the kernel says EALREADY and keeps
         * the error for SO_ERROR.  After a try we cut short and reset, the
         * answer is the one the last real failure would have given. */
        if (c->sock_reset ? c->last_soft : hu_tcp_state(fd) == TCP_SYN_SENT)
            return EALREADY;
        int err = c->pending_err;
        c->pending_err = 0;
        set_active(c, was);
        if (!c->sock_reset) {
            /* the kernel's verdict came (TCP_CLOSE): its connect() returns
             * that error, or ECONNABORTED when we already read it */
            int rc = hu_real.connect(fd, (struct sockaddr *)&c->addr, c->addrlen);
            int kerr = rc == 0 ? 0 : errno;
            if (kerr != ECONNABORTED)
                err = kerr;
        }
        return err;
    }
    int rc = hu_real.connect(fd, (struct sockaddr *)&c->addr, c->addrlen);
    int err = rc == 0 ? 0 : errno;
    if (err == 0 || err == EISCONN) {
        succeeded(c, fd, hu_now_ms());
        return err;
    }
    if (err == EALREADY || err == EINPROGRESS)
        return err;
    if (failed(c, fd, err, 0, hu_now_ms()) == HU_HIDE)
        return EALREADY;
    c->pending_err = 0;
    set_active(c, 1);
    return err;
}
