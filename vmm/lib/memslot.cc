#include "vmm/lib/memslot.h"

#include <sys/ioctl.h>

#include <utility>

#include "vmm/lib/vm.h"
#include "common/uapi/kvm.h"

namespace gmem {
namespace {

int SetRegion(int vm_fd, const MemslotSpec& s, uint64_t size) {
  kvm_userspace_memory_region2 r{};
  r.slot = s.slot;
  r.guest_phys_addr = s.gpa;
  r.memory_size = size;
  r.userspace_addr = reinterpret_cast<uint64_t>(s.host);
  if (s.gmem_fd >= 0) {
    r.flags = KVM_MEM_GUEST_MEMFD;
    r.guest_memfd = static_cast<uint32_t>(s.gmem_fd);
    r.guest_memfd_offset = s.gmem_offset;
  }
  return ::ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION2, &r);
}

}  // namespace

Result<Memslot> Memslot::Add(const Vm& vm, const MemslotSpec& spec) {
  if (SetRegion(vm.fd(), spec, spec.size) < 0) {
    int err = errno;
    return Error::Sys("KVM_SET_USER_MEMORY_REGION2", err,
                      err == ENOTTY || err == EINVAL
                          ? "the kernel may lack KVM_CAP_USER_MEMORY2 or "
                            "guest_memfd memslots"
                          : "");
  }
  return Memslot(&vm, spec);
}

Memslot::Memslot(Memslot&& o) noexcept
    : vm_(std::exchange(o.vm_, nullptr)), spec_(o.spec_) {}

Memslot::~Memslot() {
  if (vm_) SetRegion(vm_->fd(), spec_, 0);  // size 0 deletes the slot
}

}  // namespace gmem
