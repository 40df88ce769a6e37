/* SPDX-License-Identifier: MIT */
/* An overlapping network versus a host that is gone (core/diag_overlap.c),
 * and the network evidence it reads (core/netinfo.c), from hand-made
 * interfaces and routes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "core/diag_overlap.h"
#include "suites.h"

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons(5432);
    ck_assert_int_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
    return s;
}

static int in_pools(const char *pools, const char *prefix, unsigned len)
{
    unsigned char a[4];
    ck_assert_int_eq(inet_pton(AF_INET, prefix, a), 1);
    return hu_overlap_in_pools(pools, AF_INET, a, len);
}

START_TEST(docker_pools)
{
    /* dockerd's defaults: 172.17-31.0.0/16 and 192.168.0.0/16 cut by /20 */
    ck_assert(in_pools(NULL, "172.17.0.0", 16));
    ck_assert(in_pools(NULL, "172.18.0.0", 16));
    ck_assert(in_pools(NULL, "172.31.0.0", 16));
    ck_assert(in_pools(NULL, "192.168.16.0", 20));
    ck_assert(!in_pools(NULL, "172.16.0.0", 16));
    ck_assert(!in_pools(NULL, "172.32.0.0", 16));
    ck_assert(!in_pools(NULL, "192.168.1.0", 24));   /* a home LAN, not a Docker cut */
    ck_assert(!in_pools(NULL, "10.0.0.0", 8));
    /* a list of one's own, as HOSTUP_DOCKER_POOLS gives it; junk ignored */
    ck_assert(in_pools("junk, 198.18.0.0/15:16", "198.19.0.0", 16));
    ck_assert(!in_pools("198.18.0.0/15:16", "198.18.0.0", 24));
    ck_assert(in_pools("10.99.0.0/16", "10.99.0.0", 16));
    ck_assert(!in_pools("", "172.17.0.0", 16));
    ck_assert(!in_pools("1.2.3.4/99:99 /16 x/y", "1.2.3.0", 24));
}
END_TEST

/* ---- hand-made networks ------------------------------------------------- */

static hu_netinfo_route route(const char *dst, unsigned len, const char *gw, const char *dev, int oif)
{
    hu_netinfo_route r;
    memset(&r, 0, sizeof r);
    r.family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, dst, r.dst), 1);
    r.dst_len = (unsigned char)len;
    r.type = RTN_UNICAST;
    r.scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    if (gw) {
        r.has_gateway = 1;
        ck_assert_int_eq(inet_pton(AF_INET, gw, r.gateway), 1);
    }
    snprintf(r.dev, sizeof r.dev, "%s", dev);
    r.oif = oif;
    r.table = RT_TABLE_MAIN;
    return r;
}

/* eth0 with addr/len and a default route via gw (gw NULL: none); the
 * target covered by the interface's route and the default. */
static void network(hu_netinfo *n, const char *addr, unsigned len, const char *net, const char *gw)
{
    memset(n, 0, sizeof *n);
    n->have_ifs = n->have_routes = 1;
    n->n_ifs = 1;
    n->ifs[0].ifindex = 2;
    snprintf(n->ifs[0].dev, sizeof n->ifs[0].dev, "eth0");
    n->ifs[0].family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, addr, n->ifs[0].addr), 1);
    n->ifs[0].prefix = (unsigned char)len;
    n->routes[n->n_routes++] = route(net, len, NULL, "eth0", 2);
    if (gw) {
        n->ifs[0].has_gateway = 1;
        inet_pton(AF_INET, gw, n->ifs[0].gateway);
        n->routes[n->n_routes++] = route("0.0.0.0", 0, gw, "eth0", 2);
    }
}

static void docker_env(hu_env *e, int embedded)
{
    memset(e, 0, sizeof *e);
    e->container = HU_CONTAINER_DOCKER;
    e->have_resolv = 1;
    e->docker_dns = embedded;
    snprintf(e->nameservers, sizeof e->nameservers, "%s", embedded ? "127.0.0.11" : "10.0.0.53");
}

