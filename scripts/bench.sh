#!/usr/bin/env bash
# Side-by-side benchmark of our 6.1 series against upstream Debian 6.12.
# Builds both kernels with the same config fragments (--variant perf: no
# lock debugging), boots each in the same QEMU (TCG, nested SVM, same
# memory and CPUs) and runs the same static bench/gmem_bench in it,
# alternating ours, upstream, ours, upstream, ... for N rounds (one round =
# one fresh boot of each running `gmem_bench --rounds 1`).  Guest RAM is
# allocated on the host before each boot (harness/run.sh --prealloc): QEMU's
# guest RAM is host memory faulted in on first touch (a transparent hugepage
# at a time here, milliseconds each in this nested setup), and a kernel that
# hands out memory its boot never touched would otherwise be charged for the
# host's page faults rather than for its own work (6.1 does, 6.12 less so:
# this was the whole of fallocate()'s 0.2x-0.35x "gap").
#
#   scripts/bench.sh [--quick] [--rounds N] [--mem SIZE] [--smp N] [--numa N]
#                    [--variant V] [--ours-kernel BZIMAGE] [--upstream-kernel BZIMAGE]
#
#   --quick              gmem_bench --quick (small sizes) and 1 round unless --rounds
#   --rounds N           rounds (default 5)
#   --mem, --smp, --numa the guest, as harness/run.sh takes them (default 6G, 2, 1: room for the VMM's 4 GiB guest)
#   --variant V          build both kernels as kernel-build.sh --variant V (default
#                        perf; CI's smoke run uses debug, whose ours it has built)
#   --ours-kernel, --upstream-kernel
#                        use this bzImage instead of building that kernel
#
# Writes under out/bench/: results.csv (kernel,round,metric,unit,value),
# results.md (per metric: median and min-max per kernel, ratio ours/upstream,
# which way is better), one PNG per metric group (gnuplot), and logs/ (each
# boot's console and verdict).  Upstream's tree is out/up612/linux-source-6.12
# (extracted from /usr/src/linux-source-6.12.tar.xz), built in out/build/up612.
# Last, a KTAP verdict per metric: ok if both kernels measured it in every
# round or reported it n/a (the kernel lacks the ABI), not ok otherwise.
# Exit 0 if every boot ran and every metric was measured or is n/a, else 1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

quick=0 rounds='' mem=6G smp=2 numa=1 ours_kernel='' up_kernel='' variant=perf
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--rounds) rounds=${2:?--rounds N}; shift ;;
	--mem) mem=${2:?--mem SIZE}; shift ;;
	--smp) smp=${2:?--smp N}; shift ;;
	--numa) numa=${2:?--numa N}; shift ;;
	--variant) variant=${2:?--variant V}; shift ;;
	--ours-kernel) ours_kernel=${2:?--ours-kernel BZIMAGE}; shift ;;
	--upstream-kernel) up_kernel=${2:?--upstream-kernel BZIMAGE}; shift ;;
	-h | --help) sed -n '2,29p' "$0"; exit 0 ;;
	*) die "unknown option $1 (see --help)" ;;
	esac
	shift
done
[ -n "$rounds" ] || rounds=$([ $quick = 1 ] && echo 1 || echo 5)
[[ $rounds =~ ^[0-9]+$ && $rounds -gt 0 ]] || die "--rounds wants a positive number"
[[ $smp =~ ^[0-9]+$ && $smp -gt 0 ]] || die "--smp wants a positive number"
[[ $numa =~ ^[0-9]+$ && $numa -gt 0 ]] || die "--numa wants a positive number"

t0=$(date +%s)
"$REPO/scripts/setup.sh"
need_pkgs gnuplot-nox

# 1. The benchmark and its bookkeeping, copied out of bazel-bin (which the
#    next bazel command anywhere in this workspace may repoint).
say "building gmem_bench and bench_report"
bazel build -c opt --noshow_progress --ui_event_filters=-info,-progress \
	//bench:gmem_bench //bench:bench_report //vmm:gmem-vmm-static >&2 || die "bazel build failed"
out=$OUT/bench
rm -rf "$out"
mkdir -p "$out/logs" "$out/bin"
cp bazel-bin/bench/gmem_bench bazel-bin/bench/bench_report bazel-bin/vmm/gmem-vmm-static "$out/bin/"
bench_bin=$out/bin/gmem_bench report=$out/bin/bench_report vmm_bin=$out/bin/gmem-vmm-static

