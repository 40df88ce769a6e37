#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian package and the install: `make install`/`make uninstall` put
# down and take back exactly the same files (man pages included, lint
# clean); `make deb` (packaging/deb.sh) builds hostup_VERSION_ARCH.deb, clean
# under lintian, with Depends on libc6 only; in a copy of a fresh Debian 12
# minbase root (tests/rootfs.sh), offline, `apt-get install ./hostup_*.deb`
# installs it, `hostup doctor` and a preloaded python3 work against a target
# in a network namespace through an outage, and `apt-get remove --purge`
# leaves no file behind.  Root: chroot, namespaces.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_root
hu_need_lib
hu_need_cmd dpkg-deb dpkg-shlibdeps chroot unshare mandoc lintian col
[[ -x $HU_BUILD/hostup ]] || hu_fail "missing $HU_BUILD/hostup"
P=5433

# ---- make install / make uninstall (DESTDIR): the same files both ways
d=$(mktemp -d /tmp/hostup-inst.XXXXXX) || hu_fail mktemp
hu_at_exit 'rm -rf "$d"'
make -s -C "$HU_ROOT" install B="$HU_BUILD" PREFIX=/usr/local DESTDIR="$d" >/dev/null || hu_fail "make install"
for m in man1/hostup.1 man5/hostup-policy.5 man7/libhostup.7; do
	[[ -f $d/usr/local/share/man/$m ]] || hu_fail "make install: missing share/man/$m"
done
hu_ok "make install: the man pages in share/man/man{1,5,7}"
lint=$(mandoc -T lint -W warning "$d"/usr/local/share/man/man*/* 2>&1)
hu_assert_eq "" "$lint" "mandoc -T lint -W warning of the installed man pages"
lint=$(groff -ww -z -mandoc "$d"/usr/local/share/man/man*/* 2>&1)
hu_assert_eq "" "$lint" "groff -ww of the installed man pages"
# hostup(1) names every command of `hostup --help` and every option of
# each command's own --help
page=$(mandoc -T utf8 "$d/usr/local/share/man/man1/hostup.1" | col -b)
cmds=$("$HU_BUILD/hostup" --help | sed -n '/^commands:/,/^$/s/^  \([a-z-][a-z-]*\).*/\1/p')
[[ $(wc -w <<<"$cmds") -ge 9 ]] || hu_fail "hostup --help lists too few commands: $cmds"
for c in $cmds; do
	grep -qE "^ +hostup $c( |$)" <<<"$page" || hu_fail "hostup(1): no synopsis line for $c"
	for o in $("$HU_BUILD/hostup" "$c" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		[[ $o == --help ]] && continue
		grep -qF -- "$o" <<<"$page" || hu_fail "hostup(1) does not mention $c $o"
	done
done
hu_ok "hostup(1) covers every command and option: $(echo $cmds)"
make -s -C "$HU_ROOT" uninstall B="$HU_BUILD" PREFIX=/usr/local DESTDIR="$d" >/dev/null || hu_fail "make uninstall"
left=$(find "$d" -mindepth 1 \( -type f -o -type l \) | sed "s|^$d||")
hu_assert_eq "" "$left" "make uninstall removes every file make install put down"
for own in lib/hostup include/hostup share/hostup; do
	[[ ! -e $d/usr/local/$own ]] || hu_fail "make uninstall left \$(PREFIX)/$own"
done
hu_ok "make uninstall removes hostup's own folders; left: $(cd "$d" && find . -mindepth 1 -type d | sort | tr '\n' ' ')"
rm -rf "$d"

# ---- make deb
hu_net_setup
out=$(bash "$HU_ROOT/packaging/deb.sh" "$HU_BUILD" "$HU_TMP/deb" 2>&1) || hu_fail "packaging/deb.sh: $out"
echo "$out"
deb=$(echo "$HU_TMP"/deb/hostup_*_amd64.deb)
[[ -f $deb ]] || hu_fail "no hostup_*_amd64.deb in $HU_TMP/deb"
version=$(dpkg-deb -f "$deb" Version)
upstream=$("$HU_BUILD/hostup" version | awk '{print $2}')
hu_assert_eq "hostup_${upstream}-${version#*-}_amd64.deb" "${deb##*/}" "the file name carries the command's version"
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends =~ ^libc6\ \(\>=\ 2\.([0-9]+)\)$ ]] || hu_fail "Depends is '$depends', not libc6 (>= 2.N) alone"
hu_assert_le "${BASH_REMATCH[1]}" 17 "Depends asks no newer glibc than the 2.17 baseline ($depends)"
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/hostup ./usr/lib/hostup/libhostup.so ./usr/share/man/man1/hostup.1.gz \
	./usr/share/man/man5/hostup-policy.5.gz ./usr/share/man/man7/libhostup.7.gz \
	./usr/share/hostup/default.json ./usr/share/bash-completion/completions/hostup ./usr/share/doc/hostup/copyright ./usr/share/doc/hostup/changelog.Debian.gz; do
	grep -qxF "$f" <<<"$files" || hu_fail "the package lacks $f"
