#!/usr/bin/env bash
# Test the harness itself on a built kernel: a passing, a failing, a skipped,
# a WARNing and a hanging test must each be judged as such, and a guest that
# never finishes must be killed and reported, not hang.
#
#   harness/selftest.sh BZIMAGE KVM_SMOKE_BINARY
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel=$1 smoke=$2
ok=0 bad=0
expect() { # expect OUTPUT REGEX WHAT
	if grep -qE "$2" <<<"$1"; then ok=$((ok + 1)); else
		echo "harness-selftest: FAILED: $3 (no line matching /$2/)"; bad=$((bad + 1)); fi
}

out=$("$here/run.sh" --kernel "$kernel" --timeout 300 --test-timeout 5 "$smoke" \
	--test 'fails: false' --test 'skips: exit 4' \
	--test 'warns: echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT' \
	--test 'sleeps: sleep 60' --test 'passes: true' 2>&1)
rc=$?
echo "$out" | sed 's/^/  /'
expect "$out" '^PASS  kvm_smoke ' "KVM runs guest code in the guest"
expect "$out" '^FAIL  fails \(rc=1' "a failing test fails"
expect "$out" '^SKIP  skips ' "exit 4 is a skip"
expect "$out" '^FAIL  warns .*kernel report' "a kernel WARN fails the test"
expect "$out" 'WARNING: CPU: .* lkdtm' "the WARN is shown"
expect "$out" '^FAIL  sleeps \(killed after the per-test timeout' "a stuck test is killed"
expect "$out" '^PASS  passes ' "a later test still runs"
expect "$out" '^2 passed, 3 failed, 1 skipped$' "the summary line counts them"
[ $rc -ne 0 ] && ok=$((ok + 1)) || { echo "harness-selftest: FAILED: exit code 0 despite failures"; bad=$((bad + 1)); }

out=$("$here/run.sh" --kernel "$kernel" --timeout 8 --test 'hangs: sleep 600' 2>&1)
rc=$?
echo "$out" | sed 's/^/  /'
expect "$out" '^FAIL  hangs \(never finished' "a hung guest is killed and its test failed"
expect "$out" 'guest killed after the run timeout' "the run timeout is reported"
[ $rc -ne 0 ] && ok=$((ok + 1)) || { echo "harness-selftest: FAILED: hung guest gave exit 0"; bad=$((bad + 1)); }

out=$("$here/run.sh" --kernel "$kernel" --strict-skip --test 'skips: exit 4' 2>&1)
expect "$out" '^FAIL  skips \(skipped, and --strict-skip' "--strict-skip fails a skip"

echo "harness-selftest: $ok passed, $bad failed"
[ $bad = 0 ]
