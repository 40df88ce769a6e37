#!/bin/bash
# SPDX-License-Identifier: MIT
# Real NFS: a kernel NFS server and a kernel NFS client in a qemu VM (this
# machine's kernel has no NFS client).  tests/nfs/build_initramfs.sh makes
# the VM from Debian packages (cached in /var/tmp/hostup-nfs); the VM runs
# tests/nfs/scenarios.sh and prints one row per reader on its serial
# console; this script asserts each row: readers without hostup (b_*), with
# the default policy (h_*) and with retry_on=+EIO (e_*), same sha256 or the
# errno, and the records' volume diagnosis on the real /proc/self/mountinfo.
# Bounded: the VM is killed after HU_NFS_BOUND seconds (default 210).
# HU_NFS_ONLY=a,b runs only those scenarios.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_root
# the VM has no sanitizer runtime for a sanitized library (make check SANITIZE=)
[[ -z ${HU_SANITIZE:-} ]] || { echo "skipped: the VM has no sanitizer runtime"; exit 77; }
hu_need_lib
hu_need_tools hu_volread
[[ -x $HU_BUILD/hostup ]] || hu_fail "missing $HU_BUILD/hostup (build it first)"
if ! command -v qemu-system-x86_64 >/dev/null; then
	bash "$HU_ROOT/tests/deps.sh" nfs >/dev/null 2>&1
	command -v qemu-system-x86_64 >/dev/null || { echo "skipped: needs qemu"; exit 77; }
fi
hu_need_cmd gzip "$HU_PY"

QPID=
nfs_cleanup() {
	[[ -n $QPID ]] && kill -9 "$QPID" 2>/dev/null
	wait 2>/dev/null
}
hu_at_exit nfs_cleanup

t_start=$SECONDS
base=$(bash "$HU_ROOT/tests/nfs/build_initramfs.sh" 2>"$HU_TMP/build.log" | tail -n 1) ||
	hu_fail "building the VM: $(tail -n 3 "$HU_TMP/build.log")"
[[ -s $base/base.cpio.gz ]] || hu_fail "building the VM: $(tail -n 3 "$HU_TMP/build.log")"
echo "VM base: $base ($((SECONDS - t_start)) s)"

# ---- the per-run part: /init, the scenarios, the library, the CLI, a reader ---
ov=$HU_TMP/overlay
mkdir -p "$ov/hostup"
cp "$HU_ROOT/tests/nfs/init.sh" "$ov/init"
cp "$HU_ROOT/tests/nfs/scenarios.sh" "$HU_LIB" "$HU_BUILD/hostup" "$HU_TOOLS/hu_volread" "$ov/hostup/"
chmod 755 "$ov/init"
echo "outage stale unexport recreate disk" >"$ov/hostup/phases"
DATA="hard3 hard42 soft3 softerr3 del3 repl3 del42 repl42 unexport3 recreate3 recreate42 disk3"
echo "$DATA" >"$ov/hostup/data"
# each scenario's file: its name on a line, then 2 MiB of random bytes
head -c 2097152 /dev/urandom >"$ov/hostup/seed.bin"
declare -A SUM=()
for s in $DATA; do
	SUM[$s]=$({ echo "$s"; cat "$ov/hostup/seed.bin"; } | sha256sum | cut -c1-64)
done
(cd "$ov" && find . | LC_ALL=C sort | "$base/busybox" cpio -o -H newc 2>/dev/null | gzip -1) \
	>"$HU_TMP/overlay.cpio.gz" || hu_fail "packing the overlay"
cat "$base/base.cpio.gz" "$HU_TMP/overlay.cpio.gz" >"$HU_TMP/initrd.gz"

# ---- boot, bounded ---------------------------------------------------------------
bound=${HU_NFS_BOUND:-210}
cmdline="console=ttyS0 quiet panic=-1 mitigations=off${HU_NFS_ONLY:+ hu.only=$HU_NFS_ONLY}"
t_boot=$SECONDS
qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64 -m 1024 -smp 2 \
	-kernel "$base/vmlinuz" -initrd "$HU_TMP/initrd.gz" -append "$cmdline" \
	-display none -serial file:"$HU_TMP/console.raw" -monitor none -no-reboot -nic none \
	</dev/null >"$HU_TMP/qemu.log" 2>&1 &
QPID=$!
while kill -0 "$QPID" 2>/dev/null; do
	if ((SECONDS - t_boot > bound)); then
		kill -9 "$QPID" 2>/dev/null
		tr -d '\r' <"$HU_TMP/console.raw" | tail -n 15 >&2
		hu_fail "the VM did not finish within ${bound} s (killed)"
	fi
	grep -q '^HU END' "$HU_TMP/console.raw" 2>/dev/null && break
	sleep 1
