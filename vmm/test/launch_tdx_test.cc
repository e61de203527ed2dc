// The TDX launch against the fake KVM: the ioctl sequence, the arguments,
// the guest_memfd/attribute state each command needs, and the MRTD the VMM
// predicts against what the "TDX module" was given.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vmm/lib/launch.h"
#include "vmm/test/launch_fixture.h"

namespace gmem::test {
namespace {

TdxLaunchParams Params() {
  TdxLaunchParams p;
  tdx::CpuidEntry e{};
  e.function = 1;
  e.eax = 0x000806f8;
  e.ecx = 0x80000001;  // one bit outside the fake's configurable set below
  e.edx = 0x178bfbff;
  p.host_cpuid.push_back(e);
  return p;
}

// Documentation/virt/kvm/x86/intel-tdx.rst ("KVM TDX creation flow") and
// QEMU's TDX launch (target/i386/kvm/tdx.c: capabilities at init, split
// IRQ chip, memslots private, INIT_VM before the first vCPU, INIT_VCPU and
// the TD's CPUID per vCPU, INIT_MEM_REGION per region, FINALIZE_VM).
const std::vector<std::string> kTdxSequence = {
    "SYS KVM_CREATE_VM",
    "VM TDX_CAPABILITIES",
    "VM KVM_ENABLE_CAP",  // split IRQ chip
    "VM KVM_ENABLE_CAP",  // KVM_HC_MAP_GPA_RANGE exits (MapGPA)
    "VM KVM_CREATE_GUEST_MEMFD",
    "VM KVM_SET_USER_MEMORY_REGION2",  // RAM
    "VM KVM_SET_MEMORY_ATTRIBUTES",
    "VM KVM_SET_USER_MEMORY_REGION2",  // reset vector page
    "VM KVM_SET_MEMORY_ATTRIBUTES",
    "VM TDX_INIT_VM",
    "VM KVM_CREATE_VCPU",
    "VCPU0 KVM_SET_CPUID2",  // with x2APIC: INIT_VCPU needs it
    "VCPU0 TDX_INIT_VCPU",
    "VCPU0 TDX_GET_CPUID",
    "VCPU0 KVM_SET_CPUID2",
    "VCPU0 TDX_INIT_MEM_REGION",  // gdt + boot info
    "VCPU0 TDX_INIT_MEM_REGION",  // page tables
    "VCPU0 TDX_INIT_MEM_REGION",  // stack (unmeasured)
    "VCPU0 TDX_INIT_MEM_REGION",  // payload
    "VCPU0 TDX_INIT_MEM_REGION",  // reset vector
    "VM TDX_FINALIZE_VM",
};

TEST(LaunchTdx, IssuesUpstreamsSequence) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  auto r = LaunchTdx(kvm, s.plan, s.staging(), Params());
  ASSERT_TRUE(r.ok()) << r.error().What();
  EXPECT_EQ(kvm.Names(), kTdxSequence);
  EXPECT_TRUE(kvm.finished());
  EXPECT_EQ(kvm.log[0], "SYS KVM_CREATE_VM 5");
  EXPECT_EQ(kvm.log[2], "VM KVM_ENABLE_CAP 121 0x18");
  EXPECT_EQ(kvm.log[3], "VM KVM_ENABLE_CAP 201 0x1000");
  EXPECT_EQ(kvm.log[4], "VM KVM_CREATE_GUEST_MEMFD 0x1001000 0x0");
  EXPECT_EQ(kvm.log[7],
            "VM KVM_SET_USER_MEMORY_REGION2 slot=1 gpa=0xfffff000 size=0x1000 "
            "gmem_offset=0x1000000");
  // leaf 1 (leaf 7 is not in the host's list) and the GPAW leaf, x87|SSE
  EXPECT_EQ(kvm.log[9], "VM TDX_INIT_VM attributes=0x0 xfam=0x3 cpuid=2");
  EXPECT_EQ(kvm.log[15], "VCPU0 TDX_INIT_MEM_REGION gpa=0x1000 pages=2 measured");
  EXPECT_EQ(kvm.log[17], "VCPU0 TDX_INIT_MEM_REGION gpa=0x80000 pages=128");
  EXPECT_EQ(kvm.log[19], "VCPU0 TDX_INIT_MEM_REGION gpa=0xfffff000 pages=1 measured");
}

TEST(LaunchTdx, EveryRegionWasPrivateGuestMemfdMemory) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  ASSERT_TRUE(LaunchTdx(kvm, s.plan, s.staging(), Params()).ok());
  ASSERT_EQ(kvm.populated.size(), 5u);
  for (const auto& p : kvm.populated) {
    EXPECT_TRUE(p.private_and_gmem);
    for (uint64_t i = 0; i < p.pages; ++i) EXPECT_TRUE(kvm.IsPrivate(p.gpa + i * 4096));
  }
  EXPECT_EQ(kvm.populated[2].type, 0);  // the stack is not measured
  EXPECT_EQ(kvm.populated[3].type, 1);
}

