#include "selftests/fuzz/ops.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <iterator>

namespace fuzz {
namespace {

using std::chrono::microseconds;

// How often each op is drawn, relative to the others.
constexpr unsigned kWeights[] = {
    12,  // kGmemCreate
    5,   // kGmemClose
    18,  // kFallocAlloc
    24,  // kFallocPunch
    8,   // kFallocBad
    24,  // kSlotGmem
    8,   // kSlotPlain
    16,  // kSlotDelete
    6,   // kSlotMove
    6,   // kSlotFlags
    8,   // kSlotBad
    3,   // kSlotV1
    2,   // kSlotAs1
    36,  // kAttr
    4,   // kAttrFar
    8,   // kAttrBad
    18,  // kPreFault
    5,   // kPreFaultBad
    48,  // kGuest
    3,   // kVcpuCreate
    3,   // kVcpuClose
    1,   // kVmClose
    16,  // kGmemAttr2
    4,   // kGmemAttr2Bad
    8,   // kGmemHost
};
static_assert(sizeof(kWeights) / sizeof(kWeights[0]) == static_cast<size_t>(OpKind::kCount));

constexpr const char* kNames[] = {
    "gmem_create", "gmem_close", "falloc_alloc", "falloc_punch",   "falloc_bad",
    "slot_gmem",   "slot_plain", "slot_delete",  "slot_move",      "slot_flags",
    "slot_bad",    "slot_v1",    "slot_as1",     "attr",           "attr_far",
    "attr_bad",    "prefault",   "prefault_bad", "guest",          "vcpu_create",
    "vcpu_close",  "vm_close",   "gmem_attr2",   "gmem_attr2_bad", "gmem_host",
};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(OpKind::kCount));

constexpr microseconds kPreFaultWatchdog{kPreFaultLimitUs};
// Not a vCPU id, not a slot id, never an open file.
constexpr uint64_t kHugeVcpuId = 1ULL << 20;
constexpr uint32_t kBadFds[] = {0xffffffffu, 0x7ffffff0u, 1000000u};
// An address no user mapping can have.
constexpr uint64_t kKernelHva = 0xffff800000000000ULL;

// ---- drawing -----------------------------------------------------------

uint64_t Pages(uint64_t n) { return n * kPage; }

// Slot sizes: mostly small, so slots collide in the window.
uint64_t DrawSlotPages(Rng& r) { return r.OneIn(3) ? r.Range(17, 256) : r.Range(1, 16); }

// Guest memfd sizes, in pages: 5% huge (sparse), 15% tiny, 30% large.
uint64_t DrawGmemSize(Rng& r) {
  const uint64_t x = r.Below(20);
  if (x == 0) return 1ULL << 40;
  if (x < 4) return Pages(r.Range(1, 15));
  if (x < 10) return Pages(r.Range(257, 1024));
  return Pages(r.Range(16, 256));
}

// Offsets into a guest_memfd: mostly at or near the start.
uint64_t DrawGmemOffset(Rng& r) {
  const uint64_t x = r.Below(5);
  if (x < 2) return 0;
  if (x < 4) return Pages(r.Below(64));
  return Pages(r.Below(1100));
}

uint64_t DrawWindowGpa(Rng& r) { return kWindowGpa + Pages(r.Below(kWindowPages)); }

// A shared-mapping offset at which |size| bytes fit.
uint64_t DrawHvaOffset(Rng& r, uint64_t size) {
  return size >= kSharedBytes ? 0 : Pages(r.Below((kSharedBytes - size) / kPage + 1));
}

uint32_t DrawSlot(Rng& r) { return static_cast<uint32_t>(r.Range(1, kMaxFuzzSlot)); }

// A guest_memfd binding, mostly valid-looking.
void DrawGmemSlot(Rng& r, Op& op) {
  op.slot = DrawSlot(r);
  op.flags = KVM_MEM_GUEST_MEMFD;
  const uint64_t where = r.Below(40);
  if (where < 2)
    op.gpa = kFarGpa + Pages(r.Below(kFarPages));
  else if (where == 2)
    op.gpa = (1ULL << 52) + Pages(r.Below(1 << 20));  // beyond any MAXPHYADDR
  else
    op.gpa = DrawWindowGpa(r);
  op.size = Pages(DrawSlotPages(r));
  op.hva = DrawHvaOffset(r, op.size);
  op.gmem = static_cast<unsigned>(r.Below(kGmemsPerVm));
  op.offset = DrawGmemOffset(r);
  switch (r.Below(25)) {
    case 0:
      op.fd = GmemFd::kForeign;
      break;
    case 1:
      op.fd = GmemFd::kNotGmem;
      break;
    case 2:
      op.fd = GmemFd::kBad;
      break;
    default:
      op.fd = GmemFd::kOwn;
      break;
  }
  op.variant = static_cast<unsigned>(r.Below(4));
  op.pads = r.OneIn(100);
}

void DrawPlainSlot(Rng& r, Op& op) {
  op.slot = DrawSlot(r);
  op.flags = r.Pick<uint32_t>({0, 0, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY});
  op.gpa = r.OneIn(20) ? kFarGpa + Pages(r.Below(kFarPages)) : DrawWindowGpa(r);
  op.size = Pages(DrawSlotPages(r));
  op.hva = DrawHvaOffset(r, op.size);
}

// One invalid argument on top of a valid-looking binding.
void DrawBadSlot(Rng& r, Op& op) {
  DrawGmemSlot(r, op);
  op.fd = GmemFd::kOwn;
  op.pads = false;
  op.variant = static_cast<unsigned>(r.Below(12));
  switch (op.variant) {
    case 0:
      op.flags |= 1U << r.Range(3, 31);
      break;
    case 1:
      op.flags |= r.Pick<uint32_t>({KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY});
      break;
    case 2:
      op.size += r.Range(1, kPage - 1);
      break;
    case 3:
      op.gpa += r.Range(1, kPage - 1);
      break;
    case 4:
      op.hva += r.Range(1, kPage - 1);
      break;
    case 5:
      op.hva_abs = true;
      op.hva = kKernelHva;
      break;
    case 6:
      op.slot = r.Pick<uint32_t>({32764, 32767, 40000, 0xffff});
      break;
    case 7:
      op.slot |= static_cast<uint32_t>(r.Range(2, 0xffff)) << 16;
      break;
    case 8:
      op.gpa = ~0ULL - Pages(r.Range(0, 3)) + 1 - kPage;
      op.size = Pages(8);
      break;
    case 9:
      op.size = Pages(1ULL << 31);
      op.hva = 0;
      break;
    case 10:
      op.offset += r.Range(1, kPage - 1);
      break;
    default:
      op.offset = ~0ULL - kPage + 1;
      break;
  }
}

void DrawAttr(Rng& r, Op& op) {
  op.gpa = DrawWindowGpa(r);
  op.size = Pages(r.OneIn(4) ? r.Range(17, 512) : r.Range(1, 16));
  op.attrs = r.OneIn(2) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
}

void DrawBadAttr(Rng& r, Op& op) {
  DrawAttr(r, op);
  op.variant = static_cast<unsigned>(r.Below(7));
  switch (op.variant) {
    case 0:
      op.aflags = 1ULL << r.Below(64);
      break;
    case 1: {
      unsigned bit = static_cast<unsigned>(r.Below(63));
      op.attrs = 1ULL << (bit >= 3 ? bit + 1 : bit);  // anything but PRIVATE
      break;
    }
    case 2:
      op.size = 0;
      break;
    case 3:
      op.gpa += r.Range(1, kPage - 1);
      break;
    case 4:
      op.size += r.Range(1, kPage - 1);
      break;
    case 5:
      op.gpa = ~0ULL - kPage + 1;
      op.size = Pages(2);
      break;
    default:
      op.gpa = ~0ULL - Pages(r.Range(1, 8)) + 1;
      op.size = ~0ULL - kPage + 1;
      break;
  }
}

void DrawPreFault(Rng& r, Op& op) {
  op.vcpu = static_cast<unsigned>(r.Below(kVcpusPerVm));
  op.gpa = r.OneIn(10) ? kFarGpa + Pages(r.Below(kFarPages)) : DrawWindowGpa(r);
  op.size = Pages(r.Range(1, 64));
}

void DrawBadPreFault(Rng& r, Op& op) {
  DrawPreFault(r, op);
  op.variant = static_cast<unsigned>(r.Below(6));
  switch (op.variant) {
    case 0:
      op.aflags = 1ULL << r.Below(64);
      break;
    case 1:
      op.pads = true;
      break;
    case 2:
      op.gpa += r.Range(1, kPage - 1);
      break;
    case 3:
      op.size = r.OneIn(2) ? 0 : op.size + r.Range(1, kPage - 1);
      break;
    case 4:
      op.gpa = ~0ULL - kPage + 1;
      op.size = Pages(2);
      break;
    default:
      op.size = 0;
      break;
  }
}

void DrawFalloc(Rng& r, Op& op, int mode) {
  op.gmem = static_cast<unsigned>(r.Below(kGmemsPerVm));
  op.mode = mode;
  op.foff = static_cast<int64_t>(DrawGmemOffset(r));
  op.flen = static_cast<int64_t>(Pages(r.OneIn(4) ? r.Range(17, 256) : r.Range(1, 16)));
}

void DrawBadFalloc(Rng& r, Op& op) {
  DrawFalloc(r, op, FALLOC_FL_KEEP_SIZE | (r.OneIn(2) ? FALLOC_FL_PUNCH_HOLE : 0));
  op.variant = static_cast<unsigned>(r.Below(12));
  switch (op.variant) {
    case 0:
      op.mode = 0;
      break;
    case 1:
      op.mode = FALLOC_FL_PUNCH_HOLE;
      break;
    case 2:
      op.mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE;
      break;
    case 3:
      op.mode = FALLOC_FL_COLLAPSE_RANGE;
      break;
    case 4:
      op.mode = FALLOC_FL_INSERT_RANGE | static_cast<int>(r.Below(2));
      break;
    case 5:
      op.mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_UNSHARE_RANGE;
      break;
    case 6:
      op.mode |= 0x80 << r.Below(8);
      break;
    case 7:
      op.foff += static_cast<int64_t>(r.Range(1, kPage - 1));
      break;
    case 8:
      op.flen += static_cast<int64_t>(r.Range(1, kPage - 1));
      break;
    case 9:
      op.foff = -static_cast<int64_t>(Pages(r.Range(1, 4)));
      break;
    case 10:
      op.flen = r.OneIn(2) ? 0 : -static_cast<int64_t>(kPage);
      break;
    default:
      op.foff = LLONG_MAX - static_cast<int64_t>(kPage) + 1;
      op.flen = 2 * kPage;
      break;
  }
}

void DrawGuest(Rng& r, Op& op) {
  op.vcpu = static_cast<unsigned>(r.Below(kVcpusPerVm));
  op.cmd.op = r.Pick<gmt::GuestOp>({gmt::kOpRead, gmt::kOpWrite, gmt::kOpFill, gmt::kOpSum});
  op.cmd.dwords = static_cast<uint32_t>(r.OneIn(4) ? r.Range(17, 256) : r.Range(1, 16));
  op.cmd.addr = static_cast<uint32_t>(kWindowGpa + 4 * r.Below(Pages(kWindowPages) / 4));
  op.cmd.value = static_cast<uint32_t>(r.Next());
  op.policy = r.OneIn(2) ? FaultPolicy::kConvert : FaultPolicy::kAbandon;
  // One in eight within slot 2 as a new VM has it: with in-place
  // conversion, memory of a mappable file whose pages change sides.
  if (r.OneIn(8))
    op.cmd.addr = static_cast<uint32_t>(kSlot2Gpa + 4 * r.Below(Pages(kPopulatedPages) / 4));
}

// In-place conversion.  The guest_memfd an op names: mostly one of those
// that new VMs get mappable with in-place conversion, else any.
unsigned DrawMappableGmem(Rng& r) {
  return r.OneIn(4) ? static_cast<unsigned>(r.Below(kGmemsPerVm))
                    : r.Pick<unsigned>({kSharedGmem, kPrivateGmem});
}

// A conversion; the executed op fits the range into the file it finds.
void DrawAttr2(Rng& r, Op& op) {
  op.gmem = DrawMappableGmem(r);
  op.offset = DrawGmemOffset(r);
  op.size = Pages(r.OneIn(4) ? r.Range(17, 512) : r.Range(1, 16));
  op.attrs = r.OneIn(2) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
}

// gmem_attr2_bad's invalid calls, by op.variant.
enum Attr2Bad : unsigned {
  kBadFlags,
  kBadReserved,
  kBadAttribute,
  kBadSizeZero,
  kBadOffsetUnaligned,
  kBadSizeUnaligned,
  kBadPastEnd,  // resolved against the file's size when executed
  kBadWraps,
  kBadHugeSize,
  kBadPointer,  // the argument at an address that cannot be read
  kBadOnVm,     // issued on the VM fd
  kNumAttr2Bad
};
constexpr const char* kAttr2BadNames[] = {
    "flags",        "reserved", "attribute", "size-zero",   "offset-unaligned", "size-unaligned",
    "past-the-end", "wraps",    "huge-size", "bad-pointer", "on-vm-fd"};
static_assert(std::size(kAttr2BadNames) == kNumAttr2Bad);

void DrawBadAttr2(Rng& r, Op& op) {
  DrawAttr2(r, op);
  op.variant = static_cast<unsigned>(r.Below(kNumAttr2Bad));
  op.mode = static_cast<int>(r.Below(64));  // which reserved word, bad pointer, end
  switch (op.variant) {
    case kBadFlags:
      op.aflags = 1ULL << r.Below(64);
      break;
    case kBadReserved:
      op.pads = true;
      break;
    case kBadAttribute: {
      unsigned bit = static_cast<unsigned>(r.Below(63));
      op.attrs = (1ULL << (bit >= 3 ? bit + 1 : bit)) | (r.OneIn(2) ? op.attrs : 0);
      break;
    }
    case kBadSizeZero:
      op.size = 0;
      break;
    case kBadOffsetUnaligned:
      op.offset += r.Range(1, kPage - 1);
      break;
    case kBadSizeUnaligned:
      op.size += r.Range(1, kPage - 1);
      break;
    case kBadPastEnd:
      op.size = Pages(r.Range(2, 4));
      break;
    case kBadWraps:
      op.offset = ~0ULL - kPage + 1;
      op.size = Pages(2);
      break;
    case kBadHugeSize:
      op.offset = Pages(r.Range(1, 8));
      op.size = ~0ULL - kPage + 1;
      break;
    default:
      break;
  }
}

// gmem_host's accesses through the host's mapping of a guest_memfd, by
// op.variant.
enum HostAccess : unsigned {
  kHostRead,         // pwrite() from the mapping: the kernel reads it
  kHostWrite,        // pread() into the mapping: the kernel writes it
  kHostGup,          // pread() of /proc/self/mem: get_user_pages() references
  kHostSplice,       // vmsplice() the page into a pipe, then make it private
  kHostSpliceRoArg,  // the same, with the conversion's argument read-only
  kNumHostAccess
};
constexpr const char* kHostAccessNames[] = {"read", "write", "gup", "splice", "splice-ro-arg"};
static_assert(std::size(kHostAccessNames) == kNumHostAccess);

void DrawGmemHost(Rng& r, Op& op) {
  op.gmem = DrawMappableGmem(r);
  op.offset = Pages(r.OneIn(2) ? r.Below(64) : r.Below(1024));
  op.variant = static_cast<unsigned>(r.Below(kNumHostAccess));
}

// ---- executing ---------------------------------------------------------

// The VM an op names, with the caller's own dup of its fd in |fd| if
// |need_fd|.  A closed VM is replaced if the op says so; nullptr if the op
// cannot go on.
std::shared_ptr<VmObj> TakeVm(ThreadCtx& ctx, const Op& op, bool need_fd, gmt::UniqueFd* fd) {
  auto vm = ctx.world().Vm(op.vm);
  if (!need_fd) return vm;
  *fd = vm->fd.Dup();
  if (fd->valid()) return vm;
  if (!op.revive) return nullptr;
  int err = 0;
  const char* step = "";
  auto fresh = ctx.world().Replace(op.vm, vm, &err, &step);
  if (!ctx.Check(step, err, ExpectCreateVm())) return nullptr;
  ctx.Trace("vm#" + std::to_string(fresh->id) + " replaces closed vm#" + std::to_string(vm->id));
  *fd = fresh->fd.Dup();
  return fd->valid() ? fresh : nullptr;
}

template <typename T, size_t N>
std::shared_ptr<T> Entry(VmObj& vm, std::array<std::shared_ptr<T>, N>& table, unsigned i) {
  std::lock_guard<std::mutex> lock(vm.mu);
  return table[i % N];
}

template <typename T, size_t N>
std::shared_ptr<T> TakeEntry(VmObj& vm, std::array<std::shared_ptr<T>, N>& table, unsigned i) {
  std::lock_guard<std::mutex> lock(vm.mu);
  return std::exchange(table[i % N], nullptr);
}

// Puts |obj| in |table| slot i; closes what was there.
template <typename T, size_t N>
void Install(ThreadCtx& ctx, VmObj& vm, std::array<std::shared_ptr<T>, N>& table, unsigned i,
             std::shared_ptr<T> obj, const char* what) {
  std::shared_ptr<T> old;
  {
    std::lock_guard<std::mutex> lock(vm.mu);
    old = std::exchange(table[i % N], std::move(obj));
  }
  if (old) {
    int r = old->fd.Close();
    if (r >= 0) ctx.Check(what, r, ExpectClose());
  }
}

int Errno(long r) { return r < 0 ? static_cast<int>(-r) : 0; }

void GmemCreate(ThreadCtx& ctx, const Op& op) {
  gmt::UniqueFd vmfd;
  auto vm = TakeVm(ctx, op, true, &vmfd);
  if (!vm) return ctx.End("skip:vm-closed");
  GmemCall c{op.size, op.flags, op.pads};
  std::shared_ptr<GmemObj> g;
  SignalWindow w(ctx.timer, ctx.TakeNoise(), microseconds(0));
  long r = ctx.world().CreateGmem(vmfd.get(), c.size, c.flags, c.reserved, &g);
  w.Close();
  if (!ctx.Check("KVM_CREATE_GUEST_MEMFD", Errno(r), ExpectCreateGmem(ctx.env(), c)) || r < 0)
    return ctx.End(ErrName(Errno(r)));
  ctx.Trace("g#" + std::to_string(g->id));
  // Its size is what was asked for, and fixed.
  gmt::UniqueFd fd = g->fd.Dup();
  struct stat st = {};
  if (fstat(fd.get(), &st) != 0 || static_cast<uint64_t>(st.st_size) != c.size)
    ctx.Fail("fstat(guest_memfd)", "st_size " + Hex(c.size), Hex(st.st_size),
             "the size is fixed at creation");
  Install(ctx, *vm, vm->gmems, op.gmem, std::move(g), "close(old guest_memfd)");
  ctx.End("0");
}

void CloseOp(ThreadCtx& ctx, const Op& op) {
  auto vm = ctx.world().Vm(op.vm);
  int r = -1;
  const char* call = "close";
  if (op.kind == OpKind::kGmemClose) {
    if (auto g = TakeEntry(*vm, vm->gmems, op.gmem)) {
      ctx.Trace("g#" + std::to_string(g->id));
      r = g->fd.Close();
      call = "close(guest_memfd)";
    }
  } else if (op.kind == OpKind::kVcpuClose) {
    if (auto v = TakeEntry(*vm, vm->vcpus, op.vcpu)) {
      ctx.Trace("vcpu#" + std::to_string(v->id));
      r = v->fd.Close();
      call = "close(vCPU)";
    }
  } else {
    ctx.Trace("vm#" + std::to_string(vm->id));
    r = vm->fd.Close();
    call = "close(VM)";
  }
  if (r < 0) return ctx.End("skip:none");
  ctx.Check(call, r, ExpectClose());
  ctx.End(ErrName(r));
}

void Falloc(ThreadCtx& ctx, const Op& op) {
  auto vm = ctx.world().Vm(op.vm);
  auto g = Entry(*vm, vm->gmems, op.gmem);
  gmt::UniqueFd fd = g ? g->fd.Dup() : gmt::UniqueFd();
  if (!fd.valid()) return ctx.End("skip:no-gmem");
  ctx.Trace("g#" + std::to_string(g->id) + " size " + Hex(g->size));
  FallocCall c{op.mode, op.foff, op.flen};
  SignalWindow w(ctx.timer, ctx.TakeNoise(), microseconds(0));
  int r = fallocate(fd.get(), c.mode, c.offset, c.len) == 0 ? 0 : errno;
  w.Close();
  ctx.Check("fallocate", r, ExpectFallocate(c, g->size, w.signalled()));
  ctx.End(ErrName(r));
}

// fd 0 is what KVM_SET_USER_MEMORY_REGION binds when it (wrongly) takes
// KVM_MEM_GUEST_MEMFD: the v1 struct has no guest_memfd field, which the
// kernel reads as zero.  Calls that put a guest_memfd there take this lock.
std::mutex fd0_mu;

// Resolves what the op's guest_memfd field should refer to; |hold| keeps
// the fd open for the call.  False if the object is not there.
bool ResolveGmemFd(ThreadCtx& ctx, const Op& op, VmObj& vm, int vmfd, RegionCall& c,
                   gmt::UniqueFd& hold, int* fd) {
  c.fd = op.fd;
  switch (op.fd) {
    case GmemFd::kOwn: {
      auto g = Entry(vm, vm.gmems, op.gmem);
      if (g) hold = g->fd.Dup();
      if (!hold.valid()) return false;
      c.gmem_id = g->id;
      c.gmem_size = g->size;
      ctx.Trace("g#" + std::to_string(g->id) + " size " + Hex(g->size));
      *fd = hold.get();
      return true;
    }
    case GmemFd::kForeign: {
      // other_vm counts from the next VM on: never this one.
      const unsigned n = ctx.world().nvms();
      auto other = ctx.world().Vm((op.vm + 1 + op.other_vm) % n);
      if (other.get() == &vm) return false;
      auto g = Entry(*other, other->gmems, op.gmem);
      if (g) hold = g->fd.Dup();
      if (!hold.valid()) return false;
      ctx.Trace("foreign g#" + std::to_string(g->id));
      *fd = hold.get();
      return true;
    }
    case GmemFd::kNotGmem:
      *fd = op.variant == 0   ? ctx.world().devnull()
            : op.variant == 1 ? ctx.world().memfd()
            : op.variant == 2 ? ctx.world().kvm()
                              : vmfd;
      return true;
    case GmemFd::kBad:
      *fd = static_cast<int>(kBadFds[op.variant % 3]);
      return true;
  }
  return false;
}

void SlotOp(ThreadCtx& ctx, const Op& op) {
  gmt::UniqueFd vmfd;
  auto vm = TakeVm(ctx, op, true, &vmfd);
  if (!vm) return ctx.End("skip:vm-closed");
  const uint64_t base = reinterpret_cast<uint64_t>(vm->shared.data());
  RegionCall c;
  c.slot = op.slot;
  c.flags = op.flags;
  c.gpa = op.gpa;
  c.size = op.size;
  c.hva = op.hva_abs ? op.hva : base + op.hva;
  c.gmem_offset = op.offset;
  c.pads = op.pads;
  gmt::UniqueFd hold;
  int gmem_fd = -1;

  if (op.kind == OpKind::kSlotMove || op.kind == OpKind::kSlotFlags) {
    // Start from the slot as the model knows it (if it exists).
    std::lock_guard<std::mutex> lock(vm->slots_mu);
    if (const SlotState* s = vm->slots.Find(op.slot)) {
      c.size = s->size;
      c.hva = s->hva;
      c.flags = s->flags;
      c.gmem_offset = s->gmem_offset;
      if (op.kind == OpKind::kSlotFlags) c.gpa = s->gpa;
    }
    if (op.kind == OpKind::kSlotFlags) c.flags ^= op.flags;
  }
  // The guest_memfd field matters only where a slot is created; deletes,
  // moves and flag changes get a bad fd.
  const bool binds = (c.flags & KVM_MEM_GUEST_MEMFD) && c.size != 0 &&
                     op.kind != OpKind::kSlotMove && op.kind != OpKind::kSlotFlags;
  if (!binds) {
    c.fd = GmemFd::kBad;
    gmem_fd = static_cast<int>(kBadFds[0]);
  } else if (!ResolveGmemFd(ctx, op, *vm, vmfd.get(), c, hold, &gmem_fd)) {
    return ctx.End("skip:no-gmem");
  }
  int err;
  if (op.kind == OpKind::kSlotV1 && binds) {
    // KVM_SET_USER_MEMORY_REGION has no guest_memfd field; the kernel
    // reads it as 0, so put this VM's guest_memfd at fd 0.
    c.v1 = true;
    c.gmem_offset = 0;
    std::lock_guard<std::mutex> lock(fd0_mu);
    dup2(gmem_fd, 0);
    err = SetRegion(ctx, *vm, vmfd.get(), c, gmem_fd);
    dup2(ctx.world().devnull(), 0);
  } else {
    c.v1 = op.kind == OpKind::kSlotV1;
    err = SetRegion(ctx, *vm, vmfd.get(), c, gmem_fd);
  }
  ctx.End(ErrName(err));
}

void AttrOp(ThreadCtx& ctx, const Op& op) {
  gmt::UniqueFd vmfd;
  auto vm = TakeVm(ctx, op, true, &vmfd);
  if (!vm) return ctx.End("skip:vm-closed");
  AttrCall c{op.gpa, op.size, op.attrs, op.aflags};
  SignalWindow w(ctx.timer, ctx.TakeNoise(), microseconds(0));
  int err = Errno(gmt::SetAttributes(vmfd.get(), c.gpa, c.size, c.attrs, c.flags));
  w.Close();
  if (err == EINTR && !w.signalled()) ctx.Trace("(EINTR without a signal)");
  ctx.Check("KVM_SET_MEMORY_ATTRIBUTES", err, ExpectAttributes(c));
  ctx.End(ErrName(err));
}

void PreFaultOp(ThreadCtx& ctx, const Op& op) {
  auto vm = ctx.world().Vm(op.vm);
  auto v = Entry(*vm, vm->vcpus, op.vcpu);
  gmt::UniqueFd fd = v ? v->fd.Dup() : gmt::UniqueFd();
  if (!fd.valid()) return ctx.End("skip:no-vcpu");
  ctx.Trace("vcpu#" + std::to_string(v->id));
  // Not between the exits of another thread's guest command: the
  // pre-fault would overwrite the exit that command is handling.
  std::unique_lock<std::mutex> busy(v->busy, std::defer_lock);
  if (!ctx.run.opts.prefault_during_run && !busy.try_lock()) return ctx.End("skip:busy");
  PreFaultCall c{op.gpa, op.size, op.aflags, op.pads};
  int err = PreFault(ctx, fd.get(), c, false, nullptr, v.get());
  ctx.End(ErrName(err));
}

// Addresses no argument can be read from.
const void* const kBadArgs[] = {nullptr, reinterpret_cast<const void*>(kKernelHva)};

// One KVM_SET_MEMORY_ATTRIBUTES2 on |fd| (the guest_memfd, or the VM for
// c.on_vm), checked with its error_offset.  |word| picks the reserved word
// or bad address the call names.  Returns 0 or the errno.
int SetAttributes2(ThreadCtx& ctx, int fd, const Attr2Call& c, unsigned word) {
  kvm_memory_attributes2 a = {};
  a.offset = c.offset;
  a.size = c.size;
  a.attributes = c.attrs;
  a.flags = c.flags;
  a.error_offset = ~0ULL;  // the kernel writes it only for EAGAIN
  if (c.reserved) a.reserved[word % std::size(a.reserved)] = 1;
  const void* arg = &a;
  gmt::Mapping ro;
  if (c.bad_arg) {
    arg = kBadArgs[word % std::size(kBadArgs)];
  } else if (c.readonly_arg) {
    ro = gmt::Mapping::Map(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ro.valid()) std::memcpy(ro.data(), &a, sizeof(a));
    if (!ro.valid() || mprotect(ro.data(), kPage, PROT_READ) != 0) {
      ctx.Trace("no read-only argument: " + ErrName(errno));
      return ENOMEM;
    }
    arg = ro.data();
  }
  SignalWindow w(ctx.timer, ctx.TakeNoise(), microseconds(0));
  int err = Errno(gmt::Ioctl(fd, KVM_SET_MEMORY_ATTRIBUTES2, arg));
  w.Close();
  if (c.readonly_arg) std::memcpy(&a, ro.data(), sizeof(a));
  if (!ctx.Check("KVM_SET_MEMORY_ATTRIBUTES2", err, ExpectAttributes2(ctx.env(), c))) return err;
  if (err == EAGAIN) ctx.Trace("error_offset " + Hex(a.error_offset));
  std::string bad = CheckAttributes2(c, err, a.error_offset);
  if (!bad.empty())
    ctx.Fail("KVM_SET_MEMORY_ATTRIBUTES2", "error_offset: a page of the range", bad,
             "EAGAIN reports the offset of the page that is referenced outside guest_memfd");
  return err;
}

void Attr2Op(ThreadCtx& ctx, const Op& op) {
  auto vm = ctx.world().Vm(op.vm);
  auto g = Entry(*vm, vm->gmems, op.gmem);
  gmt::UniqueFd fd = g ? g->fd.Dup() : gmt::UniqueFd();
  if (!fd.valid()) return ctx.End("skip:no-gmem");
  Attr2Call c;
  c.offset = op.offset;
  c.size = op.size;
  c.attrs = op.attrs;
  c.flags = op.aflags;
  c.reserved = op.pads;
  c.gmem_flags = g->flags;
  c.gmem_size = g->size;
  if (op.kind == OpKind::kGmemAttr2) {
    // Valid: within the file.
    c.offset = Pages((c.offset / kPage) % (g->size / kPage));
    c.size = std::min(c.size, g->size - c.offset);
  } else if (op.variant == kBadPastEnd) {
    // At the end, or one page before it with more than one page.
    c.offset = g->size - Pages(static_cast<unsigned>(op.mode) % 2);
  } else if (op.variant == kBadPointer) {
    c.bad_arg = true;
  } else if (op.variant == kBadOnVm) {
    c.on_vm = true;
  }
  ctx.Trace("g#" + std::to_string(g->id) + " size " + Hex(g->size) + " flags " + Hex(g->flags) +
            ": off " + Hex(c.offset) + " size " + Hex(c.size));
  gmt::UniqueFd vmfd;
  if (c.on_vm) {
    vmfd = vm->fd.Dup();
    if (!vmfd.valid()) return ctx.End("skip:vm-closed");
  }
  int err = SetAttributes2(ctx, c.on_vm ? vmfd.get() : fd.get(), c, static_cast<unsigned>(op.mode));
  ctx.End(ErrName(err));
}

// The host touches a page of a mappable guest_memfd through system calls
// (a page the file holds as private is SIGBUS, which they see as EFAULT),
// while other threads convert, punch, fault and bind it.  The splice
// variants hold a reference to the page in a pipe and make the page
// private meanwhile: EAGAIN, with the page's offset, unless a punched hole
// took the page out of the file first.
void GmemHostOp(ThreadCtx& ctx, const Op& op) {
  auto vm = ctx.world().Vm(op.vm);
  auto g = Entry(*vm, vm->gmems, op.gmem);
  if (!g) return ctx.End("skip:no-gmem");
  if (!g->map.valid()) return ctx.End("skip:no-map");
  const uint64_t off = op.offset % g->map.size();
  uint8_t* const p = g->map.data() + off;
  ctx.Trace("g#" + std::to_string(g->id) + " flags " + Hex(g->flags) + " page " + Hex(off));
  // All but the plain copies pin the page with get_user_pages().
  const unsigned how = op.variant % kNumHostAccess;
  const Expect e = ExpectHostAccess(ctx.env(), g->flags, how == kHostGup,
                                    how != kHostRead && how != kHostWrite);
  const char* const name = kHostAccessNames[op.variant % kNumHostAccess];
  // Whole-or-nothing: the accesses stay within one page.
  auto result = [](ssize_t n, size_t want) {
    return n < 0 ? errno : n == static_cast<ssize_t>(want) ? 0 : -1;
  };
  char buf[64];
  int err = 0;
  const char* call = "";
  switch (op.variant % kNumHostAccess) {
    case kHostRead:
      call = "pwrite(from guest_memfd mapping)";
      err = result(pwrite(ctx.world().memfd(), p, sizeof(buf), 0), sizeof(buf));
      break;
    case kHostWrite:
      call = "pread(into guest_memfd mapping)";
      err = result(pread(ctx.world().memfd(), p, sizeof(buf), 0), sizeof(buf));
      break;
    case kHostGup: {
      // access_remote_vm(): get_user_pages_remote() takes references that
      // a conversion to private meets (process_vm_readv() needs
      // CONFIG_CROSS_MEMORY_ATTACH, which the test kernels lack).
      call = "pread(/proc/self/mem at guest_memfd mapping)";
      gmt::UniqueFd mem(open("/proc/self/mem", O_RDONLY | O_CLOEXEC));
      if (!mem.valid()) return ctx.End("skip:proc-mem");
      const off_t at = static_cast<off_t>(reinterpret_cast<uintptr_t>(p));
      err = result(pread(mem.get(), buf, sizeof(buf), at), sizeof(buf));
      break;
    }
    default: {
      int pfd[2];
      if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) != 0) return ctx.End("skip:pipe");
      gmt::UniqueFd rd(pfd[0]), wr(pfd[1]);
      iovec iov = {p, kPage};
      call = "vmsplice(guest_memfd mapping)";
      err = result(vmsplice(wr.get(), &iov, 1, SPLICE_F_NONBLOCK), kPage);
      if (err != 0) break;
      ctx.Check(call, err, e);
      gmt::UniqueFd fd = g->fd.Dup();
      if (!fd.valid()) return ctx.End(std::string(name) + ":skip:gmem-closed");
      Attr2Call c;
      c.offset = off;
      c.size = kPage;
      c.attrs = KVM_MEMORY_ATTRIBUTE_PRIVATE;
      c.readonly_arg = op.variant == kHostSpliceRoArg;
      c.gmem_flags = g->flags;
      c.gmem_size = g->size;
      const int conv = SetAttributes2(ctx, fd.get(), c, 0);
      // Let go of the page.
      static thread_local char sink[kPage];
      if (read(rd.get(), sink, sizeof(sink)) != static_cast<ssize_t>(kPage))
        ctx.Trace("pipe: " + ErrName(errno));
      return ctx.End(std::string(name) + ":convert=" + ErrName(conv));
    }
  }
  if (err < 0) {
    if (!HostAccessMayBeShort(ctx.env()))
      ctx.Fail(call, "all bytes or EFAULT", "a short count",
               "without in-place conversion nothing unmaps a page the host reaches mid-copy");
    return ctx.End(std::string(name) + ":short");
  }
  ctx.Check(call, err, e);
  ctx.End(std::string(name) + ":" + ErrName(err));
}

