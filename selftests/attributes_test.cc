// KVM_SET_MEMORY_ATTRIBUTES: what each VM type offers, and that bad input
// gets EINVAL and changes nothing, and that per-page state survives ranges
// being split and merged.
#include <chrono>
#include <cstring>
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

// Attributes are kept per 128 MiB chunk of gfns (a bitmap, or one value
// when the whole chunk agrees).  A memslot of 132 MiB from 126 MiB covers
// the end of one chunk, a whole chunk and the start of the next; every
// update below crosses, splits, fills or empties chunks, and each page's
// state is read back through the guest around each boundary and at a stride.
class ChunkedAttributes : public PrivateVmTest {
 protected:
  static constexpr uint64_t kMiB = 1ULL << 20;
  static constexpr uint64_t kChunk = 128 * kMiB;
  static constexpr uint64_t kBase = kChunk - 2 * kMiB;
  static constexpr uint64_t kLen = kChunk + 4 * kMiB;
  static constexpr uint64_t kPages = kLen / kPage;

  void SetUp() override {
    SetUpAt(kBase, kLen);
    priv_.assign(kPages, false);
  }

  // Sets the gpa range [from, to) and the model.
  void Set(uint64_t from, uint64_t to, bool p) {
    ASSERT_EQ(SetAttributes(vm_->vm(), from, to - from, p ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0), 0)
        << "[" << std::hex << from << ", " << to << ") " << (p ? "private" : "shared");
    for (uint64_t gpa = std::max(from, kBase); gpa < std::min(to, kBase + kLen); gpa += kPage)
      priv_[(gpa - kBase) / kPage] = p;
  }

  // The guest writes to the page at |gpa|: the write lands in the shared
  // mapping if and only if the page is shared.
  void CheckPage(uint64_t gpa, const char* step) {
    const uint64_t page = (gpa - kBase) / kPage;
    uint32_t before;
    std::memcpy(&before, shared_.data() + page * kPage, sizeof(before));
    const uint32_t value = ++stamp_;
    auto res = vm_->Command(kOpWrite, {static_cast<uint32_t>(gpa), value});
    ASSERT_TRUE(res.ok) << step << ": gpa " << std::hex << gpa << ": " << res.what;
    uint32_t after;
    std::memcpy(&after, shared_.data() + page * kPage, sizeof(after));
    EXPECT_EQ(after, priv_[page] ? before : value)
        << step << ": gpa 0x" << std::hex << gpa << " should be "
        << (priv_[page] ? "private" : "shared");
  }

  void Check(const char* step) {
    for (uint64_t b : {kBase, kChunk, 2 * kChunk, kBase + kLen})
      for (int d = -3; d < 3; d++) {
        const uint64_t gpa = b + static_cast<uint64_t>(d) * kPage;
        if (gpa >= kBase && gpa < kBase + kLen) CheckPage(gpa, step);
      }
    for (uint64_t page = 0; page < kPages; page += 509) CheckPage(kBase + page * kPage, step);
  }

  std::vector<bool> priv_;
  uint32_t stamp_ = 0x10000;
};

TEST_F(ChunkedAttributes, UpdatesAcrossChunkBoundariesReadBackPerPage) {
  Set(kBase, kBase + kLen, true);  // partial, whole and partial chunk
  Check("all private");
  for (uint64_t gpa : {kBase, kChunk - kPage, kChunk, 2 * kChunk - kPage, 2 * kChunk,
                       kBase + kLen - kPage})
    Set(gpa, gpa + kPage, false);  // single pages on both sides of each boundary
  Check("single shared pages at the boundaries");
  Set(kChunk - 2 * kPage, kChunk + 2 * kPage, false);  // across a boundary
  Check("shared across a boundary");
  Set(kChunk, 2 * kChunk, true);  // a whole chunk over a bitmap
  Check("a whole chunk private again");
  Set(kChunk - kMiB, 2 * kChunk + kMiB, false);  // partial, whole, partial
  Check("shared across two boundaries");
  // Scattered private pages, then the same pages shared again: the chunk
  // goes from nothing to a bitmap and back to nothing.
  for (uint64_t k = 0; k < 4; k++) Set(kChunk + k * kMiB, kChunk + k * kMiB + kPage, true);
  Check("scattered private pages");
  for (uint64_t k = 0; k < 4; k++) Set(kChunk + k * kMiB, kChunk + k * kMiB + kPage, false);
  Check("scattered pages shared again");
  // A chunk filled in two steps ends up entirely private.
  Set(kChunk, 2 * kChunk - kPage, true);
  Set(2 * kChunk - kPage, 2 * kChunk, true);
  Check("a chunk filled in two steps");
  Set(kChunk + 5 * kPage, kChunk + 6 * kPage, false);
  Check("one page out of a full chunk");
}

// Clearing attributes costs what exists, not the size of the range: a call
// over 1 EiB of gpas (2^33 chunks), nearly all of which never had
// attributes, returns at once (visiting every chunk takes minutes, every
// gfn, as upstream's xarray does, years).
TEST_F(ChunkedAttributes, ClearingHugeRangesCostsWhatExists) {
  Set(kBase, kBase + kLen, true);
  Set(1ULL << 40, (1ULL << 40) + kChunk + kPage, true);  // far away, beyond any memslot
  auto t0 = std::chrono::steady_clock::now();
  Set(0, 1ULL << 60, false);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 10.0) << "clearing 1 EiB took " << s << " s";
  Check("all shared after one huge clear");
  // Setting them private again, nearby, still works.
  Set(kChunk - kPage, kChunk + kPage, true);
  Check("private again after the huge clear");
  // The last page of the gpa space (the last chunk index), set and cleared
  // again with a range that ends right there.
  constexpr uint64_t kTop = ~0ULL & ~(2 * kPage - 1);
  EXPECT_EQ(SetAttributes(vm_->vm(), kTop, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  EXPECT_EQ(SetAttributes(vm_->vm(), 1ULL << 63, kTop + kPage - (1ULL << 63), 0), 0);
  Check("after the top of the gpa space");
}

}  // namespace
}  // namespace gmt
