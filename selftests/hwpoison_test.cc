// Memory failure on guest_memfd pages: a poisoned private page is unmapped
// and refused to the guest until a hole is punched over it, and memory
// failure races neither with hole punching (lock order: memory failure
// holds the folio lock, punch-hole takes the invalidate_lock before folio
// locks) nor with a memslot delete and the last close of the file (the
// unbind must not run without the invalidate_lock, CVE-2026-99336 class).
//
// Needs the test kernel's hwpoison injector and /dev/mem (see
// selftests/lib/hwpoison.h); skips by name without them.
#include <signal.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "selftests/lib/hwpoison.h"
#include "selftests/lib/ownership.h"
#include "selftests/lib/concurrent.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/signals.h"

namespace gmt {
namespace {

using Clock = std::chrono::steady_clock;

class Hwpoison : public PrivateVmTest {
 protected:
  // Rounds of each race: finding a page by its content scans all of
  // memory, which takes a second or two under TCG.
  static constexpr int kRounds = 8;

  void SetUp() override {
    std::string why = HwpoisonUnavailable();
    if (!why.empty()) GTEST_SKIP() << "no memory failure injection: " << why;
    // Pages are found by reading them through the kernel's direct map,
    // which private memory leaves while the VM owns it.
    ownership_off_ = std::make_unique<SwOwnershipScope>(false);
    PrivateVmTest::SetUp();
  }

  // A value no other page holds: the guest fills the page with it, and the
  // host finds the page's pfn by it.
  uint32_t NextTag() { return 0x9e000000u | (rng_() & 0x00ffffffu); }

  // Has the guest fill the private page at |off| with a fresh tag and
  // returns its pfn, or 0 (with a test failure) if it is not found once.
  uint64_t TagAndFind(uint64_t gpa_base, uint64_t off) {
    uint32_t tag = NextTag();
    auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(gpa_base + off),
                                      static_cast<uint32_t>(kPage / 4), tag, 1});
    EXPECT_TRUE(res.ok) << res.what;
    if (!res.ok) return 0;
    std::vector<uint64_t> pfns = FindPagesFilledWith(tag);
    EXPECT_EQ(pfns.size(), 1u) << "pages holding tag " << std::hex << tag;
    return pfns.size() == 1 ? pfns[0] : 0;
  }

  std::unique_ptr<SwOwnershipScope> ownership_off_;
  // Seeded per test, so each test's tags differ from the last one's.
  std::mt19937 rng_{static_cast<unsigned>(
      std::hash<std::string>()(testing::UnitTest::GetInstance()->current_test_info()->name()))};
};

TEST_F(Hwpoison, PoisonedPageIsRefusedUntilPunched) {
  const uint32_t gpa = static_cast<uint32_t>(kGpa);
  ASSERT_EQ(MakePrivate(0, 2 * kPage), 0);
  ASSERT_TRUE(vm_->Command(kOpWrite, {gpa + static_cast<uint32_t>(kPage), 0x1234}).ok);
  uint64_t pfn = TagAndFind(kGpa, 0);
  ASSERT_NE(pfn, 0u);
  int r = InjectMemoryFailure(pfn);
  ASSERT_TRUE(r == 0 || r == -EBUSY) << strerror(-r);
  ASSERT_TRUE(PagePoisoned(pfn)) << "pfn " << std::hex << pfn << " kpageflags " << PageFlags(pfn);

  // The guest's mapping is gone (possibly a moment later, if the unmap had
  // to be deferred) and the page is not handed out again.
  TestVm::Result res;
  const auto end = Clock::now() + std::chrono::seconds(2);
  do {
    res = vm_->Command(kOpRead, {gpa});
  } while (res.ok && Clock::now() < end);
  ASSERT_FALSE(res.ok) << "the guest still reads a poisoned page";
  EXPECT_EQ(res.err, EHWPOISON) << res.what;
  EXPECT_EQ(res.exit_reason, static_cast<uint32_t>(KVM_EXIT_MEMORY_FAULT));
  gmem_memory_fault_exit f = gmem_read_memory_fault(vm_->run());
  EXPECT_EQ(f.gpa, kGpa);
  EXPECT_EQ(f.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE, KVM_MEMORY_EXIT_FLAG_PRIVATE);
  // Still refused when the guest retries its access.
  res = vm_->Resume();
  EXPECT_FALSE(res.ok);
  EXPECT_EQ(res.err, EHWPOISON) << res.what;

  // Punching the hole gives the file a fresh, zeroed page: the guest's
  // pending read completes with it.
  ASSERT_EQ(Punch(0, kPage), 0);
  res = vm_->Resume();
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0u);
  // The neighbour kept its data.
  res = vm_->Command(kOpRead, {gpa + static_cast<uint32_t>(kPage)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0x1234u);
}

