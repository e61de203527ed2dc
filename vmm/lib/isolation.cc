#include "vmm/lib/isolation.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vmm/guest/abi.h"
#include "vmm/lib/guest_memfd.h"

namespace gmem {

std::string HostIsolationCheck(const GuestMemfd& gmem, const uint8_t* shared,
                               uint64_t gpa, uint64_t seed, bool* isolated) {
  std::string out;
  *isolated = true;
  uint8_t buf[4096];
  ssize_t r = ::pread(gmem.fd(), buf, sizeof buf, static_cast<off_t>(gpa));
  if (r < 0) {
    out += std::string("read() of private range denied (") + strerrorname_np(errno) + ")";
  } else {
    out += "read() of private range SUCCEEDED";
    *isolated = false;
  }
  void* p = ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, gmem.fd(),
                   static_cast<off_t>(gpa));
  if (p == MAP_FAILED) {
    out += std::string(", mmap() denied (") + strerrorname_np(errno) + ")";
  } else {
    uint64_t v;
    std::memcpy(&v, p, 8);
    ::munmap(p, 4096);
    if (v == abi::FillPattern(gpa, seed)) {
      out += ", mmap() SHOWS GUEST DATA";
      *isolated = false;
    } else {
      out += ", mmap() allowed but no guest data visible";
    }
  }
  uint64_t v;
  std::memcpy(&v, shared + gpa, 8);  // gpa is page aligned
  if (v == abi::FillPattern(gpa, seed)) {
    out += ", shared view SHOWS GUEST DATA";
    *isolated = false;
  } else {
    out += ", shared view holds no guest data";
  }
  return out;
}

}  // namespace gmem
