#!/usr/bin/env bash
# Compile-time check of common/uapi/kvm.h: compiles common/uapi/kvm_check.cc
# (static_asserts on every number, size and offset the header defines)
# against a kernel's exported uapi headers:
#   6.12     Debian's linux-source-6.12: out/src-6.12/usr/include when
#            scripts/upstream-selftests.sh installed it, else installed from
#            the tarball into out/uapi-6.12 (6.18 names are not in 6.12)
#   series   the patched tree (out/linux, or $GMEM61_TREE): make
#            headers_install into out/uapi-series (every name)
# plus "guards": every name the header guards is in kvm_check.cc's #undef
# list, so none escapes the comparison.  A reference that is absent is
# skipped, by name.  Prints KTAP; the last line is
# "uapi: N passed, N failed, N skipped".
#
#   common/uapi/check.sh
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$REPO" || die "cannot cd to $REPO"

header=common/uapi/kvm.h
check=common/uapi/kvm_check.cc
tarball=/usr/src/linux-source-6.12.tar.xz
pass=0 fail=0 skip=0 n=0

echo "TAP version 13"
echo "1..3"
# result ok|not ok|skip NAME [REASON]
result() {
	n=$((n + 1))
	case $1 in
	ok) pass=$((pass + 1)); echo "ok $n $2" ;;
	skip) skip=$((skip + 1)); echo "ok $n $2 # SKIP $3" ;;
	*) fail=$((fail + 1)); echo "not ok $n $2" ;;
	esac
}

# compile NAME INCLUDE-DIR [FLAG...]: kvm_check.cc against INCLUDE-DIR.
compile() {
	local name=$1 inc=$2 out
	shift 2
	if out=$(g++ -std=c++20 -Wall -Wextra -Werror -fsyntax-only -isystem "$inc" -I "$REPO" \
		"$@" "$check" 2>&1); then
		result ok "$name"
	else
		head -n 40 <<<"$out" | while IFS= read -r line; do echo "# $line"; done
		result "not ok" "$name"
	fi
}

# 1. guards: each #ifndef of the header has its #undef in kvm_check.cc.
missing=()
while read -r name; do
	grep -qx "#undef $name" "$check" || missing+=("$name")
done < <(sed -n 's/^#ifndef \([A-Z0-9_]*\)$/\1/p' "$header")
if [ ${#missing[@]} -eq 0 ]; then
	result ok guards
else
	echo "# not in $check's #undef list: ${missing[*]}"
	result "not ok" guards
fi

# 2. 6.12: Debian's linux-source-6.12 headers.
inc612=$OUT/src-6.12/usr/include
if [ ! -f "$OUT/src-6.12/usr/.installed" ]; then
	inc612=$OUT/uapi-6.12/usr/include
	if [ ! -f "$OUT/uapi-6.12/usr/.installed" ] && [ -f "$tarball" ]; then
		say "installing 6.12's uapi headers from $tarball into $OUT/uapi-6.12"
		rm -rf "$OUT/uapi-6.12"
		mkdir -p "$OUT/uapi-6.12/src"
		top=linux-source-6.12
		if tar -xJf "$tarball" -C "$OUT/uapi-6.12/src" --strip-components=1 \
			"$top/Makefile" "$top/scripts" "$top/include" "$top/arch/x86" "$top/usr" \
			"$top/tools/include" "$top/tools/arch/x86" &&
			make -s -C "$OUT/uapi-6.12/src" ARCH=x86 INSTALL_HDR_PATH="$OUT/uapi-6.12/usr" \
				headers_install >&2; then
			touch "$OUT/uapi-6.12/usr/.installed"
			rm -rf "$OUT/uapi-6.12/src"
		fi
	fi
fi
if [ -f "$inc612/../.installed" ]; then
	compile 6.12 "$inc612"
elif [ -f "$tarball" ]; then
	echo "# installing 6.12's uapi headers from $tarball failed"
	result "not ok" 6.12
else
	result skip 6.12 "no $tarball (package linux-source-6.12)"
fi

# 3. series: the patched tree's headers, every name required.
if [ -f "$TREE/include/uapi/linux/kvm.h" ]; then
	if make -s -C "$TREE" O="$OUT/uapi-series-obj" ARCH=x86 \
		INSTALL_HDR_PATH="$OUT/uapi-series" headers_install >&2; then
		compile series "$OUT/uapi-series/include" -DGMEM_UAPI_REQUIRE_ALL=1
	else
		result "not ok" series
	fi
else
	result skip series "no patched tree at $TREE (scripts/base-tree.sh)"
fi

echo "uapi: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
