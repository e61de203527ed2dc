#include "selftests/fuzz/command.h"

#include <cerrno>
#include <cstring>

namespace fuzz {
namespace {

constexpr std::chrono::microseconds kRunWatchdog{kRunLimitUs};
// Emulated accesses a command may cause (Fill/Sum of at most 256 dwords
// over memory without a slot), conversions and signals it may meet.
constexpr unsigned kMaxMmio = 1024, kMaxFaults = 16, kMaxSignals = 256;

// Puts the vCPU back at the guest's entry point after a memory fault or a
// signal, when no exit awaits completion.
bool Restart(ThreadCtx& ctx, VcpuObj& vcpu, int fd) {
  long r = gmt::EnterGuest(fd);
  vcpu.channel.Reset();
  return ctx.Check("reset vCPU", static_cast<int>(-r), ExpectResetVcpu());
}

}  // namespace

uint64_t Command::hi() const {
  bool ranged = op == gmt::kOpFill || op == gmt::kOpSum;
  return static_cast<uint64_t>(addr) + 4ULL * (ranged ? dwords : 1);
}

const char* CommandEnd::Name() const {
  switch (kind) {
    case kAnswered:
      return "answered";
    case kAbandoned:
      return "abandoned";
    case kDropVcpu:
      return "vcpu-dropped";
    case kPoisoned:
      return "poisoned";
    case kFailed:
      return "failed";
  }
  return "?";
}

CommandEnd RunCommand(ThreadCtx& ctx, VcpuObj& vcpu, int fd, int vm_fd, const Command& cmd,
                      FaultPolicy policy, const PoisonedPages* poisoned) {
  CommandEnd end;
  kvm_run* run = vcpu.run();
  switch (cmd.op) {
    case gmt::kOpWrite:
      vcpu.channel.Start(cmd.op, {cmd.addr, cmd.value});
      break;
    case gmt::kOpFill:
      vcpu.channel.Start(cmd.op, {cmd.addr, cmd.dwords, cmd.value, 1});
      break;
    case gmt::kOpSum:
      vcpu.channel.Start(cmd.op, {cmd.addr, cmd.dwords});
      break;
    default:
      vcpu.channel.Start(cmd.op, {cmd.addr});
      break;
  }
  for (;;) {
    SignalWindow w(ctx.timer, ctx.TakeNoise(), kRunWatchdog);
    gmt::CommandResult res = vcpu.channel.Run(fd, run);
    w.Close();
    if (w.watchdog_fired()) {
      ctx.Fail("KVM_RUN", "an exit within " + std::to_string(kRunLimitUs / 1000) + " ms",
               "no exit for " + std::to_string(w.elapsed().count() / 1000) + " ms",
               "a guest command's KVM_RUN must not spin in the kernel");
      return end;
    }
    if (res.ok) {
      end.value = res.value;
      std::string wrong = CheckAnswer(cmd.op, cmd.value, cmd.dwords, res.value);
      if (!wrong.empty()) {
        ctx.Fail("guest command", "the protocol's answer", Hex(res.value), wrong);
        return end;
      }
      wrong = CheckAnswered(cmd.lo(), cmd.hi(), poisoned);
      if (!wrong.empty()) {
        ctx.Fail("guest command", "EHWPOISON", "answer " + Hex(res.value), wrong);
        return end;
      }
      ctx.Trace("answer " + Hex(res.value));
      end.kind = CommandEnd::kAnswered;
      return end;
    }
    RunStop stop;
    stop.err = res.err;
    stop.exit_reason = res.exit_reason;
    stop.signalled = w.signalled();
    if (res.exit_reason == KVM_EXIT_MEMORY_FAULT) {
      gmt::MemoryFault f = gmt::ReadMemoryFault(run);
      stop.fault_flags = f.flags;
      stop.fault_gpa = f.gpa;
      stop.fault_size = f.size;
    } else if (res.exit_reason == KVM_EXIT_MMIO) {
      stop.mmio_addr = run->mmio.phys_addr;
      stop.mmio_len = run->mmio.len;
    }
    std::string why;
    switch (ClassifyStop(stop, cmd.lo(), cmd.hi(), &why, poisoned)) {
      case StopKind::kMmio:
        if (!run->mmio.is_write) std::memset(run->mmio.data, 0, sizeof(run->mmio.data));
        if (++end.mmio > kMaxMmio) {
          ctx.Trace("KVM_RUN mmio x" + std::to_string(end.mmio) + ", giving up");
          end.kind = CommandEnd::kDropVcpu;
          return end;
        }
        continue;
      case StopKind::kInterrupted:
        if (++end.signals > kMaxSignals) {
          ctx.Fail("KVM_RUN", "progress", "EINTR " + std::to_string(end.signals) + " times",
                   "a guest command completes");
          return end;
        }
        continue;
      case StopKind::kMemoryFault:
        ctx.Trace("KVM_RUN memory fault at " + Hex(stop.fault_gpa) +
                  (stop.fault_flags ? " (private)" : " (shared)"));
        end.faults++;
        if (policy == FaultPolicy::kFail) {
          ctx.Fail("KVM_RUN", "an answer", "memory fault at " + Hex(stop.fault_gpa),
                   "this memory is bound to a live guest_memfd");
          return end;
        }
        if (policy == FaultPolicy::kConvert && vm_fd >= 0 && end.faults <= kMaxFaults) {
          // Resolve it as a VMM would for a guest that asked for shared
          // memory: convert the page, then continue.
          AttrCall c{stop.fault_gpa, stop.fault_size, 0, 0};
          long r = gmt::SetAttributes(vm_fd, c.gpa, c.size, c.attrs, c.flags);
          if (!ctx.Check("KVM_SET_MEMORY_ATTRIBUTES(shared)", static_cast<int>(-r),
                         ExpectAttributes(c)))
            return end;
          continue;
        }
        end.kind = Restart(ctx, vcpu, fd) ? CommandEnd::kAbandoned : CommandEnd::kFailed;
        return end;
      case StopKind::kPoisoned:
        ctx.Trace("KVM_RUN EHWPOISON at " + Hex(stop.fault_gpa));
        end.poison_gpa = stop.fault_gpa;
        end.kind = Restart(ctx, vcpu, fd) ? CommandEnd::kPoisoned : CommandEnd::kFailed;
        return end;
      case StopKind::kNoMemory:
        ctx.Trace("KVM_RUN ENOMEM");
        end.kind = Restart(ctx, vcpu, fd) ? CommandEnd::kAbandoned : CommandEnd::kFailed;
        return end;
      case StopKind::kIllegal:
        ctx.Fail("KVM_RUN",
                 "an answer, MMIO in range, EINTR after a signal, EFAULT with a memory fault, or "
                 "EHWPOISON on a page the fuzzer poisoned",
                 res.err ? ErrName(res.err) + " exit " + std::to_string(res.exit_reason) : res.what,
                 why);
        return end;
    }
  }
}

}  // namespace fuzz
