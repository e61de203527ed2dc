// Shared memory inside guest_memfd (upstream 6.18's ABI):
// GUEST_MEMFD_FLAG_MMAP / GUEST_MEMFD_FLAG_INIT_SHARED, KVM_CAP_GUEST_MEMFD_FLAGS,
// mmap() of guest_memfd, and memory slots that guest_memfd backs alone
// ("gmem-only").  Runs on our kernel in the harness and on the host where
// it has /dev/kvm (upstream as the reference).
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "selftests/lib/abi_version.h"
#include "selftests/lib/kvm.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/signals.h"
#include "selftests/lib/skip.h"

namespace gmt {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMmap = GUEST_MEMFD_FLAG_MMAP;
constexpr uint64_t kShared = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;

// A VM of |type| and a guest_memfd of it.
class SharedGmem : public testing::Test {
 protected:
  void SetUp() override {
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_GUEST_MEMFD);
    if (!(CheckExtension(kvm.get(), KVM_CAP_GUEST_MEMFD_FLAGS) & GUEST_MEMFD_FLAG_MMAP))
      GTEST_SKIP() << "no GUEST_MEMFD_FLAG_MMAP on this kernel";
    vm_ = std::make_unique<TestVm>(KVM_X86_DEFAULT_VM);
    GMT_ASSERT_VM(*vm_);
  }
  UniqueFd Create(uint64_t size, uint64_t flags) {
    return UniqueFd(static_cast<int>(CreateGuestMemfd(vm_->vm(), size, flags)));
  }
  std::unique_ptr<TestVm> vm_;
};

TEST(SharedGmemFlags, FollowTheCapability) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  long sys = CheckExtension(kvm.get(), KVM_CAP_GUEST_MEMFD_FLAGS);
  if (sys <= 0) GTEST_SKIP() << "no KVM_CAP_GUEST_MEMFD_FLAGS";
  // GUEST_MEMFD_FLAG_NO_DIRECT_MAP (posted, our kernel) is tested in
  // no_direct_map_test.
  constexpr long kOptional = GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
  EXPECT_EQ(sys & ~kOptional, static_cast<long>(kShared)) << "on /dev/kvm";
  for (unsigned type : {KVM_X86_DEFAULT_VM, KVM_X86_SW_PROTECTED_VM}) {
    if (!VmTypeSupported(kvm.get(), type)) continue;
    TestVm vm(type);
    GMT_ASSERT_VM(vm);
    long flags = CheckExtension(vm.vm(), KVM_CAP_GUEST_MEMFD_FLAGS);
    // Memory of a VM with private memory can start out shared only where
    // guest_memfd converts it in place (KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES).
    const bool in_place = CheckExtension(vm.vm(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES) > 0;
    EXPECT_EQ(flags & ~kOptional,
              static_cast<long>(type == KVM_X86_DEFAULT_VM || in_place ? kShared : kMmap))
        << "VM type " << type;
    EXPECT_EQ(CheckExtension(vm.vm(), KVM_CAP_GUEST_MEMFD), 1) << "VM type " << type;
    for (int bit = 0; bit < 64; bit++) {
      uint64_t f = 1ULL << bit;
      long r = CreateGuestMemfd(vm.vm(), kPage, f);
      if (r >= 0) close(static_cast<int>(r));
      if (f == GUEST_MEMFD_FLAG_INIT_SHARED && type != KVM_X86_DEFAULT_VM && (flags & f))
        EXPECT_EQ(r, -EINVAL) << "shared memory of a VM with private memory needs MMAP";
      else if (flags & f)
        EXPECT_GE(r, 0) << "VM type " << type << " flag bit " << bit << ": " << strerror(-r);
      else
        EXPECT_EQ(r, -EINVAL) << "VM type " << type << " flag bit " << bit;
    }
    long both = CreateGuestMemfd(vm.vm(), kPage, static_cast<uint64_t>(flags));
    EXPECT_GE(both, 0);
    if (both >= 0) close(static_cast<int>(both));
  }
}

TEST_F(SharedGmem, MmapNeedsTheFlagAndMapShared) {
  UniqueFd plain = Create(kPage, 0), mappable = Create(kPage, kMmap);
  ASSERT_TRUE(plain.valid() && mappable.valid());
  errno = 0;
  EXPECT_EQ(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, plain.get(), 0), MAP_FAILED);
  EXPECT_EQ(errno, ENODEV);
  errno = 0;
  EXPECT_EQ(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE, mappable.get(), 0),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL) << "a copy-on-write mapping of guest memory";
  Mapping m = Mapping::Map(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, mappable.get(), 0);
  EXPECT_TRUE(m.valid()) << strerror(errno);
}

