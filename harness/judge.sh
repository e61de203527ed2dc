#!/usr/bin/env bash
# Judge a harness console log: harness/judge.sh CONSOLE QEMU_RC SECONDS STRICT_SKIP NAME...
# Prints KTAP (TAP version 13): one result per test ("ok N NAME", "not ok N
# NAME # why", "ok N NAME # SKIP why"), one more "not ok" for each failure of
# the run itself (a kernel report at boot or shutdown, a guest that did not
# finish), diagnostics as "# " lines, and "N passed, N failed, N skipped"
# last.  Exit 0 only if nothing failed.
set -uo pipefail
# shellcheck source=../scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
console=$1 qrc=$2 secs=$3 strict_skip=$4
shift 4

# Kernel reports that fail a test.  Kept in one place; extended, never relaxed.
splat='(WARNING:|BUG:|Oops|Kernel panic|general protection fault|kernel BUG|'
splat+='possible recursive locking|possible circular locking|inconsistent lock state|'
splat+='INFO: possible irq lock inversion|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|'
splat+='BUG: sleeping function called from invalid context|KASAN:|UBSAN:|'
splat+='unreferenced object|INFO: task .* blocked for more than|watchdog: BUG: soft lockup|'
splat+='rcu: INFO: rcu_.* detected stalls|invoked oom-killer)'

section() { # section NAME: the kernel messages collected for NAME
	awk -v n="$1" '$0 == "@@DMESG-START " n {on=1; next} $0 == "@@DMESG-END " n {on=0} on' "$console"
}

report() { # report ok|not-ok|skip NAME NOTE: one result, then NAME's output if asked
	case "$1" in
	ok) ktap_ok "$2" "$3" ;;
	not-ok) ktap_not_ok "$2" "$3" ;;
	skip) ktap_skip "$2" "$3" ;;
	esac
	[ -z "${HARNESS_SHOW_OUTPUT:-}" ] || detail "$(output "$2")"
}
span() { # span NAME: the console from NAME's start to the end of its messages
	awk -v n="$1" '$0 == "@@TEST-START " n {on=1} on; $0 == "@@DMESG-END " n {on=0}' "$console"
}
output() { # output NAME: what test NAME printed
	awk -v n="$1" '$0 == "@@TEST-START " n {on=1; next} /^@@TEST-END / {on=0} on' "$console"
}
detail() { # detail TEXT: diagnostic lines under the last result
	local l
	[ -n "$1" ] || return 0
	while IFS= read -r l; do ktap_diag "      | $l"; done <<<"$1"
}
expected() { # expected NAME: the REGEX of the report NAME must cause, if any
	[ -n "${HARNESS_EXPECTS:-}" ] && [ -r "$HARNESS_EXPECTS" ] || return 0
	awk -F'\t' -v n="$1" '$1 == n { print $2; exit }' "$HARNESS_EXPECTS"
}
for name in "$@"; do
	end=$(grep -m1 "^@@TEST-END $name rc=" "$console")
	if [ -z "$end" ]; then
		if grep -q "^@@TEST-START $name\$" "$console"; then
			report not-ok "$name" "never finished: guest hung, crashed or was killed"
		else
			report not-ok "$name" "never started"
		fi
		continue
	fi
	rc=$(sed -n 's/.* rc=\([0-9]*\) .*/\1/p' <<<"$end")
	t0=$(sed -n 's/.* start=\([0-9.]*\).*/\1/p' <<<"$end")
	t1=$(sed -n 's/.* end=\([0-9.]*\).*/\1/p' <<<"$end")
	took=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1fs", b-a}')
	want=$(expected "$name")
	if [ -n "$want" ]; then
		# Reports the test provokes on purpose are its result; any
		# other report still fails it.
		splats=$(section "$name" | grep -E "$splat" | grep -vE "$want")
		# Whether the report came is the test's own assertion (it reads
		# /dev/kmsg); its absence from the capture is only noted, as
		# the capture has been seen to miss it (issue to be filed).
		if [ -z "$splats" ] && ! span "$name" | grep -qE "$want"; then
			ktap_diag "harness: $name: the expected kernel report is not in the console capture"
		fi
	else
		splats=$(section "$name" | grep -E "$splat")
	fi
	if [ -n "$splats" ]; then
		report not-ok "$name" "rc=$rc, $took, kernel report during the test"
		detail "$(section "$name" | grep -E -A12 "$splat" | head -40)"
	elif [ "$rc" = 0 ]; then
		report ok "$name" "$took"
	elif [ "$rc" = 4 ]; then
		if [ "$strict_skip" = 1 ]; then
			report not-ok "$name" "skipped, and --strict-skip is set"
		else
			report skip "$name" "exit 4, $took"
		fi
	else
		why="rc=$rc"
		[ "$rc" = 137 ] && why="killed after the per-test timeout"
		report not-ok "$name" "$why, $took"
		[ -n "${HARNESS_SHOW_OUTPUT:-}" ] || detail "$(output "$name" | tail -15)"
	fi
done

for s in "(boot)" "(shutdown)"; do
	if section "$s" | grep -qE "$splat"; then
		ktap_not_ok "$s" "kernel report at $s"
		detail "$(section "$s" | grep -E -A12 "$splat" | head -40)"
	fi
done
if ! grep -q '^@@BOOTED' "$console"; then
	ktap_not_ok "(guest)" "guest never reached the test init (qemu rc=$qrc)"
	detail "$(tail -25 "$console")"
elif ! grep -q '^@@DONE' "$console"; then
	if [ "$qrc" = 137 ]; then
		ktap_not_ok "(guest)" "guest killed after the run timeout (${secs}s)"
	else
		ktap_not_ok "(guest)" "guest stopped before the end (qemu rc=$qrc)"
	fi
	# The kernel's report if there is one, else how the console ended
	# (an init that died, the OOM killer, a silent reset).
	if grep -qE "$splat" "$console"; then
		detail "$(grep -E -A12 "$splat" "$console" | head -40)"
	else
		detail "$(tail -25 "$console")"
	fi
fi
if grep -q 'Marking TSC unstable' "$console"; then
	ktap_diag "harness: warning: the guest kernel marked its TSC unstable; nested KVM_RUN may spin (see harness/run.sh)"
fi
ktap_diag "harness: guest ran ${secs}s"
ktap_print
echo "$ktap_pass passed, $ktap_fail failed, $ktap_skipped skipped"
[ "$ktap_fail" = 0 ]
