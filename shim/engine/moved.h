/* SPDX-License-Identifier: MIT */
/* Hosts that moved, remembered (moved.c).  Once a connect's look-up again
 * found its name at a new address (a readdressed record), a new connection
 * to the old address goes to the new one at once, without a cut try
 * first.  An entry holds while all of these do:
 *  - it is younger than HU_MOVED_MS, counted from the readdress or from
 *    the last look-up of the name that gave the new address;
 *  - no look-up since, of any name, gave the old address back;
 *  - the name memory still says the old address came from that name, and
 *    the connect's rule retries (both checked by the caller, wrap/connect.c).
 * Process memory only: what one program saw never steers another.  Pure
 * data, the clock an input (tests/unit/test_moved.c). */
#ifndef HOSTUP_ENGINE_MOVED_H
#define HOSTUP_ENGINE_MOVED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HU_MOVED_HIDDEN __attribute__((visibility("hidden")))
#define HU_MOVED_MS 30000

/* Entries in the table: connect() reads only this while it is 0. */
extern unsigned hu_moved_live HU_MOVED_HIDDEN;

/* host was found at `to` instead of `old` (same family); an entry that
 * led to old now leads to `to`. */
void hu_moved_note(const char *host, const struct sockaddr *old, const struct sockaddr *to,
                   int64_t now) HU_MOVED_HIDDEN;
/* One address (as hu_addr_key gives it) of a look-up of host: an entry
 * whose old address it is ends; an entry of host that leads there lives
 * on for HU_MOVED_MS. */
void hu_moved_answer(const char *host, unsigned char family, const unsigned char addr[16],
                     int64_t now) HU_MOVED_HIDDEN;
/* The new address for a connect to sa (sa's kind of sockaddr and port)
 * and the name, or 0. */
int hu_moved_find(const struct sockaddr *sa, int64_t now, struct sockaddr_storage *to,
                  socklen_t *tolen, char *host, size_t hostlen) HU_MOVED_HIDDEN;
/* The entry for sa was used: 1 the first time (one record per move). */
int hu_moved_used(const struct sockaddr *sa) HU_MOVED_HIDDEN;
void hu_moved_forget_all(void) HU_MOVED_HIDDEN;
void hu_moved_atfork_prepare(void) HU_MOVED_HIDDEN;
void hu_moved_atfork_release(void) HU_MOVED_HIDDEN;

#endif
