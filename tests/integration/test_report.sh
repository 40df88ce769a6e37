#!/bin/bash
# SPDX-License-Identifier: MIT
# hostup report: per-target summary of a recorded log with figures known in
# advance (counted by hand below, not recomputed), table and --json forms,
# the same figures from docker's json-file log, `docker logs --timestamps`
# output, a mix of them and OTel lines, exit codes, colour rules, and a few
# hundred thousand lines.  No root needed.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_cmd "$HU_PY"
H=$HU_BUILD/hostup
[[ -x $H ]] || hu_fail "missing $H (make cli)"
LOG=$HU_TMP/records.jsonl

# --- the recorded log: 3432 records, 6 junk lines, 1 blank line, shuffled.
#
# db:5432 (connect, host known):
#   retry, cause X (layer route):    2200 records
#   retry, cause Y (layer firewall):  800 records, 300 of them "suppressed": 5
#   gave_up, cause Y:                  20 records,   4 of them "suppressed": 10
#   recovered: 200 records, elapsed_ms 10, 20, ..., 2000
#   retries  = 2200 + 800 + 300*5 + 4*10 = 4540  (folded retries count,
#              also those carried by a gave_up record)
#   failures = 4540 + 20 = 4560; suppressed = 1540; records = 3220
#   cause: X 2200 records, Y 820 records but weighs 800+1500 + 20+40 = 2360
#   p50: rank ceil(0.50*200) = 100 -> 1000;  p99: rank ceil(0.99*200) = 198 -> 1980
#   first 06:00:00.123, last 07:00:00.999 (both in the middle of the file)
# [2001:db8::5]:443 (connect, address only): 150 retry (layer host, a long
#   cause); recovered elapsed_ms 5 1 9 3 7 2 8 -> sorted 1 2 3 5 7 8 9:
#   p50 rank ceil(3.5) = 4 -> 5; p99 rank ceil(6.93) = 7 -> 9; records 157
# cache.internal (getaddrinfo) (lookup with a service port): 40 retry (one of
#   them after the program's unterminated output on the same line), 3 gave_up,
#   recovered 100 400 300 200 -> p50 rank 2 -> 200, p99 rank 4 -> 400;
#   failures 43, records 47
# /run/app.sock (file): 5 retry (one with CRLF), no recovery: p50/p99 null
# plus 2 config_error records, 1 record of an unknown event, 6 junk lines.
"$HU_PY" - "$LOG" <<'EOF' || hu_fail "generating the log"
import json, random, sys
rnd = random.Random(7)
X = ("route", "ICMP host unreachable from a router (10.1.0.1)")
Y = ("firewall", "the target itself answered ICMP host unreachable: a firewall on it rejects the port")
V6 = ("host", "on-link host does not answer ARP/ND: the host is down or its address is wrong "
              "(no reply to neighbour solicitations)")
DNS = ("dns", "DNS server failure (SERVFAIL or refused)")
FILE = ("host", "the path does not exist yet")

