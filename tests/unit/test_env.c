/* SPDX-License-Identifier: MIT */
/* The environment evidence: fixtures under tests/unit/fixtures/env/<case>/
 * stand in for the root directory; the netlink part is only checked for
 * sanity, since its values depend on the machine. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <libgen.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "core/environment.h"
#include "suites.h"

/* The fixture directory: next to the test binary's build directory
 * (build/unit_tests -> tests/unit/fixtures/env), else relative to the
 * current directory. */
static const char *fixtures(void)
{
    static char dir[1024];
    if (dir[0])
        return dir;
    char exe[900];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *top = dirname(dirname(exe));
        snprintf(dir, sizeof dir, "%s/tests/unit/fixtures/env", top);
        if (access(dir, F_OK) == 0)
            return dir;
    }
    snprintf(dir, sizeof dir, "tests/unit/fixtures/env");
    ck_assert_msg(access(dir, F_OK) == 0, "fixtures not found (run from the repository)");
    return dir;
}

static void read_case(const char *name, char **envp, hu_env *e)
{
    char root[1200];
    snprintf(root, sizeof root, "%s/%s", fixtures(), name);
    hu_env_read(root, envp, e);
}

/* The evidence object as compact JSON, keys in insertion order. */
static char *dump(const hu_env *e, const struct sockaddr *sa)
{
    json_t *o = hu_env_json(e, sa);
    ck_assert_ptr_nonnull(o);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    ck_assert_ptr_nonnull(s);
    return s;
}

static void assert_case(const char *name, char **envp, const char *want)
{
    hu_env e;
    read_case(name, envp, &e);
    char *got = dump(&e, NULL);
    ck_assert_msg(strcmp(got, want) == 0, "%s:\n got  %s\n want %s", name, got, want);
    free(got);
}

static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(text, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1);
    }
    return ss;
}

static void add(hu_env *e, const char *text, unsigned prefix, unsigned scope)
{
    hu_env_net *n = &e->nets[e->n_nets++];
    n->family = strchr(text, ':') ? AF_INET6 : AF_INET;
    ck_assert_int_eq(inet_pton(n->family, text, n->addr), 1);
    n->prefix = (unsigned char)prefix;
    n->scope = (unsigned char)scope;
}

static int own(const hu_env *e, const char *text)
{
    struct sockaddr_storage ss = addr(text);
    return hu_env_in_own_network(e, (struct sockaddr *)&ss);
}

/* ---- fixtures ------------------------------------------------------------ */

START_TEST(docker_cgroup_v1)
{
    /* no /.dockerenv: the cgroup lines alone say docker */
    assert_case("docker_v1", NULL,
                "{\"container\":\"docker\",\"platform\":\"linux\",\"dns\":\"docker-embedded\","
                "\"nameservers\":\"127.0.0.11\",\"ndots\":0}");
}
END_TEST

START_TEST(docker_cgroup_v2)
{
    assert_case("docker_v2", NULL,
                "{\"container\":\"docker\",\"platform\":\"linux\",\"dns\":\"docker-embedded\","
                "\"nameservers\":\"127.0.0.11\",\"search\":\"example.internal\",\"ndots\":0}");
}
END_TEST

START_TEST(cgroupns_root_alone_is_unknown)
{
    /* "0::/" is what any container with its own cgroup namespace sees */
    hu_env e;
    read_case("cgroupns_root", NULL, &e);
    ck_assert_int_eq(e.container, HU_CONTAINER_UNKNOWN);
    assert_case("cgroupns_root", NULL, "{}");
}
END_TEST

START_TEST(kubernetes)
{
    char *envp[] = {"PATH=/usr/bin", "KUBERNETES_SERVICE_HOST=10.96.0.1",
                    "KUBERNETES_SERVICE_PORT=443", NULL};
    const char *want = "{\"container\":\"kubernetes\",\"platform\":\"linux\",\"dns\":\"other\","
                       "\"nameservers\":\"10.96.0.10\",\"search\":\"default.svc.cluster.local "
                       "svc.cluster.local cluster.local ec2.internal\",\"ndots\":5}";
    assert_case("kubernetes", envp, want);
    assert_case("kubernetes", NULL, want);      /* kubepods alone */
    /* the variable alone, on cgroups that say nothing */
    assert_case("cgroupns_root", envp, "{\"container\":\"kubernetes\"}");
    /* an empty value is no evidence */
    char *empty[] = {"KUBERNETES_SERVICE_HOST=", NULL};
    assert_case("cgroupns_root", empty, "{}");
}
END_TEST

START_TEST(containerd)
{
    assert_case("containerd", NULL, "{\"container\":\"containerd\"}");
}
END_TEST

