#!/usr/bin/env bash
# Test the harness itself on a built kernel: a passing, a failing, a skipped,
# a WARNing and a hanging test must each be judged as such, and a guest that
# never finishes must be killed and reported, not hang.  Prints KTAP (one
# result per check, the harness's own output as "# " lines) and
# "harness-selftest: N passed, N failed" last.
#
#   harness/selftest.sh BZIMAGE KVM_SMOKE_BINARY
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../scripts/lib.sh
. "$here/../scripts/lib.sh"
kernel=${1:?usage: harness/selftest.sh BZIMAGE KVM_SMOKE_BINARY} smoke=${2:?usage: harness/selftest.sh BZIMAGE KVM_SMOKE_BINARY}

# The harness's verdicts are KTAP; each check reads them through TAP::Parser
# (ktap_count) or looks for one result line.
expect() { # expect OUTPUT REGEX WHAT
	if grep -qE "$2" <<<"$1"; then ktap_ok "$3"; else ktap_not_ok "$3" "no line matching /$2/"; fi
}
expect_rc() { # expect_rc RC WHAT: the harness exited non-zero
	if [ "$1" -ne 0 ]; then ktap_ok "$2"; else ktap_not_ok "$2" "exit code 0"; fi
}
expect_counts() { # expect_counts OUTPUT "P F S" WHAT: TAP::Parser counts the verdicts so
	local got
	got=$(ktap_count <(ktap_last <(printf '%s\n' "$1")) | head -n 1)
	if [ "$got" = "$2" ]; then ktap_ok "$3"; else ktap_not_ok "$3" "TAP::Parser counted '$got', wanted '$2'"; fi
}
show() { # show OUTPUT: the harness's own output, as diagnostics
	local l
	while IFS= read -r l; do ktap_diag "  $l"; done <<<"$1"
}

out=$("$here/run.sh" --kernel "$kernel" --timeout 300 --test-timeout 5 "$smoke" \
	--test 'fails: false' --test 'skips: exit 4' \
	--test 'warns: echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' \
	--test 'sleeps: sleep 60' --test 'passes: true' \
	--test 'provokes: echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' \
	--expect-report 'provokes=WARNING: CPU: .* lkdtm' \
	--test 'provokes-nothing: true' --expect-report 'provokes-nothing=WARNING: CPU: .* lkdtm' \
	--test 'provokes-other: echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' \
	--expect-report 'provokes-other=WARNING: CPU: .* gmem_' 2>&1)
rc=$?
show "$out"
expect "$out" '^ok [0-9]+ kvm_smoke( |$)' "KVM runs guest code in the guest"
expect "$out" '^not ok [0-9]+ fails # rc=1' "a failing test fails"
expect "$out" '^ok [0-9]+ skips # SKIP ' "exit 4 is a skip"
expect "$out" '^not ok [0-9]+ warns # .*kernel report' "a kernel WARN fails the test"
expect "$out" 'WARNING: CPU: .* lkdtm' "the WARN is shown"
expect "$out" '^not ok [0-9]+ sleeps # killed after the per-test timeout' "a stuck test is killed"
expect "$out" '^ok [0-9]+ passes( |$)' "a later test still runs"
expect "$out" '^ok [0-9]+ provokes( |$)' "an expected kernel report passes the test that provoked it"
expect "$out" '^ok [0-9]+ provokes-nothing( |$)' "an expected report that never came is the test's to judge"
expect "$out" 'provokes-nothing: the expected kernel report is not in the console capture' "... and is noted"
expect "$out" '^not ok [0-9]+ provokes-other # .*kernel report' "a report other than the expected one still fails the test"
expect "$out" '^4 passed, 4 failed, 1 skipped$' "the summary line counts them"
expect_counts "$out" "4 4 1" "a TAP consumer counts them alike (a skip is no pass)"
expect_rc $rc "a failure gives a non-zero exit code"

out=$("$here/run.sh" --kernel "$kernel" --timeout 8 --test 'hangs: sleep 600' 2>&1)
rc=$?
show "$out"
expect "$out" '^not ok [0-9]+ hangs # never finished' "a hung guest is killed and its test failed"
expect "$out" '^not ok [0-9]+ \(guest\) # guest killed after the run timeout' "the run timeout is reported"
expect_rc $rc "a hung guest gives a non-zero exit code"

out=$("$here/run.sh" --kernel "$kernel" --strict-skip --test 'skips: exit 4' 2>&1)
show "$out"
expect "$out" '^not ok [0-9]+ skips # skipped, and --strict-skip' "--strict-skip fails a skip"

ktap_print
echo "harness-selftest: $ktap_pass passed, $ktap_fail failed"
[ "$ktap_fail" = 0 ]
