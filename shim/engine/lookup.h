/* SPDX-License-Identifier: MIT */
/* Look-ups bounded in time (lookup.c): the real getaddrinfo on a helper
 * thread, waited for until a deadline. */
#ifndef HOSTUP_ENGINE_LOOKUP_H
#define HOSTUP_ENGINE_LOOKUP_H

#include <netdb.h>
#include <stdint.h>

#include "sys/real.h"

typedef struct hu_lookup hu_lookup;

#define HU_LOOKUP_PENDING 1     /* not an EAI code: those are <= 0 */
/* hu_real.getaddrinfo on a helper thread; NULL when no helper can be had
 * (too many alive, or no thread). */
hu_lookup *hu_lookup_start(const char *node, const char *service,
                           const struct addrinfo *hints) HU_HIDDEN;
/* Waits until the lookup ends or until_ms (hu_now_ms() time).  Returns its
 * EAI code, *res then owned by the caller, or HU_LOOKUP_PENDING. */
int hu_lookup_wait(hu_lookup *l, int64_t until_ms, struct addrinfo **res, int *err) HU_HIDDEN;
/* The caller is done with it; a running lookup is abandoned. */
void hu_lookup_drop(hu_lookup *l) HU_HIDDEN;
void hu_lookup_atfork_child(void) HU_HIDDEN;
/* getaddrinfo whose wait is cut at timeout_ms (EAI_AGAIN, *timed_out = 1,
 * the look-up left running in *pending, which the caller drops at the end
 * of its call); with no helper to be had it waits on *pending, or makes
 * the plain call. */
int hu_getaddrinfo_bounded(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **res, unsigned timeout_ms, hu_lookup **pending,
                           int *timed_out) HU_HIDDEN;

#endif
