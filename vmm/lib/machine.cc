#include "vmm/lib/machine.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>

#include "vmm/guest/abi.h"
#include "vmm/lib/conversion.h"
#include "vmm/lib/guest_memfd.h"
#include "vmm/lib/hypercall.h"
#include "vmm/lib/isolation.h"
#include "vmm/lib/memslot.h"
#include "vmm/lib/page_tables.h"
#include "vmm/lib/payload.h"
#include "vmm/lib/vcpu.h"
#include "vmm/lib/vm.h"
#include "vmm/uapi/kvm_gmem.h"

namespace gmem {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(t - t0).count();
}

std::string Hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

const char* ExitName(uint32_t r) {
  switch (r) {
    case KVM_EXIT_IO: return "io";
    case KVM_EXIT_HLT: return "hlt";
    case KVM_EXIT_MMIO: return "mmio";
    case KVM_EXIT_HYPERCALL: return "hypercall";
    case KVM_EXIT_MEMORY_FAULT: return "memory_fault";
    case KVM_EXIT_SHUTDOWN: return "shutdown";
    case KVM_EXIT_FAIL_ENTRY: return "fail_entry";
    case KVM_EXIT_INTERNAL_ERROR: return "internal_error";
    case KVM_EXIT_EXCEPTION: return "exception";
    case KVM_EXIT_INTR: return "intr";
  }
  return "other";
}

// A periodic SIGALRM makes KVM_RUN return EINTR so a stuck guest is noticed.
void OnAlarm(int) {}
class TickTimer {
 public:
  TickTimer() {
    struct sigaction sa {};
    sa.sa_handler = OnAlarm;  // no SA_RESTART: interrupt KVM_RUN
    sigaction(SIGALRM, &sa, &old_);
    itimerval it{{0, 250000}, {0, 250000}};
    setitimer(ITIMER_REAL, &it, nullptr);
  }
  ~TickTimer() {
    itimerval off{};
    setitimer(ITIMER_REAL, &off, nullptr);
    sigaction(SIGALRM, &old_, nullptr);
  }

 private:
  struct sigaction old_ {};
};

}  // namespace

HcChannel ResolveHcChannel(HcChannel requested, Mode mode) {
  if (requested != HcChannel::kAuto) return requested;
  if (mode == Mode::kDefault && ::access("/sys/module/kvm_pvm", F_OK) == 0)
    return HcChannel::kPort;
  return HcChannel::kInstruction;
}

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
                    kExitUnsupported,
                    mode == Mode::kDefault
                        ? "needs Linux 6.18+ guest_memfd mmap support"
                        : "needs a kernel with CONFIG_KVM_SW_PROTECTED_VM");
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
                          kExitUsage, "ask for less guest RAM");
      return Ok{};
    }
  }
  return Ok{};  // no /proc/meminfo: let the kernel decide
}

