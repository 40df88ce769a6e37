#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prints the path of a cached Debian root file system, building it first with
# debootstrap if it is not there yet.  Cached outside the build tree, so
# `make clean` and a fresh clone keep it:
#   $HOSTUP_ROOTS (default /var/tmp/hostup-roots)/NAME
# Usage: tests/rootfs.sh bullseye|bookworm-minbase|bookworm-slim
#   bullseye          Debian 11 (glibc 2.31) with python3 and curl: old-glibc
#                     programs to run under the library (test_oldglibc.sh)
#   bookworm-minbase  Debian 12 minbase plus make and git: the fresh machine
#                     that `make fresh` runs the README's commands in
#   bookworm-slim     Debian 12 minbase and nothing else: imported as the
#                     debian:bookworm-slim image the Dockerfiles build on
#                     (tests/docker/engine.sh), since no registry is reachable
# Exit 77 with "skipped: ..." when it cannot be built here (no root, no
# debootstrap, no mirror), so a test can pass that on.
set -u
name=${1:?usage: $0 bullseye|bookworm-minbase|bookworm-slim}
roots=${HOSTUP_ROOTS:-/var/tmp/hostup-roots}
mirror=${HOSTUP_MIRROR:-http://deb.debian.org/debian}
case $name in
bullseye) suite=bullseye include=python3,curl ;;
bookworm-minbase) suite=bookworm include=make,git,ca-certificates ;;
bookworm-slim) suite=bookworm include= ;;
*) echo "rootfs.sh: unknown root file system '$name'" >&2; exit 64 ;;
esac
dir=$roots/$name
[[ -f $dir/.hostup-complete ]] && { echo "$dir"; exit 0; }
[[ $(id -u) == 0 ]] || { echo "skipped: needs root (debootstrap)"; exit 77; }
command -v debootstrap >/dev/null || { echo "skipped: needs debootstrap (apt-get install debootstrap)"; exit 77; }
mkdir -p "$roots" || exit 1
# one builder at a time; a second caller waits and then finds it complete
exec 9>"$roots/.$name.lock"
flock 9
[[ -f $dir/.hostup-complete ]] && { echo "$dir"; exit 0; }
rm -rf "$dir.tmp" "$dir"
echo "rootfs.sh: debootstrap $suite ($include) into $dir, once (about a minute)" >&2
if ! debootstrap --variant=minbase ${include:+--include="$include"} "$suite" "$dir.tmp" "$mirror" \
	>"$roots/$name.log" 2>&1; then
	tail -n 5 "$roots/$name.log" >&2
	rm -rf "$dir.tmp"
	echo "skipped: debootstrap $suite failed (see $roots/$name.log)"
	exit 77
fi
# minbase has no /etc/hosts: localhost must resolve as in any real image
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$dir.tmp/etc/hosts"
touch "$dir.tmp/.hostup-complete"
mv "$dir.tmp" "$dir"
echo "$dir"