done
hu_ok "the package: library, command, man pages, configs, completion, copyright, changelog"
lint=$(lintian --allow-root --pedantic "$deb" 2>&1 | grep -v '^N:')
hu_assert_eq "" "$lint" "lintian --pedantic reports nothing (overrides: packaging/lintian-overrides)"

# ---- a fresh Debian 12 root: python3, then the package, offline
base=$(bash "$HU_ROOT/tests/rootfs.sh" bookworm-minbase)
rc=$?
[[ $rc == 0 ]] || { echo "$base"; exit "$rc"; }
# python3-minimal's packages, downloaded once with the host's apt (cached
# like the roots); the root itself never reaches a mirror
pydebs=${HOSTUP_ROOTS:-/var/tmp/hostup-roots}/debs-python3
if [[ ! -f $pydebs/.complete ]]; then
	mkdir -p "$pydebs" && (cd "$pydebs" && apt-get download -q python3-minimal python3.11-minimal \
		libpython3.11-minimal >download.log 2>&1) && touch "$pydebs/.complete" ||
		{ echo "skipped: apt-get download python3-minimal failed (see $pydebs/download.log)"; exit 77; }
fi
# beside the cached roots, not in /tmp (often a tmpfs): 350 MB
rootdir=$(mktemp -d /var/tmp/hostup-deb.XXXXXX) || hu_fail mktemp
hu_at_exit 'rm -rf "$rootdir"'
root=$rootdir/root
cp -a "$base" "$root" || hu_fail "copy of $base"
mkdir -p "$root/tmp/debs" && cp "$pydebs"/*.deb "$deb" "$root/tmp/debs/" || hu_fail "copy of the packages"

# CMD in the chroot, in the client namespace (no route anywhere but the
# test network), with /proc, /sys and /dev of its own mount namespace
in_root() { # CMD...
	ip netns exec "$NS_C" unshare --mount --propagation private bash -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" && mount --rbind /dev "$r/dev" || exit 1
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			DEBIAN_FRONTEND=noninteractive "$@"' in_root "$root" "$@"
}
# every file of the root but those apt and dpkg keep for themselves
snapshot() {
	(cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./run \
		-o -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log \) -prune \
		-o -print | LC_ALL=C sort)
}
py=$(cd "$pydebs" && for f in *.deb; do printf './tmp/debs/%s ' "$f"; done)
in_root apt-get install -y -q --no-install-recommends $py >"$HU_TMP/apt-python.log" 2>&1 ||
	hu_fail "apt-get install python3-minimal offline (see apt-python.log)"
in_root python3 -c 'print("python ok")' | grep -q "python ok" || hu_fail "python3 in the root"
snapshot >"$HU_TMP/before.list"
in_root apt-get install -y -q --no-install-recommends "./tmp/debs/${deb##*/}" >"$HU_TMP/apt-install.log" 2>&1 ||
	hu_fail "apt-get install ./${deb##*/} offline in a fresh Debian 12 root (see apt-install.log)"
