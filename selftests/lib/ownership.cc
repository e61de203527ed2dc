#include "selftests/lib/ownership.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "selftests/lib/kvm.h"

namespace gmt {
namespace {

constexpr char kParam[] = "/sys/module/kvm/parameters/sw_protected_unmap_private";
constexpr uint64_t kPagemapPresent = 1ULL << 63;
constexpr uint64_t kPagemapPfnMask = (1ULL << 55) - 1;

}  // namespace

int SwOwnership() {
  UniqueFd f(open(kParam, O_RDONLY | O_CLOEXEC));
  if (!f.valid()) return -errno;
  char c = 0;
  if (read(f.get(), &c, 1) != 1) return -EIO;
  return c == 'Y' || c == '1';
}

int SetSwOwnership(bool on) {
  UniqueFd f(open(kParam, O_WRONLY | O_CLOEXEC));
  if (!f.valid()) return -errno;
  const char c = on ? 'Y' : 'N';
  if (write(f.get(), &c, 1) != 1) return -errno;
  return 0;
}

SwOwnershipScope::SwOwnershipScope(bool on) : saved_(SwOwnership()) {
  if (saved_ >= 0 && saved_ != static_cast<int>(on)) SetSwOwnership(on);
}

SwOwnershipScope::~SwOwnershipScope() {
  if (saved_ >= 0) SetSwOwnership(saved_ != 0);
}

uint64_t PfnOf(const void* addr) {
  UniqueFd f(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (!f.valid()) return static_cast<uint64_t>(-errno);
  const uint64_t vpn = reinterpret_cast<uintptr_t>(addr) / 4096;
  uint64_t e = 0;
  if (pread(f.get(), &e, sizeof(e), static_cast<off_t>(vpn * sizeof(e))) != sizeof(e))
    return static_cast<uint64_t>(-EIO);
  return (e & kPagemapPresent) ? (e & kPagemapPfnMask) : 0;
}

int ReadPhysPage(uint64_t pfn, void* buf) {
  UniqueFd mem(open("/dev/mem", O_RDONLY | O_CLOEXEC));
  if (!mem.valid()) return -errno;
  ssize_t n = pread(mem.get(), buf, 4096, static_cast<off_t>(pfn << 12));
  if (n < 0) return -errno;
  return n == 4096 ? 0 : -EIO;
}

namespace {
constexpr char kPrepareAhead[] = "/sys/module/kvm/parameters/sw_protected_prepare_ahead";
}  // namespace

PrepareAheadScope::PrepareAheadScope(unsigned pages) {
  UniqueFd fd(open(kPrepareAhead, O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return;
  char buf[16] = {};
  if (read(fd.get(), buf, sizeof(buf) - 1) <= 0) return;
  saved_ = buf;
  std::string v = std::to_string(pages);
  ok_ = pwrite(fd.get(), v.data(), v.size(), 0) == static_cast<ssize_t>(v.size());
}

PrepareAheadScope::~PrepareAheadScope() {
  if (saved_.empty()) return;
  UniqueFd fd(open(kPrepareAhead, O_WRONLY | O_CLOEXEC));
  if (fd.valid() && write(fd.get(), saved_.data(), saved_.size()) < 0) return;
}

}  // namespace gmt
