#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# PID 1 of the NFS test VM (tests/integration/test_nfs.sh boots it; busybox
# sh).  One kernel NFS server and one kernel NFS client in the same VM over
# 198.18.0.1 on lo; no other network.  Runs every phase in /hostup/phases
# (or those named by hu.only= on the kernel command line; a phase runs
# several scenarios at once, each on its own mount) and reports on the
# console, one line each, prefixed "HU ":
#   HU ROW SCEN LABEL rc=N err=TEXT sum=SHA256 ms=N dstate=0|1
#   HU REC SCEN LABEL JSON       one hostup record
#   HU OUT LABEL TEXT            the output of a command (hostup doctor)
#   HU NOTE WHAT TEXT            a measurement
#   HU END                       all done (then power off)
# A reader is paused after its first 256 KiB (its output goes through a
# gate), the scenario breaks something, the client's page cache is dropped
# (so the rest of the file must come from the server), and the readers go on.
/bin/busybox mkdir -p /usr/bin /usr/sbin /sbin /proc /sys /dev
/bin/busybox --install -s
export PATH=/hostup:/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /run /var/lib/nfs/v4recovery /srv/nfs /var/master /mnt
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /run/rpcbind
D=/tmp/hu
mkdir -p $D
say() { echo "HU $*"; }
up_ms() { local u _; read -r u _ </proc/uptime; u=${u%.*}${u#*.}; echo $((${u#0} * 10)); }
T0=$(up_ms)

for m in $(cat /etc/modules.order); do
	# scsi_debug: loaded with its parameters by the disk phase
	[ $m = scsi_debug.ko ] || insmod /modules/$m || say "NOTE boot insmod $m failed"
done
ip link set lo up
ip addr add 198.18.0.1/32 dev lo
SRV=198.18.0.1
say "NOTE boot modules loaded at $(($(up_ms) - T0)) ms after /init"
# without rpc_pipefs the client's idmapper falls back to numeric ids
echo Y >/sys/module/nfs/parameters/nfs4_disable_idmapping 2>/dev/null

# ---- the data: one file per scenario, copied in a fixed order ------------------
# /hostup/data holds "SCEN" lines; each scenario's file is its name on a line
# and then /hostup/seed.bin (random, made on the host, which knows the hashes).
# A tmpfs numbers inodes per mount from 1: the same files made in the same
# order get the same inode numbers; mtimes are set to whole seconds.
PHASES=$(cat /hostup/phases)
for arg in $(cat /proc/cmdline); do
	case $arg in hu.only=*) PHASES=$(echo "${arg#hu.only=}" | tr , ' ') ;; esac
done
DATA=$(cat /hostup/data)
for s in $DATA; do
	mkdir -p /var/master/$s
	{ echo $s; cat /hostup/seed.bin; } >/var/master/$s/data.bin
done
populate() { # fills /srv/nfs (a fresh tmpfs) from /var/master, in one order
	local p
	for p in $DATA; do
		mkdir /srv/nfs/$p
		cp /var/master/$p/data.bin /srv/nfs/$p/data.bin
		touch -d "2024-01-02 03:04:05" /srv/nfs/$p/data.bin
	done
}
mount -t tmpfs -o size=300m,mode=755 srv /srv/nfs
populate
say "NOTE boot data made at $(($(up_ms) - T0)) ms after /init"

# ---- the server --------------------------------------------------------------
mount -t nfsd nfsd /proc/fs/nfsd
echo "/srv/nfs $SRV/32(rw,no_root_squash,insecure,no_subtree_check,fsid=1)" >/etc/exports
rpcbind -w || say "NOTE boot rpcbind failed"
exportfs -ra
rpc.mountd --no-nfs-version 2 || say "NOTE boot rpc.mountd failed"
server_start() { rpc.nfsd --lease-time 10 --grace-time 10 4; }
server_stop() { rpc.nfsd 0; }
server_start || say "NOTE boot rpc.nfsd failed"
# no client has state yet: end the first grace period now
echo Y >/proc/fs/nfsd/v4_end_grace 2>/dev/null
say "NOTE boot server up at $(($(up_ms) - T0)) ms after /init"

# ---- readers -----------------------------------------------------------------
LIB=/hostup/libhostup.so
PYREAD='import sys
f, out = open(sys.argv[1], "rb"), sys.stdout.buffer
while b := f.read(65536):
    out.write(b)'
# reader SCEN LABEL POLICY MODE FILE: POLICY "-" = without hostup, "default"
# = the library with no HOSTUP_POLICY, else that policy.  MODE: a hu_volread
# mode, or py (python3's buffered open().read(65536) in a loop: a read() of
# the whole file would be over before the test's gate could pause it).
# Files in $D/SCEN/LABEL.*
reader() {
	local scen=$1 label=$2 policy=$3 mode=$4 file=$5 r=$D/$1/$2
	mkdir -p $D/$scen
	set -- hu_volread "$mode" "$file"
	[ "$mode" = py ] && set -- python3 -S -I -c "$PYREAD" "$file"
	case $policy in
	-) set -- env "$@" ;;
	default) set -- env LD_PRELOAD=$LIB HOSTUP_LOG=$r.rec "$@" ;;
	*) set -- env LD_PRELOAD=$LIB HOSTUP_LOG=$r.rec "HOSTUP_POLICY=$policy" "$@" ;;
	esac
	: >$r.rec
	(
		{
			sh -c 'echo $$ >"$0"; exec "$@"' $r.pid "$@" 2>$r.err
			echo "$? $(up_ms)" >$r.rc
		} | {
			dd bs=65536 count=4 2>/dev/null
			touch $r.paused
			while [ ! -e $D/$scen/go ]; do sleep 0.05; done
			cat
		} | sha256sum | cut -c1-64 >$r.sum
		touch $r.done
	) &
	LABELS="$LABELS $scen/$label"
}
# wait_for FILE: bounded (60 s)
wait_for() {
	local i=0
	while [ ! -e "$1" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -e "$1" ] || { say "NOTE timeout waiting for $1"; return 1; }
}
# paused: every reader has passed the gate's first 256 KiB and is blocked
# writing to the full pipe (or done), so nothing more is read until go
paused() {
	local l i w
	for l in $LABELS; do
		wait_for $D/$l.paused
		wait_for $D/$l.pid
		i=0
		while [ $i -lt 100 ] && [ ! -e $D/$l.rc ]; do
			w=$(cat /proc/$(cat $D/$l.pid)/wchan 2>/dev/null)
			[ "$w" = pipe_write ] && break
			sleep 0.05; i=$((i + 1))
		done
		[ $i -lt 100 ] || say "NOTE $l is not blocked on its pipe (wchan $w)"
	done
}
go() { # the readers of every scenario of the phase go on
	local l
	sync; echo 3 >/proc/sys/vm/drop_caches; GO=$(up_ms)
	say "NOTE go at $(date -u +%T)"
	for l in $LABELS; do touch $D/${l%/*}/go; done
}
# sample the readers' states while they wait: D (uninterruptible) seen?
# (shell builtins only: a fork costs tens of ms under TCG)
sample_dstate() {
	local l p st
	for l in $LABELS; do
		[ -e $D/$l.pid ] && [ ! -e $D/$l.rc ] || continue
		read -r p <$D/$l.pid
		[ -e /proc/$p/stat ] || continue
		read -r st <"/proc/$p/stat" || continue
		st=${st#*) }
		[ "${st%% *}" = D ] && : >$D/$l.dstate
	done
}
sleep_sampling() { # SECONDS, by the clock
	local end=$(($(up_ms) + $1 * 1000))
	while [ $(up_ms) -lt $end ]; do sample_dstate; sleep 0.25; done
}
finish() { # wait (bounded: 120 s in all), report each reader, clean up
	local l r rc end err n=0
	for l in $LABELS; do
		r=$D/$l
		while [ ! -e $r.done ] && [ $n -lt 1200 ]; do
			sample_dstate; sleep 0.1; n=$((n + 1))
		done
		if [ ! -e $r.done ]; then
			say "ROW ${l%/*} ${l#*/} rc=timeout err=- sum=- ms=- dstate=-"
			continue
		fi
		read -r rc end <$r.rc
		err=$(sed -n 's/^hu_volread: [a-z0-9]*: //p; s/^[A-Za-z]*Error: \[Errno [0-9]*\] \([^:]*\).*/\1/p' \
			$r.err | head -n 1 | tr ' ' _)
		say "ROW ${l%/*} ${l#*/} rc=$rc err=${err:--} sum=$(cat $r.sum) ms=$((end - GO))" \
			"dstate=$([ -e $r.dstate ] && echo 1 || echo 0)"
		while read -r line; do say "REC ${l%/*} ${l#*/} $line"; done <$r.rec
	done
	for l in $LABELS; do
		p=$(cat $D/$l.pid 2>/dev/null) && kill -9 "$p" 2>/dev/null
	done
	LABELS=
}
mnt() { # SCEN OPTIONS [EXPORT]
	mkdir -p /mnt/$1
	local t0=$(up_ms)
	timeout 30 mount.nfs $SRV:${3:-/srv/nfs} /mnt/$1 -o "$2,retry=0" || { say "NOTE $1 mount failed ($2)"; return 1; }
	say "NOTE $1 mounted in $(($(up_ms) - t0)) ms: $(grep " /mnt/$1 " /proc/self/mountinfo)"
}
umnt() { umount -f /mnt/$1 2>/dev/null || umount -l /mnt/$1; }

# ---- scenarios ---------------------------------------------------------------
. /hostup/scenarios.sh
for phase in $PHASES; do
	LABELS=
	t=$(up_ms)
	phase_$phase
	say "NOTE $phase took $(($(up_ms) - t)) ms"
done
say "NOTE all done at $(($(up_ms) - T0)) ms after /init"
say END
sync
poweroff -f
