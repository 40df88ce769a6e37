#!/bin/bash
# SPDX-License-Identifier: MIT
# hostup run's supervisor (shim/supervise/): a static C client and a Go
# net/http client (CGO_ENABLED=0), which LD_PRELOAD cannot reach, each in
# an outage (ICMP host-unreachable, then recovery): each fails without
# hostup and connects under `hostup run`, with records saying so; when the
# target never recovers, the same error text and exit code as without;
# the ADDFD way (Docker's default seccomp profile refuses pidfd_getfd); a
# Go client built with cgo (dynamically linked) is supervised too;
# the mode line; signal forwarding, exit status and zombie reaping, also as
# PID 1 of a pid namespace; a Go (supervised) and a python (preloaded)
# process sharing one prober (SYN counter); Go's resolver failing (SERVFAIL,
# silence) says the same under hostup run as without.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_cmd go unshare
hu_need_lib
hu_need_tools hu_connect_static
HOSTUP=$HU_BUILD/hostup
[[ -x $HOSTUP ]] || hu_fail "missing $HOSTUP"
CS=$HU_TOOLS/hu_connect_static

# The Go client: the standard library only, built offline into a cache
GO_CACHE=${HU_GO_CACHE:-/var/tmp/hostup-go}
GOC=$GO_CACHE/hu_goclient
bash "$HU_ROOT/tests/tools/go/build.sh" "$GOC" || hu_fail "go build of tests/tools/go/hu_goclient"

hu_net_setup
ip -n "$NS_C" link set lo up
POLICY="* attempts=60 backoff=100ms..500ms deadline=30s"

# ---- which way in -----------------------------------------------------------
mode() { "$HOSTUP" run --verbose "$@" 2>&1 >/dev/null | grep -m1 '^hostup: .*: \(supervised\|libhostup\)'; }
hu_assert_contains "$(mode -- "$CS" -h)" "supervised (statically linked)" "static C program: supervisor"
hu_assert_contains "$(mode -- "$GOC" sleep 0)" "supervised (a Go program)" "Go program: supervisor"
hu_assert_contains "$(mode -- /bin/true)" "libhostup.so preloaded" "dynamic program: the library"
hu_assert_contains "$(mode --supervise -- /bin/true)" "supervised (--supervise)" "--supervise: supervisor for all"
hu_assert_contains "$(mode --preload-only -- "$GOC" sleep 0)" "libhostup.so preloaded" "--preload-only: no supervisor"
out=$("$HOSTUP" run -- "$GOC" sleep 0 2>&1)
hu_assert_eq "" "$out" "without --verbose the mode is not said"

# ---- a static C client and a Go client in an outage ----------------------
P=8080 H=8081
hu_serve_tcp $P
hu_serve_http $H
URL=http://$IP_S:$H$HU_HTTP_PATH
hu_reject $P
hu_reject $H

out=$(hu_c "$CS" "$IP_S" $P 2>/dev/null)
hu_assert_eq "error EHOSTUNREACH" "$out" "static C client without hostup: fails"
out=$(hu_c "$GOC" http "$URL" 2>/dev/null)
rc=$?
hu_assert_contains "$out" "connect: no route to host" "Go client without hostup: fails"
hu_assert_eq 1 $rc "Go client without hostup: exit 1"

# both under hostup run while the targets are down; up again after 3 s
hu_after 3 hu_unreject
hu_c env HOSTUP_POLICY="$POLICY" HOSTUP_LOG="$HU_TMP/sc.log" "$HOSTUP" run -- "$CS" "$IP_S" $P \
	>"$HU_TMP/sc.out" 2>/dev/null &
sc=$!
hu_c env HOSTUP_POLICY="$POLICY" HOSTUP_LOG="$HU_TMP/go.log" "$HOSTUP" run -- "$GOC" http "$URL" \
	>"$HU_TMP/go.out" 2>/dev/null
rc=$?
wait $sc
rc_c=$?
hu_assert_eq 0 $rc_c "static C client under hostup run: exit 0"
hu_assert_eq "$HU_HELLO" "$(cat "$HU_TMP/sc.out")" "static C client under hostup run: connected"
hu_assert_eq 0 $rc "Go client under hostup run: exit 0"
hu_assert_eq "200 $HU_HTTP_BODY" "$(cat "$HU_TMP/go.out")" "Go client under hostup run: 200 after the outage"
for n in sc go; do
	hu_assert_ge "$(grep -c '"event":"retry"' "$HU_TMP/$n.log")" 1 "$n: retry records"
	rec=$(grep '"event":"recovered"' "$HU_TMP/$n.log")
	hu_assert_contains "$rec" '"supervised":true' "$n: recovered record, supervised"
	hu_assert_contains "$(grep -m1 '"event":"retry"' "$HU_TMP/$n.log")" '"errno":"EHOSTUNREACH"' "$n: the kernel's errno"
