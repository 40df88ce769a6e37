#!/bin/bash
# SPDX-License-Identifier: MIT
# HOSTUP_LOG_FORMAT=otel with real clients through real outages: every line
# one OpenTelemetry log record of the documented shape (otel_records.py),
# hostup report gives the same figures as for the same failures logged
# plain, an unknown format is one config_error and plain records, and a
# record forced past 16 KiB (a 55 KB rule) is cut under it in both formats.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_connect
hu_need_cmd curl
C=$HU_TOOLS/hu_connect
H=$HU_BUILD/hostup
[[ -x $H ]] || hu_fail "missing $H"
OTEL=$HU_ROOT/tests/integration/otel_records.py
P=8080 P2=8081 P3=8082

hu_net_setup
hu_serve_tcp $P
hu_serve_http $P2
hu_serve_tcp $P3

# NAME FORMAT POLICY CMD...: records of CMD in FORMAT to $HU_TMP/NAME.log
run_fmt() {
	local name=$1 fmt=$2 policy=$3
	shift 3
	: >"$HU_TMP/$name.log"
	hu_run env LD_PRELOAD="$HU_PRELOAD" HOSTUP_LOG_FORMAT="$fmt" HOSTUP_LOG_WINDOW=0s \
		HOSTUP_POLICY="$policy" HOSTUP_LOG="$HU_TMP/$name.log" "$@"
}
otel_counts() { "$HU_PY" "$OTEL" "$HU_TMP/$1.log" || hu_fail "$1.log is not valid OTel (above)"; }

# --- curl and a C client ride out an outage; every line is a valid record
hu_reject $P2
hu_after 1.5 hu_unreject
run_fmt curl otel "* attempts=40 backoff=100ms..200ms" curl -sS --max-time 20 "http://$IP_S:$P2$HU_HTTP_PATH"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl, otel records: the page arrives after the outage"
c=$(otel_counts curl)
hu_assert_contains "$c" "recovered=1 config_error=0" "curl: one recovered record (INFO 9)"
[[ $c =~ retry=([0-9]+) ]] && ((BASH_REMATCH[1] >= 1)) || hu_fail "curl: no retry record: $c"
hu_ok "curl: retry records (WARN 13) before the recovery: $c"

hu_reject $P
run_fmt gaveup otel "* attempts=3 backoff=50ms..50ms" "$C" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "C client, target rejects for good: the original errno"
hu_assert_contains "$(otel_counts gaveup)" "retry=2 gave_up=1 recovered=0" "gave_up (ERROR 17) after 2 retries"
layer=$("$HU_PY" -c '
import json, sys
for l in open(sys.argv[1]):
    lr = json.loads(l)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    a = {e["key"]: e["value"] for e in lr["attributes"]}
    if lr["severityText"] == "ERROR":
        print(a["hostup.diagnosis.layer"]["stringValue"], a["error.type"]["stringValue"],
              a["server.address"]["stringValue"], a["server.port"]["intValue"],
              a["network.peer.address"]["stringValue"])' "$HU_TMP/gaveup.log")
hu_assert_eq "firewall EHOSTUNREACH $IP_S $P $IP_S" "$layer" "gave_up: diagnosis layer, error.type, server and peer"

# --- the same failures logged plain and as OTel: the same report figures
# (deterministic ones: a dead port, no route; plus a recovery, whose number
# of retries depends on timing, compared without its timings and counts)
for fmt in json otel; do
	hu_unreject
	hu_reject $P
	run_fmt "same_$fmt" "$fmt" "* attempts=3 backoff=50ms..50ms" "$C" "$IP_S" $P
	cp "$HU_TMP/same_$fmt.log" "$HU_TMP/all_$fmt.log"
	run_fmt "same_$fmt" "$fmt" "* attempts=2 backoff=50ms..50ms" "$C" 198.19.5.5 $P
	cat "$HU_TMP/same_$fmt.log" >>"$HU_TMP/all_$fmt.log"
	hu_s nft add rule inet hutest reject_rules tcp dport $P3 reject with icmp type host-unreachable
	# longer than the first try (the SYN's retransmit comes after 1 s):
	# with 1 s, that retransmit could connect, and no record be written
	hu_after 2.5 hu_s nft flush chain inet hutest reject_rules
	run_fmt "same_$fmt" "$fmt" "* attempts=40 backoff=100ms..200ms" "$C" "$IP_S" $P3
	hu_assert_eq 0 "$HU_RC" "$fmt: the client recovers"
	cat "$HU_TMP/same_$fmt.log" >>"$HU_TMP/all_$fmt.log"
	"$H" report --json "$HU_TMP/all_$fmt.log" >"$HU_TMP/report_$fmt.json" || hu_fail "report on the $fmt log"
done
hu_unreject
hu_reject $P
hu_counts all_json >/dev/null
otel_counts all_otel >/dev/null
norm() {
	"$HU_PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
d["records"] = 0    # the recovered target'"'"'s count depends on timing
for t in d["targets"]:
    for k in ("first", "last", "p50_ms", "p99_ms"):
        t.pop(k)
    if t["recovered"]:
        for k in ("records", "failures", "retries", "cause_count"):
            t.pop(k)
    else:
        d["records"] += t["records"]
print(json.dumps(d, indent=1, sort_keys=True))' "$1"
}
a=$(norm "$HU_TMP/report_json.json") b=$(norm "$HU_TMP/report_otel.json")
[[ -n $a && $a == "$b" ]] || hu_fail "report differs between the formats: $(diff <(echo "$a") <(echo "$b"))"
hu_assert_contains "$a" '"target": "198.19.5.5:8080"' "report: the no-route target is there"
hu_ok "report: the same targets, counts, layers and causes from plain and OTel logs"

# --- an unknown format: one config_error, and the records stay plain
run_fmt unknown xml "* attempts=2 backoff=50ms..50ms" "$C" "$IP_S" $P
hu_assert_contains "$(hu_counts unknown)" "retry=1 recovered=0 gave_up=1 config_error=1" "HOSTUP_LOG_FORMAT=xml: plain records, one config_error"
hu_assert_eq "HOSTUP_LOG_FORMAT xml" "$(grep config_error "$HU_TMP/unknown.log" | "$HU_PY" -c '
import json, sys; r = json.loads(sys.stdin.read()); print(r["source"], r["text"])')" "the config_error names the variable and its value"

# --- a record forced past 16 KiB: a valid rule of 55 KB
big="* attempts=2$(printf ' backoff=50ms..50ms%.0s' {1..2900})"
hu_assert_gt "${#big}" 50000 "the rule is ${#big} bytes"
for fmt in json otel; do
	run_fmt "big_$fmt" "$fmt" "$big" "$C" "$IP_S" $P
	hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "$fmt: the 55 KB rule applies"
	max=$(awk '{ if (length($0) + 1 > m) m = length($0) + 1 } END { print m + 0 }' "$HU_TMP/big_$fmt.log")
	hu_assert_lt "$max" 16384 "$fmt: every record line under 16 KiB"
	hu_assert_eq 2 "$(grep -c 'truncated"' "$HU_TMP/big_$fmt.log")" "$fmt: both records say they were cut"
done
hu_counts big_json >/dev/null
hu_assert_contains "$(otel_counts big_otel)" "retry=1 gave_up=1" "otel: the cut records are still valid"
hu_unreject
hu_done
