/* SPDX-License-Identifier: MIT */
/* Where there is no network (shim/core/offline.c), checked in a network
 * namespace of the test's own (each test runs in a forked child; root
 * only, else the checks are skipped with a note): loopback only and no
 * route is offline; a loopback target, an errno other than "no route",
 * and any other interface, even down, are not; the resolver file's
 * nameservers likewise. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "core/offline.h"
#include "suites.h"

/* A namespace with loopback only (down, as a new one starts), or 0 when
 * this test cannot make one. */
static int own_netns(void)
{
    const char *fork_mode = getenv("CK_FORK");
    if ((fork_mode && strcmp(fork_mode, "no") == 0) || unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "skip: offline: no network namespace of our own (not root, or CK_FORK=no)\n");
        return 0;
    }
    hu_offline_reset();
    return 1;
}

static int offline4(const char *a, int err)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(80)};
    inet_pton(AF_INET, a, &s.sin_addr);
    return hu_offline_target((struct sockaddr *)&s, err);
}

static int offline6(const char *a, int err)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return hu_offline_target((struct sockaddr *)&s, err);
}

START_TEST(loopback_only)
{
    if (!own_netns())
        return;
    ck_assert_int_eq(offline4("198.18.9.9", ENETUNREACH), 1);
    ck_assert_int_eq(offline4("198.18.9.9", EHOSTUNREACH), 1);
    ck_assert_int_eq(offline6("2001:db8::1", ENETUNREACH), 1);
    ck_assert_int_eq(offline6("::ffff:198.18.9.9", ENETUNREACH), 1);
    /* not "no route": the kernel said something else */
    ck_assert_int_eq(offline4("198.18.9.9", ECONNREFUSED), 0);
    ck_assert_int_eq(offline4("198.18.9.9", ETIMEDOUT), 0);
    /* loopback may still come up */
    ck_assert_int_eq(offline4("127.0.0.1", ENETUNREACH), 0);
    ck_assert_int_eq(offline6("::1", ENETUNREACH), 0);
    ck_assert_int_eq(offline6("::ffff:127.0.0.1", ENETUNREACH), 0);
}
END_TEST

START_TEST(an_interface_even_down_is_a_network)
{
    if (!own_netns())
        return;
    ck_assert_int_eq(offline4("198.18.9.9", ENETUNREACH), 1);
    if (system("ip link add hu-off0 type veth peer name hu-off1 2>/dev/null") != 0) {
        fprintf(stderr, "skip: offline: cannot add a veth pair\n");
        return;
    }
    ck_assert_int_eq(offline4("198.18.9.9", ENETUNREACH), 0);   /* down: it may come up */
    ck_assert_int_eq(system("ip link del hu-off0"), 0);
    ck_assert_int_eq(offline4("198.18.9.9", ENETUNREACH), 0);   /* cached for a while */
    hu_offline_reset();
    ck_assert_int_eq(offline4("198.18.9.9", ENETUNREACH), 1);
}
END_TEST

/* A route to the address through loopback: something may answer. */
START_TEST(a_route_is_a_way)
{
    if (!own_netns())
        return;
    if (system("ip link set lo up && ip route add 198.18.9.0/24 dev lo 2>/dev/null") != 0) {
        fprintf(stderr, "skip: offline: cannot add a route\n");
        return;
    }
    ck_assert_int_eq(offline4("198.18.9.9", ENETUNREACH), 0);
    ck_assert_int_eq(offline4("198.18.10.9", ENETUNREACH), 1);
}
END_TEST

static int offline_ns(const char *text)
{
    char path[] = "/tmp/hu-resolv.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int rc = hu_offline_nameservers(path);
    unlink(path);
    return rc;
}

START_TEST(nameservers)
{
    if (!own_netns())
        return;
    ck_assert_int_eq(offline_ns("search example\nnameserver 198.18.7.7\n"
                                "nameserver 2001:db8::53\noptions ndots:2\n"), 1);
    ck_assert_int_eq(offline_ns("nameserver fe80::1%eth0\n"), 1);
    ck_assert_int_eq(offline_ns("nameserver 198.18.7.7\nnameserver 127.0.0.53\n"), 0);
    /* none listed: glibc asks 127.0.0.1 */
    ck_assert_int_eq(offline_ns("search example\n"), 0);
    ck_assert_int_eq(hu_offline_nameservers("/nonexistent/resolv.conf"), 0);
    /* glibc asks the first three only */
    ck_assert_int_eq(offline_ns("nameserver 198.18.7.7\nnameserver 198.18.7.8\n"
                                "nameserver 198.18.7.9\nnameserver 127.0.0.1\n"), 1);
}
END_TEST

Suite *offline_suite(void)
{
    Suite *s = suite_create("offline");
    TCase *t = tcase_create("netns");
    tcase_add_test(t, loopback_only);
    tcase_add_test(t, an_interface_even_down_is_a_network);
    tcase_add_test(t, a_route_is_a_way);
    tcase_add_test(t, nameservers);
    suite_add_tcase(s, t);
    return s;
}
