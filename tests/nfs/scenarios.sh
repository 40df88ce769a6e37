# The NFS test VM's scenarios (sourced by tests/nfs/init.sh, busybox sh).
# scen_NAME starts its readers on /mnt/NAME/NAME/data.bin, waits until they
# are paused, breaks something on the server, lets them go, mends it, and
# calls finish.  tests/integration/test_nfs.sh asserts on the rows.
# Labels: b_* without hostup, h_* with it (default policy), e_* with
# retry_on=+EIO.

OUTAGE=6            # seconds the server is stopped
EIO_POLICY='/mnt attempts=100 retry_on=+EIO'

# hard mount: the kernel waits for the server; the reader blocks in D state
hard() { # SCEN OPTIONS
	local s=$1 f=/mnt/$1/$1/data.bin
	mnt $s "$2" || return
	reader $s b_read - read $f
	reader $s h_read default read $f
	paused
	server_stop
	go
	( timeout 30 hostup doctor $f >$D/$s/doctor 2>&1; echo "exit=$?" >>$D/$s/doctor ) &
	local dpid=$!
	sleep_sampling $OUTAGE
	wait $dpid
	while read -r line; do say "OUT doctor.$s $line"; done <$D/$s/doctor
	server_start
	finish
	umnt $s
}
scen_hard3() { hard hard3 vers=3,proto=tcp,nolock,hard; }
scen_hard42() { hard hard42 vers=4.2,hard; }

# soft mount: EIO after timeo x retrans.  stdio readers (fread, getline,
# python's open().read()) as well as read().
scen_soft3() {
	local s=soft3 f=/mnt/soft3/soft3/data.bin
	mnt $s vers=3,proto=tcp,nolock,soft,timeo=10,retrans=2 || return
	reader $s b_read - read $f
	reader $s b_fread - fread $f
	reader $s b_py - py $f
	reader $s h_read default read $f
	reader $s e_read "$EIO_POLICY" read $f
	reader $s e_fread "$EIO_POLICY" fread $f
	reader $s e_getline "$EIO_POLICY" getline $f
	reader $s e_py "$EIO_POLICY" py $f
	paused
	server_stop
	go
	# how long each failing read takes while the server is down: the first
	# waits timeo x retrans; do later ones fail at once?
	( i=0; while [ $i -lt 3 ]; do
		t=$(up_ms); dd if=$f of=/dev/null bs=4096 count=1 skip=$((100 + i * 37)) 2>$D/$s/probe.err
		echo "probe $i rc=$? ms=$(($(up_ms) - t)) $(tail -n 1 $D/$s/probe.err)"; i=$((i + 1))
	  done >$D/$s/probe ) &
	local ppid=$!
	( timeout 30 hostup doctor --timeout 8s $f >$D/$s/doctor 2>&1; echo "exit=$?" >>$D/$s/doctor ) &
	local dpid=$!
	sleep_sampling $OUTAGE
	wait $ppid $dpid
	while read -r line; do say "NOTE $s $line"; done <$D/$s/probe
	while read -r line; do say "OUT doctor.$s $line"; done <$D/$s/doctor
	server_start
	finish
	umnt $s
}

# softerr: ETIMEDOUT instead of EIO, which hostup retries by default
scen_softerr3() {
	local s=softerr3 f=/mnt/softerr3/softerr3/data.bin
	mnt $s vers=3,proto=tcp,nolock,softerr,timeo=10,retrans=2 || return
	reader $s b_read - read $f
	reader $s h_read default read $f
	reader $s h_fread default fread $f
	paused
	server_stop
	go
	sleep_sampling 8
	server_start
	finish
	umnt $s
}

# the file deleted on the server / replaced by a rename over it
stale() { # SCEN OPTIONS delete|replace
	local s=$1 f=/mnt/$1/$1/data.bin
	mnt $s "$2" || return
	reader $s b_read - read $f
	reader $s h_read default read $f
	paused
	case $3 in
	delete) rm /srv/nfs/$s/data.bin ;;
	replace) cp /var/master/$s/data.bin /srv/nfs/$s/new.bin
		 mv /srv/nfs/$s/new.bin /srv/nfs/$s/data.bin ;;
	esac
	go
	finish
	umnt $s
}
scen_del3() { stale del3 vers=3,proto=tcp,nolock delete; }
scen_repl3() { stale repl3 vers=3,proto=tcp,nolock replace; }
scen_del42() { stale del42 vers=4.2 delete; }
scen_repl42() { stale repl42 vers=4.2 replace; }

# the export removed (exportfs -u) and put back
scen_unexport3() {
	local s=unexport3 f=/mnt/unexport3/unexport3/data.bin
	mnt $s vers=3,proto=tcp,nolock || return
	reader $s b_read - read $f
	reader $s h_read default read $f
	paused
	exportfs -u $SRV/32:/srv/nfs
	go
	finish
	exportfs -ra
	umnt $s
}

# The server's file system made again with the same contents (a tmpfs
# rebuilt, a restore): same export fsid, same paths, same inode numbers,
# sizes and mtimes, new inode generation numbers, so every old file handle
# is stale while the path still names the same file.
recreate() { # SCEN OPTIONS
	local s=$1 f=/mnt/$1/$1/data.bin
	mnt $s "$2" || return
	reader $s b_read - read $f
	reader $s h_read default read $f
	paused
	local before=$(stat -c %i /srv/nfs/$s/data.bin)
	server_stop
	exportfs -ua
	umount /srv/nfs || umount -l /srv/nfs
	mount -t tmpfs -o size=300m,mode=755 srv /srv/nfs
	populate
	say "NOTE $s server inode $before -> $(stat -c %i /srv/nfs/$s/data.bin)"
	exportfs -ra
	server_start
	go
	finish
	umnt $s
}
scen_recreate3() { recreate recreate3 vers=3,proto=tcp,nolock; }
scen_recreate42() { recreate recreate42 vers=4.2; }