std::atomic<uint64_t> prefaults_behind_run{0};

// How much of a pre-fault's [start, end] was its own, given the guest
// commands on |vcpu|: vCPU ioctls take the vCPU's mutex (killable only), so
// while a KVM_RUN that began before the pre-fault holds it, the pre-fault
// cannot even start; that time is the guest command's, which RunCommand()
// judges.
int64_t OwnTimeNs(const VcpuObj* vcpu, int64_t start, int64_t end) {
  if (!vcpu) return end - start;
  // A run that began before us and has not stored its end yet: it just
  // returned (we could not have finished under it).
  int64_t rs = vcpu->run_start_ns.load(), re = vcpu->run_end_ns.load();
  if (rs != 0 && rs < start && re == 0) return 0;
  // The latest long run, if we started while it ran.
  int64_t ls = vcpu->long_run_start_ns.load(), le = vcpu->long_run_end_ns.load();
  if (ls != 0 && ls < start && le > start) return end - std::min(le, end);
  return end - start;
}

}  // namespace

int SetRegion(ThreadCtx& ctx, VmObj& vm, int vmfd, const RegionCall& c, int gmem_fd) {
  std::lock_guard<std::mutex> lock(vm.slots_mu);
  Expect e = ExpectRegion(ctx.env(), c, vm.slots);
  long r;
  SignalWindow w(ctx.timer, ctx.TakeNoise(), microseconds(0));
  if (c.v1) {
    kvm_userspace_memory_region m = {};
    m.slot = c.slot;
    m.flags = c.flags;
    m.guest_phys_addr = c.gpa;
    m.memory_size = c.size;
    m.userspace_addr = c.hva;
    r = gmt::Ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &m);
  } else {
    kvm_userspace_memory_region2 m = {};
    m.slot = c.slot;
    m.flags = c.flags;
    m.guest_phys_addr = c.gpa;
    m.memory_size = c.size;
    m.userspace_addr = c.hva;
    m.guest_memfd_offset = c.gmem_offset;
    m.guest_memfd = static_cast<uint32_t>(gmem_fd);
    if (c.pads) m.pad2[13] = 1;
    r = gmt::Ioctl(vmfd, KVM_SET_USER_MEMORY_REGION2, &m);
  }
  w.Close();
  int err = Errno(r);
  ctx.Check(c.v1 ? "KVM_SET_USER_MEMORY_REGION" : "KVM_SET_USER_MEMORY_REGION2", err, e);
  if (err == 0) ApplyRegion(c, vm.slots);
  return err;
}

