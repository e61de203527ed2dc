#include "vmm/lib/payload.h"

#include <gtest/gtest.h>

#include "vmm/guest/abi.h"
#include "vmm/lib/embedded_payload.h"

namespace gmem {
namespace {

Payload Sample() {
  Payload p;
  p.load_gpa = 0x100000;
  p.entry_gpa = 0x100010;
  p.bss_size = 64;
  for (int i = 0; i < 100; i++) p.image.push_back(static_cast<uint8_t>(i * 7));
  return p;
}

constexpr uint64_t kLo = 0x100000, kHi = 0x200000;

TEST(Payload, RoundTrip) {
  auto file = PackPayload(Sample());
  auto p = ParsePayload(file, kLo, kHi);
  ASSERT_TRUE(p.ok()) << p.error().What();
  EXPECT_EQ(p.value().load_gpa, 0x100000u);
  EXPECT_EQ(p.value().entry_gpa, 0x100010u);
  EXPECT_EQ(p.value().bss_size, 64u);
  EXPECT_EQ(p.value().image, Sample().image);
}

TEST(Payload, RejectsCorruption) {
  auto good = PackPayload(Sample());
  auto expect_bad = [&](std::vector<uint8_t> f, const char* why) {
    auto r = ParsePayload(f, kLo, kHi);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument) << why;
    EXPECT_NE(r.error().message().find("corrupt payload"), std::string::npos);
  };
  expect_bad({}, "empty");
  expect_bad(std::vector<uint8_t>(good.begin(), good.begin() + 20), "short header");
  auto f = good;
  f[0] = 'X';
  expect_bad(f, "magic");
  f = good;
  f.back() ^= 1;
  expect_bad(f, "checksum");
  f = good;
  f.pop_back();
  expect_bad(f, "truncated image");
  f = good;
  f[8] = 2;
  expect_bad(f, "version");
  Payload p = Sample();
  p.entry_gpa = 0x100000 + 100;  // one past the image
  expect_bad(PackPayload(p), "entry");
  p = Sample();
  p.load_gpa = 0x1ffff0;  // runs past the window
  p.entry_gpa = p.load_gpa;
  expect_bad(PackPayload(p), "window");
  p = Sample();
  p.image.clear();
  expect_bad(PackPayload(p), "empty image");
}

TEST(Payload, LoadCopiesAndZeroesBss) {
  std::vector<uint8_t> mem(0x200000, 0xcc);
  Payload p = Sample();
  ASSERT_TRUE(LoadPayload(mem, p).ok());
  EXPECT_EQ(mem[0x100000 + 3], 21);
  EXPECT_EQ(mem[0x100000 + 100], 0);       // bss
  EXPECT_EQ(mem[0x100000 + 163], 0);       // last bss byte
  EXPECT_EQ(mem[0x100000 + 164], 0xcc);    // untouched
  EXPECT_EQ(mem[0xfffff], 0xcc);
  std::vector<uint8_t> small(0x100020);
  EXPECT_FALSE(LoadPayload(small, p).ok());
}

TEST(Payload, EmbeddedPayloadIsValid) {
  auto r = ParsePayload(EmbeddedPayload(), abi::kPayloadGpa,
                        abi::kPayloadGpa + abi::kPayloadMax);
  ASSERT_TRUE(r.ok()) << r.error().What();
  EXPECT_EQ(r.value().load_gpa, abi::kPayloadGpa);
  EXPECT_EQ(r.value().entry_gpa, abi::kPayloadGpa);  // _start comes first
}

TEST(Payload, Fnv1a32KnownValues) {
  EXPECT_EQ(Fnv1a32({}), 0x811c9dc5u);
  const uint8_t a[] = {'a'};
  EXPECT_EQ(Fnv1a32(a), 0xe40c292cu);
}

TEST(Payload, ReadFileErrors) {
  auto r = ReadFile("/nonexistent/payload");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err(), ENOENT);
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_FALSE(ReadFile("/").ok());  // a directory
}

}  // namespace
}  // namespace gmem
