# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Integration-test helpers for hostup. Source it from a test script:
#   . "$(dirname "$0")/lib.sh"; hu_need_root; hu_net_setup; ...
# A test exits 0 on pass, 1 on fail, 77 on skip. Works under `set -u`.
#
# Network: client ns ($NS_C, $IP_C) <-veth-> server ns ($NS_S, $IP_S), both
# in 198.18.0.0/24 (RFC 2544 test range). The client has no default route,
# so nothing a test does can leave the machine.
#
# Failures: hu_fail anywhere fails the test, also inside $(...), a pipe or a
# background job (hu_after): it leaves a mark in $HU__FAILED and signals the
# test's main shell (SIGUSR1), which stops the test; hu_done and the EXIT
# trap refuse to pass while the mark is there.  The EXIT trap is lib.sh's:
# a test adds its own clean-up with hu_at_exit, never with `trap ... EXIT`.
#
# Skips: a whole test exits 77 ("skipped: WHY", hu_need_*); a part of a test
# that cannot run here is hu_skip WHY, a "skip: WHY" line tests/run.sh
# counts as skipped.  Never a silent `|| { echo note; }`.
#
# Waits: every one has a bound and a message naming what hung.  hu_run kills
# its command after HU_MAX seconds (default HU_RUN_MAX, 90) and fails;
# hu_bounded SECS WHAT CMD... does the same for any command.
#
# Environment:
#   HU_KEEP_TMP=1   keep the test's $HU_TMP (logs, records) and print its path
#   HU_BUILD        the build to test (default ./build)
HU_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HU_BUILD=${HU_BUILD:-$HU_ROOT/build}
HU_LIB=$HU_BUILD/libhostup.so
HU_TOOLS=$HU_BUILD/tools
HU_STUB_DNS=$HU_ROOT/tests/tools/stub_dns.py
# The system python starts faster than a pyenv shim and has all we need.
if [[ -z ${HU_PY:-} ]]; then
	HU_PY=$(command -v python3)
	[[ -x /usr/bin/python3 ]] && HU_PY=/usr/bin/python3
fi
HU_HELLO="hello from hostup-test"
HU_HTTP_BODY="hostup-test http body"
HU_HTTP_PATH=/hello.txt
IP_C=198.18.0.1 IP_S=198.18.0.2 IP_ABSENT=198.18.0.3
HU_PASSES=0
# What LD_PRELOAD gets for the library.  A sanitizer build (make check
# SANITIZE=..., tests/run.sh) needs its runtime loaded before anything else:
# HU_PRELOAD_PREFIX names it, and the *SAN_OPTIONS come from tests/run.sh.
if [[ -n ${HU_SANITIZE:-} && -z ${HU_PRELOAD_PREFIX:-} ]]; then
	case $HU_SANITIZE in
	*thread*) HU_PRELOAD_PREFIX=$(gcc -print-file-name=libtsan.so) ;;
	*address*) HU_PRELOAD_PREFIX=$(gcc -print-file-name=libasan.so) ;;
	*undefined*) HU_PRELOAD_PREFIX=$(gcc -print-file-name=libubsan.so) ;;
	esac
fi
HU_PRELOAD="${HU_PRELOAD_PREFIX:+$HU_PRELOAD_PREFIX }$HU_LIB"
export HU_ROOT HU_BUILD HU_LIB HU_PRELOAD HU_TOOLS IP_C IP_S IP_ABSENT HU_HELLO

# ---- the test's own state: temp dir, failure mark, exit trap ----------------

# Made when lib.sh is sourced, before any subshell exists: every subshell
# and background job of the test knows these.
HU__PID=$BASHPID
HU_TMP=$(mktemp -d /tmp/hostup-test.XXXXXX) || { echo "FAIL: mktemp" >&2; exit 1; }
HU__FAILED=$HU_TMP/.hu_failed   # one line per failed check, wherever it ran
HU__SKIPS=$HU_TMP/.hu_skips     # one line per part skipped (hu_skip)
: >"$HU_TMP/pids"
HU__AT_EXIT=()
HU_RUN_MAX=${HU_RUN_MAX:-90}

