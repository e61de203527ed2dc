// The METRIC line contract that bench/gmem_bench and gmem-vmm --bench-metrics
// print and bench/bench_report reads:
//
//   METRIC <name> <unit> <value> | n/a <reason> | error <what>
//
// Names carry sizes as compact tags.
#pragma once

#include <cstdint>
#include <string>

namespace common {

// "4K", "64M", "1G": |bytes| in the largest binary unit that divides it.
inline std::string MetricSizeTag(uint64_t bytes) {
  const char* unit = "";
  for (const char* u : {"K", "M", "G", "T"}) {
    if (bytes < 1024 || bytes % 1024) break;
    bytes /= 1024;
    unit = u;
  }
  return std::to_string(bytes) + unit;
}

}  // namespace common
