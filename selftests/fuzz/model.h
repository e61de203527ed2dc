// The model of legal outcomes: for every op, the set of results the ABI
// allows, computed from the op's arguments and from what the fuzzer knows
// about the objects it touches.  Pure functions, no syscalls; model.cc has
// every rule with a comment, and marks each leniency LENIENT with its reason.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "selftests/fuzz/errset.h"

namespace fuzz {

constexpr uint64_t kPage = 4096;

// What the model needs to know about the kernel under test.
struct Env {
  uint64_t max_gfn = (1ULL << 40) - 1;  // kvm_mmu_max_gfn(): host MAXPHYADDR
  uint64_t gmem_flags = 0;              // KVM_CAP_GUEST_MEMFD_FLAGS
  bool prefault_cap = true;             // KVM_CAP_PRE_FAULT_MEMORY
  long max_vcpus = 1024;                // KVM_CAP_MAX_VCPUS
  long max_vcpu_id = 4096;              // KVM_CAP_MAX_VCPU_ID
  long user_memslots = 32764;           // KVM_CAP_NR_MEMSLOTS
  bool hwpoison = false;                // memory failure can be injected (lib/hwpoison.h)
  bool sw_ownership = false;            // kvm.sw_protected_unmap_private exists (lib/ownership.h)
  // KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES of a SW-protected VM: what
  // KVM_SET_MEMORY_ATTRIBUTES2 accepts on its guest_memfds.  Non-zero
  // (KVM_MEMORY_ATTRIBUTE_PRIVATE) only with kvm.gmem_in_place_conversion=1.
  uint64_t gmem_attributes = 0;
};

// The legal outcomes of one call, and the rules that decided them.
struct Expect {
  ErrSet ok;
  std::string rules;

  void Add(int outcome, const char* rule);
  void Add(const ErrSet& outcomes, const char* rule);
};

// ---- memslots ----------------------------------------------------------

struct SlotState {
  uint64_t gpa = 0, size = 0, hva = 0;
  uint32_t flags = 0;
  uint64_t gmem_id = 0;  // the fuzzer's id of the bound guest_memfd, 0: none
  uint64_t gmem_offset = 0;
};

// The memslots of one VM as the calls that succeeded left them.  The fuzzer
// changes memslots only with this model locked, so it is exact.
class Memslots {
 public:
  const SlotState* Find(uint32_t slot) const;
  // Whether a slot other than |slot| in its address space overlaps
  // [gpa, gpa + size).
  bool Overlaps(uint32_t slot, uint64_t gpa, uint64_t size) const;
  // Whether a slot binds any page of guest_memfd |gmem_id| in
  // [offset, offset + size).
  bool GmemBound(uint64_t gmem_id, uint64_t offset, uint64_t size) const;
  void Set(uint32_t slot, const SlotState& s) { slots_[slot] = s; }
  void Erase(uint32_t slot) { slots_.erase(slot); }
  const std::map<uint32_t, SlotState>& all() const { return slots_; }

