// check: per-patch verdicts on a tiny tree with the stand-in checkpatch.
#include <gtest/gtest.h>

#include <sstream>

#include "tools/patchq/check.h"
#include "tools/patchq/error.h"
#include "tools/patchq/git.h"
#include "tools/patchq/testutil.h"

namespace patchq {
namespace {

using testing::GitIn;
using testing::GoodPatches;
using testing::MakeFakeTree;
using testing::MakeRepo;
using testing::RepoPatch;
using testing::TestData;

struct CheckRun {
  CheckResult result;
  std::vector<std::string> lines;  // stdout lines
  std::string text;
  std::string log;  // stderr
};

class CheckTest : public ::testing::Test {
 protected:
  TempDir tmp{"patchq-check-test"};
  fs::path tree = tmp.path() / "linux";
  fs::path repo = tmp.path() / "repo";
  void SetUp() override { MakeFakeTree(tree); }

  CheckRun Check(const std::vector<RepoPatch>& patches, const std::vector<std::string>& build = {},
                 bool strict_changelog = false) {
    MakeRepo(repo, {"# test"}, patches);
    CheckOptions o;
    o.tree = tree.string();
    o.repo = repo.string();
    o.build = build;
    o.strict_changelog = strict_changelog;
    std::ostringstream out, log;
    CheckRun r;
    r.result = patchq::Check(o, out, log);
    r.text = out.str();
    r.lines = SplitLines(r.text);
    r.log = log.str();
    return r;
  }
};

TEST_F(CheckTest, GoodSeriesPasses) {
  CheckRun r = Check(GoodPatches());
  EXPECT_EQ(r.result.passed, 3);
  EXPECT_EQ(r.result.failed, 0);
  EXPECT_EQ(r.text,
            "PASS 0001-lib-greet-Greet-the-whole-world.patch\n"
            "PASS 0002-lib-greet-Add-farewell.patch\n"
            "PASS 0003-docs-README-Describe-lib-greet.c.patch\n"
            "3 passed, 0 failed\n");
  // Only the files the patches touch were taken from base.
  EXPECT_NE(r.log.find("(only the 3 paths the patches touch)"), std::string::npos) << r.log;
  EXPECT_EQ(SplitLines(GitIn(tree, {"worktree", "list"})).size(), 1u);
}

TEST_F(CheckTest, SparseAndFullTreeAgree) {
  auto g = GoodPatches();
  std::vector<RepoPatch> series = {g[0], {"0002-stale.patch", "bad/stale.patch"}, g[1],
                                   {"0004-no-prefix.patch", "bad/no-prefix.patch"}};
  CheckRun sparse = Check(series);
  CheckRun full = Check(series, {"true"});  // a build needs the full worktree
  EXPECT_NE(full.log.find("(full worktree)"), std::string::npos) << full.log;
  EXPECT_EQ(sparse.text, full.text);
  EXPECT_EQ(sparse.result.failed, 3);
  // The full worktree is removed again, git metadata included.
  EXPECT_EQ(SplitLines(GitIn(tree, {"worktree", "list"})).size(), 1u);
  EXPECT_FALSE(fs::exists(tree / ".git/worktrees/src"));
}

TEST_F(CheckTest, MissingFileAndCheckpatch) {
  auto g = GoodPatches();
  CheckRun r = Check({g[0], {"0002-missing.patch", ""}, g[1], {"0004-trailing-space.patch", "bad/trailing-space.patch"}});
  EXPECT_EQ(r.result.passed, 2);
  EXPECT_EQ(r.result.failed, 2);
  ASSERT_GE(r.lines.size(), 5u) << r.text;
  EXPECT_EQ(r.lines[0], "PASS " + g[0].name);
  EXPECT_EQ(r.lines[1], "FAIL 0002-missing.patch: " + (repo / "series").string() +
                            ":3: file patches/0002-missing.patch does not exist");
  EXPECT_EQ(r.lines[2], "PASS " + g[1].name);
  EXPECT_EQ(r.lines[3], "FAIL 0004-trailing-space.patch: checkpatch --strict: 1 errors, 0 warnings, 0 checks");
  EXPECT_EQ(r.lines[4],
            "    checkpatch: 0004-trailing-space.patch:21: ERROR:TRAILING_WHITESPACE: trailing whitespace");
  EXPECT_EQ(r.lines.back(), "2 passed, 2 failed");
}

TEST_F(CheckTest, PatchThatNoLongerApplies) {
  auto g = GoodPatches();
  CheckRun r = Check({g[0], {"0002-stale.patch", "bad/stale.patch"}, g[1]});
  EXPECT_EQ(r.result.passed, 1);
  EXPECT_EQ(r.result.failed, 2);
  ASSERT_GE(r.lines.size(), 4u) << r.text;
  EXPECT_EQ(r.lines[0], "PASS " + g[0].name);
  EXPECT_EQ(r.lines[1], "FAIL 0002-stale.patch: does not apply with quilt push --fuzz=0");
  EXPECT_NE(r.text.find("    quilt: "), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("FAILED"), std::string::npos) << r.text;  // quilt's hunk report
  EXPECT_NE(r.text.find("FAIL " + g[1].name + ": not applied: quilt stopped at 0002-stale.patch"),
            std::string::npos)
      << r.text;
  EXPECT_EQ(r.lines.back(), "1 passed, 2 failed");
}

TEST_F(CheckTest, MailRulesAndMalformed) {
  auto g = GoodPatches();
  CheckRun r = Check({g[0], g[1], {"0003-no-prefix.patch", "bad/no-prefix.patch"}});
  EXPECT_EQ(r.result.failed, 1);
  EXPECT_EQ(r.lines[2],
            "FAIL 0003-no-prefix.patch: line 4: subject 'Describe lib/greet.c' has no subsystem prefix "
            "(expected 'subsystem: summary', e.g. 'KVM: x86: ...')");

  CheckRun m = Check({g[0], {"0002-truncated.patch", "bad/truncated-hunk.patch"}});
  EXPECT_EQ(m.result.failed, 1);
  EXPECT_EQ(m.lines[1].rfind("FAIL 0002-truncated.patch: malformed: ", 0), 0u) << m.text;
  EXPECT_NE(m.lines[1].find("file ends inside the hunk starting at line 32"), std::string::npos) << m.text;

  CheckRun f = Check({g[0], g[1], {"0003-from-line.patch", "bad/from-line.patch"}});
  EXPECT_EQ(f.result.failed, 1);
  EXPECT_NE(f.lines[2].find("line 7: message line starts with 'From '"), std::string::npos) << f.text;
}

// Changelog style is a warning unless --strict-changelog.
TEST_F(CheckTest, ChangelogStyleWarnsOrFails) {
  auto g = GoodPatches();
  const std::vector<RepoPatch> series = {g[0], g[1], {"0003-changelog-style.patch", "bad/changelog-style.patch"}};
  CheckRun w = Check(series);
  EXPECT_EQ(w.result.passed, 3);
  EXPECT_EQ(w.result.failed, 0);
  EXPECT_EQ(w.result.warnings, 3);
  ASSERT_EQ(w.lines.size(), 8u) << w.text;
  EXPECT_EQ(w.lines[2], "PASS 0003-changelog-style.patch");
  EXPECT_EQ(w.lines[3], "    warning: subject is 88 characters (at most 75)");
  EXPECT_EQ(w.lines[4].rfind("    warning: changelog does not start with what the patch does", 0), 0u) << w.text;
  EXPECT_EQ(w.lines[5].rfind("    warning: no credit line", 0), 0u) << w.text;
  EXPECT_EQ(w.lines[6], "3 changelog warnings (not failures; --strict-changelog makes them failures)");
  EXPECT_EQ(w.lines[7], "3 passed, 0 failed");

  CheckRun s = Check(series, {}, /*strict_changelog=*/true);
  EXPECT_EQ(s.result.passed, 2);
  EXPECT_EQ(s.result.failed, 1);
  EXPECT_EQ(s.lines[2].rfind("FAIL 0003-changelog-style.patch: subject is 88 characters (at most 75); changelog does "
                             "not start with what the patch does",
                             0),
            0u)
      << s.text;
  EXPECT_NE(s.lines[2].find("; no credit line"), std::string::npos) << s.text;
  EXPECT_EQ(Check(GoodPatches(), {}, true).result.failed, 0);
}

TEST_F(CheckTest, BuildAfterEachPatch) {
  const fs::path log = tmp.path() / "build.log";
  CheckRun r = Check(GoodPatches(), {"sh", (TestData() / "fake-build.sh").string(), "{dir}", "{patch}", log.string(), "{out}"});
  auto g = GoodPatches();
  EXPECT_EQ(r.result.passed, 2);
  EXPECT_EQ(r.result.failed, 1);
  EXPECT_EQ(r.lines[2], "FAIL " + g[2].name + ": build failed after this patch (exit 3)");
  EXPECT_NE(r.text.find("    build: fake build: README mentions farewell"), std::string::npos) << r.text;
  // Once per patch, in order, with {patch} substituted.
  EXPECT_EQ(ReadFile(log), g[0].name + "\n" + g[1].name + "\n" + g[2].name + "\n");
}

TEST_F(CheckTest, SetupErrors) {
  MakeRepo(repo, {"# test"}, GoodPatches());
  CheckOptions o;
  o.tree = tree.string();
  o.repo = repo.string();
  o.checkpatch = (tmp.path() / "no-checkpatch.pl").string();
  std::ostringstream out, log;
  EXPECT_THROW(patchq::Check(o, out, log), Error);
  o.checkpatch.clear();
  GitIn(tree, {"tag", "-d", "base"});
  try {
    patchq::Check(o, out, log);
    FAIL() << "a tree without a base tag must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no 'base' tag"), std::string::npos) << e.what();
  }
}

TEST(SplitCommand, Words) {
  EXPECT_EQ(SplitCommand(kDefaultBuild),
            (std::vector<std::string>{"scripts/kernel-build.sh", "--tree", "{dir}", "--out", "{out}"}));
  EXPECT_EQ(SplitCommand("  a  b;rm -rf c "), (std::vector<std::string>{"a", "b;rm", "-rf", "c"}));
}

}  // namespace
}  // namespace patchq
