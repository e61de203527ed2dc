// In-place conversion inside guest_memfd: KVM_SET_MEMORY_ATTRIBUTES2 on the
// guest_memfd, KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES and the
// kvm.gmem_in_place_conversion rules (the posted upstream ABI).  A
// SW-protected VM whose data slot is gmem-only: the file holds every page
// once, and says which are private.  Needs the kernel booted with
// kvm.gmem_in_place_conversion=1 (scripts/kernel-tests.sh does); elsewhere
// every case skips, by name.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

#include "selftests/lib/hwpoison.h"
#include "selftests/lib/kvm.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/signals.h"
#include "selftests/lib/skip.h"
#include "selftests/lib/stats.h"

namespace gmt {
namespace {

constexpr uint64_t kMmap = GUEST_MEMFD_FLAG_MMAP;
constexpr uint64_t kInitShared = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
constexpr uint64_t kPrivate = KVM_MEMORY_ATTRIBUTE_PRIVATE;

#define GMT_REQUIRE_IN_PLACE(fd)                                                       \
  do {                                                                                 \
    if (CheckExtension((fd), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES) !=                 \
        static_cast<long>(KVM_MEMORY_ATTRIBUTE_PRIVATE))                               \
      GTEST_SKIP() << "no in-place conversion (boot with kvm.gmem_in_place_conversion=1)"; \
  } while (0)

long Convert(int gmem, uint64_t offset, uint64_t size, uint64_t attrs,
             uint64_t* error_offset = nullptr) {
  return SetAttributes2(gmem, offset, size, attrs, error_offset);
}

// A SW-protected VM whose data slot is gmem-only: a mappable guest_memfd,
// mapped at the slot's userspace_addr, backs all of it.
class InPlace : public testing::Test {
 protected:
  static constexpr uint64_t kGpa = 0x200000;
  static constexpr uint64_t kSize = 2 << 20;
  static constexpr uint32_t kSlot = 1;

  void SetUp() override { SetUpWith(kInitShared); }
  void SetUpWith(uint64_t flags) {
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
    GMT_REQUIRE_IN_PLACE(kvm.get());
    vm_ = std::make_unique<TestVm>(KVM_X86_SW_PROTECTED_VM);
    GMT_ASSERT_VM(*vm_);
    gmem_.reset(static_cast<int>(CreateGuestMemfd(vm_->vm(), kSize, flags)));
    ASSERT_TRUE(gmem_.valid());
    view_ = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, gmem_.get(), 0);
    ASSERT_TRUE(view_.valid()) << strerror(errno);
    ASSERT_EQ(SetRegion2(vm_->vm(), GmemSlot(kSlot, kGpa, kSize, view_.data(), gmem_.get())), 0);
  }
  long ToPrivate(uint64_t off, uint64_t len, uint64_t* err = nullptr) {
    return Convert(gmem_.get(), off, len, kPrivate, err);
  }
  long ToShared(uint64_t off, uint64_t len) { return Convert(gmem_.get(), off, len, 0); }
  // The guest's view: the word at |off| of the slot, or a failure.
  ::testing::AssertionResult GuestReads(uint64_t off, uint32_t want) {
    auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa + off)});
    if (!res.ok) return ::testing::AssertionFailure() << "guest read at " << off << ": " << res.what;
    if (res.value != want)
      return ::testing::AssertionFailure()
             << "guest read " << std::hex << res.value << " at " << off << ", want " << want;
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult GuestWrites(uint64_t off, uint32_t v) {
    auto res = vm_->Command(kOpWrite, {static_cast<uint32_t>(kGpa + off), v});
    if (!res.ok) return ::testing::AssertionFailure() << "guest write at " << off << ": " << res.what;
    return ::testing::AssertionSuccess();
  }
  uint32_t HostWord(uint64_t off) const {
    uint32_t v;
    std::memcpy(&v, view_.data() + off, sizeof(v));
    return v;
  }
  void SetHostWord(uint64_t off, uint32_t v) { std::memcpy(view_.data() + off, &v, sizeof(v)); }
  int Punch(uint64_t off, uint64_t len) {
    return fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off, len);
  }

  std::unique_ptr<TestVm> vm_;
  UniqueFd gmem_;
  Mapping view_;
};

