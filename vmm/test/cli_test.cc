#include "vmm/lib/cli.h"

#include <gtest/gtest.h>

#include "vmm/guest/abi.h"
#include "vmm/lib/embedded_payload.h"

namespace gmem {
namespace {

Result<Options> Parse(std::vector<std::string> a) { return ParseOptions(a); }

TEST(Options, Defaults) {
  auto o = Parse({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.value().mode, Mode::kDefault);
  EXPECT_EQ(o.value().backing, Backing::kGuestMemfd);
  EXPECT_EQ(o.value().ram_size, 32ull << 20);
  EXPECT_FALSE(o.value().json);
  EXPECT_TRUE(ValidateOptions(o.value()).ok());
}

TEST(Options, ParsesEverything) {
  auto o = Parse({"--mode", "sw-protected", "--ram=1G", "--json", "-q", "-v",
                  "--payload", "/tmp/p", "--timeout", "5", "--kvm", "/dev/x",
                  "--hypercall", "port"});
  ASSERT_TRUE(o.ok()) << o.error().What();
  EXPECT_EQ(o.value().mode, Mode::kSwProtected);
  EXPECT_EQ(o.value().ram_size, 1ull << 30);
  EXPECT_TRUE(o.value().json && o.value().quiet && o.value().verbose);
  EXPECT_EQ(o.value().payload_path, "/tmp/p");
  EXPECT_EQ(o.value().timeout_s, 5u);
  EXPECT_EQ(o.value().kvm_path, "/dev/x");
  EXPECT_EQ(o.value().hypercall, HcChannel::kPort);
  auto b = Parse({"--bench", "--bench-sizes", "16M,2G", "--backing", "anon"});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b.value().bench);
  EXPECT_EQ(b.value().bench_sizes, (std::vector<uint64_t>{16ull << 20, 2ull << 30}));
  EXPECT_EQ(b.value().backing, Backing::kAnonymous);
  EXPECT_TRUE(Parse({"--help"}).value().help);
  EXPECT_TRUE(Parse({"-h"}).value().help);
}

TEST(Options, AcceptsEveryExistingSpelling) {
  // As scripts/, harness/ and the e2e test write them.
  auto o = Parse({"--mode=default", "--ram", "64M", "--backing=gmem",
                  "--hypercall", "insn", "--bench-fill=16M", "--bench-reps=2",
                  "--quiet", "--verbose", "--probe", "--timeout=10"});
  ASSERT_TRUE(o.ok()) << o.error().What();
  EXPECT_EQ(o.value().ram_size, 64ull << 20);
  EXPECT_EQ(o.value().backing, Backing::kGuestMemfd);
  EXPECT_EQ(o.value().hypercall, HcChannel::kInstruction);
  EXPECT_EQ(o.value().bench_fill, 16ull << 20);
  EXPECT_EQ(o.value().bench_reps, 2u);
  EXPECT_TRUE(o.value().quiet && o.value().verbose && o.value().probe);
  for (const char* b : {"guest_memfd", "anonymous", "anon"})
    EXPECT_TRUE(Parse({"--backing", b}).ok()) << b;
  EXPECT_EQ(Parse({"--hypercall", "instruction"}).value().hypercall,
            HcChannel::kInstruction);
  // The last of a repeated option wins, as before.
  EXPECT_EQ(Parse({"--ram", "16M", "--ram", "8M"}).value().ram_size, 8ull << 20);
}

TEST(Options, ConversionIsForSwProtected) {
  auto o = Parse({"--mode", "sw-protected", "--conversion", "in-place"});
  ASSERT_TRUE(o.ok()) << o.error().What();
  EXPECT_EQ(o.value().conversion, Conversion::kInPlace);
  EXPECT_TRUE(ValidateOptions(o.value()).ok());
  EXPECT_EQ(Parse({"--conversion", "attributes"}).value().conversion, Conversion::kAttributes);
  EXPECT_EQ(Parse({}).value().conversion, Conversion::kAuto);
  EXPECT_FALSE(Parse({"--conversion", "sideways"}).ok());
  auto d = Parse({"--mode", "default", "--conversion", "in-place"});
  ASSERT_TRUE(d.ok());
  auto v = ValidateOptions(d.value());
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().kind(), ErrorKind::kInvalidArgument);
}

TEST(Options, ErrorsAreOneLine) {
  auto o = Parse({"--bogus"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().What().find('\n'), std::string::npos) << o.error().What();
}

TEST(ToRunConfig, CopiesTheRunAndParsesThePayloadOnce) {
  Options o;
  o.mode = Mode::kDefault;
  o.ram_size = 16ull << 20;
  o.timeout_s = 7;
  o.hypercall = HcChannel::kPort;
  o.bench_fill = 2ull << 20;
  auto c = ToRunConfig(o, EmbeddedPayload());
  ASSERT_TRUE(c.ok()) << c.error().What();
  EXPECT_EQ(c.value().ram_size, 16ull << 20);
  EXPECT_EQ(c.value().timeout_s, 7u);
  EXPECT_EQ(c.value().hypercall, HcChannel::kPort);
  EXPECT_EQ(c.value().fill_limit, 2ull << 20);
  EXPECT_FALSE(c.value().bench_only);
  EXPECT_EQ(c.value().payload.load_gpa, abi::kPayloadGpa);
  EXPECT_FALSE(c.value().payload.image.empty());
}

TEST(ToRunConfig, RefusesBadInputBeforeAnyKvm) {
  Options o;
  o.ram_size = 9ull << 20;  // unaligned
  auto c = ToRunConfig(o, EmbeddedPayload());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind(), ErrorKind::kInvalidArgument);
  o.ram_size = 16ull << 20;
  o.payload_path = "/nonexistent/payload";
  c = ToRunConfig(o, EmbeddedPayload());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind(), ErrorKind::kInvalidArgument);
  const uint8_t junk[16] = {};
  c = ToRunConfig(Options{}, junk);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().kind(), ErrorKind::kInvalidArgument);
}

TEST(Options, RejectsBadInput) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--mode", "sev"}, {"--ram"}, {"--ram", "lots"}, {"--ram", "12X"},
           {"--ram", "99999999999999999999"}, {"--frobnicate"}, {"extra"},
           {"--timeout", "0"}, {"--backing", "hugetlb"}, {"--hypercall", "x"},
           {"--bench-sizes", "1G,"}, {"--bench-reps", "101"},
           {"--bench-fill", "1Q"}, {"--mode", "0"}, {"--mode", "1"}, {"--mode", "2"}, {"--mode", "3"}}) {
    auto o = Parse(args);
    ASSERT_FALSE(o.ok()) << args[0];
    EXPECT_EQ(o.error().kind(), ErrorKind::kInvalidArgument);
  }
}

TEST(Options, ValidatesRamSize) {
  Options o;
  o.ram_size = 0;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.ram_size = (64ull << 20) + 4096;  // unaligned
  auto r = ValidateOptions(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(r.error().message().find("2 MiB"), std::string::npos);
  o.ram_size = 4ull << 20;  // too small
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.ram_size = 8ull << 20;
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.mode = Mode::kSwProtected;
  o.backing = Backing::kAnonymous;
  EXPECT_FALSE(ValidateOptions(o).ok());
}

TEST(Options, UsageMentionsModesAndExitCodes) {
  std::string u = UsageText("gmem-vmm");
  for (const char* s : {"--mode default", "--mode sw-protected", "--json",
                        "--bench", "--ram", "schema_version", "4 mode not supported"})
    EXPECT_NE(u.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace gmem
