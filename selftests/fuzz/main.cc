// gmem_fuzz: a seeded, concurrent fuzzer of the guest_memfd, memory
// attribute and memslot ABI of SW-protected VMs.  See selftests/fuzz/README.md.
//
// Exit 0: no failure; 1: a failure (or bad usage); 4: skipped, because this
// kernel has no /dev/kvm or no SW-protected VMs.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "selftests/fuzz/command.h"
#include "selftests/fuzz/checker.h"
#include "selftests/fuzz/context.h"
#include "selftests/fuzz/ops.h"
#include "selftests/fuzz/poison.h"
#include "selftests/fuzz/probe.h"
#include "selftests/fuzz/report.h"
#include "selftests/lib/hwpoison.h"
#include "selftests/lib/ownership.h"

namespace fuzz {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kHistory = 50;                  // ops per thread in a report
constexpr std::chrono::seconds kStopGrace{30};   // for threads to notice the stop
constexpr std::chrono::seconds kPoisonHold{20};  // a seed's overtime for memory failure

const char kUsage[] =
    "usage: gmem_fuzz [--seed S | --seeds A-B] [--seconds N] [--seed-seconds N]\n"
    "                 [--threads T] [--vms V] [--max-ops N] [--skip OP,...]\n"
    "                 [--no-signals] [--no-checkers] [--keep-going]\n"
    "                 [--no-prefault-during-run] [--poison-interval S]\n"
    "                 [--list-ops] [--dry-run]\n"
    "\n"
    "  --seed S          run seed S for --seconds (default: seed 1)\n"
    "  --seeds A-B       run seeds A, A+1, ... B, each on fresh VMs for\n"
    "                    --seed-seconds (default 2), until --seconds are up\n"
    "  --seconds N       total run time (default 10)\n"
    "  --threads T       fuzz threads (default 4), plus one checker per VM\n"
    "  --vms V           SW-protected VMs (default 2)\n"
    "  --max-ops N       stop each thread after N ops (for replays)\n"
    "  --skip OP,...     draw but do not execute these ops (--list-ops)\n"
    "  --no-signals      no signal noise (watchdogs stay)\n"
    "  --no-checkers     no checker threads\n"
    "  --keep-going      after a failing seed, go on with the next one\n"
    "  --no-prefault-during-run  keep pre-faults out of a guest command's\n"
    "                    exits (by default they may come between them: a\n"
    "                    pre-fault must leave a pending exit in kvm_run alone)\n"
    "  --poison-interval S  at most one memory failure injection every S\n"
    "                    seconds (default 5; finding the page scans memory)\n"
    "  --dry-run         print each thread's first --max-ops (default 20) ops\n"
    "                    of the first seed, without running anything\n";

bool ParseUint(const char* s, uint64_t* out) {
  char* end;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 0);
  if (errno || end == s || *end) return false;
  *out = v;
  return true;
}

// Returns false on bad usage.
bool ParseOptions(int argc, char** argv, Options* o, bool* list_ops, bool* dry_run) {
  auto names = OpNames();
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    uint64_t n;
    if (a == "--no-signals") {
      o->signals = false;
    } else if (a == "--no-checkers") {
      o->checkers = false;
    } else if (a == "--keep-going") {
      o->keep_going = true;
    } else if (a == "--no-prefault-during-run") {
      o->prefault_during_run = false;
    } else if (a == "--dry-run") {
      *dry_run = true;
    } else if (a == "--list-ops") {
      *list_ops = true;
    } else if (!v) {
      return false;
    } else if (a == "--seed" && ParseUint(v, &n)) {
      o->seed_first = o->seed_last = n;
      o->seed_range = false;
      i++;
    } else if (a == "--seeds") {
      std::string s = v;
      size_t dash = s.find('-');
      uint64_t lo, hi;
      if (dash == std::string::npos || !ParseUint(s.substr(0, dash).c_str(), &lo) ||
          !ParseUint(s.substr(dash + 1).c_str(), &hi) || hi < lo)
        return false;
      o->seed_first = lo;
      o->seed_last = hi;
      o->seed_range = true;
      i++;
    } else if (a == "--poison-interval") {
      char* end;
      double d = std::strtod(v, &end);
      if (*end || d < 0) return false;
      o->poison_interval = d;
      i++;
    } else if (a == "--seconds" || a == "--seed-seconds") {
      char* end;
      double d = std::strtod(v, &end);
      if (*end || d <= 0) return false;
      (a == "--seconds" ? o->seconds : o->seed_seconds) = d;
      i++;
    } else if (a == "--threads" && ParseUint(v, &n) && n >= 1 && n <= 64) {
      o->threads = static_cast<unsigned>(n);
      i++;
    } else if (a == "--vms" && ParseUint(v, &n) && n >= 1 && n <= 8) {
      o->vms = static_cast<unsigned>(n);
      i++;
    } else if (a == "--max-ops" && ParseUint(v, &n)) {
      o->max_ops = n;
      i++;
    } else if (a == "--skip") {
      std::string s = v;
      for (size_t start = 0; start <= s.size();) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) comma = s.size();
        if (comma > start) o->skip.insert(s.substr(start, comma - start));
        start = comma + 1;
      }
      i++;
    } else {
      return false;
    }
  }
  return true;
}

