#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instructions per call, this tree against an earlier commit, in one run:
# builds REV's library in a throw-away git worktree and runs this tree's
# bench/callgrind_calls.sh on both libraries (the same machine, the same
# bench program and rows), then bench/startup.sh on both (start-up:
# instructions and the exec loop).  Writes bench/results/calls_compare.md
# (or $COMPARE_OUT) and bench/results/startup.md.
# Usage: [COMPARE_OUT=bench/results/NAME.md] bench/compare_calls.sh REV [NOTE]
set -eu
cd "$(dirname "$0")/.."
rev=${1:?usage: $0 REV [NOTE]}
note=${2:-}
base=$(mktemp -d /tmp/hostup-base.XXXXXX)
trap 'git worktree remove --force "$base" >/dev/null 2>&1; rm -rf "$base"' EXIT
git worktree add -q --detach "$base" "$rev"
# (every callgrind run gets a fresh shared-state file: callgrind_calls.sh)
(cd "$base" && make -s lib >/dev/null)
mkdir -p "$base/bench/results"
HU_BENCH_LIB=$base/${HU_BUILD:-build}/libhostup.so CALLS_OUT=$base/bench/results/calls.md \
	bash bench/callgrind_calls.sh >/dev/null
bash bench/callgrind_calls.sh >/dev/null
bash bench/startup.sh "$(git rev-parse --short "$rev")=$base/${HU_BUILD:-build}/libhostup.so" \
	"$(git rev-parse --short HEAD)=$PWD/${HU_BUILD:-build}/libhostup.so" >/dev/null
rows() { sed -n 's/^| \(.*\) | \([0-9]*\) | \([0-9]*\) | \([-+][0-9]*\) | .*/\1|\2|\3|\4/p' "$1"; }
startup() { sed -n 's/.*costs \([0-9]*\) instructions.*/\1/p' "$1"; }
out=${COMPARE_OUT:-bench/results/calls_compare.md}
{
	echo "# Instructions per call: $(git rev-parse --short "$rev") against $(git rev-parse --short HEAD)"
	echo
	echo "Command: \`bash bench/compare_calls.sh $rev\` (callgrind, both builds in one run)."
	[[ -n $note ]] && echo "$note"
	echo "Machine: $(bash bench/machine.sh)."
	echo
	echo "| call | bare | with hostup at $(git rev-parse --short "$rev") | with hostup now | extra then | extra now |"
	echo "|---|---:|---:|---:|---:|---:|"
	join -t'|' <(rows "$base/bench/results/calls.md" | sort -t'|' -k1,1) \
		<(rows bench/results/calls.md | sort -t'|' -k1,1) |
		awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $6, $4, $7 }'
	echo
	echo "Start-up (loading and initialising the library): $(startup "$base/bench/results/calls.md") instructions then," \
		"$(startup bench/results/calls.md) now."
} >"$out"
cat "$out"
