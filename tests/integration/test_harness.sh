#!/bin/bash
# SPDX-License-Identifier: MIT
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

# --- a failed check fails the test wherever it runs: in $(...), a pipe, a
# subshell, a background job; a lookup that finds nothing fails; a hang
# fails with a message; a skipped part is counted.  Each case is a small
# test of its own, run in a fresh bash; ST_RC, ST_OUT (stdout and stderr).
selftest() { # BODY (a test's script after sourcing lib.sh and records.sh)
	ST_OUT=$(cd "$HU_TMP" && timeout 60 bash -c 'set -u; . "$1/lib.sh"; . "$1/records.sh"; eval "$2"' \
		_ "$HU_ROOT/tests/integration" "$1" 2>&1)
	ST_RC=$?
	printf '%s\n' "$ST_OUT" | sed 's/^/    | /'
}
st_fails() { # WHAT MESSAGE BODY: the test fails (exit 1) and says MESSAGE
	selftest "$3"
	hu_assert_eq 1 "$ST_RC" "$1: the test fails"
	hu_assert_contains "$ST_OUT" "$2" "$1: the failure is named"
	[[ $ST_OUT != *PASS:* ]] || hu_fail "$1: a PASS line after a failure"
	hu_ok "$1: no PASS line"
}
st_fails 'hu_fail in $(...)' "FAIL: inner check" 'x=$(hu_fail "inner check"); hu_ok "after"; hu_done'
st_fails 'hu_fail in a pipe' "FAIL: piped check" 'echo a | { read -r; hu_fail "piped check"; }; hu_done'
st_fails 'hu_fail in ( )' "FAIL: sub check" '( hu_fail "sub check" ); hu_done'
st_fails 'hu_assert_eq in $(...)' "expected 'a', got 'b'" 'y=$(hu_assert_eq a b "inner eq"); hu_done'
st_fails 'hu_fail in hu_after' "late check" 'hu_after 0.2 hu_fail "late check"; sleep 1; echo "went on"; hu_done'
hu_assert_eq "" "$(grep -x 'went on' <<<"$ST_OUT")" "hu_fail in hu_after: the test stops after the command it was in"
# without the signal (as if it came too late): the mark alone fails the test
st_fails 'the mark, at hu_done' "quiet check" 'x=$(HU__PID=$BASHPID; hu_fail "quiet check"); hu_ok "after"; hu_done'
st_fails 'the mark, at exit' "quiet check" 'x=$(HU__PID=$BASHPID; hu_fail "quiet check"); true'
st_fails 'hu_field with no such record' "hu_field x gave_up errno: no gave_up record" \
	'echo "{\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"config_error\",\"pid\":1,\"program\":\"p\",\"source\":\"s\",\"reason\":\"r\"}" >"$HU_TMP/x.log"
	 hu_assert_eq "" "$(hu_field x gave_up errno)" "compares with nothing"; hu_done'
st_fails 'hu_bounded' "sleeper hung: still running after 1 s" 'hu_bounded 1 sleeper sleep 30; hu_done'
st_fails 'hu_wait' "waiter: process" 'sleep 30 & hu_wait 1 waiter $!; hu_done'
selftest 'hu_at_exit "echo hook ran"; hu_have_cmd "frobbing" hu-no-such-command || hu_ok "went without"; hu_done'
hu_assert_eq 0 "$ST_RC" "a part skipped: the test still passes"
hu_assert_contains "$ST_OUT" "skip: _: frobbing: needs hu-no-such-command" "a part skipped: a skip: line for tests/run.sh"
hu_assert_contains "$ST_OUT" "1 checks, 1 part(s) skipped" "a part skipped: said in the PASS line"
hu_assert_contains "$ST_OUT" "hook ran" "hu_at_exit: the hook ran"
selftest 'HU_KEEP_TMP=1; echo "$HU_TMP" >"$HU_TMP/me"; hu_done'
kept=$(sed -n 's/^logs kept in //p' <<<"$ST_OUT")
[[ -n $kept && -f $kept/me ]] || hu_fail "HU_KEEP_TMP: the test's directory is not kept ($kept)"
hu_ok "HU_KEEP_TMP: $kept kept and named"
rm -rf "$kept"
selftest 'echo "$HU_TMP" >&2; hu_done'
[[ -n $ST_OUT && ! -e ${ST_OUT%%$'\n'*} ]] || hu_fail "without HU_KEEP_TMP the test's directory stays: $ST_OUT"
hu_ok "without HU_KEEP_TMP the test's directory is removed"

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
hu_at_exit 'rm -f "$state"'
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
	for ((i = 0; i < 300; i++)); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
	hung=0
	kill -0 "$child" 2>/dev/null && { hung=1; kill -KILL -- "-$child"; }
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
	((hung == 0)) || hu_fail "trap check: the test still ran 30 s after SIG$sig"
	hu_assert_eq "" "$what" "nothing left after SIG$sig"
	hu_assert_eq $((128 + $(kill -l "$sig"))) "$rc" "exit status after SIG$sig"
done
hu_done
