/* SPDX-License-Identifier: MIT */
/* Record lines: the OTel form (HOSTUP_LOG_FORMAT=otel) checked against the
 * OTLP/JSON shape of a LogRecord, its way back to a plain record (what
 * hostup report reads), the format switch, and the 16 KiB line limit. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "hostup/hostup.h"
#include "core/log.h"
#include "suites.h"

/* A full connect record: host, address, errno, rule, diagnosis, backtrace. */
static json_t *connect_record(const char *event, hu_policy **p)
{
    *p = hu_policy_parse("db:5432 attempts=20");
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5432)};
    inet_pton(AF_INET, "198.18.0.3", &sa.sin_addr);
    json_t *diag = json_pack("{s:s, s:s, s:{s:s, s:b, s:i, s:{s:s, s:i}}, s:[i,i], s:s}",
                             "layer", "link", "cause", "on-link host does not answer ARP/ND",
                             "evidence", "route", "unicast", "on_link", 1, "try_ms", 3065,
                             "env", "dns", "docker-embedded", "ndots", 0, "checklist", 1, 2,
                             "next", "ping -c 3 198.18.0.3");
    int gave_up = strcmp(event, HOSTUP_EV_GAVE_UP) == 0, rec_ok = strcmp(event, HOSTUP_EV_RECOVERED) == 0;
    hu_event ev = {
        .event = event, .op = "connect", .host = "db", .addr = (const struct sockaddr *)&sa,
        .port = 5432, .err = rec_ok ? 0 : EHOSTUNREACH, .attempt = 2, .attempts = 20,
        .delay_ms = gave_up || rec_ok ? -1 : 400, .elapsed_ms = 1234, .rule = &(*p)->rules[0],
        .diagnosis = rec_ok ? NULL : diag, .suppressed = 3,
    };
    if (rec_ok)
        json_decref(diag);
    json_t *rec = hu_record_new(&ev);
    json_object_set_new(rec, "backtrace", json_pack("[s,s]", "main+0x16b (app)", "_start+0x21 (app)"));
    return rec;
}

static json_t *only_record(json_t *otel, json_t **resource)
{
    ck_assert_int_eq(json_object_size(otel), 1);
    json_t *rl = json_object_get(otel, "resourceLogs");
    ck_assert_int_eq(json_array_size(rl), 1);
    *resource = json_object_get(json_array_get(rl, 0), "resource");
    json_t *sl = json_object_get(json_array_get(rl, 0), "scopeLogs");
    ck_assert_int_eq(json_array_size(sl), 1);
    json_t *scope = json_object_get(json_array_get(sl, 0), "scope");
    ck_assert_str_eq(json_string_value(json_object_get(scope, "name")), "hostup");
    ck_assert_str_eq(json_string_value(json_object_get(scope, "version")), HOSTUP_VERSION);
    json_t *lrs = json_object_get(json_array_get(sl, 0), "logRecords");
    ck_assert_int_eq(json_array_size(lrs), 1);
    return json_array_get(lrs, 0);
}

/* The AnyValue under key in an OTLP key/value list; asserts it is there once. */
static json_t *attr(json_t *list, const char *key)
{
    json_t *found = NULL, *e;
    size_t i;
    json_array_foreach(list, i, e)
        if (strcmp(json_string_value(json_object_get(e, "key")), key) == 0) {
            ck_assert_msg(!found, "attribute %s twice", key);
            found = json_object_get(e, "value");
        }
    ck_assert_msg(found != NULL, "no attribute %s", key);
    return found;
}

static const char *sval(json_t *list, const char *key)
{
    json_t *v = json_object_get(attr(list, key), "stringValue");
    ck_assert_msg(json_is_string(v), "%s is not a stringValue", key);
    return json_string_value(v);
}

static const char *ival(json_t *list, const char *key)
{
    json_t *v = json_object_get(attr(list, key), "intValue");
    ck_assert_msg(json_is_string(v), "%s is not an intValue string (OTLP/JSON: 64-bit as text)", key);
    return json_string_value(v);
}

static int digits(const char *s)
{
    return s && *s && strspn(s, "0123456789") == strlen(s);
}

