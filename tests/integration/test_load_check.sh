#!/bin/bash
# SPDX-License-Identifier: MIT
# The Dockerfile load check of README.md ("Add it to an image"), run as
# Docker runs a RUN line (/bin/sh -c), must fail the build for every way the
# preload can fail to load, and pass for the library that loads: a missing
# path, a corrupt file, a truncated copy, a library built for another C
# library (the musl build, `make musl`), and the glibc build.  The same line
# must be in examples/Dockerfile, the top-level Dockerfile's comment and
# docs/.  No root needed.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_lib
hu_need_cmd sh head
MUSL_LIB=$HU_ROOT/build-musl/libhostup.so
unset HOSTUP_POLICY HOSTUP_CONFIG LD_PRELOAD

# the README's line, the one place it is written for users
DOC_PATH=/usr/local/lib/hostup/libhostup.so
line=$(grep -m1 -o 'RUN out=$(LD_PRELOAD=.*' "$HU_ROOT/README.md")
[[ -n $line ]] || hu_fail "README.md has no load check line (RUN out=\$(LD_PRELOAD=...)"
check=${line#RUN }
[[ $check == *"$DOC_PATH"* ]] || hu_fail "the README's load check does not name $DOC_PATH: $line"

# the same line in the other places a user copies it from
for f in examples/Dockerfile Dockerfile docs/systems.md docs/containers.md; do
	grep -qF -- "$line" "$HU_ROOT/$f" || hu_fail "$f lacks the README's load check: $line"
done
hu_ok "examples/Dockerfile, Dockerfile, docs/systems.md and docs/containers.md carry the README's line"
if grep -nE 'RUN LD_PRELOAD=[^ ]+ /bin/true *$' "$HU_ROOT/examples/Dockerfile" "$HU_ROOT/Dockerfile" \
	"$HU_ROOT/README.md" "$HU_ROOT/docs/containers.md"; then
	hu_fail "the short check, which misses a missing or corrupt file, is still offered as the check"
fi
hu_ok "no recipe offers the short check alone"

# LINE with the library at LIB, under /bin/sh as docker's RUN does;
# sets rc and out
run_check() { # LIB
	local c=${check//"$DOC_PATH"/"$1"}
	out=$(sh -c "$c" 2>&1)
	rc=$?
	printf 'check %s -> rc=%s out=%q\n' "$1" "$rc" "$out"
}

run_check "$HU_LIB"
hu_assert_eq 0 "$rc" "the glibc build passes the check"
hu_assert_eq "" "$out" "the glibc build: nothing printed"

run_check /nonexistent/libhostup.so
hu_assert_eq 1 "$rc" "a missing path fails the build"
hu_assert_contains "$out" "cannot be preloaded" "a missing path: the loader's reason is printed"
# why the short line is not enough: the loader only warns
LD_PRELOAD=/nonexistent/libhostup.so /bin/true 2>/dev/null
hu_assert_eq 0 "$?" "(the short check, LD_PRELOAD=... /bin/true, exits 0 for a missing path)"

head -c 65536 /dev/urandom >"$HU_TMP/random.so"
run_check "$HU_TMP/random.so"
hu_assert_eq 1 "$rc" "a file of random bytes fails the build"
hu_assert_contains "$out" "cannot be preloaded" "random bytes: the loader's reason is printed"

head -c 8192 "$HU_LIB" >"$HU_TMP/truncated.so"
run_check "$HU_TMP/truncated.so"
hu_assert_eq 1 "$rc" "a truncated copy of the library fails the build"
[[ -n $out ]] || hu_fail "a truncated copy: nothing printed"

: >"$HU_TMP/empty.so"
run_check "$HU_TMP/empty.so"
hu_assert_eq 1 "$rc" "an empty file fails the build"

if [[ -f $MUSL_LIB ]]; then
	run_check "$MUSL_LIB"
	hu_assert_eq 1 "$rc" "the musl build in a glibc system fails the build"
	[[ -n $out ]] || hu_fail "the musl build: nothing printed"
	hu_ok "the musl build: the loader says why ($(head -n 1 <<<"$out"))"
else
	hu_skip "the musl library: no $MUSL_LIB (make check builds it with make musl)"
fi

mkdir "$HU_TMP/dir.so"
run_check "$HU_TMP/dir.so"
hu_assert_eq 1 "$rc" "a directory in place of the library fails the build"
hu_done
