// mbox: git format-patch's series as the sender posts it: structure, the
// sender's identity (the project identity never reaches a mail), the cover
// letter, recipients, and the round trip through b4 am back to the queue.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <regex>
#include <set>
#include <sstream>

#include "tools/patchq/error.h"
#include "tools/patchq/export.h"
#include "tools/patchq/git.h"
#include "tools/patchq/import.h"
#include "tools/patchq/mbox.h"
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

std::vector<std::string> Matches(const std::string& text, const std::string& re) {
  std::vector<std::string> out;
  std::regex r(re, std::regex::multiline);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), r); it != std::sregex_iterator(); ++it) {
    out.push_back((*it).size() > 1 ? (*it)[1].str() : (*it)[0].str());
  }
  return out;
}

// The messages of an mbox, split where git format-patch starts one.
std::vector<std::string> Messages(const std::string& mbox) {
  std::vector<std::string> out;
  std::regex start("^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$", std::regex::multiline);
  std::vector<size_t> at;
  for (auto it = std::sregex_iterator(mbox.begin(), mbox.end(), start); it != std::sregex_iterator(); ++it) {
    at.push_back(static_cast<size_t>(it->position()));
  }
  for (size_t i = 0; i < at.size(); ++i) out.push_back(mbox.substr(at[i], (i + 1 < at.size() ? at[i + 1] : mbox.size()) - at[i]));
  return out;
}

std::string Header(const std::string& msg, const std::string& name) {
  auto m = Matches(msg.substr(0, msg.find("\n\n")), "^" + name + ": (.*)$");
  return m.empty() ? "" : m[0];
}

// The sender's git identity must come from the repository (or the global
// config): the tests' own HOME may have one, so no global config at all.
class MboxTest : public ::testing::Test {
 protected:
  TempDir tmp{"patchq-mbox-test"};
  fs::path tree = tmp.path() / "linux";
  fs::path repo = tmp.path() / "repo";
  std::string base;
  std::ostringstream log;

