/* SPDX-License-Identifier: MIT */
/* Hosts that move (relookup.c): the name that produced an address, looked
 * up again. */
#ifndef HOSTUP_ENGINE_RELOOKUP_H
#define HOSTUP_ENGINE_RELOOKUP_H

#include <stdint.h>
#include <sys/socket.h>

#include "lookup.h"
#include "sys/real.h"

/* The name looked up again through the real resolver on a helper thread
 * (lookup.c), in sa's family.  hu_relookup_start starts it (NULL: no helper); hu_relookup_moved waits for
 * it until until_ms and returns -1 while it is still running (the caller
 * keeps it), else 1 with the new address (sa's port kept) in out when the
 * name no longer has sa's address but has another one, or 0; the lookup
 * is then finished and dropped. */
hu_lookup *hu_relookup_start(const char *host, const struct sockaddr *sa) HU_HIDDEN;
int hu_relookup_moved(hu_lookup *l, const char *host, const struct sockaddr *sa,
                      int64_t until_ms, struct sockaddr_storage *out, socklen_t *outlen) HU_HIDDEN;

#endif
