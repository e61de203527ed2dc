// The fuzz threads' ops.  DrawOp() takes an op and all its arguments from
// the thread's Rng alone, so a thread's op sequence is a function of the
// seed and the thread's index; ExecuteOp() then resolves the objects the op
// names (VM i, guest_memfd j, vCPU k: whatever is there at that moment),
// makes the calls and checks each against the model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "selftests/fuzz/command.h"
#include "selftests/fuzz/context.h"

namespace fuzz {

enum class OpKind : uint8_t {
  kGmemCreate,   // KVM_CREATE_GUEST_MEMFD, valid and invalid sizes and flags
  kGmemClose,    // close a guest_memfd, maybe while others use it
  kFallocAlloc,  // fallocate(KEEP_SIZE), in and beyond the file
  kFallocPunch,  // fallocate(KEEP_SIZE|PUNCH_HOLE)
  kFallocBad,    // invalid modes and ranges
  kSlotGmem,     // KVM_SET_USER_MEMORY_REGION2 + GUEST_MEMFD: any fd, offset
  kSlotPlain,    // a slot without guest_memfd (dirty logging, read-only)
  kSlotDelete,   // delete a slot, existing or not
  kSlotMove,     // move an existing slot
  kSlotFlags,    // flags-only update of an existing slot
  kSlotBad,      // invalid memslot arguments
  kSlotV1,       // KVM_SET_USER_MEMORY_REGION, with GUEST_MEMFD or without
  kSlotAs1,      // a slot in address space 1 (SMM)
  kAttr,         // KVM_SET_MEMORY_ATTRIBUTES in the fuzz window
  kAttrFar,      // large slot-less ranges
  kAttrBad,      // invalid attribute calls
  kPreFault,     // KVM_PRE_FAULT_MEMORY on a vCPU
  kPreFaultBad,  // invalid pre-fault calls
  kGuest,        // a guest command: read, write, fill or sum guest memory
  kVcpuCreate,   // KVM_CREATE_VCPU, fresh, taken and invalid ids
  kVcpuClose,    // close a vCPU, maybe while another thread runs it
  kVmClose,      // close a VM fd (its files and vCPUs keep it alive)
  kGmemAttr2,    // KVM_SET_MEMORY_ATTRIBUTES2: convert a range of a guest_memfd
  kGmemAttr2Bad, // invalid KVM_SET_MEMORY_ATTRIBUTES2 calls
  kGmemHost,     // the host reads or writes a mappable guest_memfd through its mapping
  kCount
};
const char* OpName(OpKind k);
std::vector<std::string> OpNames();

struct Op {
  OpKind kind = OpKind::kGmemCreate;
  unsigned vm = 0, other_vm = 0, gmem = 0, vcpu = 0, variant = 0;
  uint32_t slot = 0, flags = 0;
  uint64_t gpa = 0, size = 0;
  uint64_t hva = 0;      // offset into the VM's shared mapping, unless hva_abs
  bool hva_abs = false;  // hva is an absolute (bad) address
  uint64_t offset = 0;   // guest_memfd offset
  GmemFd fd = GmemFd::kOwn;
  bool pads = false;  // non-zero padding / reserved fields
  int mode = 0;
  int64_t foff = 0, flen = 0;
  uint64_t attrs = 0, aflags = 0;
  Command cmd;
  FaultPolicy policy = FaultPolicy::kAbandon;
  uint32_t noise_us = 0;
  bool revive = false;  // recreate the VM if its fd is closed
};

Op DrawOp(Rng& rng, unsigned nvms);
std::string Describe(const Op& op);
void ExecuteOp(ThreadCtx& ctx, const Op& op);

// One memslot call, checked: the VM's model is locked across the model's
// verdict, the call and the model's update.  Returns 0 or the errno.
int SetRegion(ThreadCtx& ctx, VmObj& vm, int vmfd, const RegionCall& c, int gmem_fd);

// One KVM_PRE_FAULT_MEMORY, checked, with a watchdog; |backed| if the range
// is known to be backed throughout, except for the |poisoned| pages (or
// null).  |vcpu|, if given, is the vCPU's object, whose guest commands may
// run on other threads meanwhile.  Returns 0 or the errno.
int PreFault(ThreadCtx& ctx, int vcpu_fd, const PreFaultCall& c, bool backed,
             const PoisonedPages* poisoned = nullptr, const VcpuObj* vcpu = nullptr);

// How many pre-faults outlasted their watchdog only because they waited for
// the vCPU's mutex behind another thread's KVM_RUN (see PreFault()).
uint64_t PreFaultsBehindRun();

// Creates a vCPU in |vm| and checks it; the model of its ids is locked
// meanwhile.  |variant| 0: the next id, 1: an id in use, 2: an invalid id.
// Returns nullptr and the errno in |err| if it failed.
std::shared_ptr<VcpuObj> NewVcpu(ThreadCtx& ctx, VmObj& vm, int vmfd, unsigned variant, int* err);

// A fuzz thread: draws and executes ops until the run stops.
void FuzzThread(ThreadCtx& ctx);

}  // namespace fuzz
