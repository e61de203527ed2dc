// Regression tests for defects a KVM review found in the series (issue 8)
// and for the classes of bug upstream guest_memfd has had.  Each test names
// the defect; each one failed on the series before its fix.
//
// They run on our kernel in the harness and, where the host offers the ABI
// for its default VM type, on the host kernel (upstream as the reference).
#include <asm/kvm_para.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "selftests/lib/abi_version.h"
#include "selftests/lib/kvm.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/signals.h"
#include "selftests/lib/skip.h"
#include "selftests/lib/concurrent.h"
#include "selftests/lib/stats.h"
#include "selftests/lib/uffd.h"

namespace gmt {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

long PreFault(int vcpu, uint64_t* gpa, uint64_t* size, uint64_t pad = 0) {
  kvm_pre_fault_memory r = {};
  r.gpa = *gpa;
  r.size = *size;
  r.padding[4] = pad;
  long ret = Ioctl(vcpu, KVM_PRE_FAULT_MEMORY, &r);
  *gpa = r.gpa;
  *size = r.size;
  return ret;
}

// Pre-faults the whole range, as a VMM does (calling again while size is
// not zero).  Returns 0 or the first -errno.
long PreFaultAll(int vcpu, uint64_t gpa, uint64_t size) {
  while (size) {
    long r = PreFault(vcpu, &gpa, &size);
    if (r < 0) return r;
  }
  return 0;
}

long SetRegion1(int vm, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, void* hva) {
  kvm_userspace_memory_region r = {};
  r.slot = slot;
  r.flags = flags;
  r.guest_phys_addr = gpa;
  r.memory_size = size;
  r.userspace_addr = reinterpret_cast<uint64_t>(hva);
  return Ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

Mapping Anon(size_t len) {
  return Mapping::Map(len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

// A VM type that can create a guest_memfd on this kernel: SW-protected on
// ours, the default type on upstream >= 6.18.  -1 if there is none.
int GmemVmType(int kvm) {
  for (int type : {KVM_X86_SW_PROTECTED_VM, KVM_X86_DEFAULT_VM}) {
    if (!VmTypeSupported(kvm, type)) continue;
    TestVm vm(type);
    if (!vm.ok()) continue;
    UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm.vm(), 2 << 20, 0)));
    if (gmem.valid()) return type;
  }
  return -1;
}

// A VM of a type that can create a guest_memfd, and shared memory.
class GmemSlots : public testing::Test {
 protected:
  void SetUp() override {
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    type_ = GmemVmType(kvm.get());
    if (type_ < 0) GTEST_SKIP() << "no VM type with guest_memfd here";
    vm_ = std::make_unique<TestVm>(type_);
    GMT_ASSERT_VM(*vm_);
    mem_ = Anon(8 << 20);
    ASSERT_TRUE(mem_.valid());
  }
  long Bind(uint32_t slot, uint64_t gpa, uint64_t size, int gmem, uint64_t off,
            uint32_t flags = KVM_MEM_GUEST_MEMFD) {
    Region2 r;
    r.slot = slot;
    r.flags = flags;
    r.gpa = gpa;
    r.size = size;
    r.hva = reinterpret_cast<uint64_t>(mem_.data());
    r.gmem_fd = gmem;
    r.gmem_offset = off;
    return SetRegion2(vm_->vm(), r);
  }
  long Delete(uint32_t slot) {
    Region2 r;
    r.slot = slot;
    return SetRegion2(vm_->vm(), r);
  }
  int type_ = -1;
  std::unique_ptr<TestVm> vm_;
  Mapping mem_;
};

// --- item 4: the v1 ioctl must not accept flags it cannot express --------

TEST_F(GmemSlots, V1RejectsGuestMemfdFlag) {
  TestVm& vm = *vm_;
  UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm.vm(), 2 << 20, 0)));
  ASSERT_TRUE(gmem.valid());
  // A daemonised VMM's guest_memfd can land on fd 0, which is what the v1
  // struct's (absent, so zero) guest_memfd field would name.
  UniqueFd saved(dup(0));
  ASSERT_TRUE(saved.valid());
  ASSERT_EQ(dup2(gmem.get(), 0), 0);
  Mapping mem = Anon(2 << 20);
  long r = SetRegion1(vm.vm(), 1, KVM_MEM_GUEST_MEMFD, 0x200000, 2 << 20, mem.data());
  dup2(saved.get(), 0);
  EXPECT_EQ(r, -EINVAL) << "KVM_SET_USER_MEMORY_REGION accepted KVM_MEM_GUEST_MEMFD";
  // Every other flag bit the v1 ioctl has no use for is refused too.
  for (int bit = 2; bit < 16; bit++) {
    EXPECT_EQ(SetRegion1(vm.vm(), 2, 1u << bit, 0x400000, 2 << 20, mem.data()), -EINVAL)
        << "flag bit " << bit;
  }
}

