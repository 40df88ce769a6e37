/* SPDX-License-Identifier: MIT */
/* Connections whose socket was closed behind our back.  A program can close
 * a descriptor where no wrapper sees it (fdtable.h), so a tracked
 * connection remembers its socket's identity (hu_sock_id, taken when the
 * tracking begins) and every use that would act on the fd, or on what the
 * program sees of it, checks it first: a connect on it, SO_ERROR, a wait
 * that hides it or tries it again, an event for it, epoll_ctl, dup.  The
 * check costs one getsockopt and runs only where the library already does
 * slow-path work: never on the fast paths of read, poll, epoll_wait or a
 * healthy connect. */
#ifndef HOSTUP_STALE_H
#define HOSTUP_STALE_H

#include <stdint.h>

#include "conn.h"

/* All calls below but the sweep need hu_table_lock held. */

/* c, tracked on fd, when fd still holds the socket c was begun on;
 * otherwise fd's reference to c is dropped (its epoll registration is
 * kept: it belongs to the number, and epoll_ctl keeps it current) and
 * NULL is returned. */
hu_conn *hu_conn_verify(hu_conn *c, int fd) __attribute__((visibility("hidden")));
/* hu_conn_of, verified. */
hu_conn *hu_conn_of_verified(int fd) __attribute__((visibility("hidden")));

/* Will a wait act on c's fd now: hide it (waiting for its next try), or
 * tick it into a try or past its bound?  Then verify it first; otherwise
 * a tick does nothing to the fd and needs no check. */
int hu_conn_touches(const hu_conn *c, int64_t now) __attribute__((visibility("hidden")));

/* A connection whose socket was closed behind our back and whose number is
 * never used again would stay active for ever (and keep every wait call on
 * its slow path): at most once a second, the wait wrappers' slow paths
 * check every active connection and drop those.  Takes the lock. */
void hu_conn_sweep_maybe(void) __attribute__((visibility("hidden")));

#endif
