// A SW-protected VM whose data slot is a gmem-only slot of a mappable
// guest_memfd that converts in place, with software ownership on: the host
// fills a shared page and learns its pfn from pagemap, converts it, and
// observes through /dev/mem whether the page is in the kernel's direct map
// (out of it while the guest owns it).  Needs a kernel booted with
// kvm.gmem_in_place_conversion=1; elsewhere the fixture skips, by name.
#pragma once

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "selftests/lib/kvm.h"
#include "selftests/lib/ownership.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/skip.h"

namespace gmt {

inline constexpr uint64_t kInitShared = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;

// The page's 1024 words, all |value|.
inline bool FilledWith(const uint32_t* page, uint32_t value) {
  return std::all_of(page, page + kPage / 4, [value](uint32_t w) { return w == value; });
}

class OwnedVmTest : public testing::Test {
 protected:
  static constexpr uint64_t kGpa = 0x200000;
  static constexpr uint64_t kSize = 2 << 20;
  static constexpr uint32_t kSlot = 1;

  void SetUp() override {
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
    if (CheckExtension(kvm.get(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES) !=
        static_cast<long>(KVM_MEMORY_ATTRIBUTE_PRIVATE))
      GTEST_SKIP() << "no in-place conversion (boot with kvm.gmem_in_place_conversion=1)";
    if (int r = SwOwnership(); r < 0)
      GTEST_SKIP() << "no software ownership in this kernel: " << strerror(-r);
    if (access("/dev/mem", R_OK) != 0) GTEST_SKIP() << "/dev/mem: " << strerror(errno);
    ownership_ = std::make_unique<SwOwnershipScope>(true);
    vm_ = std::make_unique<TestVm>(KVM_X86_SW_PROTECTED_VM);
    GMT_ASSERT_VM(*vm_);
    gmem_.reset(static_cast<int>(CreateGuestMemfd(vm_->vm(), kSize, kInitShared)));
    ASSERT_TRUE(gmem_.valid());
    view_ = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, gmem_.get(), 0);
    ASSERT_TRUE(view_.valid()) << strerror(errno);
    ASSERT_EQ(SetRegion2(vm_->vm(), GmemSlot(kSlot, kGpa, kSize, view_.data(), gmem_.get())), 0);
  }

  long Convert(uint64_t off, bool to_private) {
    return SetAttributes2(gmem_.get(), off, kPage, to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0);
  }
  uint32_t* HostPage(uint64_t off) { return reinterpret_cast<uint32_t*>(view_.data() + off); }
  // The host fills the shared page at |off| with |value| and returns its
  // pfn (0 with a test failure if pagemap does not show it).
  uint64_t HostFill(uint64_t off, uint32_t value) {
    std::fill(HostPage(off), HostPage(off) + kPage / 4, value);
    uint64_t pfn = PfnOf(HostPage(off));
    EXPECT_TRUE(PfnOk(pfn)) << "pagemap: " << static_cast<int64_t>(pfn);
    return PfnOk(pfn) ? pfn : 0;
  }
  ::testing::AssertionResult GuestReads(uint64_t off, uint32_t want) {
    auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa + off)});
    if (!res.ok) return ::testing::AssertionFailure() << "guest read at " << off << ": " << res.what;
    if (res.value != want)
      return ::testing::AssertionFailure()
             << "guest read " << std::hex << res.value << " at " << off << ", want " << want;
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult GuestFills(uint64_t off, uint32_t value) {
    auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa + off), kPage / 4, value, 1});
    if (!res.ok) return ::testing::AssertionFailure() << "guest fill at " << off << ": " << res.what;
    return ::testing::AssertionSuccess();
  }
  // Reading page |pfn| through the direct map: 0 with |value| everywhere,
  // or the error.
  static ::testing::AssertionResult Readable(uint64_t pfn, uint32_t value) {
    static uint32_t buf[kPage / 4];
    int r = ReadPhysPage(pfn, buf);
    if (r) return ::testing::AssertionFailure() << "reading pfn " << std::hex << pfn << ": "
                                                << strerror(-r);
    if (!FilledWith(buf, value))
      return ::testing::AssertionFailure() << "pfn " << std::hex << pfn << " holds " << buf[0]
                                           << ", want " << value;
    return ::testing::AssertionSuccess();
  }
  // Reading page |pfn| through the direct map fails with EFAULT, and the
  // buffer receives none of |value|.
  static ::testing::AssertionResult Unreadable(uint64_t pfn, uint32_t value) {
    static uint32_t buf[kPage / 4];
    std::memset(buf, 0, sizeof(buf));
    int r = ReadPhysPage(pfn, buf);
    if (r != -EFAULT)
      return ::testing::AssertionFailure() << "reading pfn " << std::hex << pfn << " gave "
                                           << (r ? strerror(-r) : "its contents")
                                           << ", want EFAULT";
    if (std::find(buf, buf + kPage / 4, value) != buf + kPage / 4)
      return ::testing::AssertionFailure() << "guest data leaked into the read buffer";
    return ::testing::AssertionSuccess();
  }

  std::unique_ptr<SwOwnershipScope> ownership_;
  std::unique_ptr<TestVm> vm_;
  UniqueFd gmem_;
  Mapping view_;
};

}  // namespace gmt
