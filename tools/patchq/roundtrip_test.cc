// export and import on a tiny git tree: import then export is
// byte-identical, commits are reproducible, export touches only what changed.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <sys/stat.h>

#include "tools/patchq/error.h"
#include "tools/patchq/export.h"
#include "tools/patchq/git.h"
#include "tools/patchq/import.h"
#include "tools/patchq/patch.h"
#include "tools/patchq/series.h"
#include "tools/patchq/testutil.h"

namespace patchq {
namespace {

using testing::GitIn;
using testing::GoodPatches;
using testing::MakeFakeTree;
using testing::MakeRepo;
using testing::TestData;

const std::vector<std::string> kHeader = {"# patchq test series", "# base: fake tree",
                                          "# base-tree: 015746923cefb1962fcf105296d5b8cc594556c5",
                                          "# change-id: 20000101-patchq-fixture-0123456789ab"};

// Every regular file below dir, relative path -> bytes.
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = ReadFile(e.path());
  }
  return files;
}

struct Fixture {
  TempDir tmp{"patchq-test"};
  fs::path tree = tmp.path() / "linux";
  fs::path repo = tmp.path() / "repo";
  std::string base;
  Fixture() {
    base = MakeFakeTree(tree);
    MakeRepo(repo, kHeader, GoodPatches());
  }
  ImportOptions imp(bool force = false) const { return {tree.string(), repo.string(), force, "", ""}; }
  ExportOptions exp(bool dry = false) const { return {tree.string(), repo.string(), dry}; }
};

TEST(RoundTrip, BaseIsReproducible) {
  Fixture f;
  // The fixtures record this base; the same tree at the same date and
  // identity gives the same commit on every machine.
  EXPECT_EQ(f.base, "015746923cefb1962fcf105296d5b8cc594556c5");
}

TEST(RoundTrip, ImportThenExportIsByteIdentical) {
  Fixture f;
  const auto before = Snapshot(f.repo);
  std::ostringstream log;
  Import(f.imp(), log);
  EXPECT_EQ(StripNewline(GitIn(f.tree, {"rev-list", "--count", "base..HEAD"})), "3");
  EXPECT_EQ(StripNewline(GitIn(f.tree, {"log", "-1", "--format=%an <%ae>|%cn <%ce>|%ad", "--date=iso-strict"})),
            "Test Developer <dev@patchq.invalid>|Test Developer <dev@patchq.invalid>|2000-01-01T00:00:00+00:00");

  // Wipe patches/ so export has to write every byte itself.
  fs::remove_all(f.repo / "patches");
  std::ostringstream elog;
  EXPECT_EQ(Export(f.exp(), elog), 3) << elog.str();  // 3 patches; series unchanged
  const auto after = Snapshot(f.repo);
  EXPECT_EQ(before, after);
  // And against the checked-in fixtures themselves.
  for (const auto& p : GoodPatches()) {
    EXPECT_EQ(ReadFile(f.repo / "patches" / p.name), ReadFile(TestData() / p.source)) << p.name;
  }
  EXPECT_EQ(ReadFile(f.repo / "series"), ReadFile(TestData() / "good/series"));
}

TEST(RoundTrip, ImportGivesTheSameCommitsEverywhere) {
  Fixture a, b;
  std::ostringstream log;
  // Commit ids depend on nothing but the patches (not on time or user).
  std::string head_a = Import(a.imp(), log);
  std::string head_b = Import(b.imp(), log);
  EXPECT_EQ(head_a, head_b);
  EXPECT_EQ(Import(a.imp(), log), head_a);  // re-import from a tree at HEAD
}

TEST(RoundTrip, ExportLeavesUnchangedFilesAlone) {
  Fixture f;
  std::ostringstream log;
  Import(f.imp(), log);
  const fs::path p1 = f.repo / "patches" / GoodPatches()[0].name;
  // An old mtime shows whether export rewrote the file.
  const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24);
  fs::last_write_time(p1, old_time);
  fs::last_write_time(f.repo / "series", old_time);
  std::ostringstream elog;
  EXPECT_EQ(Export(f.exp(), elog), 0) << elog.str();
  EXPECT_EQ(fs::last_write_time(p1), old_time);
  EXPECT_EQ(fs::last_write_time(f.repo / "series"), old_time);
  EXPECT_NE(elog.str().find("unchanged series"), std::string::npos);
}

