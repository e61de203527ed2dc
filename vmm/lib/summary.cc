#include "vmm/lib/summary.h"

#include <cmath>
#include <cstdio>
#include <vector>

#include "vmm/lib/size.h"

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

double FootprintRatio(const Summary& s) {
  if (!s.ram_bytes) return 0;
  return static_cast<double>(s.footprint_gmem_bytes + s.footprint_anon_bytes) /
         static_cast<double>(s.ram_bytes);
}

static std::string FootprintLine(const Summary& s) {
  return FormatSize(s.footprint_gmem_bytes) + " guest_memfd" +
         (s.footprint_how.empty() ? "" : " (" + s.footprint_how + ")") + " + " +
         FormatSize(s.footprint_anon_bytes) + " anonymous = " +
         Fmt("%.3fx RAM", FootprintRatio(s));
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
      {"guest memory footprint", FootprintLine(s)},
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

Json JsonMs(double ms) {
  if (ms < 0) return nullptr;
  return std::round(ms * 1000) / 1000;
}

Json SummaryJson(const Summary& s) {
  auto conv = [](const ConversionStats& c) {
    return Json{{"requests", c.requests}, {"pages", c.pages}};
  };
  Json exits = Json::object();
  for (const auto& [k, v] : s.exits) exits[k] = v;
  return Json{
      {"schema_version", kJsonSchemaVersion},
      {"passed", s.passed},
      {"verdict", s.passed ? "passed" : s.verdict},
      {"mode", s.mode},
      {"vm_type", s.vm_type},
      {"backing", s.backing},
      {"ram_bytes", s.ram_bytes},
      {"pages_private", s.pages_private},
      {"pages_shared", s.pages_shared},
      {"conversion_backend", s.conversion},
      {"hypercall_transport", s.hypercall},
      {"conversions",
       {{"to_shared", conv(s.to_shared)},
        {"to_private", conv(s.to_private)},
        {"implicit_to_shared", conv(s.implicit_to_shared)},
        {"implicit_to_private", conv(s.implicit_to_private)}}},
      {"rejected_hypercalls", s.rejected_hypercalls},
      {"exits", exits},
      {"first_instruction_ms", JsonMs(s.first_instruction_ms)},
      {"fill_bytes", s.fill_bytes},
      {"fill_ms", JsonMs(s.fill_ms)},
      {"fill_gib_per_s", std::round(FillGiBps(s) * 1000) / 1000},
      {"total_ms", JsonMs(s.total_ms)},
      {"guest_message", s.guest_message},
      {"host_isolation", s.host_isolation},
      {"footprint",
       {{"guest_memfd_bytes", s.footprint_gmem_bytes},
        {"anonymous_bytes", s.footprint_anon_bytes},
        {"guest_memfd_measured_by", s.footprint_how},
        {"ratio_to_ram", std::round(FootprintRatio(s) * 1000) / 1000}}},
  };
}

std::string FormatJson(const Summary& s) { return SummaryJson(s).dump(2) + "\n"; }

}  // namespace gmem