TEST(InPlaceAbi, CapabilityAndFlagsFollowTheParameter) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
  GMT_REQUIRE_IN_PLACE(kvm.get());
  TestVm sw(KVM_X86_SW_PROTECTED_VM), plain(KVM_X86_DEFAULT_VM);
  GMT_ASSERT_VM(sw);
  GMT_ASSERT_VM(plain);
  EXPECT_EQ(CheckExtension(sw.vm(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES),
            static_cast<long>(kPrivate));
  EXPECT_EQ(CheckExtension(plain.vm(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES), 0)
      << "a VM without private memory has nothing to convert";
  EXPECT_EQ(CheckExtension(sw.vm(), KVM_CAP_GUEST_MEMFD_FLAGS) &
                ~static_cast<long>(GUEST_MEMFD_FLAG_NO_DIRECT_MAP),
            static_cast<long>(kInitShared))
      << "INIT_SHARED for VMs with private memory";
  long fd = CreateGuestMemfd(sw.vm(), kPage, kInitShared);
  ASSERT_GE(fd, 0) << strerror(-fd);
  UniqueFd f(static_cast<int>(fd));
  UniqueFd p(static_cast<int>(CreateGuestMemfd(plain.vm(), kPage, kInitShared)));
  ASSERT_TRUE(p.valid());
  EXPECT_EQ(Convert(p.get(), 0, kPage, kPrivate), -EINVAL) << "default VM";
  EXPECT_EQ(Convert(p.get(), 0, kPage, 0), -EINVAL) << "default VM";
  EXPECT_EQ(CreateGuestMemfd(sw.vm(), kPage, GUEST_MEMFD_FLAG_INIT_SHARED), -EINVAL)
      << "shared memory of a VM with private memory lives only in a mappable file";
  UniqueFd unmappable(static_cast<int>(CreateGuestMemfd(sw.vm(), kPage, 0)));
  ASSERT_TRUE(unmappable.valid());
  EXPECT_EQ(Convert(unmappable.get(), 0, kPage, 0), -EINVAL) << "file without MMAP";
  EXPECT_EQ(Convert(f.get(), 0, kPage, kPrivate), 0);
  // Other ioctls on a guest_memfd, and the VM's own ioctl number there.
  EXPECT_EQ(Ioctl(f.get(), KVM_SET_MEMORY_ATTRIBUTES, static_cast<unsigned long>(0)), -ENOTTY);
  EXPECT_EQ(Ioctl(f.get(), _IO(KVMIO, 0xd2), static_cast<unsigned long>(0)), -ENOTTY);
  EXPECT_EQ(Ioctl(sw.vm(), KVM_SET_MEMORY_ATTRIBUTES2, static_cast<unsigned long>(0)), -ENOTTY)
      << "a guest_memfd ioctl, not a VM one";
}

TEST_F(InPlace, BadInputFailsAndChangesNothing) {
  SetHostWord(0, 0x11111111);
  SetHostWord(kSize - kPage, 0x22222222);
  kvm_memory_attributes2 a = {};
  auto expect_einval = [&](const char* what) {
    EXPECT_EQ(Ioctl(gmem_.get(), KVM_SET_MEMORY_ATTRIBUTES2, &a), -EINVAL) << what;
    a = {};
  };
  a.offset = 1, a.size = kPage, expect_einval("unaligned offset");
  a.size = kPage + 1, expect_einval("unaligned size");
  a.size = 0, expect_einval("zero size");
  a.offset = kSize, a.size = kPage, expect_einval("past the end");
  a.offset = kPage, a.size = kSize, expect_einval("beyond the end");
  a.offset = ~0ULL & ~(kPage - 1), a.size = 2 * kPage, expect_einval("wraps around");
  a.size = kPage, a.attributes = kPrivate | 1, expect_einval("unknown attribute");
  a.size = kPage, a.attributes = 1ULL << 63, expect_einval("unknown attribute, top bit");
  a.size = kPage, a.flags = 1, expect_einval("flags");
  for (int i = 0; i < 11; i++) {
    a.size = kPage;
    a.reserved[i] = 1;
    expect_einval("reserved");
  }
  EXPECT_EQ(Ioctl(gmem_.get(), KVM_SET_MEMORY_ATTRIBUTES2, static_cast<unsigned long>(8)), -EFAULT);
  // Still shared and as written, for the host and for the guest.
  EXPECT_EQ(HostWord(0), 0x11111111u);
  EXPECT_EQ(HostWord(kSize - kPage), 0x22222222u);
  EXPECT_TRUE(GuestReads(0, 0x11111111));
  EXPECT_TRUE(GuestReads(kSize - kPage, 0x22222222));
}

// A SW-protected VM maps private and shared memory alike: the page keeps
// its contents and the guest its mapping, only the host's access changes.
TEST_F(InPlace, OnePageChangesSidesAndKeepsItsContents) {
  SetHostWord(kPage, 0xabcd0001);
  ASSERT_TRUE(GuestReads(kPage, 0xabcd0001)) << "one page, seen by both";
  ASSERT_EQ(ToPrivate(kPage, kPage), 0);
  EXPECT_EQ(AccessSignal(view_.data() + kPage, false), SIGBUS) << "private: the host cannot read";
  EXPECT_EQ(AccessSignal(view_.data() + kPage, true), SIGBUS) << "nor write";
  EXPECT_TRUE(GuestReads(kPage, 0xabcd0001)) << "the same page, now private";
  ASSERT_TRUE(GuestWrites(kPage, 0x5ec4e7));
  EXPECT_TRUE(GuestReads(kPage, 0x5ec4e7));
  // Neighbours keep their side and contents.
  SetHostWord(0, 7);
  SetHostWord(2 * kPage, 8);
  EXPECT_TRUE(GuestReads(0, 7));
  EXPECT_TRUE(GuestReads(2 * kPage, 8));

  ASSERT_EQ(ToShared(kPage, kPage), 0);
  EXPECT_EQ(HostWord(kPage), 0x5ec4e7u) << "what the guest wrote, shared with the host now";
  SetHostWord(kPage, 0x600d);
  EXPECT_TRUE(GuestReads(kPage, 0x600d));
  // Converting to the side a page is on already changes nothing.
  EXPECT_EQ(ToShared(0, 3 * kPage), 0);
  EXPECT_EQ(HostWord(0), 7u);
  EXPECT_EQ(HostWord(kPage), 0x600du);
  ASSERT_EQ(ToPrivate(0, kPage), 0);
  ASSERT_TRUE(GuestWrites(0, 0x77));
  EXPECT_EQ(ToPrivate(0, kPage), 0);
  EXPECT_TRUE(GuestReads(0, 0x77)) << "a private page made private again keeps its data";
}

TEST_F(InPlace, RangesWithoutPagesAndPartlyAllocated) {
  // Nothing allocated yet: the whole file, both ways.
  ASSERT_EQ(ToPrivate(0, kSize), 0);
  EXPECT_EQ(AccessSignal(view_.data() + kSize / 2, false), SIGBUS);
  ASSERT_TRUE(GuestWrites(kSize / 2, 0x1234)) << "the guest allocates it as private";
  ASSERT_EQ(ToShared(0, kSize / 4), 0);
  SetHostWord(0, 0x42);
  EXPECT_TRUE(GuestReads(0, 0x42));
  EXPECT_TRUE(GuestReads(kSize / 2, 0x1234)) << "outside the converted range";
  // Half allocated (fallocate), converted across the boundary.
  ASSERT_EQ(fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE, kSize / 4, kSize / 8), 0);
  ASSERT_EQ(ToShared(kSize / 4 + kSize / 16, kSize / 8), 0);
  for (uint64_t off = kSize / 4 + kSize / 16; off < kSize / 4 + 3 * kSize / 16; off += kPage) {
    SetHostWord(off, static_cast<uint32_t>(off));
    ASSERT_TRUE(GuestReads(off, static_cast<uint32_t>(off)));
  }
  EXPECT_EQ(AccessSignal(view_.data() + kSize / 4, false), SIGBUS) << "still private before";
  EXPECT_EQ(AccessSignal(view_.data() + kSize / 4 + 3 * kSize / 16, false), SIGBUS)
      << "still private after";
}

