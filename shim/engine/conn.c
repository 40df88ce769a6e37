/* SPDX-License-Identifier: MIT */
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
#include "core/diag_overlap.h"
#include "core/offline.h"
#include "fdtable.h"
#include "hostup/hostup.h"
#include "lookup.h"
#include "names.h"
#include "relookup.h"
#include "retry.h"
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

#define CADDR(c) ((const struct sockaddr *)&(c)->addr)

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

/* The decision's view of this connection's herd (decide.h). */
static void conn_ops(hu_conn *c, hu_decide_ops *o)
{
    c->herd_ref = (hu_herd_ref){.herd = &c->herd, .sa = CADDR(c), .rule = c->rule};
    hu_herd_ops(o, &c->herd_ref);
}

static void log_rec(hu_conn *c, const hu_decide_rec *rec, const hu_icmp *icmp)
{
    hu_conn_log_rec(rec, CADDR(c), c->have_host ? c->host : NULL, c->port, c->rule, icmp,
                    c->herd.waited_ms);
}

/* Carry out a decision: wait for the next try (HU_HIDE), hand the failure
 * to the program (HU_PASS, the errno owed through SO_ERROR), or connected
 * (HU_PASS). */
static enum hu_verdict act_on(hu_conn *c, int fd, const hu_action *act, const hu_icmp *icmp, int was)
{
    log_rec(c, &act->rec, icmp);
    if (act->kind != HU_DO_WAIT) {
        rejoin_epoll(c, fd);    /* the program must see the failure */
        hu_errqueue_done(fd, &c->errq_watch);   /* the socket as the program made it */
        c->state = HU_CONN_DONE;
        c->pending_err = act->kind == HU_DO_GIVE_UP ? act->err : 0;
        drop_relook(c);
        set_active(c, was);
        return HU_PASS;
    }
    if (act->reset) {
        hu_sock_reset(fd);
        leave_epoll(c, fd);
    }
    /* the name may have moved to another address: ask again while we
     * wait; the next try takes its answer if it is in */
    if (act->drop_relook)
        drop_relook(c);
    if (act->start_relook) {
        c->relook = hu_relookup_start(c->host, CADDR(c));
        c->a.relook = c->relook != NULL;
    }
    c->errq_watch = c->errq_watch || hu_errqueue_watch(fd);     /* IPv6: ICMP evidence */
    c->state = HU_CONN_WAITING;
    set_active(c, was);
    return HU_HIDE;
}

/* The try in flight ended: err 0 connected, else its errno, or (cut)
 * hostup's own bound ended it first (err ETIMEDOUT). */
static enum hu_verdict tried(hu_conn *c, int fd, int err, int cut, int64_t now)
{
    hu_icmp icmp = {0};
    int was = is_active(c);
    /* stale ICMP entries keep POLLERR up; on a failure they are evidence */
    hu_drain_errqueue(fd, err ? &icmp : NULL);
    if (err && !cut)
        c->last_soft = hu_tcp_state(fd) == TCP_SYN_SENT;
    c->a.no_network = !cut && hu_offline_target(CADDR(c), err);
    hu_decide_ops o;
    conn_ops(c, &o);
    hu_action act;
    hu_decide_tried(&c->a, &o, err, cut, now, &act);
    return act_on(c, fd, &act, &icmp, was);
}

/* A connection waiting for its next try: may it try now (0), when should
 * its wait end (> 0), or did it give up (-1, handed to the program)?  With
 * a shared file the program's wait is cut short every EVLOOP_STEP so that
 * the prober's success is seen soon; its loop never blocks here. */
