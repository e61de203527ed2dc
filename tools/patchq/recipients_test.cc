// The sender's changelog (Signed-off-by) and recipients from get_maintainer.pl.
#include <gtest/gtest.h>

#include "tools/patchq/recipients.h"
#include "tools/patchq/sender.h"

namespace patchq {
namespace {

const Identity kQueue{"Test Developer", "dev@patchq.invalid"};
const Identity kSender{"Sue Sender", "sue@example.org"};

TEST(Sender, SignOffReplacesThePlaceholder) {
  const std::string queue_msg = "lib: Add x\n\nAdd x.\n\nLink: https://lore.kernel.org/r/1\n"
                                "Signed-off-by: Test Developer <dev@patchq.invalid>\n";
  const std::string sent = MessageForSender(queue_msg, kQueue, kSender);
  EXPECT_EQ(sent, "lib: Add x\n\nAdd x.\n\nLink: https://lore.kernel.org/r/1\n"
                  "Signed-off-by: Sue Sender <sue@example.org>\n");
  EXPECT_EQ(MessageForQueue(sent, kQueue, kSender), queue_msg);
}

TEST(Sender, SignOffAddedWhenMissingNeverTwice) {
  EXPECT_EQ(MessageForSender("lib: Add x\n\nAdd x.\n", kQueue, kSender),
            "lib: Add x\n\nAdd x.\n\nSigned-off-by: Sue Sender <sue@example.org>\n");
  EXPECT_EQ(MessageForSender("lib: Add x\n\nAdd x.\n\nSigned-off-by: Other One <o@example.org>\n", kQueue, kSender),
            "lib: Add x\n\nAdd x.\n\nSigned-off-by: Other One <o@example.org>\n"
            "Signed-off-by: Sue Sender <sue@example.org>\n");
  // Already signed by the sender: the placeholder's line goes, no duplicate.
  EXPECT_EQ(MessageForSender("a: b\n\nc.\n\nSigned-off-by: Sue Sender <sue@example.org>\n"
                             "Signed-off-by: Test Developer <dev@patchq.invalid>\n",
                             kQueue, kSender),
            "a: b\n\nc.\n\nSigned-off-by: Sue Sender <sue@example.org>\n");
}

TEST(Recipients, ParsesGetMaintainerOutput) {
  // Real get_maintainer.pl output for a KVM x86 patch (6.1's MAINTAINERS).
  Recipients r = ParseGetMaintainer(
      "Paolo Bonzini <pbonzini@redhat.com> (supporter:KERNEL VIRTUAL MACHINE (KVM))\n"
      "Sean Christopherson <seanjc@google.com> (supporter:KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86))\n"
      "Thomas Gleixner <tglx@linutronix.de> (maintainer:X86 ARCHITECTURE (32-BIT AND 64-BIT))\n"
      "x86@kernel.org (maintainer:X86 ARCHITECTURE (32-BIT AND 64-BIT))\n"
      "\"H. Peter Anvin\" <hpa@zytor.com> (reviewer:X86 ARCHITECTURE (32-BIT AND 64-BIT))\n"
      "kvm@vger.kernel.org (open list:KERNEL VIRTUAL MACHINE (KVM))\n"
      "linux-kernel@vger.kernel.org (open list)\n"
      "Paolo Bonzini <PBONZINI@redhat.com> (odd fixer:SOMETHING)\n");
  EXPECT_EQ(r.to, (std::vector<std::string>{"Paolo Bonzini <pbonzini@redhat.com>",
                                            "Sean Christopherson <seanjc@google.com>",
                                            "Thomas Gleixner <tglx@linutronix.de>", "x86@kernel.org"}));
  EXPECT_EQ(r.cc, (std::vector<std::string>{"\"H. Peter Anvin\" <hpa@zytor.com>", "kvm@vger.kernel.org",
                                            "linux-kernel@vger.kernel.org"}));
  Recipients more;
  more.cc = {"kvm@vger.kernel.org", "new@example.org"};
  more.to = {"\"H. Peter Anvin\" <hpa@zytor.com>"};  // promoted: leaves Cc
  r.Add(more);
  EXPECT_EQ(r.to.back(), "\"H. Peter Anvin\" <hpa@zytor.com>");
  EXPECT_EQ(r.cc, (std::vector<std::string>{"kvm@vger.kernel.org", "linux-kernel@vger.kernel.org", "new@example.org"}));
}

TEST(Recipients, MergedIntoGitsHeaders) {
  Recipients r;
  r.to = {"M <m@example.org>", "a@example.org"};
  r.cc = {"l@example.org"};
  const std::string msg = "From 0123 Mon Sep 17 00:00:00 2001\nFrom: S <s@x>\nSubject: [PATCH] a: b\n"
                          "To: a@example.org,\n    \"B, C\" <bc@example.org>\n\nTo: body stays\n";
  EXPECT_EQ(AddRecipients(msg, r),
            "From 0123 Mon Sep 17 00:00:00 2001\nFrom: S <s@x>\nSubject: [PATCH] a: b\n"
            "To: a@example.org,\n    \"B, C\" <bc@example.org>,\n    M <m@example.org>\n"
            "Cc: l@example.org\n\nTo: body stays\n");
}

}  // namespace
}  // namespace patchq
