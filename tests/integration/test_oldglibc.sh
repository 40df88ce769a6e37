#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The library and the CLI in a real old system: a Debian 11 root file system
# (glibc 2.31, built once by tests/rootfs.sh and cached under /var/tmp).
# Its own programs (/bin/true, python3, curl) start under the library and
# ride out an outage; `hostup check-config` and `hostup doctor` run inside
# it; and `hostup run` refuses, with the loader's reason, a library that
# needs a newer glibc than the image has.
# Everything runs as `ip netns exec NS chroot ROOT ...`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_cmd chroot gcc objdump
[[ -x $HU_BUILD/hostup ]] || hu_fail "missing $HU_BUILD/hostup"
ROOT=$(bash "$HU_ROOT/tests/rootfs.sh" bullseye)
rc=$?
[[ $rc == 77 ]] && { echo "$ROOT"; exit 77; }
[[ $rc == 0 && -x $ROOT/bin/true ]] || hu_fail "tests/rootfs.sh bullseye failed ($rc): $ROOT"

# What we ship needs nothing above GLIBC_2.17 (the build checks it too).
for f in "$HU_LIB" "$HU_BUILD/hostup"; do
	newest=$(objdump -T "$f" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -V | tail -n 1)
	hu_assert_eq GLIBC_2.17 "$newest" "newest glibc version ${f##*/} needs"
done
glibc=$(chroot "$ROOT" /usr/bin/ldd --version | head -n 1)
hu_assert_contains "$glibc" "2.31" "the root's glibc"

hu_net_setup
# The library and CLI inside the root, as a Dockerfile's COPY puts them.
D=/opt/hostup-test-$$
mkdir -p "$ROOT$D/bin" "$ROOT$D/lib/hostup" "$ROOT$D/log"
# a container has /proc: hostup finds its library through /proc/self/exe
# shellcheck disable=SC2034 # read by the hu_at_exit hook
mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc" && MOUNTED_PROC=1; }
hu_at_exit 'rm -rf "$ROOT$D"; [[ -n ${MOUNTED_PROC:-} ]] && umount "$ROOT/proc"'
cp "$HU_LIB" "$ROOT$D/lib/hostup/libhostup.so"
cp "$HU_BUILD/hostup" "$ROOT$D/bin/hostup"
LIB=$D/lib/hostup/libhostup.so
in_root() { hu_run chroot "$ROOT" "$@"; }

# 1. /bin/true starts, says nothing and exits 0 (the Dockerfile check).
in_root env LD_PRELOAD="$LIB" /bin/true
hu_assert_eq "0 " "$HU_RC $HU_ERR" "/bin/true under the library in Debian 11"
in_root env LD_PRELOAD="$LIB" python3 -c 'print("started")'
hu_assert_eq "0 started" "$HU_RC $HU_OUT" "python3 starts under the library"

# 2. python3 and curl ride out a 4 s outage (ICMP host-unreachable).
P=8080 URL="http://$IP_S:8080$HU_HTTP_PATH"
FETCH="import urllib.request; print(urllib.request.urlopen('$URL').read().decode().strip())"
POLICY="$IP_S:$P attempts=30 backoff=200ms..1s deadline=20s"
hu_serve_http $P
outage() { hu_reject $P; hu_after 4 hu_unreject; }
for prog in python3 curl; do
	outage
	if [[ $prog == python3 ]]; then cmd=(python3 -c "$FETCH"); else cmd=(curl -sS "$URL"); fi
	: >"$ROOT$D/log/$prog.log"
	in_root env LD_PRELOAD="$LIB" HOSTUP_POLICY="$POLICY" HOSTUP_LOG="$D/log/$prog.log" "${cmd[@]}"
	hu_assert_eq "0 $HU_HTTP_BODY" "$HU_RC $HU_OUT" "$prog (Debian 11) under hostup through the outage"
	hu_assert_ge "$HU_MS" 3000 "$prog waited for the outage to end"
	cp "$ROOT$D/log/$prog.log" "$HU_TMP/$prog.log"
	counts=$(hu_counts "$prog")
	hu_assert_contains "$counts" "recovered=1" "$prog: one recovered record"
	hu_assert_ne "retry=0" "${counts%% *}" "$prog: retries recorded"
	hu_assert_eq EHOSTUNREACH "$(hu_field "$prog" retry errno | head -n 1)" "$prog: the retried errno"
	sleep 1 # the unreject must have happened before the next outage
	# the same program without the library fails during the same outage
	hu_reject $P
	in_root "${cmd[@]}"
	hu_unreject
	hu_assert_ne 0 "$HU_RC" "$prog (Debian 11) without hostup fails during the outage"
done
hu_assert_contains "$HU_ERR" "No route to host" "curl's own error without hostup"

# 3. The CLI inside the old system.
in_root "$D/bin/hostup" check-config --policy "db:5432 attempts=20 deadline=90s; * attempts=4"
hu_assert_eq 0 "$HU_RC" "hostup check-config (Debian 11) accepts a good policy"
hu_assert_contains "$HU_OUT" "2 rules" "check-config counts the rules"
in_root "$D/bin/hostup" check-config --policy "* attempts=zero"
hu_assert_ne 0 "$HU_RC" "check-config (Debian 11) refuses a bad policy"
hu_assert_contains "$HU_ERR" "attempts must be a whole number" "check-config says why"

in_root "$D/bin/hostup" doctor "$IP_S:$P"
hu_assert_eq 0 "$HU_RC" "hostup doctor (Debian 11): a listening port is reachable"
hu_assert_contains "$HU_OUT" "libhostup.so loads in this system" "doctor checks that the library loads"
hu_reject $P
in_root "$D/bin/hostup" doctor "$IP_S:$P"
hu_unreject
hu_assert_eq 1 "$HU_RC" "hostup doctor (Debian 11): a rejecting port is unreachable"
hu_assert_contains "$HU_OUT" "EHOSTUNREACH" "doctor names the error"

in_root "$D/bin/hostup" run -- python3 -c "$FETCH"
hu_assert_eq "0 $HU_HTTP_BODY" "$HU_RC $HU_OUT" "hostup run (Debian 11) finds the library beside it"

# 4. A library that needs a newer glibc than the image: `hostup run` and
# `hostup doctor` say so with the loader's words instead of starting a
# program that would die before main().
printf '#define _GNU_SOURCE\n#include <string.h>\nconst char *f(int e) { return strerrorname_np(e); }\n' >"$HU_TMP/new.c"
gcc -shared -fPIC -o "$ROOT$D/lib/hostup/libhostup.so" "$HU_TMP/new.c" || hu_fail "gcc"
in_root env LD_PRELOAD="$LIB" /bin/true
hu_assert_ne 0 "$HU_RC" "a library needing GLIBC_2.32 stops /bin/true in Debian 11 (what hostup must avoid)"
in_root "$D/bin/hostup" run -- /bin/true
hu_assert_eq 69 "$HU_RC" "hostup run refuses a library that cannot load"
hu_assert_contains "$HU_ERR" "cannot be loaded in this system" "hostup run says why"
hu_assert_contains "$HU_ERR" "GLIBC_2.32' not found" "hostup run quotes the loader"
in_root "$D/bin/hostup" doctor "$IP_S:$P"
hu_assert_contains "$HU_OUT" "library      fail" "hostup doctor reports the library that cannot load"
hu_done
