#!/bin/sh
# Stand-in for scripts/kernel-build.sh in the patchq tests:
#   fake-build.sh DIR PATCH LOG OUT
# records PATCH in LOG, counts builds in OUT/count (OUT must exist and be
# kept across the run), fails (exit 3) once DIR/README mentions farewell().
echo "$2" >>"$3"
[ -d "$4" ] || { echo "fake build: no build dir $4" >&2; exit 4; }
echo x >>"$4/count"
[ "$(wc -l <"$4/count")" = "$(wc -l <"$3")" ] || { echo "fake build: build dir not kept" >&2; exit 5; }
if grep -q farewell "$1/README"; then
	echo "fake build: README mentions farewell" >&2
	exit 3
fi
echo "fake build: ok"
