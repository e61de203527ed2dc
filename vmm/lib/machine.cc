#include "vmm/lib/machine.h"

#include <signal.h>
#include <sys/time.h>

#include <chrono>
#include <type_traits>

#include "vmm/guest/abi.h"
#include "vmm/lib/boot_image.h"
#include "vmm/lib/guest_memory.h"
#include "vmm/lib/guest_protocol.h"
#include "vmm/lib/host_support.h"
#include "vmm/lib/io_bus.h"
#include "vmm/lib/run_record.h"
#include "vmm/lib/size.h"
#include "vmm/lib/vcpu.h"
#include "vmm/lib/vm.h"
#include "common/uapi/kvm.h"

namespace gmem {
namespace {

using Clock = std::chrono::steady_clock;

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

struct Hypercalls {
  HcChannel channel;
  bool exits;  // the guest's MAP_GPA_RANGE reaches us
};

// The instruction channel needs KVM_CAP_EXIT_HYPERCALL; without it the
// guest skips its conversions.
Result<Hypercalls> SetUpHypercalls(const Vm& vm, const Capabilities& caps,
                                   const RunConfig& cfg) {
  Hypercalls hc{ResolveHcChannel(cfg.hypercall, cfg.mode), false};
  hc.exits = hc.channel == HcChannel::kPort;
  if (hc.channel == HcChannel::kInstruction &&
      (caps.exit_hypercall & (1ull << KVM_HC_MAP_GPA_RANGE))) {
    GMEM_TRY_CTX(vm.EnableCap(KVM_CAP_EXIT_HYPERCALL, 1ull << KVM_HC_MAP_GPA_RANGE),
                 "enabling MAP_GPA_RANGE exits");
    hc.exits = true;
  }
  return hc;
}

Summary Header(const RunConfig& cfg, const GuestMemory& mem, Hypercalls hc) {
  Summary s;
  s.mode = ModeName(cfg.mode);
  s.vm_type = VmTypeName(cfg.mode);
  s.backing = BackingName(cfg.backing);
  s.ram_bytes = mem.size();
  s.conversion = mem.conversion().name();
  s.hypercall = hc.channel == HcChannel::kPort
                    ? "I/O-port mailbox (host KVM cannot deliver VMCALL)"
                : hc.exits ? "VMCALL/VMMCALL -> KVM_EXIT_HYPERCALL"
                           : "none (no KVM_CAP_EXIT_HYPERCALL; guest skips conversions)";
  s.host_isolation = mem.has_private_memory() ? "not checked"
                                              : "no private memory in a default VM";
  return s;
}

std::string RipOf(const Vcpu& vcpu) {
  auto regs = vcpu.Regs();
  return regs.ok() ? Hex(regs.value().rip) : std::string("?");
}

// Runs the vCPU until the guest is done, stops, or times out.
Status RunLoop(Vcpu& vcpu, const PortIoBus& bus, GuestProtocol& guest,
               RunRecord& record, unsigned timeout_s) {
  TickTimer ticks;
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  while (!record.finished()) {
    VcpuExit exit = GMEM_TRY_CTX(vcpu.RunOnce(), "running the guest");
    if (const char* name = ExitName(exit)) record.Exit(name);
    Status st = std::visit(
        [&](auto& e) -> Status {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, IoExit>) return bus.Dispatch(e);
          if constexpr (std::is_same_v<T, HypercallExit>) return guest.OnHypercall(e);
          if constexpr (std::is_same_v<T, MemoryFaultExit>) return guest.OnMemoryFault(e);
          if constexpr (std::is_same_v<T, HaltExit>)
            record.Stop("guest halted without a verdict");
          if constexpr (std::is_same_v<T, ShutdownExit>)
            record.Stop("guest shut down (triple fault) at rip " + RipOf(vcpu));
          if constexpr (std::is_same_v<T, OtherExit>)
            record.Stop("unexpected exit reason " + std::to_string(e.reason));
          if constexpr (std::is_same_v<T, InterruptedExit>) {
            if (Clock::now() > deadline)
              record.Stop("guest timed out after " + std::to_string(timeout_s) +
                          " s at rip " + RipOf(vcpu));
          }
          return Ok{};
        },
        exit);
    // Not GMEM_TRY: g++ 12 -O2 warns (maybe-uninitialized) about the moved
    // copy of a Status that std::visit returned.
    if (!st.ok()) return st;
  }
  return Ok{};
}

}  // namespace

Result<Summary> RunGuest(const KvmSystem& kvm, const Capabilities& caps,
                         const RunConfig& cfg) {
  auto say = [&](const std::string& s) {
    if (cfg.progress) cfg.progress(s);
  };
  const Conversion conversion =
      GMEM_TRY(ResolveConversion(caps, cfg.mode, cfg.conversion));
  const MemoryPlan plan = GMEM_TRY(PlanGuestMemory(
      cfg.mode, cfg.backing, cfg.ram_size, cfg.anon_small_pages, conversion));

  // Declaration order is teardown order in reverse: memory before the VM.
  say(std::string("creating ") + ModeName(cfg.mode) + " VM with " +
      FormatSize(cfg.ram_size) + " of RAM in " + BackingName(cfg.backing));
  Vm vm = GMEM_TRY_CTX(Vm::Create(kvm, VmType(cfg.mode)), "creating the VM");
  GuestMemory mem = GMEM_TRY(GuestMemory::Create(vm, plan));
  const Hypercalls hc = GMEM_TRY(SetUpHypercalls(vm, caps, cfg));

  say("loading payload (" + std::to_string(cfg.payload.image.size()) +
      " bytes) at " + Hex(cfg.payload.load_gpa) + ", page tables, boot info");
  BootParams params;
  params.abi_mode = cfg.mode == Mode::kSwProtected ? abi::kModeSwProtected
                                                   : abi::kModeDefault;
  params.flags = (hc.exits ? abi::kFlagHypercallExits : 0) |
                 (hc.channel == HcChannel::kPort ? abi::kFlagHypercallPort : 0);
  params.bench_only = cfg.bench_only;
  params.fill_limit = cfg.fill_limit;
  const BootImage boot = GMEM_TRY(WriteBootImage(mem.host(), cfg.payload, params));
  if (mem.has_private_memory()) {
    // Everything past the boot region becomes private before the guest runs.
    const uint64_t work = mem.size() - boot.work_gpa;
    say("making " + FormatSize(work) + " of guest RAM private");
    GMEM_TRY_CTX(mem.conversion().Convert(boot.work_gpa, work, true),
                 "making guest RAM private");
  }

  Vcpu vcpu = GMEM_TRY_CTX(Vcpu::Create(kvm, vm, 0), "creating the vCPU");
  GMEM_TRY(vcpu.SetCpuidFromHost(kvm));
  GMEM_TRY(vcpu.EnterLongMode(boot.cpu));

  RunRecord record(Header(cfg, mem, hc), cfg.t0);
  GuestProtocol guest(cfg, mem, boot, record);
  PortIoBus bus;
  guest.Attach(bus);
  GMEM_TRY(RunLoop(vcpu, bus, guest, record, cfg.timeout_s));
  const PageStates& pages = mem.conversion().states();
  Summary s = record.Finish(guest.Verdict(), pages.CountPrivate(), pages.pages(),
                            Clock::now());
  const Footprint fp = GMEM_TRY_CTX(mem.MeasureFootprint(), "measuring guest memory");
  s.footprint_gmem_bytes = fp.gmem_bytes;
  s.footprint_anon_bytes = fp.anon_bytes;
  s.footprint_how = fp.how;
  return s;
}

}  // namespace gmem