TEST_F(InPlace, PunchingAHoleKeepsTheSide) {
  ASSERT_EQ(ToPrivate(0, kPage), 0);
  ASSERT_TRUE(GuestWrites(0, 0x99));
  SetHostWord(kPage, 0x98);
  ASSERT_EQ(Punch(0, 2 * kPage), 0);
  EXPECT_EQ(AccessSignal(view_.data(), false), SIGBUS) << "punched private memory stays private";
  EXPECT_TRUE(GuestReads(0, 0)) << "a new, zeroed private page";
  EXPECT_EQ(HostWord(kPage), 0u) << "punched shared memory stays shared, zeroed";
  EXPECT_TRUE(GuestReads(kPage, 0));
}

TEST_F(InPlace, ForkedProcessesLoseThePageToo) {
  SetHostWord(0, 0xf0f0);
  int to_child[2], to_parent[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(to_parent), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Exit codes: 10 wrong data before, 11 no SIGBUS after, 12 pipe.
    char c;
    if (HostWord(0) != 0xf0f0) _exit(10);
    if (write(to_parent[1], "r", 1) != 1 || read(to_child[0], &c, 1) != 1) _exit(12);
    _exit(AccessSignal(view_.data(), false) == SIGBUS ? 0 : 11);
  }
  char c;
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  ASSERT_EQ(ToPrivate(0, kPage), 0);
  ASSERT_EQ(write(to_child[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) close(fd);
}

TEST_F(InPlace, ReferencedPageFailsWithItsOffsetAndChangesNothing) {
  constexpr uint64_t kPinned = 5 * kPage;
  for (uint64_t off = 0; off < 8 * kPage; off += kPage) SetHostWord(off, 0x100 + (off >> 12));
  // vmsplice() leaves the page referenced by the pipe until it is read.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  iovec iov = {view_.data() + kPinned, kPage};
  ASSERT_EQ(vmsplice(p[1], &iov, 1, 0), static_cast<ssize_t>(kPage)) << strerror(errno);
  uint64_t err = 0;
  EXPECT_EQ(ToPrivate(0, 8 * kPage, &err), -EAGAIN);
  EXPECT_EQ(err, kPinned);
  // Nothing converted: every page is shared, with its data.
  for (uint64_t off = 0; off < 8 * kPage; off += kPage) {
    ASSERT_EQ(HostWord(off), 0x100 + (off >> 12)) << off;
    ASSERT_TRUE(GuestReads(off, static_cast<uint32_t>(0x100 + (off >> 12))));
  }
  // A range that avoids the page converts.
  EXPECT_EQ(ToPrivate(0, kPinned), 0);
  static char sink[4096];
  ASSERT_EQ(read(p[0], sink, sizeof(sink)), static_cast<ssize_t>(kPage));
  EXPECT_EQ(std::memcmp(sink, "\x05\x01", 2), 0) << "what the pipe held";
  EXPECT_EQ(ToPrivate(0, 8 * kPage, &err), 0) << "once the pipe let go";
  EXPECT_EQ(AccessSignal(view_.data() + kPinned, false), SIGBUS);
  close(p[0]);
  close(p[1]);
}

// A SW-protected VM keeps its guest mappings across in-place conversion:
// after converting pages the guest uses to private and back, the guest
// touches them again without a single page fault.
TEST_F(InPlace, ConversionsKeepTheGuestsMappings) {
  constexpr uint32_t kPages = 64;
  auto touch = [&](uint32_t v) {
    auto res = vm_->Command(kOpTouch, {static_cast<uint32_t>(kGpa), kPages, v});
    return res.ok && res.value == kPages;
  };
  ASSERT_TRUE(touch(1));
  auto before = ReadStat(vm_->vcpu(), "pf_taken");
  if (!before) GTEST_SKIP() << "no pf_taken vCPU statistic";
  ASSERT_EQ(ToPrivate(0, kPages * kPage), 0);
  ASSERT_TRUE(touch(2));
  ASSERT_EQ(ToShared(0, kPages * kPage), 0);
  ASSERT_TRUE(touch(3));
  EXPECT_EQ(*ReadStat(vm_->vcpu(), "pf_taken") - *before, 0u)
      << "guest page faults after conversions of mapped pages";
  EXPECT_EQ(HostWord(0), 3u);
}

// Memory failure keeps a reference to a poisoned page, which stays in the
// file until a hole is punched; that reference must not make every
// conversion of the range fail with EAGAIN.
TEST_F(InPlace, APoisonedPageDoesNotBlockConversions) {
  std::string why = HwpoisonUnavailable();
  if (!why.empty()) GTEST_SKIP() << why;
  constexpr uint32_t kMark = 0x7e57ab1e;
  // Written by the guest only, so that no process maps the page.
  auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa + 3 * kPage), kPage / 4, kMark, 1});
  ASSERT_TRUE(res.ok) << res.what;
  std::vector<uint64_t> pfns = FindPagesFilledWith(kMark);
  ASSERT_EQ(pfns.size(), 1u) << "the guest's page";
  InjectMemoryFailure(pfns[0]);  // EBUSY on 6.1: the page stays in its file
  ASSERT_TRUE(PagePoisoned(pfns[0]));
  SetHostWord(0, 1);
  EXPECT_EQ(ToPrivate(0, 8 * kPage), 0) << "the poisoned page is no host reference";
  EXPECT_EQ(AccessSignal(view_.data(), false), SIGBUS);
  EXPECT_EQ(ToShared(0, 8 * kPage), 0);
  EXPECT_EQ(HostWord(0), 1u) << "kept across both conversions";
  ASSERT_EQ(Punch(3 * kPage, kPage), 0);
  EXPECT_TRUE(GuestReads(3 * kPage, 0)) << "a new page after the hole";
}