// --- items 2, 3, 10, 11: KVM_PRE_FAULT_MEMORY ------------------------------

class PreFaultTest : public testing::Test {
 protected:
  void SetUp() override {
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_PRE_FAULT_MEMORY);
  }
};

TEST_F(PreFaultTest, FinishesAfterAMemslotDelete) {
  // Deleting a memslot makes every root obsolete; only entering the guest
  // used to replace it, so pre-fault retried forever.
  TestVm vm;
  GMT_ASSERT_VM(vm);
  if (CheckExtension(vm.vm(), KVM_CAP_PRE_FAULT_MEMORY) <= 0) GTEST_SKIP() << "no pre-fault";
  Mapping a = Anon(2 << 20), b = Anon(2 << 20);
  ASSERT_EQ(SetRegion1(vm.vm(), 1, 0, 0x200000, 2 << 20, a.data()), 0);
  ASSERT_EQ(SetRegion1(vm.vm(), 2, 0, 0x400000, 2 << 20, b.data()), 0);
  ASSERT_EQ(PreFaultAll(vm.vcpu(), 0x200000, 4096), 0);
  ASSERT_EQ(SetRegion1(vm.vm(), 2, 0, 0x400000, 0, b.data()), 0);

  AlarmGuard guard(10);
  auto t0 = Clock::now();
  uint64_t gpa = 0x200000, size = 2 << 20;
  long r = PreFault(vm.vcpu(), &gpa, &size);
  double took = SecondsSince(t0);
  EXPECT_EQ(r, 0) << "pre-fault after a memslot delete: " << strerror(static_cast<int>(-r))
                  << " after " << took << " s";
  EXPECT_EQ(size, 0u);
  EXPECT_LT(took, 5.0);
  // And the VM still works: the guest reads what the host wrote.
  a.data()[0] = 0x5a;
  auto res = vm.Command(kOpRead, {0x200000});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value & 0xff, 0x5au);
}