START_TEST(podman)
{
    /* podman leaves /run/.containerenv, no /.dockerenv; its cgroup
     * namespace shows "0::/" */
    assert_case("podman", NULL,
                "{\"container\":\"podman\",\"platform\":\"linux\",\"dns\":\"other\","
                "\"nameservers\":\"198.18.5.1\",\"search\":\"dns.podman\",\"ndots\":1}");
    /* without a cgroup namespace: the libpod scope alone */
    assert_case("podman_cgroup", NULL, "{\"container\":\"podman\"}");
    /* a Kubernetes variable is stronger, as for docker */
    char *envp[] = {"KUBERNETES_SERVICE_HOST=10.96.0.1", NULL};
    assert_case("podman", envp,
                "{\"container\":\"kubernetes\",\"platform\":\"linux\",\"dns\":\"other\","
                "\"nameservers\":\"198.18.5.1\",\"search\":\"dns.podman\",\"ndots\":1}");
}
END_TEST

START_TEST(wsl2)
{
    assert_case("wsl2", NULL,
                "{\"platform\":\"wsl2\",\"dns\":\"other\",\"nameservers\":\"172.29.16.1\",\"ndots\":1}");
    /* WSL1 has no network stack of its own: not reported as a platform */
    assert_case("wsl1", NULL, "{}");
}
END_TEST

START_TEST(docker_desktop)
{
    assert_case("docker_desktop", NULL,
                "{\"container\":\"docker\",\"platform\":\"docker-desktop\",\"dns\":\"docker-embedded\","
                "\"nameservers\":\"127.0.0.11\",\"ndots\":0}");
}
END_TEST

START_TEST(plain_host)
{
    /* "domain" then "search": the last one wins; comments and a tab ignored */
    assert_case("host", NULL,
                "{\"container\":\"none\",\"platform\":\"linux\",\"dns\":\"other\","
                "\"nameservers\":\"192.168.1.1 1.1.1.1 2606:4700:4700::1111\","
                "\"search\":\"corp.example.com example.com\",\"ndots\":1}");
    /* the daemon's own unit is not a container; nor is a v1 host without systemd */
    assert_case("host_daemon", NULL, "{\"container\":\"none\"}");
    assert_case("host_v1", NULL, "{\"container\":\"none\"}");
}
END_TEST

START_TEST(resolver_variables_override)
{
    char *envp[] = {"LOCALDOMAIN=a.test  b.test", "RES_OPTIONS=attempts:2 ndots:3", NULL};
    assert_case("host", envp,
                "{\"container\":\"none\",\"platform\":\"linux\",\"dns\":\"other\","
                "\"nameservers\":\"192.168.1.1 1.1.1.1 2606:4700:4700::1111\","
                "\"search\":\"a.test b.test\",\"ndots\":3}");
    char *big[] = {"RES_OPTIONS=ndots:40", NULL};
    hu_env e;
    read_case("host", big, &e);
    ck_assert_int_eq(e.ndots, 15);
}
END_TEST

START_TEST(bounded_read)
{
    /* 7.7 KB: only the first 4 KiB (whole lines) are read */
    assert_case("big_resolv", NULL,
                "{\"dns\":\"other\",\"nameservers\":\"10.0.0.1\",\"ndots\":1}");
}
END_TEST

START_TEST(missing_root)
{
    hu_env e;
    read_case("does-not-exist", NULL, &e);
    ck_assert_int_eq(e.container, HU_CONTAINER_UNKNOWN);
    ck_assert_int_eq(e.platform, HU_PLATFORM_UNKNOWN);
    ck_assert_int_eq(e.have_resolv, 0);
    ck_assert_int_eq(e.ndots, -1);
    char *got = dump(&e, NULL);
    ck_assert_str_eq(got, "{}");
    free(got);
    /* an over-long root is treated as missing, not truncated into another path */
    char root[2048];
    memset(root, 'x', sizeof root - 1);
    root[sizeof root - 1] = '\0';
    root[0] = '/';
    hu_env_read(root, NULL, &e);
    ck_assert_int_eq(e.have_resolv, 0);
}
END_TEST

/* ---- own networks -------------------------------------------------------- */

static void container_net(hu_env *e)
{
    memset(e, 0, sizeof *e);
    e->ndots = -1;
    e->have_net = 1;
    add(e, "127.0.0.1", 8, RT_SCOPE_HOST);
    add(e, "172.18.0.5", 16, RT_SCOPE_UNIVERSE);
    add(e, "10.1.20.7", 20, RT_SCOPE_UNIVERSE);
    add(e, "::1", 128, RT_SCOPE_HOST);
    add(e, "fe80::42:acff:fe12:5", 64, RT_SCOPE_LINK);
    add(e, "fd00:dead:beef::5", 64, RT_SCOPE_UNIVERSE);
    add(e, "2001:db8:aa:bb80::9", 57, RT_SCOPE_UNIVERSE);
}

