// Helpers for the patchq tests: fixture paths, a fake kernel tree with a
// base tag, and project repositories made from fixture files.
#pragma once

#include <string>
#include <vector>

#include "tools/patchq/files.h"
#include "tools/patchq/subprocess.h"

namespace patchq::testing {

// tools/patchq/testdata (from the runfiles when run by bazel).
fs::path TestData();

// Copies testdata/tree to dir, commits it as Test Developer at
// 2000-01-01T00:00:00Z and tags it base. Returns the base sha.
std::string MakeFakeTree(const fs::path& dir);

// A project repository in dir: IDENTITY from testdata, a series with the
// given header lines and patch names, and patches/ with the given files
// copied from testdata (pairs of series name -> testdata-relative source).
struct RepoPatch {
  std::string name;    // file name in patches/ and series
  std::string source;  // testdata-relative file, or "" to leave it missing
};
void MakeRepo(const fs::path& dir, const std::vector<std::string>& header, const std::vector<RepoPatch>& patches);

// The good fixture series as RepoPatch entries.
std::vector<RepoPatch> GoodPatches();

// git with the environment the fixtures were made with.
std::string GitIn(const fs::path& dir, const std::vector<std::string>& args);

}  // namespace patchq::testing