TEST_F(InPlace, TheVmsAttributesDoNotApply) {
  // The VM-level ioctl still works, but the file decides for this slot.
  ASSERT_EQ(SetAttributes(vm_->vm(), kGpa, kPage, kPrivate), 0);
  SetHostWord(0, 0x3333);
  EXPECT_TRUE(GuestReads(0, 0x3333)) << "the file holds the page as shared";
  ASSERT_EQ(SetAttributes(vm_->vm(), kGpa, kPage, 0), 0);
  ASSERT_EQ(ToPrivate(0, kPage), 0);
  ASSERT_TRUE(GuestWrites(0, 0x4444));
  EXPECT_TRUE(GuestReads(0, 0x4444)) << "private per the file, whatever the VM says";
  EXPECT_EQ(AccessSignal(view_.data(), false), SIGBUS);
}

class InPlacePrivateStart : public InPlace {
 protected:
  void SetUp() override { SetUpWith(kMmap); }
};

TEST_F(InPlacePrivateStart, WithoutInitSharedAllIsPrivate) {
  EXPECT_EQ(AccessSignal(view_.data(), false), SIGBUS);
  EXPECT_EQ(AccessSignal(view_.data() + kSize - 1, true), SIGBUS);
  ASSERT_TRUE(GuestWrites(kSize - kPage, 0x1)) << "the guest uses it as private";
  ASSERT_EQ(ToShared(kSize - kPage, kPage), 0);
  EXPECT_EQ(HostWord(kSize - kPage), 0x1u);
}

