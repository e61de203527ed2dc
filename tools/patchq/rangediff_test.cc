// range-diff: two versions of the series compared by git range-diff.
#include <gtest/gtest.h>

#include <sstream>

#include "tools/patchq/error.h"
#include "tools/patchq/git.h"
#include "tools/patchq/import.h"
#include "tools/patchq/rangediff.h"
#include "tools/patchq/testutil.h"

namespace patchq {
namespace {

using testing::GitIn;
using testing::GoodPatches;
using testing::MakeFakeTree;
using testing::MakeRepo;

TEST(RangeDiff, ShowsWhatChangedBetweenVersions) {
  TempDir tmp("patchq-rangediff-test");
  const fs::path tree = tmp.path() / "linux", repo = tmp.path() / "repo";
  const std::string base = MakeFakeTree(tree);
  MakeRepo(repo, {"# test"}, GoodPatches());
  std::ostringstream log;
  Import({tree.string(), repo.string(), false, "", ""}, log);
  GitIn(tree, {"tag", "v1"});
  // v2: patch 3 reworded, a fourth patch added.
  GitIn(tree, {"commit", "-q", "--amend", "-m",
               "docs: README: Describe lib/greet.c\n\nName the helpers.\n\nSigned-off-by: Test Developer "
               "<dev@patchq.invalid>"});
  WriteFile(tree / "lib/new.c", "/* new */\n");
  GitIn(tree, {"add", "lib/new.c"});
  GitIn(tree, {"commit", "-q", "-m", "lib: Add new.c\n\nAdd it.\n\nSigned-off-by: Test Developer <dev@patchq.invalid>"});

  EXPECT_EQ(SeriesRange(tree.string(), "v1"), base + "..v1");
  EXPECT_EQ(SeriesRange(tree.string(), "base..v1"), "base..v1");
  const std::string d = RangeDiff(tree.string(), "v1", "HEAD");
  const std::vector<std::string> lines = SplitLines(d);
  auto has = [&](const std::string& prefix, const std::string& what) {
    for (const auto& l : lines) {
      if (l.rfind(prefix, 0) == 0 && l.find(what) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("1:  ", " = 1:  ")) << d;
  EXPECT_TRUE(has("2:  ", " = 2:  ")) << d;
  EXPECT_TRUE(has("3:  ", " ! 3:  ")) << d;
  EXPECT_TRUE(has("-:  ", " > 4:  ")) << d;
  EXPECT_NE(d.find("Name the helpers."), std::string::npos) << d;

  for (const char* bad : {"nope", "base..nope", "..v1", "--output=x"}) {
    EXPECT_THROW(SeriesRange(tree.string(), bad), Error) << bad;
  }
  // A revision that does not descend from base needs an explicit range.
  GitIn(tree, {"checkout", "-q", "--orphan", "other"});
  GitIn(tree, {"commit", "-q", "-m", "other"});
  try {
    SeriesRange(tree.string(), "other");
    FAIL() << "a revision off base must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not descend from the base tag"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace patchq