 private:
  std::map<uint32_t, SlotState> slots_;
};

// What the guest_memfd field of a memslot call refers to.
enum class GmemFd {
  kOwn,      // a guest_memfd of this VM
  kForeign,  // a guest_memfd of another VM
  kNotGmem,  // an open file that is no guest_memfd
  kBad,      // no open file at all
};

struct RegionCall {
  bool v1 = false;  // KVM_SET_USER_MEMORY_REGION: guest_memfd is fd 0, offset 0
  uint32_t slot = 0, flags = 0;
  uint64_t gpa = 0, size = 0, hva = 0, gmem_offset = 0;
  bool pads = false;  // non-zero pad1/pad2
  GmemFd fd = GmemFd::kBad;
  uint64_t gmem_id = 0, gmem_size = 0;  // of the kOwn guest_memfd
};
Expect ExpectRegion(const Env& env, const RegionCall& c, const Memslots& m);
// Records what a successful |c| changed.
void ApplyRegion(const RegionCall& c, Memslots& m);

// ---- guest_memfd -------------------------------------------------------

struct GmemCall {
  uint64_t size = 0, flags = 0;
  bool reserved = false;  // non-zero reserved[]
};
Expect ExpectCreateGmem(const Env& env, const GmemCall& c);

struct FallocCall {
  int mode = 0;
  int64_t offset = 0, len = 0;
};
// |signalled|: a signal arrived during the call.
Expect ExpectFallocate(const FallocCall& c, uint64_t gmem_size, bool signalled);

// ---- memory failure ----------------------------------------------------

// Private pages (guest physical addresses) whose guest_memfd page the
// fuzzer poisoned, as one checker knows them.  Only such pages may refuse
// a guest access or a pre-fault with EHWPOISON.
struct PoisonedPages {
  // Poisoned, or being poisoned right now: a private access may fail with
  // EHWPOISON.
  std::set<uint64_t> maybe;
  // Poisoned, and no guest mapping made before the poison can have
  // survived (the page was unmapped since, or refused once already): every
  // private access must fail.  A subset of |maybe|.
  std::set<uint64_t> refused;
};

// Writing a pfn to /sys/kernel/debug/hwpoison/corrupt-pfn, for a page that
// a guest_memfd holds.
Expect ExpectInjection();

// ---- in-place conversion -----------------------------------------------

// KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd (api.rst 4.142).
struct Attr2Call {
  uint64_t offset = 0, size = 0, attrs = 0, flags = 0;
  bool reserved = false;                   // a non-zero reserved[] word
  bool bad_arg = false;                    // the argument's address cannot be read
  bool readonly_arg = false;               // the argument can be read, not written
  bool on_vm = false;                      // issued on the VM fd instead of the guest_memfd
  uint64_t gmem_flags = 0, gmem_size = 0;  // of the guest_memfd
};
Expect ExpectAttributes2(const Env& env, const Attr2Call& c);
// What the call that ended in |err| did wrong with error_offset (as it is
// in the argument afterwards); empty if nothing.
std::string CheckAttributes2(const Attr2Call& c, int err, uint64_t error_offset);

// A system call that reads or writes guest_memfd memory through the host's
// mapping of a file with |gmem_flags| (pwrite() from it, pread() into it,
// vmsplice(), or, |proc_mem|, pread() of /proc/self/mem there): a page that
// the file holds as private faults with SIGBUS, which a system call reports
// as EFAULT (/proc/self/mem, whose get_user_pages() fails: EIO).
Expect ExpectHostAccess(const Env& env, uint64_t gmem_flags, bool proc_mem = false,
                        bool gup = false);
// Whether such an access within one page may copy part of what it was
// asked for (a short count) instead of all or nothing.
bool HostAccessMayBeShort(const Env& env);

// ---- attributes, pre-fault ---------------------------------------------

struct AttrCall {
  uint64_t gpa = 0, size = 0, attrs = 0, flags = 0;
};
Expect ExpectAttributes(const AttrCall& c);

struct PreFaultCall {
  uint64_t gpa = 0, size = 0, flags = 0;
  bool padding = false;  // non-zero padding[]
};
Expect ExpectPreFault(const Env& env, const PreFaultCall& c, bool signalled);
// A pre-fault of memory that is bound to a live guest_memfd (or shared
// memory with a memslot) throughout: only a signal or lack of memory may
// stop it, or a poisoned page (EHWPOISON if it is the first one).
Expect ExpectBackedPreFault(bool signalled, const PoisonedPages* poisoned = nullptr,
                            uint64_t gpa = 0);
// What a backed pre-fault of |in| that returned |err| and left |gpa_out|,
// |size_out| in the struct did wrong beyond CheckPreFaultProgress(); empty
// if nothing: it maps everything unless a signal or a poisoned page stops
// it, and it never maps a page that |poisoned| says is refused.
std::string CheckBackedPreFault(const PreFaultCall& in, uint64_t gpa_out, uint64_t size_out,
                                int err, bool signalled, const PoisonedPages* poisoned);
// The struct KVM hands back must describe the progress the result claims;
// empty if it does, else what is wrong.
std::string CheckPreFaultProgress(const PreFaultCall& in, uint64_t gpa_out, uint64_t size_out,
                                  int err);

// ---- VMs and vCPUs -----------------------------------------------------

// A new VM, and the objects it starts with.
Expect ExpectCreateVm();

struct VcpuCall {
  uint64_t id = 0;
  bool id_taken = false;  // a vCPU with this id exists
  long created = 0;       // vCPUs the VM has
};
Expect ExpectCreateVcpu(const Env& env, const VcpuCall& c);

// close() of any fd the fuzzer owns.
Expect ExpectClose();

// Putting a vCPU back at the guest's entry (KVM_SET_SREGS, KVM_SET_REGS)
// when no exit awaits completion.
Expect ExpectResetVcpu();

// ---- time --------------------------------------------------------------

// The longest a call may take before it counts as stuck in the kernel.
constexpr uint64_t kPreFaultLimitUs = 2000000;  // KVM_PRE_FAULT_MEMORY
constexpr uint64_t kRunLimitUs = 10000000;      // one KVM_RUN of a guest command

// ---- KVM_RUN -----------------------------------------------------------

// One way KVM_RUN stopped before the guest answered a command that touches
// the guest physical range [lo, hi).
struct RunStop {
  int err = 0;  // errno of KVM_RUN, 0 if it returned an exit
  uint32_t exit_reason = 0;
  uint64_t fault_flags = 0, fault_gpa = 0, fault_size = 0;  // KVM_EXIT_MEMORY_FAULT
  uint64_t mmio_addr = 0;
  uint32_t mmio_len = 0;  // KVM_EXIT_MMIO
  bool signalled = false;
};
enum class StopKind {
  kMmio,         // emulated access: answer it and continue
  kMemoryFault,  // private access KVM could not back: convert, or give up
  kInterrupted,  // a signal: continue
  kNoMemory,     // ENOMEM: give up on the command
  kPoisoned,     // EHWPOISON on a page the fuzzer poisoned: give up
  kIllegal,      // not allowed: a failure
};
// |poisoned|: the pages that may refuse access with EHWPOISON (none if null).
StopKind ClassifyStop(const RunStop& s, uint64_t lo, uint64_t hi, std::string* why,
                      const PoisonedPages* poisoned = nullptr);
// A command that touched [lo, hi) was answered: empty if that is legal,
// else why not (it went through a page that must refuse every access).
std::string CheckAnswered(uint64_t lo, uint64_t hi, const PoisonedPages* poisoned);

// The guest's answer to a command (lib/guest.S): Write answers the value
// written, Fill the number of dwords; Read and Sum answer data.  Empty if
// |answer| is right, else what is wrong.
std::string CheckAnswer(uint32_t op, uint32_t value, uint32_t dwords, uint32_t answer);

}  // namespace fuzz