def t(sec, ms):
    return "2026-11-28T%02d:%02d:%02d.%03dZ" % (6 + sec // 3600, sec // 60 % 60, sec % 60, ms)

def rec(event, where, cause=None, suppressed=0, elapsed=None, when=None):
    r = {"time": when or t(rnd.randrange(1, 3599), rnd.randrange(1000)), "event": event,
         "pid": 4242, "program": "app"}
    r.update(where)
    if event != "recovered":
        r.update(errno="EHOSTUNREACH", error="No route to host")
    r.update(attempt=2, attempts=20)
    if event == "retry":
        r["delay_ms"] = 200
    r["elapsed_ms"] = elapsed if elapsed is not None else 50
    r["rule"] = "(defaults)"
    if cause:
        r["diagnosis"] = {"layer": cause[0], "cause": cause[1], "evidence": {}, "checklist": [4],
                          "next": "ip route get 198.18.0.2"}
    if suppressed:
        r["suppressed"] = suppressed
    return json.dumps(r)

db = {"op": "connect", "host": "db", "addr": "198.18.0.2", "port": 5432}
v6 = {"op": "connect", "addr": "2001:db8::5", "port": 443}
gai = {"op": "getaddrinfo", "host": "cache.internal", "port": 6379}
fs = {"op": "open", "path": "/run/app.sock"}
lines = []
lines += [rec("retry", db, X) for _ in range(2200)]
lines += [rec("retry", db, Y, suppressed=5 if i < 300 else 0) for i in range(800)]
lines += [rec("gave_up", db, Y, suppressed=10 if i < 4 else 0) for i in range(20)]
lines += [rec("recovered", db, elapsed=10 * i) for i in range(2, 200)]
lines += [rec("recovered", db, elapsed=10, when=t(0, 123)), rec("recovered", db, elapsed=2000, when=t(3600, 999))]
lines += [rec("retry", v6, V6) for _ in range(150)]
lines += [rec("recovered", v6, elapsed=e) for e in (5, 1, 9, 3, 7, 2, 8)]
lines += [rec("retry", gai, DNS) for _ in range(39)]
lines += ["connecting to the cache..." + rec("retry", gai, DNS)]
lines += [rec("gave_up", gai, DNS) for _ in range(3)]
lines += [rec("recovered", gai, elapsed=e) for e in (100, 400, 300, 200)]
lines += [rec("retry", fs, FILE) for _ in range(4)] + [rec("retry", fs, FILE) + "\r"]
for i in (1, 2):
    lines.append(json.dumps({"time": t(10, 0), "event": "config_error", "pid": 1, "program": "app",
                             "source": "HOSTUP_POLICY", "rule_number": i, "reason": "bad"}))
lines.append(json.dumps({"time": t(10, 0), "event": "hello", "pid": 1, "program": "app"}))
lines += ["Traceback (most recent call last):", "{broken", "[1, 2]", "42",
          "  File \"app.py\", line 3, in <module>", 'plain text {"a": 1}', ""]
rnd.shuffle(lines)
with open(sys.argv[1], "w") as f:
    f.write("\n".join(lines) + "\n")
EOF
n=$(wc -l <"$LOG")
hu_assert_ge "$n" 3000 "the log has a few thousand lines"

# --- --json: every figure
"$H" report --json "$LOG" >"$HU_TMP/out.json" 2>"$HU_TMP/err"
hu_assert_eq 0 "$?" "report --json exits 0"
hu_assert_eq "" "$(<"$HU_TMP/err")" "report --json writes nothing to stderr"
"$HU_PY" - "$HU_TMP/out.json" <<'EOF' || hu_fail "--json figures (see above)"
import json, sys
got = json.load(open(sys.argv[1]))
Y = "the target itself answered ICMP host unreachable: a firewall on it rejects the port"
V6 = ("on-link host does not answer ARP/ND: the host is down or its address is wrong "
      "(no reply to neighbour solicitations)")
want = {
    "records": 3432, "skipped_lines": 6, "config_errors": 2, "other_records": 1,
    "targets": [
        {"target": "db:5432", "kind": "connect", "ops": ["connect"], "host": "db", "port": 5432,
         "records": 3220, "failures": 4560, "retries": 4540, "recovered": 200, "gave_up": 20,
         "suppressed": 1540, "p50_ms": 1000, "p99_ms": 1980, "layer": "firewall", "cause": Y,
         "cause_count": 2360, "first": "2026-11-28T06:00:00.123Z", "last": "2026-11-28T07:00:00.999Z"},
        {"target": "[2001:db8::5]:443", "kind": "connect", "ops": ["connect"], "addr": "2001:db8::5",
         "port": 443, "records": 157, "failures": 150, "retries": 150, "recovered": 7, "gave_up": 0,
         "suppressed": 0, "p50_ms": 5, "p99_ms": 9, "layer": "host", "cause": V6, "cause_count": 150},
        {"target": "cache.internal (getaddrinfo)", "kind": "lookup", "ops": ["getaddrinfo"],
         "host": "cache.internal", "records": 47, "failures": 43, "retries": 40, "recovered": 4,
         "gave_up": 3, "suppressed": 0, "p50_ms": 200, "p99_ms": 400, "layer": "dns",
         "cause": "DNS server failure (SERVFAIL or refused)", "cause_count": 43},
        {"target": "/run/app.sock", "kind": "file", "ops": ["open"], "path": "/run/app.sock",
         "records": 5, "failures": 5, "retries": 5, "recovered": 0, "gave_up": 0, "suppressed": 0,
         "p50_ms": None, "p99_ms": None, "layer": "host", "cause": "the path does not exist yet",
         "cause_count": 5},
    ],
}
bad = []
for k in ("records", "skipped_lines", "config_errors", "other_records"):
    if got.get(k) != want[k]:
        bad.append(f"{k}: want {want[k]!r}, got {got.get(k)!r}")
names = [t.get("target") for t in got.get("targets", [])]
if names != [t["target"] for t in want["targets"]]:
    bad.append(f"targets/order: got {names}")
else:
    for w, g in zip(want["targets"], got["targets"]):
        for k, v in w.items():
            if g.get(k, "(absent)") != v:
                bad.append(f"{w['target']}: {k}: want {v!r}, got {g.get(k, '(absent)')!r}")
        for k in ("first", "last"):  # times are random inside 06:00..07:00
            if not (isinstance(g.get(k), str) and "2026-11-28T06:00:00.123Z" <= g[k] <= "2026-11-28T07:00:00.999Z"):
                bad.append(f"{w['target']}: {k}: {g.get(k)!r}")
for b in bad:
    print("  " + b, file=sys.stderr)
print(f"checked {sum(len(t) for t in want['targets']) + 4} figures")
sys.exit(1 if bad else 0)
EOF
hu_ok "--json: every figure of 4 targets and the totals, failures order"

# --- the same log in every form a container gives: the same figures.
# LOG2 is LOG plus what only containers make: a 40000-byte line of the
# program's own output, and a record longer than 16 KiB (a hand-made
# 20000-byte cause; hostup's own stay under 16 KiB), which docker cuts into
# partial json-file entries, interleaved with stdout's.
LOG2=$HU_TMP/records2.jsonl
"$HU_PY" - "$LOG" "$LOG2" "$HU_TMP" <<'EOF' || hu_fail "converting the log"
import json, sys
src, dst, tmp = sys.argv[1:4]
lines = open(src).read().split("\n")[:-1]
big = json.dumps({"time": "2026-11-28T06:30:00.000Z", "event": "gave_up", "pid": 1, "program": "app",
                  "op": "connect", "host": "huge", "port": 1, "errno": "ETIMEDOUT", "error": "x",
                  "attempt": 1, "attempts": 1, "elapsed_ms": 1,
                  "diagnosis": {"layer": "firewall", "cause": "c" * 20000}})
mid = len(lines) // 2                 # in the json-file third of mixed.txt too
lines[mid:mid] = ["o" * 40000, big]

def stamp(i):
    return "2026-12-02T01:%02d:%02d.%09dZ" % (i // 60 % 60, i % 60, i * 7919 % 10**9)

inserted = 0
def json_file(ls, start=0):
    # docker's json-file driver: one entry per line, cut every 16 KiB; the
    # program's own lines on stdout, records on stderr; a stdout line comes
    # between the parts of a cut stderr line
    global inserted
    out = []
    for n, l in enumerate(ls, start):
        stream = "stderr" if l.startswith("{") else "stdout"
        data = l + "\n"
        parts = [data[i:i + 16384] for i in range(0, len(data), 16384)]
        for k, part in enumerate(parts):
            out.append(json.dumps({"log": part, "stream": stream, "time": stamp(n)}))
            if k == 0 and len(parts) > 1 and stream == "stderr":
                out.append(json.dumps({"log": "progress 50%\n", "stream": "stdout", "time": stamp(n)}))
                inserted += 1
    return out

third = len(lines) // 3
docker = json_file(lines)                       # /var/lib/docker/containers/ID/ID-json.log
mixed = lines[:third] + json_file(lines[third:2 * third], third) + \
        [stamp(n) + " " + l for n, l in enumerate(lines[2 * third:])]
with open(tmp + "/docker.json", "w") as f:
    f.write("\n".join(docker) + "\n")
with open(tmp + "/docker_logs_t.txt", "w") as f:     # docker logs --timestamps
    f.write("".join(stamp(n) + " " + l + "\n" for n, l in enumerate(lines + ["progress 50%"])))
with open(tmp + "/mixed.txt", "w") as f:             # all three in one input
    f.write("\n".join(mixed) + "\n")
# the stdout lines put between cut parts are program output: the plain log
# has them too (one from docker.json, one from mixed.txt's json-file third)
with open(dst, "w") as f:
    f.write("\n".join(lines) + "\n" + "progress 50%\n" * (inserted // 2))
EOF
"$H" report --json "$LOG2" >"$HU_TMP/plain.json" || hu_fail "report on the plain log"
extra=$("$HU_PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
big = [t for t in d["targets"] if t["target"] == "huge:1"]
print(d["records"], d["skipped_lines"], big[0]["gave_up"] if big else None, len(big[0]["cause"]) if big else None)' "$HU_TMP/plain.json")
hu_assert_eq "3433 8 1 20000" "$extra" "plain log plus a 40000-byte line and a 20000-byte record: counted"
for form in docker.json docker_logs_t.txt mixed.txt; do
	"$H" report --json "$HU_TMP/$form" >"$HU_TMP/$form.out" 2>"$HU_TMP/err" || hu_fail "report on $form"
	cmp -s "$HU_TMP/plain.json" "$HU_TMP/$form.out" ||
		hu_fail "$form gives other figures: $(diff "$HU_TMP/plain.json" "$HU_TMP/$form.out" | head -20)"
	hu_ok "$form: the same report --json as the plain log, byte for byte"
done
n=$(grep -c '"log"' "$HU_TMP/docker.json")
hu_assert_gt "$n" "$(wc -l <"$LOG2")" "json-file: the long lines came as several entries ($n entries)"
[[ $(env -u COLUMNS "$H" report "$HU_TMP/mixed.txt") == "$(env -u COLUMNS "$H" report "$LOG2")" ]] ||
	hu_fail "mixed input: the table differs"
hu_ok "mixed input: the same table"

# --- HOSTUP_LOG_FORMAT=otel lines: the same figures.  The log is turned into
# OTLP/JSON LogsData lines by the mapping README's Records section documents.
"$HU_PY" - "$LOG" "$HU_TMP/otel.jsonl" <<'EOF' || hu_fail "converting to OTel"
import calendar, json, sys, time
def anyv(v):
    if isinstance(v, bool): return {"boolValue": v}
    if isinstance(v, int): return {"intValue": str(v)}
    if isinstance(v, float): return {"doubleValue": v}
    if isinstance(v, list): return {"arrayValue": {"values": [anyv(x) for x in v]}}
    if isinstance(v, dict): return {"kvlistValue": {"values": [{"key": k, "value": anyv(x)} for k, x in v.items()]}}
    return {"stringValue": v}
def flat(name, v, out):
    if isinstance(v, dict) and v:
        for k, x in v.items(): flat(name + "." + k, x, out)
    else:
        out.append({"key": name, "value": anyv(v)})
out = open(sys.argv[2], "w")
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        r = None
    if not isinstance(r, dict):
        out.write(line)                 # the program's own lines stay
        continue
    a, res = [], [{"key": "service.name", "value": anyv("unknown_service:" + r.get("program", ""))}]
    if "pid" in r: res.append({"key": "process.pid", "value": anyv(r["pid"])})
    if "program" in r: res.append({"key": "process.executable.name", "value": anyv(r["program"])})
    if "host" in r or "addr" in r: a.append({"key": "server.address", "value": anyv(r.get("host", r.get("addr")))})
    if "port" in r: a.append({"key": "server.port", "value": anyv(r["port"])})
    if "addr" in r:
        a.append({"key": "network.peer.address", "value": anyv(r["addr"])})
        if "port" in r: a.append({"key": "network.peer.port", "value": anyv(r["port"])})
    for k, o in (("path", "file.path"), ("errno", "error.type"), ("error", "exception.message")):
        if k in r: a.append({"key": o, "value": anyv(r[k])})
    for k, v in r.items():
        if k not in ("time", "pid", "program", "host", "addr", "port", "path", "errno", "error", "backtrace"):
            flat("hostup." + k, v, a)
    t = r["time"]
    ns = (calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(t[20:23])) * 10**6
    sev = {"retry": (13, "WARN"), "gave_up": (17, "ERROR"), "config_error": (13, "WARN")}.get(r["event"], (9, "INFO"))
    lr = {"timeUnixNano": str(ns), "observedTimeUnixNano": str(ns), "severityNumber": sev[0],
          "severityText": sev[1], "eventName": "hostup." + r["event"], "body": anyv(r["event"]), "attributes": a}
    out.write(json.dumps({"resourceLogs": [{"resource": {"attributes": res}, "scopeLogs": [
        {"scope": {"name": "hostup", "version": "0.1.0"}, "logRecords": [lr]}]}]}) + "\n")
EOF
"$H" report --json "$LOG" >"$HU_TMP/plain1.json"
"$H" report --json "$HU_TMP/otel.jsonl" >"$HU_TMP/otel.out" || hu_fail "report on OTel lines"
cmp -s "$HU_TMP/plain1.json" "$HU_TMP/otel.out" ||
	hu_fail "OTel lines give other figures: $(diff "$HU_TMP/plain1.json" "$HU_TMP/otel.out" | head -20)"
hu_ok "OTel lines: the same report --json as the plain log"

# --- the table: rows in order, figures, alignment, no colour when piped
out=$(env -u COLUMNS "$H" report "$LOG")
hu_assert_eq 0 "$?" "report exits 0"
[[ $out != *$'\033'* ]] || hu_fail "escape codes in piped output"
hu_ok "table: no escape codes when piped"
flat=$(tr -s ' ' <<<"$out")
hu_assert_eq "TARGET FAIL RETRY RECOV GAVEUP P50_MS P99_MS LAYER CAUSE FIRST LAST" "$(head -n1 <<<"$flat")" "table: header"
hu_assert_contains "$(sed -n 2p <<<"$flat")" \
	"db:5432 4560 4540 200 20 1000 1980 firewall the target itself answered ICMP host unreachable: a firewall on it rejects the port 06:00:00.123 07:00:00.999" \
	"table: row 1 (most failures)"
hu_assert_contains "$(sed -n 3p <<<"$flat")" "[2001:db8::5]:443 150 150 7 0 5 9 host on-link host does not answer ARP/ND" "table: row 2"
hu_assert_contains "$(sed -n 4p <<<"$flat")" "cache.internal (getaddrinfo) 43 40 4 3 200 400 dns DNS server failure (SERVFAIL or refused)" "table: row 3"
hu_assert_contains "$(sed -n 5p <<<"$flat")" "/run/app.sock 5 5 0 0 - - host the path does not exist yet" "table: row 4"
hu_assert_eq "3432 records, 4 targets, 2 config errors, 6 other lines skipped, 1 other record; times UTC on 2026-11-28" \
	"$(sed -n 6p <<<"$out")" "table: footer"
hu_assert_eq 6 "$(wc -l <<<"$out")" "table: header, 4 rows, footer"
# aligned: every row's FIRST starts under the header's FIRST, numbers end under their header
printf '%s\n' "$out" >"$HU_TMP/table.txt"
"$HU_PY" - "$HU_TMP/table.txt" <<'EOF' || hu_fail "table columns are not aligned"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
head, rows = lines[0], lines[1:5]
ok = True
for r in rows:
    m = re.search(r"\d\d:\d\d:\d\d\.\d{3}", r)
    ok &= m is not None and m.start() == head.index("FIRST")
    ok &= r[head.index("FAIL") + 3] != " " and r[head.index("P99_MS") + 5] not in " "
    ok &= r[head.index("LAYER")] != " " and r[head.index("LAYER") - 1] == " "
sys.exit(0 if ok else 1)
EOF
hu_ok "table: columns aligned"

# stdin: "-" and no FILE give the same output
[[ $(env -u COLUMNS "$H" report - <"$LOG") == "$out" ]] || hu_fail "report - differs from report FILE"
hu_ok "table: FILE - reads stdin"
[[ $(env -u COLUMNS "$H" report <"$LOG") == "$out" ]] || hu_fail "report <FILE differs from report FILE"
hu_ok "table: no FILE reads stdin"

# cause truncated to fit COLUMNS; other columns intact
out=$(COLUMNS=140 "$H" report "$LOG")
long=$(awk 'length($0) > 140' <<<"$out" | grep -v '^3432 records')
hu_assert_eq "" "$long" "COLUMNS=140: no table line longer than 140"
hu_assert_contains "$(sed -n 2p <<<"$out" | tr -s ' ')" "db:5432 4560 4540 200 20 1000 1980 firewall the target" "COLUMNS=140: figures kept"
hu_assert_contains "$(sed -n 3p <<<"$out" | tr -s ' ')" "on-link host does not ans... 06:00" "COLUMNS=140: long cause cut with ..."

# --- colour: only on a terminal, never with NO_COLOR
if hu_have_cmd "TTY colour checks" script; then
	tty_out=$(env -u NO_COLOR script -qec "$H report $LOG" /dev/null)
	hu_assert_contains "$tty_out" $'\033[1mTARGET' "TTY: bold header"
	hu_assert_contains "$tty_out" $'\033[31m20\033[0m' "TTY: gave_up in red"
	tty_out=$(NO_COLOR=1 script -qec "$H report $LOG" /dev/null)
	[[ $tty_out != *$'\033'* ]] || hu_fail "escape codes on a TTY with NO_COLOR"
	hu_ok "TTY with NO_COLOR: no escape codes"
fi

# --- dates: several days show the full date
printf '%s\n' '{"time":"2026-11-27T23:59:59.900Z","event":"retry","op":"connect","addr":"10.0.0.1","port":80}' \
	'{"time":"2026-11-28T00:00:01.100Z","event":"gave_up","op":"connect","addr":"10.0.0.1","port":80}' >"$HU_TMP/days.jsonl"
out=$("$H" report "$HU_TMP/days.jsonl")
hu_assert_contains "$(tr -s ' ' <<<"$out")" "10.0.0.1:80 2 1 0 1 - - - - 2026-11-27 23:59:59 2026-11-28 00:00:01" "two days: full dates"

# --- no records
: >"$HU_TMP/empty.jsonl"
out=$("$H" report "$HU_TMP/empty.jsonl")
hu_assert_eq 0 "$?" "empty log exits 0"
hu_assert_eq "no hostup records" "$(head -n 1 <<<"$out")" "empty log: no hostup records"
printf 'hello\n\nworld {\n' >"$HU_TMP/junk.jsonl"
out=$("$H" report "$HU_TMP/junk.jsonl")
hu_assert_eq $'no hostup records\n2 other lines skipped' "$(head -n 2 <<<"$out")" "junk only: no records, 2 skipped"
# and why there might be none (issue 19)
hu_assert_contains "$out" "None means that"$'\n'"nothing failed, or that what failed was not retryable by the policy" "no records: nothing failed, or not retryable"
hu_assert_contains "$out" "retry_on=+ECONNREFUSED" "no records: how to retry a refused connection"
out=$("$H" report --json "$HU_TMP/junk.jsonl" | "$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["targets"], d["records"], d["skipped_lines"], d["config_errors"])')
hu_assert_eq "[] 0 2 0" "$out" "junk only --json"

# --- usage and errors
out=$("$H" report --help)
hu_assert_eq 0 "$?" "--help exits 0"
hu_assert_contains "$out" "usage: hostup report [--json] [FILE|-]" "--help prints usage"
"$H" report --bogus "$LOG" >/dev/null 2>"$HU_TMP/err"
hu_assert_eq 64 "$?" "unknown option exits 64"
hu_assert_contains "$(<"$HU_TMP/err")" "unknown option '--bogus'" "unknown option named"
"$H" report "$LOG" "$LOG" >/dev/null 2>&1
hu_assert_eq 64 "$?" "two FILEs exit 64"
(cd "$HU_TMP" && "$H" report nope.log >/dev/null 2>err)
hu_assert_eq 66 "$?" "missing file exits 66"
hu_assert_eq "hostup: nope.log: No such file or directory" "$(<"$HU_TMP/err")" "missing file message"
"$H" report "$HU_TMP" >/dev/null 2>"$HU_TMP/err"
hu_assert_eq 66 "$?" "a directory exits 66"
hu_assert_contains "$(<"$HU_TMP/err")" "Is a directory" "a directory: message"

# --- a few hundred thousand lines, 100000 targets: linear, exact
"$HU_PY" - "$HU_TMP/big.jsonl" <<'EOF' || hu_fail "generating big.jsonl"
import sys
with open(sys.argv[1], "w") as f:
    for i in range(300000):
        t = i % 100000
        ev = "recovered" if i >= 200000 else "retry"
        f.write('{"time":"2026-11-28T06:00:00.000Z","event":"%s","op":"connect","addr":"10.%d.%d.%d",'
                '"port":80,"elapsed_ms":%d,"diagnosis":{"layer":"route","cause":"c%d"}}\n'
                % (ev, t >> 16, (t >> 8) & 255, t & 255, t % 1000, t % 7))
EOF
t0=${EPOCHREALTIME/[.,]/}
out=$("$H" report --json "$HU_TMP/big.jsonl" | "$HU_PY" -c '
import json, sys
d = json.load(sys.stdin)
ts = d["targets"]
print(d["records"], len(ts), sum(t["retries"] for t in ts), sum(t["recovered"] for t in ts),
      {t["failures"] for t in ts}, ts[0]["target"], ts[0]["p50_ms"])')
ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
hu_assert_eq "300000 100000 200000 100000 {2} 10.0.0.0:80 0" "$out" "300000 lines, 100000 targets: exact"
hu_assert_lt "$ms" 20000 "300000 lines in under 20 s (took ${ms} ms)"

hu_done