/* Every AnyValue holds exactly one of the OTLP kinds, ints as decimal text. */
static void assert_any_value(json_t *v)
{
    static const char *const kinds[] = {"stringValue", "intValue", "doubleValue", "boolValue",
                                        "arrayValue", "kvlistValue"};
    ck_assert_int_eq(json_object_size(v), 1);
    const char *k = json_object_iter_key(json_object_iter(v));
    int known = 0;
    for (size_t i = 0; i < 6; i++)
        known |= strcmp(k, kinds[i]) == 0;
    ck_assert_msg(known, "unknown AnyValue kind %s", k);
    json_t *x = json_object_get(v, k);
    if (!strcmp(k, "intValue"))
        ck_assert(digits(json_string_value(x)) || (json_string_value(x) && json_string_value(x)[0] == '-'));
    else if (!strcmp(k, "stringValue"))
        ck_assert(json_is_string(x));
    else if (!strcmp(k, "arrayValue") || !strcmp(k, "kvlistValue")) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(x, "values"), i, e)
            assert_any_value(!strcmp(k, "arrayValue") ? e : json_object_get(e, "value"));
    }
}

/* Attribute names: semantic conventions, or ours under "hostup.". */
static void assert_attribute_names(json_t *list)
{
    static const char *const semconv[] = {"server.address", "server.port", "network.peer.address",
                                          "network.peer.port", "error.type", "exception.message",
                                          "exception.stacktrace", "file.path"};
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        ck_assert_int_eq(json_object_size(e), 2);
        const char *k = json_string_value(json_object_get(e, "key"));
        ck_assert_ptr_nonnull(k);
        int ok = strncmp(k, "hostup.", 7) == 0;
        for (size_t s = 0; s < sizeof semconv / sizeof semconv[0]; s++)
            ok |= strcmp(k, semconv[s]) == 0;
        ck_assert_msg(ok, "attribute %s is neither a semantic convention nor hostup.*", k);
        assert_any_value(json_object_get(e, "value"));
        attr(list, k);      /* unique */
    }
}

START_TEST(otel_shape_retry)
{
    hu_policy *p;
    json_t *rec = connect_record(HOSTUP_EV_RETRY, &p), *res;
    json_t *otel = hu_record_otel(rec);
    json_t *lr = only_record(otel, &res);

    /* resource: who wrote it */
    json_t *ra = json_object_get(res, "attributes");
    char want[300], pid[32];
    snprintf(want, sizeof want, "unknown_service:%s", program_invocation_short_name);
    ck_assert_str_eq(sval(ra, "service.name"), want);
    snprintf(pid, sizeof pid, "%d", getpid());
    ck_assert_str_eq(ival(ra, "process.pid"), pid);
    ck_assert_str_eq(sval(ra, "process.executable.name"), program_invocation_short_name);

    /* the LogRecord's own fields */
    const char *t = json_string_value(json_object_get(lr, "timeUnixNano"));
    const char *o = json_string_value(json_object_get(lr, "observedTimeUnixNano"));
    ck_assert(digits(t) && digits(o));
    struct tm tm = {0};
    int ms;
    ck_assert_int_eq(sscanf(json_string_value(json_object_get(rec, "time")), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ",
                            &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms), 7);
    tm.tm_year -= 1900, tm.tm_mon -= 1;
    char tn[40];
    snprintf(tn, sizeof tn, "%lld", ((long long)timegm(&tm) * 1000 + ms) * 1000000LL);
    ck_assert_str_eq(t, tn);
    ck_assert(strtoll(o, NULL, 10) >= strtoll(t, NULL, 10));
    ck_assert_int_eq(json_integer_value(json_object_get(lr, "severityNumber")), 13);
    ck_assert_str_eq(json_string_value(json_object_get(lr, "severityText")), "WARN");
    ck_assert_str_eq(json_string_value(json_object_get(lr, "eventName")), "hostup.retry");
    const char *body = json_string_value(json_object_get(json_object_get(lr, "body"), "stringValue"));
    ck_assert_str_eq(body, "retry connect db:5432 (198.18.0.3): EHOSTUNREACH (No route to host)");

    json_t *a = json_object_get(lr, "attributes");
    assert_attribute_names(a);
    ck_assert_str_eq(sval(a, "server.address"), "db");
    ck_assert_str_eq(ival(a, "server.port"), "5432");
    ck_assert_str_eq(sval(a, "network.peer.address"), "198.18.0.3");
    ck_assert_str_eq(ival(a, "network.peer.port"), "5432");
    ck_assert_str_eq(sval(a, "error.type"), "EHOSTUNREACH");
    ck_assert_str_eq(sval(a, "exception.message"), "No route to host");
    ck_assert_str_eq(sval(a, "exception.stacktrace"), "main+0x16b (app)\n_start+0x21 (app)");
    ck_assert_str_eq(sval(a, "hostup.event"), "retry");
    ck_assert_str_eq(sval(a, "hostup.op"), "connect");
    ck_assert_str_eq(ival(a, "hostup.attempt"), "2");
    ck_assert_str_eq(ival(a, "hostup.attempts"), "20");
    ck_assert_str_eq(ival(a, "hostup.delay_ms"), "400");
    ck_assert_str_eq(ival(a, "hostup.elapsed_ms"), "1234");
    ck_assert_str_eq(ival(a, "hostup.suppressed"), "3");
    ck_assert_str_eq(sval(a, "hostup.rule"), "db:5432 attempts=20");
    ck_assert_str_eq(sval(a, "hostup.diagnosis.layer"), "link");
    ck_assert_str_eq(sval(a, "hostup.diagnosis.cause"), "on-link host does not answer ARP/ND");
    ck_assert_str_eq(sval(a, "hostup.diagnosis.evidence.route"), "unicast");
    ck_assert(json_is_true(json_object_get(attr(a, "hostup.diagnosis.evidence.on_link"), "boolValue")));
    ck_assert_str_eq(sval(a, "hostup.diagnosis.evidence.env.dns"), "docker-embedded");
    json_t *cl = json_object_get(json_object_get(attr(a, "hostup.diagnosis.checklist"), "arrayValue"), "values");
    ck_assert_int_eq(json_array_size(cl), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(cl, 1), "intValue")), "2");
    /* mapped fields are not repeated under hostup. */
    char *all = json_dumps(a, 0);
    ck_assert_ptr_null(strstr(all, "\"hostup.host\""));
    ck_assert_ptr_null(strstr(all, "\"hostup.errno\""));
    free(all);

    json_decref(otel);
    json_decref(rec);
    hu_policy_free(p);
}
END_TEST