uint64_t PreFaultsBehindRun() { return prefaults_behind_run.load(); }

int PreFault(ThreadCtx& ctx, int vcpu_fd, const PreFaultCall& c, bool backed,
             const PoisonedPages* poisoned, const VcpuObj* vcpu) {
  kvm_pre_fault_memory arg = {};
  arg.gpa = c.gpa;
  arg.size = c.size;
  arg.flags = c.flags;
  if (c.padding) arg.padding[4] = 1;
  const int64_t start = SteadyNs();
  SignalWindow w(ctx.timer, ctx.TakeNoise(), kPreFaultWatchdog);
  int err = Errno(gmt::Ioctl(vcpu_fd, KVM_PRE_FAULT_MEMORY, &arg));
  w.Close();
  const std::string ms = std::to_string(w.elapsed().count() / 1000) + " ms";
  ctx.Trace("done " + Hex(c.size - arg.size) + " in " + ms);
  bool slow = w.watchdog_fired() || w.elapsed() > kPreFaultWatchdog;
  // LENIENT: waiting behind another thread's KVM_RUN on the vCPU is not
  // pre-fault's time (a guest that went astray runs 10 s, command.cc).
  if (slow && OwnTimeNs(vcpu, start, SteadyNs()) < static_cast<int64_t>(kPreFaultLimitUs) * 1000) {
    prefaults_behind_run++;
    ctx.Trace("waited " + ms + " behind a KVM_RUN of the same vCPU");
    slow = false;
  }
  if (slow) {
    ctx.Fail("KVM_PRE_FAULT_MEMORY",
             "a result within " + std::to_string(kPreFaultLimitUs / 1000) + " ms",
             ErrName(err) + " after " + ms +
                 (w.watchdog_fired() ? ", ended by the watchdog signal" : ""),
             "pre-fault must not spin in the kernel (known bug: after a memslot delete it "
             "spins until a signal)");
    return err;
  }
  Expect e = backed ? ExpectBackedPreFault(w.signalled(), poisoned, c.gpa)
                    : ExpectPreFault(ctx.env(), c, w.signalled());
  if (!ctx.Check("KVM_PRE_FAULT_MEMORY", err, e)) return err;
  std::string bad = CheckPreFaultProgress(c, arg.gpa, arg.size, err);
  if (!bad.empty()) {
    ctx.Fail("KVM_PRE_FAULT_MEMORY", "consistent progress in the struct",
             "gpa " + Hex(arg.gpa) + " size " + Hex(arg.size) + ": " + bad,
             "gpa and size advance together, by whole pages, and only on success");
    return err;
  }
  if (backed) bad = CheckBackedPreFault(c, arg.gpa, arg.size, err, w.signalled(), poisoned);
  if (!bad.empty())
    ctx.Fail("KVM_PRE_FAULT_MEMORY", "the whole range mapped",
             "gpa " + Hex(arg.gpa) + " size " + Hex(arg.size) + ": " + bad,
             "backed memory is mapped whole unless a signal or a page the fuzzer poisoned "
             "stops it; a poisoned page is never mapped again");
  return err;
}

