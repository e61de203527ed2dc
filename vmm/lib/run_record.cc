#include "vmm/lib/run_record.h"

#include "vmm/lib/size.h"

namespace gmem {
namespace {

double MsBetween(RunRecord::Clock::time_point a, RunRecord::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

RunRecord::RunRecord(Summary header, Clock::time_point t0)
    : sum_(std::move(header)), t0_(t0) {}

void RunRecord::Hello(Clock::time_point now) {
  if (sum_.first_instruction_ms < 0) sum_.first_instruction_ms = MsBetween(t0_, now);
}

void RunRecord::FillEnd(Clock::time_point now, uint64_t bytes) {
  sum_.fill_bytes = bytes;
  sum_.fill_ms = MsBetween(fill_begin_, now);
}

void RunRecord::Converted(bool implicit, bool to_private, uint64_t bytes) {
  ConversionStats& s = implicit ? (to_private ? sum_.implicit_to_private
                                              : sum_.implicit_to_shared)
                                : (to_private ? sum_.to_private : sum_.to_shared);
  s.requests++;
  s.pages += bytes >> 12;
}

void RunRecord::Stop(std::string verdict) {
  stop_verdict_ = std::move(verdict);
  finished_ = true;
}

Summary RunRecord::Finish(const GuestVerdict& guest, uint64_t pages_private,
                          uint64_t pages_total, Clock::time_point now) const {
  Summary s = sum_;
  s.pages_private = pages_private;
  s.pages_shared = pages_total - pages_private;
  s.passed = false;
  if (!stop_verdict_.empty()) {
    s.verdict = stop_verdict_;
  } else if (!host_problem_.empty()) {
    s.verdict = host_problem_;
  } else if (guest.passed) {
    s.passed = true;
    s.verdict = "passed";
  } else {
    s.verdict = "guest self-check failed at step " +
                std::to_string(guest.fail_step) + " (detail " +
                Hex(guest.fail_detail) + ")";
  }
  s.total_ms = MsBetween(t0_, now);
  return s;
}

}  // namespace gmem
