#!/bin/bash
# make check-bisect: every patch of the series, in turn, builds for x86_64.
# Works in build/verify (a fresh git am of patches/) with its own object
# dir, then records the series digest in series/bisect-verified, which the
# 'bisect' gate of make check compares with the series it is given.  Run it
# before exporting a changed series (it takes one incremental build per
# patch, too long for CI's budget as the series grows).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
python3 - <<'PY'
import sys; sys.path.insert(0, "harness")
import gates
err = gates.make_verify_tree()
if err:
    sys.exit(f"error: {err}")
PY
verify=$BUILD/verify
obj=$BUILD/obj-bisect
mkdir -p "$obj"
[ -f "$BUILD/obj-x86_64/.config" ] || "$ROOT/harness/build-kernel.sh" x86_64
cp "$BUILD/obj-x86_64/.config" "$obj/.config"
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/vbypass/ccache} CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1
# kbuild passes -fmacro-prefix-map=<absolute source dir>/=, which only makes
# __FILE__ relative: leave it out of the hash so clones elsewhere hit too.
export CCACHE_IGNOREOPTIONS="-fmacro-prefix-map=*"
export KBUILD_BUILD_TIMESTAMP="2025-01-01" KBUILD_BUILD_USER=vbypass KBUILD_BUILD_HOST=harness
commits=$(g -C "$verify" rev-list --reverse base..HEAD)
[ -n "$commits" ] || { echo "series is empty: nothing to bisect"; exit 0; }
log=$(mktemp)
i=0
for c in $commits; do
	i=$((i + 1))
	subj=$(g -C "$verify" log -1 --format=%s "$c")
	g -C "$verify" checkout -q "$c"
	if make -s -C "$verify" O="$obj" ARCH=x86_64 CC="ccache gcc" \
		-j"$(nproc)" olddefconfig bzImage >"$log" 2>&1; then
		echo "ok   $i $subj"
	else
		echo "FAIL $i $subj"; tail -20 "$log"; exit 1
	fi
done
g -C "$verify" checkout -q "$(echo "$commits" | tail -1)"
digest=$(python3 -c 'import sys; sys.path.insert(0, "harness"); import gates; print(gates.series_digest())')
{
	echo "series-sha256 $digest"
	echo "# Every patch above built for x86_64 (make check-bisect)."
} > "$ROOT/series/bisect-verified"
echo "recorded series/bisect-verified"
