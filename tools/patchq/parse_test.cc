// Parsing and rules: series, IDENTITY, patch files, lint.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "tools/patchq/error.h"
#include "tools/patchq/identity.h"
#include "tools/patchq/lint.h"
#include "tools/patchq/patch.h"
#include "tools/patchq/series.h"
#include "tools/patchq/testutil.h"

namespace patchq {
namespace {

using testing::TestData;

Identity TestIdentity() { return ReadIdentity(TestData().string()); }

std::string Fixture(const std::string& rel) { return (TestData() / rel).string(); }

// Runs f, expects an Error, returns its message.
template <typename F>
std::string ErrorOf(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return "";
}

// -o /dev/stdout and the like: written to, never replaced by a file.
TEST(Files, WriteFileWritesThroughAPipe) {
  TempDir tmp("patchq-files-test");
  const fs::path fifo = tmp.path() / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = ReadFile(fifo); });
  WriteFile(fifo, "through the pipe\n");
  reader.join();
  EXPECT_EQ(got, "through the pipe\n");
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_FALSE(fs::exists(tmp.path() / "fifo.patchq-tmp"));

  // A regular file is replaced whole, as before.
  WriteFile(tmp.path() / "file", "one\n");
  WriteFile(tmp.path() / "file", "two\n");
  EXPECT_EQ(ReadFile(tmp.path() / "file"), "two\n");
}

TEST(Series, ParsesHeaderAndOrder) {
  Series s = ParseSeries("# first\n# base: x 1.0\n\nb.patch\na.patch -p1\n# later comment\nc.patch\n", "series");
  ASSERT_EQ(s.header.size(), 3u);
  EXPECT_EQ(s.HeaderValue("base"), "x 1.0");
  ASSERT_EQ(s.patches.size(), 3u);
  EXPECT_EQ(s.patches[0].name, "b.patch");  // file order, not sorted
  EXPECT_EQ(s.patches[1].name, "a.patch");
  EXPECT_EQ(s.patches[2].name, "c.patch");
  EXPECT_EQ(s.patches[0].line, 4);
  EXPECT_EQ(s.patches[2].line, 7);
}

TEST(Series, GoodFixture) {
  Series s = ReadSeries(Fixture("good/series"));
  ASSERT_EQ(s.patches.size(), 3u);
  EXPECT_EQ(s.patches[0].name, "0001-lib-greet-Greet-the-whole-world.patch");
  EXPECT_EQ(s.HeaderValue("base-tree"), "015746923cefb1962fcf105296d5b8cc594556c5");
  EXPECT_EQ(s.Render(), ReadFile(Fixture("good/series")));
}

TEST(Series, SetHeaderValueReplacesOrAppends) {
  Series s = ParseSeries("# base: x\n\na.patch\n", "series");
  s.SetHeaderValue("base-tree", "abc");
  EXPECT_EQ(s.Render(), "# base: x\n# base-tree: abc\n\na.patch\n");
  s.SetHeaderValue("base-tree", "def");
  EXPECT_EQ(s.Render(), "# base: x\n# base-tree: def\n\na.patch\n");
}

TEST(Series, Errors) {
  EXPECT_EQ(ErrorOf([] { ParseSeries("a.patch\nb.patch\na.patch\n", "S"); }),
            "S:3: patch 'a.patch' is listed twice");
  EXPECT_EQ(ErrorOf([] { ParseSeries("a.patch -p0\n", "S"); }),
            "S:1: unsupported patch option '-p0' (expected none or -p1)");
  EXPECT_NE(ErrorOf([] { ParseSeries("# x\nsub/a.patch\n", "S"); }).find("S:2: "), std::string::npos);
  EXPECT_NE(ErrorOf([] { ReadSeries("/nonexistent/series"); }).find("/nonexistent/series: cannot open"),
            std::string::npos);
}

TEST(Identity, Parses) {
  Identity id = ParseIdentity("# c\nname = A B\nemail=a@b.c\nname = ignored\n", "I");
  EXPECT_EQ(id.Mailbox(), "A B <a@b.c>");
  EXPECT_EQ(TestIdentity().Mailbox(), "Test Developer <dev@patchq.invalid>");
  EXPECT_EQ(ErrorOf([] { ParseIdentity("name = x\n", "I"); }), "I: no 'email = ...' line");
  EXPECT_EQ(ErrorOf([] { ParseIdentity("name x\n", "I"); }), "I:1: expected 'key = value'");
}