#define EVLOOP_STEP_MS 50
static int64_t herd_gate(hu_conn *c, int fd, int64_t now)
{
    int64_t wake, step = now + EVLOOP_STEP_MS;
    int act = c->herd.go ? HU_HERD_GO : HU_HERD_TRY;
    if (!c->herd.slot || c->herd.go) {
        if (now < c->a.next_try)
            return c->a.next_try;
    } else if ((act = hu_herd_decide(&c->herd, c->a.next_try, now, &wake)) == HU_HERD_GO) {
        c->herd.go = 1;     /* the target answered: try soon, spread out */
        c->a.next_try = now + hu_herd_spread_ms(&c->herd);
        if (now < c->a.next_try)
            return c->a.next_try;
    } else if (act == HU_HERD_NOTYET) {
        return wake < step ? (wake > now ? wake : now + 1) : step;
    }
    hu_decide_ops o;
    conn_ops(c, &o);
    hu_action d;
    int was = is_active(c);
    hu_decide_due(&c->a, &o, act, now, &d);
    if (d.kind == HU_DO_TRY)
        return 0;
    hu_icmp none = {0};
    if (act_on(c, fd, &d, &none, was) == HU_PASS)
        return -1;
    return c->a.next_try < step ? c->a.next_try : step;
}

/* A new conn for fd, tracked in its fd entry (not yet active). */
static hu_conn *conn_new(int fd, const struct sockaddr *sa, socklen_t len, const hu_rule *r,
                         const char *host, int64_t t0)
{
    hu_fdent *e = hu_fd_make(fd);
    if (!e)
        return NULL;
    if (e->conn)
        hu_conn_forget_fd(fd);
    hu_conn *c = conn_alloc();
    if (!c)
        return NULL;
    c->refs = 1;
    c->fd = fd;
    c->sock_id = hu_sock_id(fd);
    c->state = HU_CONN_DONE;    /* made active below */
    memcpy(&c->addr, sa, len < sizeof c->addr ? len : sizeof c->addr);
    c->addrlen = len;
    c->port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (host) {
        snprintf(c->host, sizeof c->host, "%s", host);
        c->have_host = 1;
    }
    c->rule = r;
    c->herd.waiter = -1;
    /* an event loop's socket: no SO_SNDTIMEO (the kernel ignores it on a
     * non-blocking connect), and never a wait for a look-up */
    hu_decide_init(&c->a, r, t0, 0, 0, c->have_host, hu_relookup_ms(r));
    c->cut_at = hu_decide_start(&c->a, t0);
    e->conn = c;
    return c;
}

enum hu_verdict hu_conn_begin(int fd, const struct sockaddr *sa, socklen_t len,
                              const hu_rule *r, const char *host, int64_t t0, int err)
{
    hu_conn *c = conn_new(fd, sa, len, r, host, t0);
    if (!c)
        return HU_PASS;
    if (err == 0) {
        c->state = HU_CONN_CONNECTING;
        set_active(c, 0);
        return HU_PASS;
    }
    /* the program's own connect failed at once and it gets that errno from
     * connect() itself: nothing is owed later, unless a retry is due */
    if (tried(c, fd, err, 0, hu_now_ms()) == HU_HIDE)
        return HU_HIDE;
    c->pending_err = 0;
    set_active(c, 1);
    return HU_PASS;
}

/* Held: no SYN leaves while another process probes the target.  The
 * socket has never been connected: it stays WAITING (left out of the
 * program's waits, SO_ERROR "still connecting", connect() EALREADY) until
 * the herd says go, and then hu_conn_tick makes its first real try; or its
 * own rule, deadline or attempts end it with the prober's errno.  The
 * kernel ignores SO_SNDTIMEO on a non-blocking connect, and so does this
 * wait (decide.h: an event loop's socket has no snd_end). */
enum hu_verdict hu_conn_hold(int fd, const struct sockaddr *sa, socklen_t len, const hu_rule *r,
                             const char *host, int64_t t0, int err)
{
    hu_conn *c = conn_new(fd, sa, len, r, host, t0);
    if (!c)
        return HU_PASS;
    hu_decide_ops o;
    conn_ops(c, &o);
    hu_action act;
    c->a.last_real = err;       /* the errno the kernel gave the prober */
    hu_decide_failed(&c->a, &o, err, 0, 1, hu_now_ms(), &act);
    if (act.kind != HU_DO_WAIT) {   /* nothing to wait for: a try of its own */
        hu_conn_forget_fd(fd);
        return HU_PASS;
    }
    hu_icmp none = {0};
    act_on(c, fd, &act, &none, 0);
    leave_epoll(c, fd);         /* registered before its connect: out while held */
    return HU_HIDE;
}

