// What a fuzzing thread works with: the run's options and shared state
// (one seed), and its own Rng, journal, statistics and timer.  Every call
// an op makes goes through ThreadCtx::Check against the model.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "selftests/fuzz/journal.h"
#include "selftests/fuzz/model.h"
#include "selftests/fuzz/rng.h"
#include "selftests/fuzz/signals.h"
#include "selftests/fuzz/stats.h"
#include "selftests/fuzz/world.h"

namespace fuzz {

struct Options {
  uint64_t seed_first = 1, seed_last = 1;
  bool seed_range = false;  // --seeds: many seeds, each for seed_seconds
  double seconds = 10, seed_seconds = 2;
  unsigned threads = 4, vms = 2;
  bool checkers = true;     // one checker thread per VM
  bool signals = true;      // signal noise
  bool keep_going = false;  // go on with the next seed after a failure
  // Pre-fault a vCPU while another thread is between the exits of a guest
  // command on it.  Off by default: KVM_PRE_FAULT_MEMORY then overwrites
  // the pending exit in kvm_run (a finding; see README.md).
  bool prefault_during_run = true;
  uint64_t max_ops = 0;        // per thread and seed; 0: no limit
  std::set<std::string> skip;  // ops drawn but not executed
  double poison_interval = 5;  // seconds between memory failure injections
};

class Poisoner;

struct Failure {
  uint64_t seed = 0;
  unsigned thread = 0;
  OpRecord op;
  std::string call, expected, got, rules;
};

// One seed's run, shared by its threads.
class RunState {
 public:
  RunState(uint64_t seed, const Options& opts, World& world)
      : seed(seed), opts(opts), world(world), start_(std::chrono::steady_clock::now()) {}
  const uint64_t seed;
  const Options& opts;
  World& world;
  std::atomic<bool> stop{false};
  // The memory failure injector, if this run has one (poison.h).
  Poisoner* poisoner = nullptr;

  double Now() const;
  // Records a failure and stops the run.
  void AddFailure(Failure f);
  std::vector<Failure> failures() const;

 private:
  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex mu_;
  std::vector<Failure> failures_;
};

class ThreadCtx {
 public:
  ThreadCtx(RunState& run, unsigned index) : run(run), index(index), rng(run.seed, index) {}
  RunState& run;
  const unsigned index;
  Rng rng;
  Journal journal;
  OpStats stats;
  ThreadTimer timer;

  const Env& env() const { return run.world.env(); }
  World& world() { return run.world; }
  bool Stopping() const;
  uint64_t ops() const { return nops_; }
  uint64_t failures() const { return nfailures_; }

  // Brackets one op: the journal entry, its noise, its statistics.
  void Begin(const char* op, std::string args, uint32_t noise_us);
  void Trace(const std::string& s) { journal.Trace(s); }
  void End(const std::string& outcome);
  // The op's signal noise, for the first call that asks; zero afterwards.
  std::chrono::microseconds TakeNoise();

  // Checks that |call| ended in |got| (0 or an errno), which |e| must
  // allow; traces it, and records a failure if not.  Returns whether legal.
  bool Check(const char* call, int got, const Expect& e);
  // Records a failure that is not about an errno (a broken invariant).
  void Fail(const std::string& call, const std::string& expected, const std::string& got,
            const std::string& rules);

 private:
  uint64_t nops_ = 0, nfailures_ = 0;
  const char* op_ = "";
  uint32_t noise_us_ = 0;
};

}  // namespace fuzz
