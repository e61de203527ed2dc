// Pure: turns what happened during a run (exits, guest events, conversions,
// host checks) into the Summary, and decides the verdict.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "vmm/lib/summary.h"

namespace gmem {

class RunRecord {
 public:
  using Clock = std::chrono::steady_clock;

  // header: what was launched (mode, VM type, backing, RAM, conversion
  // backend, hypercall transport, host_isolation before any check).
  RunRecord(Summary header, Clock::time_point t0);

  void Exit(const char* name) { sum_.exits[name]++; }
  void Hello(Clock::time_point now);  // the guest's first instruction
  void FillBegin(Clock::time_point now) { fill_begin_ = now; }
  void FillEnd(Clock::time_point now, uint64_t bytes);
  // A conversion done for a MAP_GPA_RANGE hypercall or (implicit) a memory
  // fault exit.
  void Converted(bool implicit, bool to_private, uint64_t bytes);
  void RejectedHypercall() { sum_.rejected_hypercalls++; }
  void GuestMessage(std::string msg) { sum_.guest_message = std::move(msg); }
  void Isolation(std::string account) { sum_.host_isolation = std::move(account); }
  // Something the host saw that fails the run, even if the guest passes.
  void HostProblem(std::string what) { host_problem_ = std::move(what); }
  // The guest reported its verdict (kEvDone).
  void GuestDone() { finished_ = true; }
  // The run ended without the guest's verdict (halt, triple fault, timeout,
  // an exit nobody handles): this is the verdict.
  void Stop(std::string verdict);
  bool finished() const { return finished_; }

  struct GuestVerdict {  // from the boot-info block
    bool passed;
    uint32_t fail_step;
    uint64_t fail_detail;
  };
  Summary Finish(const GuestVerdict& guest, uint64_t pages_private,
                 uint64_t pages_total, Clock::time_point now) const;

 private:
  Summary sum_;
  Clock::time_point t0_;
  Clock::time_point fill_begin_{};
  std::string host_problem_;
  std::string stop_verdict_;
  bool finished_ = false;
};

}  // namespace gmem
