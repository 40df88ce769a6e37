/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the record builder fed hostile strings.
 *
 * Input: FLAGS ERR EAI REPEAT, then HOST \0 PATH \0 MOUNT_POINT \0 FSTYPE
 *        \0 SOURCE \0 OPTIONS \0 RULE_TEXT \0 REASON.
 * FLAGS picks the event, the address family and which strings are blown
 * up to hundreds of kilobytes (REPEAT copies).  The record must serialise
 * with json_dumps and parse back equal; every string field must either
 * round-trip exactly (valid UTF-8) or hold the escaped form the builder
 * promises (bytes >= 0x80 as \xHH, cut near 1 KiB).  Records are written
 * to /dev/null. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "hostup/hostup.h"
#include "core/log.h"

enum { P_HOST, P_PATH, P_POINT, P_FSTYPE, P_SOURCE, P_OPTIONS, P_RULE, P_REASON, NPARTS };

/* What set_str promises for a string that is not UTF-8: ASCII bytes as
 * they are, others as \xHH; true when got is a prefix of that, and the
 * whole of it unless cut near the 1 KiB buffer. */
static int escaped_ok(const char *in, const char *got)
{
    size_t o = 0, glen = strlen(got);
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        char e[8];
        int k = snprintf(e, sizeof e, *p < 0x80 ? "%c" : "\\x%02x", *p);
        if (o + (size_t)k > glen)
            return glen >= 1000;            /* cut: only near the limit */
        if (memcmp(got + o, e, (size_t)k) != 0)
            return 0;
        o += (size_t)k;
    }
    return o == glen;
}

static void check_str(const json_t *obj, const char *key, const char *in)
{
    const json_t *v = json_object_get(obj, key);
    if (!in) {
        FUZZ_CHECK(v == NULL);
        return;
    }
    FUZZ_CHECK(json_is_string(v));
    const char *got = json_string_value(v);
    FUZZ_CHECK(strlen(got) == json_string_length(v));
    if (fuzz_utf8_valid(in)) {
        FUZZ_CHECK(strcmp(got, in) == 0);
    } else {
        for (const unsigned char *p = (const unsigned char *)got; *p; p++)
            FUZZ_CHECK(*p < 0x80);
        FUZZ_CHECK(escaped_ok(in, got));
    }
}

/* part repeated `times` times, in a new allocation */
static char *blow_up(const char *part, size_t times)
{
    size_t n = strlen(part);
    if (n == 0)
        n = 1, part = "\xff";
    char *s = malloc(n * times + 1);
    FUZZ_CHECK(s != NULL);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, part, n);
    s[n * times] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    fuzz_log_to_devnull(hu_log_configure);
    hu_log_set_window(0);
    uint8_t flags = data[0], err = data[1], eai = data[2], rep = data[3];
    char *part[NPARTS];
    size_t n = fuzz_split(data + 4, size - 4, part, NPARTS);
    char *copy = part[0];

    /* at most one string blown up per run, so runs stay fast */
    char *big = NULL;
    size_t which = (flags >> 5) % NPARTS;
    if ((flags & 0x10) && which < n) {
        size_t times = (size_t)1 + (size_t)rep * 1024 / (strlen(part[which]) + 1);
        big = blow_up(part[which], times);
        part[which] = big;
    }

    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    v4.sin_family = AF_INET;
    v4.sin_addr.s_addr = htonl(0x0a000000u | err);
    v6.sin6_family = AF_INET6;
    v6.sin6_addr.s6_addr[0] = 0xfd;
    v6.sin6_addr.s6_addr[15] = eai;

    static const char *const events[] = {HOSTUP_EV_RETRY, HOSTUP_EV_GAVE_UP, HOSTUP_EV_RECOVERED,
                                         HOSTUP_EV_RETRY};
    hu_rule rule;
    hu_rule_defaults(&rule);
    rule.text = part[P_RULE];
    hu_event ev;
    memset(&ev, 0, sizeof ev);
    ev.event = events[flags & 3];
    ev.op = part[P_PATH] ? "read" : "connect";
    ev.host = part[P_HOST];
    ev.addr = (flags & 4) ? (struct sockaddr *)&v6 : (flags & 8) ? (struct sockaddr *)&v4 : NULL;
    ev.port = rep * 257u;
    ev.err = err;
    ev.eai = (flags & 1) ? -(int)(eai % 16) : 0;
    ev.attempt = 2;
    ev.attempts = 8;
    ev.delay_ms = (flags & 2) ? 350 : -1;
    ev.elapsed_ms = 1200;
    ev.rule = part[P_RULE] ? &rule : NULL;
    ev.suppressed = flags & 0x40 ? 3 : 0;
    ev.path = part[P_PATH];
    ev.fd = 7;
    ev.offset = (long long)err << 20;
    ev.mount_point = part[P_POINT];
    ev.mount_fstype = part[P_FSTYPE];
    ev.mount_source = part[P_SOURCE];
    ev.mount_options = part[P_OPTIONS];

    json_t *rec = hu_record_new(&ev);
    FUZZ_CHECK(rec != NULL);
    fuzz_json_roundtrip(rec);
    check_str(rec, "host", ev.host);
    check_str(rec, "path", ev.path);
    check_str(rec, "rule", ev.rule ? rule.text : NULL);
    if (ev.path && ev.mount_point) {
        const json_t *m = json_object_get(rec, "mount");
        FUZZ_CHECK(json_is_object(m));
        check_str(m, "point", ev.mount_point);
        check_str(m, "fstype", ev.mount_fstype);
        check_str(m, "source", ev.mount_source);
        check_str(m, "options", ev.mount_options);
    } else {
        FUZZ_CHECK(json_object_get(rec, "mount") == NULL);
    }
    FUZZ_CHECK(json_is_string(json_object_get(rec, "event")));
    FUZZ_CHECK(json_is_string(json_object_get(rec, "time")));
    hu_log_emit(rec);           /* json_dumps and one write to /dev/null */

    /* the storm filter and the whole path, as the wrappers call them */
    if (hu_log_admit(&ev) >= 0)
        hu_log_event(&ev);

    /* a config error record with hostile text */
    hu_policy_error e = {
        .source = part[P_SOURCE] ? part[P_SOURCE] : (char *)"HOSTUP_POLICY",
        .rule = rep, .line = 1, .column = err,
        .text = part[P_RULE] ? part[P_RULE] : (char *)"",
        .reason = part[P_REASON] ? part[P_REASON] : (char *)"",
    };
    hu_log_config_error(&e);

    free(big);
    free(copy);
    return 0;
}
