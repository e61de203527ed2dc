// TDX launch, in the order Documentation/virt/kvm/x86/intel-tdx.rst
// ("KVM TDX creation flow") gives and QEMU (target/i386/kvm/tdx.c) issues
// on 6.16+:
//   KVM_CREATE_VM(KVM_X86_TDX_VM), KVM_TDX_CAPABILITIES, split IRQ chip,
//   guest_memfd memslots made private, KVM_TDX_INIT_VM (CPUID
//   configuration; before any vCPU), vCPUs: KVM_SET_CPUID2 with x2APIC
//   (KVM_TDX_INIT_VCPU needs it), KVM_TDX_INIT_VCPU, then the TD's CPUID
//   (KVM_TDX_GET_CPUID -> KVM_SET_CPUID2, allowed until the first KVM_RUN),
//   KVM_TDX_INIT_MEM_REGION per region (each already private; measured or
//   not), KVM_TDX_FINALIZE_VM.  A TD's registers belong to the TDX module:
//   it starts at the reset vector, no KVM_SET_REGS.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/uapi/kvm.h"
#include "vmm/lib/launch.h"

namespace gmem {
namespace {

constexpr uint32_t kMaxCpuid = 256;

long TdxOp(KvmIoctl& kvm, int vcpu, kvm_tdx_cmd* cmd) {
  const auto arg = reinterpret_cast<uintptr_t>(cmd);
  return vcpu < 0 ? kvm.Vm(KVM_MEMORY_ENCRYPT_OP, arg)
                  : kvm.Vcpu(vcpu, KVM_MEMORY_ENCRYPT_OP, arg);
}

// KVM_SET_CPUID2 with entries (the C layout: header, then the entries).
Status SetCpuid(KvmIoctl& kvm, int vcpu, std::span<const tdx::CpuidEntry> entries,
                const std::string& what) {
  std::vector<uint64_t> buf(
      (sizeof(gmem_cpuid2_header) + entries.size() * sizeof(tdx::CpuidEntry) + 7) / 8, 0);
  auto* h = reinterpret_cast<gmem_cpuid2_header*>(buf.data());
  h->nent = static_cast<uint32_t>(entries.size());
  if (!entries.empty()) std::memcpy(h + 1, entries.data(), entries.size_bytes());
  GMEM_TRY(Checked(kvm.Vcpu(vcpu, GMEM_SET_CPUID2, reinterpret_cast<uintptr_t>(h)), what));
  return Ok{};
}

Result<long> TdxChecked(long r, const kvm_tdx_cmd& cmd, const std::string& what) {
  if (r < 0 && cmd.hw_error) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(cmd.hw_error));
    return Error::Sys(what + " (TDX module status " + buf + ")", static_cast<int>(-r));
  }
  return Checked(r, what);
}

}  // namespace

