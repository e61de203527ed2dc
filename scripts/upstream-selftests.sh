#!/usr/bin/env bash
# Build upstream's KVM selftests, unmodified, from Debian's linux-source-6.12
# against 6.12's own uapi headers, as static x86_64 binaries for the harness.
#
#   scripts/upstream-selftests.sh                 build (incremental) into out/selftests-6.12
#   scripts/upstream-selftests.sh --host          build, then run each test on this machine
#   scripts/upstream-selftests.sh --run KERNEL [HARNESS-OPTION...]
#                                                 build, then run them in the QEMU harness
#                                                 booted on KERNEL; exits with the harness's code
#   scripts/upstream-selftests.sh --list          print NAME BINARY ARGS of every test
#
# The tests are listed in selftests/upstream/tests (NAME BINARY [ARGS...]);
# selftests/upstream/gating names those that CI runs.  Only the listed
# make targets are built, with -j2.  Cached under out/: src-6.12 (the part of the
# tarball the build needs, re-extracted only when the tarball changes; 6.12's
# uapi headers are installed in its usr/include, where the kvm Makefile looks),
# selftests-6.12-obj (objects and build.log),
# selftests-6.12 (the binaries, e.g. out/selftests-6.12/x86_64/private_mem_conversions_test).
# Exits non-zero if any listed binary failed to build or is not static.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

