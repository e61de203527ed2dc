#!/usr/bin/env bash
# Run every test of the project on this machine, installing and building
# whatever is missing first.  Stages:
#   unit       bazel test //... (C++ unit tests, VMM end-to-end on the host kernel)
#   queue      patchq check: the series applies with quilt, headers, checkpatch --strict
#   harness    the QEMU harness judges pass/fail/skip/WARN/hang correctly
#   kernel     kvm_smoke, the test VMM and upstream's 6.12 KVM selftests on our kernel
#   modules    the KVM vendor module as a module: guest_memfd pins it, and only that
#   kasan      the memory tests again on the KASAN + kmemleak kernel
#   faults     allocation-failure sweep of the ABI on the KASAN kernel
#   fuzz       60 s of gmem_fuzz (seeded, concurrent) on the KASAN kernel
# The last line is "N passed, N failed, N skipped" over all stages' tests.
#
#   scripts/test.sh [STAGE...]     (default: all)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(unit queue harness kernel modules kasan faults fuzz)
want() { [[ " ${stages[*]} " == *" $1 "* ]]; }

total_pass=0 total_fail=0 total_skip=0
logdir=$OUT/test-logs
mkdir -p "$logdir"
t0=$(date +%s)

# tally LOG: add a log's closing "N passed, N failed[, N skipped]" to the
# totals, and remember the stage's result and its failing tests for the recap
# printed at the end (CI shows only the tail of the output).
recap=()
tally() {
	local line p f s name
	name=$(basename "$1" .log)
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		total_fail=$((total_fail + 1))
		echo "   (no result line in $1: counted as one failure)"
		recap+=("$name: no result line (one failure); last lines:" "$(tail -n 5 "$1" | sed 's/^/    /')")
		return
	fi
	p=$(sed -E 's/.*\b([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.*\b([0-9]+) failed.*/\1/' <<<"$line")
	s=$(grep -oE '[0-9]+ skipped' <<<"$line" | cut -d' ' -f1)
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + ${s:-0}))
	recap+=("$(printf '%-8s %s' "$name" "${line#*: }")")
	[ "$f" = 0 ] || recap+=("$(grep -E '^//.* (FAILED|TIMEOUT|NO STATUS)|^FAIL |^[a-z-]+: FAILED' "$1" |
		head -n 20 | sed 's/^/    /')")
}

stage() { printf '\n=== %s (%ss) ===\n' "$1" "$(($(date +%s) - t0))"; }

"$REPO/scripts/setup.sh" || die "setup failed"

if want unit; then
	stage "unit: bazel test //..."
	log=$logdir/unit.log
	# Tests tagged requires-kvm run on the host's /dev/kvm.  A host without
	# one (e.g. a VM without nested virtualization) cannot run them: they
	# are counted as skipped, by name, and never as passed.
	filter=() s=0
	if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
		filter=(--test_tag_filters=-requires-kvm)
		skipped=$(bazel query 'attr(tags, "requires-kvm", tests(//...))' 2>/dev/null) ||
			die "bazel query for the requires-kvm tests failed"
		s=$(grep -c . <<<"$skipped")
		warn "no usable /dev/kvm on this host ($(uname -r)): skipping $s host-KVM test(s):" $skipped
	fi
	bazel test --test_output=errors "${filter[@]}" //... 2>&1 | tee "$log" | grep -E '^//|PASSED|FAILED|ERROR|Executed'
	rc=${PIPESTATUS[0]}
	p=$(grep -cE '^//.* PASSED' "$log") f=$(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS)' "$log")
	[ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
	# Manual host tests (tagged manual: on today's hosts every case skips,
	# which Bazel calls a failure): run here, a whole-test skip (exit 4,
	# selftests/run_on_host.sh) is reported by name as skipped.
	if [ -z "${filter[*]}" ]; then
		for t in $(bazel query 'attr(tags, "manual", attr(tags, "requires-kvm", tests(//...)))' 2>/dev/null); do
			tlog=bazel-testlogs/$(sed -E 's#^//##; s#:#/#' <<<"$t")/test.log
			if bazel test "$t" >"$logdir/unit-manual.log" 2>&1; then
				p=$((p + 1)); echo "$t PASSED (manual)" | tee -a "$log"
			elif grep -q 'every case skipped on this host kernel' "$tlog" 2>/dev/null; then
				s=$((s + 1)); warn "$t: every case skipped on this host kernel ($(uname -r))"
				echo "$t SKIPPED (every case: $(grep -m1 -A1 'Skipped$' "$tlog" | tail -n 1))" | tee -a "$log"
			else
				f=$((f + 1)); echo "$t FAILED (manual)" | tee -a "$log"
			fi
		done
	fi
	echo "unit: $p passed, $f failed, $s skipped" | tee -a "$log"
	tally "$log"
fi

if want queue || want harness || want kernel || want modules || want kasan || want faults || want fuzz; then
	stage "base tree and kernel"
	"$REPO/scripts/base-tree.sh" || die "base tree failed"
	bzimage=$("$REPO/scripts/kernel-build.sh" | tail -n 1) || die "kernel build failed"
	echo "kernel: $bzimage"
fi

if want queue; then
	stage "queue: patchq check"
	log=$logdir/queue.log
	"$REPO/scripts/patchq.sh" check --tree "$TREE" --repo "$REPO" 2>&1 | tee "$log"
	tally "$log"
	# The project's uapi header against the patched tree's and 6.12's.
	log=$logdir/uapi.log
	common/uapi/check.sh 2>&1 | tee "$log"
	tally "$log"
fi

if want harness || want kernel; then
	bazel build -c opt //harness:kvm_smoke //vmm:gmem-vmm-static >/dev/null 2>&1 ||
		bazel build -c opt //harness:kvm_smoke
fi

if want harness; then
	stage "harness: self-test"
	log=$logdir/harness.log
	harness/selftest.sh "$bzimage" bazel-bin/harness/kvm_smoke 2>&1 | tee "$log"
	tally "$log"
fi

if want kernel; then
	stage "kernel: tests on the patched kernel"
	log=$logdir/kernel.log
	"$REPO/scripts/kernel-tests.sh" "$bzimage" 2>&1 | tee "$log"
	tally "$log"
fi

if want modules; then
	stage "modules: the KVM module's lifetime with guest_memfd"
	log=$logdir/modules.log
	modkernel=$("$REPO/scripts/kernel-build.sh" --variant modules | tail -n 1) ||
		die "modules kernel build failed"
	bazel build -c opt --noshow_progress //selftests:module_test //selftests:shared_gmem_test \
		>/dev/null 2>&1 || die "building module_test failed"
	"$REPO/scripts/kernel-tests.sh" --modules "$modkernel" 2>&1 | tee "$log"
	tally "$log"
fi

if want kasan || want faults || want fuzz; then
	kasan=$("$REPO/scripts/kernel-build.sh" --variant kasan | tail -n 1) || die "KASAN kernel build failed"
fi

if want kasan; then
	stage "kasan: memory tests on the KASAN + kmemleak kernel"
	log=$logdir/kasan.log
	"$REPO/scripts/kernel-tests.sh" --memory "$kasan" 2>&1 | tee "$log"
	tally "$log"
fi

if want faults; then
	stage "faults: allocation-failure sweep on the KASAN kernel"
	log=$logdir/faults.log
	bazel build -c opt --noshow_progress //selftests:failinject_test >/dev/null 2>&1 ||
		die "building failinject_test failed"
	"$REPO/scripts/kernel-tests.sh" --faults "$kasan" 2>&1 | tee "$log"
	tally "$log"
fi

if want fuzz; then
	stage "fuzz: 60 s of gmem_fuzz on the KASAN kernel"
	log=$logdir/fuzz.log
	"$REPO/scripts/fuzz.sh" --kernel "$kasan" --seconds 60 2>&1 | tee "$log"
	tally "$log"
fi

stage "done"
printf '%s\n' "${recap[@]}"
echo "logs: $logdir"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]
