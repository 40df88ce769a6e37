/* SPDX-License-Identifier: MIT */
/* poll, ppoll, select, pselect: where event-loop clients learn that a
 * non-blocking connect failed.  While a tracked connection waits for its
 * next try its fd is left out of the wait (negated in place, restored
 * after), the wait is cut short at the moment of the next try, and failure
 * events that led to a retry are removed from the result, whose count is
 * recomputed.  The caller's own timeout still bounds the whole call.
 *
 * Fast path: no tracked connection anywhere -> the real call, directly. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "engine/conn.h"
#include "engine/fdtable.h"
#include "engine/retry.h"
#include "sys/real.h"
#include "engine/stale.h"

#define HIDE_STACK 64

typedef int (*wait_fn)(struct pollfd *, nfds_t, int64_t ms, void *ctx);

static int64_t earliest(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* The shared loop.  timeout_ms < 0 waits forever. */
static int poll_core(struct pollfd *fds, nfds_t n, int64_t timeout_ms, wait_fn wait, void *ctx)
{
    int64_t start = hu_now_ms();
    int64_t end = timeout_ms >= 0 ? start + timeout_ms : -1;
    size_t hide_stack[HIDE_STACK], *hidden = hide_stack, cap = HIDE_STACK;
    int rc;

    for (;;) {
        size_t nh = 0;
        int64_t now = hu_now_ms(), wake = end;
        hu_table_lock();
        for (nfds_t i = 0; i < n; i++) {
            hu_conn *c = hu_conn_of(fds[i].fd);
            if (!c || c->state == HU_CONN_DONE)
                continue;
            /* hidden or tried: only while fd is still its socket */
            if (hu_conn_touches(c, now) && !hu_conn_verify(c, fds[i].fd))
                continue;
            wake = earliest(wake, hu_conn_tick(c, fds[i].fd, now));
            if (c->state != HU_CONN_WAITING)
                continue;
            if (nh == cap) {    /* more waiting fds than the stack holds */
                size_t *bigger = malloc(2 * cap * sizeof *bigger);
                if (!bigger)
                    continue;   /* cannot hide it: it will just look failed */
                memcpy(bigger, hidden, nh * sizeof *hidden);
                if (hidden != hide_stack)
                    free(hidden);
                hidden = bigger;
                cap *= 2;
            }
            hidden[nh++] = i;
            fds[i].fd = -1 - fds[i].fd;     /* poll ignores negative fds */
        }
        hu_table_unlock();

        int64_t ms = wake < 0 ? -1 : (wake > now ? wake - now : 0);
        rc = wait(fds, n, ms, ctx);
        int saved = errno;
        for (size_t k = 0; k < nh; k++) {
            fds[hidden[k]].fd = -1 - fds[hidden[k]].fd;
            fds[hidden[k]].revents = 0;
        }
        if (rc < 0) {
            errno = saved;
            break;
        }

        int visible = 0;
        hu_table_lock();
        for (nfds_t i = 0; i < n; i++) {
            /* looked up even without revents: a connection handed back
             * while its SYN is still in flight owes POLLERR */
            hu_conn *c = hu_conn_of(fds[i].fd);
            if (c && (c->state == HU_CONN_CONNECTING || c->pending_err))
                c = hu_conn_verify(c, fds[i].fd);
            if (c && c->state == HU_CONN_CONNECTING &&
                hu_conn_examine(c, fds[i].fd, &fds[i].revents) == HU_HIDE)
                fds[i].revents = 0;
            if (c && c->state == HU_CONN_DONE && c->pending_err)
                fds[i].revents |= POLLERR;
            visible += fds[i].revents != 0;
        }
        hu_table_unlock();
        errno = saved;
        rc = visible;
        if (visible || timeout_ms == 0 || (end >= 0 && hu_now_ms() >= end))
            break;
    }
    if (hidden != hide_stack)
        free(hidden);
    return rc;
}

/* Does any fd of the set belong to a tracked connection? */
static int any_tracked(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++) {
        hu_conn *c = hu_conn_of(fds[i].fd);
        if (c && (c->state != HU_CONN_DONE || c->pending_err))
            return 1;
    }
    return 0;
}

/* The same, after dropping connections whose socket is gone (stale.h). */
static int swept_any_tracked(const struct pollfd *fds, nfds_t n)
{
    hu_conn_sweep_maybe();
    return any_tracked(fds, n);
}

static int wait_poll(struct pollfd *fds, nfds_t n, int64_t ms, void *ctx)
{
    (void)ctx;
    return hu_real.poll(fds, n, ms > 0x7fffffff ? 0x7fffffff : (int)ms);
}

__attribute__((noinline)) static int poll_slow(struct pollfd *fds, nfds_t n, int timeout)
{
    hu_ensure_bound();
    if (!__atomic_load_n(&hu_conns_active, __ATOMIC_ACQUIRE) || hu_guard || !swept_any_tracked(fds, n))
        return hu_real.poll(fds, n, timeout);
    return poll_core(fds, n, timeout, wait_poll, NULL);
}

/* The fast path is two loads and a tail call: keep it free of anything
 * that would make the compiler save registers. */
