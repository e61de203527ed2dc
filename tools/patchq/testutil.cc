#include "tools/patchq/testutil.h"

#include <cstdlib>

#include "tools/patchq/git.h"
#include "tools/patchq/series.h"

namespace patchq::testing {

fs::path TestData() {
  const char* src = std::getenv("TEST_SRCDIR");
  if (src && *src) {
    fs::path p = fs::path(src) / "gmem61/tools/patchq/testdata";
    if (fs::exists(p)) return p;
  }
  return fs::path("tools/patchq/testdata");
}

static RunOptions FixtureEnv() {
  RunOptions o = IsolatedGit();
  for (const char* k : {"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"}) o.env[k] = "Test Developer";
  for (const char* k : {"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"}) o.env[k] = "dev@patchq.invalid";
  for (const char* k : {"GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"}) o.env[k] = "2000-01-01T00:00:00Z";
  return o;
}

std::string GitIn(const fs::path& dir, const std::vector<std::string>& args) {
  return Git(dir.string(), args, FixtureEnv());
}

std::string MakeFakeTree(const fs::path& dir) {
  fs::create_directories(dir);
  // Follow the runfiles symlinks: copy contents and modes.
  fs::copy(TestData() / "tree", dir, fs::copy_options::recursive);
  GitIn(dir, {"init", "-q", "-b", "master"});
  GitIn(dir, {"config", "user.name", "Test Developer"});
  GitIn(dir, {"config", "user.email", "dev@patchq.invalid"});
  GitIn(dir, {"add", "-A"});
  GitIn(dir, {"commit", "-q", "-m", "fake base"});
  GitIn(dir, {"tag", "base"});
  return StripNewline(GitIn(dir, {"rev-parse", "HEAD"}));
}

void MakeRepo(const fs::path& dir, const std::vector<std::string>& header, const std::vector<RepoPatch>& patches) {
  fs::create_directories(dir / "patches");
  fs::copy_file(TestData() / "IDENTITY", dir / "IDENTITY", fs::copy_options::overwrite_existing);
  Series s;
  s.header = header;
  for (const auto& p : patches) {
    s.patches.push_back({p.name, 0});
    if (!p.source.empty()) {
      fs::copy_file(TestData() / p.source, dir / "patches" / p.name, fs::copy_options::overwrite_existing);
    }
  }
  WriteFile(dir / "series", s.Render());
}

std::vector<RepoPatch> GoodPatches() {
  Series s = ReadSeries((TestData() / "good/series").string());
  std::vector<RepoPatch> out;
  for (const auto& e : s.patches) out.push_back({e.name, "good/patches/" + e.name});
  return out;
}

}  // namespace patchq::testing
