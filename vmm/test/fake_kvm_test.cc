// The fake KVM refuses what KVM refuses: without these, a launch sequence
// passing against it would prove nothing.
#include "vmm/test/fake_kvm.h"

#include <gtest/gtest.h>

#include <sys/mman.h>

#include <vector>

#include "common/uapi/kvm.h"
#include "vmm/lib/sev_snp.h"
#include "vmm/lib/tdx.h"
#include "vmm/lib/unique_fd.h"

namespace gmem::test {
namespace {

constexpr uint64_t kRam = 1 << 20;

class FakeKvmRules : public ::testing::Test {
 protected:
  void SetUp() override {
    mem_ = Mapping::Map(kRam, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(mem_.valid());
  }
  uintptr_t Arg(const void* p) { return reinterpret_cast<uintptr_t>(p); }
  long Vm(unsigned long req, const void* p) { return kvm_.Vm(req, Arg(p)); }
  // A VM of type with RAM [0, kRam): in guest_memfd when gmem, else plain.
  void CreateVm(unsigned type, bool gmem = true) {
    ASSERT_GE(kvm_.System(KVM_CREATE_VM, type), 0);
    kvm_userspace_memory_region2 r{};
    r.memory_size = kRam;
    r.userspace_addr = Arg(mem_.data());
    if (gmem) {
      kvm_create_guest_memfd g{};
      g.size = kRam;
      const long fd = Vm(KVM_CREATE_GUEST_MEMFD, &g);
      ASSERT_GE(fd, 0);
      r.flags = KVM_MEM_GUEST_MEMFD;
      r.guest_memfd = static_cast<uint32_t>(fd);
    }
    ASSERT_EQ(Vm(KVM_SET_USER_MEMORY_REGION2, &r), 0);
  }
  long SetPrivate(uint64_t gpa, uint64_t size, bool priv = true) {
    kvm_memory_attributes a{};
    a.address = gpa;
    a.size = size;
    a.attributes = priv ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
    return Vm(KVM_SET_MEMORY_ATTRIBUTES, &a);
  }
  long Sev(uint32_t id, const void* data) {
    kvm_sev_cmd c = snp::Cmd(id, data, 3);
    return Vm(KVM_MEMORY_ENCRYPT_OP, &c);
  }
  long SnpUpdate(uint64_t gpa, uint64_t len) {
    auto u = snp::LaunchUpdate(gpa, mem_.data() + gpa, len, snp::PageType::kNormal);
    return Sev(KVM_SEV_SNP_LAUNCH_UPDATE, &u);
  }
  void SnpStarted() {
    CreateVm(KVM_X86_SNP_VM);
    const auto i = snp::Init2();
    ASSERT_EQ(Sev(KVM_SEV_INIT2, &i), 0);
    const auto s = snp::LaunchStart(snp::kDefaultPolicy);
    ASSERT_EQ(Sev(KVM_SEV_SNP_LAUNCH_START, &s), 0);
  }
  long Tdx(int vcpu, uint32_t id, uint32_t flags, const void* data) {
    kvm_tdx_cmd c = tdx::Cmd(id, flags, Arg(data));
    return vcpu < 0 ? Vm(KVM_MEMORY_ENCRYPT_OP, &c)
                    : kvm_.Vcpu(vcpu, KVM_MEMORY_ENCRYPT_OP, Arg(&c));
  }
  // KVM_TDX_INIT_VM's argument with only the GPAW leaf (48 bits).
  std::vector<uint64_t> InitVm() {
    return tdx::InitVmBuffer(0, tdx::kXfamX87Sse, tdx::TdCpuid({}, {}));
  }
  // KVM_SET_CPUID2 on vcpu: leaf 1, with or without x2APIC.
  long SetCpuid(int vcpu, bool x2apic) {
    struct {
      gmem_cpuid2_header h;
      tdx::CpuidEntry e;
    } c{};
    c.h.nent = 1;
    c.e.function = 1;
    c.e.ecx = x2apic ? tdx::kCpuid1EcxX2apic : 0;
    return kvm_.Vcpu(vcpu, GMEM_SET_CPUID2, Arg(&c));
  }
  void TdxInitialized() {
    CreateVm(KVM_X86_TDX_VM);
    auto iv = InitVm();
    ASSERT_EQ(Tdx(-1, KVM_TDX_INIT_VM, 0, iv.data()), 0);
  }
  long SplitIrqchip() {
    kvm_enable_cap c{};
    c.cap = KVM_CAP_SPLIT_IRQCHIP;
    c.args[0] = 24;
    return Vm(KVM_ENABLE_CAP, &c);
  }
  long TdxAdd(uint64_t gpa, uint64_t pages) {
    auto m = tdx::MemRegion(mem_.data() + gpa, gpa, pages);
    return Tdx(0, KVM_TDX_INIT_MEM_REGION, KVM_TDX_MEASURE_MEMORY_REGION, &m);
  }

  FakeKvm kvm_;
  Mapping mem_;
};

TEST_F(FakeKvmRules, SnpLaunchUpdateNeedsPrivateMemory) {
  SnpStarted();
  EXPECT_EQ(SnpUpdate(0x1000, 0x1000), -EINVAL);  // still shared
  ASSERT_EQ(SetPrivate(0, 0x2000), 0);
  EXPECT_EQ(SnpUpdate(0x1000, 0x2000), -EINVAL);  // second page shared
  EXPECT_EQ(SnpUpdate(0x1000, 0x1000), 0);
  EXPECT_EQ(SnpUpdate(0x1000, 0x1000), -EEXIST);  // populated once
  EXPECT_EQ(SnpUpdate(0x0, 0x800), -EINVAL);      // not page-sized
}

TEST_F(FakeKvmRules, SnpLaunchUpdateNeedsGuestMemfd) {
  ASSERT_GE(kvm_.System(KVM_CREATE_VM, KVM_X86_SNP_VM), 0);
  kvm_userspace_memory_region2 r{};
  r.memory_size = kRam;
  r.userspace_addr = Arg(mem_.data());
  ASSERT_EQ(Vm(KVM_SET_USER_MEMORY_REGION2, &r), 0);
  const auto i = snp::Init2();
  ASSERT_EQ(Sev(KVM_SEV_INIT2, &i), 0);
  const auto s = snp::LaunchStart(snp::kDefaultPolicy);
  ASSERT_EQ(Sev(KVM_SEV_SNP_LAUNCH_START, &s), 0);
  ASSERT_EQ(SetPrivate(0, kRam), 0);
  EXPECT_EQ(SnpUpdate(0x1000, 0x1000), -EINVAL);
}

TEST_F(FakeKvmRules, SnpOrder) {
  CreateVm(KVM_X86_SNP_VM);
  EXPECT_EQ(kvm_.Vm(KVM_CREATE_VCPU, 0), -EINVAL);  // before INIT2
  const auto s = snp::LaunchStart(snp::kDefaultPolicy);
  EXPECT_EQ(Sev(KVM_SEV_SNP_LAUNCH_START, &s), -EINVAL);  // before INIT2
  const auto i = snp::Init2();
  ASSERT_EQ(Sev(KVM_SEV_INIT2, &i), 0);
  ASSERT_GE(kvm_.Vm(KVM_CREATE_VCPU, 0), 0);
  EXPECT_EQ(Sev(KVM_SEV_INIT2, &i), -EINVAL);  // again, after a vCPU
  const auto bad = snp::LaunchStart(snp::kPolicyReservedMbo);  // no SMT bit
  EXPECT_EQ(Sev(KVM_SEV_SNP_LAUNCH_START, &bad), -EINVAL);
  ASSERT_EQ(Sev(KVM_SEV_SNP_LAUNCH_START, &s), 0);
  const auto fin = snp::LaunchFinish();
  EXPECT_EQ(Sev(KVM_SEV_SNP_LAUNCH_FINISH, &fin), -EINVAL);  // no vCPU state yet
  kvm_regs regs{};
  regs.rip = 0x100000;
  ASSERT_EQ(kvm_.Vcpu(0, KVM_SET_REGS, Arg(&regs)), 0);
  EXPECT_EQ(kvm_.Vcpu(0, KVM_RUN, 0), -EINVAL);  // not launched
  ASSERT_EQ(Sev(KVM_SEV_SNP_LAUNCH_FINISH, &fin), 0);
  EXPECT_EQ(kvm_.Vcpu(0, KVM_SET_REGS, Arg(&regs)), -EINVAL);  // protected now
  EXPECT_EQ(SnpUpdate(0x1000, 0x1000), -EINVAL);  // after FINISH
  EXPECT_EQ(kvm_.Vcpu(0, KVM_RUN, 0), 0);
}

TEST_F(FakeKvmRules, TdxOrder) {
  CreateVm(KVM_X86_TDX_VM);
  EXPECT_EQ(kvm_.Vm(KVM_CREATE_VCPU, 0), -EIO);  // before INIT_VM
  auto no_gpaw = tdx::InitVmBuffer(0, tdx::kXfamX87Sse, {});
  EXPECT_EQ(Tdx(-1, KVM_TDX_INIT_VM, 0, no_gpaw.data()), -EINVAL);  // no CPUID 0x80000008
  auto iv = InitVm();
  ASSERT_EQ(Tdx(-1, KVM_TDX_INIT_VM, 0, iv.data()), 0);
  EXPECT_EQ(Tdx(-1, KVM_TDX_INIT_VM, 0, iv.data()), -EINVAL);  // twice
  EXPECT_EQ(kvm_.Vm(KVM_CREATE_VCPU, 0), -EINVAL);  // no split IRQ chip
  ASSERT_EQ(SplitIrqchip(), 0);
  ASSERT_GE(kvm_.Vm(KVM_CREATE_VCPU, 0), 0);
  ASSERT_EQ(SetPrivate(0, kRam), 0);
  EXPECT_EQ(TdxAdd(0x1000, 1), -EINVAL);  // before INIT_VCPU
  EXPECT_EQ(Tdx(0, KVM_TDX_INIT_VCPU, 0, nullptr), -EINVAL);  // no CPUID yet
  ASSERT_EQ(SetCpuid(0, false), 0);
  EXPECT_EQ(Tdx(0, KVM_TDX_INIT_VCPU, 0, nullptr), -EINVAL);  // CPUID without x2APIC
  ASSERT_EQ(SetCpuid(0, true), 0);
  ASSERT_EQ(Tdx(0, KVM_TDX_INIT_VCPU, 0, nullptr), 0);
  kvm_regs regs{};
  regs.rip = 0x100000;
  EXPECT_EQ(kvm_.Vcpu(0, KVM_SET_REGS, Arg(&regs)), -EINVAL);  // never for a TD
  EXPECT_EQ(Tdx(-1, KVM_TDX_INIT_VCPU, 0, nullptr), -EINVAL);  // a vCPU command on the VM
  EXPECT_EQ(TdxAdd(0x1000, 1), 0);
  ASSERT_EQ(Tdx(-1, KVM_TDX_FINALIZE_VM, 0, nullptr), 0);
  EXPECT_EQ(TdxAdd(0x2000, 1), -EINVAL);  // after FINALIZE
}

TEST_F(FakeKvmRules, TdxInitMemRegionNeedsPrivateUnpopulatedMemory) {
  TdxInitialized();
  ASSERT_EQ(SplitIrqchip(), 0);
  ASSERT_GE(kvm_.Vm(KVM_CREATE_VCPU, 0), 0);
  ASSERT_EQ(SetCpuid(0, true), 0);
  ASSERT_EQ(Tdx(0, KVM_TDX_INIT_VCPU, 0, nullptr), 0);
  EXPECT_EQ(TdxAdd(0x1000, 1), -EINVAL);  // shared
  ASSERT_EQ(SetPrivate(0x1000, 0x1000), 0);
  EXPECT_EQ(TdxAdd(0x1000, 2), -EINVAL);  // second page shared
  EXPECT_EQ(TdxAdd(0x1000, 1), 0);
  EXPECT_EQ(TdxAdd(0x1000, 1), -EEXIST);
  EXPECT_EQ(TdxAdd(0x1000, 0), -EINVAL);
}

TEST_F(FakeKvmRules, TdxInitVmChecksTheCpuidConfiguration) {
  CreateVm(KVM_X86_TDX_VM);
  std::vector<tdx::CpuidEntry> cpuid = tdx::TdCpuid({}, {});  // GPAW 48 only
  tdx::CpuidEntry e{};
  e.function = 0x40000000;  // not configurable
  cpuid.push_back(e);
  auto iv = tdx::InitVmBuffer(0, tdx::kXfamX87Sse, cpuid);
  EXPECT_EQ(Tdx(-1, KVM_TDX_INIT_VM, 0, iv.data()), -EINVAL);
  cpuid.pop_back();
  cpuid[0].eax = 46u << 16;  // a GPAW KVM refuses
  auto gpaw46 = tdx::InitVmBuffer(0, tdx::kXfamX87Sse, cpuid);
  EXPECT_EQ(Tdx(-1, KVM_TDX_INIT_VM, 0, gpaw46.data()), -EINVAL);
  auto bad_xfam = tdx::InitVmBuffer(0, 1ull << 40, tdx::TdCpuid({}, {}));
  EXPECT_EQ(Tdx(-1, KVM_TDX_INIT_VM, 0, bad_xfam.data()), -EINVAL);
  auto good = InitVm();
  EXPECT_EQ(Tdx(-1, KVM_TDX_INIT_VM, 0, good.data()), 0);  // so the above failed for their reason
  auto caps = tdx::CapabilitiesBuffer(1);  // room for 1, the fake has 3
  EXPECT_EQ(Tdx(-1, KVM_TDX_CAPABILITIES, 0, caps.data()), -E2BIG);
  EXPECT_EQ(tdx::Caps(caps).cpuid.nent, 3u);
}

}  // namespace
}  // namespace gmem::test
