/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the mountinfo parser (shim/core/mounts.c) and the lookups
 * made on its result.
 *
 * Input: mountinfo text, as /proc/self/mountinfo gives it.  The whole table
 * goes through hu_mounts_parse; each line also through
 * hu_mountinfo_parse_line; every mount found is looked up again by its
 * device and point, and its source, options and point go through
 * hu_mount_server, hu_option_get and hu_path_normalize. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "core/mounts.h"

static void check_mount(const hu_mounts *t, const hu_mount *m)
{
    FUZZ_CHECK(m->root && m->point && m->mount_options && m->fstype && m->source && m->options);
    FUZZ_CHECK(m->point[0] == '/');
    FUZZ_CHECK(m->network == hu_fstype_is_network(m->fstype));
    hu_fstype_is_fuse(m->fstype);

    const hu_mount *d = hu_mounts_by_dev(t, m->major, m->minor);
    FUZZ_CHECK(d && d->major == m->major && d->minor == m->minor);
    /* its own point finds a mount whose point is that point (or one on top) */
    const hu_mount *p = hu_mounts_by_path(t, m->point);
    FUZZ_CHECK(p != NULL);

    char norm[4096];
    static const size_t lens[] = {2, 3, 16, sizeof norm};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t k = hu_path_normalize(m->point, norm, lens[i]);
        if (k) {
            FUZZ_CHECK(k < lens[i] && strlen(norm) == k && norm[0] == '/');
            FUZZ_CHECK(!strstr(norm, "//") && (k == 1 || norm[k - 1] != '/'));
            hu_mounts_by_path(t, norm);
        }
    }

    char host[256], val[64];
    static const size_t hl[] = {1, 2, 8, sizeof host};
    for (size_t i = 0; i < sizeof hl / sizeof hl[0]; i++) {
        memset(host, 'Z', sizeof host);
        if (hu_mount_server(m->fstype, m->source, host, hl[i]))
            FUZZ_CHECK(strnlen(host, hl[i]) < hl[i] && host[0]);
    }
    static const char *const names[] = {"addr", "vers", "hard", "", "timeo"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (size_t len = 1; len <= sizeof val; len *= 4) {
            memset(val, 'Z', sizeof val);
            if (hu_option_get(m->options, names[i], val, len))
                FUZZ_CHECK(strnlen(val, len) < len);
        }
        hu_option_get(m->mount_options, names[i], NULL, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hu_mounts *t = hu_mounts_parse((const char *)data, size);
    FUZZ_CHECK(t != NULL);
    int any = 0;
    for (size_t i = 0; i < t->n; i++) {
        check_mount(t, &t->m[i]);
        any |= t->m[i].network;
    }
    FUZZ_CHECK(any == t->any_network);
    hu_mounts_by_path(t, "/");
    hu_mounts_by_path(t, "/mnt/data/file");

    /* line by line, as the cache would reparse one */
    char *copy = malloc(size + 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = '\0';
    size_t good = 0;
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!*line)
            continue;
        hu_mount m;
        if (hu_mountinfo_parse_line(line, &m) == 0) {
            FUZZ_CHECK(m.point[0] == '/');
            good++;
        }
    }
    /* a NUL byte ends the table for both readers alike */
    FUZZ_CHECK(good == t->n);

    /* unescaping never grows a string */
    memcpy(copy, data, size);
    copy[size] = '\0';
    size_t before = strlen(copy);
    hu_mountinfo_unescape(copy);
    FUZZ_CHECK(strlen(copy) <= before);

    free(copy);
    hu_mounts_free(t);
    return 0;
}
