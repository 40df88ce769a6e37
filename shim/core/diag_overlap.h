/* SPDX-License-Identifier: MIT */
/* A network that overlaps the target's, told apart from a host that is
 * gone.  Both end the same way: the kernel ARPs for the target on-link,
 * nobody answers, EHOSTUNREACH after ~3 s.  The evidence that tells them
 * apart: the on-link prefix, the route the target would otherwise take,
 * the name the program asked for and who resolved it, Docker's address
 * pools.  See docs/diagnosis.md ("A network that overlaps"). */
#ifndef HOSTUP_DIAG_OVERLAP_H
#define HOSTUP_DIAG_OVERLAP_H

#include <jansson.h>
#include <sys/socket.h>

#include "diagnosis.h"
#include "environment.h"
#include "netinfo.h"

/* Docker's default-address-pools (dockerd's defaults) as base/len:size. */
#define HU_DOCKER_POOLS_DEFAULT                                                                   \
    "172.17.0.0/16:16 172.18.0.0/15:16 172.20.0.0/14:16 172.24.0.0/13:16 192.168.0.0/16:20"
/* Replaces the pool list when set (not under AT_SECURE): tests, and
 * daemons configured with other pools. */
#define HU_ENV_DOCKER_POOLS "HOSTUP_DOCKER_POOLS"

/* What the judgement goes by; the pointers outlive the call. */
typedef struct hu_overlap_in {
    const struct sockaddr *addr;    /* the target (IPv4 or IPv6) */
    const char *host;               /* the name the program asked for; NULL: an address */
    const hu_env *env;              /* resolver, container */
    const hu_netinfo *net;          /* routes to the target, interfaces */
    const char *pools;              /* "base/len[:size] ..."; NULL: HOSTUP_DOCKER_POOLS,
                                     * else Docker's defaults */
} hu_overlap_in;

/* The overlap hypothesis when the target could be in an overlapping
 * network: {"dev","prefix","addr","target","otherwise","for":[..],
 * "against":[..]}, and *first = 1 when it outranks "the host is gone".
 * NULL when the evidence rules an overlap out (no on-link route to the
 * target, nowhere else it could go, or nothing pointing at an overlap).
 * Pure: unit-tested with hand-made facts. */
json_t *hu_overlap_judge(const hu_overlap_in *in, int *first);

/* On a diagnosis "link: on-link host does not answer ARP/ND": judge, and
 * rewrite it as layer "network" (an overlap) with the link verdict as its
 * alternative, or keep it and add the overlap as the alternative.  Adds
 * "fix" and evidence "overlap".  Leaves any other diagnosis alone. */
void hu_diag_overlap(json_t *diagnosis, const hu_overlap_in *in);

/* The records' hook, after hu_classify_connect: the environment
 * (hu_diag_add_env), the network evidence ("network", hu_netinfo_json) in
 * the first record of a target, and the overlap judgement on a link
 * verdict.  host as in hu_overlap_in. */
void hu_diag_network(json_t *diagnosis, const struct sockaddr *sa, const char *host);

/* The whole diagnosis of a failed connect to sa (a v4-mapped IPv6 address
 * is probed as the IPv4 one): the probes, the classification and the
 * network evidence, as the library and the supervisor write it. */
json_t *hu_diagnose_connect(const struct sockaddr *sa, unsigned port, const char *host, int err,
                            long try_ms, const hu_icmp *icmp);

/* 1 when prefix/len lies in one of the pools ("base/len[:size]" separated
 * by spaces or commas; an entry is matched by prefixes inside base no
 * longer than size, as dockerd would cut them). */
int hu_overlap_in_pools(const char *pools, int family, const unsigned char *prefix, unsigned len);

#endif
