#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test: the Check unit tests, then each integration script.
# A script exits 0 (pass), 1 (fail) or 77 (skipped); a pass must end in its
# "PASS:" line (tests/integration/lib.sh, hu_done).  A passing script's
# "skip: WHY" lines are parts that could not run here: each one counts as
# skipped.  Every test's time is printed; a failed test's FAIL: lines, then
# the tail of its log.  The last line is the plain summary
# "check: N passed, N failed, N skipped".
#
#   HU_KEEP_TMP=1 bash tests/run.sh   keep each test's temp dir ($HU_TMP:
#                                     records, servers' logs); the test
#                                     prints "logs kept in DIR"
#   bash tests/run.sh --integration-only    no unit tests, no ASan part
#   HU_TESTS="cli report" bash tests/run.sh --integration-only
#                                     only test_cli.sh and test_report.sh
#                                     (HU_TESTS: never the ASan part)
# One script alone: bash tests/integration/test_X.sh (as root).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${HU_BUILD:-build}
passed=0 failed=0 skipped=0
failures=()

# Sanitizer run (make check SANITIZE=...): every report goes to a file in
# $san_dir as well as failing its process; any file there fails the run.
# Preloaded programs (python3, curl, nginx...) leak on their own, so leak
# checking is on only for the unit tests; the runtime comes first in
# LD_PRELOAD (HU_PRELOAD_PREFIX, lib.sh), except under `hostup run`, which
# puts the library first: verify_asan_link_order=0 lets that run.
san_dir=
san_env() { # DIR: the sanitizer options for the preloaded programs
  export ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:log_path=$1/asan:abort_on_error=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$1/ubsan"
  export TSAN_OPTIONS="log_path=$1/tsan:second_deadlock_stack=1:halt_on_error=0:exitcode=66"
}
san_reports() { # DIR WHAT: counts the reports, prints their heads
  local f n=0
  for f in "$1"/*; do
    [ -s "$f" ] || continue
    n=$((n + 1)); echo "sanitizer report $f ($2):"; head -n 30 "$f" | sed 's/^/    /'
  done
  [ $n -eq 0 ] && echo "sanitizer reports ($2): none" && return 0
  failed=$((failed + 1)); failures+=("$2: $n sanitizer reports"); return 1
}
if [ -n "${HU_SANITIZE:-}" ]; then
  san_dir=$(mktemp -d /tmp/hostup-san.XXXXXX)
  san_env "$san_dir"
  echo "== sanitizer run: -fsanitize=$HU_SANITIZE, build $B, reports in $san_dir"
fi

if [ "${1:-}" != "--integration-only" ]; then
  echo "== unit tests (Check)"
  # leaks of the core are ours: checked here (CK_FORK=no: in one process)
  start=$(date +%s)
  out=$(CK_FORK=${HU_SANITIZE:+no} ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1 "$B/unit_tests" 2>&1); rc=$?
  echo "$out" | grep -v '^Running suite' | tail -n 20
  echo "unit tests: $(( $(date +%s) - start ))s"
  # "100%: Checks: 57, Failures: 0, Errors: 0"
  summary=$(echo "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
  if [ -n "$summary" ]; then
    n=$(echo "$summary" | sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/')
    set -- $n
    passed=$((passed + $1 - $2 - $3)); failed=$((failed + $2 + $3))
  fi
  if [ $rc -ne 0 ] || [ -z "$summary" ]; then
    failures+=("unit tests (exit $rc)"); [ -z "$summary" ] && failed=$((failed + 1))
  fi
fi

# Two lanes run at once on a machine with 2 cores or more: the tests
# that mostly wait on something slow and time nothing finely (a Docker
# engine, a VM, a root file system to copy or debootstrap) go in the
# background lane; every other test runs one at a time in the main lane,
# as before.  HU_JOBS=1 runs everything in one lane.
HU_BG_TESTS=${HU_BG_TESTS:-"test_docker.sh test_docker_supervise.sh test_nfs.sh test_oldglibc.sh test_fresh_machine.sh test_deb.sh test_podman.sh test_prometheus.sh"}
jobs=${HU_JOBS:-$(nproc 2>/dev/null || echo 1)}
res=$(mktemp -d /tmp/hostup-run.XXXXXX)

selected() { # NAME: in HU_TESTS, when that is set
  [ -z "${HU_TESTS:-}" ] && return 0
  local short=${1#test_}
  [[ " $HU_TESTS " == *" ${short%.sh} "* || " $HU_TESTS " == *" $1 "* ]]
}

# run_one SCRIPT: runs it; its report goes to $res/NAME.out, its counts
# ("passed failed skipped") to $res/NAME.cnt
run_one() {
  local t=$1 name=${1##*/} log start shared rc secs nskip
  local passed=0 failed=0 skipped=0
  exec 3>"$res/$name.out"
  if [[ ${HU_SANITIZE:-} == *address* ]] && grep -q 'curl ' "$t"; then
    # curl (Debian 12) hangs in setlocale under the ASan runtime alone, with
    # or without hostup: its scripts would only time out
    echo "SKIP $name: skipped under ASan: curl hangs under the ASan runtime alone" >&3
    echo "0 0 1" >"$res/$name.cnt"; exec 3>&-; return
  fi
  log=$(mktemp)
  start=$(date +%s)
  # a shared-state file per test (lib.sh's hu_net_setup narrows it further)
  shared=$(mktemp -d /tmp/hostup-shared.XXXXXX)
  HOSTUP_SHARED=$shared/hostup-shared timeout -k 10 600 bash "$t" >"$log" 2>&1; rc=$?
  rm -rf "$shared"
  secs=$(( $(date +%s) - start ))
  # a pass must say so: a script that ends early without hu_done has not
  # run its checks
  [ $rc -eq 0 ] && ! grep -q "^PASS: $name" "$log" && rc=0x
  case $rc in
    0)  passed=1
        nskip=$(grep -c '^skip: ' "$log")
        if [ "$nskip" -gt 0 ]; then
          skipped=$nskip; echo "PASS $name (${secs}s; $nskip part(s) skipped)" >&3
          grep '^skip: ' "$log" | sed 's/^skip: /    skipped: /' >&3
        else
          echo "PASS $name (${secs}s)" >&3
        fi ;;
    77) skipped=1; echo "SKIP $name (${secs}s): $(grep -m1 '^skipped' "$log")" >&3 ;;
    *)  failed=1
        case $rc in
          0x)      echo "FAIL $name (exit 0 without its PASS: line, ${secs}s)" ;;
          124|137) echo "FAIL $name (killed: still running after 600 s, ${secs}s)" ;;
          *)       echo "FAIL $name (exit $rc, ${secs}s)" ;;
        esac >&3
        # the failed assertions first: the log tail after them can push them out
        { grep '^FAIL:' "$log" | head -n 10 | sed 's/^/    /'
          echo "    --- last 60 lines of the log:"
          sed 's/^/    /' "$log" | tail -n 60; } >&3 ;;
  esac
  [ -n "${HU_KEEP_TMP:-}" ] && grep '^logs kept in ' "$log" | sed 's/^/    /' >&3
  rm -f "$log"
  echo "$passed $failed $skipped" >"$res/$name.cnt"
  exec 3>&-
}

