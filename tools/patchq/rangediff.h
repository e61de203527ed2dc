// range-diff: what changed between two versions of the series, by
// git range-diff in the kernel tree.
#pragma once

#include <string>

namespace patchq {

// A version of the series as a git range: "A..B" is taken as written; any
// other revision R (a tag such as gmem61-v1, a branch, a sha) means the
// series on the base tag, "base..R", and must descend from it.
std::string SeriesRange(const std::string& tree, const std::string& version);

// git range-diff --no-color OLD NEW (each through SeriesRange); its output.
std::string RangeDiff(const std::string& tree, const std::string& old_version, const std::string& new_version);

}  // namespace patchq
