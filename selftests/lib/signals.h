// Signals as tests use them: to bound a KVM call that could block or spin
// (it then returns EINTR), and to interrupt a thread on purpose.
#pragma once

#include <cstdint>

namespace gmt {

// Which signal, if any, one access to |p| raises: 0, SIGBUS (guest_memfd's
// refusal of private memory or of an access past the end) or SIGSEGV.
int AccessSignal(volatile uint8_t* p, bool write);

// Installs a do-nothing handler for |sig| without SA_RESTART, so that the
// signal makes a blocking system call return EINTR.
void InstallInterruptingHandler(int sig);

// A one-shot SIGALRM after |seconds| for the lifetime of the guard: a call
// that would never return comes back with EINTR instead.
class AlarmGuard {
 public:
  explicit AlarmGuard(double seconds);
  ~AlarmGuard();
  AlarmGuard(const AlarmGuard&) = delete;
  AlarmGuard& operator=(const AlarmGuard&) = delete;
};

}  // namespace gmt
