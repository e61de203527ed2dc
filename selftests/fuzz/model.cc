// Every rule of the model.  The reference is upstream's ABI (Linux
// 6.8-6.18, Documentation/virt/kvm/api.rst), which the series promises "to
// the number".  Each rule says what it checks; LENIENT marks every place
// where more than the ABI's one answer is accepted, with the reason.
//
// How the rules combine: an op's arguments are checked first, as every
// implementation does before it looks at any state, and an invalid argument
// allows EINVAL (or the errno its rule names) only.  Among the rules about
// state, the ABI does not say which check comes first, so when several fail,
// the errno of any of them is accepted.
#include "selftests/fuzz/model.h"

#include <linux/falloc.h>

#include <cerrno>
#include <climits>

#include "selftests/lib/kvm.h"

namespace fuzz {

void Expect::Add(int outcome, const char* rule) {
  ok.Add(outcome);
  if (!rules.empty()) rules += "; ";
  rules += rule;
}

void Expect::Add(const ErrSet& outcomes, const char* rule) {
  ok.Add(outcomes);
  if (!rules.empty()) rules += "; ";
  rules += rule;
}

namespace {

constexpr uint32_t kLogDirty = KVM_MEM_LOG_DIRTY_PAGES;
constexpr uint32_t kReadonly = KVM_MEM_READONLY;
constexpr uint32_t kGmemFlag = KVM_MEM_GUEST_MEMFD;
constexpr uint64_t kMaxSlotPages = (1ULL << 31) - 1;  // KVM_MEM_MAX_NR_PAGES
// access_ok() on x86-64 with 4-level paging.  The fuzzer never passes
// addresses between this and the 5-level limit, where the answer would
// depend on the CPU.
constexpr uint64_t kTaskSizeMax = (1ULL << 47) - kPage;

bool Aligned(uint64_t x) { return x % kPage == 0; }

bool Wraps(uint64_t base, uint64_t size) { return base + size < base; }
bool Intersect(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a < b + blen && b < a + alen;
}

// Resource failures that any call which allocates kernel memory may see.
// LENIENT: the model cannot know when the kernel runs out of memory.
void AllowNoMemory(Expect& e) { e.ok.Add(ENOMEM); }

}  // namespace

// ---- memslots ----------------------------------------------------------

const SlotState* Memslots::Find(uint32_t slot) const {
  auto it = slots_.find(slot);
  return it == slots_.end() ? nullptr : &it->second;
}

bool Memslots::Overlaps(uint32_t slot, uint64_t gpa, uint64_t size) const {
  for (const auto& [id, s] : slots_) {
    if (id == slot || (id >> 16) != (slot >> 16)) continue;
    if (Intersect(s.gpa, s.size, gpa, size)) return true;
  }
  return false;
}

bool Memslots::GmemBound(uint64_t gmem_id, uint64_t offset, uint64_t size) const {
  for (const auto& [id, s] : slots_) {
    if (s.gmem_id == gmem_id && Intersect(s.gmem_offset, s.size, offset, size)) return true;
  }
  return false;
}

Expect ExpectRegion(const Env& env, const RegionCall& c, const Memslots& m) {
  Expect e;
  const uint32_t as_id = c.slot >> 16, id = c.slot & 0xffff;
  const bool gmem = c.flags & kGmemFlag;

  // -- The arguments alone: EINVAL. --
  // KVM_SET_USER_MEMORY_REGION (v1) takes LOG_DIRTY_PAGES and READONLY
  // only; KVM_MEM_GUEST_MEMFD needs the v2 struct (upstream rejects it
  // with KVM_SET_USER_MEMORY_REGION_V1_FLAGS).
  if (c.v1 && (c.flags & ~(kLogDirty | kReadonly)))
    e.Add(EINVAL, "v1 takes only LOG_DIRTY_PAGES|READONLY");
  // Known flags; GUEST_MEMFD for VMs with private memory, which every VM
  // of the fuzzer is.
  if (c.flags & ~(kLogDirty | kReadonly | kGmemFlag)) e.Add(EINVAL, "unknown memslot flag");
  // Private memory can be neither dirty-logged nor read-only.
  if (gmem && (c.flags & (kLogDirty | kReadonly)))
    e.Add(EINVAL, "GUEST_MEMFD with LOG_DIRTY_PAGES or READONLY");
  if (!Aligned(c.size)) e.Add(EINVAL, "memory_size not page aligned");
  if (!Aligned(c.gpa)) e.Add(EINVAL, "guest_phys_addr not page aligned");
  if (!Aligned(c.hva) || Wraps(c.hva, c.size) || c.hva + c.size > kTaskSizeMax)
    e.Add(EINVAL, "userspace_addr unaligned or not user memory");
  if (id >= env.user_memslots) e.Add(EINVAL, "slot id beyond KVM_CAP_NR_MEMSLOTS");
  // VMs with private memory have no SMM address space: upstream's
  // kvm_arch_nr_memslot_as_ids() is 1 for them.
  if (as_id >= 1) e.Add(EINVAL, "address space other than 0 in a VM with private memory");
  if (Wraps(c.gpa, c.size)) e.Add(EINVAL, "guest_phys_addr + memory_size wraps");
  if (c.size / kPage > kMaxSlotPages) e.Add(EINVAL, "more than KVM_MEM_MAX_NR_PAGES");
  if (gmem && (!Aligned(c.gmem_offset) || Wraps(c.gmem_offset, c.size)))
    e.Add(EINVAL, "guest_memfd_offset unaligned or offset + size wraps");
  if (!e.ok.empty()) return e;

  // -- The slot it names. --
  const SlotState* old = m.Find(c.slot);
  if (c.size == 0) {
    if (!old)
      e.Add(EINVAL, "deleting a slot that does not exist");
    else
      e.Add(0, "delete");
  } else if (old && ((c.flags | old->flags) & kGmemFlag)) {
    // A guest_memfd binding is fixed for the slot's lifetime: such a slot
    // can only be deleted, and no slot gains or loses a binding.
    e.Add(EINVAL, "changing or moving a slot with (or to) GUEST_MEMFD");
  } else if (old &&
             (c.hva != old->hva || c.size != old->size || ((c.flags ^ old->flags) & kReadonly))) {
    // An existing slot may change its address or its LOG_DIRTY_PAGES flag.
    e.Add(EINVAL, "changing userspace_addr, memory_size or READONLY of a slot");
  } else if (old && c.gpa == old->gpa && c.flags == old->flags) {
    e.Add(0, "no change");
  } else {
    const bool placed = !old || c.gpa != old->gpa;  // a create or a move
    // Slots of one address space do not overlap.
    if (placed && m.Overlaps(c.slot, c.gpa, c.size)) e.Add(EEXIST, "overlaps another slot");
    // x86: no gfn beyond what the host's MAXPHYADDR can map.
    if (placed && (c.gpa + c.size) / kPage - 1 > env.max_gfn)
      e.Add(EINVAL, "beyond the host's MAXPHYADDR");
    if (!old && gmem) {
      switch (c.fd) {
        case GmemFd::kBad:
          e.Add(EBADF, "guest_memfd is no open file");
          break;
        case GmemFd::kNotGmem:
          e.Add(EINVAL, "guest_memfd is not a guest_memfd");
          break;
        case GmemFd::kForeign:
          e.Add(EINVAL, "guest_memfd of another VM");
          break;
        case GmemFd::kOwn:
          if (c.gmem_offset + c.size > c.gmem_size) {
            e.Add(EINVAL, "range beyond the end of the guest_memfd");
          } else if (m.GmemBound(c.gmem_id, c.gmem_offset, c.size)) {
            // A page of a guest_memfd backs at most one gfn: EEXIST, as in
            // upstream since 7.2 (6.8 to 7.1 said EINVAL).
            e.Add(EEXIST, "guest_memfd range bound already");
          }
          break;
      }
    }
    if (e.ok.empty()) e.Add(0, old ? (c.gpa != old->gpa ? "move" : "flags change") : "create");
  }
  AllowNoMemory(e);
  // pad1/pad2 are not checked (as upstream): they change nothing.
  return e;
}

void ApplyRegion(const RegionCall& c, Memslots& m) {
  const SlotState* old = m.Find(c.slot);
  if (c.size == 0) {
    m.Erase(c.slot);
    return;
  }
  SlotState s = old ? *old : SlotState{};
  s.gpa = c.gpa;
  s.flags = c.flags;
  if (!old) {
    s.size = c.size;
    s.hva = c.hva;
    if (c.flags & kGmemFlag) {
      s.gmem_id = c.gmem_id;
      s.gmem_offset = c.v1 ? 0 : c.gmem_offset;
    }
  }
  m.Set(c.slot, s);
}

// ---- guest_memfd -------------------------------------------------------

Expect ExpectCreateGmem(const Env& env, const GmemCall& c) {
  Expect e;
  if (c.flags & ~env.gmem_flags) e.Add(EINVAL, "flag not in KVM_CAP_GUEST_MEMFD_FLAGS");
  // Shared memory of a VM with private memory (every VM here) lives only in
  // a mappable file (api.rst 4.140, with in-place conversion).
  if ((c.flags & GUEST_MEMFD_FLAG_INIT_SHARED) && !(c.flags & GUEST_MEMFD_FLAG_MMAP))
    e.Add(EINVAL, "INIT_SHARED without MMAP in a VM with private memory");
  // The size is a positive loff_t, in whole pages.
  if (c.size == 0 || !Aligned(c.size) || c.size > static_cast<uint64_t>(LLONG_MAX))
    e.Add(EINVAL, "size zero, unaligned or negative as loff_t");
  if (!e.ok.empty()) return e;
  e.Add(0, "create");
  AllowNoMemory(e);
  // reserved[] is not checked (as upstream): it changes nothing.
  return e;
}

Expect ExpectFallocate(const FallocCall& c, uint64_t gmem_size, bool signalled) {
  Expect e;
  const int m = c.mode;
  constexpr int kVfsModes = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE |
                            FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE;
  // -- vfs_fallocate(), before the file sees the call (fallocate(2)). --
  if (c.offset < 0 || c.len <= 0) e.Add(EINVAL, "offset < 0 or len <= 0");
  if (m & ~kVfsModes) e.Add(EOPNOTSUPP, "unknown mode bit");
  if ((m & FALLOC_FL_PUNCH_HOLE) && (m & FALLOC_FL_ZERO_RANGE))
    e.Add(EOPNOTSUPP, "PUNCH_HOLE with ZERO_RANGE");
  if ((m & FALLOC_FL_PUNCH_HOLE) && !(m & FALLOC_FL_KEEP_SIZE))
    e.Add(EOPNOTSUPP, "PUNCH_HOLE without KEEP_SIZE");
  if ((m & FALLOC_FL_COLLAPSE_RANGE) && (m & ~FALLOC_FL_COLLAPSE_RANGE))
    e.Add(EINVAL, "COLLAPSE_RANGE with other modes");
  if ((m & FALLOC_FL_INSERT_RANGE) && (m & ~FALLOC_FL_INSERT_RANGE))
    e.Add(EINVAL, "INSERT_RANGE with other modes");
  if ((m & FALLOC_FL_UNSHARE_RANGE) && (m & ~(FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE)))
    e.Add(EINVAL, "UNSHARE_RANGE with modes other than KEEP_SIZE");
  if (c.offset >= 0 && c.len > 0 && c.len > LLONG_MAX - c.offset)
    e.Add(EFBIG, "offset + len beyond the largest file size");
  if (!e.ok.empty()) return e;

  // -- guest_memfd's own rules. --
  // Its size is fixed: only KEEP_SIZE allocation and KEEP_SIZE|PUNCH_HOLE.
  if (!(m & FALLOC_FL_KEEP_SIZE) || (m & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)))
    e.Add(EOPNOTSUPP, "guest_memfd: not KEEP_SIZE, or a mode beyond PUNCH_HOLE");
  if (!Aligned(c.offset) || !Aligned(c.len)) e.Add(EINVAL, "guest_memfd: range not page aligned");
  const bool punch = m & FALLOC_FL_PUNCH_HOLE;
  // Allocation may not grow the file; punching past the end is no error.
  if (!punch && static_cast<uint64_t>(c.offset) + c.len > gmem_size)
    e.Add(EINVAL, "guest_memfd: allocation beyond the end");
  if (!e.ok.empty()) return e;

