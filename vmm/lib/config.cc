#include "vmm/lib/config.h"

#include "common/uapi/kvm.h"

namespace gmem {

const char* ModeName(Mode m) {
  return m == Mode::kDefault ? "default" : "sw-protected";
}

const char* BackingName(Backing b) {
  return b == Backing::kGuestMemfd ? "guest_memfd" : "anonymous";
}

const char* ConversionName(Conversion c) {
  switch (c) {
    case Conversion::kAuto: return "auto";
    case Conversion::kInPlace: return "in-place";
    case Conversion::kAttributes: return "attributes";
  }
  return "?";
}

unsigned VmType(Mode m) {
  return m == Mode::kDefault ? KVM_X86_DEFAULT_VM : KVM_X86_SW_PROTECTED_VM;
}

const char* VmTypeName(Mode m) {
  return m == Mode::kDefault ? "KVM_X86_DEFAULT_VM" : "KVM_X86_SW_PROTECTED_VM";
}

}  // namespace gmem
