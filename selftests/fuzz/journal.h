// Each thread's recent history: the last kKeep ops with their arguments and
// what every call in them returned, for the failure report.  Written by its
// thread, read by the reporter, so it has a lock.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace fuzz {

struct OpRecord {
  uint64_t index = 0;  // the thread's op number, from 0
  double t = 0;        // seconds since the seed started
  std::string op, args, trace;
  bool done = false;
};

class Journal {
 public:
  static constexpr size_t kKeep = 64;

  void Begin(uint64_t index, double t, const char* op, std::string args);
  // Appends to the current op's trace ("KVM_RUN -> EFAULT, ...").
  void Trace(const std::string& s);
  void End();
  // The last |n| ops, oldest first.
  std::vector<OpRecord> Last(size_t n) const;
  // The current op (possibly unfinished).
  OpRecord Current() const;

 private:
  mutable std::mutex mu_;
  std::vector<OpRecord> ring_ = std::vector<OpRecord>(kKeep);
  uint64_t count_ = 0;  // ops begun
};

// "index t op args -> trace", one line.
std::string FormatOp(const OpRecord& r);

}  // namespace fuzz