TEST(LaunchTdx, PredictedMrtdIsWhatTheModuleWasGiven) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  auto r = LaunchTdx(kvm, s.plan, s.staging(), Params());
  ASSERT_TRUE(r.ok()) << r.error().What();
  EXPECT_EQ(r.value().expected, kvm.mrtd.Value());
  EXPECT_NE(r.value().expected, tdx::Mrtd().Value());

  Staged t = Stage(CocoKind::kTdx);
  t.staging()[abi::kGdtGpa + 9] ^= 1;  // a measured byte
  FakeKvm kvm2;
  auto r2 = LaunchTdx(kvm2, t.plan, t.staging(), Params());
  ASSERT_TRUE(r2.ok());
  EXPECT_NE(r2.value().expected, r.value().expected);

  Staged u = Stage(CocoKind::kTdx);
  u.staging()[abi::kPageTableEnd + 9] ^= 1;  // the unmeasured stack
  FakeKvm kvm3;
  auto r3 = LaunchTdx(kvm3, u.plan, u.staging(), Params());
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3.value().expected, r.value().expected);
}

TEST(LaunchTdx, SeptVeDisableWhereTheModuleOffersIt) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  kvm.tdx_supported_attrs = tdx::kAttrSeptVeDisable;
  ASSERT_TRUE(LaunchTdx(kvm, s.plan, s.staging(), Params()).ok());
  EXPECT_EQ(kvm.log[9], "VM TDX_INIT_VM attributes=0x10000000 xfam=0x3 cpuid=2");
}

TEST(LaunchTdx, UnsupportedAttributesAreRefusedBeforeInitVm) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  TdxLaunchParams p = Params();
  p.attributes = 1;  // DEBUG, which the fake module does not offer
  auto r = LaunchTdx(kvm, s.plan, s.staging(), p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnsupported);
  EXPECT_EQ(kvm.Names().back(), "VM TDX_CAPABILITIES");
}

TEST(LaunchTdx, FailuresCarryTheCommandAndErrno) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  kvm.fail_prefix = "VM TDX_FINALIZE_VM";
  kvm.fail_errno = EBUSY;
  auto r = LaunchTdx(kvm, s.plan, s.staging(), Params());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err(), EBUSY);
  EXPECT_NE(r.error().message().find("KVM_TDX_FINALIZE_VM"), std::string::npos);
}

TEST(LaunchTdx, InitVcpuFollowsACpuidWithX2apic) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  kvm.fail_prefix = "VCPU0 KVM_SET_CPUID2";  // the one before INIT_VCPU
  kvm.fail_errno = EINVAL;
  auto r = LaunchTdx(kvm, s.plan, s.staging(), Params());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("before KVM_TDX_INIT_VCPU"), std::string::npos);
  EXPECT_EQ(kvm.Names().back(), "VCPU0 KVM_SET_CPUID2");
}

TEST(LaunchTdx, RetriesARegionKvmStoppedEarly) {
  Staged s = Stage(CocoKind::kTdx);
  FakeKvm kvm;
  kvm.fail_prefix = "VCPU0 TDX_INIT_MEM_REGION gpa=0x10000";
  kvm.fail_errno = EINTR;
  auto r = LaunchTdx(kvm, s.plan, s.staging(), Params());
  ASSERT_TRUE(r.ok()) << r.error().What();
  EXPECT_EQ(kvm.Names().size(), kTdxSequence.size() + 1);
}

}  // namespace
}  // namespace gmem::test
