# SPDX-License-Identifier: MIT
# The NFS test VM's scenarios (sourced by tests/nfs/init.sh, busybox sh).
# A phase mounts one file system per scenario (/mnt/SCEN, the file
# /mnt/SCEN/SCEN/data.bin), starts the readers, waits until all are paused,
# breaks something on the server once for all of them, lets them go, mends
# it, and calls finish; tests/integration/test_nfs.sh asserts on the rows.
# Labels: b_* without hostup, h_* with it (no HOSTUP_POLICY: the defaults),
# e_* with retry_on=+EIO.

# Seconds the server is stopped: a soft mount's first EIO came 3 to 12 s
# after the readers went on (requests queue behind the reconnecting
# transport), so a shorter outage lets a reader without hostup through.
OUTAGE=15
V3=vers=3,proto=tcp,nolock
SOFT=timeo=10,retrans=2

readers() { # SCEN LABEL:POLICY:MODE...
	local s=$1 spec l p m
	shift
	for spec in "$@"; do
		l=${spec%%:*} m=${spec##*:} p=${spec#*:}
		p=${p%:*}
		reader $s $l "$p" $m /mnt/$s/$s/data.bin
	done
}
doctor() { # SCEN [ARGS]: hostup doctor on the scenario's file, in the background
	local s=$1
	shift
	( t=$(up_ms); timeout 30 hostup doctor "$@" /mnt/$s/$s/data.bin >$D/$s/doctor 2>&1
	  echo "exit=$? after $(($(up_ms) - t)) ms" >>$D/$s/doctor ) &
	BG="$BG $!"
}
report_doctor() { local line; while read -r line; do say "OUT $1 doctor $line"; done <$D/$1/doctor; }

# The server stopped (rpc.nfsd 0) for $OUTAGE seconds under four mounts:
# hard v3 and v4.2 (the kernel waits: readers block in D state and resume),
# soft (EIO after timeo x retrans) and softerr (ETIMEDOUT).
phase_outage() {
	mnt hard3 $V3,hard && readers hard3 b_read:-:read h_read:default:read
	mnt hard42 vers=4.2,hard && readers hard42 b_read:-:read h_read:default:read
	mnt soft3 $V3,soft,$SOFT && readers soft3 b_read:-:read b_fread:-:fread b_py:-:py \
		h_read:default:read h_fread:default:fread h_getline:default:getline h_py:default:py
	mnt softerr3 $V3,softerr,$SOFT && readers softerr3 b_read:-:read h_read:default:read \
		h_fread:default:fread
	paused
	server_stop
	go
	BG=
	doctor hard3
	doctor soft3
	# how long each failing call takes while the server is down: the
	# first waits timeo x retrans; do later ones fail at once?
	( i=0; while [ $i -lt 2 ]; do
		t=$(up_ms); dd if=/mnt/soft3/soft3/data.bin of=/dev/null bs=4096 count=1 \
			skip=$((100 + i * 37)) 2>$D/soft3/probe.err
		echo "probe $i rc=$? ms=$(($(up_ms) - t)) $(tail -n 1 $D/soft3/probe.err)"; i=$((i + 1))
	  done >$D/soft3/probe ) &
	BG="$BG $!"
	sleep_sampling $OUTAGE
	server_start
	say "NOTE outage server back after $(($(up_ms) - GO)) ms, at $(date -u +%T)"
	wait $BG
	while read -r line; do say "NOTE soft3 $line"; done <$D/soft3/probe
	report_doctor hard3
	report_doctor soft3
	finish
	for s in hard3 hard42 soft3 softerr3; do umnt $s; done
}

# The file deleted on the server, or replaced by a rename over it
phase_stale() {
	mnt del3 $V3 && readers del3 b_read:-:read h_read:default:read
	mnt repl3 $V3 && readers repl3 b_read:-:read h_read:default:read
	mnt del42 vers=4.2 && readers del42 b_read:-:read h_read:default:read
	mnt repl42 vers=4.2 && readers repl42 b_read:-:read h_read:default:read
	paused
	rm /srv/nfs/del3/data.bin /srv/nfs/del42/data.bin
	for s in repl3 repl42; do
		cp /var/master/$s/data.bin /srv/nfs/$s/new.bin
		mv /srv/nfs/$s/new.bin /srv/nfs/$s/data.bin
	done
	go
	finish
	for s in del3 repl3 del42 repl42; do umnt $s; done
}

# The export removed (exportfs -u) and put back
phase_unexport() {
	mnt unexport3 $V3 && readers unexport3 b_read:-:read h_read:default:read
	paused
	exportfs -u $SRV/32:/srv/nfs
	go
	finish
	exportfs -ra
	umnt unexport3
}

# The server's file system made again with the same contents (a tmpfs
# rebuilt, a restore): same export fsid, same paths, same inode numbers,
# sizes and mtimes, new inode generation numbers, so every old file handle
# is stale while the path still names the same file.
phase_recreate() {
	mnt recreate3 $V3 && readers recreate3 b_read:-:read h_read:default:read
	mnt recreate42 vers=4.2 && readers recreate42 b_read:-:read h_read:default:read
	paused
	local before=$(stat -c %i /srv/nfs/recreate3/data.bin)
	server_stop
	exportfs -ua
	umount /srv/nfs || umount -l /srv/nfs
	mount -t tmpfs -o size=300m,mode=755 srv /srv/nfs
	populate
	say "NOTE recreate3 server inode $before -> $(stat -c %i /srv/nfs/recreate3/data.bin)"
	exportfs -ra
	server_start
	go
	finish
	umnt recreate3
	umnt recreate42
}

# A server's own EIO: its disk fails (scsi_debug's medium errors under an
# ext2 export), on a soft mount.  Is it told apart from a timeout?
phase_disk() {
	local s=disk3 dev
	insmod /modules/scsi_debug.ko dev_size_mb=16 medium_error_start=2048 medium_error_count=30000 ||
		{ say "NOTE disk3 scsi_debug failed"; return; }
	for i in 1 2 3 4 5 6 7 8 9 10; do
		dev=$(ls /sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*/block 2>/dev/null)
		[ -n "$dev" ] && [ -e /dev/$dev ] && break
		sleep 0.5
	done
	mke2fs -q /dev/$dev >/dev/null && mkdir -p /srv/disk && mount -t ext2 /dev/$dev /srv/disk ||
		{ say "NOTE disk3 no ext2 on /dev/$dev"; return; }
	mkdir /srv/disk/$s
	cp /var/master/$s/data.bin /srv/disk/$s/data.bin
	sync
	echo "/srv/disk $SRV/32(rw,no_root_squash,insecure,no_subtree_check)" >>/etc/exports
	exportfs -ra
	mnt $s $V3,soft,$SOFT /srv/disk && readers $s b_read:-:read h_read:default:read \
		e_read:'/mnt/disk3 retry_on=+EIO deadline=4s':read
	paused
	echo 2 >/sys/bus/pseudo/drivers/scsi_debug/opts     # medium errors on
	go
	finish
	echo 0 >/sys/bus/pseudo/drivers/scsi_debug/opts
	umnt $s
}
