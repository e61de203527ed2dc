#include "vmm/lib/host_support.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "vmm/lib/size.h"
#include "common/uapi/kvm.h"

namespace gmem {

namespace {
const char* HintFor(Mode mode) {
  switch (mode) {
    case Mode::kDefault: return "needs Linux 6.18+ guest_memfd mmap support";
    case Mode::kSwProtected: return "needs a kernel with CONFIG_KVM_SW_PROTECTED_VM";
    case Mode::kSnp:
      return "needs an AMD SEV-SNP host running upstream Linux 6.11+ with "
             "kvm_amd.sev_snp=1 (see vmm/README.md)";
    case Mode::kTdx:
      return "needs an Intel TDX host running upstream Linux 6.16+ with "
             "kvm_intel.tdx=1 (see vmm/README.md)";
  }
  return "";
}
}  // namespace

Status CheckModeSupported(const Capabilities& c, Mode mode, Backing backing) {
  std::string missing;
  auto need = [&](bool ok, const char* what) {
    if (!ok) missing += (missing.empty() ? "" : ", ") + std::string(what);
  };
  need(c.user_memory2, "KVM_CAP_USER_MEMORY2");
  if (mode == Mode::kDefault && backing == Backing::kGuestMemfd) {
    need(c.guest_memfd, "KVM_CAP_GUEST_MEMFD");
    need((c.guest_memfd_flags & GUEST_MEMFD_FLAG_MMAP) != 0,
         "GUEST_MEMFD_FLAG_MMAP (KVM_CAP_GUEST_MEMFD_FLAGS)");
    need((c.guest_memfd_flags & GUEST_MEMFD_FLAG_INIT_SHARED) != 0,
         "GUEST_MEMFD_FLAG_INIT_SHARED (KVM_CAP_GUEST_MEMFD_FLAGS)");
  } else if (mode == Mode::kSnp || mode == Mode::kTdx) {
    const bool snp = mode == Mode::kSnp;
    char types[64];
    std::snprintf(types, sizeof types, " (KVM_CAP_VM_TYPES is 0x%llx)",
                  static_cast<unsigned long long>(c.vm_types));
    const unsigned type = VmType(mode);
    need(c.SupportsVmType(type), (std::string(VmTypeName(mode)) + types).c_str());
    if (snp) need(c.sev_device, c.sev_reason.empty() ? "/dev/sev" : c.sev_reason.c_str());
    else if (c.SupportsVmType(type))
      need(c.tdx_module, ("a TDX module (" + c.tdx_reason + ")").c_str());
    need(c.guest_memfd, "KVM_CAP_GUEST_MEMFD");
    need((c.memory_attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE) != 0,
         "KVM_MEMORY_ATTRIBUTE_PRIVATE (KVM_CAP_MEMORY_ATTRIBUTES)");
    need((c.exit_hypercall & (1ull << KVM_HC_MAP_GPA_RANGE)) != 0,
         "KVM_HC_MAP_GPA_RANGE exits (KVM_CAP_EXIT_HYPERCALL)");
  } else if (mode == Mode::kSwProtected) {
    need(c.SupportsVmType(KVM_X86_SW_PROTECTED_VM),
         "KVM_X86_SW_PROTECTED_VM (KVM_CAP_VM_TYPES)");
    need(c.guest_memfd, "KVM_CAP_GUEST_MEMFD");
    need((c.memory_attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE) != 0,
         "KVM_MEMORY_ATTRIBUTE_PRIVATE (KVM_CAP_MEMORY_ATTRIBUTES)");
    need((c.exit_hypercall & (1ull << KVM_HC_MAP_GPA_RANGE)) != 0,
         "KVM_HC_MAP_GPA_RANGE exits (KVM_CAP_EXIT_HYPERCALL)");
  }
  if (missing.empty()) return Ok{};
  return Error::Msg(std::string("mode ") + ModeName(mode) +
                        " is not supported by the running kernel: missing " +
                        missing,
                    ErrorKind::kUnsupported,
                    HintFor(mode));
}

bool InPlaceConversionSupported(const Capabilities& c) {
  constexpr uint64_t kFlags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
  return (c.gmem_memory_attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE) &&
         (c.guest_memfd_flags & kFlags) == kFlags;
}

Result<Conversion> ResolveConversion(const Capabilities& c, Mode mode,
                                     Conversion requested) {
  if (mode != Mode::kSwProtected) return Conversion::kAttributes;
  const bool in_place = InPlaceConversionSupported(c);
  if (requested == Conversion::kAuto)
    return in_place ? Conversion::kInPlace : Conversion::kAttributes;
  if (requested == Conversion::kInPlace && !in_place)
    return Error::Msg("in-place conversion is not supported by the running kernel: "
                      "missing KVM_MEMORY_ATTRIBUTE_PRIVATE "
                      "(KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES)",
                      ErrorKind::kUnsupported,
                      "boot with kvm.gmem_in_place_conversion=1, or use "
                      "--conversion attributes");
  return requested;
}

Status CheckHostMemory(uint64_t ram_size) {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") {
      if (ram_size / 1024 > kib)
        return Error::Msg("RAM size " + FormatSize(ram_size) +
                              " is more than the host can give (" +
                              std::to_string(kib >> 10) + " MiB available)",
                          ErrorKind::kResourceExhausted, "ask for less guest RAM");
      return Ok{};
    }
  }
  return Ok{};  // no /proc/meminfo: let the kernel decide
}

HcChannel ResolveHcChannel(HcChannel requested, Mode mode) {
  if (requested != HcChannel::kAuto) return requested;
  if (mode == Mode::kDefault && ::access("/sys/module/kvm_pvm", F_OK) == 0)
    return HcChannel::kPort;
  return HcChannel::kInstruction;
}

}  // namespace gmem
