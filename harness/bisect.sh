#!/bin/bash
# make check-bisect [BASE=deb12]: every patch of the base's series, in
# turn, builds for x86_64.  Works in the base's verify worktree (a fresh
# git am of its series: build/verify, build/verify-deb12) with its own
# object dir (build/obj-bisect, build/obj-deb12-bisect), then records the
# series' build digest in the base's record (series/bisect-verified,
# backport/deb12/bisect-verified: harness/bases.py), which the 'bisect'
# gate of make check compares with the series it is given.  The build
# digest (gates.build_digest()) leaves out what no build reads: messages,
# Documentation/, MAINTAINERS and the kselftests (tools/testing/selftests/),
# so a change to those alone keeps the record.  Run it before exporting a series whose code changed (it takes
# one incremental build per patch, too long for CI's budget as the series
# grows).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# make check's gates rebuild the same worktree: one at a time (the lock of
# gates.verify_lock(), released when this script exits).
mkdir -p "$(dirname "$VERIFY")"
exec 9>"$VERIFY.lock"
flock -n 9 || die "${VERIFY#"$ROOT/"} is in use by another make check or make check-bisect (${VERIFY#"$ROOT/"}.lock): run them one after the other"
# The digest of what is about to be built, taken before the builds: a
# series exported while they run is not what they built.
digest=$(python3 -c 'import os, sys; sys.path.insert(0, "harness"); import gates; print(gates.build_digest(gates.where(os.environ["BASE"])))')
python3 - <<'PY'
import os, sys; sys.path.insert(0, "harness")
import gates
err = gates.make_verify_tree(gates.where(os.environ["BASE"]))
if err:
    sys.exit(f"error: {err}")
PY
verify=$VERIFY
obj=$(obj_dir bisect)
config=$(obj_dir x86_64)/.config
mkdir -p "$obj"
[ -f "$config" ] || "$ROOT/harness/build-kernel.sh" x86_64
cp "$config" "$obj/.config"
# ccache and kbuild settings: lib.sh (harness/buildenv.py).
commits=$(g -C "$verify" rev-list --reverse base..HEAD)
[ -n "$commits" ] || { echo "series is empty: nothing to bisect"; exit 0; }
log=$(mktemp)
i=0
for c in $commits; do
	i=$((i + 1))
	subj=$(g -C "$verify" log -1 --format=%s "$c")
	g -C "$verify" checkout -q "$c"
	# The test config afresh at each patch: olddefconfig drops what this
	# patch's Kconfig does not know yet (a suite a later patch adds), and
	# carrying the result on would leave that suite unbuilt at its patch.
	cp "$config" "$obj/.config"
	if make -s -C "$verify" O="$obj" ARCH=x86_64 CC="ccache gcc" \
		-j"$(nproc)" olddefconfig bzImage >"$log" 2>&1; then
		echo "ok   $i $subj"
	else
		echo "FAIL $i $subj"; tail -20 "$log"; exit 1
	fi
done
g -C "$verify" checkout -q "$(echo "$commits" | tail -1)"
cmd="make check-bisect"
[ "$BASE" = mainline ] || cmd="$cmd BASE=$BASE"
{
	echo "build-sha256 $digest"
	echo "# Every patch above built for x86_64 ($cmd)."
} > "$BISECT_REC"
echo "recorded ${BISECT_REC#"$ROOT/"}"
