#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# jansson for the musl build (make musl): built with musl-gcc from Debian's
# own source package of the libjansson-dev installed here, so both builds use
# the same jansson, from the same archive.  Prints the install prefix
# (include/jansson.h, lib/libjansson.a) on stdout; progress goes to stderr.
#
# The system is left as it is: apt-get reads a private deb-src list and keeps
# its index and cache under $HU_MUSL_CACHE (default /var/tmp/hostup-musl),
# outside the build tree, so `make clean` does not force a rebuild.  apt
# checks the index against Debian's archive key and dpkg-source checks the
# source files against the index's checksums.
# Needs: musl-tools, dpkg-dev, autoconf, automake, libtool (tests/deps.sh musl).
set -euo pipefail
cache=${HU_MUSL_CACHE:-/var/tmp/hostup-musl}
say() { echo "musl_jansson: $*" >&2; }

# The version of the glibc build's jansson; any bookworm-era one otherwise.
ver=$(dpkg-query -W -f='${Version}' libjansson-dev 2>/dev/null || true)
prefix=$cache/jansson-${ver:-latest}
if [[ -f $prefix/lib/libjansson.a && -f $prefix/include/jansson.h ]]; then
  echo "$prefix"
  exit 0
fi
command -v musl-gcc >/dev/null || { say "needs musl-gcc (tests/deps.sh musl)"; exit 1; }

apt=$cache/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
. /etc/os-release
codename=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$apt/sources.list" <<EOF
deb-src [signed-by=$key] http://deb.debian.org/debian $codename main
deb-src [signed-by=$key] http://deb.debian.org/debian $codename-updates main
deb-src [signed-by=$key] http://deb.debian.org/debian-security $codename-security main
EOF
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -q)
# root: download as root into our own directories (no _apt sandbox user)
[[ $(id -u) == 0 ]] && opts+=(-o APT::Sandbox::User=root)

say "fetching Debian's source package of jansson ${ver:-(newest)}"
apt-get "${opts[@]}" update >&2
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get "${opts[@]}" source --download-only "jansson${ver:+=$ver}" >&2 ||
  apt-get "${opts[@]}" source --download-only jansson >&2
dsc=$(ls jansson_*.dsc)
dpkg-source -x "$dsc" src >&2

# As debian/rules does (dh runs autoreconf, then configure), but static,
# position-independent (it goes into libhostup.so) and with musl-gcc.
cd src
say "building $(sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog) with musl-gcc"
autoreconf -fi >&2 2>&1
CC=musl-gcc CFLAGS="-O2 -g -fPIC -fvisibility=hidden" \
  ./configure --prefix="$prefix.tmp" --disable-shared --enable-static >&2
make -j2 >&2
rm -rf "$prefix.tmp"
make install >&2
rm -rf "$prefix"
mv "$prefix.tmp" "$prefix"
echo "$prefix"
