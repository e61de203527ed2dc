// --bench: guest_memfd vs anonymous memory, time to first instruction and
// guest fill throughput, per guest size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/lib/config.h"
#include "vmm/lib/kvm_system.h"
#include "vmm/lib/result.h"
#include "vmm/lib/summary.h"

namespace gmem {

struct BenchPlan {
  std::vector<uint64_t> sizes;
  unsigned reps = 3;
};

struct BenchRow {
  std::string backing;  // "gmem", "gmem-inplace", "anon-4k", "anon-thp"
  double first_ms;      // median
  uint64_t filled;
  double mibps;         // median
};

struct BenchSize {
  uint64_t ram;
  std::string skipped;         // why, when the host could not run it
  std::vector<BenchRow> rows;  // gmem rows first
};

struct BenchResult {
  Mode gmem_mode;       // the guest_memfd side's VM
  uint64_t fill_limit;  // 0: all RAM above 4 MiB
  unsigned reps;
  std::vector<BenchSize> sizes;
  // Why there is no gmem-inplace row (empty: there is one).
  std::string inplace_unavailable;
};

// base: from ToRunConfig (payload, timeout, hypercall channel, fill limit,
// progress); mode, backing and size are the benchmark's.
Result<BenchResult> RunBench(const KvmSystem& kvm, const Capabilities& caps,
                             const RunConfig& base, const BenchPlan& plan);
std::string FormatBenchTable(const BenchResult& r);
Json BenchJson(const BenchResult& r);  // with schema_version
// One line per value, as bench/gmem_bench prints them:
//   METRIC vmm_first_insn_<size>_<backing> ms <median>
//   METRIC vmm_first_insn_<size>_<gmem row>_vs_<backing> x <gmem / that backing>
// and "n/a <why>" for a size the host could not run.
std::string FormatBenchMetrics(const BenchResult& r);

}  // namespace gmem