TEST_F(PreFaultTest, AdvancesExactlyOverUnalignedRanges) {
  TestVm vm;
  GMT_ASSERT_VM(vm);
  if (CheckExtension(vm.vm(), KVM_CAP_PRE_FAULT_MEMORY) <= 0) GTEST_SKIP() << "no pre-fault";
  // 2 MiB aligned, THP-backed if the host has THP: the mapping may be a
  // hugepage, and the cursor must still stop exactly at the range's end.
  const size_t len = 4 << 20;
  Mapping raw =
      Mapping::Map(len + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(raw.valid());
  uint8_t* mem = reinterpret_cast<uint8_t*>(
      (reinterpret_cast<uintptr_t>(raw.data()) + (2 << 20) - 1) & ~((2UL << 20) - 1));
  madvise(mem, len, MADV_HUGEPAGE);
  memset(mem, 1, len);
  ASSERT_EQ(SetRegion1(vm.vm(), 1, 0, 0x400000, len, mem), 0);
  for (auto [gpa, size] : {std::pair<uint64_t, uint64_t>{0x401000, 4096},
                           {0x400000 + (2 << 20) - 4096, 8192},
                           {0x403000, (2 << 20) + 4096},
                           {0x400000, len}}) {
    uint64_t g = gpa, s = size;
    long r = PreFault(vm.vcpu(), &g, &s);
    ASSERT_EQ(r, 0) << std::hex << gpa;
    // One call may stop early (signal, resched) but never overshoots.
    EXPECT_LE(g, gpa + size);
    EXPECT_EQ(g + s, gpa + size) << std::hex << "gpa " << gpa << " size " << size;
  }
}

TEST_F(PreFaultTest, PrivateGfnWithoutSlotIsEfault) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
  TestVm vm(KVM_X86_SW_PROTECTED_VM);
  GMT_ASSERT_VM(vm);
  ASSERT_EQ(SetAttributes(vm.vm(), 0x800000, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  uint64_t gpa = 0x800000, size = 4096;
  EXPECT_EQ(PreFault(vm.vcpu(), &gpa, &size), -EFAULT);
  // A shared gfn without a slot is emulated MMIO: ENOENT.
  gpa = 0x900000, size = 4096;
  EXPECT_EQ(PreFault(vm.vcpu(), &gpa, &size), -ENOENT);
}

// A vCPU that could take an asynchronous page fault: in-kernel APIC,
// paging and interrupts on, async #PF enabled with "send always".
struct ApfVm {
  static constexpr uint64_t kApfArea = 0x3000;  // in the boot slot
  static constexpr uint64_t kPageDir = 0x4000;
  UniqueFd kvm, vm, vcpu;
  Mapping boot;
  std::string error;

  bool Fail(const char* what, long r) {
    error = std::string(what) + ": " + strerror(static_cast<int>(-r));
    return false;
  }

  bool Create() {
    kvm = OpenKvm();
    long r = Ioctl(kvm.get(), KVM_CREATE_VM, 0UL);
    if (r < 0) return Fail("KVM_CREATE_VM", r);
    vm.reset(static_cast<int>(r));
    if ((r = Ioctl(vm.get(), KVM_CREATE_IRQCHIP, 0UL)) < 0) return Fail("KVM_CREATE_IRQCHIP", r);
    boot = Anon(kBootSize);
    if ((r = SetRegion1(vm.get(), 0, 0, 0, kBootSize, boot.data())) < 0)
      return Fail("boot slot", r);
    // 32-bit paging with one 4 MiB identity page per directory entry.
    auto* pde = reinterpret_cast<uint32_t*>(boot.data() + kPageDir);
    for (uint32_t i = 0; i < 1024; i++) pde[i] = (i << 22) | 0x83;
    if ((r = Ioctl(vm.get(), KVM_CREATE_VCPU, 0UL)) < 0) return Fail("KVM_CREATE_VCPU", r);
    vcpu.reset(static_cast<int>(r));
    kvm_sregs sregs;
    if ((r = Ioctl(vcpu.get(), KVM_GET_SREGS, &sregs)) < 0) return Fail("KVM_GET_SREGS", r);
    sregs.cr0 = 0x80000011;  // PG | ET | PE
    sregs.cr3 = kPageDir;
    sregs.cr4 = 0x10;  // PSE
    sregs.cs.db = 1;
    sregs.cs.l = 0;
    if ((r = Ioctl(vcpu.get(), KVM_SET_SREGS, &sregs)) < 0) return Fail("KVM_SET_SREGS", r);
    kvm_regs regs = {};
    regs.rip = 0x1000;
    regs.rflags = 0x202;  // IF
    if ((r = Ioctl(vcpu.get(), KVM_SET_REGS, &regs)) < 0) return Fail("KVM_SET_REGS", r);
    // In C++, <asm/kvm.h>'s __DECLARE_FLEX_ARRAY gives struct kvm_msrs an
    // empty member that moves entries[] to offset 16 and makes the struct
    // 16 bytes, so neither the struct nor KVM_SET_MSRS (which encodes its
    // size) match the kernel's.  Lay the argument out as the kernel does.
    struct {
      uint32_t nmsrs, pad;
      kvm_msr_entry entries[2];
    } msrs_arg = {};
    static_assert(offsetof(decltype(msrs_arg), entries) == 8);
    constexpr unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, 8);
    auto* msrs = &msrs_arg;
    msrs->nmsrs = 2;
    msrs->entries[0].index = MSR_KVM_ASYNC_PF_INT;
    msrs->entries[0].data = 0xec;
    msrs->entries[1].index = MSR_KVM_ASYNC_PF_EN;
    msrs->entries[1].data = kApfArea | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_SEND_ALWAYS |
                            KVM_ASYNC_PF_DELIVERY_AS_INT;
    if ((r = Ioctl(vcpu.get(), kSetMsrs, msrs)) != 2) {
      error = "KVM_SET_MSRS (async #PF): " +
              (r < 0 ? std::string(strerror(static_cast<int>(-r)))
                     : "MSR " + std::to_string(r) + " refused");
      return false;
    }
    return true;
  }
};

TEST_F(PreFaultTest, NeverTakesTheAsyncPageFaultPath) {
  // Pre-fault is a prefetch: it must not queue an async #PF (guest-visible
  // token and #PF injection, or an artificial halt), nor count as a guest
  // page fault.  Memory that needs I/O: a userfaultfd page resolved only
  // after the fault has been reported.
  ApfVm v;
  ASSERT_TRUE(v.Create()) << v.error;
  if (CheckExtension(v.vm.get(), KVM_CAP_PRE_FAULT_MEMORY) <= 0) GTEST_SKIP() << "no pre-fault";
  UserfaultRegion uffd(2 << 20);
  ASSERT_TRUE(uffd.ok()) << uffd.error();
  ASSERT_EQ(SetRegion1(v.vm.get(), 1, 0, 0x400000, 2 << 20, uffd.data()), 0);
  auto pf_before = ReadStat(v.vcpu.get(), "pf_taken");

  std::atomic<bool> resolved{false};
  std::thread resolver([&] {
    uint64_t addr = uffd.WaitFault(5000);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    uffd.Resolve(addr ? addr - reinterpret_cast<uint64_t>(uffd.data()) : 0);
    resolved = true;
  });
  AlarmGuard guard(10);
  long r = PreFaultAll(v.vcpu.get(), 0x400000, 4096);
  resolver.join();
  EXPECT_EQ(r, 0) << strerror(static_cast<int>(-r));
  EXPECT_TRUE(resolved.load());

  uint32_t reason;
  memcpy(&reason, v.boot.data() + ApfVm::kApfArea, sizeof(reason));
  EXPECT_EQ(reason, 0u) << "an async #PF 'page not present' token reached the guest";
  kvm_vcpu_events ev = {};
  ASSERT_EQ(Ioctl(v.vcpu.get(), KVM_GET_VCPU_EVENTS, &ev), 0);
  EXPECT_FALSE(ev.exception.injected || ev.exception.pending)
      << "exception " << int(ev.exception.nr) << " queued by pre-fault";
  auto pf_after = ReadStat(v.vcpu.get(), "pf_taken");
  ASSERT_TRUE(pf_before && pf_after) << "no pf_taken statistic";
  EXPECT_EQ(*pf_after, *pf_before) << "pre-fault counted as a guest #PF";
}

// --- item 8: KVM_SET_MEMORY_ATTRIBUTES never fails with EINTR --------------

class Attributes : public PrivateVmTest {};

TEST_F(Attributes, IgnoreSignals) {
  // Upstream never returns EINTR here and the struct reports no progress,
  // so a VMM that leaves signals unblocked would take EINTR as fatal.
  InstallInterruptingHandler(SIGALRM);
  itimerval t = {};
  t.it_interval.tv_usec = 200;
  t.it_value.tv_usec = 200;
  setitimer(ITIMER_REAL, &t, nullptr);
  int eintr = 0, other = 0;
  long last = 0;
  for (int i = 0; i < 4000; i++) {
    uint64_t off = (i % (kSize / kPage)) * kPage;
    long r = (i & 1) ? MakeShared(off, kPage) : MakePrivate(off, kPage);
    if (r == -EINTR) {
      eintr++;
    } else if (r) {
      other++;
      last = r;
    }
  }
  // A 64 MiB update, long enough for many signals to arrive during it.
  long big = SetAttributes(vm_->vm(), kGpa, 64ULL << 20, KVM_MEMORY_ATTRIBUTE_PRIVATE);
  itimerval off = {};
  setitimer(ITIMER_REAL, &off, nullptr);
  EXPECT_EQ(eintr, 0) << "of 4000 one-page updates";
  EXPECT_EQ(other, 0) << strerror(static_cast<int>(-last));
  EXPECT_EQ(big, 0) << strerror(static_cast<int>(-big));
}

// --- item 7: KVM_CAP_VM_TYPES says what KVM_CREATE_VM does -----------------

void ExpectVmTypesMatchCreate(int kvm, const char* when) {
  long types = CheckExtension(kvm, KVM_CAP_VM_TYPES);
  ASSERT_GE(types, 0);
  for (unsigned t = 0; t < 32; t++) {
    long r = Ioctl(kvm, KVM_CREATE_VM, static_cast<unsigned long>(t));
    if (r >= 0) close(static_cast<int>(r));
    bool advertised = (types >> t) & 1;
    // Type 0 predates the capability and is always accepted.
    if (t == 0) advertised = true;
    EXPECT_EQ(r >= 0, advertised) << when << ": type " << t << ": KVM_CREATE_VM "
                                  << (r >= 0 ? "succeeded" : strerror(static_cast<int>(-r)))
                                  << " but KVM_CAP_VM_TYPES = " << types;
  }
}

TEST(VmTypes, CapabilityMatchesCreate) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_VM_TYPES);
  ExpectVmTypesMatchCreate(kvm.get(), "default");
  // 6.1's tdp_mmu parameter can change while KVM is loaded.
  const char* param = "/sys/module/kvm/parameters/tdp_mmu";
  UniqueFd p(open(param, O_RDWR | O_CLOEXEC));
  if (!p.valid()) return;
  char was = 0;
  ASSERT_EQ(pread(p.get(), &was, 1, 0), 1);
  ASSERT_EQ(pwrite(p.get(), "N", 1, 0), 1);
  ExpectVmTypesMatchCreate(kvm.get(), "tdp_mmu=N");
  ASSERT_EQ(pwrite(p.get(), &was, 1, 0), 1);
  ExpectVmTypesMatchCreate(kvm.get(), "tdp_mmu restored");
}

