// The VMM's side of vmm/guest/abi.h: the console, event and hypercall-
// mailbox ports, MAP_GPA_RANGE and memory-fault conversions, the shared
// message and (with private memory) the host isolation check.  Everything
// it sees goes into the RunRecord.
#pragma once

#include <cstdint>
#include <string>

#include "vmm/guest/abi.h"
#include "vmm/lib/boot_image.h"
#include "vmm/lib/config.h"
#include "vmm/lib/guest_memory.h"
#include "vmm/lib/io_bus.h"
#include "vmm/lib/result.h"
#include "vmm/lib/run_record.h"
#include "vmm/lib/vcpu_exit.h"

namespace gmem {

class GuestProtocol {
 public:
  // All four must outlive the protocol.
  GuestProtocol(const RunConfig& cfg, GuestMemory& mem, const BootImage& boot,
                RunRecord& record);
  ~GuestProtocol();  // hands on an unfinished console line

  // Claims abi::kPortConsole, kPortEvent and kPortHypercall.
  void Attach(PortIoBus& bus);
  // KVM_EXIT_HYPERCALL: answers in *exit.ret.
  Status OnHypercall(const HypercallExit& exit);
  // KVM_EXIT_MEMORY_FAULT: converts the faulting range (implicit conversion).
  Status OnMemoryFault(const MemoryFaultExit& exit);
  // The guest's verdict from the boot-info block.
  RunRecord::GuestVerdict Verdict() const;

 private:
  // MAP_GPA_RANGE, whichever way it arrived: the guest's return value.
  Result<uint64_t> MapGpaRange(uint64_t nr, const uint64_t args[3]);
  Status OnEvent(uint32_t event);
  void OnConsole(std::span<const uint8_t> data, uint8_t size);
  void OnMessage();

  const RunConfig& cfg_;
  GuestMemory& mem_;
  const BootImage& boot_;
  RunRecord& record_;
  volatile abi::BootInfo* info_;  // shared with the running guest
  std::string console_;
};

}  // namespace gmem
