#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What hostup costs a program that reads local files.
#  1. Extra instructions per read() on a local fd (callgrind, same binary
#     with and without libhostup.so, two loop lengths so start-up cancels:
#     extra = ((shim(N2) - shim(N1)) - (bare(N2) - bare(N1))) / (N2 - N1)).
#     Also pread() on a tracked volume fd (a path rule makes a local file
#     one) when nothing fails: the slow side's cost.
#  2. Wall time of reading a 1 GiB local file (page cache) in 4 KiB reads,
#     with and without hostup, ROUNDS alternating rounds in one run; the
#     ratio of the medians.
# Writes bench/results/read.md.
set -eu
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
command -v valgrind >/dev/null || { echo "bench: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
make -s lib "$B/bench/reads" >/dev/null
LIB=$PWD/$B/libhostup.so
N1=${N1:-2000} N2=${N2:-12000} ROUNDS=${ROUNDS:-11}
tmp=$(mktemp -d "${BENCH_DIR:-/tmp}/hostup-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

instr() { # PRELOAD POLICY ARGS... -> total instructions (Ir)
	local pre=$1 pol=$2
	shift 2
	env ${pre:+LD_PRELOAD=$pre} HOSTUP_LOG=off HOSTUP_POLICY="$pol" valgrind --tool=callgrind \
		--callgrind-out-file="$tmp/cg.out" "$B/bench/reads" "$@" >/dev/null 2>&1
	awk '/^(summary|totals):/ {print $2; exit}' "$tmp/cg.out"
}
per_call() { # POLICY ARGS-WITH-N... (N is substituted for @N@)
	local pol=$1 b1 b2 s1 s2
	shift
	b1=$(instr "" "$pol" "${@/@N@/$N1}") b2=$(instr "" "$pol" "${@/@N@/$N2}")
	s1=$(instr "$LIB" "$pol" "${@/@N@/$N1}") s2=$(instr "$LIB" "$pol" "${@/@N@/$N2}")
	awk -v b1="$b1" -v b2="$b2" -v s1="$s1" -v s2="$s2" -v n=$((N2 - N1)) \
		'BEGIN { printf "%.1f %.1f\n", (b2 - b1) / n, ((s2 - s1) - (b2 - b1)) / n }'
}

head -c 4096 /dev/urandom >"$tmp/small"
read -r zero_bare zero_extra < <(per_call "" zero @N@)
read -r tr_bare tr_extra < <(per_call "$tmp attempts=3" pread "$tmp/small" @N@)
echo "bench: callgrind done" >&2

head -c 1G /dev/zero >"$tmp/big"
cat "$tmp/big" >/dev/null
bare=() shim=()
for ((i = 0; i < ROUNDS; i++)); do
	bare+=("$("$B/bench/reads" file "$tmp/big" | cut -d' ' -f1)")
	shim+=("$(env LD_PRELOAD="$LIB" HOSTUP_LOG=off "$B/bench/reads" file "$tmp/big" | cut -d' ' -f1)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
mb=$(median "${bare[@]}") ms=$(median "${shim[@]}")
ratio=$(awk -v a="$ms" -v b="$mb" 'BEGIN { printf "%.4f", a / b }')

out=bench/results/read.md
{
	echo "# What hostup costs a program reading local files"
	echo
	echo "Command: \`bash bench/read_overhead.sh\`."
	echo "Machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r), $(ldd --version | head -1)."
	echo
	echo "## Instructions per call (callgrind, loops of $N1 and $N2 calls)"
	echo
	echo "callgrind counts user-space instructions only; the kernel's share of each call is in neither column."
	echo
	echo "| call | bare instr/call | extra with hostup (target < 15) |"
	echo "|---|---:|---:|"
	echo "| \`read(fd, buf, 4096)\` on a local fd (/dev/zero) | $zero_bare | +$zero_extra |"
	echo "| \`pread(fd, buf, 4096, 0)\` on a tracked volume fd, nothing failing | $tr_bare | +$tr_extra |"
	echo
	echo "## Wall time: a 1 GiB local file (page cache) in 4 KiB reads"
	echo
	echo "$ROUNDS alternating rounds of each in one run; medians."
	echo
	echo "| | seconds per round | |"
	echo "|---|---:|---|"
	echo "| without hostup | $mb | ${bare[*]} |"
	echo "| with hostup | $ms | ${shim[*]} |"
	echo "| **ratio** (target < 1.02) | **$ratio** | |"
} >"$out"
cat "$out"
