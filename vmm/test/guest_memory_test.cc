#include "vmm/lib/guest_memory.h"

#include <gtest/gtest.h>

#include "common/uapi/kvm.h"

namespace gmem {
namespace {

// RunGuest plans its memory before it creates anything; a sw-protected VM
// with anonymous RAM used to reach the conversion backend with no
// guest_memfd at all.  The plan refuses it, whoever calls.
TEST(MemoryPlan, SwProtectedWithAnonymousBackingIsRefused) {
  auto p = PlanGuestMemory(Mode::kSwProtected, Backing::kAnonymous, 16 << 20, false);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(p.error().message().find("guest_memfd"), std::string::npos)
      << p.error().message();
}

TEST(MemoryPlan, SwProtectedIsPrivateGuestMemfdWithAnAnonymousSharedView) {
  auto p = PlanGuestMemory(Mode::kSwProtected, Backing::kGuestMemfd, 16 << 20, false);
  ASSERT_TRUE(p.ok()) << p.error().What();
  EXPECT_TRUE(p.value().guest_memfd);
  EXPECT_EQ(p.value().gmem_flags, 0u);
  EXPECT_FALSE(p.value().view_from_gmem);
  EXPECT_TRUE(p.value().private_memory);
}

TEST(MemoryPlan, DefaultGuestMemfdIsSharedAndMapped) {
  auto p = PlanGuestMemory(Mode::kDefault, Backing::kGuestMemfd, 16 << 20, false);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value().gmem_flags,
            GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
  EXPECT_TRUE(p.value().view_from_gmem);
  EXPECT_FALSE(p.value().private_memory);
  EXPECT_EQ(p.value().size, 16u << 20);
}

TEST(MemoryPlan, InPlaceIsOneMappedFileThatStartsShared) {
  auto p = PlanGuestMemory(Mode::kSwProtected, Backing::kGuestMemfd, 16 << 20, false,
                           Conversion::kInPlace);
  ASSERT_TRUE(p.ok()) << p.error().What();
  EXPECT_EQ(p.value().gmem_flags, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
  EXPECT_TRUE(p.value().view_from_gmem) << "no anonymous copy";
  EXPECT_TRUE(p.value().private_memory);
  EXPECT_TRUE(p.value().in_place);
  // The conversion scheme means nothing without private memory.
  auto d = PlanGuestMemory(Mode::kDefault, Backing::kGuestMemfd, 16 << 20, false,
                           Conversion::kInPlace);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d.value().in_place);
  EXPECT_FALSE(d.value().private_memory);
}

TEST(MemoryPlan, DefaultAnonymousHasNoGuestMemfd) {
  auto p = PlanGuestMemory(Mode::kDefault, Backing::kAnonymous, 16 << 20, true);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p.value().guest_memfd);
  EXPECT_FALSE(p.value().view_from_gmem);
  EXPECT_FALSE(p.value().private_memory);
  EXPECT_TRUE(p.value().anon_small_pages);
}

}  // namespace
}  // namespace gmem
