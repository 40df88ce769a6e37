#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Validate a log written with HOSTUP_LOG_FORMAT=otel.

usage: otel_records.py FILE
Every line that starts with '{' must be one OTLP/JSON LogsData object
holding exactly one LogRecord, shaped as the OpenTelemetry log data model
and the OTLP/JSON encoding say (README, Records): resource attributes
service.name, process.pid, process.executable.name; times as decimal
strings of nanoseconds, near now; severityNumber/severityText by event
(retry WARN 13, gave_up ERROR 17, recovered INFO 9, config_error WARN 13);
attribute names from the semantic conventions or under "hostup."; every
value one AnyValue kind, 64-bit integers as decimal strings; the fields a
record of each event must carry.  Exit 1 with a message on the first fault;
else print "retry=N recovered=N gave_up=N config_error=N lines=N maxlen=N"."""
import json
import sys
import time

SEMCONV = {"server.address", "server.port", "network.peer.address", "network.peer.port",
           "error.type", "exception.message", "exception.stacktrace", "file.path"}
SEVERITY = {"retry": (13, "WARN"), "gave_up": (17, "ERROR"), "recovered": (9, "INFO"),
            "config_error": (13, "WARN")}
KINDS = {"stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue"}
CALL = ["server.address", "hostup.event", "hostup.op", "hostup.attempt", "hostup.attempts",
        "hostup.elapsed_ms", "hostup.rule"]


def fail(n, msg):
    print(f"otel_records.py: line {n}: {msg}", file=sys.stderr)
    sys.exit(1)


def any_value(n, key, v):
    if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in KINDS:
        fail(n, f"{key}: not one AnyValue kind: {v}")
    kind, x = next(iter(v.items()))
    if kind == "intValue" and not (isinstance(x, str) and x.lstrip("-").isdigit()):
        fail(n, f"{key}: intValue is not a decimal string: {x!r}")
    if kind == "stringValue" and not isinstance(x, str):
        fail(n, f"{key}: stringValue is not a string")
    if kind == "boolValue" and not isinstance(x, bool):
        fail(n, f"{key}: boolValue is not a boolean")
    if kind == "arrayValue":
        for e in x.get("values", []):
            any_value(n, key, e)
    if kind == "kvlistValue":
        for e in x.get("values", []):
            any_value(n, key + "." + e.get("key", "?"), e.get("value"))
    return x


def attributes(n, lst, what):
    if not isinstance(lst, list):
        fail(n, f"{what} attributes are not a list")
    out = {}
    for e in lst:
        if not isinstance(e, dict) or set(e) != {"key", "value"} or not isinstance(e["key"], str):
            fail(n, f"{what} attribute is not {{key, value}}: {e}")
        if e["key"] in out:
            fail(n, f"{what} attribute {e['key']} twice")
        out[e["key"]] = any_value(n, e["key"], e["value"])
    return out


def nanos(n, lr, field, now):
    v = lr.get(field)
    if not (isinstance(v, str) and v.isdigit()):
        fail(n, f"{field} is not a decimal string: {v!r}")
    if abs(int(v) / 1e9 - now) > 3600:
        fail(n, f"{field} {v} is not near now")


def main():
    path = sys.argv[1]
    counts = {k: 0 for k in SEVERITY}
    lines = maxlen = 0
    now = time.time()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            maxlen = max(maxlen, len(line.encode()))
            if not line.startswith("{"):
                continue
            lines += 1
            try:
                d = json.loads(line)
            except ValueError as e:
                fail(n, f"invalid JSON ({e})")
            if set(d) != {"resourceLogs"} or len(d["resourceLogs"]) != 1:
                fail(n, "not a LogsData object with one ResourceLogs")
            rl = d["resourceLogs"][0]
            res = attributes(n, rl.get("resource", {}).get("attributes"), "resource")
            for k in ("service.name", "process.pid", "process.executable.name"):
                if k not in res:
                    fail(n, f"resource lacks {k}")
            if len(rl.get("scopeLogs", [])) != 1:
                fail(n, "not one ScopeLogs")
            sl = rl["scopeLogs"][0]
            if sl.get("scope", {}).get("name") != "hostup":
                fail(n, "scope name is not hostup")
            if len(sl.get("logRecords", [])) != 1:
                fail(n, "not one LogRecord per line")
            lr = sl["logRecords"][0]
            nanos(n, lr, "timeUnixNano", now)
            nanos(n, lr, "observedTimeUnixNano", now)
            a = attributes(n, lr.get("attributes"), "record")
            for k in a:
                if k not in SEMCONV and not k.startswith("hostup."):
                    fail(n, f"attribute {k} is neither a semantic convention nor hostup.*")
            ev = a.get("hostup.event")
            if ev not in SEVERITY:
                fail(n, f"hostup.event {ev!r} unknown")
            counts[ev] += 1 + (int(a.get("hostup.suppressed", "0")) if ev == "retry" else 0)
            if (lr.get("severityNumber"), lr.get("severityText")) != SEVERITY[ev]:
                fail(n, f"{ev}: severity {lr.get('severityNumber')} {lr.get('severityText')}, "
                        f"want {SEVERITY[ev]}")
            if lr.get("eventName") != "hostup." + ev:
                fail(n, f"eventName {lr.get('eventName')!r}")
            if not isinstance(lr.get("body", {}).get("stringValue"), str):
                fail(n, "body is not a stringValue")
            if ev == "config_error":
                for k in ("hostup.source", "hostup.reason"):
                    if k not in a:
                        fail(n, f"config_error lacks {k}")
                continue
            for k in CALL:
                if k not in a:
                    fail(n, f"{ev} lacks {k}")
            if a["hostup.op"] == "connect":
                for k in ("server.port", "network.peer.address", "network.peer.port"):
                    if k not in a:
                        fail(n, f"connect {ev} lacks {k}")
            if ev != "recovered":
                for k in ("error.type", "exception.message", "hostup.diagnosis.layer",
                          "hostup.diagnosis.cause"):
                    if k not in a:
                        fail(n, f"{ev} lacks {k}")
                if not a["error.type"].startswith("E"):
                    fail(n, f"error.type is not a symbolic name: {a['error.type']}")
            if ev == "retry" and "hostup.delay_ms" not in a:
                fail(n, "retry lacks hostup.delay_ms")
    print(" ".join(f"{k}={v}" for k, v in counts.items()) + f" lines={lines} maxlen={maxlen}")


main()
