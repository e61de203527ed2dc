// RunConfidentialGuest: --mode snp|tdx on hardware.  Launches the guest
// with lib/launch_snp or lib/launch_tdx, prints the measurement it expects,
// then runs it: MAP_GPA_RANGE exits (SNP page-state changes, TDX MapGPA)
// and memory faults convert with KVM_SET_MEMORY_ATTRIBUTES (+ punch-hole
// going shared), the verdict arrives as an SNP termination request or a
// TDX port write (guest/abi.h).  Never run on hardware yet (vmm/README.md).
#pragma once

#include "vmm/lib/config.h"
#include "vmm/lib/kvm_system.h"
#include "vmm/lib/result.h"

namespace gmem {

struct CocoSummary {
  bool passed = false;
  std::string verdict;       // "PASS" or why not
  std::string expected;      // hex: launch digest (SNP, pages only) / MRTD
  std::string expected_what;
  std::string reported;      // hex, as the guest read it from the firmware
                             // (TDX: TDG.MR.REPORT's MRTD); empty: none
  uint64_t to_private = 0, to_shared = 0;  // pages converted
  uint64_t exits = 0;
  std::string console;
};

Result<CocoSummary> RunConfidentialGuest(const KvmSystem& kvm, const RunConfig& cfg);
std::string FormatCocoSummary(const RunConfig& cfg, const CocoSummary& s);

}  // namespace gmem