std::shared_ptr<VcpuObj> NewVcpu(ThreadCtx& ctx, VmObj& vm, int vmfd, unsigned variant, int* err) {
  std::lock_guard<std::mutex> lock(vm.slots_mu);
  VcpuCall c;
  c.id = vm.next_vcpu_id;
  if (variant == 1 && !vm.vcpu_ids.empty()) c.id = *vm.vcpu_ids.begin();
  if (variant == 2) c.id = kHugeVcpuId;
  c.id_taken = vm.vcpu_ids.count(c.id) > 0;
  c.created = static_cast<long>(vm.vcpu_ids.size());
  std::shared_ptr<VcpuObj> v;
  const char* step = "";
  SignalWindow w(ctx.timer, ctx.TakeNoise(), microseconds(0));
  long r = ctx.world().CreateVcpu(vmfd, c.id, &v, &step);
  w.Close();
  ctx.Trace("id " + std::to_string(c.id));
  *err = Errno(r);
  if (r < 0 && std::string(step) != "KVM_CREATE_VCPU") {
    ctx.Fail(step, "0", ErrName(Errno(r)), "a new vCPU can be mapped and set up");
    vm.vcpu_ids.insert(c.id);
    return nullptr;
  }
  if (!ctx.Check("KVM_CREATE_VCPU", Errno(r), ExpectCreateVcpu(ctx.env(), c)) || r < 0)
    return nullptr;
  vm.vcpu_ids.insert(c.id);
  if (c.id == vm.next_vcpu_id) vm.next_vcpu_id++;
  return v;
}