TEST_F(SharedGmem, OnlySharedMemoryInsideTheFileCanBeFaulted) {
  constexpr uint64_t kSize = 4 * kPage;
  UniqueFd shared = Create(kSize, kShared), priv = Create(kSize, kMmap);
  ASSERT_TRUE(shared.valid() && priv.valid());
  // Mapped twice as large as the file: the second half is past the end.
  Mapping s = Mapping::Map(2 * kSize, PROT_READ | PROT_WRITE, MAP_SHARED, shared.get(), 0);
  Mapping p = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, priv.get(), 0);
  ASSERT_TRUE(s.valid() && p.valid());
  for (uint64_t off = 0; off < kSize; off += kPage) {
    EXPECT_EQ(s.data()[off + 17], 0) << "a new page is zeroed";
    EXPECT_EQ(AccessSignal(s.data() + off, true), 0) << off;
    EXPECT_EQ(s.data()[off], 0x5a);
  }
  EXPECT_EQ(AccessSignal(s.data() + kSize, false), SIGBUS) << "at the end of the file";
  EXPECT_EQ(AccessSignal(s.data() + 2 * kSize - 1, true), SIGBUS) << "past the end";
  EXPECT_EQ(AccessSignal(p.data(), false), SIGBUS) << "private memory, read";
  EXPECT_EQ(AccessSignal(p.data() + kPage, true), SIGBUS) << "private memory, write";
}

TEST_F(SharedGmem, PunchHoleZapsMappings) {
  constexpr uint64_t kSize = 4 * kPage;
  UniqueFd gmem = Create(kSize, kShared);
  Mapping m = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, gmem.get(), 0);
  ASSERT_TRUE(m.valid());
  std::memset(m.data(), 0xab, kSize);
  ASSERT_EQ(fallocate(gmem.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, kPage, kPage), 0);
  for (uint64_t i = 0; i < kPage; i++) ASSERT_EQ(m.data()[kPage + i], 0) << i;
  EXPECT_EQ(m.data()[0], 0xab);
  EXPECT_EQ(m.data()[2 * kPage], 0xab);
  EXPECT_EQ(m.data()[kSize - 1], 0xab);
  m.data()[kPage] = 1;
  EXPECT_EQ(m.data()[kPage], 1);
}

