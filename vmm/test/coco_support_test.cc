// --mode snp|tdx: what the host must offer, the one-line refusal, and the
// pure pieces of the hardware run (termination decoding, the TDX reset
// page, the C-bit in the identity map).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/uapi/kvm.h"
#include "vmm/guest/abi.h"
#include "vmm/lib/cli.h"
#include "vmm/lib/embedded_payload.h"
#include "vmm/lib/payload.h"
#include "vmm/lib/host_support.h"
#include "vmm/lib/launch_plan.h"
#include "vmm/lib/page_tables.h"
#include "vmm/lib/sev_snp.h"
#include "vmm/lib/tdx.h"

namespace gmem {
namespace {

Capabilities ThisMachine() {  // upstream 6.18 host, default VMs only
  Capabilities c;
  c.user_memory2 = true;
  c.guest_memfd = true;
  c.vm_types = 1u << KVM_X86_DEFAULT_VM;
  c.exit_hypercall = 1u << KVM_HC_MAP_GPA_RANGE;
  c.sev_reason = "/dev/sev: No such file or directory";
  c.tdx_reason = "KVM_X86_TDX_VM not in KVM_CAP_VM_TYPES";
  return c;
}

Capabilities SnpHost() {  // upstream 6.11+ on EPYC with SNP enabled
  Capabilities c = ThisMachine();
  c.vm_types |= (1u << KVM_X86_SW_PROTECTED_VM) | (1u << KVM_X86_SNP_VM);
  c.memory_attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
  c.sev_device = true;
  c.sev_reason.clear();
  return c;
}

Capabilities TdxHost() {  // upstream 6.16+ with the TDX module loaded
  Capabilities c = ThisMachine();
  c.vm_types |= 1u << KVM_X86_TDX_VM;
  c.memory_attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
  c.tdx_module = true;
  c.tdx_reason.clear();
  return c;
}

TEST(CocoSupport, RefusedHereWithOneLineReason) {
  for (Mode m : {Mode::kSnp, Mode::kTdx}) {
    auto s = CheckModeSupported(ThisMachine(), m, Backing::kGuestMemfd);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind(), ErrorKind::kUnsupported);
    const std::string line = s.error().What();
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_NE(line.find(std::string("mode ") + ModeName(m) + " is not supported"),
              std::string::npos) << line;
    EXPECT_NE(line.find(m == Mode::kSnp ? "KVM_X86_SNP_VM (KVM_CAP_VM_TYPES is 0x1)"
                                        : "KVM_X86_TDX_VM (KVM_CAP_VM_TYPES is 0x1)"),
              std::string::npos) << line;
    EXPECT_NE(line.find(m == Mode::kSnp ? "6.11" : "6.16"), std::string::npos) << line;
  }
  auto s = CheckModeSupported(ThisMachine(), Mode::kSnp, Backing::kGuestMemfd);
  EXPECT_NE(s.error().message().find("/dev/sev: No such file"), std::string::npos);
}

TEST(CocoSupport, SupportedOnTheirHardware) {
  EXPECT_TRUE(CheckModeSupported(SnpHost(), Mode::kSnp, Backing::kGuestMemfd).ok());
  EXPECT_TRUE(CheckModeSupported(TdxHost(), Mode::kTdx, Backing::kGuestMemfd).ok());
  EXPECT_FALSE(CheckModeSupported(SnpHost(), Mode::kTdx, Backing::kGuestMemfd).ok());
  EXPECT_FALSE(CheckModeSupported(TdxHost(), Mode::kSnp, Backing::kGuestMemfd).ok());
  Capabilities no_module = TdxHost();
  no_module.tdx_module = false;
  no_module.tdx_reason = "KVM_TDX_CAPABILITIES: Operation not supported";
  auto s = CheckModeSupported(no_module, Mode::kTdx, Backing::kGuestMemfd);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("a TDX module (KVM_TDX_CAPABILITIES"),
            std::string::npos);
}