  static void SetUpTestSuite() {
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  }
  void SetUp() override {
    base = MakeFakeTree(tree);
    MakeRepo(repo, ReadSeries((TestData() / "good/series").string()).header, GoodPatches());
    WriteFile(repo / "patches/cover.txt", "lib: greet: Say hello and goodbye\n\nGreetings for everyone.\n");
    GitIn(repo, {"init", "-q"});
    SetSender("Sue Sender", "sue@example.org");
    std::ostringstream ilog;
    Import({tree.string(), repo.string(), false, "", ""}, ilog);
  }
  void SetSender(const std::string& name, const std::string& email) {
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

TEST_F(MboxTest, GitFormatPatchSeriesFromTheSender) {
  const std::string m = Mbox(Opts(), log);
  const auto msgs = Messages(m);
  ASSERT_EQ(msgs.size(), 4u) << m;
  EXPECT_EQ(Matches(m, "^Subject: (.*)$"),
            (std::vector<std::string>{"[PATCH 0/3] lib: greet: Say hello and goodbye",
                                      "[PATCH 1/3] lib: greet: Greet the whole world",
                                      "[PATCH 2/3] lib: greet: Add farewell()",
                                      "[PATCH 3/3] docs: README: Describe lib/greet.c"}));
  // git's threading: unique Message-Ids, every patch replying to the cover.
  std::vector<std::string> ids;
  for (const auto& msg : msgs) ids.push_back(Header(msg, "Message-Id"));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 4u);
  for (size_t i = 1; i < msgs.size(); ++i) {
    EXPECT_EQ(Header(msgs[i], "In-Reply-To"), ids[0]);
    EXPECT_EQ(Header(msgs[i], "References"), ids[0]);
  }
  // From: and Signed-off-by: of the sender, once per patch, real dates.
  EXPECT_EQ(Matches(m, "^From: (.*)$"), std::vector<std::string>(4, "Sue Sender <sue@example.org>"));
  EXPECT_EQ(Matches(m, "^(Signed-off-by: .*)$"), std::vector<std::string>(3, "Signed-off-by: Sue Sender <sue@example.org>"));
  char year[8];
  const std::time_t now = std::time(nullptr);
  std::strftime(year, sizeof year, "%Y", std::gmtime(&now));
  for (const auto& msg : msgs) {
    EXPECT_NE(Header(msg, "Date").find(year), std::string::npos) << Header(msg, "Date");
  }
  // The cover: the cover file, git's shortlog and diffstat, base-commit: and change-id:.
  EXPECT_NE(msgs[0].find("\n\nGreetings for everyone.\n\nSue Sender (3):\n  lib: greet: Greet the whole world\n"),
            std::string::npos)
      << msgs[0];
  EXPECT_NE(msgs[0].find(" 3 files changed, 10 insertions(+), 2 deletions(-)\n"), std::string::npos) << msgs[0];
  EXPECT_NE(msgs[0].find("\nbase-commit: " + base + "\nchange-id: 20000101-patchq-fixture-0123456789ab\n"),
            std::string::npos)
      << msgs[0];
  // The changelogs and diffs are the queue's.
  EXPECT_NE(msgs[1].find("Say hello to the world, and keep greeting_length() in step with the new\n"),
            std::string::npos);
  EXPECT_NE(msgs[2].find("+const char *farewell(void)"), std::string::npos) << msgs[2];
}

// The project identity is the queue's placeholder: no mail carries it,
// neither the fixtures' nor the project's real one.
TEST_F(MboxTest, ProjectIdentityNeverReachesTheMail) {
  const std::string m = Mbox(Opts(), log);
  EXPECT_EQ(m.find("Test Developer"), std::string::npos) << m;
  EXPECT_EQ(m.find("dev@patchq.invalid"), std::string::npos) << m;

  // The same with the project's IDENTITY (gmem61 developers).
  TempDir t2("patchq-mbox-real-id");
  const fs::path tree2 = t2.path() / "linux", repo2 = t2.path() / "repo";
  MakeFakeTree(tree2);
  fs::create_directories(repo2 / "patches");
  WriteFile(repo2 / "IDENTITY", "name = gmem61 developers\nemail = devel@gmem61.invalid\n");
  WriteFile(repo2 / "series", ReadFile(repo / "series"));
  for (const auto& p : GoodPatches()) {
    std::string text = ReadFile(TestData() / p.source);
    text = std::regex_replace(text, std::regex("Test Developer <dev@patchq.invalid>"),
                              "gmem61 developers <devel@gmem61.invalid>");
    WriteFile(repo2 / "patches" / p.name, text);
  }
  WriteFile(repo2 / "patches/cover.txt", "lib: greet: Say hello\n\nBody.\n");
  GitIn(repo2, {"init", "-q"});
  GitIn(repo2, {"config", "user.name", "Sue Sender"});
  GitIn(repo2, {"config", "user.email", "sue@example.org"});
  std::ostringstream ilog;
  Import({tree2.string(), repo2.string(), false, "", ""}, ilog);
  ASSERT_EQ(StripNewline(GitIn(tree2, {"log", "-1", "--format=%an <%ae>"})), "gmem61 developers <devel@gmem61.invalid>");
  MboxOptions o;
  o.tree = tree2.string();
  o.repo = repo2.string();
  const std::string m2 = Mbox(o, log);
  EXPECT_EQ(Messages(m2).size(), 4u);
  EXPECT_EQ(m2.find("gmem61 developers"), std::string::npos) << m2;
  EXPECT_EQ(m2.find("devel@gmem61.invalid"), std::string::npos) << m2;

  // A changelog that names the placeholder elsewhere is refused, not mailed.
  GitIn(tree2, {"commit", "-q", "--amend", "-m",
                "docs: README: Describe lib/greet.c\n\nName them.\n\nCo-developed-by: gmem61 developers "
                "<devel@gmem61.invalid>\nSigned-off-by: gmem61 developers <devel@gmem61.invalid>"});
  try {
    Mbox(o, log);
    FAIL() << "the placeholder in a changelog must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("would reach the mail"), std::string::npos) << e.what();
  }
  // In another letter case too.
  GitIn(tree2, {"commit", "-q", "--amend", "-m",
                "docs: README: Describe lib/greet.c\n\nName them.\n\nReported-by: Someone "
                "<DEVEL@GMEM61.invalid>\nSigned-off-by: gmem61 developers <devel@gmem61.invalid>"});
  try {
    Mbox(o, log);
    FAIL() << "the placeholder's address in upper case must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("would reach the mail"), std::string::npos) << e.what();
  }
}

TEST_F(MboxTest, RefusedWithoutASenderIdentity) {
  GitIn(repo, {"config", "--unset", "user.email"});
  try {
    Mbox(Opts(), log);
    FAIL() << "no user.email must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no sender identity: git config user.email is not set"), std::string::npos)
        << e.what();
  }
  // The placeholder configured as one's own identity is no sender either,
  // whatever the letter case of its address or name.
  for (const auto& [name, email] : std::vector<std::pair<std::string, std::string>>{
           {"Test Developer", "dev@patchq.invalid"},
           {"Sue Sender", "DEV@Patchq.Invalid"},
           {"test developer", "sue@example.org"}}) {
    SetSender(name, email);
    try {
      Mbox(Opts(), log);
      ADD_FAILURE() << "the project identity as sender must be refused: " << name << " <" << email << ">";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is the project identity"), std::string::npos) << e.what();
    }
  }
}