__attribute__((visibility("default")))
int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (HU_LIKELY(hu_ready_and_idle()))
        return hu_real.poll(fds, n, timeout);
    return poll_slow(fds, n, timeout);
}

#ifdef __GLIBC__ /* _FORTIFY_SOURCE's entry points: musl has none */
__attribute__((visibility("default")))
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    if (fdslen / sizeof *fds < n)
        abort();    /* what glibc's own __poll_chk does: a buffer overflow */
    return poll(fds, n, timeout);
}
#endif

struct ppoll_ctx {
    const struct timespec *ts;
    const sigset_t *mask;
    int64_t full_ms;
};

static int wait_ppoll(struct pollfd *fds, nfds_t n, int64_t ms, void *p)
{
    struct ppoll_ctx *c = p;
    if (ms < 0)
        return hu_real.ppoll(fds, n, NULL, c->mask);
    if (ms == c->full_ms && c->ts)     /* not shortened: keep full precision */
        return hu_real.ppoll(fds, n, c->ts, c->mask);
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    return hu_real.ppoll(fds, n, &t, c->mask);
}

static int64_t ts_ms(const struct timespec *ts)
{
    if (!ts)
        return -1;
    return (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
}

__attribute__((visibility("default")))
int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
    if (HU_LIKELY(hu_ready_and_idle()))
        return hu_real.ppoll(fds, n, ts, mask);
    hu_ensure_bound();
    if (!__atomic_load_n(&hu_conns_active, __ATOMIC_ACQUIRE) || hu_guard || !swept_any_tracked(fds, n))
        return hu_real.ppoll(fds, n, ts, mask);
    struct ppoll_ctx c = {ts, mask, ts_ms(ts)};
    return poll_core(fds, n, c.full_ms, wait_ppoll, &c);
}

#ifdef __GLIBC__
__attribute__((visibility("default")))
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
                size_t fdslen)
{
    if (fdslen / sizeof *fds < n)
        abort();
    return ppoll(fds, n, ts, mask);
}
#endif

/* ---- select and pselect: run through the poll core when a tracked fd is
 * in the sets, and translate back. */

static int select_tracked(int nfds, fd_set *r, fd_set *w, fd_set *x)
{
    hu_conn_sweep_maybe();
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
        if (!((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))))
            continue;
        hu_conn *c = hu_conn_of(fd);
        if (c && (c->state != HU_CONN_DONE || c->pending_err))
            return 1;
    }
    return 0;
}

static int select_core(int nfds, fd_set *r, fd_set *w, fd_set *x, int64_t ms,
                       wait_fn wait, void *ctx)
{
    struct pollfd pf[FD_SETSIZE];
    nfds_t n = 0;
    if (nfds > FD_SETSIZE)
        nfds = FD_SETSIZE;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = 0;
        if (r && FD_ISSET(fd, r))
            ev |= POLLIN;
        if (w && FD_ISSET(fd, w))
            ev |= POLLOUT;
        if (x && FD_ISSET(fd, x))
            ev |= POLLPRI;
        if (ev)
            pf[n++] = (struct pollfd){fd, ev, 0};
    }
    int rc = poll_core(pf, n, ms, wait, ctx);
    if (rc < 0)
        return rc;
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        int fd = pf[i].fd;
        short re = pf[i].revents;
        if (re & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        /* the kernel's select: errors and hangups make an fd readable and
         * writable, whichever was asked */
        if (r && FD_ISSET(fd, r)) {
            if (re & (POLLIN | POLLHUP | POLLERR))
                count++;
            else
                FD_CLR(fd, r);
        }
        if (w && FD_ISSET(fd, w)) {
            if (re & (POLLOUT | POLLERR))
                count++;
            else
                FD_CLR(fd, w);
        }
        if (x && FD_ISSET(fd, x)) {
            if (re & POLLPRI)
                count++;
            else
                FD_CLR(fd, x);
        }
    }
    return count;
}

__attribute__((visibility("default")))
int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
    hu_ensure_bound();
    if (HU_LIKELY(!__atomic_load_n(&hu_conns_active, __ATOMIC_ACQUIRE)) || hu_guard ||
        nfds < 0 || !select_tracked(nfds, r, w, x))
        return hu_real.select(nfds, r, w, x, tv);
    int64_t ms = tv ? (int64_t)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000 : -1;
    int64_t t0 = hu_now_ms();
    int rc = select_core(nfds, r, w, x, ms, wait_poll, NULL);
    if (tv) {   /* Linux updates the timeout with the time left */
        int64_t left = ms - (hu_now_ms() - t0);
        if (left < 0)
            left = 0;
        tv->tv_sec = left / 1000;
        tv->tv_usec = (left % 1000) * 1000;
    }
    return rc;
}

__attribute__((visibility("default")))
int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
            const sigset_t *mask)
{
    hu_ensure_bound();
    if (HU_LIKELY(!__atomic_load_n(&hu_conns_active, __ATOMIC_ACQUIRE)) || hu_guard ||
        nfds < 0 || !select_tracked(nfds, r, w, x))
        return hu_real.pselect(nfds, r, w, x, ts, mask);
    struct ppoll_ctx c = {ts, mask, ts_ms(ts)};
    return select_core(nfds, r, w, x, c.full_ms, wait_ppoll, &c);
}
