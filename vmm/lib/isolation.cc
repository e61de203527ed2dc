#include "vmm/lib/isolation.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vmm/guest/abi.h"
#include "vmm/lib/guest_memfd.h"
#include "vmm/lib/unique_fd.h"

namespace gmem {
namespace {

// Reads 8 bytes at |p| without risking a signal: guest_memfd refuses a
// private page with SIGBUS, which process_vm_readv() turns into EFAULT and
// a read of /proc/self/mem (for kernels without CROSS_MEMORY_ATTACH) into
// EIO.  Returns 0 or the errno.
int SafeRead8(const void* p, uint64_t* v) {
  iovec local{v, sizeof *v};
  iovec remote{const_cast<void*>(p), sizeof *v};
  ssize_t n = ::process_vm_readv(::getpid(), &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(sizeof *v)) return 0;
  if (n >= 0) return EFAULT;
  if (errno != ENOSYS) return errno;
  UniqueFd mem(::open("/proc/self/mem", O_RDONLY | O_CLOEXEC));
  if (!mem.valid()) return errno;
  n = ::pread(mem.get(), v, sizeof *v, static_cast<off_t>(reinterpret_cast<uintptr_t>(p)));
  if (n == static_cast<ssize_t>(sizeof *v)) return 0;
  return n < 0 ? errno : EFAULT;
}

}  // namespace

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
    uint64_t v = 0;
    const int err = SafeRead8(p, &v);
    ::munmap(p, 4096);
    if (err) {
      out += std::string(", mmap() allowed but the access faults (") +
             strerrorname_np(err) + ")";
    } else if (v == abi::FillPattern(gpa, seed)) {
      out += ", mmap() SHOWS GUEST DATA";
      *isolated = false;
    } else {
      out += ", mmap() allowed but no guest data visible";
    }
  }
  uint64_t v = 0;
  const int err = SafeRead8(shared + gpa, &v);  // gpa is page aligned
  if (err) {
    out += std::string(", shared view faults there (") + strerrorname_np(err) + ")";
  } else if (v == abi::FillPattern(gpa, seed)) {
    out += ", shared view SHOWS GUEST DATA";
    *isolated = false;
  } else {
    out += ", shared view holds no guest data";
  }
  return out;
}

}  // namespace gmem
