// KVM_SET_MEMORY_ATTRIBUTES: what each VM type offers, and that bad input
// gets EINVAL and changes nothing, and that per-page state survives ranges
// being split and merged.
#include <vector>

#include "selftests/lib/kvm.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/skip.h"

namespace gmt {
namespace {

TEST(MemoryAttributes, OfferedPerVmType) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_MEMORY_ATTRIBUTES);
  // Without a VM, the cap reports what some VM type can have.
  EXPECT_EQ(CheckExtension(kvm.get(), KVM_CAP_MEMORY_ATTRIBUTES),
            static_cast<long>(KVM_MEMORY_ATTRIBUTE_PRIVATE));
  UniqueFd vm0(static_cast<int>(
      Ioctl(kvm.get(), KVM_CREATE_VM, static_cast<unsigned long>(KVM_X86_DEFAULT_VM))));
  ASSERT_TRUE(vm0.valid());
  EXPECT_EQ(CheckExtension(vm0.get(), KVM_CAP_MEMORY_ATTRIBUTES), 0);
  EXPECT_EQ(SetAttributes(vm0.get(), 0, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), -EINVAL);
  EXPECT_EQ(SetAttributes(vm0.get(), 0, kPage, 0), 0);
  if (VmTypeSupported(kvm.get(), KVM_X86_SW_PROTECTED_VM)) {
    UniqueFd vm1(static_cast<int>(
        Ioctl(kvm.get(), KVM_CREATE_VM, static_cast<unsigned long>(KVM_X86_SW_PROTECTED_VM))));
    ASSERT_TRUE(vm1.valid());
    EXPECT_EQ(CheckExtension(vm1.get(), KVM_CAP_MEMORY_ATTRIBUTES),
              static_cast<long>(KVM_MEMORY_ATTRIBUTE_PRIVATE));
  }
}

class Attributes : public PrivateVmTest {};

TEST_F(Attributes, BadInputIsRejected) {
  const int vm = vm_->vm();
  EXPECT_EQ(SetAttributes(vm, kGpa, 0, KVM_MEMORY_ATTRIBUTE_PRIVATE), -EINVAL);
  EXPECT_EQ(SetAttributes(vm, kGpa + 1, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), -EINVAL);
  EXPECT_EQ(SetAttributes(vm, kGpa, kPage + 1, KVM_MEMORY_ATTRIBUTE_PRIVATE), -EINVAL);
  EXPECT_EQ(SetAttributes(vm, ~0ULL & ~(kPage - 1), 2 * kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), -EINVAL);
  EXPECT_EQ(SetAttributes(vm, kGpa, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE, 1), -EINVAL);
  for (int bit = 0; bit < 64; bit++) {
    if ((1ULL << bit) == KVM_MEMORY_ATTRIBUTE_PRIVATE) continue;
    EXPECT_EQ(SetAttributes(vm, kGpa, kPage, 1ULL << bit), -EINVAL) << "attribute bit " << bit;
  }
  // Nothing changed: the page is still shared, so the guest's write lands
  // in the shared mapping.
  auto res = vm_->Command(kOpWrite, {static_cast<uint32_t>(kGpa), 0x5a5a5a5a});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(SharedWord(0), 0x5a5a5a5au);
}

TEST_F(Attributes, LargeRangesSetAndClear) {
  // 1 GiB of attributes beyond any memslot: allowed, and undone cleanly.
  constexpr uint64_t kBig = 1ULL << 30;
  EXPECT_EQ(SetAttributes(vm_->vm(), 1ULL << 32, kBig, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  EXPECT_EQ(SetAttributes(vm_->vm(), 1ULL << 32, kBig / 2, 0), 0);
  EXPECT_EQ(SetAttributes(vm_->vm(), 1ULL << 32, kBig, 0), 0);
}

// Attributes are kept as ranges: splitting one range into many and merging
// them back must leave every page with the attributes it was last given.
// Each page's state is read back through the guest: a write to a shared page
// lands in the shared mapping, a write to a private page does not.
TEST_F(Attributes, SplitAndMergedRangesReadBackPerPage) {
  constexpr uint64_t kPages = kSize / kPage;
  std::vector<bool> priv(kPages, false);
  auto set = [&](uint64_t first, uint64_t count, bool p) {
    ASSERT_EQ(p ? MakePrivate(first * kPage, count * kPage) : MakeShared(first * kPage, count * kPage),
              0)
        << "pages [" << first << ", " << first + count << ") " << (p ? "private" : "shared");
    for (uint64_t i = first; i < first + count; i++) priv[i] = p;
  };
  set(0, kPages, true);                                   // one range
  for (uint64_t i = 0; i < kPages; i += 3) set(i, 1, false);  // split into many
  set(100, 100, false);                                   // merge a run
  set(150, 10, true);                                     // split it again
  set(kPages - 1, 1, true);                               // the last page
  set(1, 1, true);                                        // already private: no change
  set(0, 2, false);                                       // straddles two states
  for (uint64_t i = 0; i < kPages; i++) {
    const uint32_t value = 0x1000 + static_cast<uint32_t>(i);
    auto res = vm_->Command(kOpWrite, {static_cast<uint32_t>(kGpa + i * kPage), value});
    ASSERT_TRUE(res.ok) << "page " << i << ": " << res.what;
    EXPECT_EQ(SharedWord(i * kPage), priv[i] ? 0u : value)
        << "page " << i << " should be " << (priv[i] ? "private" : "shared");
  }
}

// A VM whose attributes are thousands of ranges (a tree several levels
// deep) merges them and is destroyed cleanly, again and again.  6.1's maple
// tree crashed (mte_dead_walk) when it freed, RCU-deferred, a subtree whose
// root was a full internal node: at VM destruction (found by gmem_bench's
// alternating-pages metric) and when one store replaces whole subtrees.
TEST(MemoryAttributes, ManyRangesThenVmDestroy) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_MEMORY_ATTRIBUTES);
  GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
  constexpr uint64_t kBase = 1ULL << 32, kPages = 16384;
  for (int round = 0; round < 4; round++) {
    UniqueFd vm(static_cast<int>(
        Ioctl(kvm.get(), KVM_CREATE_VM, static_cast<unsigned long>(KVM_X86_SW_PROTECTED_VM))));
    ASSERT_TRUE(vm.valid()) << "KVM_CREATE_VM, round " << round;
    for (uint64_t i = 0; i < kPages; i += 2)
      ASSERT_EQ(SetAttributes(vm.get(), kBase + i * kPage, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0)
          << "page " << i << ", round " << round;
    // Merge a run in the middle; every other round, then clear all of it
    // with one call (a store that replaces whole subtrees); close the VM
    // with the tree as it is.
    ASSERT_EQ(SetAttributes(vm.get(), kBase + 1000 * kPage, 2000 * kPage, 0), 0);
    if (round % 2) {
      ASSERT_EQ(SetAttributes(vm.get(), kBase, kPages * kPage, 0), 0) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace gmt
