#!/bin/bash
# End to end, mode 1 on the host's /dev/kvm: the real gmem-vmm launches the
# real payload; assert the self-check, the table and the JSON, and the
# one-line errors for bad input.
#   e2e_test.sh GMEM_VMM PAYLOAD
# Without a usable /dev/kvm this FAILS unless GMEM_VMM_E2E_ALLOW_SKIP=1.
set -u
vmm=$1 payload=$2
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_in() {  # FILE PATTERN...
	local f=$1; shift
	for p in "$@"; do grep -qF -- "$p" "$f" || fail "$f lacks: $p"; done
}

if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	if [[ ${GMEM_VMM_E2E_ALLOW_SKIP:-0} == 1 ]]; then
		echo "SKIP: no usable /dev/kvm (GMEM_VMM_E2E_ALLOW_SKIP=1)"
		exit 0
	fi
	echo "FAIL: no usable /dev/kvm; set GMEM_VMM_E2E_ALLOW_SKIP=1 to skip"
	exit 1
fi

# Mode 1, table.
"$vmm" --mode default --ram 16M -q >"$tmp/table" 2>"$tmp/table.err"
rc=$?
cat "$tmp/table" "$tmp/table.err"
if [[ $rc -eq 4 ]]; then
	echo "FAIL: the host kernel lacks guest_memfd mmap (exit 4): $(cat "$tmp/table.err")"
	exit 1
fi
[[ $rc -eq 0 ]] || fail "mode 1 exit status $rc, expected 0"
expect_in "$tmp/table" "| verdict" "PASS" "KVM_X86_DEFAULT_VM" "| memory backing" \
	"guest_memfd" "16 MiB" "pages private at exit       | 0" \
	"pages shared at exit        | 4096" "shared-only" \
	"to shared (MAP_GPA_RANGE)   | 3 requests, 96 pages" \
	"to private (MAP_GPA_RANGE)  | 2 requests, 80 pages" \
	"guest_memfd guest says hello; checksum=" "first guest instruction" "total time"
[[ -s $tmp/table.err ]] && fail "-q still printed: $(cat "$tmp/table.err")"

# Mode 1, JSON, through the payload file instead of the embedded copy.
"$vmm" --ram 16M --json -q --payload "$payload" >"$tmp/json" 2>&1
rc=$?
cat "$tmp/json"
[[ $rc -eq 0 ]] || fail "JSON run exit status $rc"
expect_in "$tmp/json" '"passed": true' '"mode": "default"' \
	'"vm_type": "KVM_X86_DEFAULT_VM"' '"backing": "guest_memfd"' \
	'"ram_bytes": 16777216' '"pages_private": 0' '"pages_shared": 4096' \
	'"to_shared": {"requests": 3, "pages": 96}' \
	'"to_private": {"requests": 2, "pages": 80}' '"first_instruction_ms": ' \
	'"exits": {' '"total_ms": '
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["passed"] is True' \
		"$tmp/json" || fail "JSON does not parse or passed != true"
fi

# Progress lines on stderr without -q.
"$vmm" --ram 8M --backing anon >/dev/null 2>"$tmp/progress" || fail "anon backing run failed"
expect_in "$tmp/progress" "gmem-vmm: creating default VM" "gmem-vmm: loading payload"

# Bad input: one line on stderr, the documented exit status, no crash.
check_err() {  # WANT_RC DESCRIPTION ARGS...
	local want=$1 what=$2; shift 2
	"$vmm" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[[ $rc -eq $want ]] || fail "$what: exit $rc, expected $want ($(cat "$tmp/err"))"
	[[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "$what: expected one error line, got: $(cat "$tmp/err")"
	grep -q '^gmem-vmm: ' "$tmp/err" || fail "$what: error line lacks the prefix"
}
check_err 2 "RAM 0" --ram 0
check_err 2 "unaligned RAM" --ram 9M
check_err 2 "RAM beyond the host" --ram 64T
check_err 2 "unknown option" --bogus
head -c 100 "$payload" >"$tmp/truncated"
check_err 2 "truncated payload" --payload "$tmp/truncated"
cp "$payload" "$tmp/flipped" && printf '\xff' | dd of="$tmp/flipped" bs=1 seek=60 conv=notrunc 2>/dev/null
check_err 2 "corrupt payload" --payload "$tmp/flipped"
check_err 2 "missing payload" --payload "$tmp/nope"
check_err 4 "missing /dev/kvm" --kvm "$tmp/no-kvm"
"$vmm" --help | grep -q -- "--mode sw-protected" || fail "--help"

# A guest that fails must give exit 1: well-formed payloads whose code halts
# without a verdict, or triple-faults (ud2, no IDT).
if command -v python3 >/dev/null; then
	mkpayload() {  # OUT HEXCODE
		python3 - "$1" "$2" <<'PY'
import struct, sys
code = bytes.fromhex(sys.argv[2])
h = 0x811c9dc5
for b in code:
    h = ((h ^ b) * 0x01000193) & 0xffffffff
hdr = b"GMEMPAY1" + struct.pack("<IIQQQII", 1, 48, 0x100000, 0x100000, len(code), 0, h)
open(sys.argv[1], "wb").write(hdr + code)
PY
	}
	mkpayload "$tmp/halt" "f4ebfd"       # hlt; jmp .-1
	"$vmm" --ram 8M -q --payload "$tmp/halt" >"$tmp/out" 2>&1
	rc=$?
	[[ $rc -eq 1 ]] || fail "halting guest: exit $rc, expected 1"
	expect_in "$tmp/out" "FAIL: guest halted without a verdict" "first guest instruction     | never"
	mkpayload "$tmp/ud2" "0f0b"          # ud2
	"$vmm" --ram 8M -q --payload "$tmp/ud2" --timeout 10 >"$tmp/out" 2>&1
	rc=$?
	[[ $rc -eq 1 ]] || fail "faulting guest: exit $rc, expected 1 ($(cat "$tmp/out"))"
	expect_in "$tmp/out" "| verdict" "FAIL: "
fi

# Mode 2 on this kernel: runs (0) or is reported unsupported (4), never
# silently "passes" something it did not do.
"$vmm" --mode sw-protected --ram 16M -q >"$tmp/m2" 2>&1
rc=$?
case $rc in
0) expect_in "$tmp/m2" "KVM_X86_SW_PROTECTED_VM" "PASS" ;;
4) expect_in "$tmp/m2" "not supported by the running kernel" ;;
*) fail "mode 2 exit status $rc: $(cat "$tmp/m2")" ;;
esac

if [[ $fails -ne 0 ]]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "e2e: all checks passed"