TEST(CocoSupport, CommandLine) {
  auto o = ParseOptions({"--mode", "snp"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.value().mode, Mode::kSnp);
  o = ParseOptions({"--mode", "tdx"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.value().mode, Mode::kTdx);
  EXPECT_EQ(VmType(Mode::kSnp), 4u);
  EXPECT_EQ(VmType(Mode::kTdx), 5u);
  EXPECT_STREQ(VmTypeName(Mode::kTdx), "KVM_X86_TDX_VM");
  EXPECT_TRUE(IsConfidential(Mode::kSnp));
  EXPECT_FALSE(IsConfidential(Mode::kSwProtected));
  Options a = o.value();
  a.backing = Backing::kAnonymous;
  EXPECT_FALSE(ValidateOptions(a).ok());
}

TEST(CocoRun, SnpTermination) {
  const uint64_t msr = snp::TerminationRequest(0xa, 5);
  EXPECT_EQ(msr, 0x5a100u);
  auto t = snp::DecodeTermination(msr);
  EXPECT_TRUE(t.is_request);
  EXPECT_EQ(t.reason_set, 0xau);
  EXPECT_EQ(t.reason_code, 5u);
  EXPECT_FALSE(snp::DecodeTermination(0x014).is_request);  // a PSC request
  EXPECT_EQ(snp::CBitMask(0x16f), 1ull << 47);
}

TEST(CocoRun, TdxResetPageJumpsToTheEntry) {
  auto page = tdx::ResetPage(0x100000);
  ASSERT_EQ(page.size(), 4096u);
  EXPECT_EQ(page[0xff0], 0xe9);
  int32_t rel;
  std::memcpy(&rel, page.data() + 0xff1, 4);
  EXPECT_EQ(static_cast<uint32_t>(0xfffffff5u + static_cast<uint32_t>(rel)), 0x100000u);
  EXPECT_EQ(page[0], 0xf4);
  EXPECT_EQ(page[0xfff], 0xf4);
}

TEST(CocoRun, CBitInEveryLeaf) {
  std::vector<uint8_t> mem(1 << 20, 0);
  auto l = PlanIdentityMap(0x10000, 0x80000, 16 << 20);
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE(WriteIdentityMap(mem, l.value()).ok());
  SetLeafBits(mem, l.value(), 1ull << 51);
  for (uint64_t i = 0; i < 8; ++i) {  // 16 MiB: 8 leaves
    uint64_t e;
    std::memcpy(&e, mem.data() + l.value().pd_gpa + i * 8, 8);
    EXPECT_EQ(e & (1ull << 51), 1ull << 51);
    EXPECT_EQ(e & ~(1ull << 51) & ~0xfffull, i << 21);
  }
  uint64_t pml4;
  std::memcpy(&pml4, mem.data() + l.value().pml4_gpa, 8);
  EXPECT_EQ(pml4 & (1ull << 51), 0u);  // tables are always walked as private
}

}  // namespace
}  // namespace gmem

namespace gmem {
namespace {

bool Contains(const std::vector<uint8_t>& hay, std::vector<uint8_t> needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

TEST(CocoPayloads, EmbeddedVariantsParseAndCarryTheirInstructions) {
  auto snp = ParsePayload(EmbeddedSnpPayload(), abi::kPayloadGpa,
                          abi::kPayloadGpa + abi::kPayloadMax);
  ASSERT_TRUE(snp.ok()) << snp.error().What();
  EXPECT_EQ(snp.value().entry_gpa, abi::kPayloadGpa);
  EXPECT_TRUE(Contains(snp.value().image, {0xf2, 0x0f, 0x01, 0xff}));  // pvalidate
  EXPECT_TRUE(Contains(snp.value().image, {0xf3, 0x0f, 0x01, 0xd9}));  // vmgexit

  auto tdx = ParsePayload(EmbeddedTdxPayload(), abi::kPayloadGpa,
                          abi::kPayloadGpa + abi::kPayloadMax);
  ASSERT_TRUE(tdx.ok()) << tdx.error().What();
  EXPECT_EQ(tdx.value().entry_gpa, abi::kPayloadGpa);
  // 32-bit entry (the reset page jumps here): mov $kPageTableGpa, %eax
  const std::vector<uint8_t> head(tdx.value().image.begin(), tdx.value().image.begin() + 5);
  EXPECT_EQ(head, (std::vector<uint8_t>{0xb8, 0x00, 0x00, 0x01, 0x00}));
  EXPECT_TRUE(Contains(tdx.value().image, {0x66, 0x0f, 0x01, 0xcc}));  // tdcall

  // The default payload is a different image.
  EXPECT_NE(EmbeddedPayload().size(), EmbeddedSnpPayload().size());
}

}  // namespace
}  // namespace gmem