static const char *list_text(const json_t *hyp, const char *key, char *buf, size_t len)
{
    char *s = json_dumps(json_object_get(hyp, key), JSON_COMPACT);
    snprintf(buf, len, "%s", s ? s : "");
    free(s);
    return buf;
}

START_TEST(judge_dns_name_in_wide_prefix)
{
    hu_netinfo n;
    hu_env e;
    network(&n, "172.18.0.5", 16, "172.18.0.0", "172.18.0.1");
    docker_env(&e, 1);
    struct sockaddr_in t = v4("172.18.40.7");
    hu_overlap_in in = {(struct sockaddr *)&t, "db.corp.example", &e, &n, "10.9.0.0/16"};
    int first = -1;
    char buf[600];
    json_t *h = hu_overlap_judge(&in, &first);
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(first, 1);
    ck_assert_str_eq(json_string_value(json_object_get(h, "dev")), "eth0");
    ck_assert_str_eq(json_string_value(json_object_get(h, "prefix")), "172.18.0.0/16");
    ck_assert_str_eq(json_string_value(json_object_get(h, "addr")), "172.18.0.5/16");
    ck_assert_str_eq(json_string_value(json_object_get(h, "target")), "172.18.40.7");
    ck_assert_str_eq(json_string_value(json_object_get(h, "otherwise")), "default via 172.18.0.1 dev eth0");
    ck_assert_ptr_nonnull(strstr(list_text(h, "for", buf, sizeof buf), "db.corp.example is a DNS name"));
    ck_assert_str_eq(list_text(h, "against", buf, sizeof buf), "[]");
    json_decref(h);

    /* a rooted name is the same name */
    in.host = "db.corp.example.";
    h = hu_overlap_judge(&in, &first);
    ck_assert_int_eq(first, 1);
    ck_assert_ptr_nonnull(strstr(list_text(h, "for", buf, sizeof buf), "\"db.corp.example is a DNS name"));
    json_decref(h);
}
END_TEST

START_TEST(judge_container_name)
{
    hu_netinfo n;
    hu_env e;
    char buf[600];
    network(&n, "10.20.0.5", 16, "10.20.0.0", "10.20.0.1");
    docker_env(&e, 1);
    struct sockaddr_in t = v4("10.20.0.9");
    hu_overlap_in in = {(struct sockaddr *)&t, "db", &e, &n, "10.9.0.0/16"};
    int first = -1;
    json_t *h = hu_overlap_judge(&in, &first);
    ck_assert_ptr_nonnull(h);     /* a wide prefix: the overlap stays the alternative */
    ck_assert_int_eq(first, 0);
    ck_assert_ptr_nonnull(strstr(list_text(h, "against", buf, sizeof buf), "db is a container's or service's name"));
    json_decref(h);

    /* the same name from another resolver: not Docker's to answer... */
    docker_env(&e, 0);
    h = hu_overlap_judge(&in, &first);
    ck_assert_int_eq(first, 1);
    ck_assert_ptr_nonnull(strstr(list_text(h, "for", buf, sizeof buf), "resolved by 10.0.0.53"));
    json_decref(h);

    /* ...and a Kubernetes service name is a pod's */
    e.container = HU_CONTAINER_KUBERNETES;
    in.host = "db.prod.svc.cluster.local";
    h = hu_overlap_judge(&in, &first);
    ck_assert_int_eq(first, 0);
    ck_assert_ptr_nonnull(strstr(list_text(h, "against", buf, sizeof buf), "Kubernetes service name"));
    json_decref(h);
}
END_TEST