  if (punch) {
    // Punching cannot fail and is not interruptible.
    e.Add(0, "punch hole");
    return e;
  }
  e.Add(0, "allocate");
  AllowNoMemory(e);
  // An allocation stops at a signal, as fallocate(2) documents (upstream's
  // guest_memfd does the same); only when one actually arrived.
  if (signalled) e.Add(EINTR, "allocation interrupted by a signal");
  return e;
}

// ---- in-place conversion -----------------------------------------------

Expect ExpectAttributes2(const Env& env, const Attr2Call& c) {
  Expect e;
  // A guest_memfd ioctl: the VM has no ioctl of that number (its
  // KVM_SET_MEMORY_ATTRIBUTES takes a smaller struct).
  if (c.on_vm) {
    e.Add(ENOTTY, "KVM_SET_MEMORY_ATTRIBUTES2 on a VM fd");
    return e;
  }
  // Without kvm.gmem_in_place_conversion guest_memfd has no ioctls at all,
  // whatever the argument (the capability is 0 then).
  if (!env.gmem_attributes) {
    e.Add(ENOTTY, "no in-place conversion (KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES 0)");
    return e;
  }
  if (c.bad_arg) {
    e.Add(EFAULT, "the argument cannot be read");
    return e;
  }
  // -- The arguments, and the file's kind: EINVAL only. --
  if (c.flags) e.Add(EINVAL, "flags non-zero");
  if (c.reserved) e.Add(EINVAL, "reserved non-zero");
  if (c.attrs & ~env.gmem_attributes)
    e.Add(EINVAL, "attribute not in KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES");
  // Every VM of the fuzzer has private memory; the file must be mappable.
  if (!(c.gmem_flags & GUEST_MEMFD_FLAG_MMAP)) e.Add(EINVAL, "guest_memfd without MMAP");
  if (c.size == 0 || !Aligned(c.offset) || !Aligned(c.size))
    e.Add(EINVAL, "size zero, or offset or size not page aligned");
  // Written so that nothing wraps: offset + size past the end, or wrapping.
  if (c.offset > c.gmem_size || c.size > c.gmem_size - c.offset)
    e.Add(EINVAL, "range not within the file");
  if (!e.ok.empty()) return e;
  e.Add(0, c.attrs ? "convert to private" : "convert to shared");
  // The file's record of private ranges may need memory.
  AllowNoMemory(e);
  // Making memory private fails if a page of the range is referenced
  // outside guest_memfd.  LENIENT: other threads' host accesses, guest
  // faults and vmsplice()s take such references at any moment, and the ABI
  // calls a transient one a reason to fail too.  Making memory shared
  // checks no references: never EAGAIN.  The reference is reported in
  // error_offset, which a read-only argument makes EFAULT instead.
  if (c.attrs & KVM_MEMORY_ATTRIBUTE_PRIVATE) {
    if (c.readonly_arg)
      e.Add(EFAULT, "a page is referenced, and error_offset cannot be written");
    else
      e.Add(EAGAIN, "a page of the range is referenced outside guest_memfd");
  }
  // Never EINTR, signal or not: neither the invalidate_lock nor the wait
  // for per-CPU page batches is interruptible, and the ABI names no EINTR.
  return e;
}