done
hu_assert_contains "$(grep -m1 retry "$HU_TMP/go.log")" '"program":"hu_goclient"' "records name the program, not hostup"
hu_assert_contains "$(grep -m1 retry "$HU_TMP/go.log")" '"layer":' "records carry the diagnosis"

# ---- the ADDFD way (Docker's default profile refuses pidfd_getfd) ----------
hu_reject $H
hu_after 2 hu_unreject
out=$(hu_c env HOSTUP_SUPERVISE_ADDFD=1 HOSTUP_POLICY="$POLICY" HOSTUP_LOG="$HU_TMP/addfd.log" \
	"$HOSTUP" run -- "$GOC" http "$URL" 2>/dev/null)
hu_assert_eq "200 $HU_HTTP_BODY" "$out" "ADDFD way: Go client connected after the outage"
hu_assert_contains "$(cat "$HU_TMP/addfd.log")" '"event":"recovered"' "ADDFD way: recovered record"
hu_reject $P
hu_after 2 hu_unreject
out=$(hu_c env HOSTUP_SUPERVISE_ADDFD=1 HOSTUP_POLICY="$POLICY" HOSTUP_LOG=off \
	"$HOSTUP" run -- "$CS" "$IP_S" $P 2>/dev/null)
hu_assert_eq "$HU_HELLO" "$out" "ADDFD way: static C client (blocking socket) connected"

# ---- a Go program linked against libc (cgo): its connects bypass libc too,
# so it is the supervisor's, not the library's ------------------------------
if hu_have_cmd "the cgo Go client" gcc; then
	GOD=$GO_CACHE/hu_goclient_cgo
	bash "$HU_ROOT/tests/tools/go/build.sh" "$GOD" cgo || hu_fail "go build (cgo) of hu_goclient"
	hu_assert_contains "$(readelf -l "$GOD" 2>&1)" "Requesting program interpreter" "the cgo Go client is dynamically linked"
	hu_assert_contains "$(mode -- "$GOD" sleep 0)" "supervised (a Go program)" "dynamic Go program: supervisor"
	hu_reject $P
	out=$(hu_c "$GOD" tcp "$IP_S:$P" 2>/dev/null)
	hu_assert_contains "$out" "connect: no route to host" "cgo Go client without hostup: fails"
	hu_after 2 hu_unreject
	out=$(hu_c env HOSTUP_POLICY="$POLICY" HOSTUP_LOG="$HU_TMP/cgo.log" "$HOSTUP" run -- "$GOD" tcp "$IP_S:$P" 2>/dev/null)
	hu_assert_eq "$HU_HELLO" "$out" "cgo Go client under hostup run: connected after the outage"
	hu_assert_contains "$(grep '"event":"recovered"' "$HU_TMP/cgo.log")" '"supervised":true' "cgo Go client: recovered record, supervised"
fi

# ---- never recovers: what the program would have said ---------------------
hu_reject $P
hu_reject $H
SHORT="* attempts=3 backoff=100ms..200ms"
for way in getfd addfd; do
	addfd=
	[[ $way == addfd ]] && addfd=1
	a=$(hu_c "$CS" "$IP_S" $P 2>/dev/null)
	ra=$?
	b=$(hu_c env HOSTUP_SUPERVISE_ADDFD=$addfd HOSTUP_POLICY="$SHORT" HOSTUP_LOG="$HU_TMP/never_$way.log" \
		"$HOSTUP" run -- "$CS" "$IP_S" $P 2>/dev/null)
	rb=$?
	hu_assert_eq "$a rc=$ra" "$b rc=$rb" "$way: static C, never recovers: same error and exit code"
	a=$(hu_c "$GOC" http "$URL" 2>/dev/null)
	ra=$?
	b=$(hu_c env HOSTUP_SUPERVISE_ADDFD=$addfd HOSTUP_POLICY="$SHORT" HOSTUP_LOG="$HU_TMP/never_go_$way.log" \
		"$HOSTUP" run -- "$GOC" http "$URL" 2>/dev/null)
	rb=$?
	hu_assert_eq "$a rc=$ra" "$b rc=$rb" "$way: Go, never recovers: same error text and exit code"
	gu=$(grep '"event":"gave_up"' "$HU_TMP/never_go_$way.log")
	hu_assert_contains "$gu" '"reason":"attempts"' "$way: Go: gave_up record (attempts)"
done
hu_unreject

