#include "selftests/fuzz/journal.h"

#include <cstdio>

namespace fuzz {

void Journal::Begin(uint64_t index, double t, const char* op, std::string args) {
  std::lock_guard<std::mutex> lock(mu_);
  OpRecord& r = ring_[count_ % kKeep];
  r.index = index;
  r.t = t;
  r.op = op;
  r.args = std::move(args);
  r.trace.clear();
  r.done = false;
  count_++;
}

void Journal::Trace(const std::string& s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ == 0) return;
  std::string& trace = ring_[(count_ - 1) % kKeep].trace;
  if (!trace.empty()) trace += ", ";
  trace += s;
}

void Journal::End() {
  std::lock_guard<std::mutex> lock(mu_);
  if (count_ > 0) ring_[(count_ - 1) % kKeep].done = true;
}

std::vector<OpRecord> Journal::Last(size_t n) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<OpRecord> out;
  uint64_t have = count_ < kKeep ? count_ : kKeep;
  if (n > have) n = have;
  for (uint64_t i = count_ - n; i < count_; i++) out.push_back(ring_[i % kKeep]);
  return out;
}

OpRecord Journal::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return count_ ? ring_[(count_ - 1) % kKeep] : OpRecord{};
}

std::string FormatOp(const OpRecord& r) {
  char head[64];
  std::snprintf(head, sizeof(head), "#%-6lu %8.3fs ", static_cast<unsigned long>(r.index), r.t);
  std::string s = head + r.op + " " + r.args + " -> " + (r.trace.empty() ? "-" : r.trace);
  if (!r.done) s += " [unfinished]";
  return s;
}

}  // namespace fuzz
