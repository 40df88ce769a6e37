/* SPDX-License-Identifier: MIT */
/* Connections whose socket was closed behind our back (see stale.h). */
#define _GNU_SOURCE
#include "fdtable.h"
#include "retry.h"
#include "sys/real.h"
#include "stale.h"

hu_conn *hu_conn_verify(hu_conn *c, int fd)
{
    if (!c || !c->sock_id || hu_sock_id(fd) == c->sock_id)
        return c;
    if (hu_conn_of(fd) == c)
        hu_conn_forget_fd(fd);
    return NULL;
}

hu_conn *hu_conn_of_verified(int fd)
{
    return hu_conn_verify(hu_conn_of(fd), fd);
}

int hu_conn_touches(const hu_conn *c, int64_t now)
{
    int64_t limit;
    return c->state == HU_CONN_WAITING ||
           (c->state == HU_CONN_CONNECTING && (limit = hu_conn_try_bound(c)) >= 0 && now >= limit);
}

#define SWEEP_MS 1000
static int64_t next_sweep;

void hu_conn_sweep_maybe(void)
{
    int64_t now = hu_now_ms();
    if (now < __atomic_load_n(&next_sweep, __ATOMIC_RELAXED))
        return;
    hu_table_lock();
    if (now >= next_sweep) {
        __atomic_store_n(&next_sweep, now + SWEEP_MS, __ATOMIC_RELAXED);
        for (hu_conn *c = hu_conn_active_head(), *next; c; c = next) {
            next = c->next_active;      /* dropping c takes it off the list */
            if (c->fd >= 0)
                hu_conn_verify(c, c->fd);
        }
    }
    hu_table_unlock();
}
