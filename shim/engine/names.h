/* SPDX-License-Identifier: MIT */
/* Name memory (names.c): which host name produced which address, and the
 * look-up again of a name whose host may have moved. */
#ifndef HOSTUP_ENGINE_NAMES_H
#define HOSTUP_ENGINE_NAMES_H

#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lookup.h"
#include "sys/real.h"

void hu_names_remember(const char *host, const struct sockaddr *sa) HU_HIDDEN;
/* Copies the name into buf and returns 1 when known. */
int hu_names_lookup(const struct sockaddr *sa, char *buf, size_t len) HU_HIDDEN;
void hu_names_remember_ai(const char *host, const struct addrinfo *ai) HU_HIDDEN;
void hu_names_remember_hostent(const char *host, const struct hostent *he) HU_HIDDEN;
void hu_names_atfork_prepare(void) HU_HIDDEN;
void hu_names_atfork_release(void) HU_HIDDEN;
int hu_is_numeric_host(const char *node) HU_HIDDEN;
/* Hosts that move: the name that produced an address, looked up again
 * through the real resolver on a helper thread (lookup.c), same family.
 * hu_names_relookup starts it (NULL: no helper); hu_names_moved waits for
 * it until until_ms and returns -1 while it is still running (the caller
 * keeps it), else 1 with the new address (sa's port kept) in out when the
 * name no longer has sa's address but has another one, or 0; the lookup
 * is then finished and dropped. */
hu_lookup *hu_names_relookup(const char *host, const struct sockaddr *sa) HU_HIDDEN;
int hu_names_moved(hu_lookup *l, const char *host, const struct sockaddr *sa, int64_t until_ms,
                   struct sockaddr_storage *out, socklen_t *outlen) HU_HIDDEN;

#endif
