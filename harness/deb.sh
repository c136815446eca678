#!/bin/bash
# make deb: Debian binary packages of the 6.12 backport, built the way a
# VM operator's Debian 12 kernel is configured, then installed into a
# scratch Debian 12 root beside Debian's own kernel.
#
#   deb.sh build      configure and make bindeb-pkg (build/deb/*.deb)
#   deb.sh root       the scratch root (build/deb/root): dpkg -i of
#                     Debian's kernel package and of ours, whose postinst
#                     makes each one's initramfs (initramfs-tools)
#   deb.sh baseroot   only the debootstrap that root starts from
#   deb.sh release    print the packaged kernel's release
#
# The config: Debian's own for 6.12.117 (its linux-image package ships it
# in /boot; harness/fetch-debs.sh debkernel), reduced with make
# localmodconfig to the modules a QEMU guest of the harness loads
# (configs/deb-guest.lsmod, or the lsmod output named by DEB_LSMOD), then
# configs/deb.config over it, checked after olddefconfig.  Objects in
# build/deb/obj (O=), through ccache; dpkg-buildpackage leaves the
# packages in its parent folder, build/deb.  Each step is skipped when
# its inputs did not change since it last succeeded.
set -euo pipefail
export BASE=deb12
source "$(dirname "$0")/lib.sh"

DEB=$BUILD/deb
OBJ=$DEB/obj
ROOTFS=$DEB/root
BASEROOT=$DEB/debootstrap
LSMOD=${DEB_LSMOD:-$ROOT/configs/deb-guest.lsmod}
FRAG=$ROOT/configs/deb.config
# The packages' version: the kernel's, Debian revision 1, the series'
# version (v2) and the backport tree's commit, so that a rebuild of
# other code is another version.
SERIES_VERSION=2
read -r ARCH SUITE MIRROR ROOT_PKGS < <(python3 -c "import sys; sys.path.insert(0, '$ROOT/harness'); import bases; k = bases.DEB_KERNEL; print(k['arch'], k['suite'], k['mirror'], ','.join(k['root_packages']))")
# The release's suffix (CONFIG_LOCALVERSION), as launch.py reads it too.
SUFFIX=$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$FRAG")
[ -n "$SUFFIX" ] || die "configs/deb.config sets no CONFIG_LOCALVERSION"

[ "$(id -u)" = 0 ] || [ "${1:-}" = release ] ||
	die "make deb needs root (debootstrap, chroot and mounts for the scratch root)"

# LOCALVERSION set and empty: the release is the version and the
# config's CONFIG_LOCALVERSION, without the "+" that setlocalversion
# otherwise appends for a git tree off its tag.
kmake() {
	make -C "$TREE" O="$OBJ" ARCH="$ARCH" CC="ccache gcc" HOSTCC="ccache gcc" \
		LOCALVERSION= "$@"
}

# The release, as the build wrote it (kernelrelease before a build reads
# a stale or missing include/config/auto.conf).
release() {
	[ -s "$OBJ/include/config/kernel.release" ] ||
		die "no build in ${OBJ#"$ROOT/"}: make deb first"
	cat "$OBJ/include/config/kernel.release"
}

debian_kernel() {
	"$ROOT/harness/fetch-debs.sh" debkernel
}

