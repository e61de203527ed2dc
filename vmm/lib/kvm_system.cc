#include "vmm/lib/kvm_system.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cstdio>

#include "common/uapi/kvm.h"
#include "vmm/lib/coco_probe.h"

namespace gmem {

Result<KvmSystem> KvmSystem::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENODEV || err == ENXIO)
      return Error::Sys("open " + path, err,
                        "KVM is not available: load kvm_intel/kvm_amd or "
                        "enable virtualization",
                        ErrorKind::kUnsupported);
    if (err == EACCES || err == EPERM)
      return Error::Sys("open " + path, err,
                        "run as root or add yourself to the 'kvm' group",
                        ErrorKind::kHostFailure);
    return Error::Sys("open " + path, err);
  }
  KvmSystem sys{UniqueFd(fd)};
  int v = ::ioctl(fd, KVM_GET_API_VERSION, 0);
  if (v != KVM_API_VERSION)
    return Error::Msg(path + ": KVM API version " + std::to_string(v) +
                      ", expected " + std::to_string(KVM_API_VERSION),
                      ErrorKind::kUnsupported);
  return sys;
}

int64_t KvmSystem::Check(long cap) const {
  int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
  return r < 0 ? 0 : r;
}

Capabilities KvmSystem::Probe() const {
  Capabilities c;
  c.api_version = ::ioctl(fd_.get(), KVM_GET_API_VERSION, 0);
  c.user_memory2 = Check(KVM_CAP_USER_MEMORY2) > 0;
  c.guest_memfd = Check(KVM_CAP_GUEST_MEMFD) > 0;
  c.guest_memfd_flags = static_cast<uint64_t>(Check(KVM_CAP_GUEST_MEMFD_FLAGS));
  c.vm_types = static_cast<uint64_t>(Check(KVM_CAP_VM_TYPES));
  if (c.vm_types == 0) c.vm_types = 1u << KVM_X86_DEFAULT_VM;  // pre-6.8
  c.memory_attributes = static_cast<uint64_t>(Check(KVM_CAP_MEMORY_ATTRIBUTES));
  c.exit_hypercall = static_cast<uint64_t>(Check(KVM_CAP_EXIT_HYPERCALL));
  c.gmem_memory_attributes =
      static_cast<uint64_t>(Check(KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES));
  ProbeConfidential(*this, &c);
  return c;
}

Result<int> KvmSystem::VcpuMmapSize() const {
  int r = ::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (r <= 0) return Error::Sys("KVM_GET_VCPU_MMAP_SIZE", errno);
  return r;
}

std::string Capabilities::Describe() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "user_memory2=%d guest_memfd=%d guest_memfd_flags=0x%llx "
                "vm_types=0x%llx memory_attributes=0x%llx "
                "exit_hypercall=0x%llx gmem_memory_attributes=0x%llx",
                user_memory2, guest_memfd,
                static_cast<unsigned long long>(guest_memfd_flags),
                static_cast<unsigned long long>(vm_types),
                static_cast<unsigned long long>(memory_attributes),
                static_cast<unsigned long long>(exit_hypercall),
                static_cast<unsigned long long>(gmem_memory_attributes));
  return buf;
}

}  // namespace gmem
