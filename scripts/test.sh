#!/usr/bin/env bash
# Run every test of the project on this machine, installing and building
# whatever is missing first.  Stages:
#   unit       shellcheck -x of the scripts; bazel test //... (C++ unit tests, VMM
#              end-to-end and ABI tests on the host kernel)
#   queue      patchq check: the series applies with quilt, headers, checkpatch --strict;
#              the series mailed (patchq mbox), through b4 am and back byte for byte
#   harness    the QEMU harness judges pass/fail/skip/WARN/hang correctly
#   kernel     kvm_smoke, the test VMM and upstream's 6.12 KVM selftests on our kernel
#   inplace    the same with kvm.gmem_in_place_conversion=1, plus the in-place
#              tests (selftests/inplace_test, the VMM's in-place backend)
#   modules    the KVM vendor module as a module: guest_memfd pins it, and only that
#   kasan      the memory tests again on the KASAN + kmemleak kernel, and the
#              in-place tests there
#   faults     allocation-failure sweep of the ABI on the KASAN kernel
#   fuzz       60 s of gmem_fuzz (seeded, concurrent) on the KASAN kernel
#   bench      scripts/bench.sh --quick on ours and upstream 6.12 (debug configs):
#              the benchmark runs and emits every metric; timings are not judged
#
#   scripts/test.sh [STAGE...]     (default: all, in this order)
#   scripts/test.sh --help
#
# Each stage prints its results as KTAP (TAP version 13: "ok N NAME",
# "not ok N NAME # why", "ok N NAME # SKIP why"), kept in
# out/test-logs/STAGE.ktap; all of them, one subtest per stage, are in
# out/test-logs/results.ktap.  They are counted with TAP::Parser (prove's
# parser): a skip is never a pass, a failure is a failure.  The end is a
# recap per stage and, last, "N passed, N failed, N skipped" over all
# stages' tests.  Exit 0 only if nothing failed.
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO" || die "cannot enter $REPO"

all_stages=(unit queue harness kernel inplace modules kasan faults fuzz bench)
stages=()
for a in "$@"; do
	case "$a" in
	-h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
	-*) die "unknown option '$a' (scripts/test.sh --help)" ;;
	*)
		[[ " ${all_stages[*]} " == *" $a "* ]] ||
			die "unknown stage '$a'; the stages are: ${all_stages[*]}"
		stages+=("$a")
		;;
	esac
done
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
want() { [[ " ${stages[*]} " == *" $1 "* ]]; }

total_pass=0 total_fail=0 total_skip=0
logdir=$OUT/test-logs
mkdir -p "$logdir"
t0=$(date +%s)

# tally LOG: count the stage's KTAP (the last KTAP document in its log) with
# TAP::Parser, add it to the totals, and remember the stage's result and its
# failing tests for the recap printed at the end (CI shows only the tail of
# the output).  A log without KTAP (the stage died) is one failure.
recap=() ktap_stages=()
tally() {
	local name ktap counts p f s
	name=$(basename "$1" .log)
	ktap=$logdir/$name.ktap
	ktap_last "$1" >"$ktap"
	if ! [ -s "$ktap" ]; then
		total_fail=$((total_fail + 1))
		echo "   (no KTAP in $1: counted as one failure)"
		recap+=("$name: no KTAP (one failure); last lines:" "$(tail -n 5 "$1" | sed 's/^/    /')")
		printf 'TAP version 13\n1..1\nnot ok 1 %s # no KTAP in %s\n' "$name" "$1" >"$ktap"
		ktap_stages+=("$name")
		return
	fi
	counts=$(ktap_count "$ktap")
	read -r p f s <<<"$counts"
	total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + s))
	recap+=("$(printf '%-8s %s' "$name" "$p passed, $f failed, $s skipped")")
	[ "$f" = 0 ] || recap+=("$(tail -n +2 <<<"$counts" | head -n 20 | sed 's/^/    /')")
	ktap_stages+=("$name")
}

