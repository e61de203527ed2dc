// Pure: what happened in one run, as a table for people and JSON for
// scripts.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace gmem {

// Every JSON document gmem-vmm prints (run, --probe, --bench, error) starts
// with this; bumped when a field changes meaning or goes away.
// 1: first versioned output; "never" values are null.
constexpr int kJsonSchemaVersion = 1;
using Json = nlohmann::ordered_json;

struct ConversionStats {
  uint64_t requests = 0;  // hypercalls or faults
  uint64_t pages = 0;     // 4 KiB pages
};

struct Summary {
  std::string mode;        // "default" / "sw-protected"
  std::string vm_type;     // "KVM_X86_DEFAULT_VM" ...
  std::string backing;     // "guest_memfd" / "anonymous"
  std::string conversion;  // conversion backend name
  std::string hypercall;   // "instruction (KVM_EXIT_HYPERCALL)" / port
  uint64_t ram_bytes = 0;
  uint64_t pages_private = 0;
  uint64_t pages_shared = 0;
  ConversionStats to_private, to_shared;  // explicit (MAP_GPA_RANGE)
  ConversionStats implicit_to_private, implicit_to_shared;  // memory faults
  uint64_t rejected_hypercalls = 0;
  std::map<std::string, uint64_t> exits;  // by reason
  double first_instruction_ms = -1;  // < 0: never
  double total_ms = 0;
  uint64_t fill_bytes = 0;
  double fill_ms = 0;
  std::string guest_message;   // what the host read from shared memory
  std::string host_isolation;  // what the host could (not) read
  // Guest RAM held on the host at the end: guest_memfd pages (private and
  // shared) and resident anonymous pages of the host view.
  uint64_t footprint_gmem_bytes = 0;
  uint64_t footprint_anon_bytes = 0;
  std::string footprint_how;  // how the guest_memfd part was measured
  bool passed = false;
  std::string verdict;  // "passed" or why not
};

double FillGiBps(const Summary& s);
// (guest_memfd + anonymous) / RAM.
double FootprintRatio(const Summary& s);
std::string FormatTable(const Summary& s);
Json SummaryJson(const Summary& s);  // with schema_version
std::string FormatJson(const Summary& s);
// A millisecond figure for JSON: rounded to the microsecond, null if < 0.
Json JsonMs(double ms);

}  // namespace gmem
