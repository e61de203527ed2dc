#include "vmm/lib/conversion.h"

#include <gtest/gtest.h>

#include "vmm/lib/result.h"

namespace gmem {
namespace {

TEST(PageStates, TracksAndCounts) {
  PageStates st(16 << 20);
  EXPECT_EQ(st.pages(), 4096u);
  EXPECT_EQ(st.CountPrivate(), 0u);
  EXPECT_EQ(st.Set(4 << 20, 12 << 20, true), 3072u);
  EXPECT_EQ(st.Set(4 << 20, 64 << 10, true), 0u);  // already private
  EXPECT_EQ(st.Set(4 << 20, 64 << 10, false), 16u);
  EXPECT_EQ(st.CountPrivate(), 3056u);
  EXPECT_TRUE(st.IsPrivate((4 << 20) + (64 << 10)));
  EXPECT_FALSE(st.IsPrivate(4 << 20));
  EXPECT_TRUE(st.Contains(0, 16 << 20));
  EXPECT_FALSE(st.Contains(4096, 16 << 20));
  EXPECT_FALSE(st.Contains(~0ull - 4095, 8192));
}

TEST(SharedOnly, RecordsButKeepsShared) {
  auto b = MakeSharedOnlyBackend(16 << 20);
  EXPECT_TRUE(b->Convert(4 << 20, 1 << 20, true).ok());
  EXPECT_EQ(b->states().CountPrivate(), 0u);
  EXPECT_NE(std::string(b->name()).find("shared-only"), std::string::npos);
  EXPECT_FALSE(b->Convert(16 << 20, 4096, true).ok());  // past RAM
  EXPECT_FALSE(b->Convert(4097, 4096, false).ok());     // unaligned
}

TEST(Result, ContextAndHint) {
  auto inner = []() -> Result<int> {
    return Error::Sys("KVM_CREATE_VM", EINVAL, "try another type",
                      ErrorKind::kUnsupported);
  };
  auto outer = [&]() -> Result<int> {
    int v = GMEM_TRY_CTX(inner(), "creating the VM");
    return v + 1;
  };
  auto r = outer();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().What(),
            "creating the VM: KVM_CREATE_VM: Invalid argument (errno 22); "
            "hint: try another type");
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnsupported);
  EXPECT_EQ(r.error().err(), EINVAL);
}

}  // namespace
}  // namespace gmem
