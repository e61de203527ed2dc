#include <string>

#include "common/uapi/kvm.h"
#include "vmm/lib/launch.h"

namespace gmem {

Status EnableMapGpaExits(KvmIoctl& kvm) {
  kvm_enable_cap cap{};
  cap.cap = KVM_CAP_EXIT_HYPERCALL;
  cap.args[0] = 1ull << KVM_HC_MAP_GPA_RANGE;
  GMEM_TRY(Checked(kvm.Vm(KVM_ENABLE_CAP, reinterpret_cast<uintptr_t>(&cap)),
                   "KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL)"));
  return Ok{};
}

Status CreatePrivateMemory(KvmIoctl& kvm, const LaunchPlan& plan,
                           std::span<uint8_t> staging) {
  if (staging.size() < plan.gmem_size)
    return Error::Msg("launch: staging buffer smaller than guest memory",
                      ErrorKind::kInvalidArgument);
  kvm_create_guest_memfd g{};
  g.size = plan.gmem_size;
  const long gfd = GMEM_TRY(Checked(
      kvm.Vm(KVM_CREATE_GUEST_MEMFD, reinterpret_cast<uintptr_t>(&g)),
      "KVM_CREATE_GUEST_MEMFD"));
  for (const LaunchSlot& s : plan.slots) {
    kvm_userspace_memory_region2 r{};
    r.slot = s.slot;
    r.flags = KVM_MEM_GUEST_MEMFD;
    r.guest_phys_addr = s.gpa;
    r.memory_size = s.size;
    r.userspace_addr = reinterpret_cast<uintptr_t>(staging.data() + s.gmem_offset);
    r.guest_memfd = static_cast<uint32_t>(gfd);
    r.guest_memfd_offset = s.gmem_offset;
    const std::string what = "KVM_SET_USER_MEMORY_REGION2 (slot " +
                             std::to_string(s.slot) + ")";
    GMEM_TRY(Checked(kvm.Vm(KVM_SET_USER_MEMORY_REGION2,
                            reinterpret_cast<uintptr_t>(&r)), what));
    kvm_memory_attributes a{};
    a.address = s.gpa;
    a.size = s.size;
    a.attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
    GMEM_TRY(Checked(kvm.Vm(KVM_SET_MEMORY_ATTRIBUTES, reinterpret_cast<uintptr_t>(&a)),
                     "KVM_SET_MEMORY_ATTRIBUTES (private, slot " +
                         std::to_string(s.slot) + ")"));
  }
  return Ok{};
}

}  // namespace gmem
