#!/bin/bash
# SPDX-License-Identifier: MIT
# Where there is no network, fail as fast as without hostup (issue 19).  In
# a namespace with loopback only (docker --network none, a build sandbox),
# under the default policy: a blocking connect off-host, a non-blocking one
# and a lookup whose nameserver is unroutable each end as they do without
# hostup (same errno / EAI code, within 2x the time) with one record.
# Where a network may still come (an interface that is down) hostup keeps
# retrying: an interface brought up 3 s later is reached.  One failing
# connect under the defaults writes at most three lines (first retry, one
# summary, the outcome), and a recovered record counts the retries folded
# before it.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
P=8080
FAR=198.18.9.9          # off-host: no route to it in the loopback-only namespace
DEAD=198.18.5.5         # the client's unreachable route: fails at once, retried

hu_net_setup
NS_O=hu-o-$$
hu_at_exit "ip netns del $NS_O 2>/dev/null; rm -rf /etc/netns/$NS_O"
ip netns add "$NS_O" && ip -n "$NS_O" link set lo up || hu_fail "loopback-only namespace"
mkdir -p "/etc/netns/$NS_O" && printf 'nameserver 198.18.7.7\n' >"/etc/netns/$NS_O/resolv.conf" ||
	hu_fail "resolv.conf of $NS_O"

# The client: one call, its result and its own time in ms.
CLIENT='
import socket, sys, time
what, host = sys.argv[1], sys.argv[2]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 80
t = time.monotonic()
if what == "block":
    r = socket.socket().connect_ex((host, port))
elif what == "nonblock":
    s = socket.socket(); s.setblocking(False); r = s.connect_ex((host, port))
else:
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM); r = 0
    except socket.gaierror as e:
        r = e.errno
print(what, r, int((time.monotonic() - t) * 1000))
'

# --- in the background: one connect failing for the whole default policy
#     (an unreachable route: EHOSTUNREACH at once, retried for 30 s)
ip -n "$NS_C" route add unreachable "$DEAD/32" || hu_fail "unreachable route"
(hu_bounded 75 "the default-policy connect" --out "$HU_TMP/bound.out" --err "$HU_TMP/bound.err" \
	ip netns exec "$NS_C" env LD_PRELOAD="$HU_PRELOAD" "$HU_PY" -c "$CLIENT" block "$DEAD") &
bound_pid=$!
hu__track $bound_pid

# One run of the client in the loopback-only namespace, with (WITH=1) or
# without hostup: RES (the call's result), MS (the run's time) and LINES
# (of stderr).  Under hostup a run taking 10 s is a retry where there is
# nothing to wait for: it fails then.
one_run() { # WITH WHAT HOST
	if [[ $1 == 1 ]]; then
		HU_MAX=10 NS_C=$NS_O hu_run env LD_PRELOAD="$HU_PRELOAD" "$HU_PY" -c "$CLIENT" "$2" "$3"
	else
		NS_C=$NS_O hu_run "$HU_PY" -c "$CLIENT" "$2" "$3"
	fi
	[[ $HU_RC == 0 ]] || hu_fail "$2: the client failed"
	RES=$(cut -d' ' -f2 <<<"$HU_OUT") MS=$HU_MS LINES=$(grep -c . <<<"$HU_ERR")
}

# Five runs each way, taken in turns so that both meet the same load, and
# the fastest of each compared; on a machine busy with other tests a round
# may be all noise, so up to three rounds are made (a retry wait fails all
# three: it is seconds, not milliseconds).
check_offline() { # WHAT HOST EXPECTED
	local i round plain_ms hostup_ms
	one_run 0 "$1" "$2"
	hu_assert_eq "$3" "$RES" "$1 without hostup: the kernel's answer"
	one_run 1 "$1" "$2"
	hu_assert_eq "$3" "$RES" "$1 under hostup: the same result as without"
	hu_assert_eq 1 "$LINES" "$1 under hostup: one record line"
	for round in 1 2 3; do
		plain_ms='' hostup_ms=''
		for i in 1 2 3 4 5; do
			one_run 0 "$1" "$2"
			[[ -z $plain_ms || $MS -lt $plain_ms ]] && plain_ms=$MS
			one_run 1 "$1" "$2"
			[[ -z $hostup_ms || $MS -lt $hostup_ms ]] && hostup_ms=$MS
		done
		((hostup_ms <= 2 * plain_ms)) && break
		echo "round $round: $hostup_ms ms under hostup, $plain_ms ms without: again"
	done
	hu_assert_le "$hostup_ms" $((2 * plain_ms)) "$1 under hostup: within 2x the time without (${plain_ms} ms)"
}

# PID (a child of this shell) ended within SECS, else the test fails.
wait_for() { # PID SECS WHAT
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return 0; }
		sleep 0.1
	done
	hu_fail "$3: still running after $2 s"
}

