#!/bin/bash
# SPDX-License-Identifier: MIT
# Herd control across processes (shared state, shim/engine/herd.c): one prober per
# dead target, the others wait without sending SYNs; a prober killed with
# SIGKILL mid-probe is replaced; a corrupt, foreign, loose or symlinked
# shared file is refused with one record; 64 threads x 20 processes; the
# retry budget; `hostup status` and `hostup metrics` (scraped over HTTP).
# Every part uses a shared file of its own under $HU_TMP.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_cmd curl setpriv
hu_need_lib
hu_need_tools hu_connect hu_threads
C=$HU_TOOLS/hu_connect
HOSTUP=$HU_BUILD/hostup
[[ -x $HOSTUP ]] || hu_fail "missing $HOSTUP"
POLICY="* attempts=60 backoff=100ms..500ms deadline=30s"

hu_net_setup
ip -n "$NS_C" link set lo up

# SYNs that reach the server for PORT, counted before the reject rules
syn_counter() { hu_s nft insert rule inet hutest input tcp dport "$1" 'tcp flags & (syn|ack) == syn' counter || hu_fail "counter $1"; }
syns() { hu_s nft list chain inet hutest input | awk -v p="dport $1 " 'index($0, p) { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'; }
# SYNs sent from the client namespace to PORT by each of start_clients' N
# clients (by gid): client_syn_counters PORT N, then client_syns -> "n0 n1 ..."
client_syn_counters() {
	local i
	hu_c nft add table inet hucl &&
	hu_c nft add chain inet hucl out '{ type filter hook output priority 0; }' || hu_fail "client counters"
	for ((i = 0; i < $2; i++)); do
		hu_c nft add rule inet hucl out meta skgid $((40000 + i)) tcp dport "$1" \
			'tcp flags & (syn|ack) == syn' counter || hu_fail "client counter $i"
	done
}
client_syns() { hu_c nft list chain inet hucl out | awk '/skgid/ { for (i = 1; i < NF; i++) if ($i == "packets") printf "%s ", $(i + 1) }'; }

# N clients (hu_connect, blocking) in the background, one log each: NAME N PORT POLICY [SHARED]
# Client i runs with gid 40000+i (uid 0 still: the shared file is the
# same user's), so the client namespace can count each one's SYNs.
start_clients() {
	local name=$1 n=$2 port=$3 pol=$4 shared=${5:-$HU_TMP/$1.shm} i
	CLIENT_PIDS=()
	for ((i = 0; i < n; i++)); do
		ip netns exec "$NS_C" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$shared" HOSTUP_POLICY="$pol" \
			HOSTUP_LOG="$HU_TMP/${name}_$i.log" setpriv --regid=$((40000 + i)) --clear-groups \
			"$C" "$IP_S" "$port" >"$HU_TMP/${name}_$i.out" 2>/dev/null &
		CLIENT_PIDS+=($!)
		hu__track $!
	done
}
# waits for PIDS, failing (not hanging) after SECS
wait_pids() { hu_wait "$1" "herd clients" "${@:2}"; } # SECS PID...
# records of all clients NAME_*.log into NAME.log, for hu_counts/hu_field
gather() { cat "$HU_TMP/$1"_*.log >"$HU_TMP/$1.log"; }
ok_outputs() { cat "$HU_TMP/$1"_*.out | grep -cx "$HU_HELLO"; }

