// mbox: structure, determinism, authorship, and acceptance by b4 am.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tools/patchq/error.h"
#include "tools/patchq/git.h"
#include "tools/patchq/import.h"
#include "tools/patchq/mbox.h"
#include "tools/patchq/mime.h"
#include "tools/patchq/patch.h"
#include "tools/patchq/series.h"
#include "tools/patchq/testutil.h"

namespace patchq {
namespace {

using testing::GitIn;
using testing::GoodPatches;
using testing::MakeFakeTree;
using testing::MakeRepo;
using testing::RepoPatch;
using testing::TestData;

std::vector<std::string> Matches(const std::string& text, const std::string& re) {
  std::vector<std::string> out;
  std::regex r(re, std::regex::multiline);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), r); it != std::sregex_iterator(); ++it) {
    out.push_back((*it).size() > 1 ? (*it)[1].str() : (*it)[0].str());
  }
  return out;
}

class MboxTest : public ::testing::Test {
 protected:
  TempDir tmp{"patchq-mbox-test"};
  fs::path tree = tmp.path() / "linux";
  fs::path repo = tmp.path() / "repo";
  std::string base;

  void SetUp() override {
    base = MakeFakeTree(tree);
    MakeRepo(repo, {"# test", "# base: fake tree"}, GoodPatches());
    SetSubmitter("Sub Mitter", "sub@example.invalid");
  }
  void SetSubmitter(const std::string& name, const std::string& email) {
    if (!fs::exists(repo / ".git")) GitIn(repo, {"init", "-q"});
    GitIn(repo, {"config", "user.name", name});
    GitIn(repo, {"config", "user.email", email});
  }
  MboxOptions Opts() const {
    MboxOptions o;
    o.tree = tree.string();
    o.repo = repo.string();
    return o;
  }
};

TEST_F(MboxTest, Structure) {
  std::string m = Mbox(Opts());
  EXPECT_EQ(Matches(m, "^From 0{40} Mon Sep 17 00:00:00 2001$").size(), 4u);
  EXPECT_EQ(Matches(m, "^Subject: (.*)$"),
            (std::vector<std::string>{"[PATCH v1 0/3] Patch series for fake tree",
                                      "[PATCH v1 1/3] lib: greet: Greet the whole world",
                                      "[PATCH v1 2/3] lib: greet: Add farewell()",
                                      "[PATCH v1 3/3] docs: README: Describe lib/greet.c"}));
  std::vector<std::string> ids = Matches(m, "^Message-Id: (<[^>]+>)$");
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 4u);
  EXPECT_EQ(Matches(m, "^In-Reply-To: (.*)$"), std::vector<std::string>(3, ids[0]));
  EXPECT_EQ(Matches(m, "^References: (.*)$"), std::vector<std::string>(3, ids[0]));
  EXPECT_EQ(Matches(m, "^From: (.*)$"),
            (std::vector<std::string>{"Sub Mitter <sub@example.invalid>", "Sub Mitter <sub@example.invalid>",
                                      "Test Developer <dev@patchq.invalid>", "Sub Mitter <sub@example.invalid>",
                                      "Test Developer <dev@patchq.invalid>", "Sub Mitter <sub@example.invalid>",
                                      "Test Developer <dev@patchq.invalid>"}));
  // The in-body From: is the first body line of every patch.
  EXPECT_EQ(Matches(m, "Content-Transfer-Encoding: 8bit\n\n(From: .*)\n\n").size(), 3u);
  EXPECT_EQ(Matches(m, "^base-commit: (.*)$"), std::vector<std::string>{base});
  EXPECT_NE(m.find("Test Developer (3):\n  lib: greet: Greet the whole world\n"), std::string::npos) << m;
  EXPECT_NE(m.find(" 3 files changed, 10 insertions(+), 2 deletions(-)\n"), std::string::npos) << m;
  EXPECT_NE(m.find(" lib/greet.c | 9 +++++++--\n"), std::string::npos) << m;
  EXPECT_EQ(Matches(m, "^Date: (.*)$").front(), "Sat, 1 Jan 2000 00:00:00 +0000");
}