# a lane: its scripts one after the other, each report printed whole
lane() {
  local t
  for t in "$@"; do
    run_one "$t"
    flock "$res/.print" cat "$res/${t##*/}.out"
  done
}

echo "== integration tests"
main_lane=() bg_lane=()
for t in tests/integration/test_*.sh; do
  name=${t##*/}
  selected "$name" || continue
  if [ "$jobs" -gt 1 ] && [[ " $HU_BG_TESTS " == *" $name "* ]]; then
    bg_lane+=("$t")
  else
    main_lane+=("$t")
  fi
done
t0=$(date +%s)
bg_pid=
[ ${#bg_lane[@]} -gt 0 ] && { lane "${bg_lane[@]}" & bg_pid=$!; }
[ ${#main_lane[@]} -gt 0 ] && lane "${main_lane[@]}"
[ -n "$bg_pid" ] && wait "$bg_pid"
for t in "${main_lane[@]}" "${bg_lane[@]}"; do
  name=${t##*/}
  if [ -s "$res/$name.cnt" ]; then
    read -r p f k <"$res/$name.cnt"
  else
    p=0 f=1 k=0; echo "FAIL $name (no result: the runner lost it)"
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
  [ "$f" -gt 0 ] && failures+=("$name")
done
rm -rf "$res"
echo "integration tests: $(( $(date +%s) - t0 ))s in $( [ "$jobs" -gt 1 ] && echo "2 lanes" || echo "1 lane")"

[ -n "$san_dir" ] && san_reports "$san_dir" "-fsanitize=$HU_SANITIZE"

# The normal run also runs a part under ASan/UBSan (make check builds
# build-asan): the unit tests with leak checking, and test_safety.sh (libc
# results and errno, records, config errors) with the sanitized library.
A=${HU_BUILD_ASAN:-build-asan}
if [ -z "${HU_SANITIZE:-}" ] && [ "${1:-}" != "--integration-only" ] && [ -z "${HU_TESTS:-}" ] &&
   [ ! -x "$A/unit_tests" ]; then
  # not built (make check builds it): said and counted, not silently left out
  skipped=$((skipped + 1)); echo "SKIP ASan/UBSan part: no $A/unit_tests (make check builds $A)"
elif [ -z "${HU_SANITIZE:-}" ] && [ "${1:-}" != "--integration-only" ] && [ -z "${HU_TESTS:-}" ]; then
  echo "== ASan/UBSan: unit tests and test_safety.sh ($A)"
  d=$(mktemp -d /tmp/hostup-san.XXXXXX)
  ( san_env "$d"
    CK_FORK=no ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=1 "$A/unit_tests" >"$d/unit.out" 2>&1 ); rc=$?
  summary=$(grep -E '^[0-9]+%: Checks: ' "$d/unit.out" | tail -n 1)
  if [ $rc -eq 0 ] && [[ $summary == *"Failures: 0, Errors: 0"* ]]; then
    passed=$((passed + 1)); echo "PASS unit tests under ASan/UBSan: $summary"
  else
    failed=$((failed + 1)); failures+=("unit tests under ASan/UBSan"); echo "FAIL unit tests under ASan/UBSan (exit $rc)"
    tail -n 20 "$d/unit.out" | sed 's/^/    /'
  fi
  rm -f "$d/unit.out"
  ( san_env "$d"; HU_BUILD=$PWD/$A HU_SANITIZE=address,undefined \
      timeout -k 10 300 bash tests/integration/test_safety.sh >"$d/safety.out" 2>&1 ); rc=$?
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); echo "PASS test_safety.sh under ASan/UBSan"
  else
    failed=$((failed + 1)); failures+=("test_safety.sh under ASan/UBSan"); echo "FAIL test_safety.sh under ASan/UBSan (exit $rc)"
    grep '^FAIL:' "$d/safety.out" | head -n 10 | sed 's/^/    /'
    tail -n 30 "$d/safety.out" | sed 's/^/    /'
  fi
  rm -f "$d/safety.out"
  san_reports "$d" "ASan/UBSan part of the normal run" && rm -rf "$d"
fi

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
