// Running git against a directory with a reproducible environment.
#pragma once

#include <string>
#include <vector>

#include "tools/patchq/subprocess.h"

namespace patchq {

// Options for git calls whose output must not depend on the user's global or
// system git configuration (export, import): only the repository's own
// config applies, hooks are off.
RunOptions IsolatedGit(RunOptions opts = {});

// git -C dir args...; throws on failure.
std::string Git(const std::string& dir, const std::vector<std::string>& args, const RunOptions& opts = {});
RunResult GitTry(const std::string& dir, const std::vector<std::string>& args, const RunOptions& opts = {});

// The commit the kernel tree's "base" tag points to (full sha); throws an
// Error that says how to create it when it is missing.
std::string BaseCommit(const std::string& tree);

// Top-level directory of the git repository containing dir.
std::string GitTopLevel(const std::string& dir);

std::string StripNewline(std::string s);

}  // namespace patchq
