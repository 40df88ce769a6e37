/* SPDX-License-Identifier: MIT */
/* epoll: the same retries for loops built on epoll (libuv/Node.js, Python
 * asyncio, nginx, Java NIO).  epoll reports the registration's data, not
 * the fd, so epoll_ctl records every registration in the fd table and a
 * tracked connection is recognised by (epfd, data).  A connection waiting
 * for its next try is taken out of the epoll set (EPOLLHUP cannot be
 * masked) and put back, with the program's events and data, when the next
 * SYN leaves. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <time.h>

#include "engine/conn.h"
#include "engine/fdtable.h"
#include "engine/retry.h"
#include "sys/real.h"
#include "engine/stale.h"

/* The conn on fd that we took out of epfd for a backoff wait, with the
 * table lock taken; NULL (and no lock) when there is none, or when fd is
 * now another socket (stale.h): that one's registration is the
 * kernel's business. */
static hu_conn *ep_removed_by_us(int fd, int epfd)
{
    hu_table_lock();
    hu_conn *c = hu_conn_of(fd);
    if (c && c->ep_removed && c->epfd == epfd && (c = hu_conn_verify(c, fd)) != NULL)
        return c;
    hu_table_unlock();
    return NULL;
}

__attribute__((visibility("default")))
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    hu_ensure_bound();
    if (hu_guard)
        return hu_real.epoll_ctl(epfd, op, fd, ev);
    hu_conn *c = hu_conn_of(fd);
    if (HU_UNLIKELY(c && c->ep_removed && c->epfd == epfd) &&
        (c = ep_removed_by_us(fd, epfd)) != NULL) {
        /* we took it out for a backoff wait: apply the change to what we
         * will put back, and answer as if it were still registered */
        int rc = 0;
        if (op == EPOLL_CTL_MOD && ev) {
            c->ep_events = ev->events;
            c->ep_data = ev->data.u64;
        } else if (op == EPOLL_CTL_DEL) {
            c->ep_removed = 0;
            hu_fd_get(fd)->epfd = -1;
        } else if (op == EPOLL_CTL_ADD) {
            errno = EEXIST;
            rc = -1;
        }
        hu_table_unlock();
        return rc;
    }
    int rc = hu_real.epoll_ctl(epfd, op, fd, ev);
    if (rc != 0)
        return rc;
    int saved = errno;
    hu_table_lock();
    hu_fdent *e = op == EPOLL_CTL_DEL ? hu_fd_get(fd) : hu_fd_make(fd);
    if (e) {
        if (op == EPOLL_CTL_DEL) {
            if (e->epfd == epfd)
                e->epfd = -1;
        } else if (ev) {
            e->epfd = epfd;
            e->ep_events = ev->events;
            e->ep_data = ev->data.u64;
            hu_conn *t = e->conn ? hu_conn_verify(e->conn, fd) : NULL;
            if (t) {
                t->fd = fd;
                hu_conn_ep_added(t, fd);    /* held or waiting: out again */
            }
        }
    }
    hu_table_unlock();
    errno = saved;
    return rc;
}

static short to_poll(uint32_t e)
{
    return (short)(((e & EPOLLIN) ? POLLIN : 0) | ((e & EPOLLOUT) ? POLLOUT : 0) |
                   ((e & EPOLLERR) ? POLLERR : 0) | ((e & EPOLLHUP) ? POLLHUP : 0) |
                   ((e & EPOLLPRI) ? POLLPRI : 0));
}

/* The tracked connection registered in epfd with this data, if any. */
static hu_conn *match(int epfd, uint64_t data, int *fd)
{
    for (hu_conn *c = hu_conn_active_head(); c; c = c->next_active) {
        hu_fdent *e = hu_fd_get(c->fd);
        if (e && e->epfd == epfd && e->ep_data == data && !c->ep_removed) {
            *fd = c->fd;
            return c;
        }
    }
    return NULL;
}

typedef int (*ewait_fn)(int epfd, struct epoll_event *ev, int max, int64_t ms, void *ctx);

