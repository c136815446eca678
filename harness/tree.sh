#!/bin/bash
# Create or refresh the kernel work tree of a base (BASE=mainline: build/linux
# with patches/; BASE=deb12: build/linux-deb12 with backport/deb12/) as a git
# repository: commit "base" is the pristine Debian tarball of the pinned
# package (with its .gitignore made to show new files), then the series is
# applied in the order of its series file.
#
# An existing tree is never extracted again.  It is reset to base and the
# series re-applied only when that loses nothing: the tree has no
# uncommitted change, and its commits are either exactly what the last
# 'make tree' applied or already exported.  FORCE=1 overrides.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

apply_series() {
	local f
	for f in $(series_files); do
		[ -f "$f" ] || die "${PATCHES#"$ROOT/"}/series names a missing file: $f"
		g -C "$TREE" am -q --committer-date-is-author-date "$f" ||
			{ g -C "$TREE" am --abort || true; die "$(basename "$f") does not apply"; }
	done
	g -C "$TREE" tag -f applied >/dev/null
	note "tree at $(g -C "$TREE" rev-list --count base..HEAD) patch(es) over base"
}

create() {
	local tarball
	tarball=$("$ROOT/harness/fetch-debs.sh" base "$BASE")
	note "extracting $SRC_PKG $SRC_VER into ${TREE#"$ROOT/"}"
	rm -rf "$TREE.new"
	mkdir -p "$TREE.new"
	tar -xf "$tarball" -C "$TREE.new" --strip-components=1
	# Debian's tarball ends its .gitignore with "ignore everything at the
	# top level" (for its packaging repository): drop that block so new
	# files in the tree show up in git status.
	sed -i '/^# Debian packaging: ignore everything at the top level/,$d' \
		"$TREE.new/.gitignore"
	sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$TREE.new/.gitignore"
	# Keep the last lines honest: the block must be gone.
	! grep -qx '/\*' "$TREE.new/.gitignore" || die "could not fix .gitignore"
	g -C "$TREE.new" init -q -b master
	# 90k loose objects would make every later git command start a
	# minutes-long auto gc beside the kernel build.
	g -C "$TREE.new" config gc.auto 0
	g -C "$TREE.new" add -A -f .
	GIT_AUTHOR_DATE=$GIT_COMMITTER_DATE g -C "$TREE.new" commit -q \
		-m "Debian $SRC_PKG $SRC_VER" \
		-m "Pristine tarball; the top-level .gitignore no longer ignores everything."
	g -C "$TREE.new" tag base
	mv "$TREE.new" "$TREE"
}

if [ ! -d "$TREE/.git" ]; then
	create
	apply_series
	exit 0
fi

if [ -n "$(g -C "$TREE" status --porcelain)" ]; then
	[ "${FORCE:-0}" = 1 ] || die "${TREE#"$ROOT/"} has uncommitted changes: commit them (then make export) or FORCE=1 make tree"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ROOT/harness/export.sh" "$TREE" "$tmp" >/dev/null
# The backport keeps its check-bisect record beside its patches: no export
# writes it, so it is no difference.
skip=()
[ "$(dirname "$BISECT_REC")" != "$PATCHES" ] || skip=(-x "$(basename "$BISECT_REC")")
if diff -rq "${skip[@]}" "$tmp" "$PATCHES" >/dev/null 2>&1; then
	note "${TREE#"$ROOT/"} is up to date with ${PATCHES#"$ROOT/"}/"
	exit 0
fi
head=$(g -C "$TREE" rev-parse HEAD)
applied=$(g -C "$TREE" rev-parse -q --verify applied 2>/dev/null || true)
if [ "$head" != "$applied" ] && [ "${FORCE:-0}" != 1 ]; then
	die "${TREE#"$ROOT/"} has commits that are not in ${PATCHES#"$ROOT/"}/: run make export BASE=$BASE (or FORCE=1 make tree to drop them)"
fi
note "${PATCHES#"$ROOT/"}/ changed: re-applying the series on base"
g -C "$TREE" reset -q --hard base
g -C "$TREE" clean -qfdx
apply_series
