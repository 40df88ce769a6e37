#!/bin/bash
# SPDX-License-Identifier: MIT
# Each kind of failure gets the right layer and cause in its records, and
# `hostup doctor` gives the same verdict from the client's namespace.  Plus
# the log-storm bound: 200 threads failing on one dead host.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_connect hu_storm
C=$HU_TOOLS/hu_connect
H=$HU_BUILD/hostup
P=8080

hu_net_setup
hu_serve_tcp $P

jget() { "$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
# The first retry/gave_up record's diagnosis field F of log NAME.
diag() { hu_field "$1" "$2" diagnosis | head -1 | jget "[\"$3\"]"; }
# doctor in the client namespace: sets DOC (json) and DOC_RC.
doctor() { DOC=$(hu_bounded 30 "hostup doctor $1" ip netns exec "$NS_C" "$H" doctor --json --timeout "${DOC_TIMEOUT:-2s}" "$1"); DOC_RC=$?; }
verdict() { jget "[\"verdict\"][\"$1\"]" <<<"$DOC"; }

check_case() { # NAME TARGET_FOR_DOCTOR LAYER CAUSE_PREFIX [EVENT]
	local name=$1 target=$2 layer=$3 cause=$4 ev=${5:-gave_up}
	hu_assert_eq "$layer" "$(diag "$name" "$ev" layer)" "$name: record layer"
	hu_assert_contains "$(diag "$name" "$ev" cause)" "$cause" "$name: record cause"
	doctor "$target"
	hu_assert_eq 1 "$DOC_RC" "$name: doctor exits 1 (unreachable)"
	hu_assert_eq "$layer" "$(verdict layer)" "$name: doctor layer"
	hu_assert_contains "$(verdict cause)" "$cause" "$name: doctor cause"
}
SHORT="* attempts=2 backoff=50ms..50ms"

# --- reachable: doctor passes
doctor "$IP_S:$P"
hu_assert_eq 0 "$DOC_RC" "reachable target: doctor exits 0"
hu_assert_eq True "$(verdict reachable)" "reachable target: verdict"

# --- no route
hu_run_shim noroute "$SHORT" "$C" 198.19.5.5 $P
hu_assert_eq "error ENETUNREACH" "$HU_OUT" "no route: ENETUNREACH"
check_case noroute 198.19.5.5:$P route "no route to the address"

# --- an unreachable route
ip -n "$NS_C" route add unreachable 198.19.6.0/24
hu_run_shim unreach "$SHORT" "$C" 198.19.6.6 $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "unreachable route: EHOSTUNREACH"
check_case unreach 198.19.6.6:$P route "unreachable route"

# --- an on-link host that does not answer ARP
hu_run_shim arp "$SHORT" "$C" "$IP_ABSENT" $P
check_case arp "$IP_ABSENT:$P" link "on-link host does not answer ARP"
# doctor's own timeouts: the default (5 s) outlasts ARP's 3 s, so the try
# ends in EHOSTUNREACH with the neighbour FAILED; a 1 s try times out with
# the neighbour still INCOMPLETE.  Both give the records' layer and cause.
arp_cause=$(diag arp gave_up cause)
step_detail() { jget "[\"steps\"]" <<<"$DOC" | "$HU_PY" -c 'import ast,sys; print([s["detail"] for s in ast.literal_eval(sys.stdin.read()) if s["name"] == sys.argv[1]][0])' "$1"; }
for t in default 1s; do
	ip -n "$NS_C" neigh flush dev "$IF_C"
	if [[ $t == default ]]; then
		DOC=$(hu_bounded 30 "hostup doctor $IP_ABSENT:$P" ip netns exec "$NS_C" "$H" doctor --json "$IP_ABSENT:$P"); DOC_RC=$?
		hu_assert_contains "$(step_detail "tcp connect")" "EHOSTUNREACH" "doctor, default timeout: the try outlasts ARP (EHOSTUNREACH)"
		hu_assert_contains "$(step_detail neighbour)" "$IP_ABSENT FAILED" "doctor, default timeout: neighbour FAILED"
	else
		DOC=$(hu_bounded 30 "hostup doctor --timeout 1s $IP_ABSENT:$P" ip netns exec "$NS_C" "$H" doctor --json --timeout 1s "$IP_ABSENT:$P"); DOC_RC=$?
		hu_assert_contains "$(step_detail "tcp connect")" "ETIMEDOUT" "doctor --timeout 1s: the try times out"
		hu_assert_contains "$(step_detail neighbour)" "$IP_ABSENT INCOMPLETE" "doctor --timeout 1s: neighbour INCOMPLETE"
		hu_assert_contains "$(step_detail neighbour)" "timed out before ARP gave up" "doctor --timeout 1s: the neighbour line says why"
	fi
	hu_assert_eq 1 "$DOC_RC" "doctor ($t timeout): exit 1"
	hu_assert_eq "link" "$(verdict layer)" "doctor ($t timeout): layer link, as the records"
	hu_assert_eq "$arp_cause" "$(verdict cause)" "doctor ($t timeout): the records' cause"
done

# --- a gateway that answers, with a router behind it that rejects
ip -n "$NS_C" route add 198.19.7.0/24 via "$IP_S"
hu_s sysctl -qw net.ipv4.ip_forward=1
# the far network sits behind a veth inside the server namespace (no dummy
# module here); the forward hook rejects before anything leaves
hu_s ip link add hu-r0 type veth peer name hu-r1
hu_s ip link set hu-r0 up
hu_s ip link set hu-r1 up
hu_s ip route add 198.19.7.0/24 dev hu-r0
hu_s nft add chain inet hutest routed '{ type filter hook forward priority 0; }'
hu_s nft add rule inet hutest routed ip daddr 198.19.7.0/24 reject with icmp type host-unreachable
hu_run_shim router "$SHORT" "$C" 198.19.7.9 $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "router rejects: EHOSTUNREACH"
check_case router 198.19.7.9:$P host "ICMP host unreachable from a router ($IP_S)"

# --- a closed port: the host is up, nothing listens
hu_run_shim refused "* attempts=2 backoff=50ms..50ms retry_on=+ECONNREFUSED" "$C" "$IP_S" 8099
hu_assert_eq "error ECONNREFUSED" "$HU_OUT" "closed port: ECONNREFUSED"
check_case refused "$IP_S:8099" service "nothing listens on port 8099"

# --- a filtered port: SYNs dropped, a short per-try timeout
hu_s nft add rule inet hutest reject_rules tcp dport 8098 drop
hu_run_shim filtered "* attempts=2 timeout=1s backoff=50ms..50ms retry_on=+ETIMEDOUT" "$C" "$IP_S" 8098
hu_assert_eq "error ETIMEDOUT" "$HU_OUT" "filtered port: ETIMEDOUT after the per-try timeout"
DOC_TIMEOUT=1s check_case filtered "$IP_S:8098" firewall "no answer to the connection request"
hu_unreject

# --- DNS: SERVFAIL, NXDOMAIN, no answer
hu_dns_start --servfail-for 600
hu_run_shim servfail "$SHORT" "$C" db $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "SERVFAIL: EAI_AGAIN"
check_case servfail db:$P dns "DNS server failure"
hu_dns_stop
hu_dns_start --nxdomain-for 600
hu_run_shim nxdomain "* attempts=2 backoff=50ms..50ms retry_on=+EAI_NONAME" "$C" db $P
hu_assert_eq "error EAI_NONAME" "$HU_OUT" "NXDOMAIN: EAI_NONAME"
check_case nxdomain db:$P dns "the name does not exist"
hu_dns_stop
hu_dns_start --drop-for 600
hu_run_shim dnsdown "$SHORT" "$C" db $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "DNS not answering: EAI_AGAIN"
check_case dnsdown db:$P dns "DNS server did not answer in time"
hu_dns_stop

# --- evidence: route and neighbour facts, the ICMP sender, the timing
ev=$(hu_field arp gave_up diagnosis | head -1)
hu_assert_contains "$ev" '"neighbour": "198.18.0.3 FAILED"' "ARP evidence: neighbour FAILED"
hu_assert_contains "$ev" '"on_link": true' "ARP evidence: on-link"
ev=$(hu_field router gave_up diagnosis | head -1)
hu_assert_contains "$ev" "\"gateway\": \"$IP_S\"" "router evidence: the gateway"
hu_assert_contains "$ev" "from $IP_S" "router evidence: the ICMP sender"

# --- evidence: the environment (resolver as the namespace sees it)
ev=$(hu_field servfail gave_up diagnosis | head -1)
hu_assert_contains "$ev" '"env": {' "records carry the environment"
hu_assert_contains "$ev" '"nameservers": "198.18.0.2"' "environment: the namespace's nameserver"
ev=$(hu_field arp gave_up diagnosis | head -1)
hu_assert_contains "$ev" '"target_in_own_network": true' "environment: an on-link target is in our network"
ev=$(hu_field router gave_up diagnosis | head -1)
hu_assert_contains "$ev" '"target_in_own_network": false' "environment: a routed target is not"

# --- log storm: 200 threads fail on one dead host at once
hu_reject $P
# HOSTUP_SHARED=off: every thread makes its own tries (with the shared file
# most would wait for one prober instead: test_herd.sh), so 400 retries
HOSTUP_SHARED=off HU_MAX=30 hu_run_shim storm "* attempts=3 backoff=100ms..200ms" "$HU_TOOLS/hu_storm" 200 "$IP_S" $P
hu_assert_eq "EHOSTUNREACH 200/200" "$HU_OUT" "storm: every thread gets the original errno"
lines=$(wc -l <"$HU_TMP/storm.log")
# one line per gave_up, one for the first retry: every retry after it comes
# within 1 s (the storm window) of that line or of a gave_up (each starts
# the window again); a retry logged apart takes a stall of the machine
hu_assert_ge "$lines" 201 "storm: a gave_up line per thread and the first retry"
hu_assert_le "$lines" 203 "storm: the other 399 retries folded into those lines"
counts=$(hu_counts storm)
hu_assert_contains "$counts" "gave_up=200" "storm: no gave_up is lost"
hu_assert_contains "$counts" "retry=400 " "storm: folded retries are still counted"

# --- the storm window itself: one target failing every 600 ms (a fixed
# backoff; each try fails at once).  Retries at T, T+0.6, T+1.2, T+1.8 s,
# gave_up at T+2.4: with a 1 s window the first retry is written, the one
# at 0.6 folded, the one at 1.2 written with "suppressed": 1 (a new
# window), the one at 1.8 folded into the gave_up.  A window under 0.6 s
# would write every retry; one over 1.2 s would fold three.
HOSTUP_SHARED=off HU_MAX=20 hu_run_shim window "* attempts=5 backoff=600ms..600ms jitter=none deadline=30s" "$C" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "storm window: the original errno"
written=$("$HU_PY" -c '
import json, sys
print(" ".join("%s:%s:%s" % (r["event"], r["attempt"], r.get("suppressed", 0))
               for r in map(json.loads, open(sys.argv[1]))))' "$HU_TMP/window.log") || hu_fail "window.log"
hu_assert_eq "retry:1:0 retry:3:1 gave_up:5:1" "$written" \
	"storm window 1 s: retries 0.6 s apart written every other one (event:attempt:suppressed)"
hu_assert_eq "retry=4 recovered=0 gave_up=1 config_error=0" "$(hu_counts window)" "storm window: the 4 retries still counted"
hu_unreject
hu_done
