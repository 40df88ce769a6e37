#!/bin/bash
# SPDX-License-Identifier: MIT
# hostup's metrics in a real Prometheus (Debian's 2.42) and node_exporter:
# Prometheus scrapes `hostup metrics --listen` and a node_exporter (only its
# textfile collector) that reads `hostup metrics --textfile`, every second,
# with examples/prometheus/hostup.rules.yml loaded.  Through the HTTP query
# API, after an outage (one client gives up, one rides it out):
# - every hostup series has the value the records say, through both paths;
# - hostup_gave_up_all_targets_total is 0 before the first failure, so
#   increase() sees the first give-up, and HostupGaveUp fires;
# - HostupTargetRetried is pending while a client retries;
# - the Grafana dashboard's queries all evaluate.
# Also `promtool check rules` and `promtool test rules` (the alerts' timing).
# Everything runs in the test's client namespace, on 127.0.0.1.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
for c in prometheus promtool prometheus-node-exporter; do
	command -v $c >/dev/null ||
		{ echo "skipped: needs prometheus (apt-get install prometheus prometheus-node-exporter)"; exit 77; }
done
hu_need_cmd curl
hu_need_lib
hu_need_tools hu_connect hu_icmp_hostdown
H=$HU_BUILD/hostup
[[ -x $H ]] || hu_fail "missing $H"
RULES=$HU_ROOT/examples/prometheus/hostup.rules.yml
DASH=$HU_ROOT/examples/prometheus/hostup-dashboard.json
P=8080
T=$IP_S:$P

# --- the rules, offline ------------------------------------------------------
out=$(promtool check rules "$RULES" 2>&1) || hu_fail "promtool check rules: $out"
hu_assert_contains "$out" "SUCCESS: 2 rules found" "promtool check rules accepts $RULES"
out=$(cd "$HU_ROOT/tests/prometheus" && promtool test rules hostup.rules.test.yml 2>&1) ||
	hu_fail "promtool test rules: $out"
hu_assert_contains "$out" "SUCCESS" "promtool test rules: HostupTargetRetried after 5 min, HostupGaveUp at the first give-up"

hu_net_setup
SHM=$HU_TMP/prom.shm
TEXTDIR=$HU_TMP/textfile
mkdir -p "$TEXTDIR" "$HU_TMP/prom-data"

# --- Prometheus first: its first sample takes ~5 s -----------------------------
cat >"$HU_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: hostup
    static_configs:
      - targets: ['127.0.0.1:9464']
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:9100']
EOF
# directly, not through hu_c, so that $! is Prometheus itself
ip netns exec "$NS_C" prometheus --config.file="$HU_TMP/prometheus.yml" --storage.tsdb.path="$HU_TMP/prom-data" \
	--web.listen-address=127.0.0.1:9090 >"$HU_TMP/prometheus.log" 2>&1 &
hu__track $!
PROM_PID=$!
hu_c "$H" metrics --listen 127.0.0.1:9464 --file "$SHM" 2>"$HU_TMP/listen.log" &
hu__track $!
hu__wait_line "$HU_TMP/listen.log" "serving metrics" "hostup metrics --listen"
hu_c prometheus-node-exporter --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$TEXTDIR" --web.listen-address=127.0.0.1:9100 \
	>"$HU_TMP/node_exporter.log" 2>&1 &
hu__track $!
# the textfile, rewritten every second as a cron job or a timer would
(while :; do "$H" metrics --textfile "$TEXTDIR/hostup.prom" --file "$SHM" 2>>"$HU_TMP/textfile.err"; sleep 1; done) &
hu__track $!

# PromQL EXPR -> one line per series, "labels value" (labels as k=v,...,
# sorted; the value as Prometheus gives it), "none" for an empty result,
# "error: ..." when the query fails.  Never exits the test.
prom_query() {
	hu_c curl -sS --noproxy '*' --max-time 3 -G http://127.0.0.1:9090/api/v1/query \
		--data-urlencode "query=$1" 2>&1 | "$HU_PY" -c '
import json, sys
text = sys.stdin.read()
try:
    d = json.loads(text)
except ValueError:
    print("error: " + text.strip()[:200]); sys.exit()
if d.get("status") != "success":
    print("error: " + str(d.get("error"))); sys.exit()
r = d["data"]["result"]
if d["data"]["resultType"] == "scalar":
    print(r[1]); sys.exit()
if not r:
    print("none")
for s in r:
    print(",".join("%s=%s" % kv for kv in sorted(s["metric"].items())), s["value"][1])'
}
# the value of EXPR, a single series; "none", "many: ..." or "error: ..."
prom_value() {
	local out
	out=$(prom_query "$1")
	if [[ $out == none || $out == error:* ]]; then echo "$out"
	elif [[ $out == *$'\n'* ]]; then echo "many: ${out//$'\n'/; }"
	else echo "${out##* }"; fi
}
# waits until EXPR has the value WANT, failing after SECS with WHAT
prom_wait() { # EXPR WANT SECS WHAT
	local i got
	for ((i = 0; i < $3 * 4; i++)); do
		got=$(prom_value "$1")
		[[ $got == "$2" ]] && return 0
		sleep 0.25
	done
	hu_fail "$4: $1 is '$got' after $3 s, not '$2'"
}
# alerts ALERTNAME: "state labels" of each, or "none"
alerts() {
	hu_c curl -sS --noproxy '*' --max-time 3 http://127.0.0.1:9090/api/v1/alerts 2>&1 | "$HU_PY" -c '
import json, sys
try:
    a = [x for x in json.load(sys.stdin)["data"]["alerts"] if x["labels"]["alertname"] == sys.argv[1]]
except (ValueError, KeyError) as e:
    print("error: %r" % e); sys.exit()
print("\n".join("%s %s" % (x["state"], ",".join("%s=%s" % kv for kv in sorted(x["labels"].items()))) for x in a) or "none")' "$1"
}
alert_wait() { # ALERTNAME TEXT SECS WHAT: until a line of alerts ALERTNAME holds TEXT
	local i got
	for ((i = 0; i < $3 * 4; i++)); do
		got=$(alerts "$1")
		[[ $got == *"$2"* ]] && return 0
		sleep 0.25
	done
	hu_fail "$4: no '$2' among the $1 alerts after $3 s: $got"
}

