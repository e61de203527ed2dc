// Timer signals aimed at one thread: "noise" that interrupts whatever the
// thread is doing after a random delay, and a watchdog that interrupts a
// call that takes too long (KVM_PRE_FAULT_MEMORY and KVM_RUN can spin in
// the kernel until a signal arrives).  The handler only counts, so a call
// can tell whether a signal arrived while it ran.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

namespace fuzz {

// Installs the handler for kSignal (no SA_RESTART).  Call once.
void InstallSignalHandler();

class ThreadTimer {
 public:
  ThreadTimer() = default;
  ~ThreadTimer();
  ThreadTimer(const ThreadTimer&) = delete;
  ThreadTimer& operator=(const ThreadTimer&) = delete;
  // Creates the timer, aimed at the calling thread: call it there.
  bool Start();
  bool ok() const { return ok_; }

  // Fires after |delay|, then every |interval| if that is non-zero;
  // replaces what was armed.
  void Arm(std::chrono::microseconds delay,
           std::chrono::microseconds interval = std::chrono::microseconds(0));
  void Disarm();

 private:
  timer_t timer_{};
  bool ok_ = false;
};

// Signals delivered to the calling thread so far.
uint64_t SignalsReceived();

// Brackets one call: arms |noise| and |watchdog| (either may be zero), and
// tells afterwards whether a signal arrived, how long the call took, and
// whether the watchdog is what fired.  The watchdog keeps firing every
// |watchdog| after the noise: noise that lands before the call enters the
// kernel must not leave a stuck call without a watchdog.
class SignalWindow {
 public:
  SignalWindow(ThreadTimer& timer, std::chrono::microseconds noise,
               std::chrono::microseconds watchdog);
  ~SignalWindow() { Close(); }
  // Disarms the timer; idempotent.
  void Close();
  bool signalled() const { return SignalsReceived() != start_count_; }
  std::chrono::microseconds elapsed() const;
  // The watchdog fired: a signal arrived and the watchdog's time passed.
  bool watchdog_fired() const;

 private:
  ThreadTimer& timer_;
  std::chrono::microseconds noise_, watchdog_;
  uint64_t start_count_;
  std::chrono::steady_clock::time_point start_, end_;
  bool closed_ = false;
};

}  // namespace fuzz
