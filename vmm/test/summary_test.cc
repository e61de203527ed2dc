#include "vmm/lib/summary.h"

#include <gtest/gtest.h>

namespace gmem {
namespace {

Summary Sample() {
  Summary s;
  s.mode = "default";
  s.vm_type = "KVM_X86_DEFAULT_VM";
  s.backing = "guest_memfd";
  s.conversion = "shared-only";
  s.hypercall = "port";
  s.ram_bytes = 64ull << 20;
  s.pages_shared = 16384;
  s.to_shared = {3, 96};
  s.to_private = {2, 80};
  s.exits = {{"io", 190}, {"hlt", 1}};
  s.first_instruction_ms = 1.5;
  s.total_ms = 1000;
  s.fill_bytes = 1ull << 30;
  s.fill_ms = 500;
  s.guest_message = "say \"hi\"\n";
  s.host_isolation = "n/a";
  s.passed = true;
  s.verdict = "passed";
  return s;
}

TEST(Summary, TableHasEveryRow) {
  std::string t = FormatTable(Sample());
  for (const char* s :
       {"| verdict ", "PASS", "KVM_X86_DEFAULT_VM", "64 MiB",
        "pages private at exit       | 0", "pages shared at exit        | 16384",
        "to shared (MAP_GPA_RANGE)   | 3 requests, 96 pages",
        "to private (MAP_GPA_RANGE)  | 2 requests, 80 pages", "hlt=1, io=190",
        "1.500 ms", "2048.0 MiB/s", "1000.0 ms"})
    EXPECT_NE(t.find(s), std::string::npos) << s << "\n" << t;
}

TEST(Summary, TableShowsFailure) {
  Summary s = Sample();
  s.passed = false;
  s.verdict = "guest self-check failed at step 2";
  s.first_instruction_ms = -1;
  std::string t = FormatTable(s);
  EXPECT_NE(t.find("FAIL: guest self-check failed at step 2"), std::string::npos);
  EXPECT_NE(t.find("never"), std::string::npos);
}

TEST(Summary, JsonIsCompleteAndEscaped) {
  std::string j = FormatJson(Sample());
  for (const char* s :
       {"\"passed\": true", "\"mode\": \"default\"", "\"ram_bytes\": 67108864",
        "\"pages_private\": 0", "\"pages_shared\": 16384",
        "\"to_shared\": {\"requests\": 3, \"pages\": 96}",
        "\"exits\": {\"hlt\": 1, \"io\": 190}", "\"first_instruction_ms\": 1.500",
        "\"fill_gib_per_s\": 2.000", "\"guest_message\": \"say \\\"hi\\\"\\n\"",
        "\"hypercall_transport\": \"port\""})
    EXPECT_NE(j.find(s), std::string::npos) << s << "\n" << j;
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j[j.size() - 2], '}');
}

TEST(Summary, JsonEscapeControlCharacters) {
  EXPECT_EQ(JsonEscape(std::string("a\x01" "b\\", 4)), "a\\u0001b\\\\");
}

TEST(Summary, ThroughputWithoutFill) {
  Summary s;
  EXPECT_EQ(FillGiBps(s), 0);
}

}  // namespace
}  // namespace gmem