# results_ktap: every stage's KTAP as one document, a subtest per stage.
results_ktap() {
	local i=0 name f
	printf 'TAP version 13\n1..%d\n' "${#ktap_stages[@]}"
	for name in "${ktap_stages[@]}"; do
		i=$((i + 1))
		printf '    # Subtest: %s\n' "$name"
		sed 's/^/    /' "$logdir/$name.ktap"
		f=$(ktap_count "$logdir/$name.ktap" | head -n 1 | cut -d' ' -f2)
		if [ "$f" = 0 ]; then echo "ok $i $name"; else echo "not ok $i $name # $f failed"; fi
	done
}

# opt_build WHAT TARGET...: bazel build -c opt, its output in the logs; a
# failed build stops the run.
opt_build() {
	local what=$1
	shift
	bazel build -c opt --noshow_progress "$@" >"$logdir/build-$what.log" 2>&1 || {
		tail -n 30 "$logdir/build-$what.log"
		die "building $what failed (log: $logdir/build-$what.log)"
	}
}

stage() { printf '\n=== %s (%ss) ===\n' "$1" "$(($(date +%s) - t0))"; }

"$REPO/scripts/setup.sh" || die "setup failed"

if want unit; then
	stage "unit: shellcheck, bazel test //..."
	log=$logdir/unit.log
	: >"$log"
	ktap_reset
	# Every shell script, shellcheck -x clean (.shellcheckrc).
	mapfile -t scripts < <(shell_scripts | sed "s#^#$REPO/#")
	if sc=$(shellcheck -x "${scripts[@]}" 2>&1); then
		ktap_ok shellcheck "${#scripts[@]} scripts"
	else
		ktap_not_ok shellcheck "$(grep -c '^In ' <<<"$sc") finding(s) in ${#scripts[@]} scripts"
		ktap_diag "$sc"
	fi
	# Tests tagged requires-kvm run on the host's /dev/kvm.  A host without
	# one (e.g. a VM without nested virtualization) cannot run them: they
	# are counted as skipped, by name, and never as passed.
	filter=()
	if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
		filter=(--test_tag_filters=-requires-kvm)
		skipped=$(bazel query 'attr(tags, "requires-kvm", tests(//...))' 2>/dev/null) ||
			die "bazel query for the requires-kvm tests failed"
		warn "no usable /dev/kvm on this host ($(uname -r)): skipping $(grep -c . <<<"$skipped") host-KVM test(s):" \
			"$(tr '\n' ' ' <<<"$skipped")"
		for t in $skipped; do ktap_skip "$t" "no usable /dev/kvm on this host ($(uname -r))"; done
	fi
	# Bazel's verdict per test target, from its build event protocol file.
	bep=$logdir/unit.bep.json
	rm -f "$bep"
	bazel test --test_output=errors --build_event_json_file="$bep" "${filter[@]}" //... 2>&1 |
		tee -a "$log" | grep -E '^//|PASSED|FAILED|ERROR|Executed'
	rc=${PIPESTATUS[0]}
	f0=$ktap_fail
	if [ -f "$bep" ]; then
		while read -r status t; do
			case "$status" in
			PASSED | FLAKY) ktap_ok "$t" ;;
			*) ktap_not_ok "$t" "$status" ;;
			esac
		done < <(bazel_results "$bep")
	fi
	[ "$rc" = 0 ] || [ "$ktap_fail" -gt "$f0" ] || ktap_not_ok "bazel test //..." "exit $rc"
	# Manual host tests (tagged manual: on today's hosts every case skips,
	# which Bazel calls a failure): run here, a whole-test skip (exit 4,
	# selftests/run_on_host.sh) is reported by name as skipped.
	if [ ${#filter[@]} -eq 0 ]; then
		for t in $(bazel query 'attr(tags, "manual", attr(tags, "requires-kvm", tests(//...)))' 2>/dev/null); do
			tlog=bazel-testlogs/$(sed -E 's#^//##; s#:#/#' <<<"$t")/test.log
			if bazel test "$t" >"$logdir/unit-manual.log" 2>&1; then
				ktap_ok "$t" "manual"
			elif grep -q 'every case skipped on this host kernel' "$tlog" 2>/dev/null; then
				warn "$t: every case skipped on this host kernel ($(uname -r))"
				ktap_skip "$t" "every case: $(grep -m1 -A1 'Skipped$' "$tlog" | tail -n 1)"
			else
				ktap_not_ok "$t" "manual, log: $tlog"
			fi
		done
	fi
	ktap_print | tee -a "$log"
	echo "unit: $ktap_pass passed, $ktap_fail failed, $ktap_skipped skipped" | tee -a "$log"
	tally "$log"
fi

if want queue || want harness || want kernel || want inplace || want modules || want kasan || want faults || want fuzz || want bench; then
	stage "base tree and kernel"
	"$REPO/scripts/base-tree.sh" || die "base tree failed"
	bzimage=$("$REPO/scripts/kernel-build.sh" | tail -n 1) || die "kernel build failed"
	echo "kernel: $bzimage"
fi

# queue_ktap LOG RC: patchq check's verdicts ("PASS PATCH", "FAIL PATCH:
# why", details indented) as KTAP; without its closing "N passed, N failed"
# line (patchq stopped early), one more failure.
queue_ktap() {
	local l done=0
	ktap_reset
	while IFS= read -r l; do
		case "$l" in
		"PASS "*) ktap_ok "${l#PASS }" ;;
		"FAIL "*) l=${l#FAIL }; ktap_not_ok "${l%%: *}" "${l#*: }" ;;
		"    "*) ktap_diag "$l" ;;
		*" passed, "*" failed") done=1 ;;
		esac
	done <"$1"
	if [ "$done" = 0 ] || { [ "$2" != 0 ] && [ "$ktap_fail" = 0 ]; }; then
		ktap_not_ok "patchq check" "exit $2, no verdict for every patch"
	fi
	ktap_print
}

