/* SPDX-License-Identifier: MIT */
/* Name memory (names.c): which host name produced which address, and the
 * look-up again of a name whose host may have moved. */
#ifndef HOSTUP_ENGINE_NAMES_H
#define HOSTUP_ENGINE_NAMES_H

#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sys/real.h"

void hu_names_remember(const char *host, const struct sockaddr *sa) HU_HIDDEN;
/* Copies the name into buf and returns 1 when known. */
int hu_names_lookup(const struct sockaddr *sa, char *buf, size_t len) HU_HIDDEN;
void hu_names_remember_ai(const char *host, const struct addrinfo *ai) HU_HIDDEN;
void hu_names_remember_hostent(const char *host, const struct hostent *he) HU_HIDDEN;
void hu_names_atfork_prepare(void) HU_HIDDEN;
void hu_names_atfork_release(void) HU_HIDDEN;
int hu_is_numeric_host(const char *node) HU_HIDDEN;
#endif
