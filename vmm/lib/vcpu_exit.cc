#include "vmm/lib/vcpu_exit.h"

#include "common/uapi/kvm.h"

namespace gmem {

const char* ExitName(const VcpuExit& e) {
  struct Namer {
    const char* operator()(const IoExit&) { return "io"; }
    const char* operator()(const HypercallExit&) { return "hypercall"; }
    const char* operator()(const MemoryFaultExit&) { return "memory_fault"; }
    const char* operator()(const HaltExit&) { return "hlt"; }
    const char* operator()(const ShutdownExit&) { return "shutdown"; }
    const char* operator()(const InterruptedExit&) { return nullptr; }
    const char* operator()(const OtherExit& o) {
      switch (o.reason) {
        case KVM_EXIT_MMIO: return "mmio";
        case KVM_EXIT_EXCEPTION: return "exception";
        case KVM_EXIT_INTR: return "intr";
        case KVM_EXIT_SYSTEM_EVENT: return "system_event";
      }
      return "other";
    }
  };
  return std::visit(Namer{}, e);
}

}  // namespace gmem
