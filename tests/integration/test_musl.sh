#!/bin/bash
# SPDX-License-Identifier: MIT
# The musl build (make musl): C clients built with musl-gcc run under
# build-musl/libhostup.so through real failures in the test namespaces (a
# blocking connect, a non-blocking connect with poll, epoll with SO_ERROR,
# getaddrinfo with EAI_AGAIN from musl's own resolver) and read files of a
# flaky FUSE volume through musl's read(), pread() and stdio; the static
# musl hostup runs check-config, run and doctor (netlink route and neighbour
# probes, musl's resolver against the stub DNS), also in an empty root.
# Every case also runs without the library, which must fail.
set -u
HU_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GLIBC_BUILD=${HU_BUILD:-$HU_ROOT/build}   # hu_flakyfs, the volume's server side
HU_BUILD=${HU_MUSL_BUILD:-$HU_ROOT/build-musl}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
[[ -n ${HU_SANITIZE:-} ]] && { echo "skipped: the musl build is not sanitized"; exit 77; }
command -v musl-gcc >/dev/null || { echo "skipped: needs musl-gcc"; exit 77; }
hu_need_lib
hu_need_tools hu_connect hu_evloop hu_volread hu_errno hu_threads hu_fork
H=$HU_BUILD/hostup
[[ -x $H ]] || hu_fail "missing $H (make musl)"
C=$HU_TOOLS/hu_connect E=$HU_TOOLS/hu_evloop
P=8080
POLICY="* attempts=40 backoff=100ms..300ms"
jget() { "$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

# ---- what was built ------------------------------------------------------------
needed=$(readelf -d "$HU_LIB" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
hu_assert_eq "libc.so " "$needed" "musl library: NEEDED is musl's libc only"
interp=$(readelf -l "$C" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
hu_assert_eq "/lib/ld-musl-$(uname -m).so.1" "$interp" "the test clients are musl programs"
hu_assert_contains "$(readelf -d "$H" 2>&1)" "no dynamic section" "hostup is static: no interpreter, no NEEDED"
# (a call is an undefined symbol: the local binders of sys/real.c carry the
# names of every call of calls.def, fortified ones included)
hu_assert_eq "" "$(readelf -sW "$HU_LIB" | grep -E 'GLIBC_| UND .*__[a-z_]+_chk')" "musl library: no glibc symbol version, no _chk call"

# ---- when nothing fails, exactly musl's results and errno -------------------------
plain=$("$HU_TOOLS/hu_errno")
shimmed=$(LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=off "$HU_TOOLS/hu_errno")
hu_assert_eq "$plain" "$shimmed" "hu_errno under the musl library: identical results and errno"
hu_assert_contains "$shimmed" "connect closed port                      rc=-1 errno=ECONNREFUSED" "hu_errno ran"

# ---- the static CLI in an empty root: nothing but the binary -------------------
hu_net_setup
# make install MUSL=1 installs this build in the usual places
make -s -C "$HU_ROOT" install MUSL=1 PREFIX=/usr/local DESTDIR="$HU_TMP/inst" >/dev/null || hu_fail "make install MUSL=1"
I=$HU_TMP/inst/usr/local
cmp -s "$I/lib/hostup/libhostup.so" "$HU_LIB" && cmp -s "$I/bin/hostup" "$H" ||
	hu_fail "make install MUSL=1 did not install build-musl's library and hostup"
hu_ok "make install MUSL=1: the musl library and the static hostup in lib/hostup and bin"
root=$HU_TMP/emptyroot
mkdir -p "$root" && cp "$H" "$root/hostup"
out=$(chroot "$root" /hostup check-config --policy "db:5432 attempts=20")
hu_assert_eq "ok: 1 rule" "$out" "static hostup check-config in an empty root"
out=$(chroot "$root" /hostup check-config --policy "db:5432 attempts=20; * attempts=abc" 2>&1)
hu_assert_eq 1 "$?" "static hostup check-config: a bad policy exits 1"
hu_assert_eq "HOSTUP_POLICY:1:24: rule 2: 'attempts=abc': attempts must be a whole number from 1 to 1000 (in \"* attempts=abc\")" \
	"$out" "static hostup check-config: the same message as the glibc build"
out=$(chroot "$root" /hostup policy --policy "db:5432 attempts=20" db:5432)
hu_assert_contains "$out" "db:5432: HOSTUP_POLICY rule 1: db:5432 attempts=20" "static hostup policy"

# ---- hostup doctor: netlink route and neighbour probes, musl's resolver --------
hu_serve_tcp $P
doctor() { DOC=$(hu_bounded 20 "hostup doctor $1" ip netns exec "$NS_C" "$H" doctor --json --timeout 2s "$1"); DOC_RC=$?; }
verdict() { jget "[\"verdict\"][\"$1\"]" <<<"$DOC"; }
step() { "$HU_PY" -c 'import json,sys
for s in json.load(sys.stdin)["steps"]:
    if s["name"] == sys.argv[1]: print(s["status"], s["detail"])' "$1" <<<"$DOC"; }
doctor "$IP_S:$P"
hu_assert_eq 0 "$DOC_RC" "doctor: a reachable target exits 0"
hu_assert_eq "pass $IP_S on-link dev $IF_C" "$(step route)" "doctor: the netlink route probe names the link"
doctor "$IP_ABSENT:$P"
hu_assert_eq 1 "$DOC_RC" "doctor: an absent on-link host exits 1"
hu_assert_eq link "$(verdict layer)" "doctor: absent host at the link layer"
hu_assert_contains "$(verdict cause)" "on-link host does not answer ARP" "doctor: the netlink neighbour probe sees the failed ARP"
ip -n "$NS_C" route add unreachable 198.19.6.0/24
doctor 198.19.6.6:$P
hu_assert_eq route "$(verdict layer)" "doctor: an unreachable route at the route layer"
hu_assert_contains "$(verdict cause)" "unreachable route" "doctor: the route probe reads the route's type"
# the same verdicts as the glibc build's doctor, where there is one
if [[ -x $GLIBC_BUILD/hostup ]]; then
	musl_v=$(verdict cause)
	DOC=$(hu_bounded 20 "glibc hostup doctor" ip netns exec "$NS_C" "$GLIBC_BUILD/hostup" doctor --json --timeout 2s 198.19.6.6:$P)
	hu_assert_eq "$(verdict cause)" "$musl_v" "doctor: the musl and glibc builds agree"
else
	hu_skip "doctor compared with the glibc build: no $GLIBC_BUILD/hostup (make all)"
fi
hu_dns_start --record db="$IP_S"
doctor "db:$P"
hu_assert_eq 0 "$DOC_RC" "doctor: a name the stub DNS serves is reachable"
hu_assert_contains "$(step resolve)" "db -> $IP_S" "doctor: musl's resolver asked the namespace's nameserver"
hu_dns_stop
hu_dns_start --servfail-for 600
doctor "db:$P"
hu_assert_eq dns "$(verdict layer)" "doctor: SERVFAIL at the dns layer"
# musl ignores a SERVFAIL reply and waits for the timeout: the cause says so
hu_assert_eq "DNS server did not answer in time, or answered SERVFAIL" "$(verdict cause)" \
	"doctor: SERVFAIL through musl's resolver looks like a timeout, and the cause says so"
hu_dns_stop

# ---- a blocking connect through an outage --------------------------------------
hu_reject $P
hu_run "$C" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "blocking connect without the library: EHOSTUNREACH"
hu_after 2 hu_unreject
hu_run_shim block "$POLICY" "$C" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "blocking connect under the musl library rides out a 2 s outage"
hu_assert_contains "$(hu_counts block)" "recovered=1 gave_up=0" "blocking connect: recovered record"
hu_assert_eq EHOSTUNREACH "$(hu_field block retry errno | sort -u)" "blocking connect: retries were for EHOSTUNREACH"
hu_assert_contains "$(hu_field block retry diagnosis | head -1 | jget '["cause"]')" "the target itself answered ICMP host unreachable" \
	"blocking connect: the record's diagnosis (ICMP from the target, read from the error queue)"

# never recovers: the program gets the original errno within the policy
hu_reject $P
hu_run_shim dead "* attempts=3 backoff=100ms..200ms" "$C" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "never recovers: the original errno"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts dead)" "never recovers: records"
hu_unreject
# the static hostup report reads them as the glibc build does
cat "$HU_TMP/block.log" "$HU_TMP/dead.log" >"$HU_TMP/both.log"
rep=$("$H" report --json "$HU_TMP/both.log")
hu_assert_eq 0 "$?" "static hostup report exits 0"
hu_assert_contains "$rep" "$IP_S:$P" "static hostup report: the target"
if [[ -x $GLIBC_BUILD/hostup ]]; then
	hu_assert_eq "$("$GLIBC_BUILD/hostup" report --json "$HU_TMP/both.log")" "$rep" "hostup report: the musl and glibc builds agree"
else
	hu_skip "report compared with the glibc build: no $GLIBC_BUILD/hostup (make all)"
fi

# ---- 64 threads on musl's small default stacks, and fork during a retry -----------
hu_dns_start --record db="$IP_S"
hu_reject $P
hu_after 3 hu_unreject
hu_run_shim threads "$POLICY" "$HU_TOOLS/hu_threads" 64 db $P "$HU_HELLO"
hu_assert_eq "ok 64/64" "$HU_OUT" "64 musl threads (128 KiB stacks) all connect after the outage"
hu_assert_contains "$(hu_counts threads)" "recovered=64 gave_up=0" "one recovered record per thread"
hu_serve_tcp 8081
hu_reject $P
hu_run_shim fork "* attempts=4 backoff=300ms..300ms jitter=none" "$HU_TOOLS/hu_fork" db $P db 8081
hu_assert_contains "$HU_OUT" "child: $HU_HELLO" "fork during a retry: the child resolves and connects"
hu_assert_contains "$HU_OUT" "child exit: 0" "fork during a retry: the child exits normally (no deadlock)"
hu_unreject
hu_dns_stop

# ---- a non-blocking connect with poll --------------------------------------------
hu_reject $P
hu_run "$C" -n "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "non-blocking connect + poll without the library: EHOSTUNREACH"
hu_after 2 hu_unreject
hu_run_shim nb "$POLICY" "$C" -n "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "non-blocking connect + poll + SO_ERROR under the musl library"
hu_assert_contains "$(hu_counts nb)" "recovered=1 gave_up=0" "non-blocking connect: recovered record"

# ---- an event loop: epoll (level and edge) and poll, failure seen as EPOLLERR ----
for mode in epoll-lt epoll-et epoll-early poll select; do
	hu_reject $P
	hu_run "$E" $mode "$IP_S" $P
	hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "$mode without the library: EHOSTUNREACH from SO_ERROR"
	hu_after 2 hu_unreject
	hu_run_shim "ev_$mode" "$POLICY" "$E" $mode "$IP_S" $P
	hu_assert_eq "connected: $HU_HELLO" "$HU_OUT" "$mode under the musl library: connected after the outage"
	gap=$(sed -n 's/^max_gap_ms=\([0-9]*\).*/\1/p' <<<"$HU_ERR")
	hu_assert_lt "$gap" 200 "$mode: the program's 20 ms timer kept running during the outage"
	hu_assert_contains "$(hu_counts "ev_$mode")" "recovered=1" "$mode: recovered record"
done

# ---- getaddrinfo through musl's resolver: SERVFAIL, then the name ----------------
hu_dns_start --servfail-for 600 --record db="$IP_S"
hu_run "$C" db $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "SERVFAIL without the library: musl's getaddrinfo says EAI_AGAIN"
hu_dns_stop
hu_dns_start --servfail-for 2 --record db="$IP_S"
hu_run_shim servfail "$POLICY" "$C" db $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "SERVFAIL for 2 s under the musl library: resolves and connects"
hu_assert_contains "$(hu_counts servfail --op getaddrinfo)" "recovered=1 gave_up=0" "lookup recovered"
hu_assert_eq EAI_AGAIN "$(hu_field servfail retry errno | sort -u)" "lookup retries were for EAI_AGAIN"
hu_assert_eq dns "$(hu_field servfail retry diagnosis | head -1 | jget '["layer"]')" "lookup failure diagnosed at the dns layer"
hu_dns_stop
# NXDOMAIN: not retried by default, as on glibc
hu_dns_start --nxdomain-for 600
hu_run_shim nx "$POLICY" "$C" db $P
hu_assert_eq "error EAI_NONAME" "$HU_OUT" "NXDOMAIN under the musl library: EAI_NONAME at once"
hu_assert_eq "retry=0 recovered=0 gave_up=0 config_error=0" "$(hu_counts nx)" "NXDOMAIN: no records"
hu_dns_stop

# ---- hostup run (static musl CLI) preloads the musl library -----------------------
hu_reject $P
hu_after 2 hu_unreject
: >"$HU_TMP/run.log"
hu_run env HOSTUP_LOG="$HU_TMP/run.log" "$H" run --policy "$POLICY" -- "$C" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "static hostup run: the musl client rides out the outage"
hu_assert_contains "$(hu_counts run)" "recovered=1" "static hostup run: records"

# ---- network volumes: read(), pread() and musl's stdio ---------------------------
[[ -c /dev/fuse ]] || { hu_skip "volume checks: needs /dev/fuse"; hu_done; }
command -v fusermount3 >/dev/null || hu_fail "missing fusermount3 (tests/deps.sh check)"
[[ -x $GLIBC_BUILD/tools/hu_flakyfs ]] || hu_fail "missing $GLIBC_BUILD/tools/hu_flakyfs (make tools)"
V=$HU_TMP/nfs
FSPID=
musl_cleanup() {
	fusermount3 -u -z "$V" 2>/dev/null || umount -l "$V" 2>/dev/null
	[[ -n $FSPID ]] && kill "$FSPID" 2>/dev/null
	return 0
}
hu_at_exit musl_cleanup
mkdir -p "$V.b" "$V"
"$GLIBC_BUILD/tools/hu_flakyfs" --backing="$V.b" --log="$HU_TMP/nfs.fs.log" "$V" -f \
	-o "subtype=sshfs,fsname=tester@fileserver:/export/nfs" 2>>"$HU_TMP/nfs.fs.log" &
FSPID=$!
for ((i = 0; i < 50; i++)); do grep -q " $V .* - fuse.sshfs " /proc/self/mountinfo && break; sleep 0.1; done
grep -q " $V .* - fuse.sshfs " /proc/self/mountinfo || hu_fail "hu_flakyfs did not mount $V"
arm() { printf '%s\n' clear "$@" >"$V/.hu_ctl" || hu_fail "arm: $*"; }
hash_of() { sha256sum <"$1" | cut -c1-64; }
# 70-byte numbered lines: a byte skipped or doubled anywhere changes the hash
"$HU_PY" - "$V.b/text.txt" <<-'EOF'
	import random, sys
	r = random.Random(7)
	with open(sys.argv[1], "w") as f:
	    for i in range(60000):
	        f.write("%09d " % i + "".join(r.choice("abcdefghij klmnop") for _ in range(59)) + "\n")
EOF
TEXT=$(hash_of "$V.b/text.txt")
hu_assert_eq "$TEXT" "$(hash_of "$V/text.txt")" "the volume serves the file"
vrun() { # NAME POLICY CMD...: under the musl library, outside the namespaces
	local name=$1 policy=$2
	shift 2
	: >"$HU_TMP/$name.log"
	hu_bounded "${HU_MAX:-60}" "musl $name" --out "$HU_TMP/$name.out" --err "$HU_TMP/$name.err" \
		env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$policy" HOSTUP_LOG="$HU_TMP/$name.log" "$@"
	HU_RC=$? HU_ERR=$(head -c 400 "$HU_TMP/$name.err") HU_OUT=
	echo "run $name: rc=$HU_RC: $*"
}
failures() { arm "at /text.txt 1M down 0.4 EHOSTDOWN" "at /text.txt 2M stale /text.txt 3" \
	"at /text.txt 3M down 0.4 ENOTCONN"; }

failures
hu_bounded 60 "hu_volread read without the library" --out "$HU_TMP/bare.out" --err "$HU_TMP/bare.err" \
	"$HU_TOOLS/hu_volread" read "$V/text.txt"
hu_assert_eq 1 "$?" "volume read without the library fails"
hu_assert_contains "$(cat "$HU_TMP/bare.err")" "Host is down" "volume read without the library: Host is down"
sleep 0.5
failures
hu_bounded 60 "hu_volread fgets without the library" --out "$HU_TMP/bare.out" --err "$HU_TMP/bare.err" \
	"$HU_TOOLS/hu_volread" fgets "$V/text.txt"
hu_assert_eq 1 "$?" "volume fgets (musl's stdio) without the library fails"
sleep 0.5
PT="$V/text.txt backoff=50ms..300ms attempts=30"
for mode in read pread fread fread7 fgets getline getc mixed; do
	failures
	vrun "vol_$mode" "$PT" "$HU_TOOLS/hu_volread" "$mode" "$V/text.txt"
	hu_assert_eq 0 "$HU_RC" "musl $mode: exits 0"
	hu_assert_eq "$TEXT" "$(hash_of "$HU_TMP/vol_$mode.out")" "musl $mode: every byte once, in order"
	want=3
	[[ $mode == pread ]] && want=1     # the scrambled order can meet several triggers at once
	n=$(hu_counts "vol_$mode" | sed -n 's/.*recovered=\([0-9]*\).*/\1/p')
	hu_assert_ge "$n" $want "musl $mode: recoveries"
done
hu_assert_contains "$(hu_field vol_read retry diagnosis)" "stale handle: reopened" "musl read: the stale handle was reopened"
hu_assert_contains "$(hu_field vol_fgets retry op | sort -u)" "fgets" "musl stdio records name the reader"
# FD_CLOEXEC, O_NONBLOCK and a dup's shared offset survive the reopen; a
# write after the reopen reaches the file
arm "at /text.txt 2M stale /text.txt 1"
vrun vol_flags "$PT" "$HU_TOOLS/hu_volread" flags "$V/text.txt"
hu_assert_eq "$TEXT" "$(hash_of "$HU_TMP/vol_flags.out")" "musl flags: the bytes read through a dup are the file"
hu_assert_eq "cloexec=1 nonblock=1 shared_offset=1" "$HU_ERR" "musl flags: kept across the reopen"
hu_assert_contains "$(hu_field vol_flags retry diagnosis)" "stale handle: reopened" "musl flags: there was a reopen"
cp "$V.b/text.txt" "$V.b/rw.txt"
arm "at /rw.txt 2M stale /rw.txt 1"
vrun vol_rw "$V/rw.txt backoff=50ms..300ms attempts=30" "$HU_TOOLS/hu_volread" rw "$V/rw.txt"
hu_assert_eq "$TEXT" "$(hash_of "$HU_TMP/vol_rw.out")" "musl rw: the bytes read are the file"
hu_assert_eq "APPENDED" "$(tail -n1 "$V.b/rw.txt")" "musl rw: the write after the reopen reached the file"
# open during an outage: retried
arm "down 1 EHOSTDOWN"
vrun vol_open "$V backoff=100ms..300ms attempts=30" "$HU_TOOLS/hu_volread" fgets "$V/text.txt"
hu_assert_eq "$TEXT" "$(hash_of "$HU_TMP/vol_open.out")" "musl fopen during an outage: retried, then read"
hu_assert_contains "$(hu_field vol_open recovered op)" "fopen" "musl fopen: recovered record"
arm
hu_done
