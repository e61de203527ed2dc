#include "selftests/fuzz/signals.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace fuzz {
namespace {

constexpr int kSignal = SIGUSR1;

thread_local volatile sig_atomic_t received = 0;

void OnSignal(int) { received = received + 1; }

}  // namespace

void InstallSignalHandler() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnSignal;  // no SA_RESTART: interrupted calls fail with EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(kSignal, &sa, nullptr);
}

uint64_t SignalsReceived() { return static_cast<uint64_t>(received); }

bool ThreadTimer::Start() {
  if (ok_) return true;
  struct sigevent sev;
  std::memset(&sev, 0, sizeof(sev));
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = kSignal;
  sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  ok_ = timer_create(CLOCK_MONOTONIC, &sev, &timer_) == 0;
  return ok_;
}

ThreadTimer::~ThreadTimer() {
  if (ok_) timer_delete(timer_);
}

namespace {

struct timespec ToTimespec(std::chrono::microseconds us) {
  struct timespec ts;
  ts.tv_sec = us.count() / 1000000;
  ts.tv_nsec = (us.count() % 1000000) * 1000;
  return ts;
}

}  // namespace

void ThreadTimer::Arm(std::chrono::microseconds delay, std::chrono::microseconds interval) {
  if (!ok_) return;
  struct itimerspec its = {};
  its.it_value = ToTimespec(delay);
  its.it_interval = ToTimespec(interval);
  if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  timer_settime(timer_, 0, &its, nullptr);
}

void ThreadTimer::Disarm() {
  if (!ok_) return;
  struct itimerspec its = {};
  timer_settime(timer_, 0, &its, nullptr);
}

SignalWindow::SignalWindow(ThreadTimer& timer, std::chrono::microseconds noise,
                           std::chrono::microseconds watchdog)
    : timer_(timer), noise_(noise), watchdog_(watchdog), start_count_(SignalsReceived()) {
  start_ = std::chrono::steady_clock::now();
  if (noise_.count() > 0)
    timer_.Arm(noise_, watchdog_);
  else if (watchdog_.count() > 0)
    timer_.Arm(watchdog_, watchdog_);
}

void SignalWindow::Close() {
  if (closed_) return;
  closed_ = true;
  end_ = std::chrono::steady_clock::now();
  if (noise_.count() > 0 || watchdog_.count() > 0) timer_.Disarm();
}

std::chrono::microseconds SignalWindow::elapsed() const {
  auto end = closed_ ? end_ : std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::microseconds>(end - start_);
}

bool SignalWindow::watchdog_fired() const {
  return watchdog_.count() > 0 && signalled() && elapsed() >= watchdog_;
}

}  // namespace fuzz
