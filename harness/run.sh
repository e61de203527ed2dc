#!/usr/bin/env bash
# QEMU test harness: boot a kernel under TCG with nested SVM+NPT, run static
# test binaries as PID 1's children, and judge them.
#
#   harness/run.sh --kernel BZIMAGE [options] [BINARY...]
#
#   --kernel FILE        kernel to boot (required)
#   --bin FILE           copy a static binary into the guest's /bin
#   --file SRC:DEST      copy any file into the guest (DEST is absolute)
#   --test 'NAME: CMD'   run CMD (a shell command line) as test NAME
#   BINARY               shorthand for --bin BINARY --test 'NAME: NAME'
#   --test-timeout SEC   per test, killed after it (default 300)
#   --timeout SEC        whole run; the guest is killed after it (default 1500)
#   --mem SIZE --smp N   guest size (default 2G, 2)
#   --numa N             split the guest's memory and CPUs into N NUMA nodes
#   --prealloc           allocate all of the guest's RAM on the host before it
#                        boots (QEMU -mem-prealloc), so that no guest access
#                        pays for the host's first touch of its memory
#   --append ARGS        add ARGS to the kernel command line (e.g. a module
#                        parameter such as kvm.gmem_in_place_conversion=1)
#   --expect-report 'NAME=REGEX'
#                        test NAME must cause a kernel report (e.g. the WARN
#                        of a debug check it provokes on purpose) matching
#                        REGEX: such reports do not fail it (the test checks
#                        that they came; their absence from the capture is
#                        noted), and any other report still fails it
#   --strict-skip        count a skipped test as failed
#   --log FILE           keep the full console log (default: a temp file)
#   --show-output        print every test's output, not only failing ones
#   -v                   stream the guest console while it runs
#
# A test passes on exit 0 and is skipped on exit 4 (kselftest's KSFT_SKIP);
# anything else fails it.  Kernel messages are collected after each test: a
# WARN, BUG, oops, lockdep, KASAN, kmemleak or hung-task report fails the test
# it appeared during (or the run, for boot/shutdown).  The verdicts are KTAP
# (TAP version 13: "ok N NAME", "not ok N NAME # why", "ok N NAME # SKIP
# why") on stdout, so prove or any TAP consumer reads them; the last line is
# "N passed, N failed, N skipped"; the exit code is 0 only if nothing failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../scripts/lib.sh
. "$here/../scripts/lib.sh"

expects=() kernel='' test_timeout=300 timeout=1500 mem=2G smp=2 numa=1 strict_skip=0 prealloc_args=() log='' verbose=0 append=''
bins=() files=() tests=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift ;;
	--bin) bins+=("$2"); shift ;;
	--file) files+=("$2"); shift ;;
	--test) tests+=("$2"); shift ;;
	--test-timeout) test_timeout=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--mem) mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--numa) numa=$2; shift ;;
	--append) append+=" $2"; shift ;;
	--expect-report) expects+=("$2"); shift ;;
	--strict-skip) strict_skip=1 ;;
	--prealloc) prealloc_args=(-mem-prealloc) ;;
	--log) log=$2; shift ;;
	-v) verbose=1 ;;
	--show-output) export HARNESS_SHOW_OUTPUT=1 ;;
	-h | --help) sed -n '2,37p' "$0"; exit 0 ;;
	-*) echo "harness: unknown option $1" >&2; exit 2 ;;
	*) bins+=("$1"); tests+=("$(basename "$1"): /bin/$(basename "$1")") ;;
	esac
	shift
