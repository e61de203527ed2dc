#include "vmm/lib/launch_plan.h"

#include <gtest/gtest.h>

#include "vmm/guest/abi.h"

namespace gmem {
namespace {

void CheckPlan(const LaunchPlan& p) {
  for (size_t i = 0; i < p.regions.size(); ++i) {
    const LaunchRegion& r = p.regions[i];
    EXPECT_EQ(r.gpa % 4096, 0u) << r.what;
    EXPECT_EQ(r.size % 4096, 0u) << r.what;
    EXPECT_GT(r.size, 0u) << r.what;
    EXPECT_NE(StagingOffset(p, r.gpa), UINT64_MAX) << r.what;
    EXPECT_NE(StagingOffset(p, r.gpa + r.size - 1), UINT64_MAX) << r.what;
    for (size_t j = 0; j < i; ++j) {
      const LaunchRegion& o = p.regions[j];
      EXPECT_TRUE(r.gpa >= o.gpa + o.size || o.gpa >= r.gpa + r.size)
          << r.what << " overlaps " << o.what;
    }
  }
}

TEST(LaunchPlan, Snp) {
  LaunchPlan p = PlanLaunch(CocoKind::kSnp, 16 << 20, 5000);
  CheckPlan(p);
  EXPECT_EQ(p.gmem_size, 16u << 20);
  ASSERT_EQ(p.slots.size(), 1u);
  ASSERT_EQ(p.regions.size(), 6u);
  EXPECT_EQ(p.regions[1].snp_type, snp::PageType::kSecrets);
  EXPECT_EQ(p.regions[2].snp_type, snp::PageType::kCpuid);
  EXPECT_EQ(p.regions[4].snp_type, snp::PageType::kZero);
  EXPECT_EQ(p.regions[5].gpa, abi::kPayloadGpa);
  EXPECT_EQ(p.regions[5].size, 8192u);
  // Everything loaded is below the work RAM the guest validates itself.
  for (const auto& r : p.regions) EXPECT_LE(r.gpa + r.size, abi::kWorkGpa);
}

TEST(LaunchPlan, Tdx) {
  LaunchPlan p = PlanLaunch(CocoKind::kTdx, 16 << 20, 5000);
  CheckPlan(p);
  ASSERT_EQ(p.slots.size(), 2u);
  EXPECT_EQ(p.gmem_size, (16u << 20) + 4096);
  EXPECT_EQ(StagingOffset(p, kTdxResetPageGpa + 0xff0), (16u << 20) + 0xff0);
  ASSERT_EQ(p.regions.size(), 5u);
  EXPECT_FALSE(p.regions[2].measured);  // the stack
  EXPECT_TRUE(p.regions[4].measured);   // the reset vector
  EXPECT_EQ(StagingOffset(p, 16u << 20), UINT64_MAX);  // between the slots
}

}  // namespace
}  // namespace gmem
