#!/bin/bash
# SPDX-License-Identifier: MIT
# Network volumes: unmodified programs read files from a flaky FUSE volume
# (tests/tools/hu_flakyfs.c, standing in for NFS/CIFS/sshfs) through stale
# handles and server outages, and get exactly the bytes of the file.
# Root and /dev/fuse; no network namespaces.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_flakyfs hu_volread
[[ -c /dev/fuse ]] || { echo "skipped: needs /dev/fuse"; exit 77; }
hu_need_cmd fusermount3 sha256sum "$HU_PY"

MOUNTS=() FSPIDS=()
vol_cleanup() {
	local m p
	for m in "${MOUNTS[@]}"; do fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	for p in "${FSPIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${FSPIDS[@]}"; do timeout 10 tail --pid="$p" -f /dev/null; done
	return 0
}
hu_at_exit vol_cleanup

# mount_vol NAME SUBTYPE: backing dir $HU_TMP/NAME.b, mount point $HU_TMP/NAME
mount_vol() {
	local b=$HU_TMP/$1.b m=$HU_TMP/$1 i
	mkdir -p "$b" "$m"
	"$HU_TOOLS/hu_flakyfs" --backing="$b" --log="$HU_TMP/$1.fs.txt" "$m" -f \
		-o "subtype=$2,fsname=tester@fileserver:/export/$1" 2>>"$HU_TMP/$1.fs.err" &
	FSPIDS+=($!)
	MOUNTS+=("$m")
	for ((i = 0; i < 50; i++)); do
		grep -q " ${m} .* - fuse.$2 " /proc/self/mountinfo && return 0
		sleep 0.1
	done
	hu_fail "hu_flakyfs did not mount $m"
}
ctl() { local m=$1; shift; printf '%s\n' "$@" >"$m/.hu_ctl" || hu_fail "control: $*"; }
# the command's lines after "$1" (mount point)
arm() { local m=$1; shift; printf '%s\n' clear "$@" >"$m/.hu_ctl" || hu_fail "arm: $*"; }

