#include "selftests/fuzz/stats.h"

#include <cstdio>

namespace fuzz {

void OpStats::Merge(const OpStats& o) {
  for (const auto& [op, outcomes] : o.counts_)
    for (const auto& [outcome, n] : outcomes) counts_[op][outcome] += n;
}

uint64_t OpStats::total() const {
  uint64_t n = 0;
  for (const auto& [op, outcomes] : counts_)
    for (const auto& [outcome, k] : outcomes) n += k;
  return n;
}

std::string OpStats::Table() const {
  std::string out;
  char line[64];
  std::snprintf(line, sizeof(line), "%-16s %9s  %s\n", "op", "count", "outcomes");
  out += line;
  for (const auto& [op, outcomes] : counts_) {
    uint64_t n = 0;
    for (const auto& [outcome, k] : outcomes) n += k;
    std::snprintf(line, sizeof(line), "%-16s %9lu ", op.c_str(), static_cast<unsigned long>(n));
    out += line;
    for (const auto& [outcome, k] : outcomes) out += " " + outcome + "=" + std::to_string(k);
    out += "\n";
  }
  return out;
}

}  // namespace fuzz
