#!/bin/bash
# Configure and build the guest kernel for one architecture:
#   [BASE=deb12] build-kernel.sh ARCH [FLAVOUR]
# FLAVOUR "test" (default) merges the debug fragments; "bench" merges the
# bench ones instead (harness/arches.py).  The config is allnoconfig plus configs/ fragments (merge_config.sh
# -n); any requested option that olddefconfig dropped fails the build.
# Objects go to build/obj-ARCH[-FLAVOUR] (O=), compiled through ccache
# whose cache lives outside the clone.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
arch=$1
flavour=${2:-test}
# The arch record (harness/arches.py) names the fragments and the image.
info=$(python3 "$ROOT/harness/arches.py" "$arch" "$flavour")
frags=$(echo "$info" | sed -n 1p | sed "s|[^ ]*|$ROOT/configs/&.config|g")
cross=$(echo "$info" | sed -n 2p)
image=$(echo "$info" | sed -n 3p)
# mainline objects in build/obj-ARCH, the backport's in build/obj-deb12-ARCH
suffix=$arch
[ "$flavour" = test ] || suffix=$arch-$flavour
obj=$(obj_dir "$suffix")
mkdir -p "$obj"

# ccache and kbuild settings: lib.sh (harness/buildenv.py).
mkdir -p "$CCACHE_DIR"
ccache -M 20G >/dev/null

kmake() {
	make -C "$TREE" O="$obj" ARCH="$arch" CROSS_COMPILE="$cross" \
		CC="ccache ${cross}gcc" HOSTCC="ccache gcc" "$@"
}

# Reconfigure only when a fragment or the tree changed since last time.
stamp=$obj/.vb-config-inputs
want=$( (cat $frags; g -C "$TREE" rev-parse HEAD) | sha1sum)
if [ ! -f "$obj/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	note "configuring $arch ($flavour): $(for f in $frags; do basename "$f" .config; done | tr '\n' ' ')"
	(cd "$TREE" && ARCH=$arch CROSS_COMPILE=$cross \
		scripts/kconfig/merge_config.sh -n -O "$obj" $frags >"$obj/.vb-merge.log" 2>&1) ||
		{ cat "$obj/.vb-merge.log"; die "merge_config.sh failed"; }
	python3 "$ROOT/harness/kconfig_check.py" "$obj/.config" $frags
	echo "$want" > "$stamp"
fi
note "building $arch kernel in ${obj#"$ROOT/"}"
kmake -s -j"$(nproc)" "$(basename "$image")"
ls -l "$obj/$image" | awk '{print ">> " $NF ": " $5 " bytes"}'
