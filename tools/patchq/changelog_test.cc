// Changelog style: subject length, what-first heuristic, credit lines.
#include <gtest/gtest.h>

#include "tools/patchq/changelog.h"
#include "tools/patchq/files.h"
#include "tools/patchq/testutil.h"

namespace patchq {
namespace {

using testing::TestData;

// First sentences of this project's changelogs and of upstream KVM's.
TEST(Changelog, WhatFirstAcceptsWhatTheyDo) {
  for (const char* s : {
           "Add KVM_SET_USER_MEMORY_REGION2, whose structure starts with the old layout.",
           "Check that KVM_SET_USER_MEMORY_REGION2 manages the very same memslots.",
           "Cover the user-visible behaviour of VM types.",
           "Export lru_add_drain_all() to modules.",
           "Record in each guest_memfd inode which of its pages are private.",
           "For VMs with private memory, map private gfns from guest_memfd.",
           "On x86, disallow hugepages when memory attributes are mixed.",
       }) {
    EXPECT_TRUE(WhatFirst(s)) << s;
  }
}

TEST(Changelog, WhatFirstRejectsBackgroundFirst) {
  for (const char* s : {
           "struct kvm_userspace_memory_region has no room left: every field is in use.",
           "When KVM_RUN fails with EFAULT because KVM cannot map guest memory, the exit says nothing.",
           "Guests with private memory decide, page by page, whether they access private memory.",
           "x86 has always insisted on type 0 for KVM_CREATE_VM, so userspace could not ask.",
           "KVM's support for private memory (memory attributes, memory fault exits) needs a VM type.",
           "With two-dimensional paging, KVM maps guest physical addresses on its own.",
           "So far a VM with private memory exits to userspace on every access.",
           "This patch adds a flag.",
           "Upstream introduced KVM_PRE_FAULT_MEMORY in 6.10.",
           "",
       }) {
    EXPECT_FALSE(WhatFirst(s)) << s;
  }
}

TEST(Changelog, FirstSentence) {
  EXPECT_EQ(FirstSentence({"", "Add a flag, e.g. for tests.  Then", "more.", "", "Other."}), "Add a flag, e.g. for tests.");
  EXPECT_EQ(FirstSentence({"No full stop", "at all", "", "x"}), "No full stop at all");
}

TEST(Changelog, CreditLines) {
  EXPECT_TRUE(HasCreditLine({"x", "Based on upstream commit 0123456789ab (\"KVM: Add x\")"}));
  EXPECT_TRUE(HasCreditLine({"Based on upstream commits 0123456789ab (\"KVM: Add x\") and"}));
  EXPECT_TRUE(HasCreditLine({"Link: https://git.kernel.org/torvalds/c/0123456789ab"}));
  EXPECT_TRUE(HasCreditLine({"Link: https://lore.kernel.org/r/20250101.1-1-a@b"}));
  EXPECT_FALSE(HasCreditLine({"Based on upstream commit 0123456 (\"short sha\")"}));
  EXPECT_FALSE(HasCreditLine({"Based on upstream commit 0123456789ab"}));
  EXPECT_FALSE(HasCreditLine({"Link: https://example.org/kvm"}));
  EXPECT_FALSE(HasCreditLine({"as upstream commit 0123456789ab (\"KVM: Add x\") does"}));
}

TEST(Changelog, CreditParagraphOfItsOwn) {
  EXPECT_TRUE(CreditInTrailerBlock({"Add x.", "", "Based on upstream commit 0123456789ab (\"KVM: Add x\")",
                                    "Signed-off-by: A <a@b>"}));
  EXPECT_FALSE(CreditInTrailerBlock({"Add x.", "", "Based on upstream commit 0123456789ab (\"KVM: Add",
                                     "x\").", "", "Signed-off-by: A <a@b>"}));
}

TEST(Changelog, APatchOfOurOwnSaysSo) {
  EXPECT_TRUE(HasCreditLine({"Add x.", "", "This has no upstream counterpart: upstream has no x.", "",
                             "Signed-off-by: A <a@b>"}));
  EXPECT_TRUE(HasCreditLine({"Add x.", "", "No upstream counterpart.", "", "Signed-off-by: A <a@b>"}));
  // Saying it in passing is not the declaration.
  EXPECT_FALSE(HasCreditLine({"Add x, which has no upstream counterpart.", "", "Signed-off-by: A <a@b>"}));
  EXPECT_FALSE(HasCreditLine({"Add x.", "", "Link: https://example.org/x", "", "Signed-off-by: A <a@b>"}));
}

TEST(Changelog, GoodFixturesAreClean) {
  for (const char* f : {"good/patches/0001-lib-greet-Greet-the-whole-world.patch",
                        "good/patches/0002-lib-greet-Add-farewell.patch",
                        "good/patches/0003-docs-README-Describe-lib-greet.c.patch"}) {
    EXPECT_EQ(ChangelogProblems(ReadPatch((TestData() / f).string())), std::vector<std::string>{}) << f;
  }
}

TEST(Changelog, BadFixtureHasEveryProblem) {
  auto problems = ChangelogProblems(ReadPatch((TestData() / "bad/changelog-style.patch").string()));
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0], "subject is 88 characters (at most 75)");
  EXPECT_EQ(problems[1].rfind("changelog does not start with what the patch does (first sentence 'Readers of the", 0),
            0u)
      << problems[1];
  EXPECT_EQ(problems[2].rfind("no credit line", 0), 0u) << problems[2];
  Patch p = ParsePatch("From: A <a@b>\nSubject: [PATCH] KVM: x86: The hugepage fix\n\nAdd x.\n\n"
                       "Link: https://lore.kernel.org/r/x\n---\ndiff --git a/x b/x\n",
                       "f");
  EXPECT_EQ(ChangelogProblems(p),
            std::vector<std::string>{"subject summary 'The hugepage fix' does not start with an imperative verb"});
}

}  // namespace
}  // namespace patchq
