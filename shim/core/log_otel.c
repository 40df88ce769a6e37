/* SPDX-License-Identifier: MIT */
/* HOSTUP_LOG_FORMAT=otel: a record as an OpenTelemetry log record, and
 * back (hostup report reads both).
 *
 * Each line is one OTLP/JSON LogsData object holding one ResourceLogs, one
 * ScopeLogs and one LogRecord: the JSON-lines form of the OTLP file
 * exporter, which the Collector's otlpjsonfile receiver reads as it is.
 * OTLP/JSON rules followed: lowerCamelCase field names, 64-bit integers
 * (times, intValue) as decimal strings, severityNumber as a number,
 * attributes as a list of {key, value: AnyValue}.
 *
 * Mapping of the plain record (README, Records):
 *   time            -> timeUnixNano (the record's millisecond time)
 *   pid, program    -> resource process.pid, process.executable.name;
 *                      service.name is OTEL_SERVICE_NAME or
 *                      "unknown_service:<program>" (the SDK's default)
 *   event           -> eventName "hostup.<event>", severity, hostup.event
 *   host (else addr)-> server.address;  port -> server.port
 *   addr            -> network.peer.address (+ network.peer.port)
 *   path            -> file.path
 *   errno, error    -> error.type, exception.message
 *   backtrace       -> exception.stacktrace, frames joined by "\n"
 *   anything else   -> hostup.<name>; objects flattened with dots
 *                      (hostup.diagnosis.layer, hostup.diagnosis.evidence.env.dns),
 *                      arrays as arrayValue. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostup/hostup.h"
#include "log.h"

static char service_name[256];

void hu_otel_set_service(const char *name)
{
    snprintf(service_name, sizeof service_name, "%s", name ? name : "");
}

int hu_otel_severity(const char *event, const char **text)
{
    static const struct { const char *event, *text; int number; } map[] = {
        {HOSTUP_EV_RETRY, "WARN", 13},
        {HOSTUP_EV_GAVE_UP, "ERROR", 17},
        {HOSTUP_EV_CONFIG_ERROR, "WARN", 13},
        {HOSTUP_EV_RECOVERED, "INFO", 9},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (event && strcmp(event, map[i].event) == 0) {
            *text = map[i].text;
            return map[i].number;
        }
    *text = "INFO";     /* anything else hostup says is news, not trouble */
    return 9;
}

/* ---- encoding -------------------------------------------------------------- */

static json_t *any_value(json_t *v);

static json_t *int_value(json_int_t n)
{
    char b[32];
    snprintf(b, sizeof b, "%" JSON_INTEGER_FORMAT, n);
    return json_pack("{s:s}", "intValue", b);
}

static json_t *str_value(const char *s)
{
    return json_pack("{s:s?}", "stringValue", s ? s : "");
}

static json_t *array_value(json_t *arr)
{
    json_t *vals = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
        json_array_append_new(vals, any_value(e));
    return json_pack("{s:{s:o}}", "arrayValue", "values", vals);
}

static json_t *kv(const char *key, json_t *value)
{
    return json_pack("{s:s, s:o}", "key", key, "value", value);
}

/* AnyValue of a JSON value; objects become kvlistValue. */
static json_t *any_value(json_t *v)
{
    if (json_is_string(v))
        return str_value(json_string_value(v));
    if (json_is_integer(v))
        return int_value(json_integer_value(v));
    if (json_is_real(v))
        return json_pack("{s:f}", "doubleValue", json_real_value(v));
    if (json_is_boolean(v))
        return json_pack("{s:b}", "boolValue", json_is_true(v));
    if (json_is_array(v))
        return array_value(v);
    if (json_is_object(v)) {
        json_t *vals = json_array();
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
            json_array_append_new(vals, kv(k, any_value(e)));
        return json_pack("{s:{s:o}}", "kvlistValue", "values", vals);
    }
    return json_object();   /* null: an empty AnyValue */
}

