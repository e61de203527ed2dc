#include "vmm/lib/size.h"

#include <cctype>
#include <cstdio>

namespace gmem {

Result<uint64_t> ParseSize(const std::string& s) {
  auto bad = [&] {
    return Error::Msg("bad size '" + s + "' (use e.g. 64M, 1G, 4096K)",
                      ErrorKind::kInvalidArgument);
  };
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return bad();
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); i++) {
    if (v > (~0ull - 9) / 10) return bad();
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  std::string suffix = s.substr(i);
  unsigned shift = 0;
  if (suffix.empty() || suffix == "B") shift = 0;
  else if (suffix == "K" || suffix == "KiB" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "MiB" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "GiB" || suffix == "g") shift = 30;
  else if (suffix == "T" || suffix == "TiB" || suffix == "t") shift = 40;
  else return bad();
  if (shift && v > (~0ull >> shift)) return bad();
  return v << shift;
}

Result<std::vector<uint64_t>> ParseSizeList(const std::string& s) {
  std::vector<uint64_t> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(GMEM_TRY(ParseSize(s.substr(start, comma - start))));
    start = comma + 1;
  }
  return out;
}

std::string FormatSize(uint64_t b) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && b >= 1024 && b % 1024 == 0) {
    b /= 1024;
    u++;
  }
  return std::to_string(b) + " " + units[u];
}

std::string Hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace gmem
