// Pure: the 64-bit register state a vCPU is entered with (flat GDT,
// identity map), as KVM_SET_SREGS / KVM_SET_REGS take it.
#pragma once

#include <linux/kvm.h>

#include "vmm/lib/boot_image.h"

namespace gmem {

// sregs: KVM_GET_SREGS's result (what is not set here is kept).
void LongModeRegisters(const LongModeState& s, kvm_sregs* sregs, kvm_regs* regs);

}  // namespace gmem
