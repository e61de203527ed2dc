#include "vmm/lib/hypercall.h"

#include <gtest/gtest.h>

#include "common/uapi/kvm.h"

namespace gmem {
namespace {

TEST(Hypercall, DecodesSharedAndPrivate) {
  uint64_t a[3] = {0x400000, 16, KVM_MAP_GPA_RANGE_DECRYPTED};
  auto r = DecodeMapGpaRange(KVM_HC_MAP_GPA_RANGE, a);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().gpa, 0x400000u);
  EXPECT_EQ(r.value().size, 16u * 4096);
  EXPECT_FALSE(r.value().to_private);
  EXPECT_EQ(r.value().page_size, 4096u);
  uint64_t b[3] = {0x600000, 512,
                   KVM_MAP_GPA_RANGE_ENCRYPTED | KVM_MAP_GPA_RANGE_PAGE_SZ_2M};
  r = DecodeMapGpaRange(KVM_HC_MAP_GPA_RANGE, b);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().to_private);
  EXPECT_EQ(r.value().page_size, 2u << 20);
  uint64_t c[3] = {0, 1, KVM_MAP_GPA_RANGE_PAGE_SZ_1G};
  r = DecodeMapGpaRange(KVM_HC_MAP_GPA_RANGE, c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().page_size, 1u << 30);
}

TEST(Hypercall, RejectsMalformed) {
  auto bad = [](uint64_t nr, uint64_t gpa, uint64_t n, uint64_t attrs) {
    uint64_t a[3] = {gpa, n, attrs};
    return !DecodeMapGpaRange(nr, a).ok();
  };
  EXPECT_TRUE(bad(1, 0x1000, 1, 0));                 // KVM_HC_VAPIC_POLL_IRQ
  EXPECT_TRUE(bad(KVM_HC_MAP_GPA_RANGE, 0x1001, 1, 0));  // unaligned
  EXPECT_TRUE(bad(KVM_HC_MAP_GPA_RANGE, 0x1000, 0, 0));  // empty
  EXPECT_TRUE(bad(KVM_HC_MAP_GPA_RANGE, 0xfffffffffffff000ull, 2, 0));  // wraps
  EXPECT_TRUE(bad(KVM_HC_MAP_GPA_RANGE, 0x1000, 1ull << 60, 0));  // overflow
  EXPECT_TRUE(bad(KVM_HC_MAP_GPA_RANGE, 0x1000, 1, 1 << 8));  // unknown bit
  EXPECT_TRUE(bad(KVM_HC_MAP_GPA_RANGE, 0x1000, 1,
                  KVM_MAP_GPA_RANGE_PAGE_SZ_2M | KVM_MAP_GPA_RANGE_PAGE_SZ_1G));
}

TEST(Hypercall, ReturnCodesMatchKvm) {
  EXPECT_EQ(static_cast<int64_t>(kHcEinval), -22);
  EXPECT_EQ(static_cast<int64_t>(kHcEnosys), -1000);
}

}  // namespace
}  // namespace gmem
