#include "vmm/lib/run_record.h"

#include <gtest/gtest.h>

namespace gmem {
namespace {

using Clock = RunRecord::Clock;
using std::chrono::milliseconds;

const Clock::time_point kT0{};

RunRecord Record() {
  Summary h;
  h.mode = "default";
  h.host_isolation = "no private memory in a default VM";
  return RunRecord(h, kT0);
}

TEST(RunRecord, GuestPassIsAPass) {
  RunRecord r = Record();
  r.Exit("io");
  r.Exit("io");
  r.Hello(kT0 + milliseconds(2));
  r.Hello(kT0 + milliseconds(9));  // only the first counts
  r.FillBegin(kT0 + milliseconds(10));
  r.FillEnd(kT0 + milliseconds(30), 1 << 20);
  r.Converted(false, false, 16 * 4096);
  r.Converted(false, true, 4096);
  r.Converted(true, false, 8192);
  r.RejectedHypercall();
  r.GuestMessage("hello");
  r.GuestDone();
  EXPECT_TRUE(r.finished());
  Summary s = r.Finish({true, 0, 0}, 10, 100, kT0 + milliseconds(50));
  EXPECT_TRUE(s.passed);
  EXPECT_EQ(s.verdict, "passed");
  EXPECT_EQ(s.exits["io"], 2u);
  EXPECT_DOUBLE_EQ(s.first_instruction_ms, 2);
  EXPECT_DOUBLE_EQ(s.fill_ms, 20);
  EXPECT_EQ(s.fill_bytes, 1u << 20);
  EXPECT_EQ(s.to_shared.requests, 1u);
  EXPECT_EQ(s.to_shared.pages, 16u);
  EXPECT_EQ(s.to_private.pages, 1u);
  EXPECT_EQ(s.implicit_to_shared.pages, 2u);
  EXPECT_EQ(s.rejected_hypercalls, 1u);
  EXPECT_EQ(s.pages_private, 10u);
  EXPECT_EQ(s.pages_shared, 90u);
  EXPECT_DOUBLE_EQ(s.total_ms, 50);
  EXPECT_EQ(s.guest_message, "hello");
  EXPECT_EQ(s.mode, "default");
}

TEST(RunRecord, HostProblemFailsAPassingGuest) {
  RunRecord r = Record();
  r.HostProblem("host read an unexpected message from shared memory");
  r.HostProblem("host could read private guest memory");  // the last one
  r.GuestDone();
  Summary s = r.Finish({true, 0, 0}, 0, 1, kT0);
  EXPECT_FALSE(s.passed);
  EXPECT_EQ(s.verdict, "host could read private guest memory");
}

TEST(RunRecord, StopWinsOverEverything) {
  RunRecord r = Record();
  r.HostProblem("x");
  r.Stop("guest halted without a verdict");
  EXPECT_TRUE(r.finished());
  Summary s = r.Finish({true, 0, 0}, 0, 1, kT0);
  EXPECT_FALSE(s.passed);
  EXPECT_EQ(s.verdict, "guest halted without a verdict");
  EXPECT_LT(s.first_instruction_ms, 0);  // never
}

TEST(RunRecord, GuestFailureNamesTheStep) {
  RunRecord r = Record();
  r.GuestDone();
  Summary s = r.Finish({false, 3, 0x1000}, 0, 1, kT0);
  EXPECT_FALSE(s.passed);
  EXPECT_EQ(s.verdict, "guest self-check failed at step 3 (detail 0x1000)");
}

}  // namespace
}  // namespace gmem