/* Append name = v to attrs; objects are flattened into name.key. */
static void add_flat(json_t *attrs, const char *name, json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) == 0) {
        json_array_append_new(attrs, kv(name, any_value(v)));
        return;
    }
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) {
        char *sub;
        if (asprintf(&sub, "%s.%s", name, k) < 0)
            continue;
        add_flat(attrs, sub, e);
        free(sub);
    }
}

static long long record_ms(const char *t)
{
    struct tm tm = {0};
    int ms = 0;
    if (!t || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm) * 1000 + ms;
}

static json_t *nanos(long long ns)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", ns);
    return json_string(b);
}

/* "retry connect db:5432 (198.18.0.3): EHOSTUNREACH (No route to host)" */
static json_t *body_of(json_t *rec)
{
    const char *ev = json_string_value(json_object_get(rec, "event"));
    const char *op = json_string_value(json_object_get(rec, "op"));
    const char *host = json_string_value(json_object_get(rec, "host"));
    const char *addr = json_string_value(json_object_get(rec, "addr"));
    const char *path = json_string_value(json_object_get(rec, "path"));
    const char *err = json_string_value(json_object_get(rec, "errno"));
    const char *msg = json_string_value(json_object_get(rec, "error"));
    const char *reason = json_string_value(json_object_get(rec, "reason"));
    json_t *port = json_object_get(rec, "port");
    char b[600];
    int o = snprintf(b, sizeof b, "%s%s%s", ev ? ev : "?", op ? " " : "", op ? op : "");
    const char *who = path ? path : host ? host : addr;
    if (who && o < (int)sizeof b)
        o += snprintf(b + o, sizeof b - (size_t)o, " %.200s", who);
    if (!path && json_is_integer(port) && o < (int)sizeof b)
        o += snprintf(b + o, sizeof b - (size_t)o, ":%" JSON_INTEGER_FORMAT, json_integer_value(port));
    if (host && addr && strcmp(host, addr) != 0 && o < (int)sizeof b)
        o += snprintf(b + o, sizeof b - (size_t)o, " (%s)", addr);
    if (err && o < (int)sizeof b)
        o += snprintf(b + o, sizeof b - (size_t)o, ": %s (%.200s)", err, msg ? msg : "");
    if (reason && o < (int)sizeof b)
        snprintf(b + o, sizeof b - (size_t)o, ": %.300s", reason);
    return str_value(b);
}

/* The resource's attributes: the service, the process. */
static json_t *resource_attrs(json_t *rec)
{
    const char *prog = json_string_value(json_object_get(rec, "program"));
    json_t *res = json_array();
    char svc[300];
    if (service_name[0])
        snprintf(svc, sizeof svc, "%s", service_name);
    else
        snprintf(svc, sizeof svc, "unknown_service:%.256s", prog ? prog : "");
    json_array_append_new(res, kv("service.name", str_value(svc)));
    if (json_is_integer(json_object_get(rec, "pid")))
        json_array_append_new(res, kv("process.pid", int_value(json_integer_value(json_object_get(rec, "pid")))));
    if (prog)
        json_array_append_new(res, kv("process.executable.name", str_value(prog)));
    return res;
}

/* exception.stacktrace: the backtrace's frames joined by "\n". */
static void add_stacktrace(json_t *attrs, json_t *bt)
{
    size_t n = 0, i;
    json_t *f;
    json_array_foreach(bt, i, f)
        n += json_string_length(f) + 1;
    char *s = calloc(1, n + 1);
    if (!s)
        return;
    json_array_foreach(bt, i, f) {
        if (i)
            strcat(s, "\n");
        strcat(s, json_string_value(f) ? json_string_value(f) : "");
    }
    json_array_append_new(attrs, kv("exception.stacktrace", str_value(s)));
    free(s);
}

/* The log record's attributes: semantic-convention names where there are
 * some, hostup.<name> for the rest. */
