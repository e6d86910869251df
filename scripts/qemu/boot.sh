#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# boot.sh - run a command inside a Debian kernel under qemu and return its
# exit status. As root, from anywhere:
#
#   scripts/qemu/boot.sh linux-image-6.1.0-57-amd64=6.1.192-3 build/tests/test_pkt
#
# The kernel package (PKG=VERSION for an exact version, or PKG alone for any)
# comes from the Debian registry (apt-get download) and is kept in
# $MAGLB_KERNEL_CACHE (default /var/cache/maglb-kernels, outside the build
# tree so that `make clean` and fresh clones on the same machine reuse it),
# with the guest's boot image beside it (PKG_VERSION_ARCH.boot). The guest
# is a busybox initramfs with just the modules maglb needs; it mounts the
# host's /usr and /etc and this tree read-only over 9p at the same paths,
# so the host's binaries and build/ run unchanged. The command runs in the
# tree's top directory; its output goes to the serial console (stdout here)
# and its exit status becomes this script's.
#
# $MAGLB_GUEST_OUT, when set, is a host directory the guest may write: it is
# mounted read-write at the same path and exported to the command as $OUT.
#
# TCG, not KVM: KVM is not usable on the CI machines. $QEMU_TIMEOUT (seconds,
# default 900) bounds a guest that hangs; qemu stays in the caller's process
# group (timeout --foreground), so that a time-out around this script stops
# it too.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${MAGLB_KERNEL_CACHE:-/var/cache/maglb-kernels}
# What the guest loads, by module name; their dependencies are added from
# each module's own depends= field (the package ships no modules.dep: depmod
# writes it at install time).
MODULES=(virtio_pci 9pnet_virtio 9p veth bridge sch_ingress cls_bpf crc32c_generic nf_tables)

