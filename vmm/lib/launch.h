// The SEV-SNP and TDX launch sequences (upstream's ABI: SNP Linux 6.11+,
// TDX 6.16+), issued through KvmIoctl so that a fake KVM can check them.
// Both leave a VM whose RAM is one guest_memfd, all of it private, with the
// boot image loaded and measured, ready for KVM_RUN.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/lib/boot_image.h"
#include "vmm/lib/kvm_ioctl.h"
#include "vmm/lib/launch_plan.h"
#include "vmm/lib/result.h"
#include "vmm/lib/sha384.h"
#include "vmm/lib/tdx.h"

namespace gmem {

struct LaunchOutcome {
  // What the VMM expects the firmware to report: SNP, the launch digest
  // of the pages it loaded (KVM adds each vCPU's VMSA at LAUNCH_FINISH,
  // which is KVM's own and not predicted here); TDX, the MRTD.
  Digest384 expected{};
  uint64_t measured_pages = 0;
  int vcpus = 0;
};

struct SnpLaunchParams {
  int sev_fd = -1;  // /dev/sev, passed in every command
  uint64_t policy = snp::kDefaultPolicy;
  LongModeState entry{};
  int vcpus = 1;
  std::vector<snp::CpuidFunction> cpuid;  // the CPUID page's table
  // KVM_SET_CPUID2 for each vCPU (KVM's view of the guest's CPUID, as
  // QEMU sets it); empty: not set.
  std::vector<tdx::CpuidEntry> vcpu_cpuid;
};

struct TdxLaunchParams {
  uint64_t attributes = 0;  // TD attributes required (0: no debug, ...)
  // Added where the TDX module offers them: SEPT_VE_DISABLE (bit 28), as
  // QEMU does by default, so a pending page faults to KVM, not as #VE into
  // a guest that has no #VE handler.
  uint64_t optional_attributes = tdx::kAttrSeptVeDisable;
  uint64_t xfam = tdx::kXfamX87Sse;
  int vcpus = 1;
  // KVM_GET_SUPPORTED_CPUID: what the TD's configurable CPUID is cut to.
  std::vector<tdx::CpuidEntry> host_cpuid;
  uint64_t vcpu_rcx = 0;  // KVM_TDX_INIT_VCPU: the vCPU's initial RCX
};

// staging: plan.gmem_size bytes, the boot image at each slot's
// gmem_offset; it is also the slots' userspace_addr (the shared side).
Result<LaunchOutcome> LaunchSnp(KvmIoctl& kvm, const LaunchPlan& plan,
                                std::span<uint8_t> staging, const SnpLaunchParams& p);
Result<LaunchOutcome> LaunchTdx(KvmIoctl& kvm, const LaunchPlan& plan,
                                std::span<uint8_t> staging, const TdxLaunchParams& p);

// Shared by both: guest_memfd, one memslot per plan slot, all of it made
// private (as QEMU does when it adds guest_memfd RAM), hypercall exits for
// KVM_HC_MAP_GPA_RANGE (the guest's page-state changes / MapGPA).
Status EnableMapGpaExits(KvmIoctl& kvm);
Status CreatePrivateMemory(KvmIoctl& kvm, const LaunchPlan& plan,
                           std::span<uint8_t> staging);

}  // namespace gmem
