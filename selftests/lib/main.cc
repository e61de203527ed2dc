// main() for the ABI tests: GoogleTest, but with kselftest's exit codes so
// the harness can tell a skip from a pass: 0 when at least one test ran and
// none failed, 4 when every test skipped, 1 on any failure.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  if (rc != 0) return 1;
  const testing::UnitTest& u = *testing::UnitTest::GetInstance();
  if (u.test_to_run_count() > 0 && u.skipped_test_count() == u.test_to_run_count()) return 4;
  return 0;
}