// What all seeds so far did.
struct Totals {
  uint64_t first_seed = 0, last_seed = 0, ops = 0, failed_seeds = 0;
  OpStats stats;
};

void PrintSummary(const Totals& t, double secs) {
  std::string seeds = t.first_seed == t.last_seed ? "seed " + std::to_string(t.last_seed)
                                                  : "seeds " + std::to_string(t.first_seed) + "-" +
                                                        std::to_string(t.last_seed);
  std::printf("gmem_fuzz: %s, %lu ops in %.1f s (%.0f ops/s), %lu failure%s\n", seeds.c_str(),
              static_cast<unsigned long>(t.ops), secs, secs > 0 ? t.ops / secs : 0.0,
              static_cast<unsigned long>(t.failed_seeds), t.failed_seeds == 1 ? "" : "s");
  std::fputs(t.stats.Table().c_str(), stdout);
  const std::string poison = Poisoner::Summary();
  if (!poison.empty()) std::printf("%s\n", poison.c_str());
  if (uint64_t n = PreFaultsBehindRun())
    std::printf("%lu pre-fault(s) outlasted the watchdog waiting behind a KVM_RUN of the same "
                "vCPU (not counted as stuck)\n",
                static_cast<unsigned long>(n));
  if (uint64_t n = AstrayRestarts())
    std::printf("guest left its code %lu time(s) (QEMU nested SVM, see command.cc): commands "
                "started over\n",
                static_cast<unsigned long>(n));
  std::fflush(stdout);
}

struct SeedResult {
  uint64_t ops = 0;
  bool failed = false;
  bool stuck = false;  // threads did not stop: the process must _exit()
  OpStats stats;
};

// Failures already reported in full, by op, call and outcome: with
// --keep-going, a known failure in a later seed takes one line.
std::set<std::string> reported;

void Report(const Options& opts, const Failure& f, const std::vector<const ThreadCtx*>& views) {
  std::string key = f.op.op + "|" + f.call + "|" + f.got;
  if (reported.insert(key).second) {
    PrintFailure(stdout, opts, f, views, kHistory);
    return;
  }
  std::printf(
      "gmem_fuzz: FAILURE in seed %lu, %s, op #%lu %s: %s: expected %s, got %s (as before)\n",
      static_cast<unsigned long>(f.seed), ThreadName(opts, f.thread).c_str(),
      static_cast<unsigned long>(f.op.index), f.op.op.c_str(), f.call.c_str(), f.expected.c_str(),
      f.got.c_str());
}

