#!/bin/bash
# Fetch pinned Debian packages from outside the machine's own suites and
# unpack them, installing nothing:
#   fetch-debs.sh base NAME     the kernel source tarball of a base
#   fetch-debs.sh qemu10        QEMU 10 into build/qemu-10
#   fetch-debs.sh debkernel     Debian's kernel package of make deb (prints
#                               the .deb, then its config file, unpacked)
# A private apt configuration (its own source list, lists and cache under
# $DEBS) names the suites; the machine's sources are never touched.  A
# pinned version that has left the archive stops here with the newest one
# found: no silent fallback onto another base.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

apt_dir=$DEBS/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$apt_dir/sources.list" <<LIST
deb [signed-by=$key] http://deb.debian.org/debian bookworm main
deb [signed-by=$key] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=$key] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=$key] http://deb.debian.org/debian bookworm-backports main
deb [signed-by=$key] http://deb.debian.org/debian experimental main
LIST
APT_OPTS=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
	-o APT::Architecture=amd64 -o APT::Sandbox::User=root)
updated=0

# fetch PKG VERSION: the .deb, downloaded once into $DEBS.
fetch() {
	local pkg=$1 ver=$2 deb
	deb=$(ls "$DEBS/${pkg}_"*.deb 2>/dev/null |
		while read -r f; do
			[ "$(dpkg-deb -f "$f" Version)" = "$ver" ] && echo "$f"
		done | head -1)
	if [ -n "$deb" ]; then echo "$deb"; return; fi
	if [ $updated = 0 ]; then
		apt-get "${APT_OPTS[@]}" -qq update >&2 || die "apt-get update (private lists) failed"
		updated=1
	fi
	if ! apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
		grep -qxF "$ver"; then
		local newest
		newest=$(apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
			sort -V | tail -1)
		die "pinned $pkg $ver is no longer in Debian's archive; newest found: ${newest:-none}. Update harness/bases.py deliberately (the series is based on the pinned version)."
	fi
	(cd "$DEBS" && apt-get "${APT_OPTS[@]}" -qq download "$pkg=$ver" >&2) ||
		die "could not download $pkg $ver"
	ls "$DEBS/${pkg}_"*.deb | while read -r f; do
		[ "$(dpkg-deb -f "$f" Version)" = "$ver" ] && echo "$f"
	done | head -1
}

case ${1:-} in
base)
	BASE=$2
	source "$(dirname "$0")/lib.sh"
	tarball=$(python3 -c "import sys; sys.path.insert(0, '$ROOT/harness'); import bases; print(bases.get('$BASE').tarball)")
	out=$DEBS/$SRC_PKG-$SRC_VER
	if [ ! -f "$out/$tarball" ]; then
		deb=$(fetch "$SRC_PKG" "$SRC_VER")
		rm -rf "$out.tmp" && mkdir -p "$out.tmp"
		dpkg-deb -x "$deb" "$out.tmp"
		rm -rf "$out" && mv "$out.tmp" "$out"
	fi
	echo "$out/$tarball"
	;;
qemu10)
	read -r ver dir pkgs < <(python3 -c "import sys; sys.path.insert(0, '$ROOT/harness'); import bases; q = bases.QEMU10; print(q['version'], q['dir'], ' '.join(q['packages']))")
	out=$ROOT/$dir
	if [ "$(cat "$out/.version" 2>/dev/null)" != "$ver" ]; then
		rm -rf "$out.tmp" && mkdir -p "$out.tmp"
		for p in $pkgs; do
			dpkg-deb -x "$(fetch "$p" "$ver")" "$out.tmp"
		done
		echo "$ver" > "$out.tmp/.version"
		rm -rf "$out" && mv "$out.tmp" "$out"
		note "QEMU $ver in $dir"
	fi
	;;
debkernel)
	read -r pkg ver rel < <(python3 -c "import sys; sys.path.insert(0, '$ROOT/harness'); import bases; k = bases.DEB_KERNEL; print(k['package'], k['version'], k['release'])")
	deb=$(fetch "$pkg" "$ver")
	# Named by release and package version: a re-pinned package with
	# the same release gets its own config.
	cfg=$DEBS/config-${rel}_$ver
	if [ ! -f "$cfg" ]; then
		dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./boot/config-$rel" > "$cfg.tmp" ||
			die "$deb has no boot/config-$rel"
		mv "$cfg.tmp" "$cfg"
	fi
	echo "$deb"
	echo "$cfg"
	;;
*)
	die "usage: fetch-debs.sh base NAME | qemu10 | debkernel"
	;;
esac
