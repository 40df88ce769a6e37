/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the resolver and environment parsers.
 *
 * Input: RESOLV_CONF [\0 PROC_1_CGROUP [\0 PROC_SELF_CGROUP [\0 OSRELEASE
 *        [\0 LOCALDOMAIN [\0 RES_OPTIONS]]]]]
 * The parts are written into a fixture tree (one temporary directory per
 * process, reused); absent parts leave their files out.  hu_env_read reads
 * the tree, hu_probe_nameservers reads its resolv.conf, hu_env_json turns
 * the result into JSON that must serialise and parse back. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/environment.h"
#include "fuzz_common.h"
#include "core/probe.h"

static char root[64];
static const char *const files[] = {
    "/etc/resolv.conf", "/proc/1/cgroup", "/proc/self/cgroup", "/proc/sys/kernel/osrelease",
};
#define NFILES (sizeof files / sizeof files[0])

static void path_of(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s%s", root, rel);
}

static void cleanup(void)
{
    static const char *const dirs[] = {
        "/proc/sys/kernel", "/proc/sys", "/proc/self", "/proc/1", "/proc", "/etc", "",
    };
    char p[256];
    for (size_t i = 0; i < NFILES; i++) {
        path_of(p, sizeof p, files[i]);
        unlink(p);
    }
    path_of(p, sizeof p, "/.dockerenv");
    unlink(p);
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        path_of(p, sizeof p, dirs[i]);
        rmdir(p);
    }
}

static void setup(void)
{
    static const char *const dirs[] = {
        "/etc", "/proc", "/proc/1", "/proc/self", "/proc/sys", "/proc/sys/kernel",
    };
    char p[256];
    if (root[0])
        return;
    snprintf(root, sizeof root, "/tmp/hostup-fuzz-env.XXXXXX");
    FUZZ_CHECK(mkdtemp(root) != NULL);
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        path_of(p, sizeof p, dirs[i]);
        FUZZ_CHECK(mkdir(p, 0755) == 0);
    }
    atexit(cleanup);
}

static void put(const char *rel, const char *data, size_t len)
{
    char p[256];
    path_of(p, sizeof p, rel);
    if (!data) {
        FUZZ_CHECK(unlink(p) == 0 || errno == ENOENT);
        return;
    }
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

/* A space-separated list: no empty words, NUL-terminated inside its array;
 * no newline when it comes from a file (read line by line). */
static void check_list(const char *s, size_t size, int from_file)
{
    size_t n = strnlen(s, size);
    FUZZ_CHECK(n < size);
    if (n == 0)
        return;
    FUZZ_CHECK(s[0] != ' ' && s[n - 1] != ' ');
    FUZZ_CHECK(!strstr(s, "  "));
    FUZZ_CHECK(!from_file || !strchr(s, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[6];
    size_t n = fuzz_split(data, size, part, 6);
    setup();

    /* file contents: part i runs to the next part (or the end) */
    for (size_t i = 0; i < NFILES; i++) {
        if (i < n) {
            size_t len = strlen(part[i]);
            put(files[i], part[i], len);
        } else
            put(files[i], NULL, 0);
    }
    uint8_t flags = size ? data[size - 1] : 0;
    put("/.dockerenv", (flags & 1) ? "" : NULL, 0);

    char ld[8192], ro[8192];
    char *envp[4];
    size_t ne = 0;
    if (n > 4) {
        snprintf(ld, sizeof ld, "LOCALDOMAIN=%s", part[4]);
        envp[ne++] = ld;
    }
    if (n > 5) {
        snprintf(ro, sizeof ro, "RES_OPTIONS=%s", part[5]);
        envp[ne++] = ro;
    }
    if (flags & 2)
        envp[ne++] = (char *)"KUBERNETES_SERVICE_HOST=10.96.0.1";
    envp[ne] = NULL;

    hu_env e;
    hu_env_read(root, envp, &e);
    FUZZ_CHECK(e.container >= HU_CONTAINER_UNKNOWN && e.container <= HU_CONTAINER_CONTAINERD);
    FUZZ_CHECK(e.platform >= HU_PLATFORM_UNKNOWN && e.platform <= HU_PLATFORM_DOCKER_DESKTOP);
    FUZZ_CHECK(e.have_resolv == 1);
    FUZZ_CHECK(e.ndots >= 0 && e.ndots <= 15);
    FUZZ_CHECK(!(flags & 2) || e.container == HU_CONTAINER_KUBERNETES);
    check_list(e.nameservers, sizeof e.nameservers, 1);
    check_list(e.search, sizeof e.search, n <= 4);   /* LOCALDOMAIN is taken as it is */

    json_t *j = hu_env_json(&e, NULL);
    FUZZ_CHECK(j != NULL);
    fuzz_json_roundtrip(j);
    if (e.nameservers[0] && fuzz_utf8_valid(e.nameservers)) {
        json_t *v = json_object_get(j, "nameservers");
        FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), e.nameservers) == 0);
    }
    if (e.search[0] && fuzz_utf8_valid(e.search)) {
        json_t *v = json_object_get(j, "search");
        FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), e.search) == 0);
    }
    json_decref(j);

    char resolv[256], buf[256];
    path_of(resolv, sizeof resolv, files[0]);
    static const size_t lens[] = {1, 2, 16, 64, sizeof buf};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(buf, 'Z', sizeof buf);
        FUZZ_CHECK(hu_probe_nameservers(resolv, buf, lens[i]) == 0);
        FUZZ_CHECK(strnlen(buf, lens[i]) < lens[i]);
        check_list(buf, lens[i], 1);
    }
    free(part[0]);
    return 0;
}
