#!/bin/bash
# Self-test of the harness, WITHOUT the library: checks that every failure the
# lib can make shows up as the errno hostup is meant to handle, that each one
# can be undone, and that nothing is left behind, also after SIGINT/SIGTERM.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
hu_need_root
hu_need_cmd ip nft ss curl
hu_need_tools hu_connect hu_icmp_hostdown
C=$HU_TOOLS/hu_connect
P=8080

hu_net_setup
hu_serve_tcp $P
hu_run "$C" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "plain connect"

# --- ICMP host-unreachable: the first ICMP is soft, a blocking connect fails
# on the second one after the ~1 s SYN retransmit; poll sees POLLERR at once.
hu_reject $P
hu_run "$C" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "rejected, blocking"
hu_assert_lt "$HU_MS" 2500 "rejected, blocking: time"
hu_run "$C" -n "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "rejected, non-blocking"
hu_assert_lt "$HU_MS" 500 "rejected, non-blocking: time"
hu_after 1 hu_unreject # a lib function run from the background job
sleep 1.5
hu_run "$C" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "connect after hu_after 1 hu_unreject"

# --- ICMP host-unknown: fatal at once.
hu_hostdown $P
hu_run "$C" "$IP_S" $P
hu_assert_eq "error EHOSTDOWN" "$HU_OUT" "hostdown, blocking"
hu_assert_lt "$HU_MS" 500 "hostdown, blocking: time"
hu_run "$C" -n "$IP_S" $P
hu_assert_eq "error EHOSTDOWN" "$HU_OUT" "hostdown, non-blocking"
hu_unhostdown
hu_run "$C" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "connect after hu_unhostdown"

# --- on-link address with no owner: ARP gives up after ~3 s.
hu_run "$C" "$IP_ABSENT" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "absent host"
hu_assert_ge "$HU_MS" 2000 "absent host: ARP time"
hu_absent_appear 1 $P
sleep 1.5
hu_run "$C" "$IP_ABSENT" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "connect after hu_absent_appear"

# --- HTTP server, seen through curl.
hu_serve_http 8081
hu_run curl -sS --noproxy '*' --max-time 5 "http://$IP_S:8081$HU_HTTP_PATH"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl from the client ns"

# --- name lookup through the stub DNS server.
hu_dns_start --servfail-for 3 --record db="$IP_S"
hu_run "$C" db $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "SERVFAIL window"
hu_assert_lt "$HU_MS" 500 "SERVFAIL answers at once"
sleep 3
hu_run "$C" db $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "db resolves after the SERVFAIL window"
hu_run "$C" nosuch $P
hu_assert_eq "error EAI_NONAME" "$HU_OUT" "unknown name"
hu_run "$C" DB. $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "case and trailing dot ignored"
hu_dns_stop
hu_dns_start --nxdomain-for 2 --record db="$IP_S"
hu_run "$C" db $P
hu_assert_eq "error EAI_NONAME" "$HU_OUT" "NXDOMAIN window"
sleep 2
hu_run "$C" db $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "db resolves after the NXDOMAIN window"
hu_dns_stop
hu_dns_start --drop-for 5 --record db="$IP_S"
hu_run "$C" db $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "no DNS reply"
hu_assert_ge "$HU_MS" 900 "no DNS reply: resolv.conf timeout:1 applies"
hu_assert_lt "$HU_MS" 3000 "no DNS reply: resolv.conf attempts:1 applies"

# --- explicit cleanup leaves nothing behind.
# shellcheck disable=SC2153 # set by hu_net_setup
ns_c=$NS_C ns_s=$NS_S
pids=$(cat "$HU_TMP/pids"; ip netns pids "$NS_C"; ip netns pids "$NS_S")
hu_cleanup
hu__gone() { # NS_C NS_S PIDS... -> prints what is left
	local ns p
	for ns in "$1" "$2"; do
		[[ -e /run/netns/$ns ]] && echo "namespace $ns"
		[[ -e /etc/netns/$ns ]] && echo "/etc/netns/$ns"
	done
	shift 2
	for p in "$@"; do kill -0 "$p" 2>/dev/null && echo "pid $p"; done
}
# shellcheck disable=SC2086
hu_assert_eq "" "$(hu__gone "$ns_c" "$ns_s" $pids)" "nothing left after hu_cleanup"

# --- the traps clean up when a test is interrupted (Ctrl-C) or killed.
state=$(mktemp /tmp/hostup-test-trap.XXXXXX)
trap 'rm -f "$state"' EXIT
for sig in INT TERM; do
	: >"$state"
	set -m # own process group, and SIGINT not ignored as in a plain & job
	HU_STATE=$state bash -c '
		. "$1"; hu_net_setup; hu_serve_tcp 8080; hu_hostdown 9090; hu_dns_start
		hu_after 60 true
		{ echo "$NS_C $NS_S"; cat "$HU_TMP/pids"; ip netns pids "$NS_C"
		  ip netns pids "$NS_S"; } | tr "\n" " " >"$HU_STATE.tmp"
		mv "$HU_STATE.tmp" "$HU_STATE"; wait' _ "$HU_ROOT/tests/integration/lib.sh" &
	child=$!
	set +m
	for ((i = 0; i < 100; i++)); do [[ -s $state ]] && break; sleep 0.1; done
	[[ -s $state ]] || hu_fail "trap check: child did not start"
	if [[ $sig == INT ]]; then kill -INT -- "-$child"; else kill -TERM "$child"; fi
	wait "$child"
	rc=$?
	read -ra left <"$state"
	what=$(hu__gone "${left[@]}")
	if [[ -n $what ]]; then # do not leak, even when failing
		for ns in "${left[0]}" "${left[1]}"; do
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL
			ip netns del "$ns" 2>/dev/null; rm -rf "/etc/netns/$ns"
		done
	fi
	hu_assert_eq "" "$what" "nothing left after SIG$sig"
	hu_assert_eq $((128 + $(kill -l "$sig"))) "$rc" "exit status after SIG$sig"
done
hu_done
