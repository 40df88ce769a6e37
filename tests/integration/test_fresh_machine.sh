#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's first command from nothing: `make demo` in a fresh minimal
# Debian 12 root file system must install what it builds with and succeed
# (tests/fresh_machine.sh, also `make fresh`; about 30 s with a warm cache).
. "$(dirname "$0")/lib.sh"
hu_need_root
out=$(bash "$HU_ROOT/tests/fresh_machine.sh" demo 2>&1)
rc=$?
echo "$out" | tail -n 12
[[ $rc == 77 ]] && { echo "$out" | grep -m1 '^skipped'; exit 77; }
hu_assert_eq 0 "$rc" "make demo in a fresh Debian 12 minbase root"
hu_assert_contains "$out" "fresh: PASS" "the demo's verdicts with and without hostup"
hu_assert_contains "$out" "hostup: installing" "make demo installed its packages itself"
hu_done
