// What the fuzzer prints when something goes wrong: the failure, how to
// replay it, and the last ops of every thread.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "selftests/fuzz/context.h"

namespace fuzz {

// "thread 2 (fuzz)", "thread 5 (checker of vm1)".
std::string ThreadName(const Options& opts, unsigned index);

// The command line that replays |seed| with the same threads and options,
// each thread stopping after |max_ops| ops (0: no limit).
std::string ReplayCommand(const Options& opts, uint64_t seed, uint64_t max_ops);

// One failure, then the last |history| ops of every thread.
void PrintFailure(FILE* out, const Options& opts, const Failure& f,
                  const std::vector<const ThreadCtx*>& threads, size_t history);

// Threads that did not stop: what each was doing, and the histories.
void PrintStuck(FILE* out, const Options& opts, uint64_t seed,
                const std::vector<const ThreadCtx*>& stuck,
                const std::vector<const ThreadCtx*>& threads, size_t history);

}  // namespace fuzz
