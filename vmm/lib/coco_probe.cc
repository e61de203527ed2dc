#include "vmm/lib/coco_probe.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/uapi/kvm.h"
#include "vmm/lib/kvm_ioctl.h"
#include "vmm/lib/tdx.h"
#include "vmm/lib/unique_fd.h"

namespace gmem {

void ProbeConfidential(const KvmSystem& kvm, Capabilities* caps, const char* sev_path) {
  UniqueFd sev(::open(sev_path, O_RDWR | O_CLOEXEC));
  caps->sev_device = sev.valid();
  caps->sev_reason = sev.valid() ? "" : std::string(sev_path) + ": " + std::strerror(errno);

  caps->tdx_module = false;
  if (!caps->SupportsVmType(KVM_X86_TDX_VM)) {
    caps->tdx_reason = "KVM_X86_TDX_VM not in KVM_CAP_VM_TYPES";
    return;
  }
  RealKvmIoctl k(kvm.fd());
  if (long r = k.System(KVM_CREATE_VM, KVM_X86_TDX_VM); r < 0) {
    caps->tdx_reason = std::string("KVM_CREATE_VM(KVM_X86_TDX_VM): ") + std::strerror(-r);
    return;
  }
  auto buf = tdx::CapabilitiesBuffer(256);
  kvm_tdx_cmd cmd = tdx::Cmd(KVM_TDX_CAPABILITIES, 0, reinterpret_cast<uintptr_t>(buf.data()));
  if (long r = k.Vm(KVM_MEMORY_ENCRYPT_OP, reinterpret_cast<uintptr_t>(&cmd)); r < 0) {
    caps->tdx_reason = std::string("KVM_TDX_CAPABILITIES: ") + std::strerror(-r);
    return;
  }
  caps->tdx_module = true;
  caps->tdx_reason.clear();
}

}  // namespace gmem