[ $# -ge 2 ] || { echo "usage: $0 linux-image-PKG[=VERSION] COMMAND [ARG]..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "boot: run as root" >&2; exit 1; }
pkg=$1
shift

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx cpio || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# fetch PKG[=VERSION]: the .deb in the cache, downloaded when absent.
fetch()
{
	local name=${1%%=*} ver= deb

	# apt names the file PKG_VERSION_ARCH.deb, an epoch's colon as %3a.
	[ "$name" = "$1" ] || ver=${1#*=}
	ver=${ver//:/%3a}
	mkdir -p "$CACHE"
	deb=$(ls "$CACHE/${name}_${ver:-*}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		# apt-get download writes to the current directory; the status is
		# apt's (pipefail), and stale lists get one update.
		(cd "$CACHE" && apt-get download -q "$1" 2>&1 |
			{ grep -v '^W: Download is performed unsandboxed' >&2 || true; }) ||
			(apt-get update -qq && cd "$CACHE" && apt-get download -q "$1" >&2)
		deb=$(ls "$CACHE/${name}_${ver:-*}_"*.deb | head -n1)
	fi
	echo "$deb"
}

# module_deps KO: the names in a module's depends= field, one per line.
module_deps()
{
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | tr ',' '\n' | sed '/^$/d'
}

# build_initramfs DEB DIR: DIR/vmlinuz and DIR/initramfs.cpio (busybox, the
# modules uncompressed in load order, /init), cached next to the .deb. Not
# gzipped, so that the per-run archive can simply follow it.
build_initramfs()
{
	local deb=$1 dir=$2 x mods order=() seen=" " m

	x=$dir/x
	rm -rf "$dir"
	mkdir -p "$x" "$dir/root/bb" "$dir/root/modules"
	dpkg-deb -x "$deb" "$x"
	cp "$x"/boot/vmlinuz-* "$dir/vmlinuz"
	mods=$(echo "$x"/lib/modules/*)
	# name -> path; module names treat - and _ alike.
	declare -A path
	while read -r f; do
		m=$(basename "$f"); m=${m%%.ko*}
		path[${m//-/_}]=$f
	done < <(find "$mods" -name '*.ko*')
	visit()
	{
		local n=${1//-/_} f d

		case "$seen" in *" $n "*) return ;; esac
		seen+="$n "
		f=${path[$n]:-}
		if [ -z "$f" ]; then
			grep -q "/$n.ko" "$mods/modules.builtin" ||
				{ echo "boot: module $n not in $deb" >&2; exit 1; }
			return
		fi
		case "$f" in
		*.xz) xz -dc "$f" >"$dir/root/modules/$n.ko" ;;
		*.zst) zstd -qdc "$f" >"$dir/root/modules/$n.ko" ;;
		*) cp "$f" "$dir/root/modules/$n.ko" ;;
		esac
		for d in $(module_deps "$dir/root/modules/$n.ko"); do
			visit "$d"
		done
		order+=("$n")
	}
	for m in "${MODULES[@]}"; do
		visit "$m"
	done
	printf '%s\n' "${order[@]}" >"$dir/root/modules/order"
	cp /bin/busybox "$dir/root/bb/busybox"
	for m in $(/bin/busybox --list | grep -vx busybox); do
		ln -s busybox "$dir/root/bb/$m"
	done
	# The host's merged /usr provides everything else.
	for m in bin sbin lib lib64; do
		ln -s usr/$m "$dir/root/$m"
	done
	mkdir -p "$dir/root"/{dev,proc,sys,usr,etc,tmp,run,var}
	cp "$TOP/scripts/qemu/init" "$dir/root/init"
	chmod 755 "$dir/root/init"
	(cd "$dir/root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) >"$dir/initramfs.cpio"
	rm -rf "$x" "$dir/root"
}

deb=$(fetch "$pkg")
kdir=${deb%.deb}.boot
# Rebuilt when the .deb or this harness is newer than the cached image.
if [ ! -s "$kdir/initramfs.cpio" ] || [ "$deb" -nt "$kdir/initramfs.cpio" ] ||
   [ "$TOP/scripts/qemu/init" -nt "$kdir/initramfs.cpio" ] ||
   [ "$0" -nt "$kdir/initramfs.cpio" ]; then
	build_initramfs "$deb" "$kdir"
fi

# The command travels as a second cpio archive appended to the cached one
# (the kernel unpacks each in turn): /cmd holds it, quoted for sh.
run=$(mktemp -d /tmp/maglb-qemu.XXXXXX)
trap 'rm -rf "$run"' EXIT
mkdir "$run/root"
{
	echo "TOP='$TOP'"
	echo "OUT='${MAGLB_GUEST_OUT:-}'"
	printf 'set --'
	for a in "$@"; do printf " '%s'" "${a//\'/\'\\\'\'}"; done
	echo
} >"$run/root/cmd"
(cd "$run/root" && echo cmd | /bin/busybox cpio -o -H newc 2>/dev/null) >"$run/cmd.cpio"
cat "$kdir/initramfs.cpio" "$run/cmd.cpio" >"$run/initramfs"

share() { echo "-virtfs local,path=$1,mount_tag=$2,security_model=none,multidevs=remap${3-,readonly=on}"; }
outshare=
[ -z "${MAGLB_GUEST_OUT:-}" ] || outshare=$(share "$MAGLB_GUEST_OUT" out "")
# shellcheck disable=SC2046
timeout --foreground "${QEMU_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -m 2G -smp 2 -no-reboot \
	-nographic -monitor none -nic none \
	-kernel "$kdir/vmlinuz" -initrd "$run/initramfs" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3" \
	$(share /usr usr) $(share /etc etc) $(share "$TOP" top) $outshare \
	</dev/null | tr -d '\r' | tee "$run/console" ${MAGLB_GUEST_OUT:+"$MAGLB_GUEST_OUT/console"} |
	sed -E 's/\x1b(\[[0-9?;]*[a-zA-Z]|c)//g; s/^Booting from ROM\.*//; /^(SeaBIOS|MAGLB-EXIT=)/d; /reboot: Power down/d; /^$/d'
rc=$(sed -n 's/.*MAGLB-EXIT=\([0-9]*\)$/\1/p' "$run/console" | tail -n1)
[ -n "$rc" ] || { echo "boot: $pkg: the guest ended without an exit status" >&2; exit 125; }
exit "$rc"
