/* SPDX-License-Identifier: MIT */
/* Helpers shared by the libFuzzer harnesses in tests/fuzz/. */
#ifndef HOSTUP_FUZZ_COMMON_H
#define HOSTUP_FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* A failed property: print it and abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, \
                    __LINE__);                                                  \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* The input cut at NUL bytes into at most `max` NUL-terminated parts (one
 * allocation, released with free(parts[0])).  Returns the number found;
 * parts past it are NULL. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, char **parts, size_t max)
{
    char *copy = malloc(size + 1);
    size_t n = 0;
    for (size_t i = 0; i < max; i++)
        parts[i] = NULL;
    if (!copy)
        abort();
    memcpy(copy, data, size);
    copy[size] = '\0';
    parts[n++] = copy;
    for (size_t i = 0; i < size && n < max; i++)
        if (copy[i] == '\0')
            parts[n++] = copy + i + 1;
    return n;
}

/* Strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past
 * U+10FFFF), the rule jansson applies to strings. */
static inline int fuzz_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, cp = c & 0x07;
        } else
            return 0;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* Records go to /dev/null through HOSTUP_LOG=fd:N, so hu_log_emit does
 * its json_dumps and write without printing anything. */
static inline void fuzz_log_to_devnull(void (*configure)(const char *, int))
{
    static int done;
    if (done)
        return;
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char spec[32];
    if (fd < 0)
        abort();
    snprintf(spec, sizeof spec, "fd:%d", fd);
    configure(spec, 0);
    done = 1;
}

/* The value serialises, parses back and compares equal. */
static inline void fuzz_json_roundtrip(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    FUZZ_CHECK(s != NULL);
    json_error_t err;
    json_t *back = json_loads(s, 0, &err);
    FUZZ_CHECK(back != NULL);
    FUZZ_CHECK(json_equal((json_t *)v, back));
    json_decref(back);
    free(s);
}

#endif
