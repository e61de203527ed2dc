#!/usr/bin/env bash
# Make out/linux: Debian's linux-source-6.1 as a git tree (first commit tagged
# "base"), with the series applied on top as one commit per patch.
#
#   scripts/base-tree.sh            create if missing, then re-import the series
#   scripts/base-tree.sh --fresh    throw the tree away and start again
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fresh=0
for a in "$@"; do
	case "$a" in
	--fresh) fresh=1 ;;
	-h | --help) sed -n '2,7p' "$0"; exit 0 ;;
	*) die "unknown argument: $a" ;;
	esac
done

"$REPO/scripts/setup.sh"

tarball=/usr/src/linux-source-6.1.tar.xz
installed=$(dpkg-query -W -f='${Version}' linux-source-6.1)
recorded=$(series_base)
if [ "$installed" != "$recorded" ]; then
	warn "series was made on linux-source-6.1 $recorded, installed is $installed; trying anyway"
fi

name=$(identity_get name)
email=$(identity_get email)
export GIT_AUTHOR_NAME="$name" GIT_AUTHOR_EMAIL="$email"
export GIT_COMMITTER_NAME="$name" GIT_COMMITTER_EMAIL="$email"
export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"

have_base() { git -C "$TREE" rev-parse -q --verify refs/tags/base >/dev/null 2>&1; }
stamp="$TREE/.git/gmem61-base-version"

if [ $fresh = 1 ] || ! have_base || [ "$(cat "$stamp" 2>/dev/null)" != "$installed" ]; then
	say "extracting $tarball ($installed) into $TREE"
	rm -rf "$TREE" "$TREE.tmp"
	mkdir -p "$TREE.tmp"
	tar -C "$TREE.tmp" --strip-components=1 -xf "$tarball"
	mv "$TREE.tmp" "$TREE"
	git -C "$TREE" init -q -b master
	git -C "$TREE" config user.name "$name"
	git -C "$TREE" config user.email "$email"
	git -C "$TREE" config core.autocrlf false
	say "committing the base tree"
	git -C "$TREE" add -A -f .
	git -C "$TREE" commit -q -m "Debian linux-source-6.1 $installed"
	git -C "$TREE" tag base
	echo "$installed" >"$stamp"
fi
say "base: $(git -C "$TREE" rev-parse --short base) (linux-source-6.1 $installed)"

if grep -qv -E '^\s*(#|$)' "$REPO/series" 2>/dev/null; then
	say "importing the series"
	"$REPO/scripts/patchq.sh" import --tree "$TREE" --repo "$REPO"
fi
say "tree: $TREE at $(git -C "$TREE" log -1 --format='%h %s')"
