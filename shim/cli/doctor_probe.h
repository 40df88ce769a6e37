/* SPDX-License-Identifier: MIT */
/* The live probes hostup doctor runs from where it stands: an ICMP echo, a
 * TCP connect, a stat that a hard mount cannot hang, the mount of a path. */
#ifndef HOSTUP_CLI_DOCTOR_PROBE_H
#define HOSTUP_CLI_DOCTOR_PROBE_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "core/probe.h"

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
long hu_doc_ms_since(const struct timespec *t0);

/* 0 and *ms when the address answers an echo within 1 s, 1 when it does not
 * (*why says so), -1 when no ICMP socket could be had (*why says why). */
int hu_doc_icmp_echo(const struct sockaddr *sa, long *ms, const char **why);

struct hu_doc_tcp {
    int err;        /* 0 connected */
    long ms;
    hu_icmp icmp;
};
/* One non-blocking connect, bounded by timeout_ms. */
void hu_doc_tcp_try(const struct sockaddr *sa, socklen_t len, long timeout_ms, struct hu_doc_tcp *r);

/* stat in a child: rc of stat (and *err, *st), -2 when it blocked past
 * timeout_ms, -1 when no child could be had. */
int hu_doc_stat_bounded(const char *path, long timeout_ms, struct stat *st, int *err);

/* The mount holding path: longest mount point that prefixes it; -1 if none.
 * Each of the four outputs has len bytes. */
int hu_doc_find_mount(const char *path, char *mnt, char *fstype, char *source, char *opts, size_t len);

#endif
