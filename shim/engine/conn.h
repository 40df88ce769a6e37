/* SPDX-License-Identifier: MIT */
/* Connections being retried asynchronously: a non-blocking connect whose
 * failure arrives later, through poll/select/epoll or SO_ERROR.  The
 * program's own wait calls drive the retries, so its event loop never
 * stalls: a connection waiting for its next try is left out of the wait,
 * and the wait is shortened to the moment of that try. */
#ifndef HOSTUP_CONN_H
#define HOSTUP_CONN_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hostup/backoff.h"
#include "decide.h"
#include "herd.h"
#include "hostup/policy.h"
#include "core/probe.h"
#include "sys/real.h"

enum hu_conn_state {
    HU_CONN_CONNECTING,     /* a SYN is in flight */
    HU_CONN_WAITING,        /* failed, reset; the next try is at next_try */
    HU_CONN_DONE,           /* connected, or handed back to the program */
};

typedef struct hu_conn {
    int refs;               /* fds pointing here (dup) */
    int fd;                 /* the fd it is known by for epoll; -1 unknown */
    uint64_t sock_id;       /* its socket's identity (hu_sock_id); 0 unknown */
    enum hu_conn_state state;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    unsigned port;
    char host[256];
    int have_host;
    const hu_rule *rule;
    hu_attempt a;           /* the retry decision's state (decide.h) */
    int64_t cut_at;         /* CONNECTING: hostup's own bound on the try; -1 none */
    int pending_err;        /* SO_ERROR owed to the program after we read it */
    int last_soft;          /* the last real failure came while the SYN was in flight */
    int sock_reset;         /* handed back after we reset the socket: the
                             * kernel holds nothing for the program */
    int ep_removed;         /* we took it out of epfd while WAITING */
    int epfd;
    uint32_t ep_events;
    uint64_t ep_data;
    struct hu_lookup *relook;   /* the host name looked up again (hosts that move) */
    hu_herd herd;           /* the shared prober and budget (herd.h) */
    hu_herd_ref herd_ref;   /* ... as the decision reaches it */
    int errq_watch;         /* we set IPV6_RECVERR for our tries (probe.h) */
    struct hu_conn *next_active, *prev_active;
} hu_conn;

/* How a wait wrapper should treat an event on a tracked fd. */
enum hu_verdict { HU_PASS, HU_HIDE };

/* hu_conns_active counts conns in CONNECTING or WAITING, or owing an
 * error: the wait wrappers' fast path reads only that. */
extern int hu_conns_active HU_HIDDEN;

/* Bound, and no connection being retried anywhere: the wait wrappers'
 * whole fast path. */
static inline int hu_ready_and_idle(void)
{
    return __atomic_load_n(&hu_bound, __ATOMIC_ACQUIRE) &&
           !__atomic_load_n(&hu_conns_active, __ATOMIC_RELAXED);
}

/* All calls below need hu_table_lock held. */

/* Start tracking fd after its non-blocking connect returned EINPROGRESS
 * (err == 0) or failed at once with err.  Returns the verdict for the
 * connect call itself: HU_HIDE means "report EINPROGRESS, a retry is due". */
enum hu_verdict hu_conn_begin(int fd, const struct sockaddr *sa, socklen_t len,
                              const hu_rule *r, const char *host, int64_t t0, int err);
/* A non-blocking connect to a target another process probes: track fd as
 * waiting for the herd without sending a SYN (err: the prober's errno).
 * HU_HIDE: report EINPROGRESS; HU_PASS: not held, make the try. */
enum hu_verdict hu_conn_hold(int fd, const struct sockaddr *sa, socklen_t len, const hu_rule *r,
                             const char *host, int64_t t0, int err);
/* The program registered fd in epoll (fd entry updated): a waiting conn
 * leaves it again until its next try. */
void hu_conn_ep_added(hu_conn *c, int fd);
hu_conn *hu_conn_of(int fd);
/* An event (revents in poll terms) was seen for a CONNECTING conn. */
enum hu_verdict hu_conn_examine(hu_conn *c, int fd, short *revents);
/* Fire due retries and expire per-try timeouts; returns the earliest
 * time (ms) this conn needs attention, or -1. */
int64_t hu_conn_tick(hu_conn *c, int fd, int64_t now);
/* When hostup's own bound ends the try in flight (ms), or -1. */
int64_t hu_conn_try_bound(const hu_conn *c);
/* fd was closed, replaced, connected anew, or no longer holds the conn's
 * socket (stale.h): drop its reference to the conn.  Its epoll
 * registration is the caller's to drop (it belongs to the number). */
void hu_conn_forget_fd(int fd);
/* fd2 became a duplicate of fd. */
void hu_conn_dup(int fd, int fd2);
hu_conn *hu_conn_active_head(void);
/* getsockopt(SO_ERROR) on a tracked fd: the value to report, or -1 to let
 * the kernel answer. */
int hu_conn_so_error(hu_conn *c, int fd);
/* connect() called again by the program on a tracked fd: returns 0 or an
 * errno to report, or -1 to let the call through. */
int hu_conn_reconnect(hu_conn *c, int fd);
void hu_conn_log(const char *event, const struct sockaddr *sa, const char *host, unsigned port,
                 int err, unsigned attempt, const hu_rule *r, long delay, long elapsed,
                 long try_ms, const hu_icmp *icmp);
/* The name moved (see hu_names_moved): a readdressed record; remembered:
 * a new connection sent to where the name moved before (moved.h). */
void hu_conn_log_readdressed(const struct sockaddr *old, const struct sockaddr *sa, const char *host,
                             unsigned port, unsigned attempt, const hu_rule *r, long elapsed,
                             int remembered);
/* How long a look-up of a moved host may take, when the rule has no
 * timeout=: a blocking connect waits for it that long from the failure; a
 * look-up still out after that is replaced by a new one at the next
 * failure (a server that never answers holds it for glibc's 10 s). */
#define HU_RELOOKUP_MS 1000
static inline unsigned hu_relookup_ms(const hu_rule *r)
{
    return r->timeout_ms ? r->timeout_ms : HU_RELOOKUP_MS;
}
/* The same, with a gave_up's reason (enum hu_giveup) or a recovered
 * connect's time spent waiting for another process's probe. */
void hu_conn_log_herd(const char *event, const struct sockaddr *sa, const char *host, unsigned port,
                      int err, unsigned attempt, const hu_rule *r, long delay, long elapsed,
                      long try_ms, const hu_icmp *icmp, int reason, long waited_ms);
/* The record a decision describes (decide.h), if any, for target sa. */
void hu_conn_log_rec(const hu_decide_rec *rec, const struct sockaddr *sa, const char *host,
                     unsigned port, const hu_rule *r, const hu_icmp *icmp, long waited_ms);
void hu_conn_atfork_child(void);

/* Socket helpers shared with the blocking retry (wrap_connect.c). */
/* connect(AF_UNSPEC): back to TCP_CLOSE, so the next connect() starts a
 * fresh SYN; the ECONNRESET this leaves in SO_ERROR is cleared. */
void hu_sock_reset(int fd);
/* TCP_INFO's tcpi_state, or -1. */
int hu_tcp_state(int fd);

#endif
