// What confidential hardware the host offers, probed without launching
// anything: /dev/sev for SEV-SNP, KVM_TDX_CAPABILITIES on a throw-away TDX
// VM for TDX (only where KVM_CAP_VM_TYPES lists KVM_X86_TDX_VM).
#pragma once

#include "vmm/lib/kvm_system.h"

namespace gmem {

// Fills caps->sev_device/sev_reason and tdx_module/tdx_reason.
void ProbeConfidential(const KvmSystem& kvm, Capabilities* caps,
                       const char* sev_path = "/dev/sev");

}  // namespace gmem
