// The classic guest_memfd races, each for a fixed time: a vCPU keeps
// writing private memory while another thread punches holes and refills,
// converts between private and shared, or closes the file under it.  The
// kernel must neither crash nor WARN (the harness checks dmesg), every
// guest command must complete, and the memory must be consistent after.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "selftests/lib/abi_version.h"
#include "selftests/lib/private_vm.h"

namespace gmt {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::seconds RaceDuration() {
  const char* s = std::getenv("GMT_RACE_SECONDS");
  return std::chrono::seconds(s ? std::atoi(s) : 10);
}

class Race : public PrivateVmTest {
 protected:
  // Runs |meddle| in a loop on another thread while the vCPU fills the whole
  // slot over and over, for RaceDuration().  Returns the number of fills.
  template <typename F>
  void WhileGuestFills(F meddle, uint64_t* fills, uint64_t* meddles) {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> n{0};
    std::thread t([&] {
      std::mt19937_64 rng(12345);
      while (!stop.load(std::memory_order_relaxed)) {
        meddle(rng);
        n.fetch_add(1, std::memory_order_relaxed);
      }
    });
    const uint32_t dwords = kSize / 4;
    const auto end = Clock::now() + RaceDuration();
    uint64_t count = 0;
    uint32_t pattern = 1;
    while (Clock::now() < end) {
      auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), dwords, pattern++, 1});
      if (!res.ok) {
        stop = true;
        t.join();
        FAIL() << "fill " << count << " failed: " << res.what;
      }
      ASSERT_EQ(res.value, dwords);
      count++;
    }
    stop = true;
    t.join();
    *fills = count;
    *meddles = n.load();
  }

  // After the race: all private, one fill, and the sum must be exact.
  void ExpectConsistent() {
    ASSERT_EQ(MakePrivate(0, kSize), 0);
    const uint32_t dwords = kSize / 4;
    ASSERT_TRUE(vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), dwords, 0x01010101, 1}).ok);
    auto res = vm_->Command(kOpSum, {static_cast<uint32_t>(kGpa), dwords});
    ASSERT_TRUE(res.ok) << res.what;
    EXPECT_EQ(res.value, static_cast<uint32_t>(0x01010101u * dwords));
  }

  static std::pair<uint64_t, uint64_t> RandomRange(std::mt19937_64& rng) {
    uint64_t pages = kSize / kPage;
    uint64_t first = rng() % pages;
    uint64_t n = 1 + rng() % std::min<uint64_t>(16, pages - first);
    return {first * kPage, n * kPage};
  }
};

TEST_F(Race, PunchAndRefillWhileGuestWritesPrivate) {
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  uint64_t fills = 0, punches = 0;
  WhileGuestFills(
      [&](std::mt19937_64& rng) {
        auto [off, len] = RandomRange(rng);
        ASSERT_EQ(Punch(off, len), 0) << strerror(errno);
        if (rng() & 1) {
          ASSERT_EQ(Allocate(off, len), 0) << strerror(errno);
        }
      },
      &fills, &punches);
  std::printf("race: %lu guest fills of 2 MiB, %lu punch/refill rounds\n",
              static_cast<unsigned long>(fills), static_cast<unsigned long>(punches));
  EXPECT_GT(fills, 2u);
  EXPECT_GT(punches, 10u);
  // Private writes never reached the shared backing.
  for (uint64_t off = 0; off < kSize; off += kPage) ASSERT_EQ(SharedWord(off), 0u) << off;
  ExpectConsistent();
}

TEST_F(Race, ConvertWhileGuestFaults) {
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  uint64_t fills = 0, conversions = 0;
  WhileGuestFills(
      [&](std::mt19937_64& rng) {
        auto [off, len] = RandomRange(rng);
        ASSERT_EQ(MakeShared(off, len), 0) << strerror(errno);
        // A VMM discards the private copy once a range is shared.
        ASSERT_EQ(Punch(off, len), 0) << strerror(errno);
        ASSERT_EQ(MakePrivate(off, len), 0) << strerror(errno);
      },
      &fills, &conversions);
  std::printf("race: %lu guest fills of 2 MiB, %lu shared/private round trips\n",
              static_cast<unsigned long>(fills), static_cast<unsigned long>(conversions));
  EXPECT_GT(fills, 2u);
  EXPECT_GT(conversions, 10u);
  ExpectConsistent();
}

TEST_F(Race, MemslotChurnWhileGuestWritesShared) {
  // Deleting and re-adding the guest_memfd slot while a second vCPU-less
  // thread faults it in through the first: KVM must invalidate cleanly.
  uint64_t fills = 0, rebinds = 0;
  std::atomic<bool> stop{false};
  std::thread t([&] {
    while (!stop) {
      Region2 r;
      r.slot = kSlot + 1;
      r.flags = KVM_MEM_GUEST_MEMFD;
      r.gpa = kGpa + kSize;
      r.size = kPage * 16;
      r.hva = reinterpret_cast<uint64_t>(shared_.data());
      r.gmem_fd = gmem_.get();
      // The range overlaps slot 1's binding: must be refused every time.
      if (SetRegion2(vm_->vm(), r) != AlreadyBoundErrno()) {
        ADD_FAILURE() << "overlapping guest_memfd binding was accepted";
        break;
      }
      rebinds++;
    }
  });
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  const auto end = Clock::now() + RaceDuration() / 2;
  while (Clock::now() < end) {
    auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kSize / 4, 7, 1});
    if (!res.ok) break;
    fills++;
  }
  stop = true;
  t.join();
  EXPECT_GT(fills, 1u);
  EXPECT_GT(rebinds, 10u);
  ExpectConsistent();
}

TEST_F(Race, CloseFileWhileGuestFaults) {
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  std::atomic<bool> closed{false};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    gmem_.reset();
    closed = true;
  });
  // Keep punching in fresh faults until the file is gone; afterwards a
  // private fault can only end in a memory-fault exit, never a crash.
  bool saw_fault_exit = false;
  const auto end = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < end) {
    auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), kSize / 4, 9, 1});
    if (!res.ok) {
      ASSERT_EQ(res.err, EFAULT) << res.what;
      ASSERT_EQ(res.exit_reason, static_cast<uint32_t>(KVM_EXIT_MEMORY_FAULT));
      saw_fault_exit = true;
      break;
    }
  }
  t.join();
  ASSERT_TRUE(closed);
  // With the file closed, the bound pages were invalidated: touching them
  // again cannot succeed silently.
  if (!saw_fault_exit) {
    auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa + kSize - kPage)});
    EXPECT_FALSE(res.ok);
    EXPECT_EQ(res.exit_reason, static_cast<uint32_t>(KVM_EXIT_MEMORY_FAULT));
  }
  // Deleting the slot and closing the VM afterwards is clean.
  Region2 del;
  del.slot = kSlot;
  del.gmem_fd = 0;
  EXPECT_EQ(SetRegion2(vm_->vm(), del), 0);
}

}  // namespace
}  // namespace gmt
