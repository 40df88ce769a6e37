/* SPDX-License-Identifier: MIT */
/* First classification of a failure: which layer is most likely to blame,
 * in one sentence, with the evidence that led there. */
#ifndef HOSTUP_DIAGNOSIS_H
#define HOSTUP_DIAGNOSIS_H

#include <jansson.h>
#include <sys/socket.h>

#include "probe.h"

/* Facts gathered for a connect failure; filled by hu_gather_connect or, in
 * tests, by hand. */
typedef struct hu_facts {
    const struct sockaddr *addr;
    unsigned port;
    int err;
    long try_ms;            /* how long the failed try took */
    hu_icmp icmp;
    hu_route route;
    int neigh_state;        /* of the target if on-link, else the gateway */
    int have_route, have_neigh;
} hu_facts;

void hu_gather_connect(hu_facts *f);
/* The neighbour whose ARP/ND state tells about f->addr: the gateway of
 * f->route, or the address itself on-link (copied into buf). */
const unsigned char *hu_neigh_target(const hu_facts *f, unsigned char buf[16]);
/* Pure classification (unit-tested). */
json_t *hu_classify_connect(const hu_facts *f);
/* Add the environment (container, platform, resolver, own networks, and
 * whether sa lies in them) to a diagnosis' evidence, as "env". */
void hu_diag_add_env(json_t *diagnosis, const struct sockaddr *sa);
json_t *hu_diagnose_lookup(const char *host, int eai, long try_ms, const char *resolv_path);

#endif
