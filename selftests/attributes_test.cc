// KVM_SET_MEMORY_ATTRIBUTES: what each VM type offers, and that bad input
// gets EINVAL and changes nothing.
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

}  // namespace
}  // namespace gmt