# CMD (a string, eval'ed) runs at exit, before hu_cleanup; last added first.
hu_at_exit() { HU__AT_EXIT+=("$1"); }

hu__exit() {
	local rc=$? i
	trap '' USR1
	[[ $BASHPID == "$HU__PID" ]] || return "$rc"
	for ((i = ${#HU__AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${HU__AT_EXIT[i]}"; done
	hu_cleanup
	if [[ $rc == 0 && -s $HU__FAILED ]]; then
		echo "FAIL: ${0##*/}: a check failed in a subshell or background job: $(head -n 1 "$HU__FAILED")" >&2
		rc=1
	fi
	if [[ -n ${HU_KEEP_TMP:-} ]]; then
		echo "logs kept in $HU_TMP" >&2
	else
		rm -rf "$HU_TMP"
	fi
	exit "$rc"
}

# A subshell's hu_fail: stop the test now (after the command running).
hu__subfail() {
	trap '' USR1
	echo "FAIL: ${0##*/}: stopped: a check failed in a subshell or background job: $(head -n 1 "$HU__FAILED" 2>/dev/null)" >&2
	exit 1
}

trap hu__exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap hu__subfail USR1

# ---- skips, failures, assertions -------------------------------------------

hu_need_root() { [[ $(id -u) == 0 ]] || { echo "skipped: needs root"; exit 77; }; }

hu_need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "skipped: needs $c"; exit 77; }
	done
}

# A part of the test that cannot run here: tests/run.sh counts the line.
hu_skip() { # WHY
	echo "skip: ${0##*/}: $*"
	echo "$*" >>"$HU__SKIPS"
}

# True when every CMD is there; else the part WHAT is skipped (hu_skip).
hu_have_cmd() { # WHAT CMD...
	local what=$1 c
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { hu_skip "$what: needs $c"; return 1; }
	done
}

# A missing build output is a failure, not a skip: it would hide a broken build.
hu_need_tools() {
	local t
	for t in "$@"; do
		[[ -x $HU_TOOLS/$t ]] || hu_fail "missing $HU_TOOLS/$t (build the tools first)"
	done
}

hu_need_lib() { [[ -f $HU_LIB ]] || hu_fail "missing $HU_LIB (build it first)"; }

# Fails the test, from any shell of it: the main shell exits 1; a subshell
# ($(...), a pipe, hu_after's job) exits too, after marking the failure and
# signalling the main shell, which stops the test (hu__subfail).
hu_fail() {
	local f
	echo "FAIL: $*" >&2
	[[ -n ${HU_RC:-} ]] && printf '  last run: rc=%s %sms out=%q\n  stderr: %s\n' \
		"$HU_RC" "${HU_MS:-?}" "${HU_OUT:-}" "${HU_ERR:-}" >&2
	for f in "${HU_TMP:-/nonexistent}"/*.log; do
		[[ -s $f ]] && { echo "  --- tail of ${f##*/}"; tail -n 8 "$f"; } >&2
	done
	printf '%s\n' "$*" >>"$HU__FAILED" 2>/dev/null
	[[ $BASHPID != "$HU__PID" ]] && kill -USR1 "$HU__PID" 2>/dev/null
	exit 1
}

hu_ok() { HU_PASSES=$((HU_PASSES + 1)); echo "ok: $*"; }

hu_assert_eq() { # EXPECTED ACTUAL [MSG]
	[[ $2 == "$1" ]] || hu_fail "${3:-assert_eq}: expected '$1', got '$2'"
	hu_ok "${3:-assert_eq} ('$2')"
}

hu_assert_ne() { # UNEXPECTED ACTUAL [MSG]
	[[ $2 != "$1" ]] || hu_fail "${3:-assert_ne}: got '$2'"
	hu_ok "${3:-assert_ne} ('$2')"
}