TEST_F(MboxTest, DeterministicAndContentDerived) {
  std::string a = Mbox(Opts());
  EXPECT_EQ(a, Mbox(Opts()));
  // Another version, another thread.
  MboxOptions v3 = Opts();
  v3.version = 3;
  std::string c = Mbox(v3);
  EXPECT_EQ(Matches(c, "^Subject: (\\[PATCH v3 0/3\\]).*$").size(), 1u);
  EXPECT_NE(Matches(a, "^Message-Id: (.*)$")[0], Matches(c, "^Message-Id: (.*)$")[0]);
  // Changing patch 3 changes its id and the cover's, not patch 1's.
  std::string p3 = ReadFile(repo / "patches" / GoodPatches()[2].name);
  WriteFile(repo / "patches" / GoodPatches()[2].name,
            std::regex_replace(p3, std::regex("so readers need not"), "so that readers need not"));
  std::string b = Mbox(Opts());
  auto ia = Matches(a, "^Message-Id: (.*)$"), ib = Matches(b, "^Message-Id: (.*)$");
  EXPECT_NE(ia[0], ib[0]);
  EXPECT_EQ(ia[1], ib[1]);
  EXPECT_NE(ia[3], ib[3]);
}

TEST_F(MboxTest, SubmitterIsAuthorNoInBodyFrom) {
  SetSubmitter("Test Developer", "dev@patchq.invalid");
  std::string m = Mbox(Opts());
  EXPECT_EQ(Matches(m, "^From: (.*)$"), std::vector<std::string>(4, "Test Developer <dev@patchq.invalid>"));
}

TEST_F(MboxTest, NonAsciiSubmitter) {
  SetSubmitter("J\xc3\xb6rg Sender", "joerg@example.invalid");
  std::string m = Mbox(Opts());
  std::vector<std::string> from = Matches(m, "^From: (=\\?UTF-8\\?q\\?.*)$");
  ASSERT_EQ(from.size(), 4u) << m;
  EXPECT_EQ(DecodeHeader(from[0]), "J\xc3\xb6rg Sender <joerg@example.invalid>");
  EXPECT_EQ(Matches(m, "^From: Test Developer <dev@patchq.invalid>$").size(), 3u);  // in-body
}

TEST_F(MboxTest, CoverFileAndRecipients) {
  WriteFile(tmp.path() / "cover.txt", "KVM: guest_memfd for 6.1\n\nWhy this series exists.\n");
  MboxOptions o = Opts();
  o.cover_file = (tmp.path() / "cover.txt").string();
  o.to = {"a@example.invalid", "b@example.invalid"};
  std::string m = Mbox(o);
  EXPECT_EQ(Matches(m, "^Subject: (.*)$")[0], "[PATCH v1 0/3] KVM: guest_memfd for 6.1");
  EXPECT_NE(m.find("\n\nWhy this series exists.\n\nbase-commit: " + base + "\n"), std::string::npos) << m;
  EXPECT_EQ(Matches(m, "^To: a@example.invalid,\n b@example.invalid$").size(), 4u);
}

TEST_F(MboxTest, Errors) {
  MakeRepo(repo, {"# test"}, {GoodPatches()[0], GoodPatches()[1], {"0003-from-line.patch", "bad/from-line.patch"}});
  try {
    Mbox(Opts());
    FAIL() << "a 'From ' line must be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("0003-from-line.patch:7: line starts with 'From '"), std::string::npos)
        << e.what();
  }
  MakeRepo(repo, {"# test"}, {GoodPatches()[0], {"0002-missing.patch", ""}});
  EXPECT_THROW(Mbox(Opts()), Error);
}

