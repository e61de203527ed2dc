// Pure: command-line parsing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/lib/result.h"

namespace gmem {

enum class Mode { kDefault, kSwProtected };
enum class Backing { kGuestMemfd, kAnonymous };
// How the guest issues KVM_HC_MAP_GPA_RANGE: the VMCALL/VMMCALL instruction
// (KVM_EXIT_HYPERCALL) or a boot-info mailbox and an I/O port.
enum class HcChannel { kAuto, kInstruction, kPort };

struct Options {
  Mode mode = Mode::kDefault;
  Backing backing = Backing::kGuestMemfd;
  uint64_t ram_size = 32ull << 20;
  std::string payload_path;  // empty: the embedded payload
  std::string kvm_path = "/dev/kvm";
  bool json = false;
  bool quiet = false;
  bool verbose = false;  // echo the guest console
  bool probe = false;    // print capabilities and exit
  bool bench = false;
  std::vector<uint64_t> bench_sizes = {1ull << 30, 4ull << 30};
  unsigned bench_reps = 3;
  uint64_t bench_fill = 0;  // 0: fill all of each guest's RAM
  unsigned timeout_s = 120;
  HcChannel hypercall = HcChannel::kAuto;
  bool help = false;
};

// "64M", "1G", "4096K", "2097152" -> bytes.  Rejects 0 only via the caller.
Result<uint64_t> ParseSize(const std::string& s);
std::string FormatSize(uint64_t bytes);  // "64 MiB", "1 GiB", "3 KiB", "17 B"
Result<Options> ParseOptions(const std::vector<std::string>& args);
// Checks that do not need the kernel: RAM size 0, unaligned, too small,
// anonymous backing only for the default mode.
Status ValidateOptions(const Options& o);
std::string UsageText(const std::string& argv0);
const char* ModeName(Mode m);
const char* BackingName(Backing b);
const char* HcChannelName(HcChannel c);

}  // namespace gmem