TEST_F(SharedGmem, NeverHugePages) {
  // A 2 MiB-aligned mapping of a 2 MiB file: khugepaged and MADV_COLLAPSE
  // must not build a huge folio out of guest_memfd; the hints are harmless.
  constexpr uint64_t kHuge = 2 << 20;
  UniqueFd gmem = Create(kHuge, kShared);
  ASSERT_TRUE(gmem.valid());
  Mapping area = Mapping::Map(2 * kHuge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(area.valid());
  auto* aligned = reinterpret_cast<uint8_t*>(
      (reinterpret_cast<uintptr_t>(area.data()) + kHuge - 1) & ~(kHuge - 1));
  void* m = mmap(aligned, kHuge, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, gmem.get(), 0);
  ASSERT_EQ(m, aligned) << strerror(errno);
  for (uint64_t off = 0; off < kHuge; off += kPage) aligned[off] = static_cast<uint8_t>(off >> 12);
  EXPECT_EQ(madvise(aligned, kHuge, MADV_HUGEPAGE), 0) << strerror(errno);
  errno = 0;
  EXPECT_EQ(madvise(aligned, kHuge, 25 /* MADV_COLLAPSE */), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(madvise(aligned, kHuge, MADV_DONTNEED), 0);
  // The memory is the file's: dropping the mapping loses nothing.
  for (uint64_t off = 0; off < kHuge; off += kPage)
    ASSERT_EQ(aligned[off], static_cast<uint8_t>(off >> 12)) << off;
}

TEST_F(SharedGmem, ForkedChildrenShareTheMemory) {
  constexpr uint64_t kSize = 2 * kPage;
  UniqueFd gmem = Create(kSize, kShared);
  Mapping m = Mapping::Map(2 * kSize, PROT_READ | PROT_WRITE, MAP_SHARED, gmem.get(), 0);
  ASSERT_TRUE(m.valid());
  m.data()[0] = 1;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Exit codes: 10 wrong data, 11 no SIGBUS past the end, 0 fine.
    if (m.data()[0] != 1) _exit(10);
    m.data()[kPage] = 2;
    if (AccessSignal(m.data() + kSize, false) != SIGBUS) _exit(11);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(m.data()[kPage], 2) << "the child's write";
}

TEST_F(SharedGmem, CloseAndUnmapInAnyOrder) {
  UniqueFd gmem = Create(kPage, kShared);
  auto* m = static_cast<uint8_t*>(
      mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, gmem.get(), 0));
  ASSERT_NE(m, MAP_FAILED);
  m[0] = 3;
  gmem.reset();  // the mapping keeps the file
  EXPECT_EQ(m[0], 3);
  m[1] = 4;
  EXPECT_EQ(munmap(m, kPage), 0);
  UniqueFd again = Create(kPage, kShared);
  Mapping m2 = Mapping::Map(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, again.get(), 0);
  ASSERT_TRUE(m2.valid());
  m2.data()[0] = 5;
}

// A default VM whose only data memory is a gmem-only slot.  Its
// userspace_addr is where the VMM maps the same guest_memfd (what KVM's own
// accesses to guest memory use); GmemOnlyVmWithoutHva leaves it 0.
class GmemOnlyVm : public SharedGmem {
 protected:
  static constexpr uint64_t kGpa = 0x200000;
  static constexpr uint64_t kSize = 2 << 20;
  virtual bool WithHva() const { return true; }
  void SetUp() override {
    SharedGmem::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    gmem_ = Create(kSize, kShared);
    ASSERT_TRUE(gmem_.valid());
    map_ = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, gmem_.get(), 0);
    ASSERT_TRUE(map_.valid());
    Region2 r;
    r.slot = 1;
    r.flags = KVM_MEM_GUEST_MEMFD;
    r.gpa = kGpa;
    r.size = kSize;
    r.hva = WithHva() ? reinterpret_cast<uint64_t>(map_.data()) : 0;
    r.gmem_fd = gmem_.get();
    ASSERT_EQ(SetRegion2(vm_->vm(), r), 0);
  }
  uint32_t Word(uint64_t off) const {
    uint32_t v;
    std::memcpy(&v, map_.data() + off, sizeof(v));
    return v;
  }
  void SetWord(uint64_t off, uint32_t v) { std::memcpy(map_.data() + off, &v, sizeof(v)); }
  UniqueFd gmem_;
  Mapping map_;
};

TEST_F(GmemOnlyVm, GuestAndHostSeeOneCopy) {
  SetWord(kPage, 0x1234abcd);
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa + kPage)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0x1234abcdu) << "the guest reads what the host wrote";
  res = vm_->Command(kOpWrite, {static_cast<uint32_t>(kGpa + 2 * kPage), 0xfeedf00d});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(Word(2 * kPage), 0xfeedf00du) << "the host sees what the guest wrote";
  // All of the slot, through the guest.
  res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kSize / 4, 0x01010101, 1});
  ASSERT_TRUE(res.ok) << res.what;
  for (uint64_t off = 0; off < kSize; off += kPage) ASSERT_EQ(Word(off), 0x01010101u) << off;
  // A punched hole is zero for both.
  ASSERT_EQ(fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, kPage), 0);
  EXPECT_EQ(Word(0), 0u);
  res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa + 8)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0u);
}

// userspace_addr 0: guest_memfd is all the memory there is.
class GmemOnlyVmWithoutHva : public GmemOnlyVm {
 protected:
  bool WithHva() const override { return false; }
};

TEST_F(GmemOnlyVmWithoutHva, GuestAndHostSeeOneCopy) {
  // The host reference kernel (upstream, PVM-based) emulates guest accesses
  // through userspace_addr, so there the guest sees MMIO; ours maps the
  // memory from guest_memfd like any other gmem-only fault.
  SetWord(0, 0x600df00d);
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa)});
  if (!res.ok && res.exit_reason == KVM_EXIT_MMIO && KernelAtLeast(6, 8))
    GTEST_SKIP() << "this host's KVM needs userspace_addr for guest accesses";
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0x600df00du);
  res = vm_->Command(kOpWrite, {static_cast<uint32_t>(kGpa + kPage), 0x0ddba11});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(Word(kPage), 0x0ddba11u);
}