# --- one prober: 10 processes, a target down for 4 s ----------------------
P=8080
hu_serve_tcp $P
syn_counter $P
client_syn_counters $P 10
hu_reject $P
start_clients herd 10 $P "$POLICY"
sleep 2
status=$(hu_c "$HOSTUP" status --json --file "$HU_TMP/herd.shm") || hu_fail "hostup status: $status"
echo "$status"
read -r state prober waiting procs <<<"$(echo "$status" | "$HU_PY" -c '
import json, sys
t = json.load(sys.stdin)["targets"]
t = [x for x in t if x["target"] == "'"$IP_S:$P"'"][0]
print(t["state"], t["prober_pid"], t["waiting"], t["waiting_processes"])')"
hu_assert_eq probing "$state" "status: the target is being probed"
hu_assert_contains " ${CLIENT_PIDS[*]} " " $prober " "status: the prober is one of the clients"
hu_assert_ge "$waiting" 5 "status: the other clients wait"
hu_assert_eq "$waiting" "$procs" "status: one waiting connect per process"
table=$(hu_c "$HOSTUP" status --file "$HU_TMP/herd.shm")
hu_assert_contains "$table" "$IP_S:$P" "status table names the target"
hu_assert_contains "$table" "EHOSTUNREACH" "status table: last error"
metrics=$(hu_c "$HOSTUP" metrics --file "$HU_TMP/herd.shm")
hu_assert_contains "$metrics" "hostup_waiting{target=\"$IP_S:$P\"} $waiting" "metrics: waiting gauge"
hu_assert_contains "$metrics" "hostup_target_failing{target=\"$IP_S:$P\"} 1" "metrics: failing gauge"
down=$(syns $P); read -ra c0 <<<"$(client_syns)"
sleep 1.5
down2=$(syns $P); read -ra c1 <<<"$(client_syns)"
# while down, only the prober sends: the 9 others would send 2-10/s each.
# The prober tries at its own moments (backoff at its cap, 500 ms with
# equal jitter: 250..500 ms apart) and probes 250 ms after its last try
# (PROBE_MS, once failing for 1 s with others waiting), so at most two SYNs
# per 250 ms: 13 in 1.5 s.
others=0 by_prober=
for ((i = 0; i < 10; i++)); do
	n=$((c1[i] - c0[i]))
	if [[ ${CLIENT_PIDS[i]} == "$prober" ]]; then by_prober=$n; else others=$((others + n)); fi