t0=$SECONDS
prom_wait 'up{job="hostup"}' 1 30 "Prometheus scrapes hostup metrics --listen"
prom_wait 'up{job="node"}' 1 10 "Prometheus scrapes node_exporter"
hu_ok "Prometheus scrapes both, first samples after $((SECONDS - t0)) s"
hu_assert_eq 0 "$(prom_value 'hostup_shared_up{job="hostup"}')" "no shared file yet: hostup_shared_up 0"

# --- a healthy connect makes the shared file: the all-targets counters at 0
hu_serve_tcp $P
hu_run env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$SHM" HOSTUP_LOG="$HU_TMP/warm.records" \
	"$HU_TOOLS/hu_connect" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "a healthy connect under hostup"
for job in hostup node; do
	prom_wait "hostup_shared_up{job=\"$job\"}" 1 15 "job $job: the shared file is read"
	prom_wait "hostup_gave_up_all_targets_total{job=\"$job\",reason=\"attempts\"}" 0 5 \
		"job $job: the all-targets give-ups are 0 before any failure"
	hu_ok "job $job: hostup_gave_up_all_targets_total is 0 before the first failure"
done
hu_assert_eq none "$(prom_value "hostup_tries_total{target=\"$T\"}")" "no per-target series before a failure"

# --- the outage: client A gives up after 3 tries -------------------------
hu_hostdown $P
# HOSTUP_LOG_WINDOW=0: a record for every retry (none folded), to count
hu_run_shim gaveup "* attempts=3 backoff=100ms..200ms" env HOSTUP_SHARED="$SHM" HOSTUP_LOG_WINDOW=0 \
	"$HU_TOOLS/hu_connect" "$IP_S" $P
hu_assert_eq "error EHOSTDOWN" "$HU_OUT" "client A sees EHOSTDOWN when its 3 tries are spent"
prom_wait "hostup_gave_up_all_targets_total{job=\"hostup\",reason=\"attempts\"}" 1 10 "the give-up is scraped"
inc=$(prom_value 'increase(hostup_gave_up_all_targets_total{job="hostup",reason="attempts"}[1m]) > 0')
[[ $inc =~ ^[0-9.]+$ ]] || hu_fail "increase() of the all-targets counter misses the first give-up: $inc"
hu_ok "increase(hostup_gave_up_all_targets_total[1m]) sees the first give-up ($inc)"
echo "for comparison, the target's own series: increase(hostup_gave_up_total[1m]) =" \
	"$(prom_value "increase(hostup_gave_up_total{job=\"hostup\",target=\"$T\",reason=\"attempts\"}[1m])")"
alert_wait HostupGaveUp "firing alertname=HostupGaveUp,instance=127.0.0.1:9464,job=hostup,reason=attempts," 15 "HostupGaveUp"
hu_ok "HostupGaveUp fires at the first give-up"

# --- client B retries until the outage ends: HostupTargetRetried pending ----
: >"$HU_TMP/ridden.log"
hu_c env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$SHM" HOSTUP_LOG="$HU_TMP/ridden.log" HOSTUP_LOG_WINDOW=0 \
	HOSTUP_POLICY="* attempts=200 backoff=100ms..300ms deadline=60s" \
	"$HU_TOOLS/hu_connect" "$IP_S" $P >"$HU_TMP/ridden.out" 2>"$HU_TMP/ridden.err" &
B=$!
hu__track $B
alert_wait HostupTargetRetried "pending alertname=HostupTargetRetried,instance=127.0.0.1:9464,job=hostup,severity=warning,target=$T" 20 \
	"HostupTargetRetried while client B retries"
hu_ok "HostupTargetRetried is pending while client B retries"
hu_unhostdown
for ((i = 0; i < 150; i++)); do kill -0 $B 2>/dev/null || break; sleep 0.1; done
kill -0 $B 2>/dev/null && hu_fail "client B still running 15 s after the outage ended"
wait $B
hu_assert_eq "$HU_HELLO" "$(cat "$HU_TMP/ridden.out")" "client B rides out the outage"

# --- what the records say ----------------------------------------------------
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts gaveup)" "records of client A"
counts_b=$(hu_counts ridden)
retries_b=$(sed -E 's/retry=([0-9]+) .*/\1/' <<<"$counts_b")
hu_assert_contains "$counts_b" "recovered=1 gave_up=0 config_error=0" "records of client B"
hu_assert_eq attempts "$(hu_field gaveup gave_up reason)" "A gave up: reason attempts"
a_tries=$(hu_field gaveup gave_up attempt)
b_tries=$(hu_field ridden recovered attempt)
b_ms=$(hu_field ridden recovered elapsed_ms)
[[ $a_tries =~ ^[0-9]+$ && $b_tries =~ ^[0-9]+$ && $b_ms =~ ^[0-9]+$ && $retries_b =~ ^[0-9]+$ ]] ||
	hu_fail "record fields: '$a_tries' '$b_tries' '$b_ms' '$retries_b'"