// A big file with few pages: the cost of a conversion follows the pages
// and ranges, not the size.  A per-page scheme would take seconds here.
TEST(InPlaceCost, ConvertingAHugeSparseFileIsCheap) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
  GMT_REQUIRE_IN_PLACE(kvm.get());
  TestVm vm(KVM_X86_SW_PROTECTED_VM);
  GMT_ASSERT_VM(vm);
  constexpr uint64_t kHuge = 64ULL << 30;
  UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm.vm(), kHuge, kInitShared)));
  ASSERT_TRUE(gmem.valid());
  ASSERT_EQ(fallocate(gmem.get(), FALLOC_FL_KEEP_SIZE, kHuge / 2, 16 * kPage), 0);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; i++) {
    ASSERT_EQ(Convert(gmem.get(), 0, kHuge, kPrivate), 0);
    ASSERT_EQ(Convert(gmem.get(), 0, kHuge, 0), 0);
  }
  // Every other page, then all at once: the tree coalesces the runs.
  for (uint64_t off = 0; off < 512 * kPage; off += 2 * kPage)
    ASSERT_EQ(Convert(gmem.get(), off, kPage, kPrivate), 0);
  ASSERT_EQ(Convert(gmem.get(), 0, kHuge, kPrivate), 0);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  printf("20 conversions of 64 GiB + 257 single pages: %.1f ms\n", ms);
  EXPECT_LT(ms, 2000.0) << "one entry per page of 64 GiB would be 16M entries per call";
}

