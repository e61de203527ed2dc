#include "selftests/lib/hwpoison.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "selftests/lib/kvm.h"

namespace gmt {
namespace {

constexpr char kInject[] = "/sys/kernel/debug/hwpoison/corrupt-pfn";
// include/uapi/linux/kernel-page-flags.h
constexpr uint64_t kKpfUptodate = 1ULL << 3;
constexpr uint64_t kKpfLru = 1ULL << 5;
constexpr uint64_t kKpfUnevictable = 1ULL << 18;
constexpr uint64_t kKpfSlab = 1ULL << 7;
constexpr uint64_t kKpfBuddy = 1ULL << 10;
constexpr uint64_t kKpfMmap = 1ULL << 11;
constexpr uint64_t kKpfAnon = 1ULL << 12;
constexpr uint64_t kKpfSwapbacked = 1ULL << 14;
constexpr uint64_t kKpfHwpoison = 1ULL << 19;
constexpr uint64_t kKpfNopage = 1ULL << 20;
constexpr uint64_t kNotGmem = kKpfSlab | kKpfBuddy | kKpfMmap | kKpfAnon | kKpfSwapbacked |
                              kKpfHwpoison | kKpfNopage;

}  // namespace

std::string HwpoisonUnavailable() {
  if (access(kInject, W_OK) != 0) return std::string(kInject) + ": " + strerror(errno);
  if (access("/proc/kpageflags", R_OK) != 0)
    return std::string("/proc/kpageflags: ") + strerror(errno);
  UniqueFd mem(open("/dev/mem", O_RDONLY | O_CLOEXEC));
  if (!mem.valid()) return std::string("/dev/mem: ") + strerror(errno);
  return "";
}

std::vector<uint64_t> FindPagesFilledWith(uint32_t value, const std::atomic<bool>* stop) {
  return FindPagesFilledWithIn(value, 0, ~0ULL, stop, nullptr);
}

std::vector<uint64_t> FindPagesFilledWithIn(uint32_t value, uint64_t first, uint64_t count,
                                            const std::atomic<bool>* stop,
                                            std::vector<uint64_t>* candidates) {
  std::vector<uint64_t> found;
  UniqueFd flags(open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
  UniqueFd mem(open("/dev/mem", O_RDONLY | O_CLOEXEC));
  if (!flags.valid() || !mem.valid()) return found;
  uint32_t want[16];
  for (uint32_t& w : want) w = value;
  static thread_local uint64_t buf[8192];
  const uint64_t end = count > ~0ULL - first ? ~0ULL : first + count;
  for (uint64_t pfn = first; pfn < end;) {
    if (stop && stop->load(std::memory_order_relaxed)) break;
    const uint64_t want_bytes = std::min<uint64_t>(sizeof(buf) / 8, end - pfn) * 8;
    ssize_t n = pread(flags.get(), buf, want_bytes, static_cast<off_t>(pfn * 8));
    if (n <= 0) break;
    for (ssize_t i = 0; i < n / 8; i++, pfn++) {
      uint64_t f = buf[i];
      // guest_memfd's mapping is unevictable: its pages are on the
      // unevictable LRU, or not on any LRU yet (still in a per-CPU batch).
      if (!(f & kKpfUptodate) || (f & kNotGmem)) continue;
      if ((f & kKpfLru) && !(f & kKpfUnevictable)) continue;
      if (candidates) candidates->push_back(pfn);
      uint32_t got[16];
      if (pread(mem.get(), got, sizeof(got), static_cast<off_t>(pfn << 12)) !=
          static_cast<ssize_t>(sizeof(got)))
        continue;
      if (memcmp(got, want, sizeof(got)) == 0) found.push_back(pfn);
    }
  }
  return found;
}

bool PageFilledWith(uint64_t pfn, uint32_t value) {
  UniqueFd mem(open("/dev/mem", O_RDONLY | O_CLOEXEC));
  static thread_local uint32_t got[4096 / 4];
  if (!mem.valid() || pread(mem.get(), got, sizeof(got), static_cast<off_t>(pfn << 12)) !=
                          static_cast<ssize_t>(sizeof(got)))
    return false;
  for (uint32_t w : got)
    if (w != value) return false;
  return true;
}

uint64_t PageFlags(uint64_t pfn) {
  UniqueFd flags(open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
  uint64_t f;
  if (!flags.valid() || pread(flags.get(), &f, sizeof(f), pfn * 8) != sizeof(f)) return ~0ULL;
  return f;
}

bool PagePoisoned(uint64_t pfn) { return PageFlags(pfn) & kKpfHwpoison; }

int InjectMemoryFailure(uint64_t pfn) {
  UniqueFd f(open(kInject, O_WRONLY | O_CLOEXEC));
  if (!f.valid()) return -errno;
  char buf[32];
  int len = snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(pfn));
  if (write(f.get(), buf, len) != len) return -errno;
  return 0;
}

}  // namespace gmt
