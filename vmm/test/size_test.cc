#include "vmm/lib/size.h"

#include <gtest/gtest.h>

namespace gmem {
namespace {

TEST(Size, Parses) {
  EXPECT_EQ(ParseSize("4096").value(), 4096u);
  EXPECT_EQ(ParseSize("4K").value(), 4096u);
  EXPECT_EQ(ParseSize("64MiB").value(), 64ull << 20);
  EXPECT_EQ(ParseSize("2g").value(), 2ull << 30);
  EXPECT_EQ(ParseSize("1T").value(), 1ull << 40);
  EXPECT_EQ(ParseSize("0").value(), 0u);
}

TEST(Size, RefusesNonsense) {
  for (const char* s : {"", "-1M", "20000000000T", "12X", "M", "1 M",
                        "99999999999999999999"}) {
    auto r = ParseSize(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidArgument) << s;
  }
}

TEST(Size, Lists) {
  EXPECT_EQ(ParseSizeList("16M,2G").value(),
            (std::vector<uint64_t>{16ull << 20, 2ull << 30}));
  EXPECT_EQ(ParseSizeList("1G").value(), (std::vector<uint64_t>{1ull << 30}));
  EXPECT_FALSE(ParseSizeList("1G,").ok());
  EXPECT_FALSE(ParseSizeList(",1G").ok());
  EXPECT_FALSE(ParseSizeList("").ok());
}

TEST(Size, Formats) {
  EXPECT_EQ(FormatSize(64ull << 20), "64 MiB");
  EXPECT_EQ(FormatSize(4ull << 30), "4 GiB");
  EXPECT_EQ(FormatSize(1536), "1536 B");
  EXPECT_EQ(FormatSize(0), "0 B");
  EXPECT_EQ(Hex(0x100000), "0x100000");
  EXPECT_EQ(Hex(0), "0x0");
}

}  // namespace
}  // namespace gmem
