#include "vmm/lib/config.h"

#include "common/uapi/kvm.h"

namespace gmem {

const char* ModeName(Mode m) {
  return m == Mode::kDefault ? "default" : "sw-protected";
}

const char* BackingName(Backing b) {
  return b == Backing::kGuestMemfd ? "guest_memfd" : "anonymous";
}

unsigned VmType(Mode m) {
  return m == Mode::kDefault ? KVM_X86_DEFAULT_VM : KVM_X86_SW_PROTECTED_VM;
}

const char* VmTypeName(Mode m) {
  return m == Mode::kDefault ? "KVM_X86_DEFAULT_VM" : "KVM_X86_SW_PROTECTED_VM";
}

}  // namespace gmem