// b4 am takes the mbox: it finds every patch, writes an am-ready mbox that
// recreates our commits (authorship included), and its quilt folder (-Q)
// lists the same patches in the same order as our series.
TEST_F(MboxTest, AcceptedByB4) {
  MboxOptions o = Opts();
  o.version = 2;
  const fs::path mbx = tmp.path() / "series.mbx";
  WriteFile(mbx, Mbox(o));
  const fs::path work = tmp.path() / "b4";
  fs::create_directories(work / "am");
  fs::create_directories(work / "quilt");
  GitIn(work, {"init", "-q"});
  GitIn(work, {"config", "user.name", "B4 User"});
  GitIn(work, {"config", "user.email", "b4@example.invalid"});
  RunOptions ro;
  ro.cwd = work.string();
  ro.merge_stderr = true;
  // b4 records what it applied under $XDG_DATA_HOME and caches under
  // $XDG_CACHE_HOME (default: in $HOME, read-only in Bazel's sandbox).
  ro.env["XDG_DATA_HOME"] = (work / "xdg-data").string();
  ro.env["XDG_CACHE_HOME"] = (work / "xdg-cache").string();
  RunResult am = patchq::Run(
      {"b4", "--offline-mode", "--no-stdin", "am", "-m", mbx.string(), "-o", (work / "am").string()}, ro);
  ASSERT_EQ(am.status, 0) << am.out;
  EXPECT_NE(am.out.find("Total patches: 3"), std::string::npos) << am.out;
  EXPECT_EQ(am.out.find("ERROR"), std::string::npos) << am.out;
  fs::path b4mbx;
  for (const auto& e : fs::directory_iterator(work / "am")) {
    if (e.path().extension() == ".mbx") b4mbx = e.path();
  }
  ASSERT_FALSE(b4mbx.empty()) << am.out;
  std::string written = ReadFile(b4mbx);
  // b4 exits 0 even when it lost patches: count what it wrote.
  EXPECT_EQ(Matches(written, "^Subject: \\[PATCH v2 ([0-9]/3)\\]").size(), 3u) << written;

  // git am of b4's output onto base recreates exactly the imported tree.
  GitIn(tree, {"am", "-q", b4mbx.string()});
  EXPECT_EQ(StripNewline(GitIn(tree, {"rev-list", "--count", "base..HEAD"})), "3");
  EXPECT_EQ(StripNewline(GitIn(tree, {"log", "--format=%an <%ae>", "-1"})), "Test Developer <dev@patchq.invalid>");
  std::string via_b4 = StripNewline(GitIn(tree, {"rev-parse", "HEAD^{tree}"}));
  std::ostringstream log;
  Import({tree.string(), repo.string(), true}, log);
  EXPECT_EQ(StripNewline(GitIn(tree, {"rev-parse", "HEAD^{tree}"})), via_b4);

  RunResult q = patchq::Run({"b4", "--offline-mode", "--no-stdin", "am", "-Q", "-m", mbx.string(), "-o", (work / "quilt").string()}, ro);
  ASSERT_EQ(q.status, 0) << q.out;
  fs::path qdir;
  for (const auto& e : fs::directory_iterator(work / "quilt")) {
    if (e.is_directory()) qdir = e.path();
  }
  ASSERT_FALSE(qdir.empty()) << q.out;
  Series theirs = ReadSeries((qdir / "series").string());
  Series ours = ReadSeries((repo / "series").string());
  ASSERT_EQ(theirs.patches.size(), ours.patches.size());
  for (size_t i = 0; i < ours.patches.size(); ++i) {
    // Same position (NNNN prefix), same subject, same author.
    EXPECT_EQ(theirs.patches[i].name.substr(0, 4), ours.patches[i].name.substr(0, 4));
    std::string text = ReadFile(qdir / theirs.patches[i].name);
    Patch mine = ReadPatch((repo / "patches" / ours.patches[i].name).string());
    EXPECT_NE(text.find("Subject: " + mine.Summary() + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("From: Test Developer <dev@patchq.invalid>\n"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace patchq
