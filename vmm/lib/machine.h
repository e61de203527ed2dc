// One run: builds a VM for the configuration, loads the payload, runs the
// vCPU and returns what happened.  The parts live next door: guest_memory
// (RAM, memslot, conversions), boot_image, vcpu (typed exits), io_bus,
// guest_protocol (the guest's ports and hypercalls), run_record (Summary).
#pragma once

#include "vmm/lib/config.h"
#include "vmm/lib/kvm_system.h"
#include "vmm/lib/result.h"
#include "vmm/lib/summary.h"

namespace gmem {

// Errors are host problems, or refusals (kUnsupported, kInvalidArgument,
// kResourceExhausted); a failing guest is a Summary with passed == false.
// The caller has checked the mode against caps (CheckModeSupported).
Result<Summary> RunGuest(const KvmSystem& kvm, const Capabilities& caps,
                         const RunConfig& cfg);

}  // namespace gmem
