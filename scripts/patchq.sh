#!/usr/bin/env bash
# Run the patch-queue tool (tools/patchq), building it first if needed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"
bazel build -c opt --ui_event_filters=-info,-progress --noshow_progress //tools/patchq >&2
exec "$REPO/bazel-bin/tools/patchq/patchq" "$@"
