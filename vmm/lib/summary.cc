#include "vmm/lib/summary.h"

#include <cstdio>
#include <vector>

#include "vmm/lib/options.h"

namespace gmem {
namespace {

std::string Fmt(const char* fmt, double v) {
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

std::string Conv(const ConversionStats& c) {
  return std::to_string(c.requests) + " requests, " + std::to_string(c.pages) +
         " pages";
}

std::string ExitsLine(const Summary& s) {
  std::string out;
  for (const auto& [k, v] : s.exits) {
    if (!out.empty()) out += ", ";
    out += k + "=" + std::to_string(v);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

double FillGiBps(const Summary& s) {
  if (s.fill_ms <= 0) return 0;
  return static_cast<double>(s.fill_bytes) / (1ull << 30) / (s.fill_ms / 1e3);
}

std::string FormatTable(const Summary& s) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"verdict", s.passed ? "PASS" : "FAIL: " + s.verdict},
      {"mode", s.mode},
      {"VM type", s.vm_type},
      {"memory backing", s.backing},
      {"RAM", FormatSize(s.ram_bytes)},
      {"pages private at exit", std::to_string(s.pages_private)},
      {"pages shared at exit", std::to_string(s.pages_shared)},
      {"conversion backend", s.conversion},
      {"hypercall transport", s.hypercall},
      {"to shared (MAP_GPA_RANGE)", Conv(s.to_shared)},
      {"to private (MAP_GPA_RANGE)", Conv(s.to_private)},
      {"to shared (memory fault)", Conv(s.implicit_to_shared)},
      {"to private (memory fault)", Conv(s.implicit_to_private)},
      {"rejected hypercalls", std::to_string(s.rejected_hypercalls)},
      {"exits", ExitsLine(s)},
      {"first guest instruction",
       s.first_instruction_ms < 0 ? "never" : Fmt("%.3f ms", s.first_instruction_ms)},
      {"guest fill", FormatSize(s.fill_bytes) + " in " + Fmt("%.1f ms", s.fill_ms) +
                         " (" + Fmt("%.1f MiB/s", FillGiBps(s) * 1024) + ")"},
      {"total time", Fmt("%.1f ms", s.total_ms)},
      {"guest message", s.guest_message.empty() ? "(none)" : s.guest_message},
      {"host view of private memory", s.host_isolation},
  };
  size_t w = 0;
  for (auto& r : rows) w = std::max(w, r.first.size());
  std::string line = "+" + std::string(w + 2, '-') + "+" + std::string(60, '-') + "\n";
  std::string out = "gmem-vmm summary\n" + line;
  for (auto& [k, v] : rows)
    out += "| " + k + std::string(w - k.size(), ' ') + " | " + v + "\n";
  out += line;
  return out;
}

std::string JsonEscape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          o += b;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o;
}

std::string FormatJson(const Summary& s) {
  auto str = [](const std::string& v) { return "\"" + JsonEscape(v) + "\""; };
  auto conv = [](const ConversionStats& c) {
    return "{\"requests\": " + std::to_string(c.requests) +
           ", \"pages\": " + std::to_string(c.pages) + "}";
  };
  std::string exits = "{";
  for (const auto& [k, v] : s.exits) {
    if (exits.size() > 1) exits += ", ";
    exits += str(k) + ": " + std::to_string(v);
  }
  exits += "}";
  std::string o = "{\n";
  o += "  \"passed\": " + std::string(s.passed ? "true" : "false") + ",\n";
  o += "  \"verdict\": " + str(s.passed ? "passed" : s.verdict) + ",\n";
  o += "  \"mode\": " + str(s.mode) + ",\n";
  o += "  \"vm_type\": " + str(s.vm_type) + ",\n";
  o += "  \"backing\": " + str(s.backing) + ",\n";
  o += "  \"ram_bytes\": " + std::to_string(s.ram_bytes) + ",\n";
  o += "  \"pages_private\": " + std::to_string(s.pages_private) + ",\n";
  o += "  \"pages_shared\": " + std::to_string(s.pages_shared) + ",\n";
  o += "  \"conversion_backend\": " + str(s.conversion) + ",\n";
  o += "  \"hypercall_transport\": " + str(s.hypercall) + ",\n";
  o += "  \"conversions\": {\"to_shared\": " + conv(s.to_shared) +
       ", \"to_private\": " + conv(s.to_private) +
       ", \"implicit_to_shared\": " + conv(s.implicit_to_shared) +
       ", \"implicit_to_private\": " + conv(s.implicit_to_private) + "},\n";
  o += "  \"rejected_hypercalls\": " + std::to_string(s.rejected_hypercalls) + ",\n";
  o += "  \"exits\": " + exits + ",\n";
  o += "  \"first_instruction_ms\": " + Fmt("%.3f", s.first_instruction_ms) + ",\n";
  o += "  \"fill_bytes\": " + std::to_string(s.fill_bytes) + ",\n";
  o += "  \"fill_ms\": " + Fmt("%.3f", s.fill_ms) + ",\n";
  o += "  \"fill_gib_per_s\": " + Fmt("%.3f", FillGiBps(s)) + ",\n";
  o += "  \"total_ms\": " + Fmt("%.3f", s.total_ms) + ",\n";
  o += "  \"guest_message\": " + str(s.guest_message) + ",\n";
  o += "  \"host_isolation\": " + str(s.host_isolation) + "\n";
  o += "}\n";
  return o;
}

}  // namespace gmem