namespace {

void VcpuCreate(ThreadCtx& ctx, const Op& op) {
  gmt::UniqueFd vmfd;
  auto vm = TakeVm(ctx, op, true, &vmfd);
  if (!vm) return ctx.End("skip:vm-closed");
  int err = 0;
  auto v = NewVcpu(ctx, *vm, vmfd.get(), op.variant, &err);
  if (!v) return ctx.End(ErrName(err));
  Install(ctx, *vm, vm->vcpus, op.vcpu, std::move(v), "close(old vCPU)");
  ctx.End("0");
}

void GuestCmd(ThreadCtx& ctx, const Op& op) {
  gmt::UniqueFd vmfd;
  auto vm = TakeVm(ctx, op, true, &vmfd);
  if (!vm) vm = ctx.world().Vm(op.vm);  // its vCPUs may still run
  auto v = Entry(*vm, vm->vcpus, op.vcpu);
  if (!v) {
    if (!vmfd.valid()) return ctx.End("skip:no-vcpu");
    int err = 0;
    v = NewVcpu(ctx, *vm, vmfd.get(), 0, &err);
    if (!v) return ctx.End("vcpu:" + ErrName(err));
    Install(ctx, *vm, vm->vcpus, op.vcpu, v, "close(old vCPU)");
  }
  std::unique_lock<std::mutex> busy(v->busy, std::try_to_lock);
  if (!busy.owns_lock()) return ctx.End("skip:busy");
  gmt::UniqueFd fd = v->fd.Dup();
  if (!fd.valid()) return ctx.End("skip:vcpu-closed");
  ctx.Trace("vcpu#" + std::to_string(v->id));
  CommandEnd end = RunCommand(ctx, *v, fd.get(), vmfd.valid() ? vmfd.get() : -1, op.cmd, op.policy);
  if (end.mmio || end.faults || end.signals)
    ctx.Trace("mmio " + std::to_string(end.mmio) + " faults " + std::to_string(end.faults) +
              " signals " + std::to_string(end.signals));
  if (end.kind == CommandEnd::kDropVcpu) {
    // Stuck in an exit that wants completing: retire the vCPU.
    {
      std::lock_guard<std::mutex> lock(vm->mu);
      for (auto& slot : vm->vcpus)
        if (slot == v) slot = nullptr;
    }
    int r = v->fd.Close();
    if (r >= 0) ctx.Check("close(vCPU)", r, ExpectClose());
  }
  ctx.End(end.Name());
}

}  // namespace

