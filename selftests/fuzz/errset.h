// A set of syscall outcomes (0 for success, or positive errno values), and
// how reports print outcomes and numbers.
#pragma once

#include <bitset>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace fuzz {

class ErrSet {
 public:
  static constexpr int kMax = 192;  // above every errno Linux defines

  ErrSet() = default;
  ErrSet(std::initializer_list<int> outcomes) {
    for (int e : outcomes) Add(e);
  }
  ErrSet& Add(int e) {
    if (e >= 0 && e < kMax) bits_.set(e);
    return *this;
  }
  ErrSet& Add(const ErrSet& o) {
    bits_ |= o.bits_;
    return *this;
  }
  bool Has(int e) const { return e >= 0 && e < kMax && bits_.test(e); }
  bool empty() const { return bits_.none(); }
  // "{0,ENOMEM}", in errno order
  std::string ToString() const;

 private:
  std::bitset<kMax> bits_;
};

// "EINVAL" for EINVAL, "0" for 0, the number for anything unknown.
std::string ErrName(int e);
// "0x1f000".
std::string Hex(uint64_t x);

}  // namespace fuzz
