// guest_memfd races beyond the series' private_mem_race_test (which races
// punch-hole and conversion against a vCPU writing private memory): a vCPU
// keeps writing private memory while another thread tries an overlapping
// binding of the same file, or closes the file under it.  The kernel must
// neither crash nor WARN (the harness checks dmesg), and the memory must be
// consistent after.
#include <atomic>
#include <chrono>
#include <cstdlib>
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
  // After the race: all private, one fill, and the sum must be exact.
  void ExpectConsistent() {
    ASSERT_EQ(MakePrivate(0, kSize), 0);
    const uint32_t dwords = kSize / 4;
    ASSERT_TRUE(vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), dwords, 0x01010101, 1}).ok);
    auto res = vm_->Command(kOpSum, {static_cast<uint32_t>(kGpa), dwords});
    ASSERT_TRUE(res.ok) << res.what;
    EXPECT_EQ(res.value, static_cast<uint32_t>(0x01010101u * dwords));
  }
};

TEST_F(Race, MemslotChurnWhileGuestWritesShared) {
  // Another thread keeps trying to bind a range of the file that slot 1
  // already binds while the vCPU writes through slot 1: always refused, and
  // the guest's memory is unaffected.
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