# ---- init duties: exit status, signals, zombies ----------------------------
out=$("$HOSTUP" run --supervise -- sh -c 'exit 7')
hu_assert_eq 7 $? "exit status of the program"
"$HOSTUP" run -- "$GOC" sleep 30 &
hp=$!
sleep 1
kill -TERM $hp
t0=$(date +%s%N)
wait $hp
rc=$?
hu_assert_eq 143 $rc "SIGTERM forwarded: the Go program ended by it (128+15)"
hu_assert_lt $((($(date +%s%N) - t0) / 1000000)) 2000 "SIGTERM forwarded at once"
# a handler in the program sees the forwarded signals
out=$("$HOSTUP" run --supervise -- sh -c 'trap "echo got USR1" USR1; trap "echo got HUP" HUP;
	kill -USR1 $PPID; sleep 0.3; kill -HUP $PPID; sleep 0.3; echo done' 2>&1)
hu_assert_eq "$(printf 'got USR1\ngot HUP\ndone')" "$out" "SIGUSR1 and SIGHUP sent to hostup reach the program"
# an orphan is reparented to hostup (a subreaper) and reaped
out=$("$HOSTUP" run --supervise -- sh -c \
	'(sleep 0.3 &); sleep 1.2; ps -o stat= --ppid $PPID | grep -c Z')
hu_assert_eq 0 "$out" "orphans reaped: no zombie left"
# as PID 1 of a pid namespace (a container's ENTRYPOINT)
out=$(unshare --pid --fork --mount-proc "$HOSTUP" run -- "$GOC" sleep 0 2>&1; echo rc=$?)
hu_assert_eq "rc=0" "$out" "as PID 1: the Go program runs and its status is kept"
unshare --pid --fork --mount-proc "$HOSTUP" run -- "$GOC" sleep 30 &
up=$!
sleep 1
pid1=$(pgrep -P $up)
[[ -n $pid1 ]] || hu_fail "no hostup under unshare"
kill -TERM "$pid1"
wait $up
hu_assert_eq 143 $? "as PID 1: SIGTERM forwarded, the program's status returned"
out=$(unshare --pid --fork --mount-proc "$HOSTUP" run --supervise -- sh -c \
	'(sleep 0.3 &); sleep 1.2; ps -o stat= -e | grep -c Z')
hu_assert_eq 0 "$out" "as PID 1: orphans reaped"

# ---- a Go (supervised) and a python (preloaded) process share one prober ---
P=8082
hu_serve_tcp $P
hu_s nft insert rule inet hutest input tcp dport $P 'tcp flags & (syn|ack) == syn' counter || hu_fail "counter"
syns() { hu_s nft list chain inet hutest input | awk -v p="dport $P " 'index($0, p) { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'; }
hu_reject $P
SHM=$HU_TMP/herd.shm
# a try every 100 ms each: alone, the two would send ~40 SYNs in 2 s
FAST="* attempts=400 backoff=100ms..100ms jitter=none deadline=30s"
hu_c env HOSTUP_SHARED="$SHM" HOSTUP_POLICY="$FAST" HOSTUP_LOG="$HU_TMP/hg.log" \
	"$HOSTUP" run -- "$GOC" tcp "$IP_S:$P" >"$HU_TMP/hg.out" 2>/dev/null &
g=$!
hu_c env HOSTUP_SHARED="$SHM" HOSTUP_POLICY="$FAST" HOSTUP_LOG="$HU_TMP/hp.log" \
	"$HOSTUP" run -- "$HU_PY" -c "
import socket, sys
s = socket.create_connection(('$IP_S', $P))
sys.stdout.write(s.makefile().readline())" >"$HU_TMP/hp.out" 2>/dev/null &
p=$!
sleep 2
a=$(syns)
sleep 2
b=$(syns)
# one prober: its own 100 ms schedule, ~20 SYNs in 2 s; the other sends none
hu_assert_le $((b - a)) 26 "while down, 2 s: SYNs from one prober only ($((b - a)))"
hu_unreject
wait $g
wait $p
hu_assert_eq "$HU_HELLO" "$(cat "$HU_TMP/hg.out")" "Go (supervised) connected after the outage"
hu_assert_eq "$HU_HELLO" "$(cat "$HU_TMP/hp.out")" "python (preloaded) connected after the outage"
n=$(cat "$HU_TMP/hg.log" "$HU_TMP/hp.log" | grep -c '"event":"probe_wait"')
hu_assert_gt "$n" 0 "one of them waited for the other's probe (probe_wait records)"

# ---- DNS for Go: its resolver's failures show at read time, on a UDP
# socket whose connect succeeded; the supervisor lets UDP through, so Go
# says what it says without hostup (README, "Static and Go programs") ----
same_dns() { # WHAT STUB_ARGS...
	local what=$1 a b
	shift
	hu_dns_start "$@" --record db="$IP_S"
	a=$(hu_c "$GOC" dns db 2>/dev/null)
	hu_dns_stop
	hu_dns_start "$@" --record db="$IP_S"
	b=$(hu_c env HOSTUP_LOG=off "$HOSTUP" run -- "$GOC" dns db 2>/dev/null)
	hu_dns_stop
	a=$(echo "$a" | sed 's/:[0-9]*->/:PORT->/') b=$(echo "$b" | sed 's/:[0-9]*->/:PORT->/')
	hu_assert_eq "$a" "$b" "Go resolver, $what: the same error under hostup run"
}
same_dns SERVFAIL --servfail-for 5
same_dns "silent resolver" --drop-for 5
hu_done
