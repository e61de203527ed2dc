#!/usr/bin/env bash
# The tests that run inside a VM booted on our kernel, in one harness boot:
# kvm_smoke, the project's ABI tests (selftests/), the test VMM in
# sw-protected mode, the gating upstream 6.12 KVM selftests
# (selftests/upstream/gating) and the series' own KVM selftests
# (selftests/series/tests).
#
#   scripts/kernel-tests.sh [--in-place] [--memory|--faults|--modules] BZIMAGE
#
# --in-place boots with kvm.gmem_in_place_conversion=1 (guest_memfd converts
# memory itself) and adds the in-place tests; the other tests run as they
# are, to show that the parameter changes nothing they rely on.  With it,
# a skipped test fails.
# --memory runs only the tests about memory (for the KASAN + kmemleak kernel).
# --faults runs the allocation-failure sweep (a kernel with fail-nth: KASAN).
# --modules runs the module lifetime test (a kernel built with --variant
# modules, whose kvm-amd.ko the test unloads and loads).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO" || die "cannot enter $REPO"
mode=all
in_place=()
if [ "${1:-}" = --in-place ]; then
	in_place=(--append kvm.gmem_in_place_conversion=1 --strict-skip)
	shift
fi
case "${1:-}" in
--memory) mode=memory; shift ;;
--faults) mode=faults; shift ;;
--modules) mode=modules; shift ;;
esac
kernel=${1:?usage: scripts/kernel-tests.sh [--memory|--faults|--modules] BZIMAGE}

bazel build -c opt --noshow_progress --ui_event_filters=-info,-progress //harness:kvm_smoke //selftests:abi_tests //vmm:gmem-vmm-static >&2 || die "bazel build failed"
# reclaim_check_test makes guest_memfd forget reclaims on purpose: the
# debug check's WARN is its result (any other kernel report still fails it).
reclaim_expect=(--expect-report 'reclaim_check_test=WARNING: CPU: [0-9]+ PID: [0-9]+ at [^ ]+ gmem_report_owned_page\+')
# Two NUMA nodes, so that guest_memfd's NUMA policy is tested for real.
args=(--kernel "$kernel" --numa 2 --test-timeout 300 --timeout 2400 "${in_place[@]}" bazel-bin/harness/kvm_smoke)
for t in memslot2_test guest_memfd_test shared_gmem_test attributes_test private_mem_test \
	populate_test race_test soundness_test hwpoison_test no_direct_map_test; do
	args+=("bazel-bin/selftests/$t")
