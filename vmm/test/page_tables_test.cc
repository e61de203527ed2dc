#include "vmm/lib/page_tables.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/guest/abi.h"

namespace gmem {
namespace {

constexpr uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

TEST(PageTables, PlanSizesTheDirectories) {
  auto l = PlanIdentityMap(0x10000, 0x80000, 64 * kMiB);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l.value().pml4_gpa, 0x10000u);
  EXPECT_EQ(l.value().pdpt_gpa, 0x11000u);
  EXPECT_EQ(l.value().pd_gpa, 0x12000u);
  EXPECT_EQ(l.value().num_pds, 1u);
  EXPECT_EQ(l.value().end_gpa, 0x13000u);
  auto big = PlanIdentityMap(0x10000, 0x80000, 4 * kGiB + 2 * kMiB);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big.value().num_pds, 5u);
}

TEST(PageTables, PlanRejectsBadSizes) {
  EXPECT_FALSE(PlanIdentityMap(0x10000, 0x80000, 0).ok());
  EXPECT_FALSE(PlanIdentityMap(0x10000, 0x80000, 3 * kMiB).ok());
  EXPECT_FALSE(PlanIdentityMap(0x10001, 0x80000, 4 * kMiB).ok());
  // 200 GiB needs 200 directories: more than fit below 0x80000.
  auto r = PlanIdentityMap(0x10000, 0x80000, 200 * kGiB);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument);
}

TEST(PageTables, IdentityMapTranslatesEveryLargePage) {
  const uint64_t ram = 2 * kGiB + 4 * kMiB;  // crosses into a third PD
  auto l = PlanIdentityMap(abi::kPageTableGpa, abi::kPageTableEnd, ram);
  ASSERT_TRUE(l.ok());
  std::vector<uint8_t> mem(abi::kPageTableEnd, 0xaa);
  ASSERT_TRUE(WriteIdentityMap(mem, l.value()).ok());
  for (uint64_t va = 0; va < ram; va += 2 * kMiB) {
    auto pa = Translate(mem, l.value().pml4_gpa, va + 0x1234);
    ASSERT_TRUE(pa.ok()) << va;
    EXPECT_EQ(pa.value(), va + 0x1234);
  }
  // The PD slot just past RAM in the last directory is still mapped (the
  // directory is whole), but the next PDPT slot is not present.
  EXPECT_FALSE(Translate(mem, l.value().pml4_gpa, 3 * kGiB).ok());
  EXPECT_FALSE(Translate(mem, l.value().pml4_gpa, 512 * kGiB).ok());
}

TEST(PageTables, EntriesArePresentWritableLarge) {
  auto l = PlanIdentityMap(abi::kPageTableGpa, abi::kPageTableEnd, 8 * kMiB);
  std::vector<uint8_t> mem(abi::kPageTableEnd);
  ASSERT_TRUE(WriteIdentityMap(mem, l.value()).ok());
  uint64_t pde;
  std::memcpy(&pde, mem.data() + l.value().pd_gpa + 8, 8);
  EXPECT_EQ(pde, 2 * kMiB | kPtePresent | kPteWritable | kPteLarge);
}

TEST(PageTables, WriteRefusesTablesOutsideMemory) {
  auto l = PlanIdentityMap(abi::kPageTableGpa, abi::kPageTableEnd, 8 * kMiB);
  std::vector<uint8_t> mem(0x11000);
  EXPECT_FALSE(WriteIdentityMap(mem, l.value()).ok());
}

TEST(Gdt, FlatCodeAndData) {
  // Well-known flat descriptors: 64-bit code 0x00af9b000000ffff,
  // data 0x00cf93000000ffff.
  EXPECT_EQ(GdtEntry(true), 0x00af9b000000ffffull);
  EXPECT_EQ(GdtEntry(false), 0x00cf93000000ffffull);
  std::vector<uint8_t> mem(0x2000, 0xff);
  ASSERT_TRUE(WriteGdt(mem, 0x1000).ok());
  uint64_t e[3];
  std::memcpy(e, mem.data() + 0x1000, sizeof e);
  EXPECT_EQ(e[0], 0u);
  EXPECT_EQ(e[1], GdtEntry(true));
  EXPECT_EQ(e[2], GdtEntry(false));
  EXPECT_FALSE(WriteGdt(mem, 0x1ff0).ok());
}

}  // namespace
}  // namespace gmem