START_TEST(otel_severity)
{
    static const struct { const char *event; int n; const char *text; } want[] = {
        {HOSTUP_EV_RETRY, 13, "WARN"}, {HOSTUP_EV_GAVE_UP, 17, "ERROR"},
        {HOSTUP_EV_RECOVERED, 9, "INFO"}, {HOSTUP_EV_CONFIG_ERROR, 13, "WARN"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        hu_policy *p;
        json_t *rec = connect_record(want[i].event, &p), *res;
        if (!strcmp(want[i].event, HOSTUP_EV_CONFIG_ERROR))
            json_object_set_new(rec, "event", json_string(HOSTUP_EV_CONFIG_ERROR));
        json_t *otel = hu_record_otel(rec);
        json_t *lr = only_record(otel, &res);
        ck_assert_int_eq(json_integer_value(json_object_get(lr, "severityNumber")), want[i].n);
        ck_assert_str_eq(json_string_value(json_object_get(lr, "severityText")), want[i].text);
        assert_attribute_names(json_object_get(lr, "attributes"));
        json_decref(otel);
        json_decref(rec);
        hu_policy_free(p);
    }
    const char *t;
    ck_assert_int_eq(hu_otel_severity("readdressed", &t), 9);
    ck_assert_str_eq(t, "INFO");
}
END_TEST

/* What hostup report reads back is the record that was written. */
static void assert_round_trip(json_t *rec)
{
    json_t *otel = hu_record_otel(rec), *res;
    json_t *lr = only_record(otel, &res);
    json_t *back = hu_otel_record(lr, res);
    char *a = json_dumps(rec, JSON_SORT_KEYS), *b = json_dumps(back, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(rec, back), "round trip differs:\n  %s\n  %s", a, b);
    free(a), free(b);
    json_decref(back);
    json_decref(otel);
}

START_TEST(otel_round_trip)
{
    const char *events[] = {HOSTUP_EV_RETRY, HOSTUP_EV_GAVE_UP, HOSTUP_EV_RECOVERED};
    for (size_t i = 0; i < 3; i++) {
        hu_policy *p;
        json_t *rec = connect_record(events[i], &p);
        assert_round_trip(rec);
        json_decref(rec);
        hu_policy_free(p);
    }
    /* address only: server.address is the address, and no host comes back */
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8::5", &s6.sin6_addr);
    hu_event ev = {.event = HOSTUP_EV_GAVE_UP, .op = "connect", .addr = (const struct sockaddr *)&s6,
                   .port = 443, .err = ECONNREFUSED, .attempt = 4, .attempts = 4, .delay_ms = -1};
    json_t *rec = hu_record_new(&ev), *res;
    json_t *otel = hu_record_otel(rec);
    ck_assert_str_eq(sval(json_object_get(only_record(otel, &res), "attributes"), "server.address"), "2001:db8::5");
    json_decref(otel);
    assert_round_trip(rec);
    json_decref(rec);
    /* a lookup, with a service port */
    hu_event lk = {.event = HOSTUP_EV_RETRY, .op = "getaddrinfo", .host = "cache.internal", .port = 6379,
                   .eai = EAI_AGAIN, .attempt = 1, .attempts = 8, .delay_ms = 150, .elapsed_ms = 20};
    rec = hu_record_new(&lk);
    assert_round_trip(rec);
    json_decref(rec);
    /* a file call on a network volume, with its mount */
    hu_event fe = {.event = HOSTUP_EV_RETRY, .op = "read", .path = "/mnt/nfs/a", .fd = 7, .offset = 4096,
                   .err = ESTALE, .attempt = 1, .attempts = 10, .delay_ms = 200,
                   .mount_point = "/mnt/nfs", .mount_fstype = "nfs4", .mount_source = "srv:/export",
                   .mount_options = "rw,hard"};
    rec = hu_record_new(&fe);
    json_t *o2 = hu_record_otel(rec);
    ck_assert_str_eq(sval(json_object_get(only_record(o2, &res), "attributes"), "file.path"), "/mnt/nfs/a");
    ck_assert_str_eq(sval(json_object_get(only_record(o2, &res), "attributes"), "hostup.mount.fstype"), "nfs4");
    json_decref(o2);
    assert_round_trip(rec);
    json_decref(rec);
    /* a config error */
    rec = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:s, s:s}", "time", "2026-12-02T01:02:03.004Z",
                    "event", "config_error", "pid", 7, "program", "app", "source", "HOSTUP_POLICY",
                    "rule_number", 2, "column", 24, "text", "* attempts=abc", "reason", "bad");
    assert_round_trip(rec);
    json_decref(rec);
}
END_TEST

