/* Which socket an fd number names: state kept for one socket must never
 * apply to the next one that gets its number.  A program can close a
 * descriptor without the library seeing it (syscall(SYS_close) as libuv
 * does, close_range, closefrom, a library loaded with RTLD_DEEPBIND), so
 * a tracked connection remembers its socket's identity, taken when the
 * tracking begins, and every use that acts on the fd, or on what the
 * program sees of it, checks it first.  The checks cost one getsockopt and
 * run only where the library already does slow-path work: never on the
 * fast paths of read, poll, epoll_wait or a healthy connect. */
#ifndef HOSTUP_SOCKID_H
#define HOSTUP_SOCKID_H

#include <stdint.h>

#include "conn.h"

/* The identity of the socket open at fd: its SO_COOKIE (Linux 4.12+), or
 * on older kernels its inode number (tagged, so the two never compare
 * equal).  0 when fd is not an open socket.  Preserves errno. */
uint64_t hu_sock_id(int fd) __attribute__((visibility("hidden")));

/* All calls below need hu_table_lock held. */

/* c, tracked on fd, when fd still holds the socket c was begun on;
 * otherwise fd's reference to c is dropped (its epoll registration is
 * kept: it belongs to the number, and epoll_ctl keeps it current) and
 * NULL is returned. */
hu_conn *hu_conn_verify(hu_conn *c, int fd) __attribute__((visibility("hidden")));
/* hu_conn_of, verified. */
hu_conn *hu_conn_of_verified(int fd) __attribute__((visibility("hidden")));

/* Tracked connections whose socket was closed behind our back would stay
 * active (and keep every wait call on its slow path) when their number is
 * never reused: at most once a second, a wait wrapper's slow path checks
 * every active connection and drops those.  Takes the lock itself. */
void hu_conn_sweep_maybe(void) __attribute__((visibility("hidden")));

#endif