done
[ -n "$kernel" ] || { echo "harness: --kernel is required" >&2; exit 2; }
[ -r "$kernel" ] || { echo "harness: cannot read kernel $kernel" >&2; exit 2; }
[ ${#tests[@]} -gt 0 ] || { echo "harness: no tests given" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "harness: qemu-system-x86_64 missing (scripts/setup.sh)" >&2; exit 2; }
busybox=/bin/busybox
is_static "$busybox" || busybox=$(command -v busybox)
if ! [ -x "$busybox" ] || ! is_static "$busybox"; then
	echo "harness: busybox-static missing (scripts/setup.sh)" >&2; exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc}
cp "$busybox" "$root/bin/busybox"
install -m 0755 "$here/init.sh" "$root/init"
echo "$test_timeout" >"$root/test-timeout"
for b in "${bins[@]}"; do
	[ -f "$b" ] || { echo "harness: no such binary $b" >&2; exit 2; }
	if ! is_static "$b"; then
		echo "harness: $b is dynamically linked; the guest has no libc" >&2; exit 2
	fi
	install -m 0755 "$b" "$root/bin/$(basename "$b")"
done
for f in "${files[@]}"; do
	src=${f%%:*} dest=${f#*:}
	mkdir -p "$root$(dirname "$dest")"
	cp "$src" "$root$dest"
done
: >"$root/tests.list"
names=()
for t in "${tests[@]}"; do
	name=${t%%:*} cmd=${t#*: }
	names+=("$name")
	printf '%s\t%s\n' "$name" "$cmd" >>"$root/tests.list"
done
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$work/initrd"

# The guest kernel must not calibrate the TSC itself: under TCG on a loaded
# host the calibration can fail, the TSC is then marked unstable with a
# frequency of 0, and nested KVM's KVM_RUN spins forever requesting a clock
# update it cannot compute.  Hand it the host's TSC frequency instead.
tsc_khz=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)
tsc_args="tsc=reliable${tsc_khz:+ tsc_early_khz=$tsc_khz}"

log=${log:-$work/console.log}
start=$(date +%s)
echo "harness: booting $(basename "$kernel") with ${#tests[@]} test(s), mem=$mem smp=$smp numa=$numa, timeout ${timeout}s" >&2
set +e
# --numa N: N nodes with equal shares of memory (a memory backend each, as
# QEMU wants) and CPUs dealt out round robin; the guest reads them from SRAT.
smp_arg=$smp numa_args=()
if [ "$numa" -gt 1 ]; then
	mem_mib=$(numfmt --from=iec "${mem}" | awk '{ printf "%d", $1 / 1048576 }')
	for ((n = 0; n < numa; n++)); do
		numa_args+=(-object "memory-backend-ram,id=m$n,size=$((mem_mib / numa))M${prealloc_args[0]:+,prealloc=on}"
			-numa "node,nodeid=$n,memdev=m$n")
	done
	smp_arg="$smp,sockets=$smp,cores=1,threads=1"
	for ((c = 0; c < smp; c++)); do
		numa_args+=(-numa "cpu,node-id=$((c % numa)),socket-id=$c")
	done
fi
# shellcheck disable=SC2054 # "EPYC,+svm,+npt" is one argument
cmd=(timeout -s KILL "$timeout" qemu-system-x86_64 -accel tcg -cpu EPYC,+svm,+npt
	-m "$mem" -smp "$smp_arg" "${numa_args[@]}" -kernel "$kernel" -initrd "$work/initrd"
	-append "console=ttyS0 loglevel=1 panic=-1 rdinit=/init $tsc_args$append"
	"${prealloc_args[@]}" -display none -serial stdio -monitor none -no-reboot -nodefaults)
if [ $verbose = 1 ]; then
	"${cmd[@]}" </dev/null 2>&1 | tee "$log"
	qrc=${PIPESTATUS[0]}
else
	"${cmd[@]}" </dev/null >"$log" 2>&1
	qrc=$?
fi
set -e
tr -d '\r' <"$log" >"$work/console"
secs=$(($(date +%s) - start))

: >"$work/expects"
for e in "${expects[@]}"; do
	printf '%s\t%s\n' "${e%%=*}" "${e#*=}" >>"$work/expects"
done
set +e
HARNESS_EXPECTS=$work/expects "$here/judge.sh" "$work/console" "$qrc" "$secs" "$strict_skip" "${names[@]}"
exit $?
