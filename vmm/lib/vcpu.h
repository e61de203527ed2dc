// A vCPU: its kvm_run page, CPUID, and the 64-bit boot state.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "vmm/lib/kvm_system.h"
#include "vmm/lib/result.h"
#include "vmm/lib/unique_fd.h"

namespace gmem {

class Vm;

struct LongModeState {
  uint64_t cr3;       // PML4
  uint64_t gdt_base;  // GDT: null, code64 (0x8), data (0x10)
  uint16_t gdt_limit;
  uint64_t rip;
  uint64_t rsp;
};

class Vcpu {
 public:
  static Result<Vcpu> Create(const KvmSystem& kvm, const Vm& vm, int id);

  int fd() const { return fd_.get(); }
  kvm_run* run() const { return reinterpret_cast<kvm_run*>(run_.data()); }

  Status SetCpuidFromHost(const KvmSystem& kvm) const;
  Status EnterLongMode(const LongModeState& s) const;
  // KVM_RUN; EAGAIN is retried, EINTR returned (err() == EINTR).
  Status Run() const;
  Result<kvm_regs> Regs() const;

 private:
  Vcpu(UniqueFd fd, Mapping run) : fd_(std::move(fd)), run_(std::move(run)) {}
  UniqueFd fd_;
  Mapping run_;
};

}  // namespace gmem
