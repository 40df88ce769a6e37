#!/bin/bash
# SPDX-License-Identifier: MIT
# The shared file can never hurt a program (shim/core/shared_file.c,
# shared_prune.c; issue 17).  Each part failed before its fix:
# - /dev/shm full (0 bytes free, then 8 KiB): no SIGBUS, no file left
#   behind, a healthy connect prints nothing, a failing one says once that
#   it runs without shared state, and retries on its own;
# - a lease held by pid 1 with a far-future expiry, and one whose holder
#   stopped probing: a healthy target is reached at once;
# - another user's file (or directory) in root's default place: a healthy
#   program prints nothing;
# - unused files are removed (by the library when it makes a file, and by
#   `hostup status --prune`), a mapped one is kept.
# The default place (/dev/shm) is a private tmpfs in a private mount
# namespace (unshare -m) for each part, so the host's is never touched.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_root
hu_need_cmd unshare setpriv
hu_need_lib
hu_need_tools hu_connect
C=$HU_TOOLS/hu_connect
HOSTUP=$HU_BUILD/hostup
hu_net_setup
P=8080 DEAD=8081
hu_serve_tcp $P
hu_reject $DEAD
POLICY="* attempts=3 backoff=50ms..100ms deadline=5s"

# in the client namespace, a private /dev/shm of SIZE, prepared by SETUP
# (a shell snippet), then the clients of RUN; default shared file, records
# on stderr: in_shm WHAT SIZE SETUP RUN (output in $HU_TMP/WHAT.out, .err)
in_shm() {
	hu_bounded 60 "$1" --out "$HU_TMP/$1.out" --err "$HU_TMP/$1.err" \
		ip netns exec "$NS_C" env -u HOSTUP_SHARED -u HOSTUP_LOG unshare -m sh -c '
		mount -t tmpfs -o size=$1,mode=1777 hutmp /dev/shm || exit 99
		eval "$2" || exit 98
		eval "$3"' sh "$2" "$3" "$4"
}
export C P DEAD IP_S HU_PRELOAD POLICY HOSTUP
CLIENT='LD_PRELOAD=$HU_PRELOAD HOSTUP_POLICY="$POLICY" $C $IP_S'