TEST_F(MboxTest, RerollCountAndChanges) {
  MboxOptions o = Opts();
  o.reroll = "3";
  std::string m = Mbox(o, log);
  EXPECT_EQ(Matches(m, "^Subject: \\[(PATCH v3 [0-3]/3)\\]").size(), 4u) << m;
  EXPECT_NE(log.str().find("no 'Changes since v2' section"), std::string::npos) << log.str();
  WriteFile(repo / "patches/changes-v3.txt", "- Reworded 2/3.\n");
  m = Mbox(o, log);
  EXPECT_NE(m.find("\n\nGreetings for everyone.\n\nChanges since v2:\n- Reworded 2/3.\n\nSue Sender (3):\n"),
            std::string::npos)
      << m;
  o.changes_file = (repo / "patches/changes-v3.txt").string();
  o.reroll = "";
  EXPECT_THROW(Mbox(o, log), Error);  // "changes since v0"

  for (const char* bad : {"0", "-1", "1000", "99999999999", "x", "2x", "1.5", " 2", ""}) {
    try {
      ParseRerollCount(bad);
      ADD_FAILURE() << "'" << bad << "' must be refused";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected a whole number from 1 to 999"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(ParseRerollCount("1"), 1);
  EXPECT_EQ(ParseRerollCount("999"), 999);
}

TEST_F(MboxTest, RecipientsFromGetMaintainer) {
  MboxOptions o = Opts();
  o.to = {"list@example.org"};
  o.recipients_auto = true;
  o.get_maintainer = (TestData() / "get_maintainer.pl").string();
  const auto msgs = Messages(Mbox(o, log));
  ASSERT_EQ(msgs.size(), 4u);
  auto headers = [](const std::string& msg) { return msg.substr(0, msg.find("\n\n") + 1); };
  // Patch 1 touches lib/: its maintainer To:, reviewer and lists Cc:.
  EXPECT_NE(headers(msgs[1]).find("To: list@example.org,\n    Lib Maintainer <lib@example.invalid>\n"
                                  "Cc: \"Rev, Lib\" <librev@example.invalid>,\n    lib-list@example.invalid,\n"
                                  "    all@example.invalid\n"),
            std::string::npos)
      << headers(msgs[1]);
  // Patch 3 touches README only.
  EXPECT_NE(headers(msgs[3]).find("To: list@example.org,\n    Doc Maintainer <doc@example.invalid>\n"
                                  "Cc: docs@example.invalid,\n    all@example.invalid\n"),
            std::string::npos)
      << headers(msgs[3]);
  EXPECT_EQ(headers(msgs[3]).find("lib@example.invalid"), std::string::npos);
  // The cover goes to everyone.
  EXPECT_NE(headers(msgs[0]).find("To: list@example.org,\n    Lib Maintainer <lib@example.invalid>,\n"
                                  "    Doc Maintainer <doc@example.invalid>\n"),
            std::string::npos)
      << headers(msgs[0]);
  EXPECT_NE(headers(msgs[0]).find("docs@example.invalid"), std::string::npos);
}

TEST_F(MboxTest, RefusesFromLines) {
  GitIn(tree, {"commit", "-q", "--amend", "-m",
               "docs: README: Describe lib/greet.c\n\nName them.\nFrom now on, read README.\n\n"
               "Signed-off-by: Test Developer <dev@patchq.invalid>"});
  try {
    Mbox(Opts(), log);
    FAIL() << "a 'From ' line must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line starts with 'From '"), std::string::npos) << e.what();
  }
}

// A name that mail quotes ("Sue Q. Sender": the dot; b4 am keeps the
// quotes) or that is not ASCII is the sender's all the same: import --mbox
// gives its From: back to the project identity, so the commits are the
// queue's again.
TEST_F(MboxTest, ImportTakesBackQuotedAndNonAsciiSenders) {
  const std::string queue_head = StripNewline(GitIn(tree, {"rev-parse", "HEAD"}));
  for (const std::string name : {"Sue Q. Sender", "S\xc3\xbc" "e Sender"}) {
    SetSender(name, "sue@example.org");
    const std::string posted = Mbox(Opts(), log);
    if (name == "Sue Q. Sender") {
      EXPECT_NE(posted.find("\nFrom: \"Sue Q. Sender\" <sue@example.org>\n"), std::string::npos) << posted;
    }
    const fs::path mbx = tmp.path() / "series.mbx";
    WriteFile(mbx, posted);
    std::ostringstream ilog;
    Import({tree.string(), repo.string(), true, mbx.string(), name + " <sue@example.org>"}, ilog);
    EXPECT_EQ(StripNewline(GitIn(tree, {"log", "-1", "--format=%an <%ae>"})), "Test Developer <dev@patchq.invalid>")
        << name;
    EXPECT_EQ(StripNewline(GitIn(tree, {"rev-parse", "HEAD"})), queue_head) << name << "\n" << ilog.str();
  }
}

