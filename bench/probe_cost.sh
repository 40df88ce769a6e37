#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bound on diagnosis probes: wall time of one uncached round (netlink
# route lookup, neighbour dump, resolv.conf read) as run after a failure.
# The library caches the result per address for 1 s, so a storm of
# failures on one host pays this at most once a second.
# Writes bench/results/probes.md.
set -eu
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
make -s "$B/bench/probes" >/dev/null
out=bench/results/probes.md
line=$("$B/bench/probes" 127.0.0.1 2000)
{
	echo "# Diagnosis probe cost"
	echo
	echo "Command: \`bash bench/probe_cost.sh\` ($B/bench/probes 127.0.0.1 2000)."
	echo "Machine: $(uname -m), $(nproc) cores, kernel $(uname -r)."
	echo
	echo "$line"
	echo
	echo "Each netlink receive is bounded by a 100 ms timeout, so a probe that gets no"
	echo "answer costs at most 2 x 100 ms; results are cached per address for 1 s."
} >"$out"
cat "$out"
