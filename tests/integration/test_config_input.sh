#!/bin/bash
# SPDX-License-Identifier: MIT
# Configuration input that cannot hurt, and no record lost without a word.
#   - HOSTUP_CONFIG naming a FIFO, /dev/zero, a directory or a 50 MB file:
#     every preloaded program (and `hostup check-config`) returns at once,
#     with one config_error saying what the file is; the file is not read.
#   - 100 KB of garbage in HOSTUP_POLICY: 10 config_error records, then one
#     that counts the rest.  More than 10,000 rules: one record says so.
#   - HOSTUP_LOG that cannot be opened or written (/proc/self/mem,
#     /nonexistent/dir/x, fd:999): the records go to stderr, after one
#     log_error record naming the destination and the error.  off: silent.
# No root needed: records come from a refused connect to 127.0.0.1 port 1
# with ECONNREFUSED made retryable.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_lib
hu_need_tools hu_connect
hu_need_cmd timeout mkfifo
C=$HU_TOOLS/hu_connect
HOSTUP=$HU_BUILD/hostup
REC=$HU_ROOT/tests/integration/records.py
POL="* attempts=3 backoff=10ms..10ms retry_on=+ECONNREFUSED"
unset HOSTUP_POLICY HOSTUP_CONFIG HOSTUP_LOG

valid() { "$HU_PY" "$REC" "$1" >/dev/null || hu_fail "records in $1 are not valid"; }
field() { # FILE EVENT FIELD: fails the test when no EVENT record has FIELD
	"$HU_PY" "$REC" "$1" --event "$2" --field "$3" || hu_fail "no $2 record with $3 in $1"
}