// --- item 9: padding and reserved fields are ignored, as upstream does -----

TEST_F(GmemSlots, PaddingIgnoredLikeUpstream) {
  TestVm& vm = *vm_;
  kvm_create_guest_memfd args = {};
  args.size = 2 << 20;
  args.reserved[5] = 1;
  long fd = Ioctl(vm.vm(), KVM_CREATE_GUEST_MEMFD, &args);
  EXPECT_GE(fd, 0) << "reserved[] of KVM_CREATE_GUEST_MEMFD: " << strerror(static_cast<int>(-fd));
  UniqueFd gmem(static_cast<int>(fd >= 0 ? fd : CreateGuestMemfd(vm.vm(), 2 << 20, 0)));
  ASSERT_TRUE(gmem.valid());
  Mapping mem = Anon(2 << 20);
  kvm_userspace_memory_region2 r = {};
  r.slot = 1;
  r.flags = KVM_MEM_GUEST_MEMFD;
  r.guest_phys_addr = 0x200000;
  r.memory_size = 2 << 20;
  r.userspace_addr = reinterpret_cast<uint64_t>(mem.data());
  r.guest_memfd = static_cast<uint32_t>(gmem.get());
  r.pad1 = 1;
  r.pad2[13] = 1;
  EXPECT_EQ(Ioctl(vm.vm(), KVM_SET_USER_MEMORY_REGION2, &r), 0) << "pad1/pad2 of region2";
  if (CheckExtension(vm.vm(), KVM_CAP_PRE_FAULT_MEMORY) > 0) {
    uint64_t gpa = 0x200000, size = 4096;
    EXPECT_EQ(PreFault(vm.vcpu(), &gpa, &size, 1), 0) << "padding of KVM_PRE_FAULT_MEMORY";
  }
}

