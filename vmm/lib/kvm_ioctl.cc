#include "vmm/lib/kvm_ioctl.h"

#include <sys/ioctl.h>

#include <cerrno>

#include "common/uapi/kvm.h"

namespace gmem {

Result<long> Checked(long r, const std::string& what, std::string hint) {
  if (r < 0) return Error::Sys(what, static_cast<int>(-r), std::move(hint));
  return r;
}

namespace {
long Do(int fd, unsigned long req, uintptr_t arg) {
  const long r = ::ioctl(fd, req, arg);
  return r < 0 ? -errno : r;
}
}  // namespace

long RealKvmIoctl::System(unsigned long req, uintptr_t arg) {
  const long r = Do(kvm_fd_, req, arg);
  if (req == KVM_CREATE_VM && r >= 0) vm_ = UniqueFd(static_cast<int>(r));
  return r;
}

long RealKvmIoctl::Vm(unsigned long req, uintptr_t arg) {
  if (!vm_.valid()) return -EBADF;
  const long r = Do(vm_.get(), req, arg);
  if (r >= 0 && req == KVM_CREATE_VCPU) {
    if (vcpus_.size() <= arg) vcpus_.resize(arg + 1);
    vcpus_[arg] = UniqueFd(static_cast<int>(r));
  } else if (r >= 0 && req == KVM_CREATE_GUEST_MEMFD) {
    others_.emplace_back(static_cast<int>(r));
  }
  return r;
}

long RealKvmIoctl::Vcpu(int id, unsigned long req, uintptr_t arg) {
  const int fd = vcpu_fd(id);
  return fd < 0 ? -EBADF : Do(fd, req, arg);
}

UniqueFd RealKvmIoctl::TakeVcpu(int id) {
  if (id < 0 || static_cast<size_t>(id) >= vcpus_.size()) return UniqueFd();
  return std::move(vcpus_[id]);
}

int RealKvmIoctl::vcpu_fd(int id) const {
  if (id < 0 || static_cast<size_t>(id) >= vcpus_.size()) return -1;
  return vcpus_[id].get();
}

}  // namespace gmem
