// The ioctls a confidential launch issues, behind an interface: the real
// one on /dev/kvm, or a fake KVM in the tests (vmm/test/fake_kvm.h) that
// records the calls and enforces the rules KVM applies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmm/lib/result.h"
#include "vmm/lib/unique_fd.h"

namespace gmem {

class KvmIoctl {
 public:
  virtual ~KvmIoctl() = default;
  // Each returns the ioctl's non-negative result or -errno.  The VM is
  // the one System(KVM_CREATE_VM) made; vCPUs are named by their id.
  // File descriptors the calls create are owned by the implementation.
  virtual long System(unsigned long req, uintptr_t arg) = 0;
  virtual long Vm(unsigned long req, uintptr_t arg) = 0;
  virtual long Vcpu(int id, unsigned long req, uintptr_t arg) = 0;
};

// The result of an ioctl as a Status: "what: strerror (errno N)".
Result<long> Checked(long r, const std::string& what, std::string hint = {});

// /dev/kvm and what the calls create, each fd owned (closed last to first).
class RealKvmIoctl final : public KvmIoctl {
 public:
  explicit RealKvmIoctl(int kvm_fd) : kvm_fd_(kvm_fd) {}
  long System(unsigned long req, uintptr_t arg) override;
  long Vm(unsigned long req, uintptr_t arg) override;
  long Vcpu(int id, unsigned long req, uintptr_t arg) override;
  int vm_fd() const { return vm_.get(); }
  int vcpu_fd(int id) const;
  UniqueFd TakeVcpu(int id);  // for the run loop, once launched
  int gmem_fd() const { return others_.empty() ? -1 : others_.front().get(); }

 private:
  int kvm_fd_;  // not owned
  UniqueFd vm_;
  std::vector<UniqueFd> vcpus_;  // index = id
  std::vector<UniqueFd> others_;  // guest_memfd
};

}  // namespace gmem