// --- upstream bug classes ----------------------------------------------------


TEST_F(GmemSlots, OneFileRangeBacksOneSlot) {
  // Upstream now answers EEXIST for a range that is already bound, as it
  // does for overlapping memslots; so do we.
  UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm_->vm(), 4 << 20, 0)));
  ASSERT_TRUE(gmem.valid());
  ASSERT_EQ(Bind(1, 0x200000, 2 << 20, gmem.get(), 0), 0);
  EXPECT_EQ(Bind(2, 0x800000, 2 << 20, gmem.get(), 0), AlreadyBoundErrno());
  EXPECT_EQ(Bind(2, 0x800000, 2 << 20, gmem.get(), 1 << 20), AlreadyBoundErrno());
  EXPECT_EQ(Bind(2, 0x800000, 2 << 20, gmem.get(), 2 << 20), 0);
  // Offsets are unsigned: a huge one is out of range, not negative.
  EXPECT_EQ(Bind(3, 0xc00000, 4096, gmem.get(), 1ULL << 63), -EINVAL);
  EXPECT_EQ(Bind(3, 0xc00000, 4096, gmem.get(), ~0ULL & ~4095ULL), -EINVAL);
  EXPECT_EQ(Bind(3, 0xc00000, 2 << 20, gmem.get(), 0ULL - (1 << 20)), -EINVAL);
  EXPECT_EQ(Bind(3, 0xc00000, 2 << 20, gmem.get(), 3 << 20), -EINVAL) << "past EOF";
}

