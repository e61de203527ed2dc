#include "selftests/fuzz/context.h"

#include <utility>

namespace fuzz {

double RunState::Now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void RunState::AddFailure(Failure f) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.push_back(std::move(f));
  stop = true;
}

std::vector<Failure> RunState::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

bool ThreadCtx::Stopping() const {
  return run.stop.load(std::memory_order_relaxed) ||
         (run.opts.max_ops && nops_ >= run.opts.max_ops);
}

void ThreadCtx::Begin(const char* op, std::string args, uint32_t noise_us) {
  op_ = op;
  noise_us_ = run.opts.signals ? noise_us : 0;
  if (noise_us_) args += " noise=" + std::to_string(noise_us_) + "us";
  journal.Begin(nops_, run.Now(), op, std::move(args));
}

void ThreadCtx::End(const std::string& outcome) {
  journal.End();
  stats.Add(op_, outcome);
  nops_++;
}

std::chrono::microseconds ThreadCtx::TakeNoise() {
  return std::chrono::microseconds(std::exchange(noise_us_, 0));
}

bool ThreadCtx::Check(const char* call, int got, const Expect& e) {
  Trace(std::string(call) + " " + ErrName(got));
  if (e.ok.Has(got)) return true;
  Fail(call, e.ok.ToString(), ErrName(got), e.rules);
  return false;
}

void ThreadCtx::Fail(const std::string& call, const std::string& expected, const std::string& got,
                     const std::string& rules) {
  Trace("FAILURE");
  nfailures_++;
  Failure f;
  f.seed = run.seed;
  f.thread = index;
  f.op = journal.Current();
  f.call = call;
  f.expected = expected;
  f.got = got;
  f.rules = rules;
  run.AddFailure(std::move(f));
}

}  // namespace fuzz
