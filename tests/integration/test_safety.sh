#!/bin/bash
# SPDX-License-Identifier: MIT
# The library never harms its host program: libc behaviour and errno kept,
# nothing on stdout, a bad policy reported once and survived, only the
# wrapped calls exported, no jansson/libunwind dependency.  No root needed.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_lib
hu_need_tools hu_errno

# --- exported symbols: exactly the wrapped calls listed in shim/sys/calls.def
# (the version script made from it: $HU_BUILD/exports.map)
syms=$(nm -D --defined-only "$HU_LIB" | awk '{print $3}' | sort | tr '\n' ' ')
want=$(sed -n '/global:/,/local:/p' "$HU_BUILD/exports.map" | grep -oE '^ *[A-Za-z_0-9]+;' |
	tr -d ' ;' | sort | tr '\n' ' ')
hu_assert_eq "$want" "$syms" "nm -D shows only the wrapped calls"
hu_assert_contains "$syms" " connect " "connect is exported"
hu_assert_contains "$syms" " getaddrinfo " "getaddrinfo is exported"
# nothing inside the library calls an exported name (only through hu_real)
if lay=$(bash "$HU_ROOT/tests/lint/layering.sh" --nm "$HU_BUILD" 2>&1); then hu_ok "$lay"; else hu_fail "$lay"; fi
[[ $syms == *json_* || $syms == *hu_* ]] && hu_fail "internal or jansson symbols exported"
hu_ok "no jansson or internal symbol exported"
deps=$(ldd "$HU_LIB") || hu_fail "ldd $HU_LIB"
[[ $deps == *jansson* || $deps == *unwind* ]] && hu_fail "ldd shows jansson or libunwind: $deps"
hu_ok "ldd shows no jansson and no libunwind"
# libdl and libpthread: glibc's own, needed for dlsym/pthread_once before 2.34
others=$(echo "$deps" | grep -v -E 'linux-vdso|libc\.so|ld-linux|libdl\.so\.2|libpthread\.so\.0' || true)
# a sanitizer build links its runtime and what that needs
[[ -n ${HU_SANITIZE:-} ]] && others=$(echo "$others" | grep -v -E 'lib(a|ub|t)san|libstdc\+\+|libm\.so|libgcc_s' || true)
hu_assert_eq "" "$others" "ldd shows only libc-family libraries"

# --- same results and errno as libc, for success and every kind of failure
plain=$("$HU_TOOLS/hu_errno")
shimmed=$(LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=off "$HU_TOOLS/hu_errno")
hu_assert_eq "$plain" "$shimmed" "hu_errno: identical results and errno"
hu_assert_contains "$shimmed" "connect loopback listener                rc=0 errno=unchanged" "errno untouched on success"

# --- a bad policy: output unchanged, one config_error record, program runs
prog='import sys; print("hello"); print("err line", file=sys.stderr)'
out_plain=$("$HU_PY" -c "$prog" 2>/dev/null)
out=$(LD_PRELOAD=$HU_PRELOAD HOSTUP_POLICY="db:5432 attempts=abc; * attempts=2" "$HU_PY" -c "$prog" 2>"$HU_TMP/err")
hu_assert_eq "$out_plain" "$out" "bad policy: stdout unchanged"
n=$(grep -c '"event":"config_error"' "$HU_TMP/err")
hu_assert_eq 1 "$n" "bad policy: exactly one config_error record"
hu_assert_contains "$(cat "$HU_TMP/err")" '"reason":"'"'attempts=abc'"': attempts must be a whole number from 1 to 1000"' "config_error gives the reason"
hu_assert_contains "$(cat "$HU_TMP/err")" '"text":"db:5432 attempts=abc"' "config_error gives the offending text"
hu_assert_contains "$(cat "$HU_TMP/err")" "err line" "the program's own stderr still there"
"$HU_PY" "$HU_ROOT/tests/integration/records.py" "$HU_TMP/err" >/dev/null || hu_fail "config_error record is not valid"
hu_ok "config_error record is valid"

# --- a bad JSON config: one record with line and column, program unaffected
printf '{"rules": [\n  {"match": "db", "attempts": 3,}\n]}\n' >"$HU_TMP/bad.json"
out=$(LD_PRELOAD=$HU_PRELOAD HOSTUP_CONFIG=$HU_TMP/bad.json "$HU_PY" -c 'print("hi")' 2>"$HU_TMP/err2")
hu_assert_eq hi "$out" "bad config file: stdout unchanged"
hu_assert_eq 1 "$(grep -c config_error "$HU_TMP/err2")" "bad config file: one config_error"
hu_assert_contains "$(cat "$HU_TMP/err2")" '"line":2' "config_error gives the line"
# a missing config file is reported, never fatal
out=$(LD_PRELOAD=$HU_PRELOAD HOSTUP_CONFIG=/nonexistent.json "$HU_PY" -c 'print("hi")' 2>"$HU_TMP/err3")
hu_assert_eq hi "$out" "missing config file: program runs"
hu_assert_contains "$(cat "$HU_TMP/err3")" "unable to open /nonexistent.json" "missing config file reported"

# --- records never go to stdout, whatever the destination setting
for dest in stderr fd:1 fd:1x off "fd:2"; do
	out=$(LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=$dest HOSTUP_POLICY="attempts=1" "$HU_PY" -c 'print("only this")' 2>/dev/null)
	hu_assert_eq "only this" "$out" "HOSTUP_LOG=$dest: nothing added to stdout"
done

# --- HOSTUP_LOG=file: appended, never created world-writable, O_NOFOLLOW
LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=$HU_TMP/rec.log HOSTUP_POLICY="attempts=1" "$HU_PY" -c 'pass'
LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=$HU_TMP/rec.log HOSTUP_POLICY="attempts=1" "$HU_PY" -c 'pass'
hu_assert_eq 2 "$(wc -l <"$HU_TMP/rec.log")" "log file appended, one line per record"
hu_assert_eq 640 "$(stat -c %a "$HU_TMP/rec.log")" "log file mode 0640"
ln -s "$HU_TMP/target" "$HU_TMP/link.log"
LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=$HU_TMP/link.log HOSTUP_POLICY="attempts=1" "$HU_PY" -c 'pass'
[[ -e $HU_TMP/target ]] && hu_fail "log followed a symlink"
hu_ok "log path that is a symlink is not followed"
hu_done