hu_assert_eq "ii" "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' hostup | tr -d ' ')" "dpkg lists hostup as installed"
hu_assert_eq "hostup $upstream" "$(in_root hostup version)" "the installed hostup runs"
snapshot >"$HU_TMP/installed.list"
grep -qxF ./usr/lib/hostup/libhostup.so "$HU_TMP/installed.list" || hu_fail "the snapshot does not see the installed files"
hu_ok "the install added $(($(wc -l <"$HU_TMP/installed.list") - $(wc -l <"$HU_TMP/before.list"))) files and folders"

# ---- doctor and a preloaded python3 through an outage
hu_serve_tcp $P
in_root hostup doctor --timeout 2s "$IP_S:$P" >"$HU_TMP/doctor-up.log" 2>&1
hu_assert_eq 0 "$?" "hostup doctor $IP_S:$P: reachable (exit 0)"
hu_assert_contains "$(cat "$HU_TMP/doctor-up.log")" "/usr/lib/hostup/libhostup.so" \
	"doctor finds the packaged library from /usr/bin/hostup"
grep -q "library.*fail" "$HU_TMP/doctor-up.log" && hu_fail "doctor: the library does not load: $(cat "$HU_TMP/doctor-up.log")"
hu_reject $P
in_root hostup doctor --timeout 2s "$IP_S:$P" >"$HU_TMP/doctor-down.log" 2>&1
hu_assert_eq 1 "$?" "hostup doctor during the outage: not reachable (exit 1)"
hu_assert_contains "$(cat "$HU_TMP/doctor-down.log")" "EHOSTUNREACH" "doctor names the error"
CLIENT='import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print(s.recv(100).decode().strip())'
in_root python3 -c "$CLIENT" "$IP_S" $P >"$HU_TMP/plain.out" 2>"$HU_TMP/plain.err"
hu_assert_ne 0 "$?" "python3 without hostup fails during the outage"
hu_assert_contains "$(cat "$HU_TMP/plain.err")" "No route to host" "python3 without hostup: No route to host"
hu_after 2 hu_unreject
POLICY="$IP_S attempts=40 backoff=100ms..300ms deadline=20s"
in_root env LD_PRELOAD=/usr/lib/hostup/libhostup.so HOSTUP_POLICY="$POLICY" HOSTUP_SHARED=off \
	python3 -c "$CLIENT" "$IP_S" $P >"$HU_TMP/py.out" 2>"$HU_TMP/py.log"
hu_assert_eq 0 "$?" "python3 preloaded with the packaged library rides out the outage"
hu_assert_eq "$HU_HELLO" "$(cat "$HU_TMP/py.out")" "python3 got the server's answer"
hu_assert_contains "$(cat "$HU_TMP/py.log")" '"event":"recovered"' "a recovered record"
hu_assert_contains "$(cat "$HU_TMP/py.log")" '"event":"retry"' "retry records during the outage"
hu_reject $P
hu_after 2 hu_unreject
in_root hostup run --policy "$POLICY" -- python3 -c "$CLIENT" "$IP_S" $P >"$HU_TMP/run.out" 2>"$HU_TMP/run.log"
hu_assert_eq 0 "$?" "hostup run -- python3 (the library found as ../lib/hostup) rides out the outage"
hu_assert_contains "$(cat "$HU_TMP/run.log")" '"event":"recovered"' "hostup run: a recovered record"

# ---- apt-get remove --purge leaves nothing behind
in_root apt-get remove --purge -y -q hostup >"$HU_TMP/apt-remove.log" 2>&1 || hu_fail "apt-get remove --purge hostup"
snapshot >"$HU_TMP/after.list"
diff=$(diff "$HU_TMP/before.list" "$HU_TMP/after.list")
hu_assert_eq "" "$diff" "after apt-get remove --purge the root holds the same files as before the install"
[[ -z $(in_root dpkg-query -W -f='${Status}' hostup 2>/dev/null) ]] || hu_fail "dpkg still knows hostup"
hu_ok "dpkg forgot hostup"
hu_done