// Conversions race the guest's writes, the host's accesses and hole
// punching.  Each side checks what it may see: the guest any value it or
// the host wrote, or zero; the host SIGBUS or a value.  The kernel's
// warnings and lockdep are the other judge (the harness fails on them).
TEST_F(InPlace, ConversionsRaceFaultsAndPunches) {
  constexpr uint64_t kPages = 64;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> conversions{0}, punches{0}, eagain{0}, host_ok{0}, host_bus{0};
  std::thread converter([&] {
    std::mt19937_64 rng(1);
    while (!stop.load()) {
      uint64_t first = rng() % kPages, n = 1 + rng() % (kPages - first);
      uint64_t err;
      long r = Convert(gmem_.get(), first * kPage, n * kPage, (rng() & 1) ? kPrivate : 0, &err);
      if (r == -EAGAIN) {
        eagain++;
        ASSERT_LT(err, (first + n) * kPage);
        ASSERT_GE(err, first * kPage);
      } else {
        ASSERT_EQ(r, 0) << strerror(static_cast<int>(-r));
        conversions++;
      }
    }
  });
  std::thread puncher([&] {
    std::mt19937_64 rng(2);
    while (!stop.load()) {
      ASSERT_EQ(Punch((rng() % kPages) * kPage, kPage), 0);
      punches++;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  std::thread host([&] {
    std::mt19937_64 rng(3);
    while (!stop.load()) {
      uint64_t off = (rng() % kPages) * kPage;
      if (AccessSignal(view_.data() + off, true) == SIGBUS)
        host_bus++;
      else
        host_ok++;
    }
  });
  // The threads stop and are joined however this test ends, a failed
  // assertion included.
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread* threads[3];
    ~Joiner() {
      stop = true;
      for (std::thread* t : threads)
        if (t->joinable()) t->join();
    }
  } joiner{stop, {&converter, &puncher, &host}};
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  uint64_t fills = 0;
  while (std::chrono::steady_clock::now() < end) {
    auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kPages * kPage / 4, 0x61616161, 1});
    ASSERT_TRUE(res.ok) << "a vCPU must never stop on a gmem-only slot here: " << res.what;
    fills++;
  }
  stop = true;
  converter.join();
  puncher.join();
  host.join();
  printf("in-place race: %llu fills, %llu conversions (%llu EAGAIN), %llu punches, host %llu ok / %llu SIGBUS\n",
         (unsigned long long)fills, (unsigned long long)conversions.load(),
         (unsigned long long)eagain.load(), (unsigned long long)punches.load(),
         (unsigned long long)host_ok.load(), (unsigned long long)host_bus.load());
  EXPECT_GT(conversions.load(), 10u);
  EXPECT_GT(host_ok.load(), 0u);
  EXPECT_GT(host_bus.load(), 0u);
  // Afterwards: all shared, one page, both views agree.
  ASSERT_EQ(ToShared(0, kSize), 0);
  auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kPages * kPage / 4, 0x62626262, 1});
  ASSERT_TRUE(res.ok) << res.what;
  for (uint64_t off = 0; off < kPages * kPage; off += kPage) ASSERT_EQ(HostWord(off), 0x62626262u) << off;
}

}  // namespace
}  // namespace gmt
