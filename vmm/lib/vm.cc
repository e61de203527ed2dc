#include "vmm/lib/vm.h"

#include <sys/ioctl.h>

#include "common/uapi/kvm.h"

namespace gmem {
namespace {

const char* TypeName(unsigned type) {
  switch (type) {
    case KVM_X86_DEFAULT_VM: return "default";
    case KVM_X86_SW_PROTECTED_VM: return "sw-protected";
  }
  return "unknown";
}

}  // namespace

Result<Vm> Vm::Create(const KvmSystem& kvm, unsigned type) {
  int fd;
  do {
    fd = ::ioctl(kvm.fd(), KVM_CREATE_VM, type);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    if (err == EINVAL && type != KVM_X86_DEFAULT_VM)
      return Error::Sys(std::string("KVM_CREATE_VM(") + TypeName(type) + ")",
                        err, "this kernel does not offer that VM type",
                        ErrorKind::kUnsupported);
    return Error::Sys("KVM_CREATE_VM", err);
  }
  return Vm(UniqueFd(fd));
}

Status Vm::EnableCap(uint32_t cap, uint64_t arg0) const {
  kvm_enable_cap c{};
  c.cap = cap;
  c.args[0] = arg0;
  if (::ioctl(fd_.get(), KVM_ENABLE_CAP, &c) < 0)
    return Error::Sys("KVM_ENABLE_CAP(" + std::to_string(cap) + ")", errno);
  return Ok{};
}

Status Vm::SetMemoryAttributes(uint64_t gpa, uint64_t size,
                               uint64_t attrs) const {
  kvm_memory_attributes a{};
  a.address = gpa;
  a.size = size;
  a.attributes = attrs;
  while (::ioctl(fd_.get(), KVM_SET_MEMORY_ATTRIBUTES, &a) < 0) {
    if (errno == EAGAIN || errno == EINTR) continue;  // kernel asks to retry
    return Error::Sys("KVM_SET_MEMORY_ATTRIBUTES", errno,
                      errno == ENOTTY ? "this kernel has no memory attributes"
                                      : "");
  }
  return Ok{};
}

}  // namespace gmem