# 2. Our kernel: the series on Debian's 6.1, perf variant.
if [ -z "$ours_kernel" ]; then
	"$REPO/scripts/base-tree.sh"
	say "building our kernel ($variant variant)"
	ours_kernel=$("$REPO/scripts/kernel-build.sh" --variant "$variant" | tail -n 1)
fi

# 3. Upstream: Debian's linux-source-6.12, with the same fragments.  The
#    tarball's tree is no git repository; kernel-build.sh needs none (it
#    builds out of tree, and setlocalversion adds nothing outside a git
#    work tree's top).  What a plain tree does not give is a way to notice
#    a newer tarball: re-extracted files keep the tarball's (older) times,
#    so make would keep a previous build's objects.  A new extraction
#    therefore starts its build directory afresh.
if [ -z "$up_kernel" ]; then
	tarball=/usr/src/linux-source-6.12.tar.xz
	updir=$OUT/up612
	uptree=$updir/linux-source-6.12
	upbuild=$OUT/build/up612
	[ "$variant" = perf ] || upbuild+=-$variant
	[ -r "$tarball" ] || die "$tarball missing (package linux-source-6.12)"
	stamp="$(stat -c '%s %Y' "$tarball") $(dpkg-query -W -f='${Version}' linux-source-6.12)"
	if [ "$(cat "$updir/.extracted" 2>/dev/null)" != "$stamp" ] || [ ! -f "$uptree/Makefile" ]; then
		say "extracting $tarball into $updir (a fresh build in $upbuild)"
		rm -rf "$updir" "$upbuild" "$OUT"/build/up612-*
		mkdir -p "$updir"
		tar -xJf "$tarball" -C "$updir" || die "extracting $tarball failed"
		[ -f "$uptree/Makefile" ] || die "$tarball has no linux-source-6.12/ at its top"
		echo "$stamp" >"$updir/.extracted"
	else
		say "upstream tree: $uptree (extracted before)"
	fi
	say "building upstream 6.12 ($variant variant, the same config fragments)"
	up_kernel=$("$REPO/scripts/kernel-build.sh" --tree "$uptree" --out "$upbuild" --variant "$variant" | tail -n 1)
fi
[ -r "$ours_kernel" ] || die "no kernel $ours_kernel"
[ -r "$up_kernel" ] || die "no kernel $up_kernel"

# 4. The rounds: ours, upstream, ours, upstream, ...
bench_cmd="/bin/gmem_bench --rounds 1"
# The test VMM's time to its guest's first instruction, private guest_memfd
# (SW-protected VM) against anonymous memory (default VM); the guest fills
# only 4 MiB, as TCG emulates every guest instruction.
vmm_cmd="/bin/gmem-vmm-static --mode sw-protected --bench-metrics --bench-reps 3 --bench-fill 4M -q"
test_timeout=2400 timeout=3000
if [ $quick = 1 ]; then
	bench_cmd+=" --quick"
	vmm_cmd+=" --bench-sizes 64M,256M"
	test_timeout=600 timeout=900
else
	vmm_cmd+=" --bench-sizes 1G,4G"
