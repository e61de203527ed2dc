// check: every patch in the series, in order, against a scratch copy of the
// tree's base: mail rules (lint.h), the tree's checkpatch.pl --strict, quilt
// push, and optionally a build after each patch.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace patchq {

struct CheckOptions {
  std::string tree;
  std::string repo;
  // Empty: <tree>/scripts/checkpatch.pl. Run as
  //   perl CHECKPATCH --strict --no-tree --terse --no-summary --show-types --color=never FILE
  std::string checkpatch;
  // Run after each applied patch when non-empty; split on spaces (no shell),
  // "{dir}" -> the scratch tree, "{out}" -> a scratch build directory kept
  // for the whole run (so builds after the first are incremental),
  // "{patch}" -> the patch file name. cwd: repo.
  std::vector<std::string> build;
  // Changelog style (changelog.h: subject length, imperative subject,
  // what-first body, credit line) fails a patch; otherwise it is a warning.
  bool strict_changelog = false;
};

// Default for --build: the project's kernel build script (scripts/, owned by
// the kernel build), building out of tree into the scratch build directory so
// the developer's own build in out/ is never touched.
inline constexpr const char* kDefaultBuild = "scripts/kernel-build.sh --tree {dir} --out {out}";

struct CheckResult {
  int passed = 0;
  int failed = 0;
  int warnings = 0;  // changelog problems reported as warnings
};

// Prints "PASS name" / "FAIL name: reasons" (details indented below) and a
// final "N passed, N failed" line to out; progress goes to log.
CheckResult Check(const CheckOptions& opts, std::ostream& out, std::ostream& log);

std::vector<std::string> SplitCommand(const std::string& cmd);

}  // namespace patchq
