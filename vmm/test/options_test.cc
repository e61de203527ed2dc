#include "vmm/lib/options.h"

#include <gtest/gtest.h>

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
}

TEST(Options, RejectsBadInput) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--mode", "tdx"}, {"--ram"}, {"--ram", "lots"}, {"--ram", "12X"},
           {"--ram", "99999999999999999999"}, {"--frobnicate"}, {"extra"},
           {"--timeout", "0"}, {"--backing", "hugetlb"}, {"--hypercall", "x"},
           {"--bench-sizes", "1G,"}}) {
    auto o = Parse(args);
    ASSERT_FALSE(o.ok()) << args[0];
    EXPECT_EQ(o.error().code(), kExitUsage);
  }
}

TEST(Options, ValidatesRamSize) {
  Options o;
  o.ram_size = 0;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.ram_size = (64ull << 20) + 4096;  // unaligned
  auto r = ValidateOptions(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), kExitUsage);
  EXPECT_NE(r.error().message().find("2 MiB"), std::string::npos);
  o.ram_size = 4ull << 20;  // too small
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.ram_size = 8ull << 20;
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.mode = Mode::kSwProtected;
  o.backing = Backing::kAnonymous;
  EXPECT_FALSE(ValidateOptions(o).ok());
}

TEST(Options, Sizes) {
  EXPECT_EQ(ParseSize("4096").value(), 4096u);
  EXPECT_EQ(ParseSize("4K").value(), 4096u);
  EXPECT_EQ(ParseSize("64MiB").value(), 64ull << 20);
  EXPECT_EQ(ParseSize("2g").value(), 2ull << 30);
  EXPECT_FALSE(ParseSize("").ok());
  EXPECT_FALSE(ParseSize("-1M").ok());
  EXPECT_FALSE(ParseSize("20000000000T").ok());
  EXPECT_EQ(FormatSize(64ull << 20), "64 MiB");
  EXPECT_EQ(FormatSize(4ull << 30), "4 GiB");
  EXPECT_EQ(FormatSize(1536), "1536 B");
  EXPECT_EQ(FormatSize(0), "0 B");
}

TEST(Options, UsageMentionsModesAndExitCodes) {
  std::string u = UsageText("gmem-vmm");
  for (const char* s : {"--mode default", "--mode sw-protected", "--json",
                        "--bench", "--ram", "4 mode not supported"})
    EXPECT_NE(u.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace gmem