static int epoll_core(int epfd, struct epoll_event *evs, int max, int64_t timeout_ms,
                      ewait_fn wait, void *ctx)
{
    int64_t end = timeout_ms >= 0 ? hu_now_ms() + timeout_ms : -1;
    for (;;) {
        hu_conn_sweep_maybe();
        int64_t now = hu_now_ms(), wake = end;
        hu_table_lock();
        for (hu_conn *c = hu_conn_active_head(), *next; c; c = next) {
            next = c->next_active;      /* tick may take c off the list */
            hu_fdent *e = hu_fd_get(c->fd);
            int mine = (c->ep_removed && c->epfd == epfd) || (e && e->epfd == epfd);
            if (!mine || c->fd < 0 || c->state == HU_CONN_DONE)
                continue;
            if (hu_conn_touches(c, now) && !hu_conn_verify(c, c->fd))
                continue;               /* its socket was closed behind our back */
            int64_t t = hu_conn_tick(c, c->fd, now);
            if (t >= 0 && (wake < 0 || t < wake))
                wake = t;
        }
        hu_table_unlock();

        int64_t ms = wake < 0 ? -1 : (wake > now ? wake - now : 0);
        int rc = wait(epfd, evs, max, ms, ctx);
        if (rc <= 0) {
            if (rc < 0 || timeout_ms == 0 || (end >= 0 && hu_now_ms() >= end))
                return rc;
            continue;
        }
        int saved = errno, out = 0;
        hu_table_lock();
        for (int i = 0; i < rc; i++) {
            int fd = -1;
            hu_conn *c = match(epfd, evs[i].data.u64, &fd);
            if (c && (c->state == HU_CONN_CONNECTING || c->pending_err))
                c = hu_conn_verify(c, fd);  /* the event may be another socket's */
            if (c && c->state == HU_CONN_CONNECTING) {
                short re = to_poll(evs[i].events);
                uint32_t reg = hu_fd_get(fd)->ep_events;
                if (hu_conn_examine(c, fd, &re) == HU_HIDE) {
                    if ((reg & EPOLLONESHOT) && !c->ep_removed) {
                        /* the hidden event disarmed it: arm it again */
                        struct epoll_event again = {.events = reg, .data.u64 = evs[i].data.u64};
                        hu_real.epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &again);
                    }
                    continue;
                }
                if (!(re & POLLERR))
                    evs[i].events &= ~(uint32_t)EPOLLERR;
            }
            if (c && c->state == HU_CONN_DONE && c->pending_err)
                evs[i].events |= EPOLLERR;
            evs[out++] = evs[i];
        }
        hu_table_unlock();
        errno = saved;
        if (out || timeout_ms == 0 || (end >= 0 && hu_now_ms() >= end))
            return out;
    }
}

static int wait_plain(int epfd, struct epoll_event *ev, int max, int64_t ms, void *ctx)
{
    (void)ctx;
    return hu_real.epoll_wait(epfd, ev, max, ms > 0x7fffffff ? 0x7fffffff : (int)ms);
}

static int wait_pwait(int epfd, struct epoll_event *ev, int max, int64_t ms, void *ctx)
{
    return hu_real.epoll_pwait(epfd, ev, max, ms > 0x7fffffff ? 0x7fffffff : (int)ms,
                               (const sigset_t *)ctx);
}

struct pwait2_ctx { const struct timespec *ts; const sigset_t *mask; int64_t full_ms; };

static int wait_pwait2(int epfd, struct epoll_event *ev, int max, int64_t ms, void *p)
{
    struct pwait2_ctx *c = p;
    if (ms < 0)
        return hu_real.epoll_pwait2(epfd, ev, max, NULL, c->mask);
    if (ms == c->full_ms && c->ts)
        return hu_real.epoll_pwait2(epfd, ev, max, c->ts, c->mask);
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    return hu_real.epoll_pwait2(epfd, ev, max, &t, c->mask);
}

#define ACTIVE() __atomic_load_n(&hu_conns_active, __ATOMIC_ACQUIRE)

__attribute__((noinline)) static int epoll_wait_slow(int epfd, struct epoll_event *ev, int max,
                                                     int timeout)
{
    hu_ensure_bound();
    if (!ACTIVE() || hu_guard || max <= 0)
        return hu_real.epoll_wait(epfd, ev, max, timeout);
    return epoll_core(epfd, ev, max, timeout, wait_plain, NULL);
}

__attribute__((visibility("default")))
int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    if (HU_LIKELY(hu_ready_and_idle()))
        return hu_real.epoll_wait(epfd, ev, max, timeout);
    return epoll_wait_slow(epfd, ev, max, timeout);
}

__attribute__((visibility("default")))
int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    if (HU_LIKELY(hu_ready_and_idle()))
        return hu_real.epoll_pwait(epfd, ev, max, timeout, mask);
    hu_ensure_bound();
    if (HU_LIKELY(!ACTIVE()) || hu_guard || max <= 0)
        return hu_real.epoll_pwait(epfd, ev, max, timeout, mask);
    return epoll_core(epfd, ev, max, timeout, wait_pwait, (void *)mask);
}

__attribute__((visibility("default")))
int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *ts,
                 const sigset_t *mask)
{
    hu_ensure_bound();
    if (HU_UNLIKELY(!hu_real.epoll_pwait2)) {
        errno = ENOSYS;
        return -1;
    }
    if (HU_LIKELY(!ACTIVE()) || hu_guard || max <= 0)
        return hu_real.epoll_pwait2(epfd, ev, max, ts, mask);
    int64_t full = ts ? (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000 : -1;
    struct pwait2_ctx c = {ts, mask, full};
    return epoll_core(epfd, ev, max, full, wait_pwait2, &c);
}