TEST(Patch, ParsesGoodFixture) {
  Patch p = ReadPatch(Fixture("good/patches/0002-lib-greet-Add-farewell.patch"));
  EXPECT_EQ(p.mbox_from_line, "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001");
  EXPECT_EQ(p.HeaderValue("from"), "Test Developer <dev@patchq.invalid>");
  EXPECT_EQ(p.HeaderValue("Date"), "Sat, 1 Jan 2000 00:00:00 +0000");
  EXPECT_EQ(p.Subject(), "[PATCH] lib: greet: Add farewell()");
  EXPECT_EQ(p.Summary(), "lib: greet: Add farewell()");
  EXPECT_EQ(p.body_line, 6);
  ASSERT_FALSE(p.message.empty());
  EXPECT_EQ(p.message.front(), "Add farewell() next to greeting(), so that callers that say hello can");
  EXPECT_EQ(p.message.back(), "Signed-off-by: Test Developer <dev@patchq.invalid>");
  ASSERT_EQ(p.files.size(), 2u);
  EXPECT_EQ(p.files[0].path, "lib/greet.c");
  EXPECT_EQ(p.files[1].path, "lib/greet.h");
  EXPECT_EQ(p.files[1].old_path, "lib/greet.h");
  EXPECT_EQ(p.files[1].line, 29);
  EXPECT_FALSE(p.files[1].quoted);
  EXPECT_TRUE(LintPatch(p, TestIdentity()).empty());
}

TEST(Patch, RenameAndQuotedPaths) {
  Patch p = ParsePatch(
      "From: A <a@b>\nSubject: [PATCH] a: b\n\nWhy.\n---\n"
      "diff --git a/old/x.c b/new/x.c\nsimilarity index 100%\nrename from old/x.c\nrename to new/x.c\n"
      "diff --git \"a/sp ace\" \"b/sp ace\"\n@@ -1 +1 @@\n-a\n+b\n",
      "f");
  ASSERT_EQ(p.files.size(), 2u);
  EXPECT_EQ(p.files[0].old_path, "old/x.c");
  EXPECT_EQ(p.files[0].path, "new/x.c");
  EXPECT_TRUE(p.files[1].quoted);
}

TEST(Patch, FoldedSubject) {
  Patch p = ParsePatch(
      "From: A <a@b>\nSubject: [PATCH] KVM: guest_memfd: a rather long\n subject line\n\nBody.\n---\n"
      "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
      "f");
  EXPECT_EQ(p.Summary(), "KVM: guest_memfd: a rather long subject line");
}

TEST(Patch, MalformedTruncatedHunk) {
  std::string err = ErrorOf([] { ReadPatch(Fixture("bad/truncated-hunk.patch")); });
  EXPECT_NE(err.find("truncated-hunk.patch:"), std::string::npos) << err;
  EXPECT_NE(err.find("truncated-hunk.patch:36: file ends inside the hunk starting at line 32"), std::string::npos) << err;
  EXPECT_NE(err.find("expected 2 more old and 2 more new lines"), std::string::npos) << err;
}

TEST(Patch, MalformedOthers) {
  EXPECT_NE(ErrorOf([] { ReadPatch(Fixture("bad/no-headers.patch")); }).find("no-headers.patch:1: "),
            std::string::npos);
  EXPECT_EQ(ErrorOf([] { ParsePatch("Subject: [PATCH] a: b\n\nbody\n---\ndiff --git a/x b/x\n", "f"); }),
            "f:1: no 'From:' header");
  EXPECT_EQ(ErrorOf([] { ParsePatch("From: A <a@b>\nSubject: a: b\n\nbody only\n", "f"); }),
            "f:4: no '---' separator and no diff (expected a diff after the message)");
  EXPECT_EQ(ErrorOf([] { ParsePatch("From: A <a@b>\nSubject: a: b\n\nb\n---\n stat\n", "f"); }),
            "f: no 'diff --git' section (expected a git diff)");
  EXPECT_EQ(ErrorOf([] {
              ParsePatch("From: A <a@b>\nSubject: a: b\n\nb\n---\ndiff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n", "f");
            }),
            "f:10: hunk starting at line 7 has more lines than its header says");
  EXPECT_EQ(ErrorOf([] { ParsePatch("From: A <a@b>\nSubject: a: b\n\nb\n---\ndiff --git a/x b/x\n@@ -1 +x @@\n", "f"); }),
            "f:7: malformed hunk header (expected '@@ -a,b +c,d @@')");
}