std::string CheckAttributes2(const Attr2Call& c, int err, uint64_t error_offset) {
  if (err != EAGAIN) return "";
  // The offset of the page that is referenced: a page of the range.
  if (!Aligned(error_offset) || error_offset < c.offset || error_offset - c.offset >= c.size)
    return "EAGAIN with error_offset " + Hex(error_offset) + ", not a page of [" + Hex(c.offset) +
           ", " + Hex(c.offset + c.size) + ")";
  return "";
}

Expect ExpectHostAccess(const Env& env, uint64_t gmem_flags, bool proc_mem, bool gup) {
  Expect e;
  // How the call reports a page it cannot reach.
  const int refused = proc_mem ? EIO : EFAULT;
  if ((gup || proc_mem) && (gmem_flags & GUEST_MEMFD_FLAG_NO_DIRECT_MAP)) {
    // The kernel would reach a pinned page through its direct map.
    e.Add(refused, "NO_DIRECT_MAP: get_user_pages() refuses the file's pages");
  } else if (env.gmem_attributes) {
    // LENIENT: other threads convert the file's pages at any moment.
    e.Add(ErrSet{0, refused}, "shared or private, as the file holds the page now");
  } else if (gmem_flags & GUEST_MEMFD_FLAG_INIT_SHARED) {
    // Only VMs without private memory have such files then; none here.
    e.Add(0, "INIT_SHARED without in-place conversion: shared for good");
  } else {
    // The memory of a VM with private memory cannot be converted: the
    // host never reaches it (SIGBUS: EFAULT for a system call).
    e.Add(refused, "no in-place conversion: a SW-protected VM's guest_memfd is private for good");
  }
  // pipe buffers, page arrays, the other file's page.
  AllowNoMemory(e);
  return e;
}