static json_t *record_attrs(json_t *rec)
{
    const char *host = json_string_value(json_object_get(rec, "host"));
    const char *addr = json_string_value(json_object_get(rec, "addr"));
    json_t *port = json_object_get(rec, "port");
    json_t *attrs = json_array();
    if (host || addr)
        json_array_append_new(attrs, kv("server.address", str_value(host ? host : addr)));
    if (json_is_integer(port))
        json_array_append_new(attrs, kv("server.port", any_value(port)));
    if (addr) {
        json_array_append_new(attrs, kv("network.peer.address", str_value(addr)));
        if (json_is_integer(port))
            json_array_append_new(attrs, kv("network.peer.port", any_value(port)));
    }
    static const struct { const char *from, *to; } named[] = {
        {"path", "file.path"}, {"errno", "error.type"}, {"error", "exception.message"},
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        json_t *v = json_object_get(rec, named[i].from);
        if (v)
            json_array_append_new(attrs, kv(named[i].to, any_value(v)));
    }
    json_t *bt = json_object_get(rec, "backtrace");
    if (json_is_array(bt))
        add_stacktrace(attrs, bt);
    static const char *const mapped[] = {"time", "pid", "program", "host", "addr", "port", "path",
                                         "errno", "error", "backtrace"};
    const char *k;
    json_t *v;
    json_object_foreach(rec, k, v) {
        int skip = 0;
        for (size_t i = 0; i < sizeof mapped / sizeof mapped[0]; i++)
            skip |= strcmp(k, mapped[i]) == 0;
        if (skip)
            continue;
        char name[128];
        snprintf(name, sizeof name, "hostup.%s", k);
        add_flat(attrs, name, v);
    }
    return attrs;
}

json_t *hu_record_otel(json_t *rec)
{
    const char *ev = json_string_value(json_object_get(rec, "event"));
    const char *sev_text;
    int sev = hu_otel_severity(ev, &sev_text);
    json_t *res = resource_attrs(rec), *attrs = record_attrs(rec);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long ms = record_ms(json_string_value(json_object_get(rec, "time")));
    long long observed = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    char evname[64];
    snprintf(evname, sizeof evname, "hostup.%.40s", ev ? ev : "unknown");
    json_t *lr = json_object();
    json_object_set_new(lr, "timeUnixNano", nanos(ms >= 0 ? ms * 1000000LL : observed));
    json_object_set_new(lr, "observedTimeUnixNano", nanos(observed));
    json_object_set_new(lr, "severityNumber", json_integer(sev));
    json_object_set_new(lr, "severityText", json_string(sev_text));
    json_object_set_new(lr, "eventName", json_string(evname));
    json_object_set_new(lr, "body", body_of(rec));
    json_object_set_new(lr, "attributes", attrs);
    return json_pack("{s:[{s:{s:o}, s:[{s:{s:s, s:s}, s:[o]}]}]}", "resourceLogs", "resource",
                     "attributes", res, "scopeLogs", "scope", "name", "hostup", "version",
                     HOSTUP_VERSION, "logRecords", lr);
}

/* ---- decoding (hostup report) ---------------------------------------------- */

static json_t *plain_value(json_t *any);

static json_t *plain_list(json_t *values, int kvlist)
{
    json_t *out = kvlist ? json_object() : json_array();
    size_t i;
    json_t *e;
    json_array_foreach(values, i, e) {
        if (!kvlist)
            json_array_append_new(out, plain_value(e));
        else if (json_string_value(json_object_get(e, "key")))
            json_object_set_new(out, json_string_value(json_object_get(e, "key")),
                                plain_value(json_object_get(e, "value")));
    }
    return out;
}

/* A JSON value of an AnyValue. */
static json_t *plain_value(json_t *any)
{
    json_t *v;
    if ((v = json_object_get(any, "stringValue")))
        return json_incref(v);
    if ((v = json_object_get(any, "intValue"))) {
        if (json_is_integer(v))
            return json_incref(v);
        const char *s = json_string_value(v);
        char *end;
        long long n = s ? strtoll(s, &end, 10) : 0;
        return s && *s && !*end ? json_integer(n) : json_null();
    }
    if ((v = json_object_get(any, "doubleValue")))
        return json_incref(v);
    if ((v = json_object_get(any, "boolValue")))
        return json_incref(v);
    if ((v = json_object_get(any, "arrayValue")))
        return plain_list(json_object_get(v, "values"), 0);
    if ((v = json_object_get(any, "kvlistValue")))
        return plain_list(json_object_get(v, "values"), 1);
    return json_null();
}