done
args+=(--bin bazel-bin/vmm/gmem-vmm-static --test 'vmm-sw-protected: /bin/gmem-vmm-static --mode sw-protected')
if [ ${#in_place[@]} -gt 0 ]; then
	args+=(bazel-bin/selftests/inplace_test bazel-bin/selftests/ownership_test)
	args+=(bazel-bin/selftests/reclaim_check_test "${reclaim_expect[@]}")
	args+=(--test 'vmm-sw-protected-attributes: /bin/gmem-vmm-static --mode sw-protected --conversion attributes')
	args+=(--test 'vmm-sw-protected-in-place: /bin/gmem-vmm-static --mode sw-protected --conversion in-place')
fi
args+=(--test 'vmm-default: /bin/gmem-vmm-static --mode default')
args+=(--bin bazel-bin/selftests/gmem_numa_test --test 'gmem_numa_test: GMT_REQUIRE_NUMA=1 /bin/gmem_numa_test')

if [ $mode = faults ]; then
	# Every guest_memfd, attribute and memslot operation with each of its
	# allocations failing in turn; KASAN and kmemleak judge the error paths.
	# With --in-place, also KVM_SET_MEMORY_ATTRIBUTES2's (which skip without).
	exec harness/run.sh --kernel "$kernel" --test-timeout 900 --timeout 1200 \
		--strict-skip "${in_place[@]}" bazel-bin/selftests/failinject_test
fi

if [ $mode = modules ]; then
	# guest_memfd memory pins the vendor module, and nothing else does;
	# after the test's unloads and reloads, guest_memfd works as before.
	ko=${kernel%/arch/x86/boot/bzImage}/arch/x86/kvm/kvm-amd.ko
	[ -r "$ko" ] || die "no $ko: build the kernel with --variant modules"
	exec harness/run.sh --kernel "$kernel" --test-timeout 300 --timeout 900 --strict-skip \
		--file "$ko:/lib/kvm-amd.ko" --bin bazel-bin/selftests/module_test \
		--test 'module_test: GMT_REQUIRE_MODULE=1 GMT_KVM_MODULE=/lib/kvm-amd.ko /bin/module_test' \
		--bin bazel-bin/selftests/shared_gmem_test \
		--test 'shared_gmem_test-after-reload: /bin/shared_gmem_test'
fi

if [ $mode = memory ]; then
	# The tests about memory, for a KASAN + kmemleak kernel: guest_memfd's
	# own ABI and lifetimes, the attributes' storage, private memory, the
	# races (including the regression tests of upstream's bug classes and
	# memory failure) and the VMM.
	args=(--kernel "$kernel" --numa 2 --test-timeout 900 --timeout 2400)
	if [ ${#in_place[@]} -gt 0 ]; then
		# With in-place conversion: its own tests and the VMM using it.
		exec harness/run.sh "${args[@]}" "${in_place[@]}" \
			bazel-bin/selftests/inplace_test bazel-bin/selftests/ownership_test \
			bazel-bin/selftests/reclaim_check_test "${reclaim_expect[@]}" \
			bazel-bin/selftests/no_direct_map_test \
			bazel-bin/selftests/shared_gmem_test \
			--bin bazel-bin/vmm/gmem-vmm-static \
			--test 'vmm-sw-protected-in-place: /bin/gmem-vmm-static --mode sw-protected --conversion in-place'
	fi
	for t in guest_memfd_test shared_gmem_test attributes_test private_mem_test populate_test \
		race_test soundness_test hwpoison_test no_direct_map_test; do
		args+=("bazel-bin/selftests/$t")
	done
	args+=(--bin bazel-bin/vmm/gmem-vmm-static --test 'vmm-sw-protected: /bin/gmem-vmm-static --mode sw-protected')
	args+=(--test 'vmm-default: /bin/gmem-vmm-static --mode default')
	args+=(--bin bazel-bin/selftests/gmem_numa_test --test 'gmem_numa_test: GMT_REQUIRE_NUMA=1 /bin/gmem_numa_test')
	# The series' lifetime test closes the VM fd before the guest_memfd:
	# what it leaks or touches after free only KASAN and kmemleak can see.
	"$REPO/scripts/series-selftests.sh" >&2 || die "building the series selftests failed"
	args+=(--file "$OUT/selftests-series/x86_64/guest_memfd_lifetime_test:/series/guest_memfd_lifetime_test")
	args+=(--test "series-guest_memfd_lifetime_test: /series/guest_memfd_lifetime_test")
	exec harness/run.sh "${args[@]}"
fi

gating=$REPO/selftests/upstream/gating
"$REPO/scripts/upstream-selftests.sh" >&2 || die "building upstream selftests failed"
while read -r name bin rest; do
	grep -qx "$name" "$gating" || continue
	args+=(--file "$OUT/selftests-6.12/$bin:/upstream/$(basename "$bin")")
	args+=(--test "upstream-$name: /upstream/$(basename "$bin") $rest")
done < <("$REPO/scripts/upstream-selftests.sh" --list)
"$REPO/scripts/series-selftests.sh" >&2 || die "building the series selftests failed"
while read -r name bin rest; do
	args+=(--file "$OUT/selftests-series/$bin:/series/$(basename "$bin")")
	args+=(--test "series-$name: /series/$(basename "$bin") $rest")
done < <("$REPO/scripts/series-selftests.sh" --list)
exec harness/run.sh "${args[@]}"
