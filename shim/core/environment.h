/* SPDX-License-Identifier: MIT */
/* The environment a failure happened in: container runtime, platform (WSL2,
 * Docker Desktop), resolver configuration and the container's own networks.
 * Evidence for the diagnosis; reading it never allocates, hu_env_json does
 * (jansson). */
#ifndef HOSTUP_ENVIRONMENT_H
#define HOSTUP_ENVIRONMENT_H

#include <jansson.h>
#include <stdint.h>
#include <sys/socket.h>

enum hu_container {
    HU_CONTAINER_UNKNOWN = 0,   /* nothing conclusive (e.g. only "0::/") */
    HU_CONTAINER_NONE,          /* cgroups read and they show a plain host */
    HU_CONTAINER_DOCKER,
    HU_CONTAINER_KUBERNETES,
    HU_CONTAINER_CONTAINERD,
    HU_CONTAINER_PODMAN,        /* /run/.containerenv, or a libpod cgroup */
};

enum hu_platform {
    HU_PLATFORM_UNKNOWN = 0,    /* osrelease unreadable, or WSL1 */
    HU_PLATFORM_LINUX,
    HU_PLATFORM_WSL2,
    HU_PLATFORM_DOCKER_DESKTOP, /* LinuxKit VM */
};

#define HU_ENV_MAX_NETS 16

/* One of our own addresses with its prefix: the subnet it lives on. */
typedef struct hu_env_net {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];     /* network byte order; 4 used for AF_INET */
    unsigned char prefix;       /* prefix length in bits */
    unsigned char scope;        /* RT_SCOPE_*: universe, link, host (loopback) */
} hu_env_net;

typedef struct hu_env {
    int container;              /* enum hu_container */
    int platform;               /* enum hu_platform */

    int have_resolv;            /* resolv.conf was read */
    int docker_dns;             /* a nameserver is 127.0.0.11 (Docker's embedded DNS) */
    char nameservers[256];      /* in file order, joined by spaces */
    char search[256];           /* the effective search list (LOCALDOMAIN wins), spaces */
    int ndots;                  /* effective (RES_OPTIONS wins); -1 unknown */

    int have_net;               /* hu_env_read_net got an address dump */
    int n_nets;
    hu_env_net nets[HU_ENV_MAX_NETS];
    int have_gw4, have_gw6;     /* default routes of the main table */
    unsigned char gw4[4], gw6[16];
} hu_env;

/* Read the environment below root ("" or NULL for the real system; tests
 * pass a fixture directory): root/.dockerenv, root/proc/{1,self}/cgroup,
 * root/proc/sys/kernel/osrelease, root/etc/resolv.conf, and the variables
 * in envp (NULL-terminated "NAME=value"; NULL for none):
 * KUBERNETES_SERVICE_HOST, LOCALDOMAIN, RES_OPTIONS.  Fills every field but
 * the network ones; missing files leave their fields unknown. */
void hu_env_read(const char *root, char **envp, hu_env *out);

/* Our own addresses/subnets and default gateways via netlink (an address
 * dump and a route dump, 100 ms receive timeout, bounded reads).  Leaves
 * them out silently on failure. */
void hu_env_read_net(hu_env *out);

/* 1 when the address (IPv4, IPv6 or IPv4-mapped IPv6) lies inside one of
 * our own subnets, loopback and link-local included; else 0. */
int hu_env_in_own_network(const hu_env *e, const struct sockaddr *sa);

/* {"container","platform","dns","nameservers","search","ndots","own_addr",
 *  "gateway","target_in_own_network"}: keys left out when unknown;
 * target_in_own_network only with sa and a successful hu_env_read_net.
 * own_addr lists global-scope addresses ("172.18.0.5/16"), gateway the
 * default gateways, both space-separated. */
json_t *hu_env_json(const hu_env *e, const struct sockaddr *sa);

const char *hu_env_container_name(int container);
const char *hu_env_platform_name(int platform);

/* The environment of this process (real root, environ, netlink), copied
 * into *out.  Re-read at most once per 10 s; thread-safe and lock-free: a
 * copy rather than a pointer, because the cache is rewritten while other
 * threads may still be looking at an older one. */
void hu_env_current(hu_env *out);

#endif
