#include "selftests/lib/uffd.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>

namespace gmt {

UserfaultRegion::UserfaultRegion(size_t len)
    : map_(Mapping::Map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
  if (!map_.valid()) {
    error_ = std::string("mmap: ") + strerror(errno);
    return;
  }
  uffd_.reset(static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));
  if (!uffd_.valid()) {
    error_ = std::string("userfaultfd: ") + strerror(errno);
    return;
  }
  uffdio_api api = {};
  api.api = UFFD_API;
  if (ioctl(uffd_.get(), UFFDIO_API, &api) < 0) {
    error_ = std::string("UFFDIO_API: ") + strerror(errno);
    return;
  }
  uffdio_register reg = {};
  reg.range.start = reinterpret_cast<uint64_t>(map_.data());
  reg.range.len = len;
  reg.mode = UFFDIO_REGISTER_MODE_MISSING;
  if (ioctl(uffd_.get(), UFFDIO_REGISTER, &reg) < 0)
    error_ = std::string("UFFDIO_REGISTER: ") + strerror(errno);
}

uint64_t UserfaultRegion::WaitFault(int ms) {
  pollfd p = {uffd_.get(), POLLIN, 0};
  if (poll(&p, 1, ms) <= 0) return 0;
  uffd_msg msg;
  if (read(uffd_.get(), &msg, sizeof(msg)) != static_cast<ssize_t>(sizeof(msg))) return 0;
  if (msg.event != UFFD_EVENT_PAGEFAULT) return 0;
  return msg.arg.pagefault.address;
}

int UserfaultRegion::Resolve(size_t offset) {
  uffdio_zeropage z = {};
  z.range.start = reinterpret_cast<uint64_t>(map_.data()) + (offset & ~4095UL);
  z.range.len = 4096;
  if (ioctl(uffd_.get(), UFFDIO_ZEROPAGE, &z) < 0 && errno != EEXIST) return -errno;
  return 0;
}

}  // namespace gmt
