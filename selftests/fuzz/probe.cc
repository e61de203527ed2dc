#include "selftests/fuzz/probe.h"

#include <cpuid.h>

#include <cerrno>
#include <cstring>

#include "selftests/lib/kvm.h"

namespace fuzz {
namespace {

// Host MAXPHYADDR, which bounds the gfns a memslot may have on x86.
unsigned PhysBits() {
  unsigned a, b, c, d;
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000008 &&
      __get_cpuid(0x80000008, &a, &b, &c, &d))
    return a & 0xff;
  return 36;
}

}  // namespace

std::string ProbeKernel(Env* env) {
  gmt::UniqueFd kvm = gmt::OpenKvm();
  if (!kvm.valid()) return std::string("/dev/kvm: ") + std::strerror(errno);
  for (long cap : {KVM_CAP_USER_MEMORY2, KVM_CAP_GUEST_MEMFD, KVM_CAP_MEMORY_ATTRIBUTES}) {
    if (gmt::CheckExtension(kvm.get(), cap) <= 0)
      return "capability " + std::to_string(cap) + " is missing";
  }
  if (!gmt::VmTypeSupported(kvm.get(), KVM_X86_SW_PROTECTED_VM))
    return "VM type KVM_X86_SW_PROTECTED_VM is not supported";
  gmt::UniqueFd vm(static_cast<int>(
      gmt::Ioctl(kvm.get(), KVM_CREATE_VM, static_cast<unsigned long>(KVM_X86_SW_PROTECTED_VM))));
  if (!vm.valid()) return std::string("KVM_CREATE_VM(SW_PROTECTED): ") + std::strerror(errno);
  env->prefault_cap = gmt::CheckExtension(vm.get(), KVM_CAP_PRE_FAULT_MEMORY) > 0;
  long flags = gmt::CheckExtension(vm.get(), KVM_CAP_GUEST_MEMFD_FLAGS);
  env->gmem_flags = flags > 0 ? static_cast<uint64_t>(flags) : 0;
  long attrs = gmt::CheckExtension(vm.get(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
  env->gmem_attributes = attrs > 0 ? static_cast<uint64_t>(attrs) : 0;
  long n = gmt::CheckExtension(kvm.get(), KVM_CAP_MAX_VCPUS);
  if (n > 0) env->max_vcpus = n;
  n = gmt::CheckExtension(kvm.get(), KVM_CAP_MAX_VCPU_ID);
  if (n > 0) env->max_vcpu_id = n;
  n = gmt::CheckExtension(vm.get(), KVM_CAP_NR_MEMSLOTS);
  if (n > 0) env->user_memslots = n;
  env->max_gfn = (1ULL << (PhysBits() - 12)) - 1;
  return "";
}

}  // namespace fuzz
