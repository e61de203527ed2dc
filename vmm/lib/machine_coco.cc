#include "vmm/lib/machine_coco.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <chrono>
#include <type_traits>
#include <vector>

#include "common/uapi/kvm.h"
#include "vmm/guest/abi.h"
#include "vmm/lib/boot_image.h"
#include "vmm/lib/launch.h"
#include "vmm/lib/size.h"
#include "vmm/lib/vcpu.h"

namespace gmem {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<kvm_cpuid_entry2> SupportedCpuid(const KvmSystem& kvm) {
  constexpr uint32_t kMax = 256;
  std::vector<uint64_t> buf((sizeof(gmem_cpuid2_header) + kMax * sizeof(kvm_cpuid_entry2) + 7) / 8);
  auto* h = reinterpret_cast<gmem_cpuid2_header*>(buf.data());
  h->nent = kMax;
  if (::ioctl(kvm.fd(), GMEM_GET_SUPPORTED_CPUID, h) < 0) return {};
  auto* e = reinterpret_cast<kvm_cpuid_entry2*>(h + 1);
  return {e, e + h->nent};
}

// Converts [gpa, gpa + size): the VM's attributes, then the side left
// behind is freed (guest_memfd punched going shared, the staging copy
// dropped going private).
Status Convert(KvmIoctl& k, int gmem_fd, uint8_t* staging, uint64_t ram,
               uint64_t gpa, uint64_t size, bool to_private, CocoSummary& s) {
  if (gpa >= ram || size > ram - gpa || (gpa | size) & 4095)
    return Error::Msg("guest asked to convert " + Hex(gpa) + "+" + Hex(size) +
                      ", outside its RAM", ErrorKind::kGuestFault);
  kvm_memory_attributes a{};
  a.address = gpa;
  a.size = size;
  a.attributes = to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
  GMEM_TRY(Checked(k.Vm(KVM_SET_MEMORY_ATTRIBUTES, reinterpret_cast<uintptr_t>(&a)),
                   "KVM_SET_MEMORY_ATTRIBUTES"));
  if (to_private) {
    ::madvise(staging + gpa, size, MADV_DONTNEED);
    s.to_private += size >> 12;
  } else {
    if (::fallocate(gmem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(gpa), static_cast<off_t>(size)) < 0)
      return Error::Sys("fallocate(PUNCH_HOLE) on guest_memfd", errno);
    s.to_shared += size >> 12;
  }
  return Ok{};
}

}  // namespace