// Runs one seed on fresh VMs for |seconds|.
SeedResult RunSeed(uint64_t seed, const Options& opts, const Env& env, double seconds) {
  SeedResult result;
  World world(env, opts.vms, seed);
  if (!world.error().empty()) {
    std::fprintf(stderr, "gmem_fuzz: FAILURE in seed %lu: %s\n", static_cast<unsigned long>(seed),
                 world.error().c_str());
    result.failed = true;
    return result;
  }
  RunState run(seed, opts, world);
  // Fuzz threads, checkers, and the memory failure injector if the checkers
  // have one: it serves them, so the seed ends when they are done.
  const unsigned nworkers = opts.threads + (opts.checkers ? opts.vms : 0);
  // Even seeds run with software ownership of private memory (when the
  // kernel has it), odd ones without: memory failure injection finds its
  // pages by reading them through the direct map, so it only runs then.
  const bool owned = env.sw_ownership && seed % 2 == 0;
  if (int r = env.sw_ownership ? gmt::SetSwOwnership(owned) : 0; r != 0) {
    std::fprintf(stderr, "gmem_fuzz: FAILURE in seed %lu: cannot set ownership: %s\n",
                 static_cast<unsigned long>(seed), strerror(-r));
    result.failed = true;
    return result;
  }
  std::unique_ptr<Poisoner> poisoner;
  if (opts.checkers && env.hwpoison && !owned && !opts.skip.count("poison")) {
    poisoner = std::make_unique<Poisoner>(opts.poison_interval);
    run.poisoner = poisoner.get();
  }
  const unsigned nthreads = nworkers + (poisoner ? 1 : 0);
  std::vector<std::unique_ptr<ThreadCtx>> ctxs;
  std::vector<const ThreadCtx*> views;
  for (unsigned i = 0; i < nthreads; i++) {
    ctxs.push_back(std::make_unique<ThreadCtx>(run, i));
    views.push_back(ctxs.back().get());
  }
  std::vector<std::atomic<bool>> done(nthreads);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < nthreads; i++) {
    threads.emplace_back([&, i] {
      ThreadCtx& ctx = *ctxs[i];
      if (i >= nworkers) {
        poisoner->Run(ctx);  // no timer: it takes no signals
      } else if (!ctx.timer.Start()) {
        ctx.Begin("start", "", 0);
        ctx.Fail("timer_create", "a per-thread timer", std::strerror(errno), "watchdogs need one");
        ctx.End("failed");
      } else if (i < opts.threads) {
        FuzzThread(ctx);
      } else {
        CheckerThread(ctx, i - opts.threads);
      }
      done[i] = true;
    });
  }

  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(seconds));
  auto done_below = [&](unsigned n) {
    for (unsigned i = 0; i < n; i++)
      if (!done[i]) return false;
    return true;
  };
  auto all_done = [&] { return done_below(nthreads); };
  while (!run.stop && !done_below(nworkers)) {
    const auto now = Clock::now();
    if (now >= deadline) {
      // A memory failure injection in flight holds the seed (for at most
      // kPoisonHold): the checker that offered the page sees it through.
      if (!poisoner || now >= deadline + kPoisonHold) break;
      poisoner->StopClaims();
      if (!poisoner->Holding()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run.stop = true;
  const auto grace = Clock::now() + kStopGrace;
  while (!all_done() && Clock::now() < grace)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));

  if (!all_done()) {
    std::vector<const ThreadCtx*> stuck;
    for (unsigned i = 0; i < nthreads; i++)
      if (!done[i]) stuck.push_back(views[i]);
    PrintStuck(stdout, opts, seed, stuck, views, kHistory);
    for (const Failure& f : run.failures()) Report(opts, f, views);
    // A thread stuck in the kernel can be neither joined nor cleaned up
    // after: the caller must _exit().
    result.failed = result.stuck = true;
    return result;
  }
  for (auto& t : threads) t.join();

  auto failures = run.failures();
  for (const Failure& f : failures) Report(opts, f, views);
  result.failed = !failures.empty();
  for (const auto& c : ctxs) {
    result.ops += c->ops();
    result.stats.Merge(c->stats);
  }
  return result;
}

// fds 0-2 must be open: fd 0 is where memslot calls put guest_memfds, and
// no object may ever get those numbers.
void ReserveLowFds() {
  for (int fd = 0; fd < 3; fd++) {
    if (fcntl(fd, F_GETFD) < 0) {
      int n = open("/dev/null", O_RDWR);
      if (n >= 0 && n != fd) {
        dup2(n, fd);
        close(n);
      }
    }
  }
  int n = open("/dev/null", O_RDWR);
  if (n >= 0) {
    dup2(n, 0);
    close(n);
  }
}

