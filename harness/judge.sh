#!/usr/bin/env bash
# Judge a harness console log: harness/judge.sh CONSOLE QEMU_RC SECONDS STRICT_SKIP NAME...
# Prints one line per test, the kernel reports that failed anything, and
# "N passed, N failed, N skipped" last.  Exit 0 only if nothing failed.
set -uo pipefail
console=$1 qrc=$2 secs=$3 strict_skip=$4
shift 4

# Kernel reports that fail a test.  Kept in one place; extended, never relaxed.
splat='(WARNING:|BUG:|Oops|Kernel panic|general protection fault|kernel BUG|'
splat+='possible recursive locking|possible circular locking|inconsistent lock state|'
splat+='INFO: possible irq lock inversion|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|'
splat+='BUG: sleeping function called from invalid context|KASAN:|UBSAN:|'
splat+='unreferenced object|INFO: task .* blocked for more than|watchdog: BUG: soft lockup|'
splat+='rcu: INFO: rcu_.* detected stalls)'

section() { # section NAME: the kernel messages collected for NAME
	awk -v n="$1" '$0 == "@@DMESG-START " n {on=1; next} $0 == "@@DMESG-END " n {on=0} on' "$console"
}

passed=0 failed=0 skipped=0
report() { # report VERDICT TEXT [NAME]: one verdict line, then NAME's output if asked
	printf '%-5s %s\n' "$1" "$2"
	[ -z "${3:-}" ] || [ -z "${HARNESS_SHOW_OUTPUT:-}" ] || output "$3" | sed 's/^/      | /'
}
output() { # output NAME: what test NAME printed
	awk -v n="$1" '$0 == "@@TEST-START " n {on=1; next} /^@@TEST-END / {on=0} on' "$console"
}
for name in "$@"; do
	end=$(grep -m1 "^@@TEST-END $name rc=" "$console")
	if [ -z "$end" ]; then
		if grep -q "^@@TEST-START $name\$" "$console"; then
			report FAIL "$name (never finished: guest hung, crashed or was killed)" "$name"
		else
			report FAIL "$name (never started)"
		fi
		failed=$((failed + 1))
		continue
	fi
	rc=$(sed -n 's/.* rc=\([0-9]*\) .*/\1/p' <<<"$end")
	t0=$(sed -n 's/.* start=\([0-9.]*\).*/\1/p' <<<"$end")
	t1=$(sed -n 's/.* end=\([0-9.]*\).*/\1/p' <<<"$end")
	took=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1fs", b-a}')
	splats=$(section "$name" | grep -E "$splat")
	if [ -n "$splats" ]; then
		report FAIL "$name (rc=$rc, $took, kernel report during the test)" "$name"
		section "$name" | grep -E -A12 "$splat" | head -40 | sed 's/^/      | /'
		failed=$((failed + 1))
	elif [ "$rc" = 0 ]; then
		report PASS "$name ($took)" "$name"
		passed=$((passed + 1))
	elif [ "$rc" = 4 ]; then
		if [ "$strict_skip" = 1 ]; then
			report FAIL "$name (skipped, and --strict-skip is set)" "$name"
			failed=$((failed + 1))
		else
			report SKIP "$name ($took)" "$name"
			skipped=$((skipped + 1))
		fi
	else
		why="rc=$rc"
		[ "$rc" = 137 ] && why="killed after the per-test timeout"
		report FAIL "$name ($why, $took)" "$name"
		[ -n "${HARNESS_SHOW_OUTPUT:-}" ] || output "$name" | tail -15 | sed 's/^/      | /'
		failed=$((failed + 1))
	fi
done

for s in "(boot)" "(shutdown)"; do
	if section "$s" | grep -qE "$splat"; then
		report FAIL "kernel report at $s"
		section "$s" | grep -E -A12 "$splat" | head -40 | sed 's/^/      | /'
		failed=$((failed + 1))
	fi
done
if ! grep -q '^@@BOOTED' "$console"; then
	report FAIL "guest never reached the test init (qemu rc=$qrc)"
	tail -25 "$console" | sed 's/^/      | /'
	failed=$((failed + 1))
elif ! grep -q '^@@DONE' "$console"; then
	if [ "$qrc" = 137 ]; then
		report FAIL "guest killed after the run timeout (${secs}s)"
	else
		report FAIL "guest stopped before the end (qemu rc=$qrc)"
	fi
	grep -E -A12 "$splat" "$console" | head -40 | sed 's/^/      | /'
	failed=$((failed + 1))
fi
if grep -q 'Marking TSC unstable' "$console"; then
	echo "harness: warning: the guest kernel marked its TSC unstable; nested KVM_RUN may spin (see harness/run.sh)"
fi
echo "harness: guest ran ${secs}s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
