#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make fresh`: the README's first command on a fresh machine.  A copy of a
# minimal Debian 12 root file system (debootstrap minbase plus make and git,
# cached by tests/rootfs.sh), the repository's committed HEAD cloned into
# it, and `make demo` (or TARGET) run inside it as root: it must install
# everything it builds with and succeed.  The copy is thrown away after.
# Needs root and Debian's package mirror.  Usage: tests/fresh_machine.sh [demo|check]
set -u
target=${1:-demo}
top=$(cd "$(dirname "$0")/.." && pwd)
[[ $(id -u) == 0 ]] || { echo "skipped: needs root"; exit 77; }
for c in unshare chroot git mount; do
	command -v "$c" >/dev/null || { echo "skipped: needs $c"; exit 77; }
done
base=$(bash "$top/tests/rootfs.sh" bookworm-minbase)
rc=$?
[[ $rc == 0 ]] || { echo "$base"; exit "$rc"; }

work=$(mktemp -d /var/tmp/hostup-fresh.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
root=$work/root
cp -a "$base" "$root" || exit 1
# fresh means none of what the demo builds or runs with is there yet
for f in usr/bin/gcc usr/bin/python3 usr/sbin/nft usr/include/jansson.h; do
	[[ -e $root/$f ]] && { echo "fresh: $f is already in the base root; it is not fresh"; exit 1; }
done
git clone -q "$top" "$root/src/hostup" || { echo "fresh: git clone failed"; exit 1; }
# the machine's own resolver, so apt-get inside reaches the mirror
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
echo "fresh: make $target in a fresh Debian 12 minbase copy ($root), HEAD $(git -C "$top" rev-parse --short HEAD)"
start=$(date +%s)
# A private mount namespace: /proc, /sys, /dev and /run vanish with it.
unshare --mount --propagation private bash -c '
	r=$1 t=$2
	# the root a mount point of its own, as in a container: ip netns needs it
	# /sys with what a booted machine mounts under it (its cgroup file
	# systems: dockerd needs them)
	mount --bind "$r" "$r" && mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" &&
	mount --rbind /dev "$r/dev" && mount -t tmpfs tmpfs "$r/run" || exit 1
	exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
		bash -c "cd /src/hostup && make $t"
' fresh "$root" "$target" >"$work/out.log" 2>&1
rc=$?
secs=$(($(date +%s) - start))
grep "^hostup: install" "$work/out.log"
tail -n 25 "$work/out.log"
echo "fresh: make $target exited $rc after ${secs}s"
[[ $rc == 0 ]] || exit 1
if [[ $target == demo ]]; then
	grep -q "with hostup: the request succeeded" "$work/out.log" &&
		grep -q "without hostup: the request failed" "$work/out.log" ||
		{ echo "fresh: the demo's output lacks its two verdicts"; exit 1; }
fi
echo "fresh: PASS (make $target from nothing in ${secs}s)"