// The ops each thread draws for |seed|: what a run of that seed attempts,
// in each thread's order, whatever the interleaving.
void DryRun(const Options& opts, uint64_t seed) {
  const uint64_t n = opts.max_ops ? opts.max_ops : 20;
  const unsigned nthreads = opts.threads + (opts.checkers ? opts.vms : 0);
  for (unsigned t = 0; t < nthreads; t++) {
    std::printf("--- %s ---\n", ThreadName(opts, t).c_str());
    Rng rng(seed, t);
    for (uint64_t i = 0; i < n; i++) {
      if (t < opts.threads) {
        Op op = DrawOp(rng, opts.vms);
        std::printf("  #%-6lu %s %s%s\n", static_cast<unsigned long>(i), OpName(op.kind),
                    Describe(op).c_str(),
                    op.noise_us && opts.signals
                        ? (" noise=" + std::to_string(op.noise_us) + "us").c_str()
                        : "");
      } else {
        std::printf("  #%-6lu %s\n", static_cast<unsigned long>(i), DrawCheckerStep(rng).c_str());
      }
    }
  }
}

int Main(int argc, char** argv) {
  Options opts;
  bool list_ops = false, dry_run = false;
  if (!ParseOptions(argc, argv, &opts, &list_ops, &dry_run)) {
    std::fputs(kUsage, stderr);
    return 1;
  }
  if (list_ops) {
    for (const auto& n : OpNames()) std::printf("%s\n", n.c_str());
    std::printf(
        "chk_write chk_read chk_fill_sum chk_sum chk_punch chk_alloc chk_convert\n"
        "chk_host_write chk_prefault chk_rebind chk_new_gmem chk_scan poison (checker steps)\n"
        "poison_inject (the memory failure thread)\n");
    return 0;
  }
  if (dry_run) {
    DryRun(opts, opts.seed_first);
    return 0;
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  ReserveLowFds();
  Env env;
  std::string why = ProbeKernel(&env);
  if (!why.empty()) {
    std::printf("gmem_fuzz: SKIP: %s\n", why.c_str());
    return 4;
  }
  why = gmt::HwpoisonUnavailable();
  env.hwpoison = why.empty();
  if (!env.hwpoison)
    std::printf("gmem_fuzz: no memory failure injection (%s): not poisoning\n", why.c_str());
  env.sw_ownership = gmt::SwOwnership() >= 0;
  std::printf("gmem_fuzz: software ownership of private memory %s\n",
              env.sw_ownership ? "on for even seeds, off for odd ones (which poison)"
                               : "not in this kernel");
  std::printf("gmem_fuzz: in-place conversion %s\n",
              env.gmem_attributes ? "on: KVM_SET_MEMORY_ATTRIBUTES2 converts guest_memfds"
                                  : "off: KVM_SET_MEMORY_ATTRIBUTES2 must fail with ENOTTY");
  if (!env.prefault_cap) {
    std::printf("gmem_fuzz: no KVM_CAP_PRE_FAULT_MEMORY: not pre-faulting\n");
    opts.skip.insert({"prefault", "prefault_bad", "chk_prefault"});
  }
  InstallSignalHandler();

  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  Totals totals;
  totals.first_seed = totals.last_seed = opts.seed_first;
  for (uint64_t seed = opts.seed_first; seed <= opts.seed_last; seed++) {
    double left = opts.seconds - elapsed();
    if (seed != opts.seed_first && left <= 0.05) break;
    double slice = opts.seed_range ? std::min(opts.seed_seconds, left) : left;
    SeedResult r = RunSeed(seed, opts, env, std::max(slice, 0.05));
    totals.last_seed = seed;
    totals.ops += r.ops;
    totals.stats.Merge(r.stats);
    if (r.stuck) {
      totals.failed_seeds++;
      PrintSummary(totals, elapsed());
      _exit(1);
    }
    if (r.failed) {
      totals.failed_seeds++;
      if (!opts.keep_going) break;
    }
    if (!opts.seed_range) break;
  }
  PrintSummary(totals, elapsed());
  return totals.failed_seeds ? 1 : 0;
}

}  // namespace
}  // namespace fuzz

int main(int argc, char** argv) { return fuzz::Main(argc, argv); }
