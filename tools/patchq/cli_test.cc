// The patchq binary: usage, exit codes, defaults for --repo.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tools/patchq/git.h"
#include "tools/patchq/testutil.h"

namespace patchq {
namespace {

using testing::GitIn;
using testing::GoodPatches;
using testing::MakeFakeTree;
using testing::MakeRepo;

std::string Binary() {
  const char* src = std::getenv("TEST_SRCDIR");
  fs::path p = fs::path(src ? src : ".") / "gmem61/tools/patchq/patchq";
  return fs::absolute(p).string();
}

RunResult Patchq(const std::vector<std::string>& args, const std::string& cwd = "") {
  std::vector<std::string> argv = {Binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions o;
  o.cwd = cwd;
  // No global git identity: only what a test repository configures.
  o.env["GIT_CONFIG_GLOBAL"] = "/dev/null";
  o.env["GIT_CONFIG_NOSYSTEM"] = "1";
  o.unset_env.push_back("BUILD_WORKING_DIRECTORY");
  return Run(argv, o);
}

TEST(Cli, UsageAndArgumentErrors) {
  RunResult h = Patchq({"--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_EQ(h.out.rfind("usage: patchq COMMAND", 0), 0u) << h.out;
  for (const char* cmd : {"export", "import", "check", "mbox", "range-diff", "--build-cmd", "--dry-run",
                          "--reroll-count N", "--strict-changelog", "--recipients", "--mbox FILE"}) {
    EXPECT_NE(h.out.find(cmd), std::string::npos) << cmd;
  }
  EXPECT_EQ(Patchq({}).status, 2);
  RunResult bogus = Patchq({"bogus"});
  EXPECT_EQ(bogus.status, 2);
  EXPECT_NE(bogus.err.find("unknown command 'bogus'"), std::string::npos) << bogus.err;
  RunResult wrong = Patchq({"export", "--force"});
  EXPECT_EQ(wrong.status, 2);
  EXPECT_NE(wrong.err.find("--force"), std::string::npos) << wrong.err;
  // -v/--reroll-count as git means it; bad numbers are a usage error (2),
  // never an exception.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"mbox", "-v", "99999999999"}, {"mbox", "-v", "0"},
                                             {"mbox", "--reroll-count", "x"}, {"mbox", "-v", "-3"}}) {
    RunResult r = Patchq(args);
    EXPECT_EQ(r.status, 2) << args[2];
    EXPECT_NE(r.err.find("expected a whole number from 1 to 999"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  }
  RunResult old = Patchq({"mbox", "--version", "2"});  // the old spelling is gone
  EXPECT_EQ(old.status, 2);
  EXPECT_NE(old.err.find("--version"), std::string::npos) << old.err;
  EXPECT_EQ(Patchq({"mbox", "--recipients", "some"}).status, 2);
  EXPECT_EQ(Patchq({"range-diff", "a"}).status, 2);
  EXPECT_EQ(Patchq({"check", "--tree"}).status, 2);
}

TEST(Cli, ExitCodesAndDefaults) {
  TempDir tmp("patchq-cli-test");
  const fs::path tree = tmp.path() / "linux", repo = tmp.path() / "repo";
  MakeFakeTree(tree);
  MakeRepo(repo, {"# test"}, GoodPatches());
  GitIn(repo, {"init", "-q"});
  fs::create_directories(repo / "sub");

  // --repo defaults to the git top-level of the working directory; a
  // relative --tree is taken from there too.
  RunResult imp = Patchq({"import", "--tree", "../../linux"}, (repo / "sub").string());
  EXPECT_EQ(imp.status, 0) << imp.err;
  EXPECT_EQ(StripNewline(GitIn(tree, {"rev-list", "--count", "base..HEAD"})), "3");

  RunResult dry = Patchq({"export", "--tree", tree.string(), "--repo", repo.string(), "--dry-run"});
  EXPECT_EQ(dry.status, 1) << dry.out;  // series gains "# base-tree:"
  RunResult exp = Patchq({"export", "--tree", tree.string(), "--repo", repo.string()});
  EXPECT_EQ(exp.status, 0) << exp.err;
  dry = Patchq({"export", "--tree", tree.string(), "--repo", repo.string(), "--dry-run"});
  EXPECT_EQ(dry.status, 0) << dry.out;

  RunResult ok = Patchq({"check", "--tree", tree.string(), "--repo", repo.string()});
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("3 passed, 0 failed\n"), std::string::npos) << ok.out;

  MakeRepo(repo, {"# test"}, {GoodPatches()[0], {"0002-stale.patch", "bad/stale.patch"}});
  RunResult bad = Patchq({"check", "--tree", tree.string(), "--repo", repo.string()});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.out.find("1 passed, 1 failed\n"), std::string::npos) << bad.out;
  EXPECT_NE(bad.err.find("note: patches/0002-lib-greet-Add-farewell.patch is not in the series"),
            std::string::npos)
      << bad.err;

  // mbox: refused without a sender identity (one line, exit 2); with one,
  // a mail per patch plus the cover, none from the project identity.
  WriteFile(repo / "patches/cover.txt", "lib: Greetings\n\nBody.\n");
  MakeRepo(repo, {"# test", "# change-id: 20000101-cli-0123456789ab"}, GoodPatches());
  Patchq({"import", "--tree", tree.string(), "--repo", repo.string(), "--force"});
  RunResult anon = Patchq({"mbox", "--tree", tree.string(), "--repo", repo.string()});
  EXPECT_EQ(anon.status, 2);
  EXPECT_EQ(anon.out, "");
  EXPECT_EQ(SplitLines(anon.err).size(), 1u) << anon.err;
  EXPECT_EQ(anon.err.rfind("patchq mbox: no sender identity: git config user.name is not set", 0), 0u) << anon.err;
  GitIn(repo, {"config", "user.name", "Cli Sender"});
  GitIn(repo, {"config", "user.email", "cli@example.org"});
  RunResult mb = Patchq({"mbox", "--tree", tree.string(), "--repo", repo.string(), "-v", "4"});
  EXPECT_EQ(mb.status, 0) << mb.err;
  EXPECT_NE(mb.out.find("Subject: [PATCH v4 0/3] lib: Greetings\n"), std::string::npos) << mb.out;
  EXPECT_NE(mb.out.find("From: Cli Sender <cli@example.org>\n"), std::string::npos);
  EXPECT_EQ(mb.out.find("dev@patchq.invalid"), std::string::npos);

  fs::remove(repo / "series");
  RunResult err = Patchq({"check", "--tree", tree.string(), "--repo", repo.string()});
  EXPECT_EQ(err.status, 2);
  EXPECT_NE(err.err.find("patchq check: " + (repo / "series").string() + ": cannot open"), std::string::npos)
      << err.err;
}

}  // namespace
}  // namespace patchq
