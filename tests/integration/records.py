#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Validate hostup records in a log and summarise them for shell tests.

usage: records.py FILE [--op OP] [--event EV] [--field NAME | --count]
Every line must be a JSON object with the documented fields; the exit
status is 1 with a message otherwise.  Prints "retry=N recovered=N gave_up=N
config_error=N" (after --op filtering; retries folded into a record's
"suppressed" count are counted); with --field the values of that field
from the records matching --event, one per line (null where a record lacks
it), and exit 1 when no record matches or none has the field: a lookup that
finds nothing fails, it never prints nothing; with --count the number of
records matching --event (0 allowed)."""
import json
import re
import sys

COMMON = {"time": str, "event": str, "pid": int, "program": str}
CALL = {"op": str, "attempt": int, "attempts": int, "elapsed_ms": int, "rule": str}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def fail(msg):
    print("records.py: " + msg, file=sys.stderr)
    sys.exit(1)


def check(rec, n):
    for k, t in COMMON.items():
        if not isinstance(rec.get(k), t):
            fail(f"line {n}: field {k} missing or not {t.__name__}: {rec}")
    if not TIME.match(rec["time"]):
        fail(f"line {n}: time is not RFC 3339 with ms: {rec['time']}")
    ev = rec["event"]
    if ev == "log_error":   # HOSTUP_LOG failed; records go to stderr
        for k in ("destination", "errno", "error"):
            if not isinstance(rec.get(k), str):
                fail(f"line {n}: log_error without {k}")
        return
    if ev == "config_error":
        for k in ("source", "reason"):
            if not isinstance(rec.get(k), str):
                fail(f"line {n}: config_error without {k}")
        return
    if ev == "readdressed":     # hosts that move: the name's new address
        for k in ("host", "addr", "old_addr"):
            if not isinstance(rec.get(k), str):
                fail(f"line {n}: readdressed without {k}: {rec}")
        if rec["addr"] == rec["old_addr"] or rec.get("op") != "connect":
            fail(f"line {n}: readdressed to the same address, or not a connect: {rec}")
    elif ev not in ("retry", "recovered", "gave_up", "probe_wait"):
        fail(f"line {n}: unknown event {ev}")
    for k, t in CALL.items():
        if not isinstance(rec.get(k), t):
            fail(f"line {n}: field {k} missing or not {t.__name__}: {rec}")
    if ev == "readdressed":
        return
    if ev in ("retry", "probe_wait") and not isinstance(rec.get("delay_ms"), int):
        fail(f"line {n}: {ev} without delay_ms")
    if ev == "gave_up" and "reason" in rec and rec["reason"] not in ("attempts", "deadline", "budget", "error", "no_network"):
        fail(f"line {n}: unknown gave_up reason {rec['reason']}")
    if "waited_ms" in rec and not (ev == "recovered" and isinstance(rec["waited_ms"], int) and rec["waited_ms"] > 0):
        fail(f"line {n}: waited_ms must be a positive integer on recovered")
    if ev != "recovered":
        if not re.match(r"^E[A-Z0-9_]+$", rec.get("errno", "")):
            fail(f"line {n}: errno is not a symbolic name: {rec.get('errno')}")
        if not isinstance(rec.get("error"), str):
            fail(f"line {n}: no error message")
        d = rec.get("diagnosis")
        if not isinstance(d, dict) or not {"layer", "cause", "evidence"} <= d.keys():
            fail(f"line {n}: diagnosis missing layer/cause/evidence: {d}")
    if "suppressed" in rec and not (isinstance(rec["suppressed"], int) and rec["suppressed"] > 0):
        fail(f"line {n}: suppressed must be a positive integer")
    if rec["op"] == "connect" and not ("addr" in rec and "port" in rec):
        fail(f"line {n}: connect record without addr/port")
    if "path" in rec:   # file calls on network volumes
        if not isinstance(rec["path"], str) or not rec["path"].startswith("/"):
            fail(f"line {n}: path is not absolute: {rec.get('path')}")
        m = rec.get("mount")
        if m is not None and not (isinstance(m, dict) and {"point", "fstype", "source", "options"} <= m.keys()):
            fail(f"line {n}: mount lacks point/fstype/source/options: {m}")
        if ev != "recovered" and rec["diagnosis"]["layer"] != "volume":
            fail(f"line {n}: a file call's diagnosis is not layer volume")


def main():
    args = sys.argv[1:]
    if not args:
        fail("usage: records.py FILE [--op OP] [--event EV] [--field NAME]")
    path = args[0]
    rest = [a for a in args[1:] if a != "--count"]
    opts = dict(zip(rest[0::2], rest[1::2]))
    recs = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    with f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.startswith("{"):
                continue        # the program's own stderr lines
            try:
                rec = json.loads(line)
            except ValueError as e:
                fail(f"line {n}: invalid JSON ({e}): {line[:200]}")
            check(rec, n)
            recs.append(rec)
    if "--op" in opts:
        recs = [r for r in recs if r.get("op") == opts["--op"] or r["event"] == "config_error"]
    if "--event" in opts:
        recs = [r for r in recs if r["event"] == opts["--event"]]
    if "--count" in args:
        print(len(recs))
        return
    if "--field" in opts:
        name = opts["--field"]
        what = f"{opts.get('--event', 'any')} record" + (f" with op {opts['--op']}" if "--op" in opts else "")
        if not recs:
            fail(f"{path}: no {what} (looking for its field {name})")
        if not any(name in r for r in recs):
            fail(f"{path}: no {what} has the field {name} ({len(recs)} records)")
        for r in recs:
            v = r.get(name)
            print(v if isinstance(v, str) else json.dumps(v))
        return
    counts = {k: sum(r["event"] == k for r in recs) for k in ("retry", "recovered", "gave_up", "config_error")}
    # a record with "suppressed": N stands for N more retries folded into it
    counts["retry"] += sum(r.get("suppressed", 0) for r in recs)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


try:
    main()
    sys.stdout.flush()
except BrokenPipeError:     # `| head -1`: the reader has what it wanted
    import os
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
