// What the running host can do for a run: checked once, before any VM.
#pragma once

#include <cstdint>

#include "vmm/lib/config.h"
#include "vmm/lib/kvm_system.h"
#include "vmm/lib/result.h"

namespace gmem {

// kUnsupported with the list of what the kernel lacks.
Status CheckModeSupported(const Capabilities& caps, Mode mode, Backing backing);
// kResourceExhausted when the host cannot give ram_size (MemAvailable).
Status CheckHostMemory(uint64_t ram_size);
// kAuto resolved for this host: the port mailbox on a PVM host.
HcChannel ResolveHcChannel(HcChannel requested, Mode mode);

}  // namespace gmem