const char* OpName(OpKind k) { return kNames[static_cast<size_t>(k)]; }

std::vector<std::string> OpNames() {
  return std::vector<std::string>(std::begin(kNames), std::end(kNames));
}

Op DrawOp(Rng& r, unsigned nvms) {
  Op op;
  op.kind = static_cast<OpKind>(r.Weighted(kWeights, static_cast<unsigned>(OpKind::kCount)));
  op.vm = static_cast<unsigned>(r.Below(nvms));
  op.other_vm = static_cast<unsigned>(r.Below(nvms > 1 ? nvms - 1 : 1));
  op.noise_us = r.OneIn(5) ? static_cast<uint32_t>(r.Range(5, 3000)) : 0;
  op.revive = r.OneIn(2);
  switch (op.kind) {
    case OpKind::kGmemCreate:
      op.gmem = static_cast<unsigned>(r.Below(kGmemsPerVm));
      op.size = DrawGmemSize(r);
      switch (r.Below(16)) {
        case 0:
          op.size = 0;
          break;
        case 1:
          op.size += r.Range(1, kPage - 1);
          break;
        case 2:
          op.size = (1ULL << 63) + Pages(r.Range(0, 4));
          break;
        case 3:
          op.flags = static_cast<uint32_t>(1U << r.Below(32));
          break;
        case 4:
          op.pads = true;
          break;
        case 5:
        case 6:
          // Mappable: private, or shared from the start (which VMs with
          // private memory accept only with in-place conversion), and
          // sometimes out of the direct map.
          op.flags = static_cast<uint32_t>(GUEST_MEMFD_FLAG_MMAP |
                                           (r.OneIn(2) ? GUEST_MEMFD_FLAG_INIT_SHARED : 0) |
                                           (r.OneIn(3) ? GUEST_MEMFD_FLAG_NO_DIRECT_MAP : 0));
          break;
        default:
          // The tables' mappable files stay mappable (World::Populate()).
          // Without in-place conversion INIT_SHARED is EINVAL: half of the
          // new files at kSharedGmem are private, so that it gets refilled.
          if (op.gmem == kSharedGmem)
            op.flags = static_cast<uint32_t>(GUEST_MEMFD_FLAG_MMAP |
                                             (r.OneIn(2) ? GUEST_MEMFD_FLAG_INIT_SHARED : 0));
          if (op.gmem == kPrivateGmem) op.flags = static_cast<uint32_t>(GUEST_MEMFD_FLAG_MMAP);
          break;
      }
      break;
    case OpKind::kGmemClose:
      op.gmem = static_cast<unsigned>(r.Below(kGmemsPerVm));
      break;
    case OpKind::kFallocAlloc:
      DrawFalloc(r, op, FALLOC_FL_KEEP_SIZE);
      break;
    case OpKind::kFallocPunch:
      DrawFalloc(r, op, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE);
      break;
    case OpKind::kFallocBad:
      DrawBadFalloc(r, op);
      break;
    case OpKind::kSlotGmem:
      DrawGmemSlot(r, op);
      break;
    case OpKind::kSlotPlain:
      DrawPlainSlot(r, op);
      break;
    case OpKind::kSlotDelete:
      DrawPlainSlot(r, op);
      op.size = 0;
      op.flags = r.OneIn(2) ? KVM_MEM_GUEST_MEMFD : 0;
      break;
    case OpKind::kSlotMove:
      DrawPlainSlot(r, op);
      op.gpa = r.OneIn(10) ? (1ULL << 52) : DrawWindowGpa(r);
      break;
    case OpKind::kSlotFlags:
      DrawPlainSlot(r, op);
      op.flags = r.OneIn(8) ? KVM_MEM_READONLY : KVM_MEM_LOG_DIRTY_PAGES;
      break;
    case OpKind::kSlotBad:
      DrawBadSlot(r, op);
      break;
    case OpKind::kSlotV1:
      if (r.OneIn(2)) {
        DrawGmemSlot(r, op);
        op.fd = GmemFd::kOwn;
        op.pads = false;
      } else {
        DrawPlainSlot(r, op);
        if (r.OneIn(3)) op.size = 0;
      }
      break;
    case OpKind::kSlotAs1:
      if (r.OneIn(2)) {
        DrawGmemSlot(r, op);
        op.fd = GmemFd::kOwn;
      } else {
        DrawPlainSlot(r, op);
        if (r.OneIn(3)) op.size = 0;
      }
      op.slot |= 1U << 16;
      break;
    case OpKind::kAttr:
      DrawAttr(r, op);
      break;
    case OpKind::kAttrFar:
      op.gpa = kFarGpa + Pages(r.Below(kFarPages));
      // Attributes are kept per 128 MiB (32768 pages): small ranges, ranges
      // across a chunk boundary, and ranges that cover whole chunks.
      if (r.OneIn(8))
        op.size = Pages(r.Range(32768, 3 * 32768));
      else
        op.size = Pages(r.OneIn(2) ? r.Range(1, 16) : r.Range(1024, 8192));
      op.attrs = r.OneIn(2) ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
      if (r.OneIn(2)) op.noise_us = static_cast<uint32_t>(r.Range(5, 2000));
      break;
    case OpKind::kAttrBad:
      DrawBadAttr(r, op);
      break;
    case OpKind::kPreFault:
      DrawPreFault(r, op);
      break;
    case OpKind::kPreFaultBad:
      DrawBadPreFault(r, op);
      break;
    case OpKind::kGuest:
      DrawGuest(r, op);
      break;
    case OpKind::kVcpuCreate:
      op.vcpu = static_cast<unsigned>(r.Below(kVcpusPerVm));
      op.variant = static_cast<unsigned>(r.OneIn(8) ? r.Range(1, 2) : 0);
      break;
    case OpKind::kVcpuClose:
      op.vcpu = static_cast<unsigned>(r.Below(kVcpusPerVm));
      break;
    case OpKind::kGmemAttr2:
      DrawAttr2(r, op);
      break;
    case OpKind::kGmemAttr2Bad:
      DrawBadAttr2(r, op);
      break;
    case OpKind::kGmemHost:
      DrawGmemHost(r, op);
      break;
    case OpKind::kVmClose:
    case OpKind::kCount:
      break;
  }
  return op;
}

