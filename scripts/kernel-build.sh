#!/usr/bin/env bash
# Build a kernel from the project's config fragments.  Incremental: a re-run
# rebuilds only what changed, and the config is replaced only when it differs.
#
#   scripts/kernel-build.sh [--tree DIR] [--variant debug|kasan|modules|perf] [--out DIR]
#
# Prints the path of the bzImage last.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$TREE
variant=debug
out=
while [ $# -gt 0 ]; do
	case "$1" in
	--tree) tree=$2; shift ;;
	--variant) variant=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) sed -n '2,7p' "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
	shift
done
tree=$(cd "$tree" && pwd)
[ -f "$tree/Makefile" ] || die "$tree is not a kernel tree (run scripts/base-tree.sh)"
out=${out:-$OUT/build/$variant}
mkdir -p "$out"
out=$(cd "$out" && pwd)

cfgdir=$REPO/kernel/config
fragments=("$cfgdir/gmem61.config")
case "$variant" in
debug) ;;
kasan) fragments+=("$cfgdir/kasan.config") ;;
modules) fragments+=("$cfgdir/modules.config") ;;
perf) fragments+=("$cfgdir/perf.config") ;;
*) die "unknown variant '$variant' (debug, kasan, modules, perf)" ;;
esac
optional=("$cfgdir/series.config")
# The benchmark kernel leaves out the series' debug checks too.
[ "$variant" = perf ] && optional+=("$cfgdir/series-perf.config")

# Generate the config in a scratch build directory, then install it only if
# it changed, so unchanged configs never trigger a full rebuild.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
make -s -C "$tree" O="$scratch" tinyconfig >/dev/null
(cd "$scratch" && "$tree/scripts/kconfig/merge_config.sh" -m -O "$scratch" .config \
	"${fragments[@]}" "${optional[@]}" >/dev/null)
make -s -C "$tree" O="$scratch" olddefconfig >/dev/null

# Every option asked for must have survived olddefconfig's dependency pass.
# Later fragments override earlier ones (modules.config turns =y into =m).
declare -A want=()
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) want[${line%%=*}]=${line#*=} ;; esac
done < <(cat "${fragments[@]}")
bad=0
for sym in "${!want[@]}"; do
	val=${want[$sym]}
	if [ "$val" = n ]; then
		grep -qx "$sym=[ym].*" "$scratch/.config" && { warn "$sym is set, wanted n"; bad=1; }
	else
		grep -qx "$sym=$val" "$scratch/.config" || { warn "$sym: wanted $val, got: $(grep "^$sym=" "$scratch/.config" || echo unset)"; bad=1; }
	fi
done
[ $bad = 0 ] || die "config fragments not satisfied"
# The optional fragments' wishes, later ones overriding earlier ones.
declare -A maybe=()
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) maybe[${line%%=*}]=${line#*=} ;; esac
done < <(cat "${optional[@]}")
for sym in "${!maybe[@]}"; do
	if [ "${maybe[$sym]}" = n ]; then
		! grep -qx "$sym=[ym].*" "$scratch/.config" || warn "$sym is set, wanted n"
	else
		grep -qx "$sym=${maybe[$sym]}" "$scratch/.config" || warn "$sym not available in this tree (added later in the series)"
	fi
done

if ! cmp -s "$scratch/.config" "$out/.config"; then
	say "config changed: installing new .config for $variant"
	cp "$scratch/.config" "$out/.config"
fi

say "building $variant kernel in $out"
make -C "$tree" O="$out" -j"$(nproc)" -s olddefconfig
make -C "$tree" O="$out" -j"$(nproc)" -s
make -C "$tree" O="$out" -s headers_install INSTALL_HDR_PATH="$out/usr" >/dev/null
echo "$out/arch/x86/boot/bzImage"