mode=build kernel=
case "${1:-}" in
--run) kernel=${2:?usage: $0 --run KERNEL [HARNESS-OPTION...]}; mode=run; shift 2 ;;
--host) mode=host; shift ;;
--list) mode=list; shift ;;
-h | --help) sed -n '2,19p' "$0"; exit 0 ;;
'') ;;
*) die "unknown option $1 (try --help)" ;;
esac
[ "$mode" = run ] || [ $# -eq 0 ] || die "unexpected arguments: $*"

tarball=/usr/src/linux-source-6.12.tar.xz
top=linux-source-6.12
src=$OUT/src-6.12
hdr=$src/usr
obj=$OUT/selftests-6.12-obj
bin=$OUT/selftests-6.12
list=$REPO/selftests/upstream/tests
kvm=tools/testing/selftests/kvm

# tests FILE: the "NAME BINARY ARGS" lines of a list, comments and blanks dropped.
tests() { [ -f "$1" ] && list_entries "$1"; true; }

[ -f "$list" ] || die "missing $list"
if [ "$mode" = list ]; then tests "$list"; exit 0; fi

# The make targets: every listed binary, once.
mapfile -t targets < <(tests "$list" | awk '{ print $2 }' | sort -u)
[ ${#targets[@]} -gt 0 ] || die "no tests in $list"

build() {
	local t0 stamp
	t0=$(date +%s)
	need_pkgs linux-source-6.12 gcc make libc6-dev xz-utils rsync file

	# 1. The sources: only what headers_install and the kvm selftests need.
	stamp="$(stat -c '%s %Y' "$tarball") $(dpkg-query -W -f='${Version}' linux-source-6.12)"
	if [ "$(cat "$src/.extracted" 2>/dev/null)" != "$stamp" ]; then
		say "extracting the kvm selftests and headers from $tarball into $src"
		rm -rf "$src" "$obj"
		mkdir -p "$src"
		tar -xJf "$tarball" -C "$src" --strip-components=1 \
			--wildcards --no-wildcards-match-slash \
			"$top/Makefile" "$top/scripts" "$top/include" "$top/arch/x86" "$top/usr" \
			"$top/tools/include" "$top/tools/arch/x86" "$top/tools/build" "$top/tools/lib" \
			"$top/tools/scripts" "$top/tools/testing/selftests/lib.mk" \
			"$top/tools/testing/selftests/*.h" "$top/tools/testing/selftests/kvm" \
			"$top/tools/testing/selftests/rseq" ||
			die "extracting $tarball failed"
		echo "$stamp" >"$src/.extracted"
	else
		say "sources: $src (cached)"
	fi

	# 2. 6.12's uapi headers, so nothing comes from Debian 12's (6.1) /usr/include/linux.
	if [ ! -f "$hdr/.installed" ] || [ "$src/.extracted" -nt "$hdr/.installed" ]; then
		say "installing 6.12's uapi headers into $hdr"
		make -s -C "$src" ARCH=x86 INSTALL_HDR_PATH="$hdr" headers_install >&2 ||
			die "make headers_install failed"
		touch "$hdr/.installed"
	else
		say "headers: $hdr (cached)"
	fi

	# 3. The listed targets only, static.  LDFLAGS comes from the environment so
	# the Makefile's own "LDFLAGS += -pthread -no-pie" still applies.
	say "building ${#targets[@]} selftests (make -j2): ${targets[*]}"
	mkdir -p "$obj" "$bin"
	local mk=(make -C "$src/$kvm" -j2 -k ARCH=x86 OUTPUT="$obj" KHDR_INCLUDES="-isystem $hdr/include")
	LDFLAGS=-static "${mk[@]}" "${targets[@]/#/$obj/}" >"$obj/build.log" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || { tail -n 40 "$obj/build.log" >&2; warn "make failed (rc=$rc), full log: $obj/build.log"; }

	# 4. Check and publish each binary.
	local failed=() t
	for t in "${targets[@]}"; do
		if [ $rc -ne 0 ] && ! LDFLAGS=-static "${mk[@]}" -q "$obj/$t" >/dev/null 2>&1; then
			failed+=("$t (build failed)"); rm -f "$bin/$t"; continue
		fi
		if [ ! -x "$obj/$t" ]; then failed+=("$t (not built)"); continue; fi
		if ! is_static "$obj/$t"; then
			failed+=("$t (not static: $(file -b "$obj/$t"))"); continue
		fi
		mkdir -p "$(dirname "$bin/$t")"
		cmp -s "$obj/$t" "$bin/$t" || cp -p "$obj/$t" "$bin/$t"
	done
	say "built in $(($(date +%s) - t0))s; binaries in $bin:"
	for t in "${targets[@]}"; do [ -x "$bin/$t" ] && printf '    %s\n' "$bin/$t" >&2; done
	if [ ${#failed[@]} -gt 0 ]; then
		for t in "${failed[@]}"; do warn "$t"; done
		die "${#failed[@]} of ${#targets[@]} selftests failed to build"
	fi
}

build

case "$mode" in
host)
	# Run each listed test on this machine (needs /dev/kvm); KTAP verdicts
	# as the harness gives them, the tests' own output on stderr.
	ktap_reset
	while read -r name b args; do
		say "$name: $b $args"
		# shellcheck disable=SC2086
		(cd /tmp && timeout -s KILL 600 "$bin/$b" $args </dev/null) >&2
		rc=$?
		case $rc in
		0) ktap_ok "$name" ;;
		4) ktap_skip "$name" "exit 4" ;;
		*) ktap_not_ok "$name" "rc=$rc" ;;
		esac
	done < <(tests "$list")
	ktap_print
	echo "$ktap_pass passed, $ktap_fail failed, $ktap_skipped skipped"
	[ "$ktap_fail" -eq 0 ]
	;;
run)
	# A private copy: the kernel file may be rebuilt while the guest boots.
	[ -r "$kernel" ] || die "cannot read kernel $kernel"
	tmpk=$(mktemp /tmp/upstream-selftests-kernel.XXXXXX)
	trap 'rm -f "$tmpk"' EXIT
	cp "$kernel" "$tmpk" || die "copying $kernel failed"
	args=(--kernel "$tmpk" --test-timeout 300)
	declare -A seen=()
	while read -r name b args_; do
		if [ -z "${seen[$b]:-}" ]; then args+=(--bin "$bin/$b"); seen[$b]=1; fi
		# By absolute path: the selftests load guest code from their own ELF
		# file, opened by argv[0], which a bare name run from /tmp is not.
		args+=(--test "$name: /bin/$(basename "$b")${args_:+ $args_}")
	done < <(tests "$list")
	say "harness/run.sh ${args[*]} $*"
	"$REPO/harness/run.sh" "${args[@]}" "$@"
	exit $?
	;;
esac