Result<CocoSummary> RunConfidentialGuest(const KvmSystem& kvm, const RunConfig& cfg) {
  auto say = [&](const std::string& m) {
    if (cfg.progress) cfg.progress(m);
  };
  const bool snp = cfg.mode == Mode::kSnp;
  const uint64_t ram = cfg.ram_size;
  const LaunchPlan plan = PlanLaunch(snp ? CocoKind::kSnp : CocoKind::kTdx, ram,
                                     cfg.payload.image.size() + cfg.payload.bss_size);
  Mapping staging = Mapping::MapAnonAligned(plan.gmem_size, 2ull << 20,
                                            PROT_READ | PROT_WRITE, MAP_PRIVATE);
  if (!staging.valid()) return Error::Sys("mmap(guest staging memory)", errno);
  const std::span<uint8_t> mem(staging.data(), plan.gmem_size);

  BootParams params;
  params.abi_mode = snp ? abi::kModeSnp : abi::kModeTdx;
  params.flags = abi::kFlagHypercallExits;
  const BootImage boot = GMEM_TRY(WriteBootImage(mem.first(ram), cfg.payload, params));
  const auto cpuid = SupportedCpuid(kvm);

  RealKvmIoctl k(kvm.fd());
  CocoSummary sum;
  LaunchOutcome launched;
  UniqueFd sev;
  if (snp) {
    uint32_t cbit_ebx = 0;
    std::vector<snp::CpuidFunction> table;
    for (const auto& e : cpuid) {
      if (e.function == 0x8000001f) cbit_ebx = e.ebx;
      if (table.size() < snp::kCpuidMaxFunctions)
        table.push_back({e.function, e.index, 0, 0, e.eax, e.ebx, e.ecx, e.edx, 0});
    }
    if (!cbit_ebx)
      return Error::Msg("SNP: KVM reports no C-bit position (CPUID 0x8000001F)",
                        ErrorKind::kUnsupported);
    SetLeafBits(mem, boot.page_tables, snp::CBitMask(cbit_ebx));
    sev = UniqueFd(::open("/dev/sev", O_RDWR | O_CLOEXEC));
    if (!sev.valid()) return Error::Sys("open /dev/sev", errno, "", ErrorKind::kUnsupported);
    SnpLaunchParams p;
    p.sev_fd = sev.get();
    p.entry = boot.cpu;
    p.cpuid = table;
    p.vcpu_cpuid.assign(cpuid.begin(), cpuid.end());
    say("launching SEV-SNP guest (" + FormatSize(ram) + ", policy " + Hex(p.policy) + ")");
    launched = GMEM_TRY_CTX(LaunchSnp(k, plan, mem, p), "launching the SNP guest");
    sum.expected_what = "launch digest of the loaded pages (before KVM's VMSA)";
  } else {
    const std::vector<uint8_t> reset =
        tdx::ResetPage(static_cast<uint32_t>(cfg.payload.entry_gpa));
    std::memcpy(mem.data() + StagingOffset(plan, kTdxResetPageGpa), reset.data(), reset.size());
    TdxLaunchParams p;
    p.host_cpuid.assign(cpuid.begin(), cpuid.end());
    say("launching TDX guest (" + FormatSize(ram) + ")");
    launched = GMEM_TRY_CTX(LaunchTdx(k, plan, mem, p), "launching the TD");
    sum.expected_what = "MRTD";
  }
  sum.expected = Hex(launched.expected);
  say("expected " + sum.expected_what + ": " + sum.expected);

  Vcpu vcpu = GMEM_TRY(Vcpu::Adopt(kvm, k.TakeVcpu(0)));
  const auto deadline = Clock::now() + std::chrono::seconds(cfg.timeout_s);
  while (sum.verdict.empty()) {
    if (Clock::now() > deadline) {
      sum.verdict = "guest timed out";
      break;
    }
    VcpuExit exit = GMEM_TRY_CTX(vcpu.RunOnce(), "running the guest");
    ++sum.exits;
    if (auto* h = std::get_if<HypercallExit>(&exit)) {
      if (h->nr != KVM_HC_MAP_GPA_RANGE) {
        *h->ret = static_cast<uint64_t>(-KVM_ENOSYS);
        continue;
      }
      const Status st = Convert(k, k.gmem_fd(), mem.data(), ram, h->args[0], h->args[1] << 12,
                                (h->args[2] & KVM_MAP_GPA_RANGE_ENCRYPTED) != 0, sum);
      *h->ret = st.ok() ? 0 : static_cast<uint64_t>(-KVM_EINVAL);
    } else if (auto* f = std::get_if<MemoryFaultExit>(&exit)) {
      GMEM_TRY(Convert(k, k.gmem_fd(), mem.data(), ram, f->gpa & ~4095ull,
                       (f->size + 4095) & ~4095ull, f->to_private, sum));
    } else if (auto* io = std::get_if<IoExit>(&exit)) {
      uint32_t v = 0;
      std::memcpy(&v, io->data.data(), std::min<size_t>(4, io->data.size()));
      if (io->port == abi::kPortConsole && !io->in) sum.console += static_cast<char>(v);
      if (io->port == abi::kPortMeasurement && !io->in && sum.reported.size() < 96) {
        static const char kHex[] = "0123456789abcdef";
        sum.reported += kHex[(v >> 4) & 15];
        sum.reported += kHex[v & 15];
      }
      if (io->port == abi::kPortVerdict && !io->in)
        sum.verdict = v == 0 ? "PASS" : "FAIL at step " + std::to_string(v);
    } else if (auto* o = std::get_if<OtherExit>(&exit)) {
      if (o->reason == KVM_EXIT_SYSTEM_EVENT && o->event_type == KVM_SYSTEM_EVENT_SEV_TERM) {
        const auto t = snp::DecodeTermination(o->event_data0);
        if (t.is_request && t.reason_set == abi::kSnpTermSet)
          sum.verdict = t.reason_code == 0 ? "PASS"
                                           : "FAIL at step " + std::to_string(t.reason_code);
        else
          sum.verdict = "guest terminated: GHCB " + Hex(o->event_data0);
      } else {
        sum.verdict = "unexpected exit reason " + std::to_string(o->reason);
      }
    } else if (std::holds_alternative<ShutdownExit>(exit)) {
      sum.verdict = "guest shut down (triple fault)";
    } else if (std::holds_alternative<HaltExit>(exit)) {
      sum.verdict = "guest halted without a verdict";
    }
  }
  sum.passed = sum.verdict == "PASS";
  return sum;
}

std::string FormatCocoSummary(const RunConfig& cfg, const CocoSummary& s) {
  std::string t;
  auto row = [&](const std::string& k, const std::string& v) {
    t += "| " + k + std::string(k.size() < 28 ? 28 - k.size() : 0, ' ') + "| " + v + "\n";
  };
  row("verdict", s.verdict);
  row("mode", ModeName(cfg.mode));
  row("vm type", VmTypeName(cfg.mode));
  row("RAM", FormatSize(cfg.ram_size));
  row("expected " + s.expected_what, s.expected);
  row("reported by the firmware",
      !s.reported.empty() ? s.reported + (s.reported == s.expected ? " (match)" : " (MISMATCH)")
      : cfg.mode == Mode::kSnp ? "not fetched (needs an SNP guest request for a report)"
                               : "none received");
  row("pages to private", std::to_string(s.to_private));
  row("pages to shared", std::to_string(s.to_shared));
  row("exits", std::to_string(s.exits));
  if (!s.console.empty()) t += s.console;
  return t;
}

}  // namespace gmem
