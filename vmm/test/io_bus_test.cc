#include "vmm/lib/io_bus.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gmem {
namespace {

TEST(PortIoBus, DispatchesOutToTheRegisteredPort) {
  PortIoBus bus;
  std::string seen;
  bus.Register(0x511, [&](std::span<const uint8_t> d, uint8_t size) -> Status {
    for (size_t i = 0; i < d.size(); i += size) seen += static_cast<char>(d[i]);
    return Ok{};
  });
  std::vector<uint8_t> data = {'h', 'i'};
  EXPECT_TRUE(bus.Dispatch({0x511, false, 1, 2, data}).ok());
  EXPECT_EQ(seen, "hi");
  // Nobody at 0x80: ignored.
  EXPECT_TRUE(bus.Dispatch({0x80, false, 1, 2, data}).ok());
  EXPECT_EQ(seen, "hi");
}

TEST(PortIoBus, InReadsAllOnes) {
  PortIoBus bus;
  std::vector<uint8_t> data(8, 0);
  EXPECT_TRUE(bus.Dispatch({0x510, true, 4, 2, data}).ok());
  EXPECT_EQ(data, std::vector<uint8_t>(8, 0xff));
}

TEST(PortIoBus, HandlerErrorsComeBack) {
  PortIoBus bus;
  bus.Register(0x512, [](std::span<const uint8_t>, uint8_t) -> Status {
    return Error::Msg("boom", ErrorKind::kHostFailure);
  });
  uint8_t b = 0;
  auto s = bus.Dispatch({0x512, false, 1, 1, {&b, 1}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "boom");
}

}  // namespace
}  // namespace gmem
