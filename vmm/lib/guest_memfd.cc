#include "vmm/lib/guest_memfd.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm/lib/size.h"
#include "vmm/lib/vm.h"
#include "common/uapi/kvm.h"

namespace gmem {

Result<GuestMemfd> GuestMemfd::Create(const Vm& vm, uint64_t size,
                                      uint64_t flags) {
  kvm_create_guest_memfd args{};
  args.size = size;
  args.flags = flags;
  int fd = ::ioctl(vm.fd(), KVM_CREATE_GUEST_MEMFD, &args);
  if (fd < 0) {
    int err = errno;
    if (err == ENOTTY)
      return Error::Sys("KVM_CREATE_GUEST_MEMFD", err,
                        "this kernel has no guest_memfd", ErrorKind::kUnsupported);
    if (err == EINVAL && flags)
      return Error::Sys("KVM_CREATE_GUEST_MEMFD", err,
                        "the kernel rejected the flags or the size",
                        ErrorKind::kUnsupported);
    if (err == ENOMEM || err == ENOSPC)
      return Error::Sys("KVM_CREATE_GUEST_MEMFD", err,
                        "ask for less guest RAM", ErrorKind::kResourceExhausted);
    return Error::Sys("KVM_CREATE_GUEST_MEMFD", err);
  }
  return GuestMemfd(UniqueFd(fd), size);
}

Result<Mapping> GuestMemfd::Map() const {
  void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd_.get(), 0);
  if (p == MAP_FAILED)
    return Error::Sys("mmap(guest_memfd)", errno,
                      "the kernel needs GUEST_MEMFD_FLAG_MMAP support");
  return Mapping(p, size_);
}

Status GuestMemfd::PunchHole(uint64_t offset, uint64_t len) const {
  if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  static_cast<off_t>(offset), static_cast<off_t>(len)) < 0)
    return Error::Sys("fallocate(guest_memfd, PUNCH_HOLE)", errno);
  return Ok{};
}

Status GuestMemfd::SetAttributes(uint64_t offset, uint64_t len,
                                 uint64_t attributes,
                                 uint64_t* error_offset) const {
  kvm_memory_attributes2 a{};
  a.offset = offset;
  a.size = len;
  a.attributes = attributes;
  if (::ioctl(fd_.get(), KVM_SET_MEMORY_ATTRIBUTES2, &a) == 0) return Ok{};
  const int err = errno;
  if (err == EAGAIN && error_offset) *error_offset = a.error_offset;
  std::string op = "KVM_SET_MEMORY_ATTRIBUTES2(guest_memfd, " + Hex(offset) + "+" +
                   Hex(len) + (attributes ? ", private)" : ", shared)");
  if (err == EAGAIN)
    return Error::Sys(op + ": page at " + Hex(a.error_offset) + " is referenced", err,
                      "something holds the page (I/O, a pipe); release it");
  if (err == ENOTTY)
    return Error::Sys(op, err, "boot with kvm.gmem_in_place_conversion=1",
                      ErrorKind::kUnsupported);
  return Error::Sys(op, err);
}

}  // namespace gmem
