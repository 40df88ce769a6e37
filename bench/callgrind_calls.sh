#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Extra instructions per call when nothing fails, counted by callgrind on
# the same binary with and without libhostup.so.  Two loop lengths, so
# start-up and loading cancel out:
#   extra/call = ((shim(N2) - shim(N1)) - (bare(N2) - bare(N1))) / (N2 - N1)
# and the start-up cost itself: the whole run of `calls noop 0`.
# The open() rows run in a private mount namespace with a fixed mount table
# (bench/mounts.sh): without and with a network mount.  HU_BENCH_LIB: the
# library to measure (compare_calls.sh passes an older build's).
# Writes bench/results/calls.md (or $CALLS_OUT).
set -eu
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
command -v valgrind >/dev/null || { echo "bench: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
make -s lib "$B/bench/calls" >/dev/null
N1=${N1:-200} N2=${N2:-1200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
# a fresh shared-state file for every run: targets other programs (or an
# earlier run) left in one would change the connect row's path

instr() { # PRELOAD OP N -> total instructions (Ir)
	local out=$tmp/cg.out op=$2 pre=()
	case $op in
	close) pre=(env NETMOUNT=0 bash bench/mounts.sh) ;;
	close_net) pre=(env NETMOUNT=1 bash bench/mounts.sh) op=close ;;
	esac
	rm -f "$tmp/hostup-shared"
	"${pre[@]}" env ${1:+LD_PRELOAD=$1} HOSTUP_LOG=off HOSTUP_SHARED="$tmp/hostup-shared" valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$B/bench/calls" "$op" "$3" >/dev/null 2>&1
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

out=${CALLS_OUT:-bench/results/calls.md}
{
	echo "# Instructions per call when nothing fails"
	echo
	echo "Command: \`bash bench/callgrind_calls.sh\` (run by \`make bench\`; callgrind, loops of $N1 and $N2 calls)."
	echo "Machine: $(bash bench/machine.sh)."
	echo "callgrind counts user-space instructions only; the kernel's share of each call is not in either column."
	echo "Targets (from the benchmarks issue): at most 15 extra instructions for read/write/poll/epoll_wait on fds"
	echo "hostup does not track; at most 1 % extra for connect and getaddrinfo."
	echo
	echo "| call | bare instr/call | with hostup | extra | extra % | target | met |"
	echo "|---|---:|---:|---:|---:|---|---|"
} >"$out"
label() {
	case $1 in
	readfile) echo 'read() of 64 bytes from a local file' ;;
	writefile) echo 'write() of 64 bytes to a local file' ;;
	readpipe) echo 'read() of 16 bytes from a pipe' ;;
	writepipe) echo 'write() of 16 bytes to a pipe' ;;
	poll100) echo 'poll() over 100 idle fds, timeout 0' ;;
	epoll1000) echo 'epoll_wait() with 1,000 registered idle fds, timeout 0' ;;
	close) echo 'open() + close() of a local file' ;;
	close_net) echo 'open() + close() of a local file, a network mount present' ;;
	connect) echo 'connect() to a loopback listener (+ accept, close)' ;;
	getaddrinfo) echo 'getaddrinfo("localhost")' ;;
	gethostbyname) echo 'gethostbyname("localhost")' ;;
	esac
}
target() {
	case $1 in
	readfile | writefile | readpipe | writepipe | poll100 | epoll1000) echo "<= 15 instr" ;;
	connect | getaddrinfo) echo "<= 1 %" ;;
	close | close_net) echo "<= 25 instr" ;;
	*) echo "-" ;;
	esac
}
lib=${HU_BENCH_LIB:-$PWD/$B/libhostup.so}
for op in readfile writefile readpipe writepipe poll100 epoll1000 close close_net connect getaddrinfo gethostbyname; do
	b1=$(instr "" $op $N1) b2=$(instr "" $op $N2)
	s1=$(instr "$lib" $op $N1) s2=$(instr "$lib" $op $N2)
	awk -v what="$(label $op)" -v tgt="$(target $op)" -v b1=$b1 -v b2=$b2 -v s1=$s1 -v s2=$s2 -v n=$((N2 - N1)) 'BEGIN {
		bare = (b2 - b1) / n; shim = (s2 - s1) / n; x = shim - bare; pc = 100 * x / bare
		met = "-"
		if (tgt ~ /instr/) { split(tgt, t, " "); met = (x <= t[2] + 0.5) ? "yes" : "no" }
		if (tgt ~ /%/) met = (pc <= 1) ? "yes" : "no (user space only; see overhead.md for wall time)"
		printf "| %s | %.0f | %.0f | %+.0f | %+.2f%% | %s | %s |\n", what, bare, shim, x, pc, tgt, met }' >>"$out"
	echo "bench: callgrind $op done" >&2
done
b=$(instr "" noop 0) s=$(instr "$lib" noop 0)
{
	echo
	echo "Start-up: a program that returns from main() at once executes $b instructions without hostup and"
	echo "$s with it: loading, relocating and initialising the library (binding the wrapped calls with dlsym,"
	echo "reading HOSTUP_POLICY) costs $((s - b)) instructions. Wall time: bench/results/overhead.md."
} >>"$out"
cat "$out"