bool HostAccessMayBeShort(const Env& env) {
  // LENIENT with in-place conversion: a conversion to private can unmap the
  // page in the middle of the copy (an interrupted rep movs), which then
  // stops at SIGBUS.  Without it nothing unmaps a page that the host can
  // reach, so an access within one page copies all of it or nothing.
  return env.gmem_attributes != 0;
}

// ---- attributes, pre-fault ---------------------------------------------

Expect ExpectAttributes(const AttrCall& c) {
  Expect e;
  if (c.flags) e.Add(EINVAL, "flags non-zero");
  // SW-protected VMs support exactly KVM_MEMORY_ATTRIBUTE_PRIVATE.
  if (c.attrs & ~KVM_MEMORY_ATTRIBUTE_PRIVATE) e.Add(EINVAL, "unsupported attribute");
  if (c.size == 0 || Wraps(c.gpa, c.size)) e.Add(EINVAL, "size zero or address + size wraps");
  if (!Aligned(c.gpa) || !Aligned(c.size)) e.Add(EINVAL, "range not page aligned");
  if (!e.ok.empty()) return e;
  // Any range may carry attributes, with or without a memslot.  The call is
  // all or nothing and NEVER fails with EINTR, signal or not: a VMM could
  // not tell how much of the range changed (the series' 6.1 code returns
  // EINTR on a signal; a known bug).
  e.Add(0, "set attributes");
  AllowNoMemory(e);
  return e;
}

