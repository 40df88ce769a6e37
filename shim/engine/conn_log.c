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
        hu_diag_network(ev.diagnosis, sa, host);
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

void hu_conn_log_rec(const hu_decide_rec *rec, const struct sockaddr *sa, const char *host,
                     unsigned port, const hu_rule *r, const hu_icmp *icmp, long waited_ms)
{
    if (rec->event)
        hu_conn_log_herd(rec->event, sa, host, port, rec->err, rec->attempt, r, rec->delay_ms,
                         rec->elapsed_ms, rec->try_ms, rec->icmp ? icmp : NULL, rec->reason,
                         rec->waited ? waited_ms : 0);
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

