#include "selftests/fuzz/errset.h"

#include <cstdio>
#include <cstring>

namespace fuzz {

std::string ErrName(int e) {
  if (e == 0) return "0";
  const char* name = strerrorname_np(e);
  return name ? name : std::to_string(e);
}

std::string Hex(uint64_t x) {
  char b[24];
  std::snprintf(b, sizeof(b), "0x%lx", static_cast<unsigned long>(x));
  return b;
}

std::string ErrSet::ToString() const {
  std::string s = "{";
  for (int e = 0; e < kMax; e++) {
    if (!bits_.test(e)) continue;
    if (s.size() > 1) s += ",";
    s += ErrName(e);
  }
  return s + "}";
}

}  // namespace fuzz