# queue_roundtrip: the series as posted (patchq mbox, from the repository's
# own git identity or else a CI one: the global config is not read, so the
# check is the same for everyone), through b4 am, back into a scratch clone
# of the tree with patchq import --mbox, and exported: patches/ and series
# must come back byte for byte.  KTAP on stdout.
queue_roundtrip() {
	local tmp gc who n got
	tmp=$(mktemp -d)
	gc=$tmp/gitconfig
	printf '[user]\n\tname = Queue Roundtrip\n\temail = queue-roundtrip@example.org\n' >"$gc"
	who="$(GIT_CONFIG_GLOBAL=$gc git -C "$REPO" config user.name) <$(GIT_CONFIG_GLOBAL=$gc git -C "$REPO" config user.email)>"
	n=$(grep -c '^[^#]' "$REPO/series")
	ktap_reset
	if GIT_CONFIG_GLOBAL=$gc "$REPO/scripts/patchq.sh" mbox --tree "$TREE" --repo "$REPO" -v 2 --recipients auto \
		-o "$tmp/series.mbx" >"$tmp/mbox.log" 2>&1; then
		ktap_ok "patchq mbox from $who"
	else
		ktap_not_ok "patchq mbox" "$(tail -n 1 "$tmp/mbox.log")"
	fi
	mkdir -p "$tmp/b4/am" "$tmp/queue/patches"
	git -C "$tmp/b4" init -q && git -C "$tmp/b4" config user.name b4 && git -C "$tmp/b4" config user.email b4@example.org
	(cd "$tmp/b4" && XDG_DATA_HOME=$tmp/xdg XDG_CACHE_HOME=$tmp/xdg b4 --offline-mode --no-stdin am \
		-m "$tmp/series.mbx" -o "$tmp/b4/am") >"$tmp/b4.log" 2>&1 || true
	got=$(grep -h -c '^Subject: \[PATCH v2 ' "$tmp"/b4/am/*.mbx 2>/dev/null || echo 0)
	if [ "$got" = "$n" ] && ! grep -q ERROR "$tmp/b4.log"; then
		ktap_ok "b4 am takes all $n patches"
	else
		ktap_not_ok "b4 am takes all $n patches" "$got written; $(grep -m1 -e ERROR -e Error "$tmp/b4.log")"
	fi
	cp "$REPO/IDENTITY" "$tmp/queue/"
	grep '^#' "$REPO/series" >"$tmp/queue/series" || true
	if git clone -q --shared --no-checkout "$TREE" "$tmp/linux" &&
		"$REPO/scripts/patchq.sh" import --tree "$tmp/linux" --repo "$tmp/queue" --force \
			--mbox "$(ls "$tmp"/b4/am/*.mbx)" --sender "$who" >"$tmp/back.log" 2>&1 &&
		"$REPO/scripts/patchq.sh" export --tree "$tmp/linux" --repo "$tmp/queue" >>"$tmp/back.log" 2>&1 &&
		cmp -s "$REPO/series" "$tmp/queue/series" &&
		(cd "$REPO/patches" && ls [0-9][0-9][0-9][0-9]-*.patch) >"$tmp/want.ls" &&
		(cd "$tmp/queue/patches" && ls) >"$tmp/got.ls" && cmp -s "$tmp/want.ls" "$tmp/got.ls" &&
		(while read -r f; do cmp -s "$REPO/patches/$f" "$tmp/queue/patches/$f" || exit 1; done <"$tmp/want.ls"); then
		ktap_ok "b4 am, import --mbox, export: series and patches/ byte-identical"
	else
		ktap_not_ok "b4 am, import --mbox, export: series and patches/ byte-identical" "see $tmp"
		ktap_diag "$(tail -n 5 "$tmp/back.log")"
		ktap_print
		return
	fi
	ktap_print
	rm -rf "$tmp"
}

if want queue; then
	stage "queue: patchq check"
	log=$logdir/queue.log
	"$REPO/scripts/patchq.sh" check --strict-changelog --tree "$TREE" --repo "$REPO" 2>&1 | tee "$log"
	queue_ktap "$log" "${PIPESTATUS[0]}" | tee -a "$log"
	tally "$log"
	# The series as mailed, through b4 am and back (the fixture's round trip
	# is a unit test; this is the real series).
	log=$logdir/queue-mail.log
	queue_roundtrip 2>&1 | tee "$log"
	tally "$log"
	# The project's uapi header against the patched tree's and 6.12's.
	log=$logdir/uapi.log
	common/uapi/check.sh 2>&1 | tee "$log"
	tally "$log"
fi

if want harness || want kernel; then
	opt_build kvm_smoke //harness:kvm_smoke //vmm:gmem-vmm-static
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

if want inplace; then
	stage "inplace: kvm.gmem_in_place_conversion=1, on the debug kernel"
	log=$logdir/inplace.log
	"$REPO/scripts/kernel-tests.sh" --in-place "$bzimage" 2>&1 | tee "$log"
	tally "$log"
fi

if want modules; then
	stage "modules: the KVM module's lifetime with guest_memfd"
	log=$logdir/modules.log
	modkernel=$("$REPO/scripts/kernel-build.sh" --variant modules | tail -n 1) ||
		die "modules kernel build failed"
	opt_build module_test //selftests:module_test //selftests:shared_gmem_test
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

if want kasan; then
	stage "kasan-inplace: in-place conversion on the KASAN + kmemleak kernel"
	log=$logdir/kasan-inplace.log
	"$REPO/scripts/kernel-tests.sh" --in-place --memory "$kasan" 2>&1 | tee "$log"
	tally "$log"
fi

if want faults; then
	stage "faults: allocation-failure sweep on the KASAN kernel"
	log=$logdir/faults.log
	opt_build failinject_test //selftests:failinject_test
	# With in-place conversion on, so that KVM_SET_MEMORY_ATTRIBUTES2 is
	# swept too; nothing else depends on the parameter.
	"$REPO/scripts/kernel-tests.sh" --in-place --faults "$kasan" 2>&1 | tee "$log"
	tally "$log"
fi

if want fuzz; then
	stage "fuzz: 60 s of gmem_fuzz on the KASAN kernel"
	log=$logdir/fuzz.log
	"$REPO/scripts/fuzz.sh" --kernel "$kasan" --seconds 60 \
		--append kvm.gmem_in_place_conversion=1 2>&1 | tee "$log"
	tally "$log"
fi

if want bench; then
	stage "bench: scripts/bench.sh --quick, ours against upstream 6.12"
	log=$logdir/bench.log
	"$REPO/scripts/bench.sh" --quick --variant debug --ours-kernel "$bzimage" 2>&1 | tee "$log"
	tally "$log"
fi

stage "done"
results_ktap >"$logdir/results.ktap"
printf '%s\n' "${recap[@]}"
echo "logs: $logdir (KTAP: $logdir/results.ktap)"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" = 0 ]
