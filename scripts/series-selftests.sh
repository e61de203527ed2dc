#!/usr/bin/env bash
# Build the KVM selftests of the patched tree (out/linux, with the series
# applied) as static binaries for the harness, against the uapi headers of
# the kernel build (scripts/kernel-build.sh installs them).
#
#   scripts/series-selftests.sh [--headers DIR]   build into out/selftests-series
#   scripts/series-selftests.sh --list            print NAME BINARY ARGS of every test
set -uo pipefail
. "$(dirname "$0")/lib.sh"

list=$REPO/selftests/series/tests
hdr=$OUT/build/debug/usr
case "${1:-}" in
--list) list_entries "$list"; exit 0 ;;
--headers) hdr=${2:?--headers DIR}; shift 2 ;;
-h | --help) sed -n '2,8p' "$0"; exit 0 ;;
'') ;;
*) die "unknown option $1" ;;
esac
hdr=$(cd "$hdr" 2>/dev/null && pwd) || die "no directory $hdr"
[ -f "$hdr/include/linux/kvm.h" ] || die "no kernel headers in $hdr (run scripts/kernel-build.sh)"

bin=$OUT/selftests-series
mkdir -p "$bin"
mapfile -t targets < <("$0" --list | awk '{ print $2 }' | sort -u)
say "building ${#targets[@]} series selftests from $TREE"
make -s -C "$TREE/tools/testing/selftests/kvm" -j"$(nproc)" \
	OUTPUT="$bin" INSTALL_HDR_PATH="$hdr" USERLDFLAGS=-static \
	"${targets[@]/#/$bin/}" >"$bin/build.log" 2>&1 ||
	{ tail -20 "$bin/build.log" >&2; die "building the series selftests failed (log: $bin/build.log)"; }
for t in "${targets[@]}"; do
	is_static "$bin/$t" || die "$bin/$t is not a static binary"
done
say "series selftests in $bin"
