#!/usr/bin/env bash
# Fuzz the guest_memfd / memory-attribute / memslot ABI of our kernel: build
# gmem_fuzz (selftests/fuzz/) and run it for N seconds in one harness boot.
#
#   scripts/fuzz.sh [--kernel BZIMAGE] [--seconds N] [--seeds A-B | --seed S]
#                   [--threads T] [--append ARGS] [-- GMEM_FUZZ_OPTION...]
#
#   --kernel FILE   kernel to boot (default: the KASAN build if there is one,
#                   else the debug build, under out/build/)
#   --seconds N     how long to fuzz (default 60)
#   --seeds A-B     consecutive seeds, each on fresh VMs for a slice of the
#                   time (default 1-1000); --seed S runs one seed throughout
#   --threads T     fuzz threads (default 4; one checker per VM comes on top)
#   --append ARGS   add ARGS to the guest kernel's command line (repeatable),
#                   e.g. kvm.gmem_in_place_conversion=1 for in-place conversion
#   -- ...          passed to gmem_fuzz as is, e.g. --keep-going,
#                   --no-signals, --skip slot_as1 (gmem_fuzz --help)
#
# Exit 0 if gmem_fuzz found nothing and the kernel reported nothing (WARN,
# lockdep, KASAN, ...), 4 if it skipped, else 1.  A failure report names the
# seed, the thread and every thread's last ops; see selftests/fuzz/README.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO"

kernel='' seconds=60 seeds=(--seeds 1-1000) threads=4 extra=() append=() cmdline=''
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=${2:?--kernel BZIMAGE}; shift ;;
	--seconds) seconds=${2:?--seconds N}; shift ;;
	--seeds) seeds=(--seeds "${2:?--seeds A-B}"); shift ;;
	--seed) seeds=(--seed "${2:?--seed S}"); shift ;;
	--threads) threads=${2:?--threads T}; shift ;;
	--append) append+=(--append "${2:?--append ARGS}") cmdline+=" $2"; shift ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) sed -n '2,21p' "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || die "--seconds wants a whole number of seconds"
[[ $threads =~ ^[0-9]+$ && $threads -gt 0 ]] || die "--threads wants a positive number"
[ "${seeds[0]}" != --seeds ] || range_ok "${seeds[1]}" || die "--seeds wants a range A-B with A <= B"
[ "${seeds[0]}" != --seed ] || [[ ${seeds[1]} =~ ^[0-9]+$ ]] || die "--seed wants a whole number"
if [ -z "$kernel" ]; then
	for variant in kasan debug; do
		kernel=$OUT/build/$variant/arch/x86/boot/bzImage
		[ -f "$kernel" ] && break
	done
fi
[ -f "$kernel" ] || die "no kernel at $kernel (scripts/kernel-build.sh, or --kernel)"

bazel build -c opt --noshow_progress --ui_event_filters=-info,-progress //selftests:gmem_fuzz >&2 ||
	die "bazel build failed"

# gmem_fuzz stops its last seed at N seconds and gives stuck threads 30 s
# more before it reports them; the harness kills it only after that.
cmd="/bin/gmem_fuzz --seconds $seconds ${seeds[*]} --threads $threads"
for a in "${extra[@]}"; do
	# The guest runs the command line with sh -c: quote what needs it.
	if [[ $a =~ ^[A-Za-z0-9_.,:=/+-]+$ ]]; then
		cmd+=" $a"
	else
		cmd+=" '${a//\'/\'\\\'\'}'"
	fi
done
say "fuzzing $(basename "$kernel") for ${seconds}s: $cmd${cmdline:+ (kernel command line +$cmdline)}"
exec harness/run.sh --kernel "$kernel" --show-output "${append[@]}" \
	--test-timeout $((seconds + 90)) --timeout $((seconds + 600)) \
	--bin bazel-bin/selftests/gmem_fuzz --test "fuzz: $cmd"