TEST(RoundTrip, ExportFollowsTheTree) {
  Fixture f;
  std::ostringstream log;
  Import(f.imp(), log);
  const auto good = GoodPatches();
  const auto p1_time = fs::file_time_type::clock::now() - std::chrono::hours(24);
  fs::last_write_time(f.repo / "patches" / good[0].name, p1_time);
  fs::last_write_time(f.repo / "series", p1_time);

  // Drop the last commit and reword the second: patch 3 leaves the series,
  // patch 2 changes name and bytes, patch 1 stays untouched.
  GitIn(f.tree, {"reset", "-q", "--hard", "HEAD~1"});
  GitIn(f.tree, {"commit", "-q", "--amend", "-m",
                 "lib: greet: Add farewell() too\n\nSay goodbye as well.\n\n"
                 "Signed-off-by: Test Developer <dev@patchq.invalid>"});
  // A stray file that is not a numbered patch is left alone.
  WriteFile(f.repo / "patches" / "notes.txt", "keep me\n");

  std::ostringstream dry;
  EXPECT_GT(Export(f.exp(true), dry), 0);
  EXPECT_TRUE(fs::exists(f.repo / "patches" / good[2].name)) << "dry run must not write";

  std::ostringstream elog;
  Export(f.exp(), elog);
  Series s = ReadSeries((f.repo / "series").string());
  ASSERT_EQ(s.patches.size(), 2u);
  EXPECT_EQ(s.patches[0].name, good[0].name);
  EXPECT_EQ(s.patches[1].name, "0002-lib-greet-Add-farewell-too.patch");
  EXPECT_EQ(s.header, kHeader);  // leading comments kept
  EXPECT_FALSE(fs::exists(f.repo / "patches" / good[1].name));
  EXPECT_FALSE(fs::exists(f.repo / "patches" / good[2].name));
  EXPECT_TRUE(fs::exists(f.repo / "patches" / "notes.txt"));
  EXPECT_EQ(fs::last_write_time(f.repo / "patches" / good[0].name), p1_time);
  EXPECT_NE(fs::last_write_time(f.repo / "series"), p1_time);
  std::string p2 = ReadFile(f.repo / "patches" / s.patches[1].name);
  EXPECT_NE(p2.find("\nDate: Sat, 1 Jan 2000 00:00:00 +0000\n"), std::string::npos);
  EXPECT_EQ(p2.rfind("From 0000000000000000000000000000000000000000 ", 0), 0u);
}

TEST(RoundTrip, ExportFixesDates) {
  EXPECT_EQ(NormalizePatchDate("From: a\nDate: Tue, 5 May 2023 12:00:00 +0200\nSubject: x\n\nDate: body\n"),
            "From: a\nDate: Sat, 1 Jan 2000 00:00:00 +0000\nSubject: x\n\nDate: body\n");
  EXPECT_EQ(NormalizePatchDate("Date: x\nSubject: x\n\nb\n"), "Date: Sat, 1 Jan 2000 00:00:00 +0000\nSubject: x\n\nb\n");
  EXPECT_EQ(NormalizePatchDate("From: a\nSubject: x\n\nDate: body\n"),
            "From: a\nSubject: x\nDate: Sat, 1 Jan 2000 00:00:00 +0000\n\nDate: body\n");
  Fixture f;
  std::ostringstream log;
  Import(f.imp(), log);
  // A commit made now, by someone else: the patch must not carry its date.
  RunOptions now = IsolatedGit();
  now.env["GIT_AUTHOR_NAME"] = now.env["GIT_COMMITTER_NAME"] = "Test Developer";
  now.env["GIT_AUTHOR_EMAIL"] = now.env["GIT_COMMITTER_EMAIL"] = "dev@patchq.invalid";
  now.env["GIT_AUTHOR_DATE"] = now.env["GIT_COMMITTER_DATE"] = "2023-05-05T12:00:00+02:00";
  WriteFile(f.tree / "lib/new.c", "/* new */\n");
  Git(f.tree.string(), {"add", "lib/new.c"}, now);
  Git(f.tree.string(), {"commit", "-q", "-m", "lib: Add new.c\n\nMore.\n\nSigned-off-by: Test Developer <dev@patchq.invalid>"},
      now);
  Export(f.exp(), log);
  std::string p4 = ReadFile(f.repo / "patches" / "0004-lib-Add-new.c.patch");
  EXPECT_NE(p4.find("\nDate: Sat, 1 Jan 2000 00:00:00 +0000\n"), std::string::npos) << p4;
  EXPECT_EQ(p4.find("2023"), std::string::npos) << p4;
  // Re-import gives the fixed-date commit; exporting it changes nothing.
  Import(f.imp(), log);
  std::ostringstream elog;
  EXPECT_EQ(Export(f.exp(), elog), 0) << elog.str();
  EXPECT_EQ(StripNewline(GitIn(f.tree, {"log", "-1", "--format=%ad", "--date=iso-strict"})), "2000-01-01T00:00:00+00:00");
}