# --- 1-3: loopback only, the default policy
check_offline block "$FAR" 101          # ENETUNREACH
check_offline nonblock "$FAR" 101       # ENETUNREACH, not EINPROGRESS
check_offline lookup example.test -3    # EAI_AGAIN
NS_C=$NS_O hu_run_shim offline "" "$HU_PY" -c "$CLIENT" block "$FAR"
hu_assert_eq "retry=0 recovered=0 gave_up=1 config_error=0" "$(hu_counts offline)" "block: one gave_up"
hu_assert_eq no_network "$(hu_field offline gave_up reason)" "block: reason no_network"
hu_assert_eq ENETUNREACH "$(hu_field offline gave_up errno)" "block: the kernel's errno"
hu_assert_contains "$(hu_field offline gave_up diagnosis)" "no network here" "block: the diagnosis says so"
NS_C=$NS_O hu_run_shim offline_dns "" "$HU_PY" -c "$CLIENT" lookup example.test
hu_assert_eq "retry=0 recovered=0 gave_up=1 config_error=0" "$(hu_counts offline_dns)" "lookup: one gave_up"
hu_assert_eq no_network "$(hu_field offline_dns gave_up reason)" "lookup: reason no_network"
hu_assert_contains "$(hu_field offline_dns gave_up diagnosis)" "198.18.7.7" "lookup: the diagnosis names the nameserver"

# --- 4: an interface that is down may come up: hostup keeps retrying, and
#     reaches the server when it does, 3 s later
hu_serve_tcp $P
ip -n "$NS_C" link set "$IF_C" down || hu_fail "link down"
hu_run "$HU_PY" -c "$CLIENT" block "$IP_S" $P
hu_assert_eq "block 101" "$(cut -d' ' -f1,2 <<<"$HU_OUT")" "interface down, without hostup: ENETUNREACH at once"
hu_after 3 ip -n "$NS_C" link set "$IF_C" up
# two clients meet it: the defaults, and quick fixed retries (many folded
# right before the recovery) whose records must count every retry
# (a shared file of its own: it must not be the other's prober)
ip netns exec "$NS_C" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_LOG="$HU_TMP/fixed.log" HOSTUP_SHARED=off \
	HOSTUP_POLICY="* attempts=100 backoff=100ms..100ms jitter=none" "$HU_PY" -c "$CLIENT" block "$IP_S" $P \
	>"$HU_TMP/fixed.out" 2>&1 &
fixed_pid=$!
hu__track $fixed_pid
hu_run_shim up "" "$HU_PY" -c "$CLIENT" block "$IP_S" $P
hu_assert_eq "block 0" "$(cut -d' ' -f1,2 <<<"$HU_OUT")" "interface up 3 s later: connected under hostup"
hu_assert_ge "$HU_MS" 2500 "it waited for the interface"
hu_assert_contains "$(hu_counts up)" "recovered=1 gave_up=0" "interface up: recovered"
wait_for $fixed_pid 30 "the fixed-retry client"
hu_assert_eq "block 0" "$(cut -d' ' -f1,2 <"$HU_TMP/fixed.out")" "fixed retries: connected"
attempt=$(hu_field fixed recovered attempt)
folded=$("$HU_PY" - "$HU_TMP/fixed.log" <<-'EOF'
	import json, sys
	n = 0
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    n += (r["event"] == "retry") + r.get("suppressed", 0)
	print(n)
EOF
)
hu_assert_gt "$attempt" 10 "fixed retries: many retries before the interface came up"
hu_assert_eq $((attempt - 1)) "$folded" "fixed retries: retry records and suppressed counts add up to every retry"

# --- 5: lines per failing connect under the defaults
wait_for $bound_pid 80 "the default-policy connect"
hu_assert_eq "block 113" "$(cut -d' ' -f1,2 <"$HU_TMP/bound.out")" "default policy: EHOSTUNREACH in the end"
n=$(grep -c . "$HU_TMP/bound.err")
hu_assert_le "$n" 3 "default policy: at most 3 record lines (first retry, one summary, the outcome)"
hu_assert_eq gave_up "$(tail -n 1 "$HU_TMP/bound.err" | "$HU_PY" -c 'import json,sys; print(json.load(sys.stdin)["event"])')" \
	"default policy: the outcome is the last line"
total=$("$HU_PY" - "$HU_TMP/bound.err" <<-'EOF'
	import json, sys
	n = att = 0
	for line in open(sys.argv[1]):
	    r = json.loads(line)
	    n += (r["event"] == "retry") + r.get("suppressed", 0)
	    att = r["attempt"]
	print(n, att)
EOF
)
hu_assert_eq "$(( ${total#* } - 1 ))" "${total% *}" "default policy: every retry counted"

hu_done