// b4 am takes the mbox, and what it writes, applied with git am (patchq
// import --mbox) and exported, is the queue again, byte for byte.
TEST_F(MboxTest, RoundTripThroughB4IsByteIdentical) {
  // A name and address long enough that git folds From: (b4 0.12 cannot
  // take a folded one; patchq unfolds it).
  const std::string name = "Sue Sender-With-A-Rather-Long-Name", email = "sue.sender.long@mail.subdomain.example.org";
  SetSender(name, email);
  MboxOptions o = Opts();
  o.reroll = "2";
  o.recipients_auto = true;
  o.get_maintainer = (TestData() / "get_maintainer.pl").string();
  const fs::path mbx = tmp.path() / "series.mbx";
  const std::string posted = Mbox(o, log);
  EXPECT_EQ(Matches(posted, "^(From: .*)$"), std::vector<std::string>(4, "From: " + name + " <" + email + ">"));
  WriteFile(mbx, posted);
  const fs::path work = tmp.path() / "b4";
  fs::create_directories(work / "am");
  fs::create_directories(work / "quilt");
  GitIn(work, {"init", "-q"});
  GitIn(work, {"config", "user.name", "B4 User"});
  GitIn(work, {"config", "user.email", "b4@example.org"});
  RunOptions ro;
  ro.cwd = work.string();
  ro.merge_stderr = true;
  // b4 records what it applied under $XDG_DATA_HOME and caches under
  // $XDG_CACHE_HOME (default: in $HOME, read-only in Bazel's sandbox).
  ro.env["XDG_DATA_HOME"] = (work / "xdg-data").string();
  ro.env["XDG_CACHE_HOME"] = (work / "xdg-cache").string();
  // b4 must be installed (Debian package b4): a missing b4 fails here.
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
  const std::string written = ReadFile(b4mbx);
  // b4 exits 0 even when it lost patches: count what it wrote.
  EXPECT_EQ(Matches(written, "^Subject: \\[PATCH v2 ([0-9]/3)\\]").size(), 3u) << written;

  // Back into the queue: a fresh tree, patches/ empty, series with its header only.
  TempDir back("patchq-mbox-back");
  const fs::path tree2 = back.path() / "linux", repo2 = back.path() / "repo";
  MakeFakeTree(tree2);
  Series header_only = ReadSeries((repo / "series").string());
  header_only.patches.clear();
  fs::create_directories(repo2 / "patches");
  WriteFile(repo2 / "series", header_only.Render());
  fs::copy_file(repo / "IDENTITY", repo2 / "IDENTITY");
  std::ostringstream ilog;
  Import({tree2.string(), repo2.string(), false, b4mbx.string(), name + " <" + email + ">"}, ilog);
  EXPECT_EQ(StripNewline(GitIn(tree2, {"rev-parse", "HEAD"})), StripNewline(GitIn(tree, {"rev-parse", "HEAD"})))
      << ilog.str();
  std::ostringstream elog;
  Export({tree2.string(), repo2.string(), false}, elog);
  for (const auto& p : GoodPatches()) {
    EXPECT_EQ(ReadFile(repo2 / "patches" / p.name), ReadFile(TestData() / p.source)) << p.name;
  }
  EXPECT_EQ(ReadFile(repo2 / "series"), ReadFile(TestData() / "good/series"));

  // b4 am -Q: a quilt folder with our patches, in our order, from the sender.
  RunResult q = patchq::Run(
      {"b4", "--offline-mode", "--no-stdin", "am", "-Q", "-m", mbx.string(), "-o", (work / "quilt").string()}, ro);
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
    EXPECT_EQ(theirs.patches[i].name.substr(0, 4), ours.patches[i].name.substr(0, 4));
    const std::string text = ReadFile(qdir / theirs.patches[i].name);
    Patch mine = ReadPatch((repo / "patches" / ours.patches[i].name).string());
    EXPECT_NE(text.find("Subject: " + mine.Summary() + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("From: " + name + " <" + email + ">\n"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace patchq
