#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what `make check` / `make demo` need on Debian, or say in one line
# what is missing.  Usage: tests/deps.sh build|check|demo|fresh|bench|lint|musl|deb
set -u
mode=${1:-check}
build=(gcc make pkg-config libc6-dev libjansson-dev libunwind-dev)
# make musl: musl-gcc, and what tests/musl/jansson.sh builds jansson's
# Debian source package with (dpkg-source, then autoreconf as debian/rules)
musl=(musl-tools linux-libc-dev dpkg-dev autoconf automake libtool)
# Installed without their recommends: test_nfs.sh's qemu, which boots a
# Debian kernel with an NFS client and server (tests/nfs/; about 90 MB);
# Prometheus and node_exporter (the exporter's recommended collectors bring
# smartmontools, nvme-cli and ipmitool, with services) and podman (rootful with the kernel's
# overlayfs: no buildah, slirp4netns, fuse-overlayfs or uidmap), with the
# network stack podman uses named (netavark)
norec=(qemu-system-x86 prometheus prometheus-node-exporter podman netavark)
case "$mode" in
  build) want=("${build[@]}") ;;
  # test_servers.sh: a JDK (java File.java needs jdk.compiler), a PostgreSQL
  # server and psql, nginx
  # test_volumes.sh: the flaky FUSE file system (libfuse3, fusermount3)
  # test_secure.sh: setcap (libcap2-bin); test_memcheck.sh: valgrind
  # test_oldglibc.sh: a Debian 11 root file system (debootstrap)
  # test_musl.sh: the musl build (make check runs make musl)
  # test_clients.sh: wget, perl (IO::Socket::INET), openssl s_client, git
  # (clone over git:// from git daemon), redis-server and redis-cli, ruby
  # (Net::HTTP)
  # test_supervise.sh: Go (the Go client the supervisor holds; standard
  # library only, built offline)
  # test_deb.sh: make deb (dpkg-shlibdeps), the man pages' lint, lintian
  # test_docker.sh: a private Docker engine (docker.io: dockerd, containerd,
  # runc), compose v1 (docker-compose), YAML checks of examples/ (python3-yaml)
  # test_prometheus.sh: Prometheus and promtool, node_exporter (run directly,
  # not as services)
  # test_podman.sh: podman (kube play) with netavark, catatonit (the pod's
  # pause image)
  # test_deepbind.sh: PHP's curl extension, which PHP loads with RTLD_DEEPBIND
  check) want=("${build[@]}" check nftables iproute2 procps curl python3 libcap2-bin valgrind
               nodejs openjdk-17-jdk-headless postgresql nginx libfuse3-dev fuse3
               debootstrap "${musl[@]}" wget perl openssl git redis-server redis-tools ruby
               docker.io docker-compose python3-yaml golang-go mandoc lintian catatonit
               php-cli php-curl "${norec[@]}") ;;
  nfs)   want=(qemu-system-x86) ;;
  # tests/demo.sh: python3 the client, nft the outage, ip/ss/ps/sysctl (lib.sh)
  demo)  want=("${build[@]}" nftables iproute2 procps python3) ;;
  # make fresh: a minimal Debian 12 root file system to run `make demo` in
  fresh) want=(debootstrap git) ;;
  # make bench: callgrind, the plots, a load generator and the real
  # programs it times (curl against nginx, python3, node under wrk)
  bench) want=("${build[@]}" valgrind gnuplot-nox wrk nftables iproute2 curl
               python3 nodejs nginx golang-go bc) ;;
  # make lint: the analysers, the second compiler and the man pages' lint
  lint)  want=("${build[@]}" cppcheck clang clang-tidy mandoc) ;;
  # make deb: dpkg-shlibdeps (dpkg-dev) and strip (binutils)
  deb)   want=("${build[@]}" dpkg-dev binutils) ;;
  musl)  want=("${build[@]}" "${musl[@]}") ;;
  *) echo "usage: $0 build|check|demo|fresh|bench|lint|musl|deb|nfs" >&2; exit 64 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "hostup: missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "hostup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# the packages of norec go in a second call, without their recommends
rec=() bare=()
for p in "${missing[@]}"; do
  if [[ " ${norec[*]} " == *" $p "* ]]; then bare+=("$p"); else rec+=("$p"); fi
done
apt_install() { # [--no-install-recommends] PACKAGE...
  apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
  apt-get update -qq >/dev/null 2>&1
  apt-get install -y -qq "$@" >/dev/null
}
if ! { [ ${#rec[@]} -eq 0 ] || apt_install "${rec[@]}"; } ||
   ! { [ ${#bare[@]} -eq 0 ] || apt_install --no-install-recommends "${bare[@]}"; }; then
  echo "hostup: apt-get could not install: ${missing[*]}" >&2; exit 1
fi
echo "hostup: installed ${missing[*]}" >&2
