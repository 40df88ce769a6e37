/* SPDX-License-Identifier: MIT */
/* The supervisor's records: the library's events and fields (core/log.c),
 * naming the program's process rather than ours, plus "supervised": true. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <string.h>

#include "core/diag_overlap.h"
#include "core/log.h"
#include "hostup/hostup.h"
#include "sv.h"

static void as_program(json_t *rec, pid_t tid)
{
    char comm[64];
    pid_t pid = sv_tgid(tid);
    sv_comm(pid, comm, sizeof comm);
    json_object_set_new(rec, "pid", json_integer(pid));
    json_object_set_new(rec, "program", json_string(comm));
    json_object_set_new(rec, "supervised", json_true());
}

void sv_record(const char *event, const struct sv_hold *h, int err, unsigned attempt,
               long delay, long elapsed, long try_ms, const hu_icmp *icmp, int reason,
               long waited_ms)
{
    if (!hu_log_enabled())
        return;
    const struct sockaddr *sa = (const struct sockaddr *)&h->ss;
    hu_event ev = {.event = event, .op = "connect", .addr = sa, .port = h->port, .err = err,
                   .attempt = attempt, .attempts = h->r->attempts, .delay_ms = delay,
                   .elapsed_ms = elapsed, .rule = h->r, .fd = -1, .offset = -1,
                   .reason = reason >= 0 && reason < HU_GU_N ? hu_giveup_names[reason] : NULL,
                   .waited_ms = waited_ms};
    if ((ev.suppressed = hu_log_admit(&ev)) < 0)
        return;
    if (err)
        ev.diagnosis = hu_diagnose_connect(sa, h->port, NULL, err, try_ms, icmp);
    json_t *rec = hu_record_new(&ev);
    if (!rec)
        return;
    as_program(rec, h->tid);
    hu_log_emit(rec);
}

void sv_record_unsupervised(const char *prog, const char *why)
{
    if (!hu_log_enabled())
        return;
    json_t *rec = json_object();
    if (!rec)
        return;
    hu_record_add_common(rec, HOSTUP_EV_UNSUPERVISED);
    json_object_set_new(rec, "program", json_string(prog));
    json_object_set_new(rec, "reason", json_string(why));
    json_object_set_new(rec, "action", json_string("the program runs without hostup: "
                                                   "its connects are not retried"));
    hu_log_emit(rec);
}
