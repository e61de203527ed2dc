// --bench: guest_memfd vs anonymous memory, time to first instruction and
// guest fill throughput, per guest size.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "vmm/lib/kvm_system.h"
#include "vmm/lib/options.h"
#include "vmm/lib/result.h"

namespace gmem {

Result<std::string> RunBench(const KvmSystem& kvm, const Capabilities& caps,
                             const Options& o, std::span<const uint8_t> payload,
                             const std::function<void(const std::string&)>& progress);

}  // namespace gmem
