// KVM_SET_USER_MEMORY_REGION2: the v2 memslot ioctl behaves like v1 for
// ordinary memory and rejects what v1 cannot express wrongly.
#include <cstring>

#include "selftests/lib/kvm.h"
#include "selftests/lib/skip.h"

namespace gmt {
namespace {

constexpr uint64_t kDataGpa = 0x100000;
constexpr uint64_t kDataSize = 0x200000;

class Memslot2 : public testing::Test {
 protected:
  void SetUp() override {
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_USER_MEMORY2);
    data_ = Mapping::Map(kDataSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(data_.valid());
  }
  kvm_userspace_memory_region2 Region() const {
    kvm_userspace_memory_region2 r = {};
    r.slot = 1;
    r.guest_phys_addr = kDataGpa;
    r.memory_size = kDataSize;
    r.userspace_addr = reinterpret_cast<uint64_t>(data_.data());
    return r;
  }
  Mapping data_;
};

TEST_F(Memslot2, GuestUsesSlotCreatedWithRegion2) {
  TestVm t;
  GMT_ASSERT_VM(t);
  auto r = Region();
  ASSERT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION2, &r), 0);
  auto res = t.Command(kOpWrite, {kDataGpa + 0x40, 0xfeedf00d});
  ASSERT_TRUE(res.ok) << res.what;
  uint32_t seen;
  std::memcpy(&seen, data_.data() + 0x40, sizeof(seen));
  EXPECT_EQ(seen, 0xfeedf00du);
  std::memcpy(data_.data() + 0x80, "\x11\x22\x33\x44", 4);
  res = t.Command(kOpRead, {kDataGpa + 0x80});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0x44332211u);
}

TEST_F(Memslot2, UnknownFlagsAreRejected) {
  TestVm t;
  GMT_ASSERT_VM(t);
  for (int bit = 3; bit < 32; bit++) {
    auto r = Region();
    r.flags = 1U << bit;
    EXPECT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION2, &r), -EINVAL) << "flag bit " << bit;
  }
}

TEST_F(Memslot2, UnalignedOrOverlappingSlotsAreRejected) {
  TestVm t;
  GMT_ASSERT_VM(t);
  auto r = Region();
  r.guest_phys_addr += 0x800;
  EXPECT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION2, &r), -EINVAL);
  r = Region();
  r.memory_size = 0x1800;
  EXPECT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION2, &r), -EINVAL);
  r = Region();
  ASSERT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION2, &r), 0);
  r.slot = 2;
  r.guest_phys_addr += 0x1000;  // overlaps slot 1
  EXPECT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION2, &r), -EEXIST);
}

TEST_F(Memslot2, Region1AndRegion2ShareTheSlotNamespace) {
  TestVm t;
  GMT_ASSERT_VM(t);
  auto r = Region();
  ASSERT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION2, &r), 0);
  // Delete through v1: the guest must not see the slot afterwards.
  kvm_userspace_memory_region v1 = {};
  v1.slot = 1;
  ASSERT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION, &v1), 0);
  r = Region();
  r.slot = 2;
  EXPECT_EQ(Ioctl(t.vm(), KVM_SET_USER_MEMORY_REGION2, &r), 0);
  auto res = t.Command(kOpWrite, {kDataGpa, 7});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(data_.data()[0], 7);
}

}  // namespace
}  // namespace gmt
