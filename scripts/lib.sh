# Shared helpers for the project's shell scripts.  Source it; do not run it.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${GMEM61_OUT:-$REPO/out}
# shellcheck disable=SC2034 # for the scripts that source this file
TREE=${GMEM61_TREE:-$OUT/linux}

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# identity_get name|email: the project identity from IDENTITY.
identity_get() {
	sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$REPO/IDENTITY" | head -n 1
}

# series_base: the Debian package version the series was made on.
series_base() {
	sed -n 's/^# base: linux-source-6.1 \([^ ]*\).*/\1/p' "$REPO/series" | head -n 1
}

# need_pkgs pkg...: install missing Debian packages.
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	if [ -z "${GMEM61_APT_UPDATED:-}" ]; then
		apt-get update -qq || die "apt-get update failed"
		export GMEM61_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

# list_entries FILE: the lines of a list file (e.g. selftests/upstream/tests:
# NAME BINARY [ARGS...]), comments and blank lines dropped.
list_entries() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1"
}

# range_ok SPEC: SPEC is a range "A-B" of whole numbers with A <= B (e.g.
# gmem_fuzz's seed ranges, "1-1000").
range_ok() {
	[[ $1 =~ ^([0-9]+)-([0-9]+)$ ]] && ((10#${BASH_REMATCH[1]} <= 10#${BASH_REMATCH[2]}))
}

# is_static FILE: FILE is a statically linked executable (what the harness's
# guest, which has no libc, can run).
is_static() {
	file -bL "$1" 2>/dev/null | grep -qE 'statically linked|static-pie linked'
}

# KTAP output (TAP version 13, as the kernel's selftests print it).  A
# producer collects its results, then prints them with their plan:
#   ktap_reset; ktap_ok NAME [NOTE]; ktap_not_ok NAME [NOTE];
#   ktap_skip NAME REASON; ktap_diag TEXT (each line becomes "# line");
#   ktap_print
# NAME must not contain '#'.  ktap_pass/ktap_fail/ktap_skipped count them.
ktap_reset() { _ktap_lines=() _ktap_n=0 ktap_pass=0 ktap_fail=0 ktap_skipped=0; }
ktap_reset
_ktap_result() { # _ktap_result ok|"not ok" NAME [NOTE]
	_ktap_n=$((_ktap_n + 1))
	_ktap_lines+=("$1 $_ktap_n ${2//#/_}${3:+ # $3}")
}
ktap_ok() { _ktap_result ok "$1" "${2:-}"; ktap_pass=$((ktap_pass + 1)); }
ktap_not_ok() { _ktap_result "not ok" "$1" "${2:-}"; ktap_fail=$((ktap_fail + 1)); }
ktap_skip() { _ktap_result ok "$1" "SKIP ${2:-}"; ktap_skipped=$((ktap_skipped + 1)); }
ktap_diag() {
	local l
	while IFS= read -r l; do _ktap_lines+=("# $l"); done <<<"$1"
}
ktap_print() {
	printf 'TAP version 13\n1..%d\n' "$_ktap_n"
	[ ${#_ktap_lines[@]} -eq 0 ] || printf '%s\n' "${_ktap_lines[@]}"
}

# ktap_last FILE: the last KTAP document in FILE (a log may have build
# output before it), from its "TAP version" line on.
ktap_last() {
	awk '/^TAP version [0-9]+$/ { n = 0 } { doc[n++] = $0 } END { if (doc[0] ~ /^TAP version/) for (i = 0; i < n; i++) print doc[i] }' "$1"
}

# ktap_count FILE: count a KTAP/TAP document with TAP::Parser (prove's
# parser): prints "PASSED FAILED SKIPPED", then each failing test's line.
# "ok ... # SKIP" is a skip, never a pass; "not ok" is a failure whatever its
# directive; a parse error (e.g. a plan the results do not match) is one
# more failure.
ktap_count() {
	perl -MTAP::Parser -e '
		my $tap = do { local $/; <STDIN> } // "";
		if ($tap !~ /\S/) { print "0 1 0\nTAP error: no TAP output\n"; exit; }
		my $p = TAP::Parser->new({ tap => $tap });
		my ($pass, $fail, $skip, @bad) = (0, 0, 0);
		while (my $r = $p->next) {
			next unless $r->is_test;
			if (!$r->is_ok) { $fail++; push @bad, $r->as_string; }
			elsif ($r->has_skip) { $skip++; }
			else { $pass++; }
		}
		for my $e ($p->parse_errors) { $fail++; push @bad, "TAP error: $e"; }
		print "$pass $fail $skip\n", map { "$_\n" } @bad;
	' <"$1"
}

# bazel_results BEP_JSON: "STATUS LABEL" for every test target of a bazel
# invocation, from its build event protocol file (--build_event_json_file):
# Bazel's own verdict (PASSED, FLAKY, FAILED, TIMEOUT, NO_STATUS, ...), or
# FAILED_TO_BUILD.  Test targets that were built but not run (filtered out
# by tag) are left out.
bazel_results() {
	python3 - "$1" <<'PY'
import json, sys
tests, status, built = set(), {}, {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    i = e.get("id", {})
    if "targetConfigured" in i:
        if e.get("configured", {}).get("targetKind", "").endswith("_test rule"):
            tests.add(i["targetConfigured"]["label"])
    elif "testSummary" in i:
        status[i["testSummary"]["label"]] = e.get("testSummary", {}).get("overallStatus", "NO_STATUS")
    elif "targetCompleted" in i:
        label = i["targetCompleted"]["label"]
        if "aborted" in e:
            built[label] = None
        else:
            built[label] = bool(e.get("completed", {}).get("success"))
for label in sorted(tests):
    if label in status:
        print(status[label], label)
    elif built.get(label) is False:
        print("FAILED_TO_BUILD", label)
    elif built.get(label) is None:
        print("NO_STATUS", label)
PY
}

# shell_scripts: the project's shell scripts (tracked by git, third_party
# aside), for shellcheck -x.
shell_scripts() {
	git -C "$REPO" ls-files '*.sh' .ci/run | grep -v '^third_party/'
}
