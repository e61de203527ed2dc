#include "vmm/bench.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "vmm/lib/machine.h"
#include "vmm/lib/summary.h"

namespace gmem {

Result<std::string> RunBench(const KvmSystem& kvm, const Capabilities& caps,
                             const Options& o, std::span<const uint8_t> payload,
                             const std::function<void(const std::string&)>& progress) {
  // guest_memfd side: shared guest_memfd in a default VM where the kernel
  // can mmap it (6.18+), else private guest_memfd in a SW-protected VM (our
  // 6.1 series).  The anonymous side is always a default VM.
  Mode gmem_mode = Mode::kDefault;
  if (!CheckModeSupported(caps, Mode::kDefault, Backing::kGuestMemfd).ok()) {
    gmem_mode = Mode::kSwProtected;
    GMEM_TRY_CTX(CheckModeSupported(caps, gmem_mode, Backing::kGuestMemfd),
                 "benchmark: neither shared nor private guest_memfd available");
  }
  char line[256];
  std::string out =
      std::string("gmem-vmm benchmark (guest_memfd: ") +
      (gmem_mode == Mode::kDefault ? "shared, default VM"
                                   : "private, SW-protected VM") +
      "; anonymous: default VM; one vCPU; fill = guest writes " +
      (o.bench_fill ? "the first " + FormatSize(o.bench_fill) + " of RAM above 4 MiB"
                    : std::string("all RAM above 4 MiB")) +
      " once with rep stosq; median of " + std::to_string(o.bench_reps) +
      " runs)\n";
  std::snprintf(line, sizeof line, "%-8s %-12s %14s %12s %14s\n", "RAM",
                "backing", "first insn ms", "filled", "fill MiB/s");
  out += line;
  std::string ratios = "ratios gmem/anonymous:\n";
  for (uint64_t size : o.bench_sizes) {
    if (Status s = CheckHostMemory(size); !s.ok()) {
      out += FormatSize(size) + ": skipped, " + s.error().message() + "\n";
      continue;
    }
    struct Median {
      double first_ms, mibps;
      uint64_t filled;
    } res[3];
    // guest_memfd, anonymous in 4 KiB pages (guest_memfd's folio size),
    // anonymous with THP as the kernel has it.
    static const char* const kNames[] = {"gmem", "anon-4k", "anon-thp"};
    for (int i = 0; i < 3; i++) {
      Backing b = i == 0 ? Backing::kGuestMemfd : Backing::kAnonymous;
      if (progress) progress("bench: " + FormatSize(size) + " " + kNames[i]);
      RunConfig cfg;
      cfg.anon_small_pages = i == 1;
      cfg.mode = b == Backing::kGuestMemfd ? gmem_mode : Mode::kDefault;
      cfg.backing = b;
      cfg.ram_size = size;
      cfg.payload_file = payload;
      cfg.bench_only = true;
      cfg.fill_limit = o.bench_fill;
      cfg.timeout_s = o.timeout_s;
      cfg.hypercall = o.hypercall;
      cfg.t0 = std::chrono::steady_clock::now();
      std::vector<double> first, rate;
      uint64_t filled = 0;
      for (unsigned rep = 0; rep < o.bench_reps; rep++) {
        cfg.t0 = std::chrono::steady_clock::now();
        Summary r = GMEM_TRY_CTX(RunGuest(kvm, caps, cfg), "benchmark run");
        if (!r.passed)
          return Error::Msg("benchmark guest failed: " + r.verdict,
                            kExitGuestFailed);
        first.push_back(r.first_instruction_ms);
        rate.push_back(FillGiBps(r) * 1024);
        filled = r.fill_bytes;
      }
      std::sort(first.begin(), first.end());
      std::sort(rate.begin(), rate.end());
      res[i] = {first[first.size() / 2], rate[rate.size() / 2], filled};
      std::snprintf(line, sizeof line, "%-8s %-12s %14.3f %12s %14.1f\n",
                    FormatSize(size).c_str(), kNames[i], res[i].first_ms,
                    FormatSize(res[i].filled).c_str(), res[i].mibps);
      out += line;
    }
    for (int i = 1; i < 3; i++) {
      std::snprintf(line, sizeof line,
                    "  %-8s vs %-8s first instruction %.2fx, fill throughput %.2fx\n",
                    FormatSize(size).c_str(), kNames[i], res[0].first_ms / res[i].first_ms,
                    res[0].mibps / res[i].mibps);
      ratios += line;
    }
  }
  return out + ratios;
}

}  // namespace gmem