START_TEST(otel_service_name)
{
    hu_otel_set_service("billing");
    hu_policy *p;
    json_t *rec = connect_record(HOSTUP_EV_RETRY, &p), *res;
    json_t *otel = hu_record_otel(rec);
    only_record(otel, &res);
    ck_assert_str_eq(sval(json_object_get(res, "attributes"), "service.name"), "billing");
    hu_otel_set_service(NULL);
    json_decref(otel);
    json_decref(rec);
    hu_policy_free(p);
}
END_TEST

START_TEST(format_switch)
{
    ck_assert_int_eq(hu_log_set_format("otel"), 0);
    ck_assert_int_eq(hu_log_format(), HU_FORMAT_OTEL);
    ck_assert_int_eq(hu_log_set_format("xml"), -1);
    ck_assert_int_eq(hu_log_format(), HU_FORMAT_JSON);     /* unknown: the default */
    ck_assert_int_eq(hu_log_set_format("otel"), 0);
    ck_assert_int_eq(hu_log_set_format(NULL), 0);
    ck_assert_int_eq(hu_log_format(), HU_FORMAT_JSON);
    ck_assert_int_eq(hu_log_set_format(""), 0);
    ck_assert_int_eq(hu_log_set_format("json"), 0);
    ck_assert_int_eq(hu_log_format(), HU_FORMAT_JSON);

    /* a record of normal size is written whole, as json_dumps makes it */
    hu_policy *p;
    json_t *rec = connect_record(HOSTUP_EV_RETRY, &p);
    char *want = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t n;
    char *line = hu_record_line(rec, &n);
    ck_assert_uint_eq(n, strlen(want) + 1);
    ck_assert_int_eq(memcmp(line, want, n - 1), 0);
    ck_assert_int_eq(line[n - 1], '\n');
    ck_assert_ptr_null(json_object_get(rec, "truncated"));
    free(line), free(want);
    /* and in OTel form, one LogsData object on one line */
    hu_log_set_format("otel");
    line = hu_record_line(rec, &n);
    ck_assert_ptr_null(memchr(line, '\n', n - 1));
    json_t *j = json_loadb(line, n, 0, NULL);
    ck_assert(json_is_array(json_object_get(j, "resourceLogs")));
    json_decref(j);
    free(line);
    hu_log_set_format(NULL);
    json_decref(rec);
    hu_policy_free(p);
}
END_TEST

/* ---- the 16 KiB limit ------------------------------------------------------ */

static char *repeat(const char *unit, size_t times)
{
    size_t u = strlen(unit);
    char *s = malloc(u * times + 1);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * u, unit, u);
    s[u * times] = '\0';
    return s;
}

/* rec in both formats: every line < 16384 bytes, one line, valid JSON,
 * marked truncated, still saying what failed. */
