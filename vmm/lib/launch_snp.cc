// SEV-SNP launch, in the order QEMU (target/i386/sev.c) and KVM's
// selftests (sev_smoke_test) issue it on 6.11+:
//   KVM_CREATE_VM(KVM_X86_SNP_VM), KVM_SEV_INIT2 (before any vCPU),
//   guest_memfd memslots made private, vCPUs, KVM_SEV_SNP_LAUNCH_START,
//   KVM_SEV_SNP_LAUNCH_UPDATE per region (each already private),
//   the vCPUs' registers (KVM copies them into the VMSAs at FINISH),
//   KVM_SEV_SNP_LAUNCH_FINISH.
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/uapi/kvm.h"
#include "vmm/lib/launch.h"
#include "vmm/lib/long_mode.h"
#include "vmm/lib/size.h"

namespace gmem {
namespace {

Result<long> SevOp(KvmIoctl& kvm, uint32_t id, const void* data, int sev_fd,
                   const std::string& what, bool retry_eagain = false) {
  kvm_sev_cmd cmd = snp::Cmd(id, data, sev_fd);
  long r;
  // KVM may stop LAUNCH_UPDATE early with EAGAIN, the buffer advanced
  // (QEMU's sev_snp_launch_update loops the same way).
  do {
    cmd.error = 0;
    r = kvm.Vm(KVM_MEMORY_ENCRYPT_OP, reinterpret_cast<uintptr_t>(&cmd));
  } while (retry_eagain && r == -EAGAIN);
  if (r < 0 && cmd.error)
    return Error::Sys(what + " (firmware error " + std::to_string(cmd.error) + ")",
                      static_cast<int>(-r));
  return Checked(r, what);
}

}  // namespace

Result<LaunchOutcome> LaunchSnp(KvmIoctl& kvm, const LaunchPlan& plan,
                                std::span<uint8_t> staging, const SnpLaunchParams& p) {
  if (plan.kind != CocoKind::kSnp)
    return Error::Msg("LaunchSnp: not an SNP plan", ErrorKind::kInvalidArgument);
  GMEM_TRY(Checked(kvm.System(KVM_CREATE_VM, KVM_X86_SNP_VM),
                   "KVM_CREATE_VM(KVM_X86_SNP_VM)"));
  GMEM_TRY(EnableMapGpaExits(kvm));
  const kvm_sev_init init = snp::Init2();
  GMEM_TRY(SevOp(kvm, KVM_SEV_INIT2, &init, p.sev_fd, "KVM_SEV_INIT2"));
  GMEM_TRY(CreatePrivateMemory(kvm, plan, staging));
  for (int id = 0; id < p.vcpus; ++id) {
    GMEM_TRY(Checked(kvm.Vm(KVM_CREATE_VCPU, static_cast<uintptr_t>(id)),
                     "KVM_CREATE_VCPU " + std::to_string(id)));
    if (p.vcpu_cpuid.empty()) continue;
    std::vector<uint64_t> buf((sizeof(gmem_cpuid2_header) +
                               p.vcpu_cpuid.size() * sizeof(tdx::CpuidEntry) + 7) / 8, 0);
    auto* h = reinterpret_cast<gmem_cpuid2_header*>(buf.data());
    h->nent = static_cast<uint32_t>(p.vcpu_cpuid.size());
    std::memcpy(h + 1, p.vcpu_cpuid.data(), p.vcpu_cpuid.size() * sizeof(tdx::CpuidEntry));
    GMEM_TRY(Checked(kvm.Vcpu(id, GMEM_SET_CPUID2, reinterpret_cast<uintptr_t>(h)),
                     "KVM_SET_CPUID2"));
  }

  const kvm_sev_snp_launch_start start = snp::LaunchStart(p.policy);
  GMEM_TRY(SevOp(kvm, KVM_SEV_SNP_LAUNCH_START, &start, p.sev_fd,
                 "KVM_SEV_SNP_LAUNCH_START"));

  const std::vector<uint8_t> cpuid = snp::CpuidPage(p.cpuid);
  if (cpuid.empty())
    return Error::Msg("SNP CPUID page: more than 64 functions",
                      ErrorKind::kInvalidArgument);
  std::memcpy(staging.data() + StagingOffset(plan, kSnpCpuidGpa), cpuid.data(),
              cpuid.size());

  LaunchOutcome out;
  snp::LaunchDigest digest;
  for (const LaunchRegion& r : plan.regions) {
    const uint64_t off = StagingOffset(plan, r.gpa);
    if (off == UINT64_MAX || off + r.size > staging.size())
      return Error::Msg("SNP launch: region " + r.what + " outside guest memory",
                        ErrorKind::kInvalidArgument);
    const std::span<const uint8_t> data(staging.data() + off, r.size);
    kvm_sev_snp_launch_update u =
        snp::LaunchUpdate(r.gpa, data.data(), r.size, r.snp_type);
    const std::string what = "KVM_SEV_SNP_LAUNCH_UPDATE (" + r.what + ", " +
                             snp::PageTypeName(r.snp_type) + ")";
    // KVM succeeds having done part of the range (a pending signal, the end
    // of a memslot): it advances gfn_start/uaddr/len, and the rest is
    // issued again until len is 0 (QEMU's sev_snp_launch_update loops
    // while update.len).  No progress is an error, not a loop.
    do {
      const uint64_t before = u.len;
      GMEM_TRY(SevOp(kvm, KVM_SEV_SNP_LAUNCH_UPDATE, &u, p.sev_fd, what, true));
      if (u.len != 0 && u.len >= before)
        return Error::Msg(what + ": KVM made no progress at " + Hex(u.gfn_start << 12));
    } while (u.len != 0);
    if ((u.gfn_start << 12) != r.gpa + r.size)
      return Error::Msg(what + ": KVM stopped at " + Hex(u.gfn_start << 12) +
                        ", not at the end of the range");
    digest.AddRange(r.gpa, data, r.size, r.snp_type);
  }

  for (int id = 0; id < p.vcpus; ++id) {
    kvm_sregs sregs{};
    GMEM_TRY(Checked(kvm.Vcpu(id, KVM_GET_SREGS, reinterpret_cast<uintptr_t>(&sregs)),
                     "KVM_GET_SREGS"));
    kvm_regs regs{};
    LongModeRegisters(p.entry, &sregs, &regs);
    GMEM_TRY(Checked(kvm.Vcpu(id, KVM_SET_SREGS, reinterpret_cast<uintptr_t>(&sregs)),
                     "KVM_SET_SREGS"));
    GMEM_TRY(Checked(kvm.Vcpu(id, KVM_SET_REGS, reinterpret_cast<uintptr_t>(&regs)),
                     "KVM_SET_REGS"));
  }

  const kvm_sev_snp_launch_finish finish = snp::LaunchFinish();
  GMEM_TRY(SevOp(kvm, KVM_SEV_SNP_LAUNCH_FINISH, &finish, p.sev_fd,
                 "KVM_SEV_SNP_LAUNCH_FINISH"));
  out.expected = digest.digest();
  out.measured_pages = digest.pages();
  out.vcpus = p.vcpus;
  return out;
}

}  // namespace gmem
