# Shared by the shell parts of the harness.  Sourced, not run.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
TREE=$BUILD/linux
PATCHES=$ROOT/patches
TARBALL=${TARBALL:-/usr/src/linux-source-6.12.tar.xz}

# A fixed identity and date for every commit the harness makes, so the same
# tarball and series give the same hashes on every machine.
export GIT_AUTHOR_NAME="vbypass harness" GIT_AUTHOR_EMAIL="harness@vbypass.invalid"
export GIT_COMMITTER_NAME="vbypass harness" GIT_COMMITTER_EMAIL="harness@vbypass.invalid"
export GIT_COMMITTER_DATE="2025-01-01T00:00:00Z"

# git with no user or system configuration that could change its output.
g() { GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent git -c core.abbrev=12 \
	-c diff.renames=true -c diff.algorithm=myers -c format.thread=false \
	-c user.useConfigOnly=false "$@"; }

die() { echo "error: $*" >&2; exit 1; }
note() { echo ">> $*"; }

# The patch files of the series, in order.
series_files() {
	[ -f "$PATCHES/series" ] || return 0
	grep -vE '^\s*(#|$)' "$PATCHES/series" | sed "s|^|$PATCHES/|"
}