static void assert_fits(json_t *(*make)(void))
{
    for (int fmt = 0; fmt < 2; fmt++) {
        hu_log_set_format(fmt ? "otel" : "json");
        json_t *rec = make();
        char *before = json_dumps(rec, JSON_COMPACT);
        ck_assert_uint_gt(strlen(before), 16384);   /* the case is a real one */
        free(before);
        size_t n;
        char *line = hu_record_line(rec, &n);
        ck_assert_ptr_nonnull(line);
        ck_assert_uint_lt(n, 16384);
        ck_assert_uint_le(n, HU_RECORD_MAX);
        ck_assert_int_eq(line[n - 1], '\n');
        ck_assert_ptr_null(memchr(line, '\n', n - 1));
        json_t *j = json_loadb(line, n - 1, 0, NULL);
        ck_assert_ptr_nonnull(j);
        json_t *plain = fmt ? NULL : json_incref(j);
        if (fmt) {
            json_t *res;
            json_t *lr = only_record(j, &res);
            assert_attribute_names(json_object_get(lr, "attributes"));
            plain = hu_otel_record(lr, res);
        }
        ck_assert(json_is_true(json_object_get(plain, "truncated")));
        ck_assert_str_eq(json_string_value(json_object_get(plain, "event")), "retry");
        ck_assert_str_eq(json_string_value(json_object_get(plain, "op")), "connect");
        ck_assert_str_eq(json_string_value(json_object_get(plain, "errno")), "EHOSTUNREACH");
        json_decref(plain);
        json_decref(j);
        free(line);
        json_decref(rec);
    }
    hu_log_set_format(NULL);
}

static hu_policy *big_policy;

static json_t *long_host(void)
{
    char *h = repeat("a", 100000);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
    hu_event ev = {.event = HOSTUP_EV_RETRY, .op = "connect", .host = h, .addr = (const struct sockaddr *)&sa,
                   .port = 80, .err = EHOSTUNREACH, .attempt = 1, .attempts = 2, .delay_ms = 10};
    json_t *rec = hu_record_new(&ev);
    free(h);
    return rec;
}

static json_t *long_rule(void)
{
    char *text = repeat("attempts=3 ", 5000);
    char *policy;
    ck_assert_int_gt(asprintf(&policy, "* %s", text), 0);
    hu_policy_free(big_policy);
    big_policy = hu_policy_parse(policy);
    ck_assert_uint_eq(big_policy->nrules, 1);       /* a valid rule, 55 KB long */
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
    hu_event ev = {.event = HOSTUP_EV_RETRY, .op = "connect", .addr = (const struct sockaddr *)&sa,
                   .port = 80, .err = EHOSTUNREACH, .attempt = 1, .attempts = 3, .delay_ms = 10,
                   .rule = &big_policy->rules[0]};
    free(text), free(policy);
    return hu_record_new(&ev);
}

/* 64 frames of long C++ names, and evidence full of control characters
 * (each written as \u00XX, six bytes for one) */
static json_t *deep_backtrace(void)
{
    hu_policy *p;
    json_t *rec = connect_record(HOSTUP_EV_RETRY, &p);
    hu_policy_free(p);
    json_object_set_new(rec, "rule", json_string("(defaults)"));
    json_t *bt = json_array();
    char *frame = repeat("std::vector<std::map<int, std::string>>::", 9);
    for (int i = 0; i < 64; i++)
        json_array_append_new(bt, json_string(frame));
    free(frame);
    json_object_set_new(rec, "backtrace", bt);
    char *ctl = repeat("\x01", 3000);
    json_object_set_new(json_object_get(json_object_get(rec, "diagnosis"), "evidence"), "icmp", json_string(ctl));
    free(ctl);
    return rec;
}

START_TEST(fit_long_host) { assert_fits(long_host); }
END_TEST
START_TEST(fit_long_rule) { assert_fits(long_rule); hu_policy_free(big_policy); big_policy = NULL; }
END_TEST
START_TEST(fit_deep_backtrace) { assert_fits(deep_backtrace); }
END_TEST

Suite *otel_suite(void)
{
    Suite *s = suite_create("otel");
    TCase *tc = tcase_create("otel");
    tcase_add_test(tc, otel_shape_retry);
    tcase_add_test(tc, otel_severity);
    tcase_add_test(tc, otel_round_trip);
    tcase_add_test(tc, otel_service_name);
    tcase_add_test(tc, format_switch);
    suite_add_tcase(s, tc);
    tc = tcase_create("record_size");
    tcase_add_test(tc, fit_long_host);
    tcase_add_test(tc, fit_long_rule);
    tcase_add_test(tc, fit_deep_backtrace);
    suite_add_tcase(s, tc);
    return s;
}