TEST_F(Hwpoison, RacesWithPunchHole) {
  // Memory failure holds the folio lock and then needs the bindings; a
  // punch holds the invalidate_lock and then needs the folio lock.  If
  // memory failure waited for the invalidate_lock, the two would deadlock
  // (the harness kills a stuck test).
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  int rounds = 0;
  for (; rounds < kRounds; rounds++) {
    uint64_t off = (rounds % (kSize / kPage)) * kPage;
    uint64_t pfn = TagAndFind(kGpa, off);
    ASSERT_NE(pfn, 0u);
    int punched = -1;
    RunTogether([&] { InjectMemoryFailure(pfn); }, [&] { punched = Punch(off, kPage); });
    EXPECT_EQ(punched, 0) << strerror(errno);
    // Either order is fine; a page punched first is no longer in the file
    // (memory failure then handles a free or freed page).
  }
  printf("memory failure vs punch-hole: %d rounds\n", rounds);
  // Everything still works: the guest writes and reads back the slot.
  ASSERT_EQ(Punch(0, kSize), 0);
  AlarmGuard guard(20);
  auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kSize / 4, 0x01010101, 1});
  ASSERT_TRUE(res.ok) << res.what;
  res = vm_->Command(kOpSum, {static_cast<uint32_t>(kGpa), kSize / 4});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, static_cast<uint32_t>(0x01010101u * (kSize / 4)));
}

TEST_F(Hwpoison, RacesWithUnbindAndClose) {
  // A second guest_memfd slot is deleted and its file closed while memory
  // failure walks its bindings.  Afterwards, faults elsewhere in the VM
  // must not retry forever (an invalidation left in progress) and the
  // kernel must not have touched a freed slot (KASAN).
  constexpr uint64_t kGpa2 = 0x800000;
  constexpr uint32_t kSlot2 = 2;
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  ASSERT_EQ(SetAttributes(vm_->vm(), kGpa2, kSize, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  Mapping shared2 = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(shared2.valid());
  int rounds = 0;
  for (; rounds < kRounds; rounds++) {
    int gmem2 = static_cast<int>(CreateGuestMemfd(vm_->vm(), kSize, 0));
    ASSERT_GE(gmem2, 0);
    Region2 r;
    r.slot = kSlot2;
    r.flags = KVM_MEM_GUEST_MEMFD;
    r.gpa = kGpa2;
    r.size = kSize;
    r.hva = reinterpret_cast<uint64_t>(shared2.data());
    r.gmem_fd = gmem2;
    ASSERT_EQ(SetRegion2(vm_->vm(), r), 0);
    uint64_t pfn = TagAndFind(kGpa2, (rounds % 512) * kPage);
    ASSERT_NE(pfn, 0u);
    Region2 del;
    del.slot = kSlot2;
    RunTogether([&] { InjectMemoryFailure(pfn); },
                [&] {
                  if (rounds & 1) {
                    close(gmem2);
                    EXPECT_EQ(SetRegion2(vm_->vm(), del), 0);
                  } else {
                    EXPECT_EQ(SetRegion2(vm_->vm(), del), 0);
                    close(gmem2);
                  }
                });
  }
  printf("memory failure vs delete+close: %d rounds\n", rounds);
  AlarmGuard guard(20);
  auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kSize / 4, 0x02020202, 1});
  ASSERT_TRUE(res.ok) << "faults stopped working: " << res.what;
}

}  // namespace
}  // namespace gmt
