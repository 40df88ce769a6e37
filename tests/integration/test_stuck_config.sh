#!/bin/bash
# SPDX-License-Identifier: MIT
# HOSTUP_CONFIG on a network mount that stopped answering (issue 19, hang 2):
# every preloaded program must still start at once.  The config file lies on
# the flaky FUSE file system (tests/tools/hu_flakyfs.c) and every operation
# there is made to take 6 s.  Then:
#   - a preloaded program runs within 1.5 s (the bound is 500 ms), prints
#     what it prints without the config, gets HOSTUP_POLICY's retries, and
#     writes exactly one config_error saying the file was not read in time;
#     its stdout reaches end of file then too (the reader left behind holds
#     none of the program's descriptors);
#   - `hostup check-config` says so and exits 66 within 2 s; `hostup run`
#     refuses to start (78) unless --lenient;
#   - the reader left behind ends by itself once the mount answers.
# A healthy mount: the same file is read and its rules apply.
# Root and /dev/fuse; no network namespaces.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_flakyfs hu_connect
[[ -c /dev/fuse ]] || { echo "skipped: needs /dev/fuse"; exit 77; }
hu_need_cmd fusermount3 timeout "$HU_PY"
unset HOSTUP_POLICY HOSTUP_CONFIG HOSTUP_LOG
C=$HU_TOOLS/hu_connect
HOSTUP=$HU_BUILD/hostup
REC=$HU_ROOT/tests/integration/records.py
POL="* attempts=3 backoff=10ms..10ms retry_on=+ECONNREFUSED"
SLOW_MS=6000

M=$HU_TMP/vol B=$HU_TMP/vol.b FSPID=
unmount() {
	[[ -n $FSPID ]] || return 0
	fusermount3 -u -z "$M" 2>/dev/null || umount -l "$M" 2>/dev/null
	kill "$FSPID" 2>/dev/null
	timeout 10 tail --pid="$FSPID" -f /dev/null
	return 0
}
hu_at_exit unmount
mkdir -p "$B" "$M"
"$HU_TOOLS/hu_flakyfs" --backing="$B" --log="$HU_TMP/fs.txt" "$M" -f \
	-o "subtype=sshfs,fsname=tester@fileserver:/export/cfg" 2>>"$HU_TMP/fs.err" &
FSPID=$!
for ((i = 0; i < 50; i++)); do
	grep -q " $M .* - fuse.sshfs " /proc/self/mountinfo && break
	sleep 0.1
done
grep -q " $M .* - fuse.sshfs " /proc/self/mountinfo || hu_fail "hu_flakyfs did not mount $M"
ctl() { printf '%s\n' "$@" >"$M/.hu_ctl" || hu_fail "control: $*"; }
printf '{"rules": [{"match": "127.0.0.1", "attempts": 2, "backoff": "10ms..10ms", "retry_on": ["+ECONNREFUSED"]}]}\n' \
	>"$B/hostup.json"
CFG=$M/hostup.json

valid() { "$HU_PY" "$REC" "$1" >/dev/null || hu_fail "records in $1 are not valid"; }
field() { "$HU_PY" "$REC" "$1" --event "$2" --field "$3"; } # FILE EVENT FIELD
ms_since() { echo $(((${EPOCHREALTIME/[.,]/} - $1) / 1000)); }

# --- a healthy mount: the file is read (by the reader process) and applies
out=$(hu_bounded 20 "healthy mount" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_CONFIG="$CFG" "$C" 127.0.0.1 1 \
	2>"$HU_TMP/ok.err")
hu_assert_eq "error ECONNREFUSED" "$out" "healthy mount: libc's result"
valid "$HU_TMP/ok.err"
hu_assert_eq 0 "$(grep -c '"event":"config_error"' "$HU_TMP/ok.err")" "healthy mount: no config_error"
hu_assert_eq 2 "$(field "$HU_TMP/ok.err" gave_up attempts)" "healthy mount: the file's rule applies (attempts=2)"
hu_assert_eq "ok: 1 rule" "$(hu_bounded 20 "check-config, healthy" env HOSTUP_CONFIG="$CFG" "$HOSTUP" check-config)" \
	"healthy mount: check-config reads the file"