hu_assert_contains() { # HAYSTACK NEEDLE [MSG]
	[[ $1 == *"$2"* ]] || hu_fail "${3:-assert_contains}: '$2' not in '$1'"
	hu_ok "${3:-assert_contains} ('$2')"
}

hu_assert_match() { # ERE ACTUAL [MSG]
	[[ $2 =~ $1 ]] || hu_fail "${3:-assert_match}: '$2' does not match /$1/"
	hu_ok "${3:-assert_match} ('$2')"
}

hu__cmp() { # TESTOP SYMBOL A B MSG  (integers)
	[[ $3 =~ ^-?[0-9]+$ && $4 =~ ^-?[0-9]+$ ]] || hu_fail "$5: not integers: '$3' '$4'"
	test "$3" "$1" "$4" || hu_fail "$5: expected $3 $2 $4"
	hu_ok "$5 ($3 $2 $4)"
}
hu_assert_lt() { hu__cmp -lt '<' "$1" "$2" "${3:-assert_lt}"; }
hu_assert_le() { hu__cmp -le '<=' "$1" "$2" "${3:-assert_le}"; }
hu_assert_gt() { hu__cmp -gt '>' "$1" "$2" "${3:-assert_gt}"; }
hu_assert_ge() { hu__cmp -ge '>=' "$1" "$2" "${3:-assert_ge}"; }

hu_done() {
	local skips=
	[[ -s $HU__FAILED ]] && hu_fail "a check failed in a subshell or background job: $(head -n 1 "$HU__FAILED")"
	[[ -s $HU__SKIPS ]] && skips=", $(wc -l <"$HU__SKIPS") part(s) skipped"
	echo "PASS: ${0##*/}: $HU_PASSES checks$skips"
	exit 0
}

# ---- process tracking and cleanup -------------------------------------------

# Background pids go to a file so jobs started inside hu_after subshells are
# tracked too.
hu__track() { echo "$1" >>"$HU_TMP/pids"; }

# PID... -> those pids plus all their live descendants.
hu__tree() {
	ps -e -o pid=,ppid= | awk -v roots="$*" '
		BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = 1 }
		{ parent[$1] = $2; alive[$1] = 1 }
		END {
			do { more = 0
				for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; more = 1 }
			} while (more)
			for (p in want) if (p in alive) print p
		}'
}

hu__kill() { # PID... : TERM the trees, KILL what is left after 2 s
	local pids i me=$BASHPID
	pids=$(hu__tree "$@" | grep -vx "$me")
	[[ -n $pids ]] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 20; i++)); do
		# shellcheck disable=SC2086
		kill -0 $pids 2>/dev/null || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	return 0
}

# Idempotent; only the test's main shell cleans up: every tracked process
# (and whatever runs in the namespaces) is killed, the namespaces deleted.
# $HU_TMP goes at exit (hu__exit), unless HU_KEEP_TMP is set.
hu_cleanup() {
	local ns roots
	[[ $HU__PID == "$BASHPID" && $HU__CLEANED == 0 ]] || return 0
	HU__CLEANED=1
	roots=$(cat "$HU_TMP/pids" 2>/dev/null)
	if [[ -n ${NS_C:-} ]]; then
		for ns in "$NS_C" "$NS_S"; do roots+=" $(ip netns pids "$ns" 2>/dev/null)"; done
	fi
	# shellcheck disable=SC2086
	hu__kill $roots
	if [[ -n ${NS_C:-} ]]; then
		for ns in "$NS_C" "$NS_S"; do
			[[ -e /run/netns/$ns ]] && ip netns del "$ns"
			rm -rf "/etc/netns/$ns"
		done
		[[ $HU__MADE_ETC_NETNS == 1 ]] && rmdir /etc/netns 2>/dev/null
	fi
	return 0
}
HU__CLEANED=0

# ---- network ---------------------------------------------------------------

hu_c() { ip netns exec "$NS_C" "$@"; }
hu_s() { ip netns exec "$NS_S" "$@"; }

