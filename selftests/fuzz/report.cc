#include "selftests/fuzz/report.h"

namespace fuzz {

std::string ThreadName(const Options& opts, unsigned index) {
  if (index < opts.threads) return "thread " + std::to_string(index) + " (fuzz)";
  if (index >= opts.threads + opts.vms)
    return "thread " + std::to_string(index) + " (memory failure)";
  return "thread " + std::to_string(index) + " (checker of vm" +
         std::to_string(index - opts.threads) + ")";
}

std::string ReplayCommand(const Options& opts, uint64_t seed, uint64_t max_ops) {
  std::string s = "gmem_fuzz --seed " + std::to_string(seed) + " --threads " +
                  std::to_string(opts.threads) + " --vms " + std::to_string(opts.vms);
  if (!opts.checkers) s += " --no-checkers";
  if (!opts.signals) s += " --no-signals";
  if (!opts.prefault_during_run) s += " --no-prefault-during-run";
  if (!opts.skip.empty()) {
    s += " --skip ";
    bool first = true;
    for (const auto& op : opts.skip) {
      s += (first ? "" : ",") + op;
      first = false;
    }
  }
  if (max_ops) s += " --max-ops " + std::to_string(max_ops);
  return s;
}

namespace {

void PrintHistories(FILE* out, const Options& opts, const std::vector<const ThreadCtx*>& threads,
                    size_t history) {
  for (const ThreadCtx* t : threads) {
    std::fprintf(out, "--- last %zu ops of %s ---\n", history, ThreadName(opts, t->index).c_str());
    for (const OpRecord& r : t->journal.Last(history))
      std::fprintf(out, "  %s\n", FormatOp(r).c_str());
  }
}

}  // namespace

void PrintFailure(FILE* out, const Options& opts, const Failure& f,
                  const std::vector<const ThreadCtx*>& threads, size_t history) {
  std::fprintf(out, "gmem_fuzz: FAILURE in seed %lu, %s, op #%lu %s\n",
               static_cast<unsigned long>(f.seed), ThreadName(opts, f.thread).c_str(),
               static_cast<unsigned long>(f.op.index), f.op.op.c_str());
  std::fprintf(out, "  args:     %s\n", f.op.args.c_str());
  std::fprintf(out, "  calls:    %s\n", f.op.trace.c_str());
  std::fprintf(out, "  failed:   %s: expected %s, got %s\n", f.call.c_str(), f.expected.c_str(),
               f.got.c_str());
  std::fprintf(out, "  rules:    %s\n", f.rules.c_str());
  std::fprintf(out, "  replay:   %s\n", ReplayCommand(opts, f.seed, f.op.index + 1).c_str());
  PrintHistories(out, opts, threads, history);
}

void PrintStuck(FILE* out, const Options& opts, uint64_t seed,
                const std::vector<const ThreadCtx*>& stuck,
                const std::vector<const ThreadCtx*>& threads, size_t history) {
  std::fprintf(out, "gmem_fuzz: FAILURE in seed %lu: %zu thread(s) did not stop\n",
               static_cast<unsigned long>(seed), stuck.size());
  for (const ThreadCtx* t : stuck)
    std::fprintf(out, "  %s stuck in %s\n", ThreadName(opts, t->index).c_str(),
                 FormatOp(t->journal.Current()).c_str());
  std::fprintf(out, "  replay:   %s\n", ReplayCommand(opts, seed, 0).c_str());
  PrintHistories(out, opts, threads, history);
}

}  // namespace fuzz
