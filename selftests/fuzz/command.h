// Running one guest command (lib/guest.S's protocol) on a vCPU whose memory
// other threads are changing: answers emulated MMIO, continues after
// signals, and handles memory-fault exits by converting the page to shared
// or by giving up on the command; every way KVM_RUN stops is checked
// against the model (ClassifyStop).
#pragma once

#include <cstdint>

#include "selftests/fuzz/context.h"

namespace fuzz {

struct Command {
  gmt::GuestOp op = gmt::kOpRead;
  uint32_t addr = 0;
  uint32_t dwords = 1;  // kOpFill, kOpSum
  uint32_t value = 0;   // kOpWrite, kOpFill
  // The guest physical range the command touches.
  uint64_t lo() const { return addr; }
  uint64_t hi() const;
};

enum class FaultPolicy {
  kConvert,  // make the faulting page shared and continue
  kAbandon,  // give up on the command and put the vCPU back at the entry
  kFail,     // a memory fault is a failure (memory that must be backed)
};

struct CommandEnd {
  enum Kind {
    kAnswered,   // |value| is the guest's answer
    kAbandoned,  // gave up; the vCPU is ready for the next command
    kDropVcpu,   // gave up; the vCPU is stuck in an exit, close it
    kPoisoned,   // a poisoned page refused access (at |poison_gpa|); the
                 // vCPU is ready for the next command
    kFailed,     // a failure was recorded
  } kind = kFailed;
  uint32_t value = 0;
  uint64_t poison_gpa = 0;
  unsigned mmio = 0, faults = 0, signals = 0;
  const char* Name() const;
};

// Runs |cmd| on |vcpu|, whose busy lock the caller holds, through |fd|, the
// caller's dup of the vCPU fd.  |vm_fd| (or -1) is for conversions.
// |poisoned| (or null) are the pages that memory failure may have made
// refuse private accesses, whatever |policy| says.
CommandEnd RunCommand(ThreadCtx& ctx, VcpuObj& vcpu, int fd, int vm_fd, const Command& cmd,
                      FaultPolicy policy, const PoisonedPages* poisoned = nullptr);

// How many commands were started over because the guest left its code
// (QEMU's nested SVM, see command.cc).
uint64_t AstrayRestarts();

}  // namespace fuzz
