#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make deb`: hostup_VERSION_ARCH.deb in the top folder, from the built
# library and command in BUILD (default build).  The tree is what
# `make install PREFIX=/usr` puts down (the library in /usr/lib/hostup, where
# /usr/bin/hostup finds it as ../lib/hostup), less the headers (no -dev
# package), with the binaries stripped, the man pages gzipped, and
# /usr/share/doc/hostup/{copyright,changelog.Debian.gz} and lintian's
# overrides (packaging/lintian-overrides, each with its reason); Depends is computed
# by dpkg-shlibdeps.  VERSION is the command's own version plus the Debian
# revision of packaging/changelog, which must agree with it.
# Usage: packaging/deb.sh [BUILD [OUTDIR]]   (OUTDIR: default the top folder)
set -eu
umask 022
top=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
outdir=$(mkdir -p "${2:-$top}" && cd "${2:-$top}" && pwd)
cd "$top"
for c in dpkg-deb dpkg-shlibdeps strip gzip; do
	command -v "$c" >/dev/null || { echo "deb: needs $c (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done
[[ -x $B/hostup && -f $B/libhostup.so ]] || { echo "deb: build $B/hostup and $B/libhostup.so first (make)" >&2; exit 1; }

upstream=$("$B/hostup" version | awk '{print $2}')
version=$(sed -n '1s/^hostup (\([^)]*\)).*/\1/p' packaging/changelog)
[[ ${version%-*} == "$upstream" ]] || {
	echo "deb: packaging/changelog is at $version but hostup says $upstream: add a changelog entry" >&2; exit 1; }
arch=$(dpkg --print-architecture)
out=$outdir/hostup_${version}_$arch.deb

work=$(mktemp -d /tmp/hostup-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
make -s --no-print-directory install B="$B" PREFIX=/usr DESTDIR="$root" >/dev/null
rm -rf "$root/usr/include"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/lib/hostup/libhostup.so"
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/hostup"
gzip -9n "$root"/usr/share/man/man*/*
doc=$root/usr/share/doc/hostup
install -d "$doc"
gzip -9n <packaging/changelog >"$doc/changelog.Debian.gz"
{ cat packaging/copyright.in; echo "License: Expat"
  # LICENSE's permission text, as a DEP-5 license paragraph
  sed -n '/^Permission is hereby granted/,$p' LICENSE | sed 's/^$/./; s/^/ /'; } >"$doc/copyright"
chmod 0644 "$doc"/*
install -D -m 0644 packaging/lintian-overrides "$root/usr/share/lintian/overrides/hostup"

# Depends: what the binaries need from libc6, by their symbols
mkdir -p "$work/src/debian"
printf 'Source: hostup\n\nPackage: hostup\nArchitecture: any\n' >"$work/src/debian/control"
deps=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/hostup" "$root/usr/lib/hostup/libhostup.so" \
	2>"$work/shlibdeps.err" | sed -n 's/^shlibs:Depends=//p')
[[ $deps == libc6* && $deps != *,* ]] || {
	cat "$work/shlibdeps.err" >&2; echo "deb: expected Depends of libc6 only, got '$deps'" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
(cd "$root" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$deps/" \
	packaging/control.in >"$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
rm -f "$outdir"/hostup_*_"$arch".deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "deb: $(basename "$out") (Depends: $deps; $size KiB installed)"
