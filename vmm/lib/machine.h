// Builds a VM for a mode, loads the payload, runs the vCPU, services the
// exits, and returns what happened.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "vmm/lib/kvm_system.h"
#include "vmm/lib/options.h"
#include "vmm/lib/result.h"
#include "vmm/lib/summary.h"

namespace gmem {

struct RunConfig {
  Mode mode = Mode::kDefault;
  Backing backing = Backing::kGuestMemfd;
  uint64_t ram_size = 0;
  std::span<const uint8_t> payload_file;
  bool bench_only = false;
  uint64_t fill_limit = 0;  // bench: fill at most this much (0 = all)
  // Anonymous RAM in 4 KiB pages (MADV_NOHUGEPAGE): what guest_memfd, whose
  // folios are 4 KiB, is compared against.  Otherwise THP as configured.
  bool anon_small_pages = false;
  unsigned timeout_s = 120;
  HcChannel hypercall = HcChannel::kAuto;
  std::chrono::steady_clock::time_point t0;  // "time zero" for the summary
  std::function<void(const std::string&)> progress;  // may be empty
  std::function<void(const std::string&)> console;   // guest lines, may be empty
};

// kAuto resolved for this host: the port mailbox on a PVM host.
HcChannel ResolveHcChannel(HcChannel requested, Mode mode);
// Exit code 4 (unsupported) with the list of what the kernel lacks.
Status CheckModeSupported(const Capabilities& caps, Mode mode, Backing backing);
// Exit code 2 when the host cannot give ram_size (MemAvailable).
Status CheckHostMemory(uint64_t ram_size);
// Errors are host problems (or unsupported); a failing guest is a Summary
// with passed == false.
Result<Summary> RunGuest(const KvmSystem& kvm, const Capabilities& caps,
                         const RunConfig& cfg);

}  // namespace gmem
