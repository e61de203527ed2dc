// What the running host can do for a run: checked once, before any VM.
#pragma once

#include <cstdint>

#include "vmm/lib/config.h"
#include "vmm/lib/kvm_system.h"
#include "vmm/lib/result.h"

namespace gmem {

// kUnsupported with the list of what the kernel lacks.
Status CheckModeSupported(const Capabilities& caps, Mode mode, Backing backing);
// Whether the kernel converts memory in place inside guest_memfd for VMs
// with private memory (KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES, and
// INIT_SHARED for them).
bool InPlaceConversionSupported(const Capabilities& caps);
// The conversion scheme of a run: kAuto resolved (in place where
// supported), and a request for in place refused (kUnsupported) where it is
// not.  Modes without private memory convert nothing: kAttributes, unused.
Result<Conversion> ResolveConversion(const Capabilities& caps, Mode mode,
                                     Conversion requested);
// kResourceExhausted when the host cannot give ram_size (MemAvailable).
Status CheckHostMemory(uint64_t ram_size);
// kAuto resolved for this host: the port mailbox on a PVM host.
HcChannel ResolveHcChannel(HcChannel requested, Mode mode);

}  // namespace gmem
