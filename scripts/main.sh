#!/usr/bin/env bash
# The main job: build the patched 6.1 kernel, boot it under QEMU with nested
# SVM, and launch a confidential guest whose memory lives in guest_memfd with
# the test VMM inside it.  Installs whatever is missing first.
#
#   scripts/main.sh [-v]     (-v streams the QEMU console)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"
verbose=()
[ "${1:-}" = -v ] && verbose=(-v)

"$REPO/scripts/setup.sh"
"$REPO/scripts/base-tree.sh"
say "series: $(git -C "$TREE" rev-list --count base..HEAD) patch(es) on $(git -C "$TREE" rev-parse --short base)"
git -C "$TREE" log --reverse --format='    %s' base..HEAD >&2
bzimage=$("$REPO/scripts/kernel-build.sh" | tail -n 1)
say "kernel: $bzimage"
bazel build -c opt //harness:kvm_smoke //vmm:gmem-vmm-static
say "booting the patched kernel; inside it: a plain KVM guest, a guest whose only memory is guest_memfd, then a SW-protected guest"
harness/run.sh "${verbose[@]}" --show-output --kernel "$bzimage" --test-timeout 600 --timeout 1200 \
	bazel-bin/harness/kvm_smoke \
	--bin bazel-bin/vmm/gmem-vmm-static \
	--test 'gmem-only-guest: /bin/gmem-vmm-static --mode default --ram 64M' \
	--test 'confidential-guest: /bin/gmem-vmm-static --mode sw-protected --ram 64M'
