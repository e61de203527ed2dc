// The command line: gmem-vmm's options, parsed declaratively (CLI11), and
// turned into a RunConfig.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/lib/config.h"
#include "vmm/lib/result.h"

namespace gmem {

struct Options {
  Mode mode = Mode::kDefault;
  Backing backing = Backing::kGuestMemfd;
  Conversion conversion = Conversion::kAuto;
  uint64_t ram_size = 32ull << 20;
  std::string payload_path;  // empty: the embedded payload
  std::string kvm_path = "/dev/kvm";
  bool json = false;
  bool quiet = false;
  bool verbose = false;  // echo the guest console
  bool probe = false;    // print capabilities and exit
  bool bench = false;
  bool bench_metrics = false;  // --bench as gmem_bench's METRIC lines
  std::vector<uint64_t> bench_sizes = {1ull << 30, 4ull << 30};
  unsigned bench_reps = 3;
  uint64_t bench_fill = 0;  // 0: fill all of each guest's RAM
  unsigned timeout_s = 120;
  HcChannel hypercall = HcChannel::kAuto;
  bool help = false;
};

// args without argv[0].  Errors are kInvalidArgument.
Result<Options> ParseOptions(const std::vector<std::string>& args);
// Checks that do not need the kernel: RAM size 0, unaligned, too small,
// anonymous backing only for the default mode.
Status ValidateOptions(const Options& o);
std::string UsageText(const std::string& argv0);
// Validates o, reads and checks the payload (o.payload_path, else
// embedded), and fills everything of a run the command line decides.
// Callbacks and t0 are the caller's.
Result<RunConfig> ToRunConfig(const Options& o,
                              std::span<const uint8_t> embedded_payload);

}  // namespace gmem
