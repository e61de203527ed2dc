// What one KVM_RUN came back with, as a type: the run loop visits it instead
// of switching on kvm_run.  Spans and pointers point into the vCPU's kvm_run
// page and are valid until the next RunOnce().
#pragma once

#include <cstdint>
#include <span>
#include <variant>

namespace gmem {

struct IoExit {
  uint16_t port;
  bool in;                    // IN: the handler fills data
  uint8_t size;               // bytes per access: 1, 2 or 4
  uint32_t count;             // accesses (rep ins/outs)
  std::span<uint8_t> data;    // size * count bytes
};

struct HypercallExit {  // KVM_EXIT_HYPERCALL
  uint64_t nr;
  uint64_t args[3];
  uint64_t* ret;  // the guest's return value
};

struct MemoryFaultExit {  // KVM_EXIT_MEMORY_FAULT
  uint64_t gpa;
  uint64_t size;
  bool to_private;  // KVM_MEMORY_EXIT_FLAG_PRIVATE
};

struct HaltExit {};
struct ShutdownExit {};  // triple fault
// KVM_RUN returned EINTR (the tick timer): nothing for the guest to do.
struct InterruptedExit {};
struct OtherExit {
  uint32_t reason;  // KVM_EXIT_*
  // KVM_EXIT_SYSTEM_EVENT: its type and first data word (an SEV-SNP
  // guest's termination request carries its GHCB MSR value there).
  uint32_t event_type = 0;
  uint64_t event_data0 = 0;
};

using VcpuExit = std::variant<IoExit, HypercallExit, MemoryFaultExit, HaltExit,
                              ShutdownExit, InterruptedExit, OtherExit>;

// The summary's name for an exit ("io", "hlt", ...); nullptr for
// InterruptedExit, which is not counted.
const char* ExitName(const VcpuExit& e);

}  // namespace gmem