TEST_F(GmemOnlyVmWithoutHva, KvmsOwnAccessesDoNotReachAddressZero) {
  // With userspace_addr 0 the slot has no host addresses.  KVM's own
  // writes to guest memory (here the wall clock, which KVM_SET_MSRS writes
  // at once) must fail, not land at 0 + offset in this process.
  constexpr uint64_t kOff = 0x100000;
  void* low = mmap(reinterpret_cast<void*>(kOff), kPage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (low == MAP_FAILED) GTEST_SKIP() << "cannot map 0x100000 here: " << strerror(errno);
  ASSERT_EQ(low, reinterpret_cast<void*>(kOff));
  struct Unmap {
    void* p;
    ~Unmap() { munmap(p, kPage); }
  } unmap{low};
  std::memset(low, 0, kPage);
  // struct kvm_msrs as the kernel lays it out (see soundness_test.cc).
  struct {
    uint32_t nmsrs, pad;
    kvm_msr_entry entries[1];
  } msrs = {};
  constexpr unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, 8);
  msrs.nmsrs = 1;
  msrs.entries[0].index = 0x4b564d00;  // MSR_KVM_WALL_CLOCK_NEW
  msrs.entries[0].data = kGpa + kOff;
  ASSERT_EQ(ioctl(vm_->vcpu(), kSetMsrs, &msrs), 1) << strerror(errno);
  bool written = false;
  for (uint64_t i = 0; i < kPage; i++) written |= static_cast<uint8_t*>(low)[i] != 0;
  if (written && KernelAtLeast(6, 8))
    GTEST_SKIP() << "this host's KVM treats userspace_addr 0 as an address";
  EXPECT_FALSE(written) << "KVM wrote the wall clock into the VMM's memory at 0x100000";
  EXPECT_EQ(Word(kOff), 0u) << "nor into guest memory, which has no host address";
}

TEST_F(GmemOnlyVm, ClosedFileIsAMemoryFault) {
  map_ = Mapping();
  gmem_.reset();
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa)});
  ASSERT_FALSE(res.ok);
  if (res.exit_reason == KVM_EXIT_MMIO && KernelAtLeast(6, 8))
    GTEST_SKIP() << "this host's KVM emulates guest accesses through userspace_addr";
  EXPECT_EQ(res.err, EFAULT);
  EXPECT_EQ(res.exit_reason, static_cast<uint32_t>(KVM_EXIT_MEMORY_FAULT));
  gmem_memory_fault_exit f = gmem_read_memory_fault(vm_->run());
  EXPECT_EQ(f.gpa, kGpa);
  EXPECT_EQ(f.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE, 0u) << "a shared access";
}

TEST_F(GmemOnlyVm, PunchRacesUserAndGuestFaults) {
  // Hole punching against host faults through the mapping and guest faults
  // through the slot.  Every page is either the last value written to it
  // or zero; the kernel reports nothing (the harness reads dmesg).
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> punches{0}, touches{0};
  // The puncher works in bursts.  Every punch ends an invalidation of the
  // VM, and a guest fault that overlaps any invalidation is retried; an
  // unbroken loop of punches can therefore keep a vCPU retrying for as long
  // as it runs (as a loop of MADV_DONTNEED would with anonymous memory).
  // The pauses bound that; the bursts still race every fault path.
  std::thread puncher([&] {
    std::mt19937 rng(1);
    while (!stop) {
      for (int i = 0; i < 32 && !stop; i++) {
        uint64_t off = (rng() % (kSize / kPage)) * kPage;
        fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off, kPage);
        punches++;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  std::thread toucher([&] {
    std::mt19937 rng(2);
    while (!stop) {
      uint64_t off = (rng() % (kSize / kPage)) * kPage;
      uint32_t v = Word(off);
      if (v != 0 && v != 0x77777777u && v != 0x11111111u) {
        ADD_FAILURE() << "page " << off / kPage << " holds " << std::hex << v;
        break;
      }
      SetWord(off, 0x77777777u);
      touches++;
    }
  });
  AlarmGuard guard(60);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  uint64_t fills = 0;
  // 4 s, and at least two fills: a guest fault waits for a punch in
  // progress (the invalidate_lock), so on a loaded host one fill can take
  // a good part of the 4 s.  The alarm above bounds it.
  while (std::chrono::steady_clock::now() < end || fills < 2) {
    auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kSize / 4, 0x11111111, 1});
    if (!res.ok) {
      ADD_FAILURE() << "guest fill: " << res.what;
      break;
    }
    fills++;
  }
  stop = true;
  puncher.join();
  toucher.join();
  printf("shared gmem race: %llu guest fills, %llu punches, %llu host touches\n",
         static_cast<unsigned long long>(fills), static_cast<unsigned long long>(punches.load()),
         static_cast<unsigned long long>(touches.load()));
  EXPECT_GT(fills, 1u);
  EXPECT_GT(punches.load(), 10u);
  // Afterwards the two views agree.
  auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kSize / 4, 0x22222222, 1});
  ASSERT_TRUE(res.ok) << res.what;
  for (uint64_t off = 0; off < kSize; off += kPage) ASSERT_EQ(Word(off), 0x22222222u) << off;
}

