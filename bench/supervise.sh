#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The supervisor's cost: CPU (user + system, the program and hostup
# together) per connect against loopback, with and without `hostup run`,
# for a static C client (bench/connects.c) and a Go client
# (tests/tools/go); the same connects let through at once (a rule that
# never retries: SECCOMP_USER_NOTIF_FLAG_CONTINUE); per getppid() call,
# which the filter lets through; and the floor of any trapped call, a
# getppid() trapped and answered at once (bench/notify_floor.c).
# Each figure is the slope between two run lengths, so start-up cancels
# out; the median of REPS runs.  Writes bench/results/supervise.md.
set -u
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
HOSTUP=$B/hostup
REPS=${REPS:-5}
PORT=${PORT:-18999}
GO_CACHE=${HU_GO_CACHE:-/var/tmp/hostup-go}
mkdir -p "$B/bench" bench/results
gcc -O2 -static -o "$B/bench/connects" bench/connects.c || exit 1
gcc -O2 -o "$B/bench/notify_floor" bench/notify_floor.c || exit 1
HU_GO_CACHE=$GO_CACHE bash tests/tools/go/build.sh "$GO_CACHE/hu_goclient" || exit 1
C=$B/bench/connects GOC=$GO_CACHE/hu_goclient
"$C" serve "$PORT" >/dev/null &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
sleep 0.3

# CPU microseconds of one run of the command (its whole process tree)
cpu_us() {
	python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(int((r.ru_utime + r.ru_stime) * 1e6))' "$@"
}
# median over REPS of (cpu(N2) - cpu(N1)) / (N2 - N1), in us
per_call() { # N1 N2 CMD... (CMD with @N@ for the count)
	local n1=$1 n2=$2 i a b
	shift 2
	for ((i = 0; i < REPS; i++)); do
		a=$(cpu_us "${@//@N@/$n1}") || return 1
		b=$(cpu_us "${@//@N@/$n2}") || return 1
		echo "($b - $a) / ($n2 - $n1)" | bc -l
	done | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'
}
export HOSTUP_LOG=off HOSTUP_SHARED=off
c0=$(per_call 2000 20000 "$C" connect "$PORT" @N@)
c1=$(per_call 2000 20000 "$HOSTUP" run -- "$C" connect "$PORT" @N@)
g0=$(per_call 2000 20000 "$GOC" bench "127.0.0.1:$PORT" @N@)
g1=$(per_call 2000 20000 "$HOSTUP" run -- "$GOC" bench "127.0.0.1:$PORT" @N@)
cc=$(HOSTUP_POLICY="* attempts=1" per_call 2000 20000 "$HOSTUP" run -- "$C" connect "$PORT" @N@)
gc=$(HOSTUP_POLICY="* attempts=1" per_call 2000 20000 "$HOSTUP" run -- "$GOC" bench "127.0.0.1:$PORT" @N@)
s0=$(per_call 1000000 10000000 "$C" syscall @N@)
s1=$(per_call 1000000 10000000 "$HOSTUP" run -- "$C" syscall @N@)
f1=$(per_call 20000 200000 "$B/bench/notify_floor" @N@)
row() { printf '| %s | %s | %s | %+.2f | %.2f |\n' "$1" "$2" "$3" "$(echo "$3 - $2" | bc -l)" "$(echo "$3 / $2" | bc -l)"; }
{
	echo "# The supervisor's cost (bench/supervise.sh)"
	echo
	echo "CPU time (user + system of the program and \`hostup run\` together) per call, in µs:"
	echo "the slope between two run lengths (start-up cancels out), median of $REPS runs."
	echo "Connects go to a loopback listener and succeed at once (blocking connect, close)."
	echo "Machine: $(bash bench/machine.sh 2>/dev/null || uname -r); kernel $(uname -r)."
	echo
	echo "| call | without | under hostup run | added | ratio |"
	echo "|---|---|---|---|---|"
	row "connect, static C" "$c0" "$c1"
	row "connect, Go (net.Dial)" "$g0" "$g1"
	row "connect, static C, let through (CONTINUE)" "$c0" "$cc"
	row "connect, Go, let through (CONTINUE)" "$g0" "$gc"
	row "getppid, static C (not trapped)" "$s0" "$s1"
	row "getppid trapped, answered at once (the floor)" "$s0" "$f1"
	echo
	echo 'Let through: a rule that never retries (`attempts=1`), the connect read and'
	echo "answered with SECCOMP_USER_NOTIF_FLAG_CONTINUE, made by the program itself."
	echo "The floor: bench/notify_floor.c, a trapped call answered at once by a supervisor"
	echo "blocking in SECCOMP_IOCTL_NOTIF_RECV: two context switches and two ioctls."
} | tee bench/results/supervise.md
