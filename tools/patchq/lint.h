// The project's rules for a patch's mail part: From is the project identity,
// the subject has a subsystem prefix, there is a changelog body, a
// Signed-off-by from the project identity, and no message line starts with
// "From " (it would split the mbox).
#pragma once

#include <string>
#include <vector>

#include "tools/patchq/identity.h"
#include "tools/patchq/patch.h"

namespace patchq {

// "subsystem: text" (after the [PATCH] tags are stripped).
bool SubjectHasPrefix(const std::string& summary);

// One human-readable problem per entry ("line 5: ..."), empty when clean.
std::vector<std::string> LintPatch(const Patch& p, const Identity& identity);

}  // namespace patchq