# --- /dev/shm full ----------------------------------------------------------
for free in 0 8; do
	# fill all but $free KiB (tmpfs counts whole pages)
	fill="dd if=/dev/zero of=/dev/shm/fill bs=4k count=$(((256 - free) / 4)) 2>/dev/null; true"
	in_shm "full$free" 256k "$fill" "
		$CLIENT $P; echo rc=\$?
		$CLIENT $DEAD; echo rc=\$?
		$CLIENT $P; echo rc=\$?
		ls -la /dev/shm /dev/shm/hostup-0 >&2; find /dev/shm -name '*.new.*' | sed 's/^/left: /'
		find /dev/shm -type f ! -name fill | while read -r f; do
			[ \$((\$(stat -c %b \"\$f\") * 512)) -ge \$(stat -c %s \"\$f\") ] || echo \"sparse: \$f\"; done"
	out=$(cat "$HU_TMP/full$free.out") err=$(cat "$HU_TMP/full$free.err")
	echo "$out"
	hu_assert_eq "$HU_HELLO rc=0 error EHOSTUNREACH rc=1 $HU_HELLO rc=0" "$(echo $out)" \
		"$free KiB free in /dev/shm: healthy, failing, healthy connects end as without hostup (no SIGBUS)"
	hu_assert_eq 0 "$(grep -c 'left:\|sparse:' <<<"$out")" "$free KiB free: no file left half-made, none sparse"
	n=$(grep -c '"event":"config_error"' <<<"$err")
	hu_assert_eq 1 "$n" "$free KiB free: one config_error record, at the failing connect"
	hu_assert_contains "$err" '"source":"HOSTUP_SHARED"' "$free KiB free: the record names HOSTUP_SHARED"
	hu_assert_contains "$(grep '"event":"gave_up"' <<<"$err")" '"attempt":3,' \
		"$free KiB free: the failing connect retried on its own (3 tries)"
done
# the healthy connects alone print nothing
in_shm fullh 64k "dd if=/dev/zero of=/dev/shm/fill bs=4k count=16 2>/dev/null; true" "$CLIENT $P"
hu_assert_eq "$HU_HELLO" "$(cat "$HU_TMP/fullh.out")" "/dev/shm full: a healthy connect"
hu_assert_eq "" "$(grep -v '^elapsed\|^connect' "$HU_TMP/fullh.err")" "/dev/shm full: a healthy program prints nothing"

# --- another user's file or directory in root's place -----------------------
foreign='netns=$(stat -L -c %i /proc/self/ns/net)
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "
		mkdir -m 755 /dev/shm/hostup-0 && : >/dev/shm/hostup-0-net$netns && chmod 644 /dev/shm/hostup-0-net$netns"'
in_shm foreign 1m "$foreign" "ls -la /dev/shm >&2; $CLIENT $P; $CLIENT $P; $CLIENT $DEAD 2>&1"
out=$(cat "$HU_TMP/foreign.out")
hu_assert_eq "$HU_HELLO $HU_HELLO" "$(head -2 <<<"$out" | tr '\n' ' ' | sed 's/ $//')" \
	"another user's file and directory in root's place: healthy connects work"
hu_assert_eq 0 "$(grep -c '"event"' "$HU_TMP/foreign.err")" "another user's file: a healthy program prints nothing"
hu_assert_eq 1 "$(grep -c '"event":"config_error"' <<<"$out")" "another user's directory: said once, at a failure"
hu_assert_contains "$out" "not the user's own" "the record says why"

# --- a lease that never lapses --------------------------------------------
# A real failure makes the target's slot (failing, leased by a client now
# gone); then the lease is given to pid 1 (alive, not a prober), and the
# target is healthy again.  struct hu_shm_slot (core/shared.h): slots of
# 272 bytes from byte 208; state +28, lease_tid +36, lease_pid +40,
# lease_pidns +48, lease_until +56, last_probe +80, lease_start +256.
lease() { # FILE UNTIL_FROM_NOW_MS PROBED_AGO_MS START(0: unknown, -1: pid 1's + 1)
	"$HU_PY" - "$@" <<-'EOF' || hu_fail "crafting the lease in $1"
		import os, struct, sys, time
		path, until, ago, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
		now = int(time.monotonic() * 1000)
		if start < 0:
		    start = int(open("/proc/1/stat").read().rsplit(")", 1)[1].split()[19]) + 1
		pidns = os.stat("/proc/self/ns/pid").st_ino
		with open(path, "r+b") as f:
		    for i in range(256):
		        base = 208 + i * 272
		        f.seek(base); key, = struct.unpack("<Q", f.read(8))
		        if not key:
		            continue
		        f.seek(base + 28); state, = struct.unpack("<I", f.read(4))
		        assert state == 1, "the target is not failing"
		        f.seek(base + 36); f.write(struct.pack("<ii", 1, 1))
		        f.seek(base + 48); f.write(struct.pack("<Qq", pidns, now + until))
		        f.seek(base + 80); f.write(struct.pack("<q", now - ago))
		        f.seek(base + 256); f.write(struct.pack("<Q", start))
		        break
		    else:
		        sys.exit("no slot in use")
	EOF
}
for kind in far-future no-progress reused-pid; do
	F=$HU_TMP/lease-$kind.shm
	hu_reject $P        # the target fails once, then is healthy again
	hu_c env HOSTUP_SHARED="$F" HOSTUP_LOG=off LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$POLICY" \
		"$C" "$IP_S" $P >/dev/null 2>&1
	hu_unreject
	hu_reject $DEAD
	case $kind in
	far-future) lease "$F" 1000000000 0 0 ;;       # expiry in 11 days, pid 1 "probing" now
	no-progress) lease "$F" 20000 40000 0 ;;       # within the cap, but no try for 40 s
	reused-pid) lease "$F" 20000 0 -1 ;;           # pid 1 is not the process that took it
	esac
	t0=$(date +%s%N)
	out=$(hu_c env HOSTUP_SHARED="$F" HOSTUP_LOG=off LD_PRELOAD="$HU_PRELOAD" \
		HOSTUP_POLICY="* attempts=40 backoff=200ms..2s deadline=30s" "$C" "$IP_S" $P 2>/dev/null)
	ms=$((($(date +%s%N) - t0) / 1000000))
	hu_assert_eq "$HU_HELLO" "$out" "a lease held by pid 1 ($kind): the healthy target is reached"
	hu_assert_lt "$ms" 3000 "a lease held by pid 1 ($kind): at once ($ms ms)"
done

# --- unused files are removed -----------------------------------------------
prune_setup='mkdir -m 700 /dev/shm/hostup-0 &&
	: >/dev/shm/hostup-0/net1 && touch -d "-2 hours" /dev/shm/hostup-0/net1 &&
	: >/dev/shm/hostup-0/net2 &&
	: >/dev/shm/hostup-0-net3 && touch -d "-2 hours" /dev/shm/hostup-0-net3 &&
	: >/dev/shm/hostup-0/net4.new.1.1 && touch -d "-2 hours" /dev/shm/hostup-0/net4.new.1.1'
in_shm prune 1m "$prune_setup" '
	LD_PRELOAD=$HU_PRELOAD $C $IP_S $P >/dev/null 2>&1
	echo "after a new file:" $(cd /dev/shm && ls -d hostup-0* hostup-0/* | sort)
	# a process that keeps the file mapped
	LD_PRELOAD=$HU_PRELOAD python3 -c "import socket, sys, time
socket.create_connection((sys.argv[1], int(sys.argv[2]))).close(); print(\"mapped\", flush=True); time.sleep(30)" $IP_S $P >/dev/null 2>&1 &
	sleep 1.5
	$HOSTUP status --prune
	echo "after prune:" $(cd /dev/shm && ls -d hostup-0* hostup-0/* | sort)
	kill $!; wait $! 2>/dev/null
	$HOSTUP status --prune >/dev/null
	echo "after the last process:" $(cd /dev/shm && ls hostup-0 | wc -l)'
out=$(cat "$HU_TMP/prune.out")
echo "$out"
netns=$(hu_c stat -L -c %i /proc/self/ns/net)
hu_assert_contains "$out" "after a new file: hostup-0 hostup-0/net2 hostup-0/net$netns" \
	"a new file: the files unused for 2 hours (and an old-layout one, a half-made one) are removed, a recent one kept"
hu_assert_contains "$out" "removed /dev/shm/hostup-0/net2" "status --prune: an unmapped file is removed"
hu_assert_contains "$out" "after prune: hostup-0 hostup-0/net$netns" "status --prune: a mapped file is kept"
hu_assert_contains "$out" "after the last process: 0" "status --prune: once nobody maps it, it goes"
hu_done
