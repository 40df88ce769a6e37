#!/usr/bin/env bash
# Runs every test: the Check unit tests, then each integration script.
# A script exits 0 (pass), 1 (fail) or 77 (skipped).  The last line is the
# plain summary "check: N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
passed=0 failed=0 skipped=0
failures=()

if [ "${1:-}" != "--integration-only" ]; then
  echo "== unit tests (Check)"
  out=$("$B/unit_tests" 2>&1); rc=$?
  echo "$out" | grep -v '^Running suite' | tail -n 20
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

echo "== integration tests"
for t in tests/integration/test_*.sh; do
  name=${t##*/}
  log=$(mktemp)
  start=$(date +%s)
  timeout -k 10 600 bash "$t" >"$log" 2>&1; rc=$?
  secs=$(( $(date +%s) - start ))
  case $rc in
    0)  passed=$((passed + 1)); echo "PASS $name (${secs}s)" ;;
    77) skipped=$((skipped + 1)); echo "SKIP $name: $(grep -m1 '^skipped' "$log")" ;;
    *)  failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name (exit $rc, ${secs}s)"
        sed 's/^/    /' "$log" | tail -n 40 ;;
  esac
  rm -f "$log"
done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "check: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