done
[[ -n $by_prober ]] || hu_fail "the prober $prober is not one of the clients (${CLIENT_PIDS[*]})"
hu_assert_eq 0 "$others" "while down, 1.5 s: no SYN from the 9 waiting clients"
hu_assert_ge "$by_prober" 2 "while down, 1.5 s: the prober keeps trying"
hu_assert_le "$by_prober" 13 "while down, 1.5 s: the prober's SYNs, at most 2 per 250 ms"
hu_assert_le $((down2 - down)) 13 "while down, 1.5 s: SYNs seen by the server"
hu_unreject
wait_pids 60 "${CLIENT_PIDS[@]}"
hu_assert_eq 10 "$(ok_outputs herd)" "all 10 clients connected"
gather herd
hu_counts herd >/dev/null
n_wait=$(grep -c '"event":"probe_wait"' "$HU_TMP/herd.log")
hu_assert_gt "$n_wait" 0 "probe_wait records written"
# hostup report counts them per target (folded ones too), not as other records
rep=$("$HOSTUP" report --json "$HU_TMP/herd.log")
pw=$(echo "$rep" | "$HU_PY" -c 'import json,sys; r=json.load(sys.stdin); print(sum(t.get("probe_waits", 0) for t in r["targets"]), r["other_records"])')
folded=$("$HU_PY" -c 'import json,sys
print(sum(1 + r.get("suppressed", 0) for r in map(json.loads, open(sys.argv[1])) if r.get("event") == "probe_wait"))' "$HU_TMP/herd.log")
hu_assert_eq "$folded 0" "$pw" "hostup report: probe_waits per target (folded included), none as other records"
waited=$(hu_field herd recovered waited_ms | grep -cv null)
hu_assert_ge "$waited" 8 "recovered records of waiters carry waited_ms"
hu_assert_eq 10 "$(hu_field herd recovered event | wc -l)" "one recovered record per client"
metrics=$(hu_c "$HOSTUP" metrics --file "$HU_TMP/herd.shm")
hu_assert_contains "$metrics" "hostup_recovered_total{target=\"$IP_S:$P\"} 10" "metrics: 10 recovered"
hu_assert_contains "$metrics" "hostup_time_to_recover_seconds_count{target=\"$IP_S:$P\"} 10" "metrics: histogram count"
hu_assert_contains "$metrics" "hostup_time_to_recover_seconds_bucket{target=\"$IP_S:$P\",le=\"+Inf\"} 10" "metrics: +Inf bucket"
hu_assert_contains "$metrics" "hostup_target_failing{target=\"$IP_S:$P\"} 0" "metrics: ok again"
hu_assert_contains "$metrics" "hostup_waiting{target=\"$IP_S:$P\"} 0" "metrics: nobody waits"

# the same without shared state: every process retries on its own
P2=8081
hu_serve_tcp $P2
syn_counter $P2
hu_reject $P2
start_clients alone 10 $P2 "$POLICY" off
sleep 2
a=$(syns $P2)
sleep 1.5
b=$(syns $P2)
hu_unreject
wait_pids 60 "${CLIENT_PIDS[@]}"
hu_assert_eq 10 "$(ok_outputs alone)" "HOSTUP_SHARED=off: all 10 connected"
hu_assert_gt $((b - a)) $((down2 - down)) "HOSTUP_SHARED=off sends more SYNs in the same 1.5 s"
gather alone
hu_assert_eq 0 "$(grep -c probe_wait "$HU_TMP/alone.log")" "HOSTUP_SHARED=off: no probe_wait"

# --- metrics over HTTP and as a textfile -----------------------------------
ip netns exec "$NS_C" "$HOSTUP" metrics --listen 127.0.0.1:9464 --file "$HU_TMP/herd.shm" 2>"$HU_TMP/listen.log" &
hu__track $!
hu__wait_line "$HU_TMP/listen.log" "serving metrics" "hostup metrics --listen"
scrape=$(hu_c curl -sS --max-time 10 --noproxy '*' -D "$HU_TMP/headers" http://127.0.0.1:9464/metrics) || hu_fail "scrape"
hu_assert_contains "$(cat "$HU_TMP/headers")" "200 OK" "scrape: 200"
hu_assert_contains "$(cat "$HU_TMP/headers")" "text/plain; version=0.0.4" "scrape: Prometheus content type"
hu_assert_contains "$scrape" "# TYPE hostup_tries_total counter" "scrape: tries"
hu_assert_contains "$scrape" "hostup_recovered_total{target=\"$IP_S:$P\"} 10" "scrape: recovered"
hu_assert_contains "$scrape" "# TYPE hostup_time_to_recover_seconds histogram" "scrape: histogram"
hu_assert_contains "$scrape" "hostup_gave_up_total{target=\"$IP_S:$P\",reason=\"budget\"} 0" "scrape: gave_up by reason"
code=$(hu_c curl -s --max-time 10 --noproxy '*' -o /dev/null -w '%{http_code}' http://127.0.0.1:9464/other)
hu_assert_eq 404 "$code" "scrape: other paths are 404"
hu_c "$HOSTUP" metrics --textfile "$HU_TMP/hostup.prom" --file "$HU_TMP/herd.shm" || hu_fail "textfile"
hu_assert_contains "$(cat "$HU_TMP/hostup.prom")" "hostup_recovered_total{target=\"$IP_S:$P\"} 10" "textfile written"
hu_assert_eq 0 "$(find "$HU_TMP" -name 'hostup.prom.tmp*' | wc -l)" "textfile: no temporary file left"
out=$(hu_c "$HOSTUP" metrics --file "$HU_TMP/none.shm")
hu_assert_contains "$out" "hostup_shared_up 0" "metrics without a file: hostup_shared_up 0"
n=$(timeout 2.5 ip netns exec "$NS_C" "$HOSTUP" status --watch 1 --file "$HU_TMP/herd.shm" | grep -c '^shared state:')
hu_assert_ge "$n" 2 "status --watch shows the state again every second"
hu_c "$HOSTUP" status --file "$HU_TMP/none.shm" >/dev/null 2>&1
hu_assert_eq 66 "$?" "status without a file: exit 66"

# --- a bad shared file: refused with one record (at the first failure that
# is retried: a healthy program prints nothing), per-process retries -------
size=$(stat -c %s "$HU_TMP/herd.shm")
bad_file() { # NAME EXPECTED_REASON (file prepared at $HU_TMP/NAME.shm)
	local sum0 sum1
	sum0=$(md5sum <"$HU_TMP/$1.shm" 2>/dev/null)
	hu_run env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$HU_TMP/$1.shm" HOSTUP_LOG="$HU_TMP/bad_$1.log" "$C" "$IP_S" $P
	hu_assert_eq "$HU_HELLO" "$HU_OUT" "$1 shared file: the program works"
	[[ ! -s $HU_TMP/bad_$1.log ]] || hu_fail "$1 shared file: a healthy program wrote $(cat "$HU_TMP/bad_$1.log")"
	hu_ok "$1 shared file: a healthy program writes nothing"
	# a failure that is retried: then the refusal is said, once
	hu_run env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$HU_TMP/$1.shm" HOSTUP_LOG="$HU_TMP/bad_$1.log" \
		HOSTUP_POLICY="* retry_on=+ECONNREFUSED attempts=3 backoff=10ms..20ms" "$C" "$IP_S" 1
	hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=1" "$(hu_counts "bad_$1")" "$1 shared file: one record, at the first failure"
	hu_assert_eq HOSTUP_SHARED "$(hu_field "bad_$1" config_error source)" "$1: record names HOSTUP_SHARED"
	hu_assert_contains "$(hu_field "bad_$1" config_error reason)" "$2" "$1: reason"
	sum1=$(md5sum <"$HU_TMP/$1.shm" 2>/dev/null)
	hu_assert_eq "$sum0" "$sum1" "$1: the file is left alone"
}
head -c 100 /dev/urandom >"$HU_TMP/short.shm" && chmod 600 "$HU_TMP/short.shm"
bad_file short "wrong size"
head -c "$size" /dev/urandom >"$HU_TMP/garbage.shm" && chmod 600 "$HU_TMP/garbage.shm"
bad_file garbage "bad header"
cp "$HU_TMP/herd.shm" "$HU_TMP/foreign.shm" && chown nobody "$HU_TMP/foreign.shm"
bad_file foreign "owned by another user"
cp "$HU_TMP/herd.shm" "$HU_TMP/loose.shm" && chmod 644 "$HU_TMP/loose.shm"
bad_file loose "group or others"
ln -s "$HU_TMP/herd.shm" "$HU_TMP/link.shm"
bad_file link "symbolic link"
# and a bad file does not stop the retries: a 2 s outage, survived alone
hu_reject $P
hu_after 2 hu_unreject
hu_run_shim badretry "$POLICY" env HOSTUP_SHARED="$HU_TMP/garbage.shm" "$C" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "garbage shared file: retries still recover"
hu_assert_contains "$(hu_counts badretry)" "recovered=1 gave_up=0 config_error=1" "garbage shared file: recovered, one config_error"
sleep 0.5

# --- SIGKILL of the prober in the middle of a probe ------------------------
# SYNs are dropped: every try lasts its 1 s timeout, so the prober is
# almost always inside a try when it is killed
P3=8082
hu_serve_tcp $P3
hu_s nft add rule inet hutest reject_rules tcp dport $P3 drop
KPOL="* attempts=200 timeout=1s backoff=100ms..300ms deadline=40s retry_on=+ETIMEDOUT"
start_clients kill 6 $P3 "$KPOL"
prober_of() { hu_c "$HOSTUP" status --json --file "$HU_TMP/kill.shm" | "$HU_PY" -c '
import json, sys
t = json.load(sys.stdin)["targets"]
print(t[0]["prober_pid"] if t else 0)' || hu_fail "hostup status --json of kill.shm"; }
sleep 2.5
p1=$(prober_of)
hu_assert_contains " ${CLIENT_PIDS[*]} " " $p1 " "a client probes"
kill -KILL "$p1"
sleep 2.5
p2=$(prober_of)
hu_assert_ne 0 "$p2" "after SIGKILL another process probes"
hu_assert_ne "$p1" "$p2" "the new prober is another process"
hu_assert_contains " ${CLIENT_PIDS[*]} " " $p2 " "the new prober is one of the clients"
hu_s nft flush chain inet hutest reject_rules
wait_pids 60 "${CLIENT_PIDS[@]}"
hu_assert_eq 5 "$(ok_outputs kill)" "the 5 survivors all connected: nothing wedged"

# --- 64 threads x 20 processes ---------------------------------------------
# EHOSTDOWN from a user-space responder: every first try fails at once
# (nftables' reject between namespaces is often a soft error, retried by
# the kernel a second later)
hu_need_tools hu_icmp_hostdown
P4=8083
# 1280 connects arrive within a few tens of ms: a listen queue that holds
# them (hu_serve_tcp's 128 would overflow, and the kernel would delay the
# handshakes of the rest by seconds)
hu_s sysctl -qw net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
hu_serve_tcp $P4 4096
syn_counter $P4
hu_hostdown $P4
pids=()
for ((i = 0; i < 20; i++)); do
	ip netns exec "$NS_C" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$HU_TMP/many.shm" HOSTUP_POLICY="$POLICY" \
		HOSTUP_LOG="$HU_TMP/many_$i.log" "$HU_TOOLS/hu_threads" 64 "$IP_S" $P4 "$HU_HELLO" >"$HU_TMP/many_$i.out" 2>&1 &
	pids+=($!)
	hu__track $!
done
# up to 10 s for every first try to have failed (1280 threads on 2 cores)
wt=0 wp=0
for ((k = 0; k < 20 && wt < 1200; k++)); do
	sleep 0.5
	w=$(hu_c "$HOSTUP" status --json --file "$HU_TMP/many.shm" | "$HU_PY" -c '
import json, sys
t = json.load(sys.stdin)["targets"]
print(t[0]["waiting"], t[0]["waiting_processes"]) if t else print(0, 0)')
	read -r wt wp <<<"$w"
	echo "64 x 20: $wt connects waiting in $wp processes"
done
hu_assert_ge "$wt" 1200 "64 x 20: the connects wait for the prober"
hu_assert_ge "$wp" 15 "64 x 20: in most of the processes"
before=$(syns $P4)
tries=$(hu_c "$HOSTUP" status --json --file "$HU_TMP/many.shm" | "$HU_PY" -c '
import json, sys; print(json.load(sys.stdin)["targets"][0]["tries"])')
hu_unhostdown
wait_pids 90 "${pids[@]}"
hu_assert_eq 20 "$(cat "$HU_TMP"/many_*.out | grep -cx 'ok 64/64')" "64 x 20: every thread of every process connected"
# down: each connect's first SYN, then the prober's alone
hu_assert_le "$before" $((1280 + 60)) "64 x 20: SYNs seen while down: first tries and one prober"
hu_assert_le "$tries" $((1280 + 60)) "64 x 20: tries counted in the shared file while down: the same bound"
gather many
hu_counts many >/dev/null
hu_assert_eq 1280 "$(hu_field many recovered event | wc -l)" "64 x 20: 1280 recovered records"
hu_assert_eq 0 "$(hu_c "$HOSTUP" status --json --file "$HU_TMP/many.shm" | "$HU_PY" -c '
import json, sys; print(json.load(sys.stdin)["targets"][0]["waiting"])')" "64 x 20: no waiter entry left behind"

# --- the retry budget ------------------------------------------------------
# 8 processes, each against a port of its own (8 probers), 1 retry a second
# allowed over 10 s: the budget runs out, and the failures come at once
hu_s nft add rule inet hutest reject_rules tcp dport 9000-9007 reject with icmp type host-unreachable
BPOL="* attempts=1000 backoff=50ms..100ms deadline=20s budget=0% budget_min=1/s"
pids=()
for ((i = 0; i < 8; i++)); do
	ip netns exec "$NS_C" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$HU_TMP/budget.shm" HOSTUP_POLICY="$BPOL" \
		HOSTUP_LOG="$HU_TMP/budget_$i.log" "$C" "$IP_S" $((9000 + i)) >"$HU_TMP/budget_$i.out" 2>/dev/null &
	pids+=($!)
	hu__track $!
done
wait_pids 60 "${pids[@]}"
hu_assert_eq 8 "$(cat "$HU_TMP"/budget_*.out | grep -cx 'error EHOSTUNREACH')" "budget spent: the programs see EHOSTUNREACH"
gather budget
hu_counts budget >/dev/null
reasons=$(hu_field budget gave_up reason | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
hu_assert_contains "$reasons" "budget=" "gave_up records with reason budget"
retries=$(hu_counts budget | sed 's/retry=\([0-9]*\).*/\1/')
# 10 retries in the window (1/s x 10 s), plus the racing check-then-charge
hu_assert_le "$retries" 24 "budget: retries across the 8 processes stay near 10"
maxel=$(hu_field budget gave_up elapsed_ms | sort -n | tail -1)
hu_assert_lt "$maxel" 20000 "budget: given up before the 20 s deadline"
metrics=$(hu_c "$HOSTUP" metrics --file "$HU_TMP/budget.shm")
refused=$(echo "$metrics" | awk '$1 == "hostup_budget_refused_total" { print $2 }')
hu_assert_ge "$refused" 1 "metrics: refused retries counted"
hu_assert_contains "$metrics" 'reason="budget"} 1' "metrics: gave_up by reason budget"
hu_unreject
# budget=off: the same retries are not limited
hu_s nft add rule inet hutest reject_rules tcp dport 9000 reject with icmp type host-unreachable
hu_run_shim nobudget "* attempts=30 backoff=50ms..100ms deadline=20s budget=off" env HOSTUP_SHARED="$HU_TMP/budget.shm" "$C" "$IP_S" 9000
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "budget=off: fails after its attempts"
hu_assert_eq attempts "$(hu_field nobudget gave_up reason)" "budget=off: gave up for attempts, not budget"
hu_unreject

# --- event loops: curl under the shared file -------------------------------
hu_serve_http 8084
hu_reject 8084
pids=()
for ((i = 0; i < 6; i++)); do
	ip netns exec "$NS_C" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$HU_TMP/curl.shm" HOSTUP_POLICY="$POLICY" \
		HOSTUP_LOG="$HU_TMP/curl_$i.log" curl -sS --noproxy '*' --max-time 30 "http://$IP_S:8084$HU_HTTP_PATH" \
		>"$HU_TMP/curl_$i.out" 2>&1 &
	pids+=($!)
	hu__track $!
done
sleep 3
hu_unreject
wait_pids 60 "${pids[@]}"
hu_assert_eq 6 "$(cat "$HU_TMP"/curl_*.out | grep -cx "$HU_HTTP_BODY")" "6 curl processes (event loops) all got the body"
gather curl
hu_counts curl >/dev/null
hu_assert_gt "$(grep -c '"event":"probe_wait"' "$HU_TMP/curl.log")" 0 "curl: waiters skipped tries (probe_wait)"
hu_assert_eq 6 "$(hu_field curl recovered event | wc -l)" "curl: one recovered record each"
hu_done