TEST(RoundTrip, ImportIgnoresHandWrittenDates) {
  Fixture a, b;
  std::ostringstream log;
  const std::string head = Import(a.imp(), log);
  const fs::path p1 = b.repo / "patches" / GoodPatches()[0].name;
  std::string text = ReadFile(p1);
  WriteFile(p1, std::regex_replace(text, std::regex("\nDate: [^\n]*"), "\nDate: Tue, 5 May 2023 12:00:00 +0200"));
  std::ostringstream blog;
  EXPECT_EQ(Import(b.imp(), blog), head);
  EXPECT_NE(blog.str().find("note: " + GoodPatches()[0].name + ": Date: taken as"), std::string::npos) << blog.str();
}

TEST(RoundTrip, ImportRefusesDirtyTree) {
  Fixture f;
  WriteFile(f.tree / "README", "local edit\n");
  std::ostringstream log;
  try {
    Import(f.imp(), log);
    FAIL() << "import of a dirty tree must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("uncommitted changes"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ReadFile(f.tree / "README"), "local edit\n");  // untouched
  Import(f.imp(/*force=*/true), log);
  EXPECT_EQ(StripNewline(GitIn(f.tree, {"rev-list", "--count", "base..HEAD"})), "3");
}

TEST(RoundTrip, ImportReportsMissingAndStalePatches) {
  Fixture f;
  std::ostringstream log;
  {
    MakeRepo(f.repo, kHeader, {GoodPatches()[0], {"0002-missing.patch", ""}});
    try {
      Import(f.imp(), log);
      FAIL() << "a series naming a missing file must fail";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("series:6: names '0002-missing.patch' but"), std::string::npos)
          << e.what();
    }
  }
  {
    MakeRepo(f.repo, kHeader, {GoodPatches()[0], {"0002-stale.patch", "bad/stale.patch"}});
    fs::remove(f.repo / "patches" / "0002-missing.patch");
    try {
      Import(f.imp(), log);
      FAIL() << "a patch that does not apply must fail";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("series:6: '0002-stale.patch' does not apply"), std::string::npos)
          << e.what();
    }
    // Left at base, not half-applied, no am in progress.
    EXPECT_EQ(StripNewline(GitIn(f.tree, {"rev-parse", "HEAD"})), f.base);
    EXPECT_FALSE(fs::exists(f.tree / ".git/rebase-apply"));
  }
}

TEST(RoundTrip, ExportRejectsMerges) {
  Fixture f;
  std::ostringstream log;
  Import(f.imp(), log);
  GitIn(f.tree, {"checkout", "-q", "-b", "side", "base"});
  WriteFile(f.tree / "side.txt", "side\n");
  GitIn(f.tree, {"add", "side.txt"});
  GitIn(f.tree, {"commit", "-q", "-m", "side: x\n\ny"});
  GitIn(f.tree, {"checkout", "-q", "master"});
  GitIn(f.tree, {"merge", "-q", "--no-edit", "side"});
  try {
    Export(f.exp(), log);
    FAIL() << "export of a merge must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("merge commits"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace patchq
