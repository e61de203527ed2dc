// The SEV-SNP launch against the fake KVM: the ioctl sequence, the
// arguments, the guest_memfd/attribute state each command needs, and the
// launch digest the VMM predicts against what the "firmware" was given.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vmm/lib/launch.h"
#include "vmm/test/launch_fixture.h"

namespace gmem::test {
namespace {

SnpLaunchParams Params(const Staged& s) {
  SnpLaunchParams p;
  p.sev_fd = 7;
  p.entry = s.image.cpu;
  snp::CpuidFunction f{};
  f.eax_in = 0x8000001f;
  f.ebx = 51;  // C-bit position
  p.cpuid.push_back(f);
  tdx::CpuidEntry e{};
  e.function = 0x8000001f;
  e.ebx = 51;
  p.vcpu_cpuid.push_back(e);
  return p;
}

// The order QEMU's SNP launch (target/i386/sev.c: INIT2 at accelerator
// init, memslots with their attributes set private, vCPUs, LAUNCH_START,
// LAUNCH_UPDATE per region, vCPU state, LAUNCH_FINISH) and KVM's
// selftests (sev_smoke_test: vm_sev_launch) issue.
const std::vector<std::string> kSnpSequence = {
    "SYS KVM_CREATE_VM",
    "VM KVM_ENABLE_CAP",              // KVM_HC_MAP_GPA_RANGE exits (page-state changes)
    "VM SEV_INIT2",                   // before any vCPU
    "VM KVM_CREATE_GUEST_MEMFD",
    "VM KVM_SET_USER_MEMORY_REGION2",
    "VM KVM_SET_MEMORY_ATTRIBUTES",   // all RAM private
    "VM KVM_CREATE_VCPU",
    "VCPU0 KVM_SET_CPUID2",
    "VM SNP_LAUNCH_START",
    "VM SNP_LAUNCH_UPDATE",           // gdt + boot info (normal)
    "VM SNP_LAUNCH_UPDATE",           // secrets
    "VM SNP_LAUNCH_UPDATE",           // cpuid
    "VM SNP_LAUNCH_UPDATE",           // page tables (normal)
    "VM SNP_LAUNCH_UPDATE",           // stack (zero)
    "VM SNP_LAUNCH_UPDATE",           // payload (normal)
    "VCPU0 KVM_GET_SREGS",
    "VCPU0 KVM_SET_SREGS",
    "VCPU0 KVM_SET_REGS",
    "VM SNP_LAUNCH_FINISH",
};

TEST(LaunchSnp, IssuesUpstreamsSequence) {
  Staged s = Stage(CocoKind::kSnp);
  FakeKvm kvm;
  auto r = LaunchSnp(kvm, s.plan, s.staging(), Params(s));
  ASSERT_TRUE(r.ok()) << r.error().What();
  EXPECT_EQ(kvm.Names(), kSnpSequence);
  EXPECT_TRUE(kvm.finished());
  EXPECT_EQ(kvm.vcpus(), 1);
  // The arguments, as logged.
  EXPECT_EQ(kvm.log[0], "SYS KVM_CREATE_VM 4");
  EXPECT_EQ(kvm.log[1], "VM KVM_ENABLE_CAP 201 0x1000");
  EXPECT_EQ(kvm.log[2], "VM SEV_INIT2 ghcb=2");
  EXPECT_EQ(kvm.log[3], "VM KVM_CREATE_GUEST_MEMFD 0x1000000 0x0");
  EXPECT_EQ(kvm.log[5], "VM KVM_SET_MEMORY_ATTRIBUTES 0x0 0x1000000 0x8");
  EXPECT_EQ(kvm.log[8], "VM SNP_LAUNCH_START policy=0x30000");
  EXPECT_EQ(kvm.log[9], "VM SNP_LAUNCH_UPDATE gpa=0x1000 len=0x2000 type=normal");
  EXPECT_EQ(kvm.log[10], "VM SNP_LAUNCH_UPDATE gpa=0x3000 len=0x1000 type=secrets");
  EXPECT_EQ(kvm.log[11], "VM SNP_LAUNCH_UPDATE gpa=0x4000 len=0x1000 type=cpuid");
  EXPECT_EQ(kvm.log[12], "VM SNP_LAUNCH_UPDATE gpa=0x10000 len=0x70000 type=normal");
  EXPECT_EQ(kvm.log[13], "VM SNP_LAUNCH_UPDATE gpa=0x80000 len=0x80000 type=zero");
  EXPECT_EQ(kvm.log[14], "VM SNP_LAUNCH_UPDATE gpa=0x100000 len=0x2000 type=normal");
}

TEST(LaunchSnp, EveryUpdateWasPrivateGuestMemfdMemory) {
  Staged s = Stage(CocoKind::kSnp);
  FakeKvm kvm;
  ASSERT_TRUE(LaunchSnp(kvm, s.plan, s.staging(), Params(s)).ok());
  ASSERT_EQ(kvm.populated.size(), 6u);
  uint64_t pages = 0;
  for (const auto& p : kvm.populated) {
    EXPECT_TRUE(p.private_and_gmem);
    for (uint64_t i = 0; i < p.pages; ++i) EXPECT_TRUE(kvm.IsPrivate(p.gpa + i * 4096));
    pages += p.pages;
  }
  EXPECT_EQ(pages, 2u + 1 + 1 + 0x70 + 0x80 + 2);
}

TEST(LaunchSnp, PredictedDigestIsWhatTheFirmwareWasGiven) {
  Staged s = Stage(CocoKind::kSnp);
  FakeKvm kvm;
  auto r = LaunchSnp(kvm, s.plan, s.staging(), Params(s));
  ASSERT_TRUE(r.ok()) << r.error().What();
  EXPECT_EQ(r.value().expected, kvm.snp_digest.digest());
  EXPECT_NE(r.value().expected, Digest384{});
  // secrets, cpuid, zero pages count; normal pages too.
  EXPECT_EQ(r.value().measured_pages, kvm.snp_digest.pages());

  // One payload byte changes the digest.
  Staged t = Stage(CocoKind::kSnp);
  t.staging()[abi::kPayloadGpa + 17] ^= 1;
  FakeKvm kvm2;
  auto r2 = LaunchSnp(kvm2, t.plan, t.staging(), Params(t));
  ASSERT_TRUE(r2.ok());
  EXPECT_NE(r2.value().expected, r.value().expected);
}

TEST(LaunchSnp, TheCpuidPageCarriesTheTable) {
  Staged s = Stage(CocoKind::kSnp);
  FakeKvm kvm;
  ASSERT_TRUE(LaunchSnp(kvm, s.plan, s.staging(), Params(s)).ok());
  const uint8_t* page = s.staging().data() + kSnpCpuidGpa;
  uint32_t count;
  std::memcpy(&count, page, 4);
  EXPECT_EQ(count, 1u);
  snp::CpuidFunction f;
  std::memcpy(&f, page + 16, sizeof f);
  EXPECT_EQ(f.eax_in, 0x8000001fu);
  EXPECT_EQ(f.ebx, 51u);
}

TEST(LaunchSnp, FailuresCarryTheCommandAndErrno) {
  Staged s = Stage(CocoKind::kSnp);
  FakeKvm kvm;
  kvm.fail_prefix = "VM SNP_LAUNCH_UPDATE gpa=0x10000";
  kvm.fail_errno = EIO;
  auto r = LaunchSnp(kvm, s.plan, s.staging(), Params(s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err(), EIO);
  EXPECT_NE(r.error().message().find("KVM_SEV_SNP_LAUNCH_UPDATE (page tables, normal)"),
            std::string::npos)
      << r.error().message();
  EXPECT_FALSE(kvm.finished());
  EXPECT_EQ(kvm.Names().back(), "VM SNP_LAUNCH_UPDATE");  // stopped there
}

TEST(LaunchSnp, RetriesAnUpdateKvmStoppedEarly) {
  Staged s = Stage(CocoKind::kSnp);
  FakeKvm kvm;
  kvm.fail_prefix = "VM SNP_LAUNCH_UPDATE gpa=0x80000";
  kvm.fail_errno = EAGAIN;
  auto r = LaunchSnp(kvm, s.plan, s.staging(), Params(s));
  ASSERT_TRUE(r.ok()) << r.error().What();
  EXPECT_EQ(kvm.Names().size(), kSnpSequence.size() + 1);
  EXPECT_TRUE(kvm.finished());
}

TEST(LaunchSnp, ContinuesAnUpdateKvmDidInPart) {
  Staged s = Stage(CocoKind::kSnp);
  FakeKvm kvm;
  kvm.snp_update_max_pages = 0x30;  // page tables: 0x70 pages in three calls
  auto r = LaunchSnp(kvm, s.plan, s.staging(), Params(s));
  ASSERT_TRUE(r.ok()) << r.error().What();
  EXPECT_TRUE(kvm.finished());
  EXPECT_EQ(r.value().expected, kvm.snp_digest.digest());
  // page tables 0x70 -> 3 calls, stack 0x80 -> 3 calls, the rest one each.
  EXPECT_EQ(kvm.Names().size(), kSnpSequence.size() + 4);
  uint64_t pages = 0;
  for (const auto& p : kvm.populated) pages += p.pages;
  EXPECT_EQ(pages, 2u + 1 + 1 + 0x70 + 0x80 + 2);

  Staged t = Stage(CocoKind::kSnp);
  FakeKvm whole;
  auto w = LaunchSnp(whole, t.plan, t.staging(), Params(t));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.value().expected, r.value().expected);  // same pages, same digest
}

TEST(LaunchSnp, RefusedWhereKvmLacksTheVmType) {
  Staged s = Stage(CocoKind::kSnp);
  FakeKvm kvm;
  kvm.vm_types = 1;  // KVM_X86_DEFAULT_VM only, as on this machine
  auto r = LaunchSnp(kvm, s.plan, s.staging(), Params(s));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err(), EINVAL);
  EXPECT_EQ(kvm.log.size(), 1u);
}

TEST(LaunchSnp, RefusesATdxPlan) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  EXPECT_FALSE(LaunchSnp(kvm, s.plan, s.staging(), Params(s)).ok());
  EXPECT_TRUE(kvm.log.empty());
}

}  // namespace
}  // namespace gmem::test