# run NAME POLICY CMD...: with the library; stdout to $HU_TMP/NAME.out,
# records to NAME.rec, stderr to NAME.err; sets RC and MS (and lib.sh's
# HU_RC/HU_MS/HU_ERR, which a failure prints).  Fails the test when CMD
# runs longer than HU_MAX seconds (default 90).
run() {
	local name=$1 policy=$2 t0 t1
	shift 2
	: >"$HU_TMP/$name.rec"
	t0=${EPOCHREALTIME/[.,]/}
	hu_bounded "${HU_MAX:-90}" "run $name" --out "$HU_TMP/$name.out" --err "$HU_TMP/$name.err" \
		env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$policy" HOSTUP_LOG="$HU_TMP/$name.rec" UV_USE_IO_URING=0 "$@"
	RC=$?
	t1=${EPOCHREALTIME/[.,]/}
	MS=$(((t1 - t0) / 1000))
	# shellcheck disable=SC2034
	HU_RC=$RC HU_MS=$MS HU_ERR=$(head -c 400 "$HU_TMP/$name.err")
	echo "run $name: rc=$RC ${MS}ms: $*"
}
run_bare() {
	local name=$1
	shift
	hu_bounded "${HU_MAX:-90}" "run_bare $name" --out "$HU_TMP/$name.out" --err "$HU_TMP/$name.err" \
		env UV_USE_IO_URING=0 "$@"
	RC=$?
	echo "run $name (no hostup): rc=$RC: $*"
}
hash_of() { sha256sum <"$1" | cut -c1-64; }
counts() { "$HU_PY" "$HU_RECORDS" "$HU_TMP/$1.rec" || hu_fail "records of $1 are not valid"; }
field() { # NAME EVENT FIELD: fails the test when no EVENT record has FIELD
	"$HU_PY" "$HU_RECORDS" "$HU_TMP/$1.rec" --event "$2" --field "$3" || hu_fail "no $2 record with $3 in $1.rec"
}
HU_RECORDS=$HU_ROOT/tests/integration/records.py
num() { local v=${2#*"$1"=}; echo "${v%% *}"; } # EVENT "retry=N recovered=N ..."

# ---- the volumes and the data ------------------------------------------------
mount_vol nfs sshfs         # fuse.sshfs: a network volume by its mountinfo line
mount_vol loc hu_flakyfs    # an unknown FUSE type: network only under a path rule
V=$HU_TMP/nfs L=$HU_TMP/loc

head -c 64M /dev/urandom >"$V.b/big.bin"
BIG=$(hash_of "$V.b/big.bin")
# 70-byte numbered lines (a multiple of 7 bytes in all): a byte skipped or
# doubled anywhere changes the hash
"$HU_PY" - "$V.b/text.txt" <<-'EOF'
	import random, sys
	r = random.Random(7)
	with open(sys.argv[1], "w") as f:
	    for i in range(120000):
	        f.write("%09d " % i + "".join(r.choice("abcdefghij klmnop") for _ in range(59)) + "\n")
EOF
TEXT=$(hash_of "$V.b/text.txt")
cp "$V.b/big.bin" "$L.b/big.bin"
echo small >"$V.b/small.txt"
hu_assert_eq "$BIG" "$(hash_of "$V/big.bin")" "the volume serves the file"

# stale handle and two outages in the middle of a 64 MiB read; the runs
# under the default rule (8 tries, full jitter) get shorter outages, which
# they survive with a probability far above 99.9 %
three_failures() { # FILE [OUTAGE1 OUTAGE2]
	arm "$V" "at /$1 16M down ${2:-1.5} EHOSTDOWN" "at /$1 32M stale /$1 3" "at /$1 48M down ${3:-1} ETIMEDOUT"
}

# ---- without hostup the same run fails --------------------------------------
three_failures big.bin
run_bare bare_cat cat "$V/big.bin"
hu_assert_ne 0 "$RC" "without hostup: cat fails"
hu_assert_contains "$(cat "$HU_TMP/bare_cat.err")" "Host is down" "without hostup: cat says Host is down"
hu_assert_ne "$BIG" "$(hash_of "$HU_TMP/bare_cat.out")" "without hostup: cat's bytes are not the file"
sleep 1.6
three_failures big.bin
run_bare bare_sha sha256sum "$V/big.bin"
hu_assert_ne 0 "$RC" "without hostup: sha256sum fails"
sleep 1.6

# ---- cat and sha256sum: default rule, found through mountinfo ----------------
three_failures big.bin 0.6 0.5
run cat "" cat "$V/big.bin"
hu_assert_eq 0 "$RC" "cat exits 0"
hu_assert_eq "$BIG" "$(hash_of "$HU_TMP/cat.out")" "cat: sha256 identical to the source"
c=$(counts cat)
hu_assert_ge "$(num retry "$c")" 3 "cat: retry records"
hu_assert_eq 3 "$(num recovered "$c")" "cat: three recovered records"
hu_assert_eq 0 "$(num gave_up "$c")" "cat: no gave_up"
causes=$(field cat retry diagnosis)
hu_assert_contains "$causes" '"cause": "server down' "cat: diagnosis server down"
hu_assert_contains "$causes" '"cause": "stale handle: reopened' "cat: diagnosis stale handle: reopened"
hu_assert_contains "$(field cat retry rule)" "(volume defaults)" "cat: the volume defaults applied"
rec=$(grep -m1 '"errno":"EHOSTDOWN"' "$HU_TMP/cat.rec")
for k in '"op":"read"' "\"path\":\"$V/big.bin\"" '"fd":' '"offset":16777216' \
	'"source":"tester@fileserver:/export/nfs"' '"fstype":"fuse.sshfs"' '"options":"rw,' '"layer":"volume"'; do
	hu_assert_contains "$rec" "$k" "cat: record has $k"
done
hu_assert_contains "$(grep -m1 ESTALE "$HU_TMP/cat.rec")" '"offset":33554432' "cat: the reopen record gives the offset"

three_failures big.bin 0.6 0.5
run sha "" sha256sum "$V/big.bin"
hu_assert_eq 0 "$RC" "sha256sum exits 0"
hu_assert_eq "$BIG" "$(cut -c1-64 "$HU_TMP/sha.out")" "sha256sum (fread_unlocked): hash identical"
hu_assert_contains "$(counts sha)" "recovered=3" "sha256sum: three recoveries"

# ---- python3 and node -----------------------------------------------------------
P="$V/big.bin backoff=100ms..1s attempts=30"
py_buffered='import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    while b := f.read(100000):
        h.update(b)
print(h.hexdigest())'
py_unbuffered='import hashlib, sys
print(hashlib.sha256(open(sys.argv[1], "rb", buffering=0).read()).hexdigest())'
three_failures big.bin
run py_buf "$P" "$HU_PY" -c "$py_buffered" "$V/big.bin"
hu_assert_eq "$BIG" "$(cat "$HU_TMP/py_buf.out")" "python3 buffered open().read(): hash identical"
three_failures big.bin
run py_raw "$P" "$HU_PY" -c "$py_unbuffered" "$V/big.bin"
hu_assert_eq "$BIG" "$(cat "$HU_TMP/py_raw.out")" "python3 unbuffered open().read(): hash identical"
hu_assert_contains "$(counts py_raw)" "recovered=3" "python3: three recoveries"

if hu_have_cmd "node checks" node; then
	three_failures big.bin
	run node_sync "$P" node -e 'const c = require("crypto"), fs = require("fs");
console.log(c.createHash("sha256").update(fs.readFileSync(process.argv[1])).digest("hex"))' "$V/big.bin"
	hu_assert_eq "$BIG" "$(cat "$HU_TMP/node_sync.out")" "node fs.readFileSync: hash identical"
	three_failures big.bin
	run node_stream "$P" node -e 'const c = require("crypto"), fs = require("fs"), h = c.createHash("sha256");
fs.createReadStream(process.argv[1]).on("data", d => h.update(d)).on("end", () => console.log(h.digest("hex")))
  .on("error", e => { console.error(e.message); process.exit(1) })' "$V/big.bin"
	hu_assert_eq "$BIG" "$(cat "$HU_TMP/node_stream.out")" "node createReadStream: hash identical"
	hu_assert_contains "$(counts node_stream)" "recovered=3" "node: three recoveries"
fi

# ---- a C program: every stdio reader and pread, failures mid-buffer -------------
PT="$V/text.txt backoff=50ms..500ms attempts=30"
for mode in read pread fread fread7 fgets getline getc getchar mixed; do
	arm "$V" "at /text.txt 1M down 0.4 EHOSTDOWN" "at /text.txt 3M stale /text.txt 3" \
		"at /text.txt 5M down 0.4 ENOTCONN" "at /text.txt 7M stale /text.txt 0"
	run "c_$mode" "$PT" "$HU_TOOLS/hu_volread" "$mode" "$V/text.txt"
	[[ $RC == 0 ]] || hu_fail "hu_volread $mode: rc=$RC $(cat "$HU_TMP/c_$mode.err")"
	hu_assert_eq "$TEXT" "$(hash_of "$HU_TMP/c_$mode.out")" "C $mode: every byte once, in order"
	# pread's scrambled order can meet several triggers in one read
	want=4
	[[ $mode == pread ]] && want=2
	hu_assert_ge "$(num recovered "$(counts "c_$mode")")" $want "C $mode: recoveries"
done
hu_assert_contains "$(field c_getline retry diagnosis)" '"cause": "volume daemon gone' \
	"ENOTCONN on a FUSE volume: diagnosis volume daemon gone"
hu_assert_contains "$(field c_fgets retry op)" "fgets" "stdio records name the reader"

# a write on an fd that was reopened reaches the file
cp "$V.b/text.txt" "$V.b/rw.txt"
arm "$V" "at /rw.txt 2M stale /rw.txt 1"
run c_rw "$PT" "$HU_TOOLS/hu_volread" rw "$V/rw.txt"
hu_assert_eq 0 "$RC" "O_RDWR read through a stale handle, then a write"
hu_assert_eq "$TEXT" "$(hash_of "$HU_TMP/c_rw.out")" "rw: the bytes read are the file"
hu_assert_eq "APPENDED" "$(tail -n1 "$V.b/rw.txt")" "rw: the write after the reopen reached the file"
hu_assert_contains "$(field c_rw retry diagnosis)" "stale handle: reopened" "rw: reopened"

# FD_CLOEXEC, status flags and a dup's shared offset survive the reopen
arm "$V" "at /text.txt 2M stale /text.txt 1"
run c_flags "$PT" "$HU_TOOLS/hu_volread" flags "$V/text.txt"
hu_assert_eq "$TEXT" "$(hash_of "$HU_TMP/c_flags.out")" "flags: the bytes read through a dup are the file"
hu_assert_eq "cloexec=1 nonblock=1 shared_offset=1" "$(cat "$HU_TMP/c_flags.err")" \
	"flags: FD_CLOEXEC, O_NONBLOCK and the dup's shared offset kept across the reopen"
hu_assert_contains "$(field c_flags retry diagnosis)" "stale handle: reopened" "flags: reopened"

# EIO is retried only when a rule says so
arm "$V" "at /text.txt 1M down 0.4 EIO"
run eio_default "" cat "$V/text.txt"
hu_assert_eq 1 "$RC" "EIO: not retried by default"
sleep 0.5
arm "$V" "at /text.txt 1M down 0.4 EIO"
run eio_rule "$V retry_on=+EIO backoff=50ms..300ms attempts=30" cat "$V/text.txt"
hu_assert_eq "$TEXT" "$(hash_of "$HU_TMP/eio_rule.out")" "EIO: retried under retry_on=+EIO"

# ---- an outage longer than the deadline: the original errno, and why ----------
arm "$V" "at /big.bin 2M down 30 EHOSTDOWN"
run long "$V attempts=3 backoff=100ms..200ms" cat "$V/big.bin"
ctl "$V" up
hu_assert_eq 1 "$RC" "long outage: cat fails"
hu_assert_contains "$(cat "$HU_TMP/long.err")" "Host is down" "long outage: the program sees the original errno"
hu_assert_lt "$MS" 5000 "long outage: handed back within the policy"
hu_assert_contains "$(counts long)" "gave_up=1" "long outage: one gave_up record"
g=$(grep '"gave_up"' "$HU_TMP/long.rec")
for k in '"attempt":3' '"attempts":3' '"errno":"EHOSTDOWN"' '"offset":2097152' \
	'"source":"tester@fileserver:/export/nfs"' '"options":"rw,user_id=0,group_id=0"' '"cause":"server down'; do
	hu_assert_contains "$g" "$k" "long outage: gave_up has $k"
done

# ---- a file replaced on the server during an outage: no splicing ---------------
cp "$V.b/big.bin" "$V.b/r.bin"
head -c 64M /dev/urandom >"$HU_TMP/new.bin"
arm "$V" "at /r.bin 8M down 1.5 EHOSTDOWN"
( run repl "$V backoff=100ms..1s attempts=30" "$HU_TOOLS/hu_volread" read "$V/r.bin" ) &
repl=$!
for ((i = 0; i < 50; i++)); do grep -q 'trigger at /r.bin' "$HU_TMP/nfs.fs.txt" && break; sleep 0.1; done
grep -q 'trigger at /r.bin' "$HU_TMP/nfs.fs.txt" || hu_fail "replaced file: the read did not reach the outage at 8M in 5 s"
mv "$HU_TMP/new.bin" "$V.b/r.bin"      # replaced on the server while it is down
wait $repl   # bounded: run's own HU_MAX
hu_assert_contains "$(cat "$HU_TMP/repl.err")" "Stale file handle" "replaced file: the program gets ESTALE"
size=$(stat -c %s "$HU_TMP/repl.out")
hu_assert_eq 8388608 "$size" "replaced file: only the old file's first 8 MiB were read"
hu_assert_eq "$(head -c 8M "$V.b/big.bin" | sha256sum | cut -c1-64)" "$(hash_of "$HU_TMP/repl.out")" \
	"replaced file: those bytes are the old file's, nothing of the new one spliced in"
g=$(grep '"gave_up"' "$HU_TMP/repl.rec")
hu_assert_contains "$g" '"cause":"file replaced' "replaced file: the record says why"
hu_assert_contains "$g" 'inode' "replaced file: the record names the inode change"

# ---- which paths count: path rules, off, a local-looking mount -------------------
arm "$L" "at /big.bin 4M down 0.5 EHOSTDOWN"
run loc_norule "" cat "$L/big.bin"
hu_assert_eq 1 "$RC" "unknown FUSE type without a rule: not a network volume, not retried"
hu_assert_eq "retry=0 recovered=0 gave_up=0 config_error=0" "$(counts loc_norule)" "no rule: no records"
sleep 0.6
arm "$L" "at /big.bin 4M down 0.5 EHOSTDOWN"
run loc_rule "$L attempts=20 backoff=50ms..300ms" cat "$L/big.bin"
hu_assert_eq "$BIG" "$(hash_of "$HU_TMP/loc_rule.out")" "a path rule makes any mount a volume"
sleep 0.1
arm "$V" "at /big.bin 4M down 0.5 EHOSTDOWN"
run off "$V off" cat "$V/big.bin"
hu_assert_eq 1 "$RC" "a rule with off turns a network mount off"
hu_assert_eq "retry=0 recovered=0 gave_up=0 config_error=0" "$(counts off)" "off: no records"
sleep 0.6

# ---- open and stat retries; O_EXCL never retried; slow replies ------------------
arm "$V" "down 1 EHOSTDOWN"
run open "$V backoff=100ms..500ms attempts=30" cat "$V/small.txt"
hu_assert_eq small "$(cat "$HU_TMP/open.out")" "open during an outage: retried, then read"
hu_assert_contains "$(field open recovered op)" "open" "open: recovered record"
arm "$V" "down 1 ETIMEDOUT"
run stat "$V backoff=100ms..500ms attempts=30" stat -c %s "$V/big.bin"
hu_assert_eq 67108864 "$(cat "$HU_TMP/stat.out")" "stat during an outage: retried"
arm "$V" "down 1 EHOSTDOWN"
run pystat "$V backoff=100ms..500ms attempts=30" "$HU_PY" -c 'import os, sys; print(os.stat(sys.argv[1]).st_size)' "$V/big.bin"
hu_assert_eq 67108864 "$(cat "$HU_TMP/pystat.out")" "python os.stat during an outage: retried"
sleep 1
arm "$V" "down 1 EHOSTDOWN"
run excl "$V backoff=100ms..500ms attempts=30" "$HU_PY" -c 'import os, sys
try:
    os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
except OSError as e:
    print(e.strerror)' "$V/new.txt"
hu_assert_eq "Host is down" "$(cat "$HU_TMP/excl.out")" "O_EXCL: never retried"
hu_assert_eq "retry=0 recovered=0 gave_up=0 config_error=0" "$(counts excl)" "O_EXCL: no records"
sleep 1.1
arm "$V" "slow 5"
run slow "" sha256sum "$V/text.txt"
hu_assert_eq "$TEXT" "$(cut -c1-64 "$HU_TMP/slow.out")" "slow replies: same bytes"
hu_assert_eq "retry=0 recovered=0 gave_up=0 config_error=0" "$(counts slow)" "slow replies: nothing retried"
ctl "$V" clear

# ---- hostup doctor on a volume whose server is down, or whose daemon is gone
arm "$V" "down 30 EHOSTDOWN"
out=$(hu_bounded 30 "hostup doctor $V/big.bin" "$HU_BUILD/hostup" doctor --json "$V/big.bin")
hu_assert_eq 1 "$?" "doctor: a volume whose server is down is unreachable"
hu_assert_eq "volume" "$("$HU_PY" -c 'import json,sys; print(json.load(sys.stdin)["verdict"]["layer"])' <<<"$out")" "doctor: volume layer"
hu_assert_contains "$out" "server is down" "doctor: server down"
hu_assert_contains "$out" "tester@fileserver:/export/nfs" "doctor: names the mount source"
arm "$V" "down 30 ENOTCONN"
out=$(hu_bounded 30 "hostup doctor $V/big.bin" "$HU_BUILD/hostup" doctor --json "$V/big.bin")
hu_assert_contains "$out" "daemon is gone" "doctor: ENOTCONN means the volume daemon is gone"
ctl "$V" clear
hu_done
