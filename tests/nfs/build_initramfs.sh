#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the base of the NFS test VM (tests/integration/test_nfs.sh): a
# Debian 12 kernel and an initramfs holding busybox, the kernel's NFS client
# and server modules, mount.nfs, rpc.nfsd/rpc.mountd/exportfs, rpcbind and a
# minimal python3, with their libraries; scsi_debug and ext4 for a failing disk.  Packages are fetched with
# `apt-get download` and unpacked with dpkg-deb -x, never installed.
#
# Usage: tests/nfs/build_initramfs.sh  -> prints the cache directory, which
# holds vmlinuz, base.cpio.gz and busybox (static, used on the host to pack
# the per-run overlay).  Cached under /var/tmp/hostup-nfs/<hash of the
# package versions and of this script>; a second run costs a few apt-cache
# look-ups.
set -euo pipefail
root=${HOSTUP_NFS_CACHE:-/var/tmp/hostup-nfs}

# The programs, and the libraries they load (ldd checks the list below).
progs=(linux-image-amd64 busybox-static nfs-common nfs-kernel-server rpcbind
       python3.11-minimal libpython3.11-minimal)
libs=(libc6 libtirpc3 libtirpc-common libwrap0 libmount1 libblkid1 libuuid1 libselinux1
      libpcre2-8-0 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2
      libkeyutils1 libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblzma5 libzstd1 liblz4-1
      zlib1g libexpat1 libnsl2)
# The kernel modules asked for; their dependencies come from each module's
# depends= (there is no modules.dep in the package and no depmod here).
# The crypto ones first: other modules ask the crypto API for them by name.
# scsi_debug, ext4 and sd_mod: a disk that fails on command under an export.
modules=(crc32c_generic crct10dif_generic crc64_rocksoft_generic nfs nfsv3 nfsv4 nfsd
         ext4 sd_mod scsi_debug)

die() { echo "build_initramfs: $*" >&2; exit 1; }

# One apt-cache call (each costs seconds): every package's version, and the
# kernel package the metapackage names (with its version).
meta=$(apt-cache show --no-all-versions "${progs[@]}" "${libs[@]}" 2>/dev/null |
	grep -E '^(Package|Version):|^Depends: linux-image-[0-9]')
kpkg=$(sed -n 's/^Depends: \(linux-image-[0-9][^ ,]*\).*/\1/p' <<<"$meta" | head -n 1)
[[ -n $kpkg ]] || die "apt-cache knows no linux-image-amd64 (run apt-get update)"
all=("${progs[@]}" "$kpkg" "${libs[@]}")
key=$( { echo "$meta"; cat "$0"; } | sha256sum | cut -c1-16)
out=$root/$key
if [[ -s $out/base.cpio.gz && -s $out/vmlinuz && -x $out/busybox ]]; then
	echo "$out"
	exit 0
fi

work=$(mktemp -d "$root.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$root" && mktemp -d "$root/tmp.XXXXXX"; })
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/x" "$work/r"
( cd "$work/debs" && apt-get download -q "${all[@]}" >"$work/download.log" 2>&1 ) ||
	die "apt-get download failed: $(tail -n 3 "$work/download.log")"
for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$work/x"; done
x=$work/x r=$work/r

# ---- kernel and modules --------------------------------------------------------
kver=$(basename "$(ls -d "$x"/lib/modules/*)")
cp "$x/boot/vmlinuz-$kver" "$work/vmlinuz"
declare -A seen=()
order=()
add_module() { # depth first: dependencies before the module
	local m=$1 f dep
	[[ -n ${seen[$m]:-} ]] && return 0
	seen[$m]=1
	f=$(find "$x/lib/modules/$kver/kernel" -name "$m.ko" -print -quit)
	[[ -n $f ]] || die "no module $m.ko in $kpkg"
	for dep in $(strings "$f" | sed -n 's/^depends=//p' | tr ',' ' '); do add_module "$dep"; done
	order+=("$f")
}
for m in "${modules[@]}"; do add_module "$m"; done
mkdir -p "$r/modules" "$r/etc"
for f in "${order[@]}"; do cp "$f" "$r/modules/"; basename "$f" >>"$r/etc/modules.order"; done

# ---- programs ------------------------------------------------------------------
mkdir -p "$r/bin" "$r/sbin" "$r/usr/sbin" "$r/usr/bin" "$r/lib64" "$r/lib/x86_64-linux-gnu" \
	"$r/usr/lib/python3.11/encodings"
cp "$x/bin/busybox" "$r/bin/busybox"
cp "$x/bin/busybox" "$work/busybox"
for p in sbin/mount.nfs sbin/rpcbind usr/sbin/rpc.nfsd usr/sbin/rpc.mountd usr/sbin/exportfs \
	usr/bin/python3.11; do
	cp "$x/$p" "$r/$p"
done
ln -s mount.nfs "$r/sbin/mount.nfs4"
ln -s python3.11 "$r/usr/bin/python3"
for e in __init__ aliases utf_8 latin_1 ascii; do
	cp "$x/usr/lib/python3.11/encodings/$e.py" "$r/usr/lib/python3.11/encodings/"
done
cp "$x/etc/netconfig" "$r/etc/netconfig"
# libraries: what ldd names, resolved inside the unpacked packages only
libpath=$x/lib/x86_64-linux-gnu:$x/usr/lib/x86_64-linux-gnu
need=$(for p in sbin/mount.nfs sbin/rpcbind usr/sbin/rpc.nfsd usr/sbin/rpc.mountd usr/sbin/exportfs \
	usr/bin/python3.11; do LD_LIBRARY_PATH=$libpath ldd "$x/$p"; done |
	awk '/=>/{print $1}' | sort -u)
for l in $need; do
	f=
	for d in "$x/lib/x86_64-linux-gnu" "$x/usr/lib/x86_64-linux-gnu"; do
		[[ -e $d/$l ]] && f=$d/$l
	done
	[[ -n $f ]] || die "$l is in none of the packages: add its package to libs= in $0"
	cp -L "$f" "$r/lib/x86_64-linux-gnu/$l"
done
cp -L "$x/lib64/ld-linux-x86-64.so.2" "$r/lib64/"
# The same libc for the host-built library and tools (libc, libm, libdl...)
for l in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1; do
	cp -L "$x/lib/x86_64-linux-gnu/$l" "$r/lib/x86_64-linux-gnu/$l"
done
printf 'root:x:0:0:root:/:/bin/sh\n_rpc:x:100:65534::/run/rpcbind:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
printf 'ip 0 IP\ntcp 6 TCP\nudp 17 UDP\n' >"$r/etc/protocols"
printf 'sunrpc 111/tcp portmapper\nsunrpc 111/udp portmapper\nnfs 2049/tcp\nnfs 2049/udp\n' >"$r/etc/services"
printf '127.0.0.1 localhost\n198.18.0.1 nfsserver\n' >"$r/etc/hosts"
echo "$kver" >"$r/etc/kernel-version"

( cd "$r" && find . | LC_ALL=C sort | "$work/busybox" cpio -o -H newc 2>/dev/null | gzip -6 ) >"$work/base.cpio.gz"
mkdir -p "$out"
mv "$work/vmlinuz" "$work/base.cpio.gz" "$work/busybox" "$out/"
# older builds (other package versions) go: about 20 MB each
for d in "$root"/????????????????; do
	[[ -d $d && $d != "$out" ]] && rm -rf "$d"
done
echo "$out"
