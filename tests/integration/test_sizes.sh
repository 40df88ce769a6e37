#!/bin/bash
# SPDX-License-Identifier: MIT
# Sizes a newcomer can hold: no source file in shim/ over 600 lines, no
# function over 80 (tests/lint/sizes.sh, which make lint runs too).  Reads
# the sources only: no build, no root.
set -u
. "$(dirname "$0")/lib.sh"

out=$(bash "$HU_ROOT/tests/lint/sizes.sh" "$HU_ROOT" 2>&1); rc=$?
echo "$out"
hu_assert_eq 0 "$rc" "tests/lint/sizes.sh exits 0"
hu_ok "no file in shim/ over 600 lines, no function over 80 (beyond the pending ones)"

# the check itself: a file and a function over the limits are named
fake=$(mktemp -d /tmp/hostup-test.XXXXXX)
hu_at_exit 'rm -rf "$fake"'
mkdir -p "$fake/shim/core"
{
	echo "/* a long function */"
	echo "static int long_one(int x)"
	echo "{"
	for i in $(seq 1 90); do echo "    x += $i;"; done
	echo "    return x;"
	echo "}"
	for i in $(seq 1 520); do echo "int v$i;"; done
} >"$fake/shim/core/big.c"
out=$(bash "$HU_ROOT/tests/lint/sizes.sh" "$fake" 2>&1); rc=$?
hu_assert_eq 1 "$rc" "sizes.sh fails on a tree with a file and a function over the limits"
hu_assert_contains "$out" "file shim/core/big.c: 615 lines, over 600" "names the long file"
hu_assert_contains "$out" "function shim/core/big.c:long_one: 94 lines, over 80" "names the long function"
hu_done
