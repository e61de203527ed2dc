// A KVM VM: its type, memslots and memory attributes.
#pragma once

#include <cstdint>

#include "vmm/lib/kvm_system.h"
#include "vmm/lib/result.h"
#include "vmm/lib/unique_fd.h"

namespace gmem {

class Vm {
 public:
  // type: KVM_X86_DEFAULT_VM or KVM_X86_SW_PROTECTED_VM.
  static Result<Vm> Create(const KvmSystem& kvm, unsigned type);

  int fd() const { return fd_.get(); }
  Status EnableCap(uint32_t cap, uint64_t arg0) const;
  Status SetMemoryAttributes(uint64_t gpa, uint64_t size, uint64_t attrs) const;

 private:
  explicit Vm(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace gmem
