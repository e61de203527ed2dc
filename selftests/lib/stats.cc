#include "selftests/lib/stats.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstddef>
#include <vector>

#include "selftests/lib/kvm.h"

namespace gmt {
namespace {

// struct kvm_stats_desc as the kernel lays it out.  In C++, <linux/kvm.h>'s
// __DECLARE_FLEX_ARRAY adds an empty member that moves name[] and changes
// sizeof, so the header's struct cannot be used to walk descriptors.
struct StatsDesc {
  uint32_t flags;
  int16_t exponent;
  uint16_t size;
  uint32_t offset;
  uint32_t bucket_size;
  char name[];
};
static_assert(offsetof(StatsDesc, name) == 16);

}  // namespace

std::optional<uint64_t> ReadStat(int fd, const std::string& name) {
  long r = Ioctl(fd, KVM_GET_STATS_FD, 0UL);
  if (r < 0) return std::nullopt;
  UniqueFd stats(static_cast<int>(r));
  kvm_stats_header hdr;
  if (pread(stats.get(), &hdr, sizeof(hdr), 0) != static_cast<ssize_t>(sizeof(hdr)))
    return std::nullopt;
  const size_t desc_size = offsetof(StatsDesc, name) + hdr.name_size;
  std::vector<char> descs(desc_size * hdr.num_desc);
  if (pread(stats.get(), descs.data(), descs.size(), hdr.desc_offset) !=
      static_cast<ssize_t>(descs.size()))
    return std::nullopt;
  for (uint32_t i = 0; i < hdr.num_desc; i++) {
    const auto* d = reinterpret_cast<const StatsDesc*>(descs.data() + i * desc_size);
    if (name != d->name) continue;
    uint64_t value;
    if (pread(stats.get(), &value, sizeof(value), hdr.data_offset + d->offset) !=
        static_cast<ssize_t>(sizeof(value)))
      return std::nullopt;
    return value;
  }
  return std::nullopt;
}

}  // namespace gmt
