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

TEST(Summary, FootprintIsARatioOfRam) {
  Summary s = Sample();
  s.footprint_gmem_bytes = 48ull << 20;
  s.footprint_anon_bytes = 16ull << 20;
  s.footprint_how = "mincore";
  EXPECT_DOUBLE_EQ(FootprintRatio(s), 1.0);
  std::string t = FormatTable(s);
  EXPECT_NE(t.find("48 MiB guest_memfd (mincore) + 16 MiB anonymous = 1.000x RAM"),
            std::string::npos)
      << t;
  Json j = Json::parse(FormatJson(s));
  EXPECT_EQ(j["footprint"]["guest_memfd_bytes"], 48ull << 20);
  EXPECT_EQ(j["footprint"]["anonymous_bytes"], 16ull << 20);
  EXPECT_EQ(j["footprint"]["ratio_to_ram"], 1.0);
  s.ram_bytes = 0;
  EXPECT_EQ(FootprintRatio(s), 0.0);
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

TEST(Summary, JsonIsCompleteAndVersioned) {
  std::string text = FormatJson(Sample());
  Json j = Json::parse(text);
  EXPECT_EQ(j.begin().key(), "schema_version");
  EXPECT_EQ(j["schema_version"], kJsonSchemaVersion);
  EXPECT_EQ(j["passed"], true);
  EXPECT_EQ(j["verdict"], "passed");
  EXPECT_EQ(j["mode"], "default");
  EXPECT_EQ(j["ram_bytes"], 67108864u);
  EXPECT_EQ(j["pages_private"], 0u);
  EXPECT_EQ(j["pages_shared"], 16384u);
  EXPECT_EQ(j["conversions"]["to_shared"], (Json{{"requests", 3}, {"pages", 96}}));
  EXPECT_EQ(j["conversions"]["to_private"], (Json{{"requests", 2}, {"pages", 80}}));
  EXPECT_EQ(j["exits"], (Json{{"hlt", 1}, {"io", 190}}));
  EXPECT_EQ(j["first_instruction_ms"], 1.5);
  EXPECT_EQ(j["fill_gib_per_s"], 2.0);
  EXPECT_EQ(j["guest_message"], "say \"hi\"\n");
  EXPECT_EQ(j["hypercall_transport"], "port");
  EXPECT_NE(text.find("\"guest_message\": \"say \\\"hi\\\"\\n\""), std::string::npos)
      << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Summary, JsonSaysNullForNever) {
  Summary s = Sample();
  s.first_instruction_ms = -1;
  s.passed = false;
  s.verdict = "guest halted without a verdict";
  Json j = Json::parse(FormatJson(s));
  EXPECT_TRUE(j["first_instruction_ms"].is_null());
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["verdict"], "guest halted without a verdict");
  EXPECT_EQ(JsonMs(1.23456789), 1.235);
}

TEST(Summary, ThroughputWithoutFill) {
  Summary s;
  EXPECT_EQ(FillGiBps(s), 0);
}

}  // namespace
}  // namespace gmem