done
for ((i = 0; i < 10; i++)); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
kill -9 "$QPID" 2>/dev/null
wait "$QPID" 2>/dev/null
QPID=
tr -d '\r' <"$HU_TMP/console.raw" >"$HU_TMP/console.log"
grep -q '^HU END' "$HU_TMP/console.log" || {
	tail -n 20 "$HU_TMP/console.log" >&2
	hu_fail "the VM stopped before the end: $(tail -n 3 "$HU_TMP/qemu.log")"
}
echo "VM ran $((SECONDS - t_boot)) s"
grep '^HU NOTE' "$HU_TMP/console.log" | cut -c9-

# ---- the rows --------------------------------------------------------------------
# row SCEN LABEL -> "rc=.. err=.. sum=.. ms=.. dstate=.."; records to $HU_TMP/LABEL.SCEN.rec
row() { grep "^HU ROW $1 $2 " "$HU_TMP/console.log" | head -n 1 | cut -d' ' -f5-; }
sum_of() { echo "${SUM[$1]}"; }
kv() { local v=" $2"; v=${v#* "$1"=}; echo "${v%% *}"; }   # kv KEY "ROW"
recs() { # SCEN LABEL: the records of one reader, in a file; prints its path
	local f=$HU_TMP/$2.$1.rec
	[[ -e $f ]] || awk -v s="$1" -v l="$2" '
		$1 == "HU" && $2 == "REC" && $3 == s && $4 == l { sub(/^HU REC [^ ]+ [^ ]+ /, ""); print }
	' "$HU_TMP/console.log" >"$f"
	echo "$f"
}
counts() { "$HU_PY" "$HU_RECORDS" "$(recs "$1" "$2")" || hu_fail "records of $2 in $1 are not valid"; }
HU_RECORDS=$HU_ROOT/tests/integration/records.py
TABLE=()

# expect SCEN LABEL ok|ERRTEXT[|ERRTEXT...] [WHAT]: the reader's hash is the
# file's, or it failed with (one of) that strerror text (spaces as _)
expect() {
	local s=$1 l=$2 want=$3 r rc err sum
	r=$(row "$s" "$l")
	[[ -n $r ]] || hu_fail "$s/$l: no row (VM log: $(grep "^HU NOTE $s" "$HU_TMP/console.log" | tail -n 2))"
	rc=$(kv rc "$r") err=$(kv err "$r") sum=$(kv sum "$r")
	if [[ $want == ok ]]; then
		[[ $rc == 0 && $sum == "$(sum_of "$s")" ]] || hu_fail "$s/$l: expected the file's bytes, got $r"
	else
		[[ $rc == 1 && "|$want|" == *"|$err|"* ]] || hu_fail "$s/$l: expected $want, got $r"
	fi
	hu_ok "$s/$l: ${4:-$want} ($r)"
	TABLE+=("$s $l rc=$rc err=$err ms=$(kv ms "$r") dstate=$(kv dstate "$r") hash=$([[ $sum == "$(sum_of "$s")" ]] && echo right || echo wrong)")
}
# no_records SCEN LABEL: hostup stayed out of the way
no_records() {
	local c
	c=$(counts "$1" "$2")
	[[ $c == "retry=0 recovered=0 gave_up=0 config_error=0" ]] || hu_fail "$1/$2: records: $c"
	hu_ok "$1/$2: no records"
}
# rec_has SCEN LABEL EVENT PYTHON-EXPR: some record of EVENT satisfies it (r = the record)
rec_has() {
	"$HU_PY" - "$(recs "$1" "$2")" "$3" "$4" <<'EOF' || hu_fail "$1/$2: no $3 record with $4"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = [r for r in recs if r.get("event") == sys.argv[2] and eval(sys.argv[3], {"r": r})]
if not ok:
    print("records:", *recs, sep="\n  ", file=sys.stderr)
    sys.exit(1)
EOF
	hu_ok "$1/$2: a $3 record with $4"
}
# the volume diagnosis on the real mountinfo: layer, fstype, server, options
vol_rec() { # SCEN LABEL EVENT FSTYPE [CAUSE-SUBSTRING]
	rec_has "$1" "$2" "$3" "(d := r.get('diagnosis', {})).get('layer') == 'volume' \
and r.get('mount', {}).get('fstype') == '$4' and d['evidence'].get('fstype') == '$4' \
and d['evidence'].get('server') == '198.18.0.1' and 'addr=198.18.0.1' in r['mount'].get('options', '') \
and '${5:-}' in d.get('cause', '')"
}
# doctor_says SCEN TEXT: hostup doctor's output on the scenario's file has it
doctor_says() {
	grep -q "^HU OUT $1 doctor .*$2" "$HU_TMP/console.log" ||
		hu_fail "$1: hostup doctor does not say '$2': $(grep "^HU OUT $1 doctor" "$HU_TMP/console.log")"
	hu_ok "$1: hostup doctor says '$2'"
}
ran() { grep -q "^HU NOTE $1 mounted" "$HU_TMP/console.log"; }

# ---- outage: the server stopped for 6 s under four mounts --------------------------
if ran hard3; then
	for s in hard3 hard42; do
		expect $s b_read ok "the reader waits in the kernel and resumes"
		expect $s h_read ok "hostup stays out of the way"
		[[ $(kv dstate "$(row $s b_read)") == 1 ]] || hu_fail "$s: the reader was never in D state"
		no_records $s h_read
	done
	doctor_says hard3 "198.18.0.1:/srv/nfs on /mnt/hard3 type nfs (.*hard,.*timeo=600,retrans=2"
	doctor_says hard3 "a hard mount waits forever"
	doctor_says soft3 "198.18.0.1:/srv/nfs on /mnt/soft3 type nfs (.*soft,.*timeo=10,retrans=2"
	doctor_says soft3 "stat .*fail"
	for l in b_read b_fread b_py; do expect soft3 $l Input/output_error; done
	for l in h_read h_fread h_getline h_py; do
		expect soft3 $l ok "a soft mount's timeout EIO is retried by default"
		vol_rec soft3 $l retry nfs "server down: the file server 198.18.0.1 does not answer (EIO)"
		rec_has soft3 $l recovered "r['mount']['point'] == '/mnt/soft3'"
	done
	rec_has soft3 h_read retry "'soft' in r['diagnosis']['evidence'] and r['diagnosis']['evidence']['timeo'] == '10'"
	expect softerr3 b_read Connection_timed_out
	for l in h_read h_fread; do
		expect softerr3 $l ok
		vol_rec softerr3 $l retry nfs "(ETIMEDOUT)"
		rec_has softerr3 $l recovered "True"
	done
fi

# ---- stale: deleted or replaced on the server ----------------------------------------
if ran del3; then
	for s in del3 repl3; do
		expect $s b_read Stale_file_handle
		expect $s h_read Stale_file_handle
	done
	vol_rec del3 h_read gave_up nfs "reopening by path failed with ENOENT: the file is gone"
	vol_rec repl3 h_read gave_up nfs "file replaced"
	rec_has repl3 h_read gave_up "r['diagnosis']['evidence']['old_inode'] != r['diagnosis']['evidence']['new_inode']"
	for s in del42 repl42; do
		expect $s b_read ok "the v4 server's open state keeps the old file"
		expect $s h_read ok
		no_records $s h_read
	done
fi

# ---- the export removed -----------------------------------------------------------
if ran unexport3; then
	expect unexport3 b_read Permission_denied
	expect unexport3 h_read Permission_denied "EACCES is not retried"
	no_records unexport3 h_read
fi

# ---- the server's file system made again with the same files ---------------------------
if ran recreate3; then
	grep -q "^HU NOTE recreate3 server inode \([0-9]*\) -> \1$" "$HU_TMP/console.log" ||
		hu_fail "recreate3: the server's inode number changed: $(grep 'recreate3 server inode' "$HU_TMP/console.log")"
	expect recreate3 b_read Stale_file_handle "a stale handle while the path names the same file"
	expect recreate3 h_read ok "reopened by path and continued"
	vol_rec recreate3 h_read retry nfs "stale handle: reopened by path at the same offset"
	rec_has recreate3 h_read recovered "True"
	# v4: the client's reclaim of its open with the old handle fails, and it
	# drops the open state: EIO or EBADF (both seen), on a hard mount, which
	# no default retries
	expect recreate42 b_read "Bad_file_descriptor|Input/output_error"
	expect recreate42 h_read "Bad_file_descriptor|Input/output_error" "hostup leaves it alone"
	no_records recreate42 h_read
fi

# ---- a server's own EIO (its disk) through a soft mount ----------------------------------
if ran disk3; then
	expect disk3 b_read Input/output_error
	expect disk3 h_read Input/output_error "a disk's fast EIO: one retry, then the program's"
	rec_has disk3 h_read gave_up "r['errno'] == 'EIO' and r['attempt'] == 2"
	(($(kv ms "$(row disk3 h_read)") < 3000)) || hu_fail "disk3/h_read took $(kv ms "$(row disk3 h_read)") ms"
	expect disk3 e_read Input/output_error "retry_on=+EIO retries it until the deadline (4 s)"
	rec_has disk3 e_read gave_up "r['errno'] == 'EIO' and r['attempt'] >= 3"
fi

((HU_PASSES > 0)) || hu_fail "no scenario ran (HU_NFS_ONLY=${HU_NFS_ONLY:-})"
echo "== results (ms: from the moment the readers went on; dstate: seen in D state)"
printf '  %s\n' "${TABLE[@]}"
echo "test_nfs: $((SECONDS - t_start)) s"
hu_done
