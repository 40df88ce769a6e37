/* SPDX-License-Identifier: MIT */
/* hostup doctor's network evidence, as `docker network inspect` would show
 * it from inside: the interfaces (checklist item 4) and the routes that
 * cover the target (item 6), and the lines that follow the verdict when
 * the evidence leaves two causes (the fix, the ranked alternatives). */
#ifndef HOSTUP_CLI_DOCTOR_NET_H
#define HOSTUP_CLI_DOCTOR_NET_H

#include <jansson.h>
#include <stddef.h>

#include "core/environment.h"
#include "core/netinfo.h"

/* "hu-a0 198.18.0.1/16 (subnet 198.18.0.0/16, gateway 198.18.0.254); ...;
 * resolver: Docker's embedded DNS" into buf. */
void hu_doc_net_interfaces(const hu_netinfo *n, const hu_env *e, char *buf, size_t len);
/* The routes covering the target, most specific (the one used) first,
 * joined by " | " into buf; 0 when the route dump failed. */
int hu_doc_net_routes(const hu_netinfo *n, char *buf, size_t len);
/* After "likely cause": "fix: ..." and each alternative, ranked. */
void hu_doc_print_alternatives(const json_t *verdict);

#endif