START_TEST(judge_address_and_pools)
{
    hu_netinfo n;
    hu_env e;
    char buf[600];
    int first = -1;
    docker_env(&e, 1);
    /* an address in Docker's default bridge: the pool is the evidence */
    network(&n, "172.17.0.2", 16, "172.17.0.0", "172.17.0.1");
    struct sockaddr_in t = v4("172.17.5.5");
    hu_overlap_in in = {(struct sockaddr *)&t, NULL, &e, &n, NULL};
    json_t *h = hu_overlap_judge(&in, &first);
    ck_assert_int_eq(first, 1);
    ck_assert_ptr_nonnull(strstr(list_text(h, "for", buf, sizeof buf), "172.17.0.0/16 is in Docker's default address pools"));
    json_decref(h);

    /* an address in a narrow LAN that is no pool: a host that is gone */
    network(&n, "10.1.2.5", 24, "10.1.2.0", "10.1.2.1");
    t = v4("10.1.2.7");
    ck_assert_ptr_null(hu_overlap_judge(&in, &first));
    in.host = "10.1.2.7";           /* an address given as the name is no name */
    ck_assert_ptr_null(hu_overlap_judge(&in, &first));

    /* nowhere else to go (no default route): on-link for real */
    network(&n, "172.17.0.2", 16, "172.17.0.0", NULL);
    t = v4("172.17.5.5");
    in.host = "db.corp.example";
    ck_assert_ptr_null(hu_overlap_judge(&in, &first));
}
END_TEST

START_TEST(judge_hidden_vpn_route)
{
    /* on a host: docker0 10.10.0.0/16 hides the VPN's 10.0.0.0/8 via tun0 */
    hu_netinfo n;
    hu_env e;
    char buf[600];
    int first = -1;
    docker_env(&e, 0);
    e.container = HU_CONTAINER_NONE;
    network(&n, "10.10.0.1", 24, "10.10.0.0", "192.0.2.1");
    n.routes[2] = n.routes[1];
    n.routes[1] = route("10.0.0.0", 8, NULL, "tun0", 7);
    n.routes[1].scope = RT_SCOPE_LINK;
    n.n_routes = 3;
    struct sockaddr_in t = v4("10.10.0.80");
    hu_overlap_in in = {(struct sockaddr *)&t, NULL, &e, &n, "192.0.2.0/24"};
    json_t *h = hu_overlap_judge(&in, &first);
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(first, 1);
    ck_assert_str_eq(json_string_value(json_object_get(h, "otherwise")), "10.0.0.0/8 dev tun0 scope link");
    ck_assert_ptr_nonnull(strstr(list_text(h, "for", buf, sizeof buf),
                                 "the route 10.0.0.0/8 dev tun0 scope link covers the target too"));
    json_decref(h);
}
END_TEST

static json_t *arp_failure(const struct sockaddr_in *t)
{
    hu_facts f;
    memset(&f, 0, sizeof f);
    f.addr = (const struct sockaddr *)t;
    f.port = 5432;
    f.err = EHOSTUNREACH;
    f.try_ms = 3050;
    f.have_route = f.route.found = 1;
    f.route.type = RTN_UNICAST;
    f.route.family = AF_INET;
    snprintf(f.route.dev, sizeof f.route.dev, "eth0");
    f.have_neigh = 1;
    f.neigh_state = NUD_FAILED;
    return hu_classify_connect(&f);
}