std::string Describe(const Op& op) {
  std::string s = "vm" + std::to_string(op.vm);
  auto add = [&s](const std::string& k, uint64_t v) { s += " " + k + "=" + Hex(v); };
  auto addi = [&s](const std::string& k, uint64_t v) { s += " " + k + "=" + std::to_string(v); };
  switch (op.kind) {
    case OpKind::kGmemCreate:
      addi("g", op.gmem);
      add("size", op.size);
      add("flags", op.flags);
      if (op.pads) s += " reserved!=0";
      break;
    case OpKind::kGmemClose:
      addi("g", op.gmem);
      break;
    case OpKind::kFallocAlloc:
    case OpKind::kFallocPunch:
    case OpKind::kFallocBad:
      addi("g", op.gmem);
      add("mode", static_cast<uint64_t>(op.mode));
      add("off", static_cast<uint64_t>(op.foff));
      add("len", static_cast<uint64_t>(op.flen));
      break;
    case OpKind::kSlotGmem:
    case OpKind::kSlotPlain:
    case OpKind::kSlotDelete:
    case OpKind::kSlotMove:
    case OpKind::kSlotFlags:
    case OpKind::kSlotBad:
    case OpKind::kSlotV1:
    case OpKind::kSlotAs1: {
      add("slot", op.slot);
      add("flags", op.flags);
      add("gpa", op.gpa);
      add("size", op.size);
      s += op.hva_abs ? " hva=" + Hex(op.hva) : " hva=shared+" + Hex(op.hva);
      if (op.flags & KVM_MEM_GUEST_MEMFD) {
        static const char* kinds[] = {"own", "foreign", "not-gmem", "bad"};
        s += std::string(" fd=") + kinds[static_cast<int>(op.fd)];
        if (op.fd == GmemFd::kOwn) addi("g", op.gmem);
        if (op.fd == GmemFd::kForeign)
          s += " g=" + std::to_string(op.gmem) + " of vm+" + std::to_string(op.other_vm + 1);
        if (op.fd != GmemFd::kOwn && op.fd != GmemFd::kForeign) addi("variant", op.variant);
        add("off", op.offset);
      }
      if (op.pads) s += " pads!=0";
      break;
    }
    case OpKind::kAttr:
    case OpKind::kAttrFar:
    case OpKind::kAttrBad:
      add("gpa", op.gpa);
      add("size", op.size);
      add("attrs", op.attrs);
      if (op.aflags) add("flags", op.aflags);
      break;
    case OpKind::kPreFault:
    case OpKind::kPreFaultBad:
      addi("vcpu", op.vcpu);
      add("gpa", op.gpa);
      add("size", op.size);
      if (op.aflags) add("flags", op.aflags);
      if (op.pads) s += " padding!=0";
      break;
    case OpKind::kGuest: {
      static const char* ops[] = {"halt", "write", "read", "fill", "sum"};
      addi("vcpu", op.vcpu);
      s += std::string(" ") + ops[op.cmd.op];
      add("addr", op.cmd.addr);
      if (op.cmd.op == gmt::kOpFill || op.cmd.op == gmt::kOpSum) addi("dwords", op.cmd.dwords);
      if (op.cmd.op == gmt::kOpFill || op.cmd.op == gmt::kOpWrite) add("value", op.cmd.value);
      s += op.policy == FaultPolicy::kConvert ? " on-fault=convert" : " on-fault=abandon";
      break;
    }
    case OpKind::kVcpuCreate:
      addi("vcpu", op.vcpu);
      s += op.variant == 0 ? " id=next" : op.variant == 1 ? " id=taken" : " id=huge";
      break;
    case OpKind::kVcpuClose:
      addi("vcpu", op.vcpu);
      break;
    case OpKind::kGmemAttr2:
    case OpKind::kGmemAttr2Bad:
      addi("g", op.gmem);
      add("off", op.offset);
      add("size", op.size);
      add("attrs", op.attrs);
      if (op.aflags) add("flags", op.aflags);
      if (op.pads) s += " reserved[" + std::to_string(op.mode % 11) + "]!=0";
      if (op.kind == OpKind::kGmemAttr2Bad) s += std::string(" bad=") + kAttr2BadNames[op.variant];
      break;
    case OpKind::kGmemHost:
      addi("g", op.gmem);
      add("off", op.offset);
      s += std::string(" ") + kHostAccessNames[op.variant];
      break;
    case OpKind::kVmClose:
    case OpKind::kCount:
      break;
  }
  return s;
}

