#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: every measurement, then the tables and plots, all written to
# bench/results/.  Progress goes to the terminal; nothing here is a test
# (no timing is asserted anywhere, and `make check` runs none of it).
#   1. bench/callgrind_calls.sh  instructions per call      -> calls.md
#   2. bench/read_overhead.sh    read() on local and volume fds -> read.md
#      bench/overhead.sh         wall time, memory, start-up -> overhead.md
#   3. bench/herd.sh             recovery in netns           -> (raw data)
#      bench/herd_report.py      tables and plots            -> recovery.md, *.png
#      HERD_SET=shared herd.sh   herd control, N processes   -> shared.md, shared_*.png
#   4. bench/supervise.sh        the supervisor's CPU per connect -> supervise.md
# As root (network namespaces).  About 12 minutes on 2 cores.
set -u
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
t0=$SECONDS
[[ $(id -u) == 0 ]] || { echo "bench: needs root (it creates network namespaces)" >&2; exit 1; }
mkdir -p bench/results
step() { echo "bench: [$((SECONDS - t0))s] $*"; }
step "machine: $(bash bench/machine.sh)"
step "1/3 instructions per call (callgrind)"
bash bench/callgrind_calls.sh >/dev/null || { echo "bench: callgrind_calls.sh failed" >&2; exit 1; }
step "2/3 wall time, memory and start-up, with and without hostup"
bash bench/read_overhead.sh >/dev/null || { echo "bench: read_overhead.sh failed" >&2; exit 1; }
bash bench/overhead.sh >/dev/null || { echo "bench: overhead.sh failed" >&2; exit 1; }
step "3/3 recovery: outages of 2, 5 and 20 s, 1, 50 and 200 clients, $(grep -c '^	"' bench/herd.sh) strategies at once"
bash bench/herd.sh || { echo "bench: herd.sh failed" >&2; exit 1; }
python3 bench/herd_report.py "$B/bench/herd-raw" bench/results || { echo "bench: herd_report.py failed" >&2; exit 1; }
step "3b/3 herd control: the same outages, N separate processes, shared state against HOSTUP_SHARED=off"
HERD_SET=shared HERD_N="50 200" HERD_REPS=2 HERD_RAW="$B/bench/herd-shared-raw" bash bench/herd.sh ||
	{ echo "bench: herd.sh (shared) failed" >&2; exit 1; }
python3 bench/herd_report.py "$B/bench/herd-shared-raw" bench/results shared ||
	{ echo "bench: herd_report.py (shared) failed" >&2; exit 1; }
step "4/4 the supervisor (hostup run for static and Go programs): CPU per connect"
bash bench/supervise.sh >/dev/null || { echo "bench: supervise.sh failed" >&2; exit 1; }
step "done; results:"
ls -1 bench/results/*.md bench/results/*.png | sed 's/^/  /'