Result<Summary> RunGuest(const KvmSystem& kvm, const Capabilities& caps,
                         const RunConfig& cfg) {
  auto say = [&](const std::string& s) {
    if (cfg.progress) cfg.progress(s);
  };
  const uint64_t ram = cfg.ram_size;
  const bool gmem_backed = cfg.backing == Backing::kGuestMemfd;
  const bool swp = cfg.mode == Mode::kSwProtected;
  const unsigned vm_type = swp ? KVM_X86_SW_PROTECTED_VM : KVM_X86_DEFAULT_VM;

  Summary sum;
  sum.mode = ModeName(cfg.mode);
  sum.vm_type = swp ? "KVM_X86_SW_PROTECTED_VM" : "KVM_X86_DEFAULT_VM";
  sum.backing = BackingName(cfg.backing);
  sum.ram_bytes = ram;

  GMEM_TRY(CheckModeSupported(caps, cfg.mode, cfg.backing));
  Payload payload = GMEM_TRY(ParsePayload(cfg.payload_file, abi::kPayloadGpa,
                                          abi::kPayloadGpa + abi::kPayloadMax));

  // Declaration order is teardown order in reverse: slot before gmem and
  // mapping, all before the VM.
  say(std::string("creating ") + ModeName(cfg.mode) + " VM with " +
      FormatSize(ram) + " of RAM in " + BackingName(cfg.backing));
  Vm vm = GMEM_TRY_CTX(Vm::Create(kvm, vm_type), "creating the VM");
  std::optional<GuestMemfd> gmem;
  Mapping view;  // the memslot's userspace_addr: the host's (shared) view
  if (gmem_backed) {
    uint64_t flags = swp ? 0 : GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
    gmem.emplace(GMEM_TRY_CTX(GuestMemfd::Create(vm, ram, flags),
                              "creating guest_memfd of " + FormatSize(ram)));
  }
  if (gmem_backed && !swp) {
    view = GMEM_TRY_CTX(gmem->Map(), "mapping guest_memfd");
  } else {
    void* p = ::mmap(nullptr, ram, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      return Error::Sys("mmap(anonymous, " + FormatSize(ram) + ")", errno,
                        "ask for less guest RAM", kExitUsage);
    view = Mapping(p, ram);
    if (cfg.anon_small_pages && ::madvise(p, ram, MADV_NOHUGEPAGE) < 0)
      return Error::Sys("madvise(MADV_NOHUGEPAGE)", errno);
  }
  MemslotSpec spec;
  spec.slot = 0;
  spec.gpa = 0;
  spec.size = ram;
  spec.host = view.data();
  if (gmem) spec.gmem_fd = gmem->fd();
  Memslot slot = GMEM_TRY_CTX(Memslot::Add(vm, spec), "adding the memslot");

  std::unique_ptr<ConversionBackend> conv =
      swp ? MakeAttributesPunchBackend(vm, *gmem, view.data(), ram)
          : MakeSharedOnlyBackend(ram);
  sum.conversion = conv->name();

  const HcChannel channel = ResolveHcChannel(cfg.hypercall, cfg.mode);
  bool hc_exits = channel == HcChannel::kPort;
  if (channel == HcChannel::kInstruction &&
      (caps.exit_hypercall & (1ull << KVM_HC_MAP_GPA_RANGE))) {
    GMEM_TRY_CTX(vm.EnableCap(KVM_CAP_EXIT_HYPERCALL, 1ull << KVM_HC_MAP_GPA_RANGE),
                 "enabling MAP_GPA_RANGE exits");
    hc_exits = true;
  }

  // Boot state: GDT, identity map, boot info, payload.
  std::span<uint8_t> mem(view.data(), ram);
  say("loading payload (" + std::to_string(payload.image.size()) +
      " bytes) at " + Hex(payload.load_gpa) + ", page tables, boot info");
  PageTableLayout pt = GMEM_TRY(
      PlanIdentityMap(abi::kPageTableGpa, abi::kPageTableEnd, ram));
  GMEM_TRY(WriteIdentityMap(mem, pt));
  GMEM_TRY(WriteGdt(mem, abi::kGdtGpa));
  GMEM_TRY(LoadPayload(mem, payload));
  auto* boot = reinterpret_cast<volatile abi::BootInfo*>(mem.data() + abi::kBootInfoGpa);
  abi::BootInfo bi{};
  bi.magic = abi::kBootMagic;
  bi.version = 1;
  bi.mode = swp ? abi::kModeSwProtected : abi::kModeDefault;
  bi.ram_size = ram;
  bi.work_gpa = abi::kWorkGpa;
  bi.work_size = ram - abi::kWorkGpa;
  if (cfg.bench_only && cfg.fill_limit && cfg.fill_limit < bi.work_size)
    bi.work_size = cfg.fill_limit;
  bi.fill_seed = 0x5eed0000ull + ram;
  bi.bench_only = cfg.bench_only;
  bi.flags = hc_exits ? abi::kFlagHypercallExits : 0;
  if (channel == HcChannel::kPort) bi.flags |= abi::kFlagHypercallPort;
  sum.hypercall = channel == HcChannel::kPort
                      ? "I/O-port mailbox (host KVM cannot deliver VMCALL)"
                  : hc_exits ? "VMCALL/VMMCALL -> KVM_EXIT_HYPERCALL"
                             : "none (no KVM_CAP_EXIT_HYPERCALL; guest skips conversions)";
  std::memcpy(const_cast<abi::BootInfo*>(boot), &bi, sizeof bi);

  if (swp) {
    // Everything past the boot region becomes private before the guest runs.
    say("making " + FormatSize(ram - abi::kWorkGpa) + " of guest RAM private");
    GMEM_TRY_CTX(conv->Convert(abi::kWorkGpa, ram - abi::kWorkGpa, true),
                 "making guest RAM private");
  }

  Vcpu vcpu = GMEM_TRY_CTX(Vcpu::Create(kvm, vm, 0), "creating the vCPU");
  GMEM_TRY(vcpu.SetCpuidFromHost(kvm));
  GMEM_TRY(vcpu.EnterLongMode({pt.pml4_gpa, abi::kGdtGpa, kGdtLimit,
                               payload.entry_gpa, abi::kStackTop}));

  // Run.
  TickTimer ticks;
  const auto deadline = Clock::now() + std::chrono::seconds(cfg.timeout_s);
  kvm_run* run = vcpu.run();
  Clock::time_point fill_begin{};
  std::string console;
  bool done = false;
  bool host_ok = true;
  std::string host_problem;
  sum.host_isolation = swp ? "not checked" : "no private memory in a default VM";

  // MAP_GPA_RANGE, whichever way it arrived: returns the guest's ret.
  auto service_hypercall = [&](uint64_t nr, const uint64_t args[3]) -> Result<uint64_t> {
    auto req = DecodeMapGpaRange(nr, args);
    if (!req.ok()) {
      sum.rejected_hypercalls++;
      return nr == KVM_HC_MAP_GPA_RANGE ? kHcEinval : kHcEnosys;
    }
    const MapGpaRange& r = req.value();
    Status cs = conv->Convert(r.gpa, r.size, r.to_private);
    if (!cs.ok()) {
      if (cs.error().err() == 0) {  // out of range: the guest's mistake
        sum.rejected_hypercalls++;
        return kHcEinval;
      }
      return std::move(cs).error().Context("converting " + Hex(r.gpa) + "+" +
                                           Hex(r.size));
    }
    ConversionStats& s = r.to_private ? sum.to_private : sum.to_shared;
    s.requests++;
    s.pages += r.size >> 12;
    return kHcOk;
  };

  while (!done) {
    Status st = vcpu.Run();
    if (!st.ok()) {
      if (st.error().err() == EINTR) {
        if (Clock::now() > deadline) {
          auto regs = vcpu.Regs();
          sum.verdict = "guest timed out after " + std::to_string(cfg.timeout_s) +
                        " s at rip " +
                        (regs.ok() ? Hex(regs.value().rip) : std::string("?"));
          break;
        }
        continue;
      }
      return std::move(st).error().Context("running the guest");
    }
    sum.exits[ExitName(run->exit_reason)]++;
    switch (run->exit_reason) {
      case KVM_EXIT_IO: {
        auto* data = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
        if (run->io.direction == KVM_EXIT_IO_IN) {
          std::memset(data, 0xff, run->io.size * run->io.count);
          break;
        }
        if (run->io.port == abi::kPortConsole) {
          for (uint32_t i = 0; i < run->io.count; i++) {
            char ch = static_cast<char>(data[i * run->io.size]);
            if (ch == '\n') {
              if (cfg.console) cfg.console(console);
              console.clear();
            } else if (console.size() < 4096) {
              console += ch;
            }
          }
          break;
        }
        if (run->io.port == abi::kPortHypercall) {
          uint64_t args[3] = {boot->hc_args[0], boot->hc_args[1], boot->hc_args[2]};
          boot->hc_ret = GMEM_TRY(service_hypercall(boot->hc_nr, args));
          break;
        }
        if (run->io.port != abi::kPortEvent || run->io.size != 4) break;
        uint32_t ev;
        std::memcpy(&ev, data, 4);
        auto now = Clock::now();
        switch (ev) {
          case abi::kEvHello:
            if (sum.first_instruction_ms < 0)
              sum.first_instruction_ms = MsSince(cfg.t0, now);
            break;
          case abi::kEvFillBegin:
            fill_begin = now;
            break;
          case abi::kEvFillProgress:
            say("guest fill: " + std::to_string(boot->progress >> 20) +
                " MiB / " + std::to_string(bi.work_size >> 20) + " MiB");
            break;
          case abi::kEvFillEnd:
            sum.fill_bytes = bi.work_size;
            sum.fill_ms = MsSince(fill_begin, now);
            break;
          case abi::kEvMessage: {
            const char* msg = reinterpret_cast<const char*>(
                mem.data() + abi::kWorkGpa + abi::kSharedMsgOff);
            sum.guest_message.assign(msg, strnlen(msg, 256));
            char expect[128];
            std::snprintf(expect, sizeof expect, "%s%016llx", abi::kMessagePrefix,
                          static_cast<unsigned long long>(boot->checksum));
            if (sum.guest_message == expect) {
              uint64_t ack = abi::kHostAckMagic;
              std::memcpy(mem.data() + abi::kWorkGpa + abi::kSharedMsgOff +
                              abi::kHostAckOff, &ack, 8);
            } else {
              host_ok = false;
              host_problem = "host read an unexpected message from shared memory";
            }
            if (swp) {
              bool isolated;
              // The last page of RAM is private and holds guest data now.
              sum.host_isolation = HostIsolationCheck(
                  *gmem, mem.data(), ram - 4096, bi.fill_seed, &isolated);
              if (!isolated) {
                host_ok = false;
                host_problem = "host could read private guest memory";
              }
            }
            break;
          }
          case abi::kEvImplicit:
            break;
          case abi::kEvDone:
            done = true;
            break;
        }
        break;
      }
      case KVM_EXIT_HYPERCALL: {
        uint64_t args[3] = {run->hypercall.args[0], run->hypercall.args[1],
                            run->hypercall.args[2]};
        run->hypercall.ret = GMEM_TRY(service_hypercall(run->hypercall.nr, args));
        break;
      }
      case KVM_EXIT_MEMORY_FAULT: {
        gmem_memory_fault_exit f;
        std::memcpy(&f, &run->hypercall, sizeof f);  // same union offset
        bool to_private = f.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE;
        uint64_t gpa = f.gpa & ~0xfffull;
        uint64_t size = ((f.gpa + f.size + 0xfff) & ~0xfffull) - gpa;
        GMEM_TRY_CTX(conv->Convert(gpa, size, to_private),
                     "implicit conversion at " + Hex(f.gpa));
        ConversionStats& s = to_private ? sum.implicit_to_private : sum.implicit_to_shared;
        s.requests++;
        s.pages += size >> 12;
        break;
      }
      case KVM_EXIT_HLT:
        sum.verdict = "guest halted without a verdict";
        done = true;
        break;
      case KVM_EXIT_SHUTDOWN: {
        auto regs = vcpu.Regs();
        sum.verdict = "guest shut down (triple fault) at rip " +
                      (regs.ok() ? Hex(regs.value().rip) : std::string("?"));
        done = true;
        break;
      }
      case KVM_EXIT_FAIL_ENTRY:
        return Error::Msg("KVM_RUN: entry failed, hardware reason " +
                          Hex(run->fail_entry.hardware_entry_failure_reason));
      case KVM_EXIT_INTERNAL_ERROR:
        return Error::Msg("KVM_RUN: internal error, suberror " +
                          std::to_string(run->internal.suberror));
      default:
        sum.verdict = "unexpected exit reason " + std::to_string(run->exit_reason);
        done = true;
        break;
    }
  }
  if (!console.empty() && cfg.console) cfg.console(console);

  sum.pages_private = conv->states().CountPrivate();
  sum.pages_shared = conv->states().pages() - sum.pages_private;
  if (sum.verdict.empty()) {
    if (boot->verdict == abi::kPassMagic && host_ok) {
      sum.passed = true;
      sum.verdict = "passed";
    } else if (!host_ok) {
      sum.verdict = host_problem;
    } else {
      sum.verdict = "guest self-check failed at step " +
                    std::to_string(boot->fail_step) + " (detail " +
                    Hex(boot->fail_detail) + ")";
    }
  }
  sum.total_ms = MsSince(cfg.t0, Clock::now());
  return sum;
}

}  // namespace gmem