/* rec[a][b][c] = v for the dotted name "a.b.c". */
static void set_dotted(json_t *rec, const char *name, json_t *v)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", name);
    json_t *at = rec;
    char *part = buf, *dot;
    while ((dot = strchr(part, '.'))) {
        *dot = '\0';
        json_t *next = json_object_get(at, part);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_set_new(at, part, next);
        }
        at = next;
        part = dot + 1;
    }
    json_object_set_new(at, part, v);
}

static json_t *attr_get(json_t *attrs, const char *key)
{
    size_t i;
    json_t *e;
    json_array_foreach(attrs, i, e)
        if (json_is_string(json_object_get(e, "key")) &&
            strcmp(json_string_value(json_object_get(e, "key")), key) == 0)
            return json_object_get(e, "value");
    return NULL;
}

json_t *hu_otel_record(json_t *lr, json_t *resource)
{
    json_t *attrs = json_object_get(lr, "attributes");
    if (!json_is_object(lr) || !json_is_array(attrs))
        return NULL;
    json_t *rec = json_object();
    /* the time: "YYYY-MM-DDTHH:MM:SS.mmmZ" as in plain records */
    json_t *tn = json_object_get(lr, "timeUnixNano");
    long long ns = json_is_integer(tn) ? json_integer_value(tn)
                 : json_is_string(tn) ? strtoll(json_string_value(tn), NULL, 10) : 0;
    if (ns > 0) {
        time_t s = (time_t)(ns / 1000000000LL);
        struct tm tm;
        char t[64];
        gmtime_r(&s, &tm);
        snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ns / 1000000 % 1000));
        json_object_set_new(rec, "time", json_string(t));
    }
    json_t *rattrs = json_object_get(resource, "attributes"), *v;
    if ((v = attr_get(rattrs, "process.pid")))
        json_object_set_new(rec, "pid", plain_value(v));
    if ((v = attr_get(rattrs, "process.executable.name")))
        json_object_set_new(rec, "program", plain_value(v));

    json_t *server = attr_get(attrs, "server.address"), *peer = attr_get(attrs, "network.peer.address");
    /* server.address is the address itself when no name was known */
    if (server && !(peer && json_equal(server, peer)))
        json_object_set_new(rec, "host", plain_value(server));
    if (peer)
        json_object_set_new(rec, "addr", plain_value(peer));
    if ((v = attr_get(attrs, "server.port")) || (v = attr_get(attrs, "network.peer.port")))
        json_object_set_new(rec, "port", plain_value(v));
    static const struct { const char *from, *to; } named[] = {
        {"file.path", "path"}, {"error.type", "errno"}, {"exception.message", "error"},
    };
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if ((v = attr_get(attrs, named[i].from)))
            json_object_set_new(rec, named[i].to, plain_value(v));
    if ((v = attr_get(attrs, "exception.stacktrace")) && json_string_value(json_object_get(v, "stringValue"))) {
        char *s = strdup(json_string_value(json_object_get(v, "stringValue")));
        json_t *frames = json_array();
        char *save = NULL;
        for (char *f = s ? strtok_r(s, "\n", &save) : NULL; f; f = strtok_r(NULL, "\n", &save))
            json_array_append_new(frames, json_string(f));
        free(s);
        json_object_set_new(rec, "backtrace", frames);
    }
    size_t i;
    json_t *e;
    json_array_foreach(attrs, i, e) {
        const char *key = json_string_value(json_object_get(e, "key"));
        if (key && strncmp(key, "hostup.", 7) == 0 && key[7])
            set_dotted(rec, key + 7, plain_value(json_object_get(e, "value")));
    }
    if (!json_object_get(rec, "event")) {     /* a record from another writer */
        const char *name = json_string_value(json_object_get(lr, "eventName"));
        if (name && strncmp(name, "hostup.", 7) == 0)
            json_object_set_new(rec, "event", json_string(name + 7));
    }
    return rec;
}
