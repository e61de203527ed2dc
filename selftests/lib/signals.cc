#include "selftests/lib/signals.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/time.h>

namespace gmt {
namespace {

void Nothing(int) {}

sigjmp_buf probe_jump;
volatile sig_atomic_t probe_signal;
void ProbeHandler(int sig) {
  probe_signal = sig;
  siglongjmp(probe_jump, 1);
}

}  // namespace

int AccessSignal(volatile uint8_t* p, bool write) {
  struct sigaction sa = {}, old_bus, old_segv;
  sa.sa_handler = ProbeHandler;
  sigaction(SIGBUS, &sa, &old_bus);
  sigaction(SIGSEGV, &sa, &old_segv);
  probe_signal = 0;
  if (!sigsetjmp(probe_jump, 1)) {
    if (write)
      *p = 0x5a;
    else
      (void)*p;
  }
  sigaction(SIGBUS, &old_bus, nullptr);
  sigaction(SIGSEGV, &old_segv, nullptr);
  return probe_signal;
}

void InstallInterruptingHandler(int sig) {
  struct sigaction sa = {};
  sa.sa_handler = Nothing;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
}

AlarmGuard::AlarmGuard(double seconds) {
  InstallInterruptingHandler(SIGALRM);
  itimerval t = {};
  t.it_value.tv_sec = static_cast<time_t>(seconds);
  t.it_value.tv_usec = static_cast<suseconds_t>((seconds - t.it_value.tv_sec) * 1e6);
  setitimer(ITIMER_REAL, &t, nullptr);
}

AlarmGuard::~AlarmGuard() {
  itimerval t = {};
  setitimer(ITIMER_REAL, &t, nullptr);
}

}  // namespace gmt