# --- every operation of the mount takes SLOW_MS: a program starts at once
ctl "slow $SLOW_MS"
t0=${EPOCHREALTIME/[.,]/}
out=$(hu_bounded 30 "stuck mount" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_CONFIG="$CFG" HOSTUP_POLICY="$POL" \
	"$C" 127.0.0.1 1 2>"$HU_TMP/stuck.err")
ms=$(ms_since "$t0")
echo "stuck mount: the program ended after ${ms} ms"
hu_assert_lt "$ms" 1500 "stuck mount: the program ends within 1.5 s (its stdout closed too), not after the mount's ${SLOW_MS} ms"
hu_assert_eq "error ECONNREFUSED" "$out" "stuck mount: libc's result"
valid "$HU_TMP/stuck.err"
hu_assert_eq 1 "$(grep -c '"event":"config_error"' "$HU_TMP/stuck.err")" "stuck mount: one config_error"
hu_assert_eq "$CFG" "$(field "$HU_TMP/stuck.err" config_error source)" "stuck mount: the record names the file"
hu_assert_contains "$(field "$HU_TMP/stuck.err" config_error reason)" "not read within 500 ms" \
	"stuck mount: the record says the file was not read in time"
hu_assert_eq 3 "$(field "$HU_TMP/stuck.err" gave_up attempts)" "stuck mount: HOSTUP_POLICY applies (attempts=3)"

# the issue's repro: two preloaded programs, one inside the other
t0=${EPOCHREALTIME/[.,]/}
out=$(hu_bounded 30 "stuck mount, timeout cat" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_CONFIG="$CFG" \
	timeout 20 cat /etc/hostname 2>"$HU_TMP/repro.err")
ms=$(ms_since "$t0")
hu_assert_eq "$(cat /etc/hostname)" "$out" "stuck mount: preloaded timeout + cat print the host name"
hu_assert_lt "$ms" 2500 "stuck mount: timeout + cat end within 2.5 s (${ms} ms)"
hu_assert_eq 2 "$(grep -c '"event":"config_error"' "$HU_TMP/repro.err")" "one config_error from each program"

# --- the command: bounded too, and says why
t0=${EPOCHREALTIME/[.,]/}
hu_bounded 30 "check-config, stuck" env HOSTUP_CONFIG="$CFG" "$HOSTUP" check-config >"$HU_TMP/cc.out" 2>&1
rc=$?
ms=$(ms_since "$t0")
hu_assert_eq 66 "$rc" "check-config, stuck mount: exit 66 (EX_NOINPUT)"
hu_assert_lt "$ms" 2500 "check-config, stuck mount: within 2.5 s (${ms} ms)"
hu_assert_contains "$(cat "$HU_TMP/cc.out")" "$CFG: not read within 500 ms: its file system does not answer" \
	"check-config, stuck mount: the message"
hu_bounded 30 "run, stuck" env HOSTUP_CONFIG="$CFG" "$HOSTUP" run -- true >"$HU_TMP/run.out" 2>&1
hu_assert_eq 78 "$?" "hostup run, stuck mount: refuses to start (EX_CONFIG)"
hu_assert_contains "$(cat "$HU_TMP/run.out")" "not read within 500 ms" "hostup run, stuck mount: says why"
out=$(hu_bounded 30 "run --lenient, stuck" env HOSTUP_CONFIG="$CFG" "$HOSTUP" run --lenient -- echo started 2>/dev/null)
hu_assert_eq "started" "$out" "hostup run --lenient, stuck mount: the program runs"

# --- the readers left behind end once the mount answers again
ctl "slow 0"
left=
for ((i = 0; i < 150; i++)); do
	left=$(grep -lsF "HOSTUP_CONFIG=$CFG" /proc/[0-9]*/environ)
	[[ -z $left ]] && break
	sleep 0.1
done
hu_assert_eq "" "$left" "the readers left behind are gone once the mount answers"
hu_done
