#include "vmm/lib/config.h"

#include "common/uapi/kvm.h"

namespace gmem {

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kDefault: return "default";
    case Mode::kSwProtected: return "sw-protected";
    case Mode::kSnp: return "snp";
    case Mode::kTdx: return "tdx";
  }
  return "?";
}

bool IsConfidential(Mode m) { return m == Mode::kSnp || m == Mode::kTdx; }

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
  switch (m) {
    case Mode::kDefault: return KVM_X86_DEFAULT_VM;
    case Mode::kSwProtected: return KVM_X86_SW_PROTECTED_VM;
    case Mode::kSnp: return KVM_X86_SNP_VM;
    case Mode::kTdx: return KVM_X86_TDX_VM;
  }
  return KVM_X86_DEFAULT_VM;
}

const char* VmTypeName(Mode m) {
  switch (m) {
    case Mode::kDefault: return "KVM_X86_DEFAULT_VM";
    case Mode::kSwProtected: return "KVM_X86_SW_PROTECTED_VM";
    case Mode::kSnp: return "KVM_X86_SNP_VM";
    case Mode::kTdx: return "KVM_X86_TDX_VM";
  }
  return "?";
}

}  // namespace gmem
