/* SPDX-License-Identifier: MIT */
/* Connection records and socket helpers shared by the blocking retry
 * (wrap/connect.c) and the event-loop one (conn.c): retry, probe_wait,
 * recovered, gave_up and readdressed records of a connect, with the
 * diagnosis of its failure. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "conn.h"
#include "core/diag_overlap.h"
#include "core/diagnosis.h"
#include "core/offline.h"
#include "hostup/hostup.h"
#include "retry.h"
#include "sys/real.h"
#include "core/log.h"

void hu_conn_log(const char *event, const struct sockaddr *sa, const char *host, unsigned port,
                 int err, unsigned attempt, const hu_rule *r, long delay, long elapsed,
                 long try_ms, const hu_icmp *icmp)
{
    hu_conn_log_herd(event, sa, host, port, err, attempt, r, delay, elapsed, try_ms, icmp, -1, 0);
}

/* Log storms (core/log.h): a gave_up or recovered record is admitted under
 * the errno of the call's retry records (fold_err), so that it carries the
 * count of those folded since (a recovered has no errno of its own). */
static long admit(const hu_event *ev, int fold_err)
{
    hu_event key = *ev;
    if (fold_err && (strcmp(ev->event, HOSTUP_EV_GAVE_UP) == 0 ||
                     strcmp(ev->event, HOSTUP_EV_RECOVERED) == 0))
        key.err = fold_err;
    return hu_log_admit(&key);
}

/* Admit, diagnose and write one connect record. */
static void emit(hu_event *ev, long try_ms, const hu_icmp *icmp, int fold_err, int no_network)
{
    if ((ev->suppressed = admit(ev, fold_err)) < 0)
        return;     /* folded into a later record: no probes spent on it */
    const struct sockaddr *sa = ev->addr;
    if (ev->err) {
        ev->diagnosis = hu_diagnose_connect(sa, ev->port, ev->host, ev->err, try_ms, icmp);
        if (no_network)
            hu_offline_explain(ev->diagnosis, NULL);
    }
    hu_log_event(ev);
}

static const char *reason_name(int reason)
{
    return reason >= 0 && reason < HU_GU_ALL ? hu_giveup_names[reason] : NULL;
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
                   .reason = reason_name(reason), .waited_ms = waited_ms};
    emit(&ev, try_ms, icmp, 0, reason == HU_GU_NO_NETWORK);
}

void hu_conn_log_readdressed(const struct sockaddr *old, const struct sockaddr *sa, const char *host,
                             unsigned port, unsigned attempt, const hu_rule *r, long elapsed,
                             int remembered)
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
    if (rec && remembered)
        json_object_set_new(rec, "remembered", json_true());
    hu_log_emit(rec);
}

void hu_conn_log_rec(const hu_decide_rec *rec, const struct sockaddr *sa, const char *host,
                     unsigned port, const hu_rule *r, const hu_icmp *icmp, long waited_ms)
{
    if (!rec->event || !hu_log_enabled())
        return;
    hu_event ev = {.event = rec->event, .op = "connect", .host = host, .addr = sa, .port = port,
                   .err = rec->err, .attempt = rec->attempt, .attempts = r->attempts,
                   .delay_ms = rec->delay_ms, .elapsed_ms = rec->elapsed_ms, .rule = r,
                   .backtrace = 1, .reason = reason_name(rec->reason),
                   .waited_ms = rec->waited ? waited_ms : 0};
    emit(&ev, rec->try_ms, rec->icmp ? icmp : NULL, rec->fold_err,
         rec->reason == HU_GU_NO_NETWORK);
}

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

