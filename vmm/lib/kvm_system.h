// /dev/kvm: open it, and probe what the running kernel offers.
#pragma once

#include <cstdint>
#include <string>

#include "vmm/lib/result.h"
#include "vmm/lib/unique_fd.h"

namespace gmem {

struct Capabilities {
  int api_version = 0;
  bool user_memory2 = false;
  bool guest_memfd = false;
  uint64_t guest_memfd_flags = 0;  // KVM_CAP_GUEST_MEMFD_FLAGS mask
  uint64_t vm_types = 0;           // KVM_CAP_VM_TYPES mask (bit per type)
  uint64_t memory_attributes = 0;  // supported attribute mask
  // KVM_SET_MEMORY_ATTRIBUTES2 on guest_memfd (in-place conversion)
  uint64_t gmem_memory_attributes = 0;
  uint64_t exit_hypercall = 0;     // hypercalls that can exit to userspace
  // Confidential hardware (lib/coco_probe): /dev/sev can be opened, and
  // KVM_TDX_CAPABILITIES answered on a TDX VM; otherwise why not.
  bool sev_device = false;
  std::string sev_reason;
  bool tdx_module = false;
  std::string tdx_reason;

  bool SupportsVmType(unsigned type) const {
    return type < 64 && (vm_types >> type) & 1;
  }
  std::string Describe() const;
};

class KvmSystem {
 public:
  static Result<KvmSystem> Open(const std::string& path = "/dev/kvm");

  int fd() const { return fd_.get(); }
  // KVM_CHECK_EXTENSION on /dev/kvm; negative results read as 0.
  int64_t Check(long cap) const;
  Capabilities Probe() const;
  Result<int> VcpuMmapSize() const;

 private:
  explicit KvmSystem(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace gmem
