#include "selftests/lib/signals.h"

#include <signal.h>
#include <sys/time.h>

namespace gmt {
namespace {

void Nothing(int) {}

}  // namespace

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
