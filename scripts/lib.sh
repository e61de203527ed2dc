# Shared helpers for the project's shell scripts.  Source it; do not run it.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${GMEM61_OUT:-$REPO/out}
TREE=${GMEM61_TREE:-$OUT/linux}

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# identity_get name|email: the project identity from IDENTITY.
identity_get() {
	sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$REPO/IDENTITY" | head -n 1
}

# series_base: the Debian package version the series was made on.
series_base() {
	sed -n 's/^# base: linux-source-6.1 \([^ ]*\).*/\1/p' "$REPO/series" | head -n 1
}

# need_pkgs pkg...: install missing Debian packages.
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	if [ -z "${GMEM61_APT_UPDATED:-}" ]; then
		apt-get update -qq || die "apt-get update failed"
		export GMEM61_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}