Expect ExpectPreFault(const Env& env, const PreFaultCall& c, bool signalled) {
  Expect e;
  // padding is not checked (as upstream): only flags are.
  if (c.flags) e.Add(EINVAL, "flags non-zero");
  if (!Aligned(c.gpa) || !Aligned(c.size) || c.gpa + c.size <= c.gpa)
    e.Add(EINVAL, "range unaligned, empty or wrapping");
  if (!e.ok.empty()) return e;
  e.Add(0, "pre-fault (possibly partial)");
  // LENIENT: what the range maps to changes under the fuzzer's feet
  // (memslots, attributes, guest_memfd files), so every documented failure
  // of a valid call on a live VM is accepted: ENOENT no memslot, EFAULT
  // private gfn that guest_memfd cannot back, EAGAIN memslot going away,
  // ENOMEM.  Not EIO: the VM never dies here.
  e.Add(ErrSet{ENOENT, EFAULT, EAGAIN, ENOMEM}, "valid range, state unknown");
  // EOPNOTSUPP only for VMs whose MMU cannot pre-fault, which the
  // capability reports.
  if (!env.prefault_cap) e.Add(EOPNOTSUPP, "no KVM_CAP_PRE_FAULT_MEMORY");
  if (signalled) e.Add(EINTR, "interrupted by a signal");
  return e;
}

Expect ExpectBackedPreFault(bool signalled, const PoisonedPages* poisoned, uint64_t gpa) {
  Expect e;
  const bool maybe = poisoned && poisoned->maybe.count(gpa);
  const bool refused = poisoned && poisoned->refused.count(gpa);
  // A poisoned guest_memfd page is refused (kvm_gmem_get_pfn(): EHWPOISON)
  // until a hole is punched over it; a pre-fault reports that only for its
  // first page, a later one ends it early (CheckBackedPreFault()).
  // LENIENT for a page still being poisoned: the injection runs on another
  // thread, so the pre-fault may come before or after it.
  if (maybe) e.Add(EHWPOISON, "first page poisoned by the fuzzer");
  if (!refused) e.Add(0, "pre-fault of memory that is bound and backed");
  AllowNoMemory(e);
  if (signalled) e.Add(EINTR, "interrupted by a signal");
  return e;
}

