#include "vmm/lib/boot_image.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/guest/abi.h"

namespace gmem {
namespace {

Payload Tiny() {
  Payload p;
  p.load_gpa = abi::kPayloadGpa;
  p.entry_gpa = abi::kPayloadGpa + 2;
  p.image = {0x90, 0x90, 0xf4};
  p.bss_size = 16;
  return p;
}

abi::BootInfo InfoOf(const std::vector<uint8_t>& mem) {
  abi::BootInfo bi;
  std::memcpy(&bi, mem.data() + abi::kBootInfoGpa, sizeof bi);
  return bi;
}

TEST(BootImage, WritesEverythingTheGuestNeeds) {
  std::vector<uint8_t> mem(16 << 20, 0xaa);
  BootParams params;
  params.abi_mode = abi::kModeSwProtected;
  params.flags = abi::kFlagHypercallExits;
  auto r = WriteBootImage(mem, Tiny(), params);
  ASSERT_TRUE(r.ok()) << r.error().What();
  const BootImage& img = r.value();
  EXPECT_EQ(img.cpu.rip, abi::kPayloadGpa + 2);
  EXPECT_EQ(img.cpu.rsp, abi::kStackTop);
  EXPECT_EQ(img.cpu.gdt_base, abi::kGdtGpa);
  EXPECT_EQ(img.cpu.gdt_limit, kGdtLimit);
  EXPECT_EQ(img.cpu.cr3, abi::kPageTableGpa);
  EXPECT_EQ(img.work_gpa, abi::kWorkGpa);
  EXPECT_EQ(img.work_size, (16u << 20) - abi::kWorkGpa);

  abi::BootInfo bi = InfoOf(mem);
  EXPECT_EQ(bi.magic, abi::kBootMagic);
  EXPECT_EQ(bi.mode, abi::kModeSwProtected);
  EXPECT_EQ(bi.ram_size, 16u << 20);
  EXPECT_EQ(bi.work_size, img.work_size);
  EXPECT_EQ(bi.fill_seed, img.fill_seed);
  EXPECT_EQ(bi.flags, abi::kFlagHypercallExits);
  EXPECT_EQ(bi.verdict, 0u);  // the guest's fields start clear
  // Payload and bss, and the identity map reaches the top of RAM.
  EXPECT_EQ(mem[abi::kPayloadGpa + 2], 0xf4);
  EXPECT_EQ(mem[abi::kPayloadGpa + 3], 0);
  auto t = Translate(mem, img.cpu.cr3, (16 << 20) - 8);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value(), (16u << 20) - 8);
}

TEST(BootImage, FillLimitOnlyForBenchmarks) {
  std::vector<uint8_t> mem(16 << 20);
  BootParams params;
  params.fill_limit = 2 << 20;
  EXPECT_EQ(WriteBootImage(mem, Tiny(), params).value().work_size,
            (16u << 20) - abi::kWorkGpa);
  params.bench_only = true;
  EXPECT_EQ(WriteBootImage(mem, Tiny(), params).value().work_size, 2u << 20);
  EXPECT_EQ(InfoOf(mem).bench_only, 1u);
}

TEST(BootImage, RefusesRamBelowTheMinimum) {
  std::vector<uint8_t> mem(2 << 20);
  auto r = WriteBootImage(mem, Tiny(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace gmem
