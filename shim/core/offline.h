/* SPDX-License-Identifier: MIT */
/* Is there no network at all here?  A network namespace with loopback only
 * (`docker run --network none`, a build sandbox, a unit-test sandbox)
 * never gets an answer from anything off-host: retrying there is pure
 * harm.  These checks tell it from a network that may still come (an
 * interface that is down, a route about to be added), cheaply: only on a
 * failure, one netlink link dump cached briefly, one route lookup. */
#ifndef HOSTUP_OFFLINE_H
#define HOSTUP_OFFLINE_H

#include <jansson.h>
#include <sys/socket.h>

/* 1 when a connect to sa that failed with err will never be answered: err
 * is the kernel's "no route" (ENETUNREACH, EHOSTUNREACH), the namespace has
 * no interface but loopback (up or down), sa is not a loopback address,
 * and the kernel has no route to it.  0 otherwise, and whenever it cannot
 * tell (netlink refused): then hostup retries as it always did. */
int hu_offline_target(const struct sockaddr *sa, int err);

/* 1 when no nameserver of the resolver file (glibc reads its first three)
 * can ever be reached: each is hu_offline_target.  0 when one may be, when
 * the file lists none (glibc then asks 127.0.0.1) or cannot be read. */
int hu_offline_nameservers(const char *resolv_path);

/* A diagnosis says so: its cause and next step become those of a place
 * with no network (a connect; a lookup when nameservers, the resolver
 * file's list, is not NULL), its evidence gets "interfaces": "loopback only". */
void hu_offline_explain(json_t *diagnosis, const char *nameservers);

/* Forget the cached link check (tests; a fork needs nothing: the cache
 * is a single atomic word). */
void hu_offline_reset(void);

#endif