Result<LaunchOutcome> LaunchTdx(KvmIoctl& kvm, const LaunchPlan& plan,
                                std::span<uint8_t> staging, const TdxLaunchParams& p) {
  if (plan.kind != CocoKind::kTdx)
    return Error::Msg("LaunchTdx: not a TDX plan", ErrorKind::kInvalidArgument);
  GMEM_TRY(Checked(kvm.System(KVM_CREATE_VM, KVM_X86_TDX_VM),
                   "KVM_CREATE_VM(KVM_X86_TDX_VM)"));

  auto caps_buf = tdx::CapabilitiesBuffer(kMaxCpuid);
  kvm_tdx_cmd cmd = tdx::Cmd(KVM_TDX_CAPABILITIES, 0,
                             reinterpret_cast<uintptr_t>(caps_buf.data()));
  GMEM_TRY(TdxChecked(TdxOp(kvm, -1, &cmd), cmd, "KVM_TDX_CAPABILITIES"));
  const kvm_tdx_capabilities& caps = tdx::Caps(caps_buf);
  if (p.attributes & ~caps.supported_attrs)
    return Error::Msg("TDX: attributes not supported by the TDX module",
                      ErrorKind::kUnsupported);
  if ((p.xfam & ~caps.supported_xfam) || (p.xfam & tdx::kXfamX87Sse) != tdx::kXfamX87Sse)
    return Error::Msg("TDX: XFAM not supported by the TDX module",
                      ErrorKind::kUnsupported);

  kvm_enable_cap split{};
  split.cap = KVM_CAP_SPLIT_IRQCHIP;
  split.args[0] = 24;  // IOAPIC pins, as QEMU
  GMEM_TRY(Checked(kvm.Vm(KVM_ENABLE_CAP, reinterpret_cast<uintptr_t>(&split)),
                   "KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)"));
  GMEM_TRY(EnableMapGpaExits(kvm));
  GMEM_TRY(CreatePrivateMemory(kvm, plan, staging));

  const auto td_cpuid = tdx::TdCpuid(tdx::CapsCpuid(caps_buf), p.host_cpuid);
  const uint64_t attributes = p.attributes | (p.optional_attributes & caps.supported_attrs);
  auto init_buf = tdx::InitVmBuffer(attributes, p.xfam, td_cpuid);
  cmd = tdx::Cmd(KVM_TDX_INIT_VM, 0, reinterpret_cast<uintptr_t>(init_buf.data()));
  GMEM_TRY(TdxChecked(TdxOp(kvm, -1, &cmd), cmd, "KVM_TDX_INIT_VM"));

  for (int id = 0; id < p.vcpus; ++id) {
    const std::string n = " (vCPU " + std::to_string(id) + ")";
    GMEM_TRY(Checked(kvm.Vm(KVM_CREATE_VCPU, static_cast<uintptr_t>(id)),
                     "KVM_CREATE_VCPU" + n));
    // KVM_TDX_INIT_VCPU sets x2APIC mode, refused without x2APIC in the
    // vCPU's CPUID (6.16 tdx_vcpu_init -> kvm_apic_set_base): QEMU and the
    // selftests set CPUID first.
    GMEM_TRY(SetCpuid(kvm, id, tdx::WithX2apic(p.host_cpuid),
                      "KVM_SET_CPUID2 (before KVM_TDX_INIT_VCPU)" + n));
    cmd = tdx::Cmd(KVM_TDX_INIT_VCPU, 0, p.vcpu_rcx);
    GMEM_TRY(TdxChecked(TdxOp(kvm, id, &cmd), cmd, "KVM_TDX_INIT_VCPU" + n));
    std::vector<uint64_t> cpuid((sizeof(gmem_cpuid2_header) +
                                 kMaxCpuid * sizeof(tdx::CpuidEntry) + 7) / 8, 0);
    reinterpret_cast<gmem_cpuid2_header*>(cpuid.data())->nent = kMaxCpuid;
    cmd = tdx::Cmd(KVM_TDX_GET_CPUID, 0, reinterpret_cast<uintptr_t>(cpuid.data()));
    GMEM_TRY(TdxChecked(TdxOp(kvm, id, &cmd), cmd, "KVM_TDX_GET_CPUID" + n));
    GMEM_TRY(Checked(kvm.Vcpu(id, GMEM_SET_CPUID2, reinterpret_cast<uintptr_t>(cpuid.data())),
                     "KVM_SET_CPUID2" + n));
  }

  LaunchOutcome out;
  tdx::Mrtd mrtd;
  for (const LaunchRegion& r : plan.regions) {
    const uint64_t off = StagingOffset(plan, r.gpa);
    if (off == UINT64_MAX || off + r.size > staging.size())
      return Error::Msg("TDX launch: region " + r.what + " outside guest memory",
                        ErrorKind::kInvalidArgument);
    kvm_tdx_init_mem_region m = tdx::MemRegion(staging.data() + off, r.gpa, r.size / 4096);
    const std::string what = "KVM_TDX_INIT_MEM_REGION (" + r.what +
                             (r.measured ? ", measured)" : ", unmeasured)");
    // KVM advances the region and returns EAGAIN/EINTR when it stops early.
    for (;;) {
      cmd = tdx::Cmd(KVM_TDX_INIT_MEM_REGION, r.measured ? KVM_TDX_MEASURE_MEMORY_REGION : 0,
                     reinterpret_cast<uintptr_t>(&m));
      const long rc = TdxOp(kvm, 0, &cmd);
      if ((rc == -EAGAIN || rc == -EINTR) && m.nr_pages) continue;
      GMEM_TRY(TdxChecked(rc, cmd, what));
      break;
    }
    mrtd.AddRegion(r.gpa, {staging.data() + off, r.size}, r.measured);
    out.measured_pages += r.size / 4096;
  }

  cmd = tdx::Cmd(KVM_TDX_FINALIZE_VM, 0, 0);
  GMEM_TRY(TdxChecked(TdxOp(kvm, -1, &cmd), cmd, "KVM_TDX_FINALIZE_VM"));
  out.expected = mrtd.Value();
  out.vcpus = p.vcpus;
  return out;
}

}  // namespace gmem