START_TEST(verdict_rewritten)
{
    hu_netinfo n;
    hu_env e;
    network(&n, "172.18.0.5", 16, "172.18.0.0", "172.18.0.1");
    docker_env(&e, 1);
    struct sockaddr_in t = v4("172.18.40.7");
    hu_overlap_in in = {(struct sockaddr *)&t, "db.corp.example", &e, &n, NULL};
    json_t *d = arp_failure(&t);
    hu_diag_overlap(d, &in);
    ck_assert_str_eq(json_string_value(json_object_get(d, "layer")), "network");
    ck_assert_str_eq(json_string_value(json_object_get(d, "cause")),
                     "the network of eth0 (172.18.0.0/16) overlaps the target's: 172.18.40.7 is looked for "
                     "on-link by ARP/ND instead of by the route default via 172.18.0.1 dev eth0");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(d, "fix")), "default-address-pools"));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(d, "next")), "ip route get 172.18.40.7"));
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(d, "checklist"), 1)), 6);
    json_t *alt = json_array_get(json_object_get(d, "alternatives"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(alt, "layer")), "link");
    ck_assert_str_eq(json_string_value(json_object_get(alt, "cause")), "on-link host does not answer ARP/ND");
    ck_assert_str_eq(json_string_value(json_object_get(alt, "next")), "ping -c 3 172.18.40.7");
    ck_assert_ptr_nonnull(json_object_get(json_object_get(d, "evidence"), "overlap"));
    json_decref(d);

    /* the container's own name: the link verdict stays, the overlap second */
    in.host = "db";
    d = arp_failure(&t);
    hu_diag_overlap(d, &in);
    ck_assert_str_eq(json_string_value(json_object_get(d, "layer")), "link");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(d, "fix")), "docker start"));
    alt = json_array_get(json_object_get(d, "alternatives"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(alt, "layer")), "network");
    json_decref(d);

    /* any other verdict is left alone */
    json_t *other = json_pack("{s:s, s:s, s:{s:b}}", "layer", "host", "cause", "x", "evidence", "on_link", 1);
    hu_diag_overlap(other, &in);
    ck_assert_int_eq((int)json_object_size(other), 3);
    json_decref(other);
}
END_TEST

START_TEST(netinfo_text)
{
    char buf[200];
    hu_netinfo_route r = route("198.19.6.0", 24, NULL, "", 0);
    r.type = RTN_UNREACHABLE;
    r.scope = RT_SCOPE_UNIVERSE;
    r.table = 100;
    hu_netinfo_route_text(&r, buf, sizeof buf);
    ck_assert_str_eq(buf, "unreachable 198.19.6.0/24 table 100");
    r = route("0.0.0.0", 0, "10.0.0.1", "eth1", 3);
    r.metric = 100;
    hu_netinfo_route_text(&r, buf, sizeof buf);
    ck_assert_str_eq(buf, "default via 10.0.0.1 dev eth1 metric 100");

    /* the interfaces as docker network inspect shows them */
    hu_netinfo n;
    network(&n, "192.168.23.4", 20, "192.168.16.0", "192.168.16.1");
    json_t *j = hu_netinfo_json(&n, 1);
    char *s = json_dumps(j, JSON_COMPACT);
    ck_assert_str_eq(s, "{\"interfaces\":[{\"dev\":\"eth0\",\"addr\":\"192.168.23.4/20\",\"subnet\":\"192.168.16.0/20\","
                        "\"gateway\":\"192.168.16.1\"}],\"embedded_dns\":true,\"routes_to_target\":"
                        "[\"192.168.16.0/20 dev eth0 scope link\",\"default via 192.168.16.1 dev eth0\"]}");
    free(s);
    json_decref(j);
}
END_TEST

START_TEST(netinfo_first_record)
{
    struct sockaddr_in a = v4("198.18.77.1"), b = v4("198.18.77.2");
    ck_assert_int_eq(hu_netinfo_first_for((struct sockaddr *)&a), 1);
    ck_assert_int_eq(hu_netinfo_first_for((struct sockaddr *)&a), 0);
    ck_assert_int_eq(hu_netinfo_first_for((struct sockaddr *)&b), 1);
    a.sin_port = htons(1);          /* the address counts, not the port */
    ck_assert_int_eq(hu_netinfo_first_for((struct sockaddr *)&a), 0);
}
END_TEST

Suite *overlap_suite(void)
{
    Suite *s = suite_create("overlap");
    TCase *tc = tcase_create("judge");
    tcase_add_test(tc, docker_pools);
    tcase_add_test(tc, judge_dns_name_in_wide_prefix);
    tcase_add_test(tc, judge_container_name);
    tcase_add_test(tc, judge_address_and_pools);
    tcase_add_test(tc, judge_hidden_vpn_route);
    tcase_add_test(tc, verdict_rewritten);
    tcase_add_test(tc, netinfo_text);
    tcase_add_test(tc, netinfo_first_record);
    suite_add_tcase(s, tc);
    return s;
}
