#!/bin/sh
# Stand-in for scripts/kernel-build.sh in the patchq tests:
#   fake-build.sh DIR PATCH LOG
# records PATCH in LOG, fails (exit 3) once DIR/README mentions farewell().
echo "$2" >>"$3"
if grep -q farewell "$1/README"; then
	echo "fake build: README mentions farewell" >&2
	exit 3
fi
echo "fake build: ok"
