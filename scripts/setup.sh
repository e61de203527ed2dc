#!/usr/bin/env bash
# Install everything the project needs on a fresh Debian 12 machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need_pkgs build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils \
	kmod rsync perl python3 git quilt b4 file shellcheck \
	bazel-bootstrap libgtest-dev libcli11-dev nlohmann-json3-dev \
	qemu-system-x86 busybox-static \
	linux-source-6.1 linux-source-6.12
say "packages present"