// Encoded words are decoded by git mailinfo (as git am does).
TEST(Parse, EncodedHeaders) {
  Patch p = ParsePatch(
      "From: =?UTF-8?q?Andr=C3=A9=20=C3=9Cn=C3=AFcode?= <a@b.c>\n"
      "Subject: [PATCH] =?UTF-8?q?lib:=20Gr=C3=BC=C3=9Fe=20an?=\n =?UTF-8?q?=20alle?=\n\nWhy.\n---\ndiff --git a/x b/x\n",
      "f");
  EXPECT_EQ(p.Author(), "Andr\xc3\xa9 \xc3\x9cn\xc3\xaf" "code <a@b.c>");
  EXPECT_EQ(p.Summary(), "lib: Gr\xc3\xbc\xc3\x9f" "e an alle");
  Patch b = ParsePatch("From: A <a@b>\nSubject: =?utf-8?B?R3LDvMOfZQ==?= x\n\nWhy.\n---\ndiff --git a/x b/x\n", "f");
  EXPECT_EQ(b.Summary(), "Gr\xc3\xbc\xc3\x9f" "e x");
  Patch c = ParsePatch("From: A <a@b>\nSubject: plain =? not a word\n\nWhy.\n---\ndiff --git a/x b/x\n", "f");
  EXPECT_EQ(c.Summary(), "plain =? not a word");
}

TEST(Lint, NonAsciiSubjectAndAuthor) {
  Patch p = ParsePatch(
      "From: =?UTF-8?q?Andr=C3=A9?= <a@b>\nSubject: [PATCH] =?UTF-8?q?lib:=20Gr=C3=BC=C3=9Fe?=\n\nWhy.\n\n"
      "Signed-off-by: Andr\xc3\xa9 <a@b>\n---\ndiff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\n",
      "f");
  EXPECT_EQ(p.Summary(), "lib: Gr\xc3\xbc\xc3\x9f" "e");
  EXPECT_EQ(p.Author(), "Andr\xc3\xa9 <a@b>");
  EXPECT_TRUE(LintPatch(p, Identity{"Andr\xc3\xa9", "a@b"}).empty());
}

TEST(Lint, SubjectPrefixRule) {
  EXPECT_TRUE(SubjectHasPrefix("KVM: guest_memfd: Add KVM_CREATE_GUEST_MEMFD"));
  EXPECT_TRUE(SubjectHasPrefix("KVM: x86: Fix it"));
  EXPECT_TRUE(SubjectHasPrefix("selftests: KVM: Add a test"));
  EXPECT_TRUE(SubjectHasPrefix("mm/filemap: Do a thing"));
  EXPECT_TRUE(SubjectHasPrefix("virt kvm: two words"));
  EXPECT_FALSE(SubjectHasPrefix("Add a thing"));
  EXPECT_FALSE(SubjectHasPrefix("KVM:no space"));
  EXPECT_FALSE(SubjectHasPrefix("KVM: "));
  EXPECT_FALSE(SubjectHasPrefix("KVM:  "));
  EXPECT_FALSE(SubjectHasPrefix(": empty prefix"));
  EXPECT_EQ(StripSubjectTags("[PATCH v2 3/7] KVM: x"), "KVM: x");
  EXPECT_EQ(StripSubjectTags("[RFC] [PATCH] KVM: x"), "KVM: x");
}

std::vector<std::string> LintFixture(const std::string& name) {
  return LintPatch(ReadPatch(Fixture("bad/" + name)), TestIdentity());
}

TEST(Lint, BadFixtures) {
  auto one = [](const std::string& name, const std::string& want) {
    std::vector<std::string> problems = LintFixture(name);
    ASSERT_EQ(problems.size(), 1u) << name;
    EXPECT_NE(problems[0].find(want), std::string::npos) << name << ": " << problems[0];
  };
  one("no-prefix.patch", "line 4: subject 'Describe lib/greet.c' has no subsystem prefix");
  one("no-body.patch", "line 6: no changelog body");
  one("no-signoff.patch", "no Signed-off-by (expected 'Signed-off-by: Test Developer <dev@patchq.invalid>')");
  one("wrong-author.patch", "line 2: From: 'Someone Else <else@patchq.invalid>', expected the project identity");
  one("from-line.patch", "line 7: message line starts with 'From '");
  EXPECT_TRUE(LintFixture("trailing-space.patch").empty());  // checkpatch's job
  EXPECT_TRUE(LintFixture("stale.patch").empty());           // applying is check's job
}

TEST(Lint, SignoffFromSomeoneElseOnly) {
  Patch p = ParsePatch(
      "From: Test Developer <dev@patchq.invalid>\nSubject: [PATCH] a: b\n\nWhy.\n\n"
      "Signed-off-by: Up Stream <up@stream>\n---\ndiff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\n",
      "f");
  std::vector<std::string> problems = LintPatch(p, TestIdentity());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "no Signed-off-by from the project identity (expected 'Signed-off-by: Test Developer <dev@patchq.invalid>')");
}

}  // namespace
}  // namespace patchq
