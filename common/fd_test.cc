#include "common/fd.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include <gtest/gtest.h>

namespace {

constexpr size_t kMiB = 1 << 20;

// Whether [addr, addr + len) is mapped: msync() fails with ENOMEM on a hole.
bool Mapped(const void* addr, size_t len) {
  return msync(const_cast<void*>(addr), len, MS_ASYNC) == 0;
}

TEST(Mapping, MapAnonAlignedIsAlignedUsableAndLeavesNothingAround) {
  for (size_t size : {4096ul, 2 * kMiB, 3 * kMiB + 4096}) {
    common::Mapping m =
        common::Mapping::MapAnonAligned(size, 2 * kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    ASSERT_TRUE(m.valid()) << size;
    const auto addr = reinterpret_cast<uintptr_t>(m.data());
    EXPECT_EQ(addr % (2 * kMiB), 0u) << size;
    EXPECT_EQ(m.size(), size);
    m.data()[0] = 1;
    m.data()[size - 1] = 2;
    EXPECT_TRUE(Mapped(m.data(), size));
    // The over-mapping is given back on both sides.
    EXPECT_FALSE(Mapped(reinterpret_cast<void*>(addr + ((size + 4095) & ~4095ul)), 4096)) << size;
    EXPECT_FALSE(Mapped(reinterpret_cast<void*>(addr - 4096), 4096)) << size;
    void* p = m.data();
    m.reset();
    EXPECT_FALSE(Mapped(p, 4096));
  }
}

TEST(Mapping, MapAnonAlignedFailureKeepsErrno) {
  common::Mapping m = common::Mapping::MapAnonAligned(4096, 2 * kMiB, PROT_READ, MAP_SHARED | MAP_PRIVATE);
  EXPECT_FALSE(m.valid());
  EXPECT_EQ(errno, EINVAL);
}

TEST(Mapping, ReleaseHandsOverWithoutUnmapping) {
  common::Mapping m = common::Mapping::Map(4096, PROT_READ | PROT_WRITE,
                                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(m.valid());
  void* p = m.release();
  EXPECT_FALSE(m.valid());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(Mapped(p, 4096));
  common::Mapping again(p, 4096);
  again.reset();
  EXPECT_FALSE(Mapped(p, 4096));
}

}  // namespace