START_TEST(in_own_network_v4)
{
    hu_env e;
    container_net(&e);
    ck_assert_int_eq(own(&e, "172.18.0.1"), 1);
    ck_assert_int_eq(own(&e, "172.18.255.255"), 1);
    ck_assert_int_eq(own(&e, "172.19.0.1"), 0);
    ck_assert_int_eq(own(&e, "172.17.0.2"), 0);
    ck_assert_int_eq(own(&e, "10.1.16.0"), 1);      /* 10.1.16.0/20 */
    ck_assert_int_eq(own(&e, "10.1.31.255"), 1);
    ck_assert_int_eq(own(&e, "10.1.32.0"), 0);
    ck_assert_int_eq(own(&e, "10.1.15.255"), 0);
    ck_assert_int_eq(own(&e, "127.0.0.1"), 1);      /* loopback is ours */
    ck_assert_int_eq(own(&e, "127.9.9.9"), 1);
    ck_assert_int_eq(own(&e, "8.8.8.8"), 0);
    ck_assert_int_eq(own(&e, "::ffff:172.18.3.4"), 1);  /* IPv4-mapped */
    ck_assert_int_eq(own(&e, "::ffff:8.8.8.8"), 0);

    struct sockaddr_un un = {.sun_family = AF_UNIX};
    ck_assert_int_eq(hu_env_in_own_network(&e, (struct sockaddr *)&un), 0);
    ck_assert_int_eq(hu_env_in_own_network(&e, NULL), 0);

    /* /32 and /0 */
    hu_env x;
    memset(&x, 0, sizeof x);
    add(&x, "192.0.2.7", 32, RT_SCOPE_UNIVERSE);
    ck_assert_int_eq(own(&x, "192.0.2.7"), 1);
    ck_assert_int_eq(own(&x, "192.0.2.8"), 0);
    add(&x, "0.0.0.0", 0, RT_SCOPE_UNIVERSE);
    ck_assert_int_eq(own(&x, "203.0.113.1"), 1);
    ck_assert_int_eq(own(&x, "2001:db8::1"), 0);    /* families do not mix */
}
END_TEST

START_TEST(in_own_network_v6)
{
    hu_env e;
    container_net(&e);
    ck_assert_int_eq(own(&e, "fd00:dead:beef::1"), 1);
    ck_assert_int_eq(own(&e, "fd00:dead:beef:0:ffff:ffff:ffff:ffff"), 1);
    ck_assert_int_eq(own(&e, "fd00:dead:beef:1::1"), 0);
    ck_assert_int_eq(own(&e, "fe80::1"), 1);        /* link-local */
    ck_assert_int_eq(own(&e, "::1"), 1);
    ck_assert_int_eq(own(&e, "::2"), 0);
    ck_assert_int_eq(own(&e, "2001:db8:aa:bb80::1"), 1);    /* /57 */
    ck_assert_int_eq(own(&e, "2001:db8:aa:bbff::1"), 1);
    ck_assert_int_eq(own(&e, "2001:db8:aa:bb7f::1"), 0);
    ck_assert_int_eq(own(&e, "2001:db8:aa:bc00::1"), 0);
    ck_assert_int_eq(own(&e, "2001:db8::1"), 0);
    /* none of ours */
    hu_env x;
    memset(&x, 0, sizeof x);
    ck_assert_int_eq(own(&x, "fd00:dead:beef::1"), 0);
}
END_TEST