configure() {
	local deb cfg want stamp=$OBJ/.vb-config-inputs
	{ read -r deb; read -r cfg; } < <(debian_kernel)
	[ -f "$LSMOD" ] || die "$LSMOD: no such module list"
	want=$( (cat "$cfg" "$LSMOD" "$FRAG"; g -C "$TREE" rev-parse HEAD) | sha1sum)
	[ -f "$OBJ/.config" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return
	note "configuring from Debian's $(basename "$cfg"), localmodconfig against ${LSMOD#"$ROOT/"}"
	mkdir -p "$OBJ"
	cp "$cfg" "$OBJ/.config"
	kmake -s olddefconfig
	# localmodconfig asks (conf --oldconfig) about symbols Debian's
	# config lacks: stdin is empty, so each takes its default.
	kmake -s LSMOD="$LSMOD" localmodconfig </dev/null >"$OBJ/.vb-localmodconfig.log" 2>&1 ||
		{ cat "$OBJ/.vb-localmodconfig.log"; die "make localmodconfig failed"; }
	(cd "$TREE" && ARCH=$ARCH scripts/kconfig/merge_config.sh -m -O "$OBJ" \
		"$OBJ/.config" "$FRAG" >"$OBJ/.vb-merge.log" 2>&1) ||
		{ cat "$OBJ/.vb-merge.log"; die "merge_config.sh failed"; }
	kmake -s olddefconfig
	python3 "$ROOT/harness/kconfig_check.py" "$OBJ/.config" "$FRAG"
	echo "$want" > "$stamp"
	note "$(grep -c '=m$' "$OBJ/.config") options =m, $(grep -c '=y$' "$OBJ/.config") =y (Debian's config: $(grep -c '=m$' "$cfg") and $(grep -c '=y$' "$cfg"))"
}

# The image package of this release (not Debian's, not -dbg).
image_deb() {
	local p
	for p in "$DEB"/linux-image-"$1"_*.deb; do
		[ -f "$p" ] && echo "$p" && return
	done
}

build() {
	local rel ver p want stamp=$DEB/.vb-built
	configure
	want="$(cat "$OBJ/.vb-config-inputs") $SERIES_VERSION"
	if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -n "$(image_deb "$(release)")" ]; then
		note "packages of $(release) up to date in build/deb"
		return
	fi
	ver=$(kmake -s kernelversion)-1+vbypass$SERIES_VERSION+g$(g -C "$TREE" rev-parse --short=12 HEAD)
	note "building the packages ($ver) in ${OBJ#"$ROOT/"}"
	rm -f "$stamp" "$DEB"/*.deb "$DEB"/*.buildinfo "$DEB"/*.changes
	DEBEMAIL=dev@vbypass.invalid DEBFULLNAME="vbypass developers" \
		kmake -s -j"$(nproc)" KDEB_PKGVERSION="$ver" bindeb-pkg \
		>"$DEB/bindeb-pkg.log" 2>&1 ||
		{ tail -40 "$DEB/bindeb-pkg.log"; die "make bindeb-pkg failed (build/deb/bindeb-pkg.log)"; }
	rel=$(release)
	case $rel in
	*"$SUFFIX") ;;
	*) die "the build's release is $rel, not *$SUFFIX (configs/deb.config)" ;;
	esac
	[ -n "$(image_deb "$rel")" ] || die "bindeb-pkg made no linux-image-$rel package"
	note "built $rel"
	for p in "$DEB"/*.deb; do
		dpkg-deb --info "$p" >/dev/null || die "$p: dpkg-deb --info failed"
		note "$(basename "$p"): $(du -h "$p" | cut -f1)"
	done
	echo "$want" > "$stamp"
}

# The scratch root starts from Debian 12 minbase with initramfs-tools,
# made once and kept (a debootstrap takes minutes); each install goes
# into a copy of it.
base_root() {
	local want="$SUITE $MIRROR $ROOT_PKGS"
	[ "$(cat "$BASEROOT/.vb-done" 2>/dev/null)" = "$want" ] && return
	note "debootstrap $SUITE (minbase, $ROOT_PKGS) into ${BASEROOT#"$ROOT/"}"
	mkdir -p "$DEB"
	rm -rf --one-file-system "$BASEROOT"
	debootstrap --variant=minbase --include="$ROOT_PKGS" "$SUITE" "$BASEROOT" "$MIRROR" \
		>"$DEB/debootstrap.log" 2>&1 ||
		{ tail -20 "$DEB/debootstrap.log"; die "debootstrap failed (build/deb/debootstrap.log)"; }
	echo "$want" > "$BASEROOT/.vb-done"
}

# in_root CMD...: run CMD in the scratch root with the host's /proc, /sys
# and /dev, which the packages' maintainer scripts use, bound in a mount
# namespace of its own: the binds go with it, however CMD ends, and never
# stay for a later rm -rf of the root to walk into.
in_root() {
	unshare --mount --propagation private sh -c '
		root=$1; shift
		for m in proc sys dev; do mount --bind "/$m" "$root/$m" || exit 1; done
		exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"' \
		sh "$ROOTFS" "$@"
}

root() {
	local deb cfg rel debrel ours p want stamp=$DEB/.vb-installed
	{ read -r deb; read -r cfg; } < <(debian_kernel)
	rel=$(release)
	ours=$(image_deb "$rel")
	[ -n "$ours" ] || die "no linux-image-$rel package in build/deb: make deb first"
	debrel=$(basename "$cfg" | sed 's/^config-//; s/_.*//')
	base_root
	want=$(sha1sum "$deb" "$DEB"/linux-image-"$rel"_*.deb "$DEB"/linux-headers-"$rel"_*.deb \
		"$BASEROOT/.vb-done" | sha1sum)
	if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -s "$ROOTFS/boot/initrd.img-$rel" ]; then
		note "scratch root up to date: ${ROOTFS#"$ROOT/"}"
		return
	fi
	rm -f "$stamp"
	rm -rf --one-file-system "$ROOTFS"
	cp -a "$BASEROOT" "$ROOTFS"
	mkdir -p "$ROOTFS/tmp/debs"
	cp "$deb" "$ours" "$DEB"/linux-headers-"$rel"_*.deb "$ROOTFS/tmp/debs/"
	note "installing Debian's $(basename "$deb") and ours into ${ROOTFS#"$ROOT/"}"
	# Debian's kernel first, as on a guest that runs it; ours beside it
	# (never linux-libc-dev, which would replace Debian's).
	in_root dpkg -i "/tmp/debs/$(basename "$deb")" >"$DEB/install.log" 2>&1 ||
		{ tail -20 "$DEB/install.log"; die "dpkg -i of Debian's kernel failed (build/deb/install.log)"; }
	in_root sh -c "dpkg -i /tmp/debs/linux-image-${rel}_*.deb /tmp/debs/linux-headers-${rel}_*.deb" \
		>>"$DEB/install.log" 2>&1 ||
		{ tail -20 "$DEB/install.log"; die "dpkg -i of the packages failed (build/deb/install.log)"; }
	rm -rf "$ROOTFS/tmp/debs"
	for p in "vmlinuz-$rel" "initrd.img-$rel" "vmlinuz-$debrel" "initrd.img-$debrel"; do
		[ -s "$ROOTFS/boot/$p" ] || die "the scratch root has no /boot/$p"
	done
	# The modules dpkg installed are signed with the build's key, which
	# the packaged kernel trusts (CONFIG_MODULE_SIG_ALL).
	p=$(in_root modinfo -k "$rel" -F signer virtio_blk)
	[ -n "$p" ] || die "virtio_blk of $rel in the scratch root is not signed"
	note "virtio_blk.ko of $rel signed by: $p"
	in_root dpkg-query -W -f '${Package} ${Version} ${Status}\n' 'linux-image-*' 'linux-headers-*' |
		sed 's/^/>> installed: /'
	echo "$want" > "$stamp"
}

case ${1:-} in
build) build ;;
root) root ;;
baseroot) base_root ;;
release) release ;;
*) die "usage: deb.sh build | root | baseroot | release" ;;
esac
