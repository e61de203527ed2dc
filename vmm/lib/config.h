// What to run: the domain types of a run, free of any command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "vmm/lib/payload.h"

namespace gmem {

// kSnp, kTdx: confidential VMs on AMD SEV-SNP / Intel TDX hardware
// (KVM_X86_SNP_VM, KVM_X86_TDX_VM), launched with upstream's ABI.
enum class Mode { kDefault, kSwProtected, kSnp, kTdx };
enum class Backing { kGuestMemfd, kAnonymous };
// How private<->shared conversions are done in a VM with private memory:
// in place inside guest_memfd (KVM_SET_MEMORY_ATTRIBUTES2 on the file, one
// copy of each page), or with the VM's attributes plus punching the side
// that is left (guest_memfd for private, anonymous memory for shared).
// kAuto: in place where the kernel offers it.
enum class Conversion { kAuto, kInPlace, kAttributes };
// How the guest issues KVM_HC_MAP_GPA_RANGE: the VMCALL/VMMCALL instruction
// (KVM_EXIT_HYPERCALL) or a boot-info mailbox and an I/O port.
enum class HcChannel { kAuto, kInstruction, kPort };

const char* ModeName(Mode m);        // "default", "sw-protected", "snp", "tdx"
const char* BackingName(Backing b);  // "guest_memfd", "anonymous"
const char* ConversionName(Conversion c);  // "auto", "in-place", "attributes"
unsigned VmType(Mode m);             // KVM_X86_DEFAULT_VM, KVM_X86_SW_PROTECTED_VM, ...
bool IsConfidential(Mode m);         // SNP or TDX: hardware-protected guest
const char* VmTypeName(Mode m);      // "KVM_X86_DEFAULT_VM", ...

using Sink = std::function<void(const std::string&)>;

struct RunConfig {
  Mode mode = Mode::kDefault;
  Backing backing = Backing::kGuestMemfd;
  Conversion conversion = Conversion::kAuto;
  uint64_t ram_size = 0;
  Payload payload;  // parsed and checked against the guest layout
  bool bench_only = false;  // fill and report, no conversions
  uint64_t fill_limit = 0;  // bench: fill at most this much (0 = all)
  // Anonymous RAM in 4 KiB pages (MADV_NOHUGEPAGE): what guest_memfd, whose
  // folios are 4 KiB, is compared against.  Otherwise THP as configured.
  bool anon_small_pages = false;
  unsigned timeout_s = 120;
  HcChannel hypercall = HcChannel::kAuto;
  std::chrono::steady_clock::time_point t0;  // "time zero" for the summary
  Sink progress;  // may be empty
  Sink console;   // guest lines, may be empty
};

}  // namespace gmem
