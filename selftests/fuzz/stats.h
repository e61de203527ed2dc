// Counts of ops and of their outcomes, per thread, merged for the summary.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace fuzz {

class OpStats {
 public:
  void Add(const std::string& op, const std::string& outcome) { counts_[op][outcome]++; }
  void Merge(const OpStats& o);
  uint64_t total() const;
  // One line per op: its name, how often it ran, and how often each
  // outcome ("0", "EINVAL", "answered", ...) occurred.
  std::string Table() const;

 private:
  std::map<std::string, std::map<std::string, uint64_t>> counts_;
};

}  // namespace fuzz