fi
declare -A kernel=([ours]=$ours_kernel [upstream]=$up_kernel)
declare -A title=([ours]="ours 6.1" [upstream]="upstream 6.12")
# Ours with in-place conversion on: it changes nothing the other metrics
# measure (they use no mappable guest_memfd on a VM with private memory)
# and gives the in-place ones a value; upstream 6.12 reports them n/a.
declare -A append=([ours]="kvm.gmem_in_place_conversion=1" [upstream]="")
declare -A release=()
csv=$out/results.csv
echo "kernel,round,metric,unit,value" >"$csv"
failed=0
for ((r = 1; r <= rounds; r++)); do
	for k in ours upstream; do
		say "round $r/$rounds: ${title[$k]} ($(($(date +%s) - t0))s)"
		log=$out/logs/$k-$r.console
		verdict=$out/logs/$k-$r.verdict
		if ! harness/run.sh --kernel "${kernel[$k]}" --mem "$mem" --smp "$smp" --numa "$numa" --prealloc \
			${append[$k]:+--append "${append[$k]}"} \
			--test-timeout "$test_timeout" --timeout "$timeout" --log "$log" \
			--bin "$bench_bin" --test "gmem_bench: $bench_cmd" \
			--bin "$vmm_bin" --test "gmem-vmm --bench: $vmm_cmd" >"$verdict" 2>&1; then
			warn "round $r, ${title[$k]}: the harness reported a failure (see $verdict):"
			sed 's/^/    /' "$verdict" >&2
			failed=1
		fi
		tail -n 1 "$verdict" | sed 's/^/    /' >&2
		# The harness's verdict is KTAP: a skipped gmem_bench is "ok 1 ... # SKIP".
		if [ "$(ktap_count <(ktap_last "$verdict") | head -n 1 | cut -d' ' -f3)" != 0 ]; then
			warn "round $r, ${title[$k]}: gmem_bench skipped (no /dev/kvm in the guest?)"
			failed=1
		fi
		if [ -z "${release[$k]:-}" ]; then
			release[$k]=$(tr -d '\r' <"$log" | sed -n 's/^@@BOOTED \([^ ]*\).*/\1/p' | head -n 1)
		fi
		if ! "$report" csv "$k" "$r" <"$log" >>"$csv"; then
			warn "round $r, ${title[$k]}: no METRIC lines (console: $log)"
			failed=1
		fi
		if grep -q "^METRIC [^ ]* [^ ]* error" <(tr -d '\r' <"$log"); then
			warn "round $r, ${title[$k]}: a measurement failed:"
			tr -d '\r' <"$log" | grep "^METRIC [^ ]* [^ ]* error" | sed 's/^/    /' >&2
			failed=1
		fi
	done
done

# 5. The table and the plots.
say "writing $out/results.md and the plots"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
quick_note=''
[ $quick = 1 ] && quick_note=' --quick (small sizes: a smoke run, not a measurement)'
preamble="$rounds round(s), interleaved ours, upstream, ours, ...; each a fresh boot running"
preamble+=" \`gmem_bench --rounds 1\`$quick_note.  QEMU TCG with nested SVM (harness/run.sh),"
preamble+=" -m $mem (preallocated on the host), -smp $smp, $numa NUMA node(s), on $(uname -r) ($cpu), $(date -u +%Y-%m-%d)."
preamble+="  Both kernels: kernel/config/gmem61.config + the $variant variant's fragment (+ series.config) on tinyconfig;"
preamble+=" ours is the series on Debian's linux-source-6.1, upstream Debian's linux-source-6.12."
preamble+="  n/a: the kernel lacks that ABI (the reason follows)."
"$report" report --csv "$csv" --out "$out" --ours ours --upstream upstream \
	--ours-label "ours ${release[ours]:-6.1}" --upstream-label "upstream ${release[upstream]:-6.12}" \
	--preamble "$preamble" >"$out/plots.list" || die "bench_report failed"
while read -r gp; do
	gnuplot "$gp" || { warn "gnuplot $gp failed"; failed=1; }
done <"$out/plots.list"

cat "$out/results.md"
say "results: $out/results.md, $out/results.csv, plots: $(sed 's/\.gp$/.png/' "$out/plots.list" | tr '\n' ' ')"
say "took $(($(date +%s) - t0))s"

# 6. A verdict per metric: every round of both kernels has a value or n/a.
ktap_reset
while IFS= read -r metric; do
	bad=''
	for k in ours upstream; do
		for ((r = 1; r <= rounds; r++)); do
			v=$(awk -F, -v k="$k" -v r="$r" -v m="$metric" \
				'$1 == k && $2 == r && $3 == m { print $5; exit }' "$csv")
			case "${v#\"}" in
			'') bad+="${title[$k]} round $r: missing; " ;;
			error*) bad+="${title[$k]} round $r: $v; " ;;
			esac
		done
	done
	if [ -z "$bad" ]; then ktap_ok "bench $metric"; else ktap_not_ok "bench $metric" "${bad%; }"; fi
done < <(tail -n +2 "$csv" | cut -d, -f3 | sort -u)
[ "$_ktap_n" -gt 0 ] || ktap_not_ok "bench" "no metric at all"
ktap_print
echo "bench: $ktap_pass passed, $ktap_fail failed, $ktap_skipped skipped"
[ "$ktap_fail" = 0 ] || failed=1
exit $failed