START_TEST(json_with_network)
{
    hu_env e;
    container_net(&e);
    e.container = HU_CONTAINER_DOCKER;
    e.platform = HU_PLATFORM_LINUX;
    e.have_resolv = 1;
    e.docker_dns = 1;
    strcpy(e.nameservers, "127.0.0.11");
    e.ndots = 0;
    e.have_gw4 = 1;
    ck_assert_int_eq(inet_pton(AF_INET, "172.18.0.1", e.gw4), 1);
    e.have_gw6 = 1;
    ck_assert_int_eq(inet_pton(AF_INET6, "fd00:dead:beef::1", e.gw6), 1);

    const char *head = "{\"container\":\"docker\",\"platform\":\"linux\",\"dns\":\"docker-embedded\","
                       "\"nameservers\":\"127.0.0.11\",\"ndots\":0,"
                       "\"own_addr\":\"172.18.0.5/16 10.1.20.7/20 fd00:dead:beef::5/64 2001:db8:aa:bb80::9/57\","
                       "\"gateway\":\"172.18.0.1 fd00:dead:beef::1\"";
    char want[1024];
    struct sockaddr_storage in = addr("172.18.0.9"), out = addr("203.0.113.5");

    char *got = dump(&e, (struct sockaddr *)&in);
    snprintf(want, sizeof want, "%s,\"target_in_own_network\":true}", head);
    ck_assert_str_eq(got, want);
    free(got);

    got = dump(&e, (struct sockaddr *)&out);
    snprintf(want, sizeof want, "%s,\"target_in_own_network\":false}", head);
    ck_assert_str_eq(got, want);
    free(got);

    got = dump(&e, NULL);
    snprintf(want, sizeof want, "%s}", head);
    ck_assert_str_eq(got, want);
    free(got);

    /* without a successful address dump the answer is unknown: left out */
    e.have_net = 0;
    got = dump(&e, (struct sockaddr *)&in);
    ck_assert_str_eq(got, want);
    free(got);

    /* only loopback and link-local: no own_addr; resolv.conf without nameservers */
    hu_env l;
    memset(&l, 0, sizeof l);
    l.ndots = -1;
    l.have_net = 1;
    l.have_resolv = 1;
    add(&l, "127.0.0.1", 8, RT_SCOPE_HOST);
    add(&l, "fe80::1", 64, RT_SCOPE_LINK);
    got = dump(&l, (struct sockaddr *)&out);
    ck_assert_str_eq(got, "{\"dns\":\"other\",\"nameservers\":\"none\",\"target_in_own_network\":false}");
    free(got);
}
END_TEST

/* ---- this machine --------------------------------------------------------- */

START_TEST(read_net_here)
{
    hu_env e;
    memset(&e, 0xa5, sizeof e);
    hu_env_read("", NULL, &e);
    hu_env_read_net(&e);
    ck_assert_int_ge(e.n_nets, 0);
    ck_assert_int_le(e.n_nets, HU_ENV_MAX_NETS);
    if (!e.have_net)
        ck_assert_int_eq(e.n_nets, 0);
    int loopback = 0;
    for (int i = 0; i < e.n_nets; i++) {
        const hu_env_net *n = &e.nets[i];
        ck_assert(n->family == AF_INET || n->family == AF_INET6);
        ck_assert_int_le(n->prefix, n->family == AF_INET ? 32 : 128);
        if (n->family == AF_INET && n->addr[0] == 127)
            loopback = 1;
    }
    if (loopback)
        ck_assert_int_eq(own(&e, "127.0.0.1"), 1);
    char *s = dump(&e, NULL);
    json_t *o = json_loads(s, 0, NULL);
    ck_assert_ptr_nonnull(o);
    const json_t *a = json_object_get(o, "own_addr");
    if (a)
        ck_assert_ptr_nonnull(strchr(json_string_value(a), '/'));
    json_decref(o);
    free(s);
}
END_TEST

static void *current_worker(void *arg)
{
    hu_env *first = arg, e;
    for (int i = 0; i < 50; i++) {
        hu_env_current(&e);
        if (e.container != first->container || e.platform != first->platform ||
            strcmp(e.nameservers, first->nameservers) != 0)
            return (void *)1;
    }
    return NULL;
}

START_TEST(current_is_cached_and_consistent)
{
    hu_env first;
    hu_env_current(&first);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, current_worker, &first), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        ck_assert_ptr_null(r);
    }
}
END_TEST

Suite *env_suite(void)
{
    Suite *s = suite_create("env");
    TCase *f = tcase_create("fixtures");
    tcase_add_test(f, docker_cgroup_v1);
    tcase_add_test(f, docker_cgroup_v2);
    tcase_add_test(f, cgroupns_root_alone_is_unknown);
    tcase_add_test(f, kubernetes);
    tcase_add_test(f, containerd);
    tcase_add_test(f, wsl2);
    tcase_add_test(f, docker_desktop);
    tcase_add_test(f, podman);
    tcase_add_test(f, plain_host);
    tcase_add_test(f, resolver_variables_override);
    tcase_add_test(f, bounded_read);
    tcase_add_test(f, missing_root);
    suite_add_tcase(s, f);
    TCase *n = tcase_create("network");
    tcase_add_test(n, in_own_network_v4);
    tcase_add_test(n, in_own_network_v6);
    tcase_add_test(n, json_with_network);
    tcase_add_test(n, read_net_here);
    tcase_add_test(n, current_is_cached_and_consistent);
    suite_add_tcase(s, n);
    return s;
}