# --- HOSTUP_CONFIG that is not a regular file of at most 256 KiB
mkfifo "$HU_TMP/fifo"
mkdir "$HU_TMP/dir"
truncate -s 50000000 "$HU_TMP/big.json"
declare -A WHAT=(
	[$HU_TMP/fifo]="a FIFO, not a regular file: not read"
	[/dev/zero]="a character device, not a regular file: not read"
	[$HU_TMP/dir]="a directory, not a regular file: not read"
	[$HU_TMP/big.json]="larger than 256 KiB (50000000 bytes): not read"
)
# check-config: 66 (EX_NOINPUT) for what is not a file it can read, 1 for a
# file it read and refused
declare -A CC_RC=([$HU_TMP/fifo]=66 [/dev/zero]=66 [$HU_TMP/dir]=66 [$HU_TMP/big.json]=1)
for cfg in "$HU_TMP/fifo" /dev/zero "$HU_TMP/dir" "$HU_TMP/big.json"; do
	name=${cfg##*/}
	# timeout is not preloaded here: it only catches a hang
	out=$(timeout 20 env LD_PRELOAD="$HU_PRELOAD" HOSTUP_CONFIG="$cfg" HOSTUP_POLICY="$POL" \
		"$C" 127.0.0.1 1 2>"$HU_TMP/$name.err")
	rc=$?
	hu_assert_ne 124 "$rc" "HOSTUP_CONFIG=$name: the program does not hang"
	hu_assert_eq "error ECONNREFUSED" "$out" "HOSTUP_CONFIG=$name: libc's result, HOSTUP_POLICY still applies"
	valid "$HU_TMP/$name.err"
	hu_assert_eq 1 "$(grep -c '"event":"config_error"' "$HU_TMP/$name.err")" "HOSTUP_CONFIG=$name: one config_error"
	hu_assert_eq "${WHAT[$cfg]}" "$(field "$HU_TMP/$name.err" config_error reason)" "HOSTUP_CONFIG=$name: the record says what it is"
	hu_assert_eq "$cfg" "$(field "$HU_TMP/$name.err" config_error source)" "HOSTUP_CONFIG=$name: the record names the file"
	hu_assert_eq 1 "$(grep -c '"event":"gave_up"' "$HU_TMP/$name.err")" "HOSTUP_CONFIG=$name: the retries ran"
	# the CLI reads it the same way
	timeout 20 env HOSTUP_CONFIG="$cfg" "$HOSTUP" check-config >"$HU_TMP/cc.out" 2>&1
	rc=$?
	hu_assert_eq "${CC_RC[$cfg]}" "$rc" "check-config, HOSTUP_CONFIG=$name: exit ${CC_RC[$cfg]}, no hang"
	hu_assert_eq "$cfg: ${WHAT[$cfg]}" "$(cat "$HU_TMP/cc.out")" "check-config, HOSTUP_CONFIG=$name: one line"
done
# the issue's own repro: timeout itself is preloaded, and must not block
host=$(cat /etc/hostname)
out=$(HOSTUP_CONFIG=$HU_TMP/fifo LD_PRELOAD=$HU_PRELOAD timeout 5 cat /etc/hostname 2>"$HU_TMP/repro.err")
hu_assert_eq "0 $host" "$? $out" "HOSTUP_CONFIG=FIFO, preloaded timeout 5 cat /etc/hostname: returns at once"
hu_assert_eq 2 "$(grep -c '"event":"config_error"' "$HU_TMP/repro.err")" "one record from each of timeout and cat"
# a writer on the FIFO changes nothing: it is still not read
(exec 3<>"$HU_TMP/fifo"; printf '{"rules": [{"match": "*", "attempts": 1}]}' >&3; sleep 3) &
wpid=$!
sleep 0.2
out=$(timeout 20 env LD_PRELOAD="$HU_PRELOAD" HOSTUP_CONFIG="$HU_TMP/fifo" HOSTUP_POLICY="$POL" "$C" 127.0.0.1 1 2>"$HU_TMP/fifo2.err")
hu_assert_eq 1 "$(grep -c '"event":"gave_up"' "$HU_TMP/fifo2.err")" "FIFO with a writer: still refused, HOSTUP_POLICY applies"
kill "$wpid" 2>/dev/null
wait "$wpid" 2>/dev/null

# --- garbage in HOSTUP_POLICY: at most 10 errors, then one count
garbage=$("$HU_PY" -c '
import random
r = random.Random(13)
print("".join(r.choice("@#!= ;") for _ in range(100000)))')
hu_bounded 20 "hu_connect, garbage in HOSTUP_POLICY" --out /dev/null --err "$HU_TMP/garbage.err" \
	env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$garbage" "$C" 127.0.0.1 1
valid "$HU_TMP/garbage.err"
hu_assert_eq 11 "$(grep -c '"event":"config_error"' "$HU_TMP/garbage.err")" "100 KB of garbage: 10 config_error records and one summary"
more=$(field "$HU_TMP/garbage.err" config_error omitted | grep -v null)
hu_assert_gt "$more" 100 "the summary counts the errors not reported"
hu_assert_contains "$(grep '"omitted"' "$HU_TMP/garbage.err")" "\"reason\":\"$more more errors not reported (at most 10 are)\"" "the summary's reason"
hu_assert_lt "$(wc -c <"$HU_TMP/garbage.err")" 16384 "a few KB on stderr, not hundreds"
out=$(HOSTUP_POLICY=$garbage "$HOSTUP" check-config 2>&1)
hu_assert_contains "$out" "... and $more more errors (at most 10 are shown)" "check-config gives the same count"

# --- more than 10,000 rules (150 KB: within the 256 KiB limit)
"$HU_PY" -c '
import json, sys
json.dump({"rules": [{"match": "*"}] * 10005}, open(sys.argv[1], "w"), separators=(",", ":"))' \
	"$HU_TMP/many.json"
hu_bounded 20 "hu_connect, 10,005 rules" --out /dev/null --err "$HU_TMP/many.err" \
	env LD_PRELOAD="$HU_PRELOAD" HOSTUP_CONFIG="$HU_TMP/many.json" "$C" 127.0.0.1 1
hu_assert_eq "more than 10000 rules in all: 5 rules not read" "$(field "$HU_TMP/many.err" config_error reason)" \
	"10,005 rules: one record says 5 were not read"

# --- HOSTUP_LOG that cannot be opened or written: stderr, said once
declare -A ERRNO=([/proc/self/mem]=EIO [/nonexistent/dir/x]=ENOENT [fd:999]=EBADF)
for dest in /proc/self/mem /nonexistent/dir/x fd:999; do
	out=$(hu_bounded 20 "hu_connect, HOSTUP_LOG=$dest" --err "$HU_TMP/log.err" \
		env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$POL" HOSTUP_LOG="$dest" "$C" 127.0.0.1 1)
	hu_assert_eq "error ECONNREFUSED" "$out" "HOSTUP_LOG=$dest: libc's result"
	valid "$HU_TMP/log.err"
	hu_assert_eq 1 "$(grep -c '"event":"log_error"' "$HU_TMP/log.err")" "HOSTUP_LOG=$dest: one log_error record"
	hu_assert_eq "$dest" "$(field "$HU_TMP/log.err" log_error destination)" "HOSTUP_LOG=$dest: it names the destination"
	hu_assert_eq "${ERRNO[$dest]}" "$(field "$HU_TMP/log.err" log_error errno)" "HOSTUP_LOG=$dest: and the error"
	hu_assert_contains "$(head -n 1 "$HU_TMP/log.err")" '"event":"log_error"' "HOSTUP_LOG=$dest: said before the first record"
	counts=$("$HU_PY" "$REC" "$HU_TMP/log.err")
	hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$counts" "HOSTUP_LOG=$dest: no record lost"
done
hu_bounded 20 "hu_connect, HOSTUP_LOG=off" --out /dev/null --err "$HU_TMP/off.err" \
	env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$POL" HOSTUP_LOG=off "$C" 127.0.0.1 1
[[ -s $HU_TMP/off.err ]] || hu_fail "HOSTUP_LOG=off: hu_connect said nothing on stderr (did it run?)"
# hu_connect's own stderr line stays; no record may join it
hu_assert_eq "" "$(grep '^{' "$HU_TMP/off.err")" "HOSTUP_LOG=off: silent"
hu_bounded 20 "hu_connect, HOSTUP_LOG=FILE" --out /dev/null --err "$HU_TMP/good.err" \
	env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$POL" HOSTUP_LOG="$HU_TMP/good.log" "$C" 127.0.0.1 1
hu_assert_eq "" "$(grep '^{' "$HU_TMP/good.err")" "a good HOSTUP_LOG file: no record on stderr"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$("$HU_PY" "$REC" "$HU_TMP/good.log")" \
	"a good HOSTUP_LOG file: the records are there"
hu_done
