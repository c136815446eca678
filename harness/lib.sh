# Shared by the shell parts of the harness.  Sourced, not run.
#
# Two kernel bases, one layout (harness/bases.py holds their facts):
#   BASE=mainline (default)  build/linux        patches/          the series to post
#   BASE=deb12               build/linux-deb12  backport/deb12/   the Debian 12 backport
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
# Exported: every script this one runs works on the same base.
export BASE=${BASE:-mainline}
# tree, patches folder, source package and pinned version of the base, the
# gates' verify worktree and the check-bisect record.
# bases.py names the bases when BASE is none of them.
read -r TREE PATCHES SRC_PKG SRC_VER VERIFY BISECT_REC < <(python3 "$ROOT/harness/bases.py" "$BASE") ||
	exit 1
TREE=$ROOT/$TREE
PATCHES=$ROOT/$PATCHES
VERIFY=$ROOT/$VERIFY
BISECT_REC=$ROOT/$BISECT_REC
# Debian packages fetched outside the machine's suites, kept between clones.
DEBS=${VB_DEBS:-/var/cache/vbypass/debs}

# The fixed git identity and date of every commit the harness makes, and
# the ccache and kbuild settings of every kernel build: harness/buildenv.py,
# their one home (gates.py imports it).
eval "$(python3 "$ROOT/harness/buildenv.py" "$ROOT")" || exit 1

# git with no user or system configuration that could change its output.
g() { GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent git -c core.abbrev=12 \
	-c diff.renames=true -c diff.algorithm=myers -c format.thread=false \
	-c user.useConfigOnly=false "$@"; }

# obj_dir WHAT: the base's object directory for WHAT (an arch, "bisect"):
# build/obj-WHAT on mainline, build/obj-BASE-WHAT on a backport.
obj_dir() { echo "$ROOT/$(python3 "$ROOT/harness/bases.py" "$BASE" obj "$1")"; }

die() { echo "error: $*" >&2; exit 1; }
note() { echo ">> $*"; }

# The patch files of the series, in order.
series_files() {
	[ -f "$PATCHES/series" ] || return 0
	grep -vE '^\s*(#|$)' "$PATCHES/series" | sed "s|^|$PATCHES/|"
}