echo "records: A gave up at attempt $a_tries; B recovered at attempt $b_tries after $b_ms ms ($retries_b retries)"
hu_assert_eq $((b_tries - 1)) "$retries_b" "B: a retry record for each try but the last"
# the bucket the records put B's recovery in (core/shared.c's bounds)
b_le=$("$HU_PY" -c '
import sys
ms = int(sys.argv[1])
for b in (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000):
    if ms <= b:
        print("%g" % (b / 1000)); break
else:
    print("+Inf")' "$b_ms")

# --- ... and what Prometheus has, through both paths ---------------------
want=(
	"hostup_tries_total{target=\"$T\"}" $((a_tries + b_tries))
	"hostup_retries_total{target=\"$T\"}" $((2 + retries_b))
	"hostup_recovered_total{target=\"$T\"}" 1
	"hostup_gave_up_total{target=\"$T\",reason=\"attempts\"}" 1
	"hostup_gave_up_total{target=\"$T\",reason=\"deadline\"}" 0
	"hostup_gave_up_all_targets_total{reason=\"attempts\"}" 1
	"hostup_probe_waits_total{target=\"$T\"}" 0
	"hostup_target_failing{target=\"$T\"}" 0
	"hostup_waiting{target=\"$T\"}" 0
	"hostup_time_to_recover_seconds_count{target=\"$T\"}" 1
	"hostup_time_to_recover_seconds_bucket{target=\"$T\",le=\"$b_le\"}" 1
	"hostup_budget_refused_total" 0
)
for job in hostup node; do
	prom_wait "hostup_recovered_total{job=\"$job\",target=\"$T\"}" 1 15 "job $job: B's recovery is scraped"
	for ((k = 0; k < ${#want[@]}; k += 2)); do
		q=${want[k]}
		q=${q/\{/\{job=\"$job\",}
		[[ $q == *\{* ]] || q="$q{job=\"$job\"}"
		hu_assert_eq "${want[k + 1]}" "$(prom_value "$q")" "job $job: $q"
	done
	sum=$(prom_value "hostup_time_to_recover_seconds_sum{job=\"$job\",target=\"$T\"}")
	"$HU_PY" -c 'import sys; sys.exit(abs(float(sys.argv[1]) * 1000 - int(sys.argv[2])) > 5)' "$sum" "$b_ms" ||
		hu_fail "job $job: time_to_recover sum $sum s, the record says $b_ms ms"
	hu_ok "job $job: hostup_time_to_recover_seconds_sum $sum s = the record's elapsed_ms $b_ms (within 5 ms)"
done
hu_assert_eq 11 "$(prom_value "count(hostup_time_to_recover_seconds_bucket{job=\"hostup\",target=\"$T\"})")" \
	"the histogram has its 11 buckets"

# --- the dashboard's queries evaluate --------------------------------------
"$HU_PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["panels"]:
    for t in p.get("targets", []):
        print(t["expr"].replace("$__rate_interval", "1m").replace("\n", " "))' "$DASH" >"$HU_TMP/dash.exprs" ||
	hu_fail "$DASH is not the dashboard JSON expected"
n=0
while read -r e; do
	got=$(prom_query "$e")
	[[ $got == error:* ]] && hu_fail "dashboard query $e: $got"
	[[ $got == none ]] && hu_fail "dashboard query $e: no data after the outage"
	n=$((n + 1))
done <"$HU_TMP/dash.exprs"
hu_assert_ge "$n" 4 "the dashboard's $n queries all evaluate, with data"

# --- stopped cleanly; nothing left listening ---------------------------------
kill -TERM $PROM_PID
for ((i = 0; i < 100; i++)); do kill -0 $PROM_PID 2>/dev/null || break; sleep 0.1; done
kill -0 $PROM_PID 2>/dev/null && hu_fail "Prometheus still running 10 s after SIGTERM"
hu_assert_contains "$(cat "$HU_TMP/prometheus.log")" "See you next time" "Prometheus shut down cleanly"
hu_done