void hu_conn_ep_added(hu_conn *c, int fd)
{
    /* a fresh socket polls POLLOUT|POLLHUP: a waiting one must not be seen */
    if (c->state == HU_CONN_WAITING)
        leave_epoll(c, fd);
}

enum hu_verdict hu_conn_examine(hu_conn *c, int fd, short *revents)
{
    if (c->state != HU_CONN_CONNECTING)
        return HU_PASS;
    int64_t now = hu_now_ms();
    /* writable with no error or hang-up: past the handshake (a socket in
     * SYN_SENT is not writable, one in TCP_CLOSE polls POLLHUP), so no
     * TCP_INFO is asked for the common case */
    int st = (*revents & (POLLOUT | POLLERR | POLLHUP)) == POLLOUT ? TCP_ESTABLISHED
                                                                   : hu_tcp_state(fd);
    int err = 0;
    socklen_t l = sizeof err;
    switch (st) {
    case TCP_ESTABLISHED:
        /* POLLERR here is only queued ICMP noise from earlier tries */
        tried(c, fd, 0, 0, now);
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
        return tried(c, fd, err, 0, now);
    case TCP_CLOSE:
        hu_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
        return tried(c, fd, err ? err : ECONNABORTED, 0, now);
    default:
        tried(c, fd, 0, 0, now);    /* past the handshake (e.g. CLOSE_WAIT) */
        return HU_PASS;
    }
}

/* Before a try: take the new look-up's answer if it is in (an event loop
 * never waits for it). */
static void readdress(hu_conn *c, int64_t now)
{
    struct sockaddr_storage moved;
    socklen_t mlen = 0;
    int m = hu_relookup_moved(c->relook, c->host, CADDR(c), 0, &moved, &mlen);
    if (m >= 0) {
        c->relook = NULL;
        c->a.relook = 0;
    }
    if (m != 1)
        return;
    hu_decide_ops o;
    conn_ops(c, &o);
    hu_decide_rec rec;
    hu_decide_moved(&c->a, &o, now, &rec);
    hu_conn_log_readdressed(CADDR(c), (const struct sockaddr *)&moved, c->host, c->port,
                            rec.attempt, c->rule, rec.elapsed_ms, 0);
    memcpy(&c->addr, &moved, sizeof moved);
    c->addrlen = mlen;
}

/* When hostup's own bound ends the try in flight (the decision's, set by
 * hu_decide_start when the try began): the rule's timeout, the deadline
 * once some try has a real errno to hand over.  -1: none. */
int64_t hu_conn_try_bound(const hu_conn *c)
{
    return c->cut_at;
}

int64_t hu_conn_tick(hu_conn *c, int fd, int64_t now)
{
    if (c->state == HU_CONN_WAITING) {
        int64_t at = herd_gate(c, fd, now);
        if (at != 0)
            return at;
        c->herd.go = 0;
        if (c->relook)
            readdress(c, now);
        c->cut_at = hu_decide_start(&c->a, now);
        int rc = hu_real.connect(fd, (struct sockaddr *)&c->addr, c->addrlen);
        int err = rc == 0 ? 0 : errno;
        rejoin_epoll(c, fd);
        c->state = HU_CONN_CONNECTING;
        if (rc == 0) {
            tried(c, fd, 0, 0, now);
            return -1;
        }
        if (err != EINPROGRESS) {
            if (tried(c, fd, err, 0, now) == HU_HIDE)
                return c->a.next_try;
            c->sock_reset = 1;      /* failed at once: nothing pending in the kernel */
            return -1;
        }
    }
    if (c->state == HU_CONN_CONNECTING) {
        if (c->cut_at < 0 || now < c->cut_at)
            return c->cut_at;
        if (tried(c, fd, ETIMEDOUT, 1, now) == HU_HIDE)
            return c->a.next_try;
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
            tried(c, fd, 0, 0, hu_now_ms());
        return err;
    }
    if (tried(c, fd, err, 0, hu_now_ms()) == HU_HIDE)
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
        tried(c, fd, 0, 0, hu_now_ms());
        return err;
    }
    if (err == EALREADY || err == EINPROGRESS)
        return err;
    if (tried(c, fd, err, 0, hu_now_ms()) == HU_HIDE)
        return EALREADY;
    c->pending_err = 0;
    set_active(c, 1);
    return err;
}
