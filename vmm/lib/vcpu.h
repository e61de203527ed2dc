// A vCPU: its kvm_run page, CPUID, and the 64-bit boot state.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "vmm/lib/boot_image.h"
#include "vmm/lib/kvm_system.h"
#include "vmm/lib/result.h"
#include "vmm/lib/unique_fd.h"
#include "vmm/lib/vcpu_exit.h"

namespace gmem {

class Vm;

class Vcpu {
 public:
  static Result<Vcpu> Create(const KvmSystem& kvm, const Vm& vm, int id);
  // A vCPU created elsewhere (a confidential launch); maps its kvm_run.
  static Result<Vcpu> Adopt(const KvmSystem& kvm, UniqueFd fd);

  Status SetCpuidFromHost(const KvmSystem& kvm) const;
  Status EnterLongMode(const LongModeState& s) const;
  // One KVM_RUN (EAGAIN is retried).  Entry failures and KVM internal
  // errors are host failures; everything else is an exit to handle.
  Result<VcpuExit> RunOnce();
  Result<kvm_regs> Regs() const;

 private:
  kvm_run* run() const { return reinterpret_cast<kvm_run*>(run_.data()); }

  Vcpu(UniqueFd fd, Mapping run) : fd_(std::move(fd)), run_(std::move(run)) {}
  UniqueFd fd_;
  Mapping run_;
};

}  // namespace gmem