std::string CheckBackedPreFault(const PreFaultCall& in, uint64_t gpa_out, uint64_t size_out,
                                int err, bool signalled, const PoisonedPages* poisoned) {
  if (err != 0) return "";
  // [in.gpa, gpa_out) is mapped now.
  if (poisoned) {
    for (uint64_t g : poisoned->refused)
      if (g >= in.gpa && g < gpa_out)
        return "mapped " + Hex(g) + ", a poisoned page that must be refused";
  }
  // Backed memory is mapped whole unless a signal or a poisoned page stops
  // the loop (LENIENT as above for a page still being poisoned).
  if (size_out != 0 && !signalled && !(poisoned && poisoned->maybe.count(gpa_out)))
    return "backed memory, but stopped early at " + Hex(gpa_out) +
           " without a signal or a poisoned page";
  return "";
}

// ---- memory failure ----------------------------------------------------

Expect ExpectInjection() {
  Expect e;
  // LENIENT: upstream's memory failure leaves a guest_memfd page in its
  // file (MF_DELAYED) and reports success; 6.1 has no MF_DELAYED and
  // reports the page as still referenced (EBUSY), or as unhandlable
  // (EBUSY) if it is briefly off the LRU.  The page is poisoned in every
  // case, which the caller checks in /proc/kpageflags.
  e.Add(ErrSet{0, EBUSY}, "memory failure on a guest_memfd page (EBUSY: 6.1, no MF_DELAYED)");
  return e;
}

std::string CheckPreFaultProgress(const PreFaultCall& in, uint64_t gpa_out, uint64_t size_out,
                                  int err) {
  const uint64_t done = in.size - size_out;
  if (gpa_out - in.gpa != done || size_out > in.size)
    return "gpa and size moved by different amounts";
  if (done != 0 && (!Aligned(gpa_out) || !Aligned(size_out))) return "progress not in whole pages";
  // Success means some progress; an error means none (the ioctl reports an
  // error only if it could not map the first page).
  if (err == 0 && done == 0) return "success without progress";
  if (err != 0 && done != 0) return "an error after progress";
  return "";
}

// ---- VMs and vCPUs -----------------------------------------------------

Expect ExpectCreateVm() {
  Expect e;
  e.Add(0, "create VM");
  AllowNoMemory(e);
  return e;
}

Expect ExpectCreateVcpu(const Env& env, const VcpuCall& c) {
  Expect e;
  if (c.id >= static_cast<uint64_t>(env.max_vcpu_id))
    e.Add(EINVAL, "id beyond KVM_CAP_MAX_VCPU_ID");
  if (!e.ok.empty()) return e;
  if (c.created >= env.max_vcpus) e.Add(EINVAL, "KVM_CAP_MAX_VCPUS vCPUs exist");
  if (c.id_taken) e.Add(EEXIST, "id taken");
  if (e.ok.empty()) e.Add(0, "create vCPU");
  AllowNoMemory(e);
  return e;
}

Expect ExpectClose() {
  Expect e;
  e.Add(0, "close never fails");
  return e;
}

Expect ExpectResetVcpu() {
  Expect e;
  e.Add(0, "setting the registers of a vCPU that is not in an exit");
  return e;
}

// ---- KVM_RUN -----------------------------------------------------------

