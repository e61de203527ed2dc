#include "selftests/lib/hwpoison.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "selftests/lib/kvm.h"

namespace gmt {
namespace {

constexpr char kInject[] = "/sys/kernel/debug/hwpoison/corrupt-pfn";
// include/uapi/linux/kernel-page-flags.h
constexpr uint64_t kKpfBuddy = 1ULL << 10;
constexpr uint64_t kKpfUnevictable = 1ULL << 18;
constexpr uint64_t kKpfHwpoison = 1ULL << 19;

}  // namespace

std::string HwpoisonUnavailable() {
  if (access(kInject, W_OK) != 0) return std::string(kInject) + ": " + strerror(errno);
  if (access("/proc/kpageflags", R_OK) != 0)
    return std::string("/proc/kpageflags: ") + strerror(errno);
  Fd mem(open("/dev/mem", O_RDONLY | O_CLOEXEC));
  if (!mem.ok()) return std::string("/dev/mem: ") + strerror(errno);
  return "";
}

std::vector<uint64_t> FindPagesFilledWith(uint32_t value) {
  std::vector<uint64_t> found;
  Fd flags(open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
  Fd mem(open("/dev/mem", O_RDONLY | O_CLOEXEC));
  if (!flags.ok() || !mem.ok()) return found;
  uint32_t want[16];
  for (uint32_t& w : want) w = value;
  static uint64_t buf[8192];
  for (uint64_t pfn = 0;; ) {
    ssize_t n = pread(flags.get(), buf, sizeof(buf), pfn * 8);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n / 8; i++, pfn++) {
      uint64_t f = buf[i];
      if (!(f & kKpfUnevictable) || (f & (kKpfBuddy | kKpfHwpoison))) continue;
      uint32_t got[16];
      if (pread(mem.get(), got, sizeof(got), static_cast<off_t>(pfn << 12)) !=
          static_cast<ssize_t>(sizeof(got)))
        continue;
      if (memcmp(got, want, sizeof(got)) == 0) found.push_back(pfn);
    }
  }
  return found;
}

int InjectMemoryFailure(uint64_t pfn) {
  Fd f(open(kInject, O_WRONLY | O_CLOEXEC));
  if (!f.ok()) return -errno;
  char buf[32];
  int len = snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(pfn));
  if (write(f.get(), buf, len) != len) return -errno;
  return 0;
}

}  // namespace gmt
