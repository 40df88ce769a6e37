#!/usr/bin/env bash
# Extra instructions per wrapped call when nothing fails, counted by
# callgrind on the same binary with and without libhostup.so.  Two loop
# lengths, so start-up and loading cancel out:
#   extra/call = ((shim(N2) - shim(N1)) - (bare(N2) - bare(N1))) / (N2 - N1)
# Writes bench/results/calls.md.
set -eu
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
command -v valgrind >/dev/null || { echo "bench: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
make -s lib "$B/bench/calls" >/dev/null
N1=${N1:-200} N2=${N2:-1200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

instr() { # PRELOAD OP N -> total instructions (Ir)
	local out=$tmp/cg.out
	env ${1:+LD_PRELOAD=$1} HOSTUP_LOG=off valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$B/bench/calls" "$2" "$3" >/dev/null 2>&1
	awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

out=bench/results/calls.md
{
	echo "# Instructions per call when nothing fails"
	echo
	echo "Command: \`bash bench/callgrind_calls.sh\` (callgrind, loops of $N1 and $N2 calls)."
	echo "Machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(ldd --version | head -1)."
	echo "callgrind counts user-space instructions only; the kernel's share of each call is not in either column."
	echo
	echo "| call | bare instr/call | with hostup | extra | extra % |"
	echo "|---|---:|---:|---:|---:|"
} >"$out"
label() {
	case $1 in
	connect) echo 'connect() to a loopback listener (+ accept, close)' ;;
	getaddrinfo) echo 'getaddrinfo("localhost")' ;;
	gethostbyname) echo 'gethostbyname("localhost")' ;;
	poll100) echo 'poll() over 100 idle fds, timeout 0' ;;
	epoll1000) echo 'epoll_wait() with 1,000 registered idle fds, timeout 0' ;;
	close) echo 'open() + close() of a local file' ;;
	esac
}
for op in connect getaddrinfo gethostbyname poll100 epoll1000 close; do
	b1=$(instr "" $op $N1) b2=$(instr "" $op $N2)
	s1=$(instr "$PWD/$B/libhostup.so" $op $N1) s2=$(instr "$PWD/$B/libhostup.so" $op $N2)
	awk -v what="$(label $op)" -v b1=$b1 -v b2=$b2 -v s1=$s1 -v s2=$s2 -v n=$((N2 - N1)) 'BEGIN {
		bare = (b2 - b1) / n; shim = (s2 - s1) / n
		printf "| %s | %.0f | %.0f | %+.0f | %+.2f%% |\n", what, bare, shim, shim - bare, 100 * (shim - bare) / bare }' >>"$out"
	echo "bench: $op done" >&2
done
cat "$out"