void ExecuteOp(ThreadCtx& ctx, const Op& op) {
  switch (op.kind) {
    case OpKind::kGmemCreate:
      return GmemCreate(ctx, op);
    case OpKind::kGmemClose:
    case OpKind::kVcpuClose:
    case OpKind::kVmClose:
      return CloseOp(ctx, op);
    case OpKind::kFallocAlloc:
    case OpKind::kFallocPunch:
    case OpKind::kFallocBad:
      return Falloc(ctx, op);
    case OpKind::kSlotGmem:
    case OpKind::kSlotPlain:
    case OpKind::kSlotDelete:
    case OpKind::kSlotMove:
    case OpKind::kSlotFlags:
    case OpKind::kSlotBad:
    case OpKind::kSlotV1:
    case OpKind::kSlotAs1:
      return SlotOp(ctx, op);
    case OpKind::kAttr:
    case OpKind::kAttrFar:
    case OpKind::kAttrBad:
      return AttrOp(ctx, op);
    case OpKind::kPreFault:
    case OpKind::kPreFaultBad:
      return PreFaultOp(ctx, op);
    case OpKind::kGuest:
      return GuestCmd(ctx, op);
    case OpKind::kVcpuCreate:
      return VcpuCreate(ctx, op);
    case OpKind::kGmemAttr2:
    case OpKind::kGmemAttr2Bad:
      return Attr2Op(ctx, op);
    case OpKind::kGmemHost:
      return GmemHostOp(ctx, op);
    case OpKind::kCount:
      break;
  }
  ctx.End("?");
}

void FuzzThread(ThreadCtx& ctx) {
  const unsigned nvms = ctx.world().nvms();
  while (!ctx.Stopping()) {
    Op op = DrawOp(ctx.rng, nvms);
    const char* name = OpName(op.kind);
    ctx.Begin(name, Describe(op), op.noise_us);
    if (ctx.run.opts.skip.count(name)) {
      ctx.End("skip:option");
      continue;
    }
    ExecuteOp(ctx, op);
  }
}

}  // namespace fuzz
