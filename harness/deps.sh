#!/bin/bash
# Install with apt-get what the harness needs, skipping what is present.
# Needs root (the README says so); nothing is fetched from anywhere but
# Debian's archive.  The kernel source tarballs of the bases and QEMU 10
# are pinned packages outside the machine's suites: harness/fetch-debs.sh
# fetches and unpacks those, installing nothing (make deps runs it too).
set -euo pipefail
PKGS=(
	# fetch-debs.sh checks the archive's signatures with Debian's keys
	debian-archive-keyring
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod ccache
	python3 xz-utils rsync git
	# arm64 kernel and static guest program
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	# guests; busybox-static: the x86_64 guests' shell for the admin
	# guide's recipe (Makefile, harness/recipe.py)
	qemu-system-x86 qemu-system-arm qemu-efi-aarch64 busybox-static
	# the boot disk's ext2 image and its data file (harness/rootdisk.py)
	e2fsprogs
	# static gates; spatch compiles the kernel's script:ocaml rules with
	# ocamlopt, which the coccinelle package does not pull in
	sparse coccinelle ocaml-nox
	# checkpatch's SPDX check (scripts/spdxcheck.py)
	python3-ply python3-git
)
# make bench also plots its figures.
[ "${1:-}" = bench ] && PKGS+=(gnuplot-nox)
# make deb: bindeb-pkg runs dpkg-buildpackage (dpkg-dev comes with
# build-essential), whose debian/rules calls debhelper's dh_* commands;
# Debian's config compresses the kernel with zstd and signs the modules
# with a key the build makes with openssl; the scratch Debian 12 root
# comes from debootstrap and is entered with unshare and chroot
# (util-linux, coreutils: always there).
[ "${1:-}" = deb ] && PKGS+=(debhelper zstd openssl debootstrap)
missing=()
for p in "${PKGS[@]}"; do
	[[ $p = \#* ]] && continue
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "error: missing packages: ${missing[*]}; run as root (or install them)" >&2
	exit 1
fi
echo ">> installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