TEST_F(GmemSlots, FlagsOnlyUpdateCannotDropTheBinding) {
  // CVE-2025-68810: a flags-only update that cleared KVM_MEM_GUEST_MEMFD
  // left a slot whose private memory pointed at a freed binding.
  UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm_->vm(), 2 << 20, 0)));
  ASSERT_TRUE(gmem.valid());
  ASSERT_EQ(Bind(1, 0x200000, 2 << 20, gmem.get(), 0), 0);
  EXPECT_EQ(Bind(1, 0x200000, 2 << 20, gmem.get(), 0, 0), -EINVAL);
  EXPECT_EQ(Bind(1, 0x200000, 2 << 20, gmem.get(), 0, KVM_MEM_LOG_DIRTY_PAGES), -EINVAL);
  EXPECT_EQ(Bind(1, 0x200000, 2 << 20, gmem.get(), 0,
                 KVM_MEM_GUEST_MEMFD | KVM_MEM_LOG_DIRTY_PAGES), -EINVAL);
  EXPECT_EQ(Bind(1, 0x400000, 2 << 20, gmem.get(), 0), -EINVAL) << "move";
  EXPECT_EQ(SetRegion1(vm_->vm(), 1, 0, 0x200000, 2 << 20, mem_.data()), -EINVAL);
  // Still bound: the range is taken, and it frees on delete.
  EXPECT_EQ(Bind(2, 0x800000, 2 << 20, gmem.get(), 0), AlreadyBoundErrno());
  ASSERT_EQ(Delete(1), 0);
  EXPECT_EQ(Bind(2, 0x800000, 2 << 20, gmem.get(), 0), 0);
}