// A mappable guest_memfd on a VM with private memory: its memory starts out
// private (INIT_SHARED is not offered there), so its slot is gmem-only but
// has no shared memory yet.  A shared access is a shared memory fault exit,
// never a page from userspace_addr nor the file's private page; a private
// access works as usual.
class MappableGmemOnPrivateVm : public PrivateVmTest {
 protected:
  static constexpr uint64_t kMGpa = kGpa + kSize;
  void SetUp() override {
    PrivateVmTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!(CheckExtension(vm_->vm(), KVM_CAP_GUEST_MEMFD_FLAGS) & GUEST_MEMFD_FLAG_MMAP))
      GTEST_SKIP() << "no GUEST_MEMFD_FLAG_MMAP for VMs with private memory";
    mgmem_.reset(static_cast<int>(CreateGuestMemfd(vm_->vm(), kSize, kMmap)));
    ASSERT_TRUE(mgmem_.valid());
    anon_ = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(anon_.valid());
    std::memset(anon_.data(), 0x3c, kSize);
    Region2 r;
    r.slot = kSlot + 1;
    r.flags = KVM_MEM_GUEST_MEMFD;
    r.gpa = kMGpa;
    r.size = kSize;
    r.hva = reinterpret_cast<uint64_t>(anon_.data());
    r.gmem_fd = mgmem_.get();
    ASSERT_EQ(SetRegion2(vm_->vm(), r), 0);
  }
  UniqueFd mgmem_;
  Mapping anon_;
};

TEST_F(MappableGmemOnPrivateVm, SharedAccessToPrivateMemoryExits) {
  const uint32_t gpa = static_cast<uint32_t>(kMGpa + kPage);
  ASSERT_EQ(SetAttributes(vm_->vm(), kMGpa, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  ASSERT_TRUE(vm_->Command(kOpWrite, {static_cast<uint32_t>(kMGpa), 0xc0ffee}).ok);
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kMGpa)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0xc0ffeeu) << "private memory of a mappable guest_memfd";

  res = vm_->Command(kOpRead, {gpa});
  if (CheckExtension(vm_->vm(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES) > 0) {
    // With in-place conversion the file, not the VM's attributes, decides:
    // the page is private there, so the guest's access is private too.
    ASSERT_TRUE(res.ok) << "in-place conversion: " << res.what;
    EXPECT_EQ(res.value, 0u) << "a new private page";
    for (uint64_t off = 0; off < kSize; off += kPage)
      ASSERT_EQ(anon_.data()[off], 0x3c) << "userspace_addr is not guest memory here";
    return;
  }
  ASSERT_FALSE(res.ok) << "a shared read returned " << std::hex << res.value;
  EXPECT_EQ(res.err, EFAULT);
  ASSERT_EQ(res.exit_reason, static_cast<uint32_t>(KVM_EXIT_MEMORY_FAULT));
  gmem_memory_fault_exit f = gmem_read_memory_fault(vm_->run());
  EXPECT_EQ(f.gpa, gpa & ~(kPage - 1));
  EXPECT_EQ(f.size, kPage);
  EXPECT_EQ(f.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE, 0u) << "a shared access";
  for (uint64_t off = 0; off < kSize; off += kPage)
    ASSERT_EQ(anon_.data()[off], 0x3c) << "userspace_addr is not guest memory here";
  // The file's memory is private: the host cannot map it either.
  Mapping m = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, mgmem_.get(), 0);
  ASSERT_TRUE(m.valid());
  EXPECT_EQ(AccessSignal(m.data(), false), SIGBUS);
}

}  // namespace
}  // namespace gmt