StopKind ClassifyStop(const RunStop& s, uint64_t lo, uint64_t hi, std::string* why,
                      const PoisonedPages* poisoned) {
  if (s.err == 0) {
    // Emulated MMIO: the command touched a gfn without a memslot, or wrote
    // to a read-only one.  Only inside the command's own range.
    if (s.exit_reason == KVM_EXIT_MMIO) {
      if (s.mmio_addr >= lo && s.mmio_addr + s.mmio_len <= hi && s.mmio_len >= 1 && s.mmio_len <= 8)
        return StopKind::kMmio;
      *why = "MMIO exit at " + Hex(s.mmio_addr) + "+" + std::to_string(s.mmio_len) +
             ", outside the command's range [" + Hex(lo) + ", " + Hex(hi) + ")";
      return StopKind::kIllegal;
    }
    *why =
        "KVM_RUN returned 0 with exit reason " + std::to_string(s.exit_reason) +
        (s.exit_reason == KVM_EXIT_MEMORY_FAULT ? " (a memory fault is reported only with EFAULT)"
                                                : "");
    return StopKind::kIllegal;
  }
  if (s.err == EINTR) {
    if (s.signalled && s.exit_reason == KVM_EXIT_INTR) return StopKind::kInterrupted;
    *why = s.signalled ? "EINTR without KVM_EXIT_INTR" : "EINTR without a signal";
    return StopKind::kIllegal;
  }
  if (s.err == EFAULT) {
    // A memory fault names one page the command touched.  LENIENT on the
    // flags: the series reports private faults only, upstream also reports
    // a shared one when the attributes change during the fault.
    if (s.exit_reason != KVM_EXIT_MEMORY_FAULT) {
      *why = "EFAULT without KVM_EXIT_MEMORY_FAULT";
      return StopKind::kIllegal;
    }
    if (s.fault_flags & ~KVM_MEMORY_EXIT_FLAG_PRIVATE) {
      *why = "memory fault with unknown flags";
      return StopKind::kIllegal;
    }
    if (s.fault_size != kPage || !Aligned(s.fault_gpa) || s.fault_gpa + kPage <= lo ||
        s.fault_gpa >= hi) {
      *why = "memory fault at " + Hex(s.fault_gpa) + " size " + Hex(s.fault_size) +
             ", not one page of the command's range [" + Hex(lo) + ", " + Hex(hi) + ")";
      return StopKind::kIllegal;
    }
    return StopKind::kMemoryFault;
  }
  if (s.err == EHWPOISON) {
    // A private access to a guest_memfd page that memory failure poisoned:
    // refused with a private memory fault until a hole is punched over it
    // (upstream's kvm_gmem_get_pfn()).  Only pages the fuzzer poisoned.
    if (s.exit_reason != KVM_EXIT_MEMORY_FAULT) {
      *why = "EHWPOISON without KVM_EXIT_MEMORY_FAULT";
      return StopKind::kIllegal;
    }
    if (s.fault_flags != KVM_MEMORY_EXIT_FLAG_PRIVATE) {
      *why = "EHWPOISON with a memory fault that is not (only) private";
      return StopKind::kIllegal;
    }
    if (s.fault_size != kPage || !Aligned(s.fault_gpa) || s.fault_gpa + kPage <= lo ||
        s.fault_gpa >= hi) {
      *why = "EHWPOISON memory fault at " + Hex(s.fault_gpa) + " size " + Hex(s.fault_size) +
             ", not one page of the command's range [" + Hex(lo) + ", " + Hex(hi) + ")";
      return StopKind::kIllegal;
    }
    // LENIENT for a page still being poisoned: the injection runs on another
    // thread, so the access may come before or after it.
    if (!poisoned || !poisoned->maybe.count(s.fault_gpa)) {
      *why = "EHWPOISON at " + Hex(s.fault_gpa) +
             ", a page the fuzzer did not poison (or punched since)";
      return StopKind::kIllegal;
    }
    return StopKind::kPoisoned;
  }
  // LENIENT: guest_memfd may fail to allocate the page.
  if (s.err == ENOMEM) return StopKind::kNoMemory;
  *why = "KVM_RUN failed with " + ErrName(s.err);
  return StopKind::kIllegal;
}

std::string CheckAnswered(uint64_t lo, uint64_t hi, const PoisonedPages* poisoned) {
  // LENIENT: a poisoned page that is in |maybe| only may still answer: 6.1's
  // memory failure can give up on a page it cannot handle right then after
  // marking it poisoned, before it reaches guest_memfd (nothing is unmapped),
  // and guest_memfd unmaps from a work item when a hole punch or a binding
  // change holds its invalidate_lock.  A guest mapping made before the
  // poison then keeps working; once the page was unmapped since (a
  // conversion, a slot deletion, a refused access), it never answers again.
  if (!poisoned) return "";
  for (uint64_t g : poisoned->refused) {
    if (Intersect(g, kPage, lo, hi - lo))
      return "the command went through " + Hex(g) +
             ", a poisoned page that no mapping made before the poison can reach any more";
  }
  return "";
}

std::string CheckAnswer(uint32_t op, uint32_t value, uint32_t dwords, uint32_t answer) {
  if (op == gmt::kOpWrite && answer != value) return "Write answers the value it wrote";
  if (op == gmt::kOpFill && answer != dwords) return "Fill answers the number of dwords";
  return "";
}

}  // namespace fuzz