TEST_F(GmemSlots, DeleteRacesLastClose) {
  // CVE-2025-40274: the memslot delete and the guest_memfd's last close
  // both tear down the binding; whichever runs second must see the first's
  // work, never a freed slot or view.  KASAN/lockdep judge the run.
  const auto end = Clock::now() + std::chrono::seconds(3);
  int rounds = 0;
  while (Clock::now() < end) {
    int gmem = static_cast<int>(CreateGuestMemfd(vm_->vm(), 2 << 20, 0));
    ASSERT_GE(gmem, 0);
    ASSERT_EQ(Bind(1, 0x200000, 2 << 20, gmem, 0), 0);
    long deleted = -1;
    RunTogether([&] { close(gmem); }, [&] { deleted = Delete(1); });
    EXPECT_EQ(deleted, 0);
    rounds++;
  }
  printf("delete vs close: %d rounds\n", rounds);
  EXPECT_GT(rounds, 10);
  // The slot id and a fresh file's range are usable again.
  UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm_->vm(), 2 << 20, 0)));
  ASSERT_TRUE(gmem.valid());
  EXPECT_EQ(Bind(1, 0x200000, 2 << 20, gmem.get(), 0), 0);
}

TEST_F(GmemSlots, AttributesOverSmallAndUnalignedSlots) {
  // CVE-2024-26991: the hugepage "mixed" tracking indexed lpage_info past
  // the end of small memslots.  KASAN judges the run.
  if (type_ != KVM_X86_SW_PROTECTED_VM) GTEST_SKIP() << "needs memory attributes";
  UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm_->vm(), 8 << 20, 0)));
  ASSERT_TRUE(gmem.valid());
  struct S {
    uint64_t gpa, size;
  } slots[] = {{0x201000, 4096},     {0x3ff000, 4096},        {0x400000, 3 * 4096},
               {0x5ff000, 0x202000}, {0x9000000, 0x1ff000}, {0x40000000 - 0x1000, 0x2000}};
  uint64_t off = 0;
  for (uint32_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
    ASSERT_EQ(Bind(10 + i, slots[i].gpa, slots[i].size, gmem.get(), off), 0) << i;
    off += (slots[i].size + 4095) & ~4095ULL;
  }
  for (uint64_t attrs : {KVM_MEMORY_ATTRIBUTE_PRIVATE, 0ULL}) {
    EXPECT_EQ(SetAttributes(vm_->vm(), 0x200000, 0xa000000 - 0x200000, attrs), 0);
    EXPECT_EQ(SetAttributes(vm_->vm(), 0x3fe00000, 0x400000, attrs), 0);
    for (const S& s : slots) {
      EXPECT_EQ(SetAttributes(vm_->vm(), s.gpa, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
      EXPECT_EQ(SetAttributes(vm_->vm(), s.gpa + s.size - 4096, 4096, attrs), 0);
    }
  }
}


// --- found by gmem_fuzz ------------------------------------------------------

TEST(AddressSpaces, PrivateMemoryVmsHaveOne) {
  // A VM with private memory has no SMM address space (upstream: EINVAL
  // for as_id 1); an ordinary VM keeps both.
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
  Mapping mem = Anon(1 << 20);
  TestVm sw(KVM_X86_SW_PROTECTED_VM);
  GMT_ASSERT_VM(sw);
  EXPECT_EQ(CheckExtension(sw.vm(), KVM_CAP_MULTI_ADDRESS_SPACE), 1);
  EXPECT_EQ(SetRegion1(sw.vm(), (1u << 16) | 3, 0, 0x400000, 1 << 20, mem.data()), -EINVAL);
  TestVm plain;
  GMT_ASSERT_VM(plain);
  EXPECT_EQ(CheckExtension(plain.vm(), KVM_CAP_MULTI_ADDRESS_SPACE), 2);
  EXPECT_EQ(SetRegion1(plain.vm(), (1u << 16) | 3, 0, 0x400000, 1 << 20, mem.data()), 0);
}

TEST_F(PreFaultTest, LeavesAPendingExitAlone) {
  // Userspace may pre-fault while it holds an exit it has not handled; a
  // failing pre-fault must not overwrite kvm_run with a memory fault.
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
  TestVm vm(KVM_X86_SW_PROTECTED_VM);
  GMT_ASSERT_VM(vm);
  // The guest's first IN is an exit that stays pending until the next
  // KVM_RUN.
  ASSERT_EQ(Ioctl(vm.vcpu(), KVM_RUN, 0UL), 0);
  ASSERT_EQ(vm.run()->exit_reason, static_cast<uint32_t>(KVM_EXIT_IO));
  ASSERT_EQ(SetAttributes(vm.vm(), 0x800000, 4096, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  uint64_t gpa = 0x800000, size = 4096;
  EXPECT_EQ(PreFault(vm.vcpu(), &gpa, &size), -EFAULT);
  EXPECT_EQ(vm.run()->exit_reason, static_cast<uint32_t>(KVM_EXIT_IO))
      << "pre-fault rewrote the pending exit";
  EXPECT_EQ(vm.run()->io.port, kCmdPort);
}

TEST_F(PreFaultTest, RacesWithMemslotDeletion) {
  // Deleting a memslot waits for the SRCU readers, pre-fault among them:
  // pre-fault must give up on a slot being deleted (EAGAIN), not retry.
  TestVm vm;
  GMT_ASSERT_VM(vm);
  if (CheckExtension(vm.vm(), KVM_CAP_PRE_FAULT_MEMORY) <= 0) GTEST_SKIP() << "no pre-fault";
  Mapping mem = Anon(4 << 20);
  std::atomic<bool> stop{false};
  std::atomic<int> churns{0};
  std::thread churn([&] {
    while (!stop) {
      SetRegion1(vm.vm(), 1, 0, 0x400000, 4 << 20, mem.data());
      SetRegion1(vm.vm(), 1, 0, 0x400000, 0, mem.data());
      churns++;
    }
  });
  AlarmGuard guard(20);
  int calls = 0, bad = 0;
  long last_bad = 0;
  const auto end = Clock::now() + std::chrono::seconds(3);
  while (Clock::now() < end) {
    uint64_t gpa = 0x400000, size = 4 << 20;
    long r = PreFault(vm.vcpu(), &gpa, &size);
    calls++;
    if (r != 0 && r != -EAGAIN && r != -ENOENT) {
      bad++;
      last_bad = r;
    }
    if (r == -EINTR) break;
  }
  stop = true;
  churn.join();
  printf("pre-fault vs memslot delete: %d calls, %d create/delete pairs\n", calls,
         churns.load());
  EXPECT_EQ(bad, 0) << strerror(static_cast<int>(-last_bad));
  EXPECT_GT(churns.load(), 10);
}

TEST_F(PreFaultTest, PoisonedPageWithSigbusBlocked) {
  // A guest fault on a poisoned page gets a SIGBUS sent and is retried;
  // pre-fault must not wait for a signal that is blocked.
  TestVm vm;
  GMT_ASSERT_VM(vm);
  if (CheckExtension(vm.vm(), KVM_CAP_PRE_FAULT_MEMORY) <= 0) GTEST_SKIP() << "no pre-fault";
  Mapping mem = Anon(1 << 20);
  memset(mem.data(), 1, 1 << 20);
  if (madvise(mem.data() + 4096, 4096, MADV_HWPOISON) != 0)
    GTEST_SKIP() << "MADV_HWPOISON: " << strerror(errno);
  ASSERT_EQ(SetRegion1(vm.vm(), 1, 0, 0x400000, 1 << 20, mem.data()), 0);
  sigset_t bus, old;
  sigemptyset(&bus);
  sigaddset(&bus, SIGBUS);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &bus, &old), 0);
  long r;
  {
    AlarmGuard guard(10);
    uint64_t gpa = 0x401000, size = 4096;
    r = PreFault(vm.vcpu(), &gpa, &size);
  }
  // Drop the pending SIGBUS before unblocking it.
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  struct sigaction prev;
  sigaction(SIGBUS, &ign, &prev);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  sigaction(SIGBUS, &prev, nullptr);
  EXPECT_EQ(r, -EHWPOISON) << strerror(static_cast<int>(-r));
}

}  // namespace
}  // namespace gmt
