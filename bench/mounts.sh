#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a command in a private mount namespace whose mount table is the
# same on every run, so the open() rows of bench/callgrind_calls.sh do not
# depend on what else the machine has mounted (other tests' FUSE volumes):
# every FUSE and network mount is taken away (in the namespace only), and
# with NETMOUNT=1 one FUSE volume that mountinfo names fuse.sshfs (the
# test tool hu_flakyfs) is put in, so hostup sees a network mount and
# examines every open.  Root only.
#   NETMOUNT=0|1 bench/mounts.sh CMD [ARG...]
set -u
cd "$(dirname "$0")/.."
B=${HU_BUILD:-build}
[[ $(id -u) == 0 ]] || { echo "bench/mounts.sh: needs root" >&2; exit 1; }
[[ ${NETMOUNT:-0} == 0 || -x $B/tools/hu_flakyfs ]] || make -s "$B/tools/hu_flakyfs" >/dev/null
export B
exec unshare --mount --propagation private bash -c '
	awk "\$0 ~ / - (fuse[.a-z0-9]*|nfs4?|cifs|smb3|9p|ceph|afs) / {print \$5}" /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	if [[ ${NETMOUNT:-0} == 1 ]]; then
		d=$(mktemp -d /tmp/hostup-benchmnt.XXXXXX)
		mkdir -p "$d/b" "$d/m"
		"$B/tools/hu_flakyfs" --backing="$d/b" "$d/m" -f \
			-o "subtype=sshfs,fsname=bench@fileserver:/export" 2>/dev/null &
		fs=$!
		for ((i = 0; i < 50; i++)); do grep -q " $d/m .* - fuse.sshfs " /proc/self/mountinfo && break; sleep 0.1; done
		grep -q " $d/m .* - fuse.sshfs " /proc/self/mountinfo || { echo "bench/mounts.sh: no volume" >&2; exit 1; }
	fi
	"$@"; rc=$?
	if [[ -n ${fs:-} ]]; then umount -l "$d/m"; kill "$fs" 2>/dev/null; wait "$fs" 2>/dev/null; rm -rf "$d"; fi
	exit $rc' bash "$@"
