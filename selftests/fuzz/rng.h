// The fuzzer's only source of randomness.  SplitMix64, with our own range
// reduction: unlike std:: distributions, the sequence is the same on every
// platform and standard library, so a seed always means the same ops.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace fuzz {

class Rng {
 public:
  // The stream of thread |stream| for |seed|: streams of one seed, and the
  // same stream of neighbouring seeds, are unrelated.
  Rng(uint64_t seed, uint64_t stream) : s_(Mix(Mix(seed) ^ (stream * 0x9e3779b97f4a7c15ULL))) {}

  uint64_t Next() {
    s_ += 0x9e3779b97f4a7c15ULL;
    return Mix(s_);
  }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }
  bool OneIn(uint64_t n) { return Below(n) == 0; }
  // An index into |weights|, with probability proportional to its weight.
  unsigned Weighted(const unsigned* weights, unsigned n) {
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++) total += weights[i];
    uint64_t x = Below(total);
    for (unsigned i = 0; i < n; i++) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return n - 1;
  }
  template <typename T>
  T Pick(std::initializer_list<T> choices) {
    return choices.begin()[Below(choices.size())];
  }

 private:
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t s_;
};

}  // namespace fuzz
