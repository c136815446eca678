#!/bin/bash
# Create or refresh the kernel work tree (build/linux) as a git repository:
# commit "base" is the pristine Debian tarball (with its .gitignore made to
# show new files), then patches/ is applied in the order of patches/series.
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
		[ -f "$f" ] || die "patches/series names a missing file: $f"
		g -C "$TREE" am -q --committer-date-is-author-date "$f" ||
			{ g -C "$TREE" am --abort || true; die "$(basename "$f") does not apply"; }
	done
	g -C "$TREE" tag -f applied >/dev/null
	note "tree at $(g -C "$TREE" rev-list --count base..HEAD) patch(es) over base"
}

create() {
	[ -f "$TARBALL" ] || die "no $TARBALL (make deps installs linux-source-6.12)"
	note "extracting $(basename "$TARBALL") into build/linux"
	rm -rf "$TREE.new"
	mkdir -p "$TREE.new"
	tar -xf "$TARBALL" -C "$TREE.new" --strip-components=1
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
		-m "Debian linux-source-6.12 $(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null || echo unknown)" \
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
	[ "${FORCE:-0}" = 1 ] || die "build/linux has uncommitted changes: commit them (then make export) or FORCE=1 make tree"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ROOT/harness/export.sh" "$TREE" "$tmp" >/dev/null
if diff -rq "$tmp" "$PATCHES" >/dev/null 2>&1; then
	note "build/linux is up to date with patches/"
	exit 0
fi
head=$(g -C "$TREE" rev-parse HEAD)
applied=$(g -C "$TREE" rev-parse -q --verify applied 2>/dev/null || true)
if [ "$head" != "$applied" ] && [ "${FORCE:-0}" != 1 ]; then
	die "build/linux has commits that are not in patches/: run make export (or FORCE=1 make tree to drop them)"
fi
note "patches/ changed: re-applying the series on base"
g -C "$TREE" reset -q --hard base
g -C "$TREE" clean -qfdx
apply_series