# Namespaces of a test that was killed (its pid, in their names, is gone):
# nothing else removes them.
hu__net_stale() {
	local ns pid
	for ns in /run/netns/hu-[cs]-*; do
		[[ -e $ns ]] || continue
		ns=${ns##*/} pid=${ns#hu-?-}
		[[ $pid =~ ^[0-9]+$ ]] || continue
		kill -0 "$pid" 2>/dev/null && continue
		# shellcheck disable=SC2046
		kill -9 $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null
		ip netns del "$ns" 2>/dev/null && rm -rf "/etc/netns/$ns"
	done
	return 0
}

hu_net_setup() {
	hu_need_root
	hu_need_cmd ip nft ss ps awk "$HU_PY"
	hu__net_stale
	NS_C=hu-c-$$ NS_S=hu-s-$$ IF_C=hu-c0 IF_S=hu-s0
	export NS_C NS_S IF_C IF_S
	# shared state (herd control) of this test alone: tests running at the
	# same time never see each other's failing targets
	export HOSTUP_SHARED=$HU_TMP/hostup-shared
	HU__MADE_ETC_NETNS=0
	[[ -d /etc/netns ]] || HU__MADE_ETC_NETNS=1
	{
		ip netns add "$NS_C" && ip netns add "$NS_S" &&
		# created directly inside the namespaces: names need not be unique
		ip link add "$IF_C" netns "$NS_C" type veth peer name "$IF_S" netns "$NS_S" &&
		ip -n "$NS_C" addr add "$IP_C/24" dev "$IF_C" &&
		ip -n "$NS_S" addr add "$IP_S/24" dev "$IF_S" &&
		ip -n "$NS_C" link set lo up && ip -n "$NS_S" link set lo up &&
		ip -n "$NS_C" link set "$IF_C" up && ip -n "$NS_S" link set "$IF_S" up &&
		# the kernel rate-limits ICMP errors per peer (1/s after a burst of 6);
		# tests that reject many SYNs in a row must get an ICMP for each one
		hu_s sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 &&
		hu_s nft -f - <<-'EOF'
			table inet hutest {
				chain reject_rules { }
				chain hostdown_rules { }
				chain input {
					type filter hook input priority 0; policy accept;
					jump reject_rules
					jump hostdown_rules
				}
			}
		EOF
	} || hu_fail "hu_net_setup: could not build the test network"
	# `ip netns exec` bind-mounts this over /etc/resolv.conf
	if ! mkdir -p "/etc/netns/$NS_C" ||
		! printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$IP_S" \
			>"/etc/netns/$NS_C/resolv.conf"; then
		hu_fail "hu_net_setup: resolv.conf"
	fi
}

# ---- servers and failures ---------------------------------------------------

hu__listening() { [[ -n $(hu_s ss -Hln"${1:0:1}" "sport = :$2") ]]; } # tcp|udp PORT

hu__wait_listen() { # tcp|udp PORT
	local i
	for ((i = 0; i < 50; i++)); do hu__listening "$1" "$2" && return 0; sleep 0.1; done
	hu_fail "nothing listening on $1 port $2 in $NS_S"
}

hu__wait_line() { # FILE TEXT WHAT
	local i
	for ((i = 0; i < 50; i++)); do grep -qF "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	hu_fail "$3 did not get ready (see $1)"
}

# Answers every connection with "$HU_HELLO\n" and closes.  BACKLOG
# (default 128): the listen queue, for tests that connect by the thousand.
hu_serve_tcp() { # PORT [BACKLOG]
	hu_s "$HU_PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(int(sys.argv[3]))
while True:
    c, _ = s.accept()
    try:
        c.sendall(sys.argv[2].encode() + b"\n")
    except OSError:
        pass
    c.close()
' "$1" "$HU_HELLO" "${2:-128}" >>"$HU_TMP/serve_tcp_$1.log" 2>&1 &
	hu__track $!
	hu__wait_listen tcp "$1"
}

# Serves $HU_HTTP_BODY at http://$IP_S:PORT$HU_HTTP_PATH
hu_serve_http() { # PORT
	mkdir -p "$HU_TMP/www" && echo "$HU_HTTP_BODY" >"$HU_TMP/www$HU_HTTP_PATH"
	hu_s "$HU_PY" -m http.server --bind 0.0.0.0 --directory "$HU_TMP/www" "$1" \
		>>"$HU_TMP/serve_http_$1.log" 2>&1 &
	hu__track $!
	hu__wait_listen tcp "$1"
}

# SYNs to PORT get ICMP host-unreachable: connect() fails with EHOSTUNREACH.
hu_reject() { # PORT
	hu_s nft add rule inet hutest reject_rules tcp dport "$1" \
		reject with icmp type host-unreachable || hu_fail "hu_reject $1"
}
hu_unreject() { hu_s nft flush chain inet hutest reject_rules || hu_fail "hu_unreject"; }

# SYNs to PORT get ICMP host-unknown (code 7): connect() fails with EHOSTDOWN.
hu_hostdown() { # PORT
	local log=$HU_TMP/hostdown_$1.log
	hu_s "$HU_TOOLS/hu_icmp_hostdown" "$1" "$IF_S" 2>>"$log" &
	hu__track $!
	echo $! >>"$HU_TMP/hostdown.pids"
	hu__wait_line "$log" "ready port $1" "hu_icmp_hostdown $1"
	# the responder sees SYNs before netfilter; dropping them stops the RST
	hu_s nft add rule inet hutest hostdown_rules tcp dport "$1" \
		'tcp flags & (syn|ack) == syn' drop || hu_fail "hu_hostdown $1"
}
hu_unhostdown() {
	# responder first: a SYN dropped meanwhile is only retransmitted, whereas
	# a late ICMP racing the SYN-ACK could fail a good connect
	# shellcheck disable=SC2046
	[[ -s $HU_TMP/hostdown.pids ]] && hu__kill $(<"$HU_TMP/hostdown.pids")
	: >"$HU_TMP/hostdown.pids"
	hu_s nft flush chain inet hutest hostdown_rules || hu_fail "hu_unhostdown"
}

# $IP_ABSENT gets no ARP answer (EHOSTUNREACH after ~3 s) until DELAY_S
# seconds from now, when the server takes it; starts a server on PORT if none.
hu_absent_appear() { # DELAY_S PORT
	hu__listening tcp "$2" || hu_serve_tcp "$2"
	hu_after "$1" ip -n "$NS_S" addr add "$IP_ABSENT/24" dev "$IF_S"
}

# Runs CMD (a command or a lib function) in the background after DELAY_S.
hu_after() { # DELAY_S CMD...
	local d=$1
	shift
	( sleep "$d"; echo "hu_after: $*"; "$@" ) >>"$HU_TMP/after.log" 2>&1 &
	hu__track $!
}

# Like hu_after, but the delay starts when FILE first holds TEXT (a program
# slow to start, under valgrind or a loaded machine, still meets the
# failure); fails the test if TEXT is not there within 120 s.
hu_after_line() { # FILE TEXT DELAY_S CMD...
	local f=$1 text=$2 d=$3
	shift 3
	( for ((i = 0; i < 1200; i++)); do grep -qF "$text" "$f" 2>/dev/null && break; sleep 0.1; done
	  grep -qF "$text" "$f" 2>/dev/null || hu_fail "hu_after_line: '$text' not in $f within 120 s (for: $*)"
	  sleep "$d"; echo "hu_after_line: $*"; "$@" ) >>"$HU_TMP/after.log" 2>&1 &
	hu__track $!
}

# Stub DNS on $IP_S:53 in the server ns; ARGS go to stub_dns.py, e.g.
#   hu_dns_start --servfail-for 3 --record db=$IP_S
hu_dns_start() { # ARGS...
	local n log
	n=$(find "$HU_TMP" -maxdepth 1 -name 'dns_*.log' | wc -l)
	log=$HU_TMP/dns_$n.log # one log per start, so an old ready line cannot count
	hu_s "$HU_PY" "$HU_STUB_DNS" --addr "$IP_S" --port 53 "$@" 2>>"$log" &
	hu__track $!
	echo $! >"$HU_TMP/dns.pid"
	hu__wait_line "$log" "ready on $IP_S:53" "stub_dns"
}
hu_dns_stop() { [[ -s $HU_TMP/dns.pid ]] && hu__kill "$(<"$HU_TMP/dns.pid")"; : >"$HU_TMP/dns.pid"; }

# ---- running the client -----------------------------------------------------

# Runs CMD bounded: killed after SECS (whole seconds), and then the test
# fails with "WHAT hung"; else returns CMD's exit status.  Usable in $(...).
# Redirect CMD's output with --out/--err, not around the call: the failure
# message must reach the test's own stderr.
hu_bounded() { # SECS WHAT [--out FILE] [--err FILE] CMD...
	local secs=$1 what=$2 out='' err='' rc t0=${EPOCHREALTIME/[.,]/}
	shift 2
	while [[ $1 == --out || $1 == --err ]]; do
		if [[ $1 == --out ]]; then out=$2; else err=$2; fi
		shift 2
	done
	if [[ -n $out && -n $err ]]; then timeout -k 5 "$secs" "$@" >"$out" 2>"$err"
	elif [[ -n $out ]]; then timeout -k 5 "$secs" "$@" >"$out"
	elif [[ -n $err ]]; then timeout -k 5 "$secs" "$@" 2>"$err"
	else timeout -k 5 "$secs" "$@"
	fi
	rc=$?
	if [[ $rc == 124 || $rc == 137 ]] && (((${EPOCHREALTIME/[.,]/} - t0) / 1000 >= secs * 1000 - 100)); then
		hu_fail "$what hung: still running after $secs s, killed ($*)"
	fi
	return "$rc"
}

# Waits at most SECS for PIDs (this shell's background jobs) to end; fails
# the test, naming WHAT, when one is still running then.
hu_wait() { # SECS WHAT PID...
	local secs=$1 what=$2 i p alive
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && { alive=1; break; }; done
		((alive)) || break
		sleep 0.1
	done
	for p in "$@"; do kill -0 "$p" 2>/dev/null && hu_fail "$what: process $p still running after $secs s"; done
	for p in "$@"; do wait "$p" 2>/dev/null; done
	return 0
}

# Runs CMD in the client ns; sets HU_OUT (stdout), HU_ERR (stderr), HU_RC and
# HU_MS (wall time incl. ~5 ms of ip-netns-exec). Fails the test only when
# CMD runs longer than HU_MAX seconds (default $HU_RUN_MAX): give a call
# whose time is asserted a bound of its own, e.g. HU_MAX=10 hu_run ...
# With the library: hu_run env LD_PRELOAD="$HU_PRELOAD" "$HU_TOOLS/hu_connect" ...
hu_run() { # CMD...
	local t0=${EPOCHREALTIME/[.,]/} t1 max=${HU_MAX:-$HU_RUN_MAX}
	# timeout is not preloaded; it kills CMD's whole process group
	HU_OUT=$(timeout -k 5 "$max" ip netns exec "$NS_C" "$@" </dev/null 2>"$HU_TMP/run.err")
	HU_RC=$?
	t1=${EPOCHREALTIME/[.,]/}
	HU_MS=$(((t1 - t0) / 1000))
	HU_ERR=$(<"$HU_TMP/run.err")
	printf 'run: %s -> rc=%s %sms out=%q\n' "$*" "$HU_RC" "$HU_MS" "$HU_OUT"
	if [[ $HU_RC == 124 || $HU_RC == 137 ]] && ((HU_MS >= max * 1000 - 100)); then
		hu_fail "hung: still running after $max s (HU_MAX), killed: $*"
	fi
	return 0
}
