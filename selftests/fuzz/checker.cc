#include "selftests/fuzz/checker.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "selftests/fuzz/command.h"
#include "selftests/fuzz/ops.h"
#include "selftests/fuzz/poison.h"

namespace fuzz {
namespace {

using std::chrono::microseconds;

constexpr uint64_t kDwords = kPage / 4;  // per page
// Values the guest writes carry a tag: private data never has the shared
// tag, so a private tag in the shared mapping is a leak.
constexpr uint32_t kPrivateTag = 0xa5000000, kSharedTag = 0x5a000000, kTagMask = 0xff000000;

enum Action {
  kWrite,
  kRead,
  kFillSum,
  kSum,
  kPunch,
  kAllocate,
  kConvert,
  kHostWrite,
  kPreFault,
  kRebind,
  kNewGmem,
  kScan,
  kPoison,
  kNumActions
};
// kPoison is drawn often, but the injector takes one request every
// --poison-interval seconds; the other kPoison steps read a page that is
// (being) poisoned, if there is one.
constexpr unsigned kWeights[kNumActions] = {20, 20, 8, 8, 10, 4, 10, 5, 6, 3, 1, 3, 4};
constexpr const char* kNames[kNumActions] = {
    "chk_write",    "chk_read",    "chk_fill_sum",   "chk_sum",      "chk_punch",
    "chk_alloc",    "chk_convert", "chk_host_write", "chk_prefault", "chk_rebind",
    "chk_new_gmem", "chk_scan",    "poison"};

// One checker step; all drawn up front, so the sequence depends on the
// seed and thread only.
struct Step {
  Action a;
  uint64_t page, npages, dword;  // in the checker's window
  uint64_t gpage, gpages;        // in its guest_memfd
  bool priv;
  uint64_t offset_pages;  // where a re-bound slot starts in the file
  uint32_t noise_us;
};

Step Draw(Rng& r) {
  Step s;
  s.a = static_cast<Action>(r.Weighted(kWeights, kNumActions));
  s.page = r.Below(kCheckPages);
  s.npages = r.Range(1, 4);
  if (s.page + s.npages > kCheckPages) s.npages = kCheckPages - s.page;
  s.dword = r.Below(kDwords);
  s.gpage = r.Below(kCheckGmemPages);
  s.gpages = r.Range(1, 16);
  if (s.gpage + s.gpages > kCheckGmemPages) s.gpages = kCheckGmemPages - s.gpage;
  s.priv = r.OneIn(3) ? false : true;
  s.offset_pages = r.OneIn(2) ? 0 : kCheckGmemPages - kCheckPages;
  s.noise_us = r.OneIn(5) ? static_cast<uint32_t>(r.Range(5, 3000)) : 0;
  return s;
}

std::string Describe(const Step& s) {
  switch (s.a) {
    case kPoison:
      return "page " + std::to_string(s.page);
    case kWrite:
    case kRead:
    case kHostWrite:
      return "page " + std::to_string(s.page) + " dword " + std::to_string(s.dword) +
             (s.a == kWrite ? (s.priv ? " private" : " shared") : "");
    case kFillSum:
    case kConvert:
      return "pages " + std::to_string(s.page) + "+" + std::to_string(s.npages) +
             (s.priv ? " private" : " shared");
    case kSum:
    case kPreFault:
      return "pages " + std::to_string(s.page) + "+" + std::to_string(s.npages);
    case kPunch:
    case kAllocate:
      return "file pages " + std::to_string(s.gpage) + "+" + std::to_string(s.gpages);
    case kRebind:
      return "at file page " + std::to_string(s.offset_pages);
    case kNewGmem:
      return "after a private access to page " + std::to_string(s.page);
    default:
      return "";
  }
}

// What memory failure did to a page of the checker's guest_memfd.
enum class Poison : uint8_t {
  kClean,     // nothing
  kPending,   // offered to the injector, result not in yet: may be poisoned
  kPoisoned,  // poisoned (until a hole is punched over it)
};

// How a checker's guest command ended.
enum class CmdEnd {
  kAnswered,
  kRefused,  // EHWPOISON: a page poisoned by the fuzzer refused the access
  kFailed,   // a failure was recorded
};

class Checker {
 public:
  Checker(ThreadCtx& ctx, unsigned vmi)
      : ctx_(ctx),
        vmi_(vmi),
        priv_(kCheckGmemPages * kDwords),
        private_(kCheckPages),
        poison_(kCheckGmemPages),
        may_map_(kCheckGmemPages) {}
  void Run();

 private:
  bool SetUp();
  void TearDown();
  void Do(const Step& s);

  uint64_t Gpa(uint64_t page) const { return kCheckGpa + page * kPage; }
  uint32_t& Priv(uint64_t page, uint64_t dword) { return priv_[(off_ + page) * kDwords + dword]; }
  uint32_t Shared(uint64_t page, uint64_t dword) const {
    uint32_t v;
    std::memcpy(&v, shared_.data() + page * kPage + dword * 4, 4);
    return v;
  }
  uint32_t Expected(uint64_t page, uint64_t dword) {
    return private_[page] ? Priv(page, dword) : Shared(page, dword);
  }
  uint32_t NextValue(bool priv) {
    return (priv ? kPrivateTag : kSharedTag) | (++counter_ & 0xffffff);
  }

  bool NewGmem();
  bool Bind(uint64_t offset_pages);
  bool Unbind();
  bool Convert(uint64_t page, uint64_t n, bool priv);
  bool Ensure(uint64_t page, uint64_t n, bool priv);
  // Runs a command that must be answered (memory faults are failures),
  // unless a page the fuzzer poisoned refuses it (its gpa in *refused).
  CmdEnd Cmd(const Command& c, uint32_t* value, uint64_t* refused = nullptr);

  // Memory failure (poison.h).  The private window pages whose file page
  // is poisoned or pending, for the model.
  PoisonedPages Poisoned() const;
  // A private access or pre-fault at |gpa| was refused with EHWPOISON: the
  // page is poisoned; after a guest access (|fault|), no mapping of it
  // survives either.
  void Refused(uint64_t gpa, bool fault);
  // Takes the injector's result for the pending page if it is in (or waits
  // for it); the page is then poisoned or clean.
  void CollectPoison(bool wait);
  // Waits for the result if the pending page is among file pages
  // [first, first + n): before the checker writes, punches or closes it.
  void AwaitPoison(uint64_t first, uint64_t n);
  // The poison step: offers the page to the injector if it can take it,
  // else reads a page that is (being) poisoned.
  void OfferPoison(const Step& s);
  bool ProbePoisoned(const Step& s);
  bool Falloc(int mode, uint64_t gpage, uint64_t gpages);
  void Mismatch(const char* what, uint64_t page, uint64_t dword, uint32_t got, uint32_t want);

  ThreadCtx& ctx_;
  const unsigned vmi_;
  std::shared_ptr<VmObj> vm_;
  gmt::UniqueFd vmfd_, vcpufd_;
  std::shared_ptr<GmemObj> gmem_;
  gmt::UniqueFd gmemfd_;
  std::shared_ptr<VcpuObj> vcpu_;
  gmt::Mapping shared_;
  bool bound_ = false;
  uint64_t off_ = 0;            // file page bound at the window's page 0
  std::vector<uint32_t> priv_;  // the guest_memfd's private content
  std::vector<bool> private_;   // the window's attributes
  uint32_t counter_ = 0;
  bool ready_ = false;
  // Per file page of the guest_memfd: what memory failure did to it, and
  // whether a guest mapping made before the poison may still reach it
  // (memory failure may unmap a guest_memfd page from a work item, later,
  // or give up before it reaches guest_memfd at all).
  std::vector<Poison> poison_;
  std::vector<bool> may_map_;
  uint64_t ticket_ = 0;        // the request at the injector, 0: none
  uint64_t pending_page_ = 0;  // its file page
  std::string outcome_;        // of the current step, if not "ok"
};

PoisonedPages Checker::Poisoned() const {
  PoisonedPages p;
  for (uint64_t w = 0; w < kCheckPages; w++) {
    const uint64_t g = off_ + w;
    if (!private_[w] || poison_[g] == Poison::kClean) continue;
    p.maybe.insert(Gpa(w));
    if (poison_[g] == Poison::kPoisoned && !may_map_[g]) p.refused.insert(Gpa(w));
  }
  return p;
}

void Checker::Refused(uint64_t gpa, bool fault) {
  const uint64_t g = off_ + (gpa - kCheckGpa) / kPage;
  poison_[g] = Poison::kPoisoned;
  // A guest access faulted, so nothing mapped the page; the poison keeps
  // it from being mapped again.  (A pre-fault looks up the page even if it
  // is mapped, so its refusal says nothing about old mappings.)
  if (fault) may_map_[g] = false;
  outcome_ = "hwpoison";
}

void Checker::CollectPoison(bool wait) {
  if (!ticket_) return;
  Poisoner& p = *ctx_.run.poisoner;
  const Poisoner::Result r = wait ? p.Wait(ticket_) : p.Poll(ticket_);
  if (r == Poisoner::Result::kPending) return;
  ticket_ = 0;
  const uint64_t g = pending_page_;
  ctx_.Trace(std::string("memory failure ") +
             (r == Poisoner::Result::kPoisoned ? "injected" : "not injected") + " at file page " +
             std::to_string(g));
  if (r == Poisoner::Result::kPoisoned) {
    poison_[g] = Poison::kPoisoned;
  } else if (poison_[g] == Poison::kPoisoned) {
    ctx_.Fail("memory failure", "EHWPOISON only from pages the fuzzer poisoned",
              "file page " + std::to_string(g) + " refused access",
              "the injector gave up on this page, so nothing poisoned it");
  } else {
    poison_[g] = Poison::kClean;
    may_map_[g] = false;
  }
}

void Checker::AwaitPoison(uint64_t first, uint64_t n) {
  if (!ticket_ || pending_page_ < first || pending_page_ >= first + n) return;
  ctx_.Trace("waits for memory failure at file page " + std::to_string(pending_page_));
  CollectPoison(true);
}

bool Checker::NewGmem() {
  long r = ctx_.world().CreateGmem(vmfd_.get(), kCheckGmemPages * kPage, 0, false, &gmem_);
  GmemCall c{kCheckGmemPages * kPage, 0, false};
  if (!ctx_.Check("KVM_CREATE_GUEST_MEMFD", r < 0 ? static_cast<int>(-r) : 0,
                  ExpectCreateGmem(ctx_.env(), c)) ||
      r < 0)
    return false;
  gmemfd_ = gmem_->fd.Dup();
  std::fill(priv_.begin(), priv_.end(), 0);
  // A new file: nothing poisoned.  A request still at the injector is for
  // the old file, which the injector keeps open meanwhile.
  std::fill(poison_.begin(), poison_.end(), Poison::kClean);
  std::fill(may_map_.begin(), may_map_.end(), false);
  ticket_ = 0;
  ctx_.Trace("g#" + std::to_string(gmem_->id));
  return gmemfd_.valid();
}

bool Checker::Bind(uint64_t offset_pages) {
  RegionCall c;
  c.slot = kCheckSlot;
  c.flags = KVM_MEM_GUEST_MEMFD;
  c.gpa = kCheckGpa;
  c.size = kCheckPages * kPage;
  c.hva = reinterpret_cast<uint64_t>(shared_.data());
  c.gmem_offset = offset_pages * kPage;
  c.fd = GmemFd::kOwn;
  c.gmem_id = gmem_->id;
  c.gmem_size = gmem_->size;
  if (SetRegion(ctx_, *vm_, vmfd_.get(), c, gmemfd_.get()) != 0) return false;
  bound_ = true;
  off_ = offset_pages;
  return true;
}

bool Checker::Unbind() {
  if (!bound_) return true;
  RegionCall c;
  c.slot = kCheckSlot;
  c.hva = reinterpret_cast<uint64_t>(shared_.data());
  bound_ = false;
  if (SetRegion(ctx_, *vm_, vmfd_.get(), c, -1) != 0) return false;
  // Deleting the slot unmapped all of it.
  for (uint64_t g = 0; g < kCheckGmemPages; g++)
    if (poison_[g] == Poison::kPoisoned) may_map_[g] = false;
  return true;
}

bool Checker::Convert(uint64_t page, uint64_t n, bool priv) {
  AttrCall c{Gpa(page), n * kPage, priv ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0, 0};
  SignalWindow w(ctx_.timer, ctx_.TakeNoise(), microseconds(0));
  long r = gmt::SetAttributes(vmfd_.get(), c.gpa, c.size, c.attrs, c.flags);
  w.Close();
  if (!ctx_.Check("KVM_SET_MEMORY_ATTRIBUTES", r < 0 ? static_cast<int>(-r) : 0,
                  ExpectAttributes(c)) ||
      r < 0)
    return false;
  for (uint64_t p = page; p < page + n; p++) {
    // A conversion unmaps the pages whose attributes change.
    if (private_[p] != priv && poison_[off_ + p] == Poison::kPoisoned) may_map_[off_ + p] = false;
    private_[p] = priv;
  }
  return true;
}

bool Checker::Ensure(uint64_t page, uint64_t n, bool priv) {
  for (uint64_t p = page; p < page + n; p++)
    if (private_[p] != priv) return Convert(page, n, priv);
  return true;
}

CmdEnd Checker::Cmd(const Command& c, uint32_t* value, uint64_t* refused) {
  const PoisonedPages poisoned = Poisoned();
  std::lock_guard<std::mutex> busy(vcpu_->busy);
  CommandEnd end =
      RunCommand(ctx_, *vcpu_, vcpufd_.get(), vmfd_.get(), c, FaultPolicy::kFail, &poisoned);
  if (end.kind == CommandEnd::kAnswered && end.mmio) {
    ctx_.Fail("KVM_RUN", "no MMIO exit", std::to_string(end.mmio) + " MMIO exits",
              "the checker's region is always backed by a memslot");
    return CmdEnd::kFailed;
  }
  if (end.kind == CommandEnd::kPoisoned) {
    Refused(end.poison_gpa, true);
    if (refused) *refused = end.poison_gpa;
    return CmdEnd::kRefused;
  }
  if (end.kind != CommandEnd::kAnswered) {
    if (end.kind != CommandEnd::kFailed)
      ctx_.Fail("guest command", "an answer", end.Name(), "the checker's region is always backed");
    return CmdEnd::kFailed;
  }
  *value = end.value;
  return CmdEnd::kAnswered;
}

bool Checker::Falloc(int mode, uint64_t gpage, uint64_t gpages) {
  FallocCall c{mode, static_cast<int64_t>(gpage * kPage), static_cast<int64_t>(gpages * kPage)};
  SignalWindow w(ctx_.timer, ctx_.TakeNoise(), microseconds(0));
  int r = fallocate(gmemfd_.get(), c.mode, c.offset, c.len) == 0 ? 0 : errno;
  w.Close();
  return ctx_.Check("fallocate", r, ExpectFallocate(c, gmem_->size, w.signalled())) && r == 0;
}

void Checker::Mismatch(const char* what, uint64_t page, uint64_t dword, uint32_t got,
                       uint32_t want) {
  ctx_.Fail(what, Hex(want), Hex(got),
            std::string(private_[page] ? "private" : "shared") + " page " + std::to_string(page) +
                " (file page " + std::to_string(off_ + page) + ") dword " + std::to_string(dword) +
                ": a private page reads what the guest last wrote, zero after a punched hole; a "
                "shared page reads the host's mapping");
}

bool Checker::SetUp() {
  vm_ = ctx_.world().Vm(vmi_);
  vmfd_ = vm_->fd.Dup();
  if (!vmfd_.valid()) {
    int err = 0;
    const char* step = "";
    auto fresh = ctx_.world().Replace(vmi_, vm_, &err, &step);
    if (!ctx_.Check(step, err, ExpectCreateVm())) return false;
    vm_ = fresh;
    vmfd_ = vm_->fd.Dup();
    if (!vmfd_.valid()) return false;  // closed again already
  }
  ctx_.Trace("vm#" + std::to_string(vm_->id));
  shared_ = gmt::Mapping::Map(kCheckPages * kPage, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (!shared_.valid()) return false;
  int err = 0;
  vcpu_ = NewVcpu(ctx_, *vm_, vmfd_.get(), 0, &err);
  if (!vcpu_) return false;
  vcpufd_ = vcpu_->fd.Dup();
  if (!NewGmem() || !Bind(0)) return false;
  // Attributes outlive memslots: start from a known state.
  if (!Convert(0, kCheckPages, true)) return false;
  ready_ = true;
  return true;
}

void Checker::TearDown() {
  if (vm_ && vmfd_.valid()) Unbind();
  // A request at the injector is for this file, which it keeps open.
  ticket_ = 0;
  ready_ = false;
  bound_ = false;
  vcpufd_.reset();
  if (vcpu_) vcpu_->fd.Close();
  vcpu_.reset();
  gmemfd_.reset();
  if (gmem_) gmem_->fd.Close();
  gmem_.reset();
  vmfd_.reset();
  vm_.reset();
  shared_ = gmt::Mapping();
}

void Checker::Do(const Step& s) {
  uint32_t v = 0;
  uint64_t refused = 0;
  switch (s.a) {
    case kWrite: {
      // A page being poisoned keeps the tag the injector looks for.
      if (s.priv) AwaitPoison(off_ + s.page, 1);
      if (!Ensure(s.page, 1, s.priv)) return;
      const uint32_t want = NextValue(s.priv);
      Command c{gmt::kOpWrite, static_cast<uint32_t>(Gpa(s.page) + 4 * s.dword), 1, want};
      if (Cmd(c, &v) != CmdEnd::kAnswered) return;
      if (s.priv)
        Priv(s.page, s.dword) = want;
      else if (Shared(s.page, s.dword) != want)
        Mismatch("shared mapping after a guest write", s.page, s.dword, Shared(s.page, s.dword),
                 want);
      return;
    }
    case kRead: {
      Command c{gmt::kOpRead, static_cast<uint32_t>(Gpa(s.page) + 4 * s.dword), 1, 0};
      if (Cmd(c, &v) != CmdEnd::kAnswered) return;
      const uint32_t want = Expected(s.page, s.dword);
      if (v != want) Mismatch("guest read", s.page, s.dword, v, want);
      return;
    }
    case kFillSum: {
      if (s.priv) AwaitPoison(off_ + s.page, s.npages);
      if (!Ensure(s.page, s.npages, s.priv)) return;
      const uint32_t fill = NextValue(s.priv);
      const uint32_t dwords = static_cast<uint32_t>(s.npages * kDwords);
      Command c{gmt::kOpFill, static_cast<uint32_t>(Gpa(s.page)), dwords, fill};
      const CmdEnd filled = Cmd(c, &v, &refused);
      if (filled == CmdEnd::kFailed) return;
      // The guest fills in ascending order: refused at a poisoned page, it
      // wrote every page before that one and nothing from there on.
      const uint64_t end =
          filled == CmdEnd::kRefused ? (refused - kCheckGpa) / kPage : s.page + s.npages;
      for (uint64_t p = s.page; p < end; p++) {
        for (uint64_t d = 0; d < kDwords; d++) {
          if (s.priv) {
            Priv(p, d) = fill;
          } else if (Shared(p, d) != fill) {
            return Mismatch("shared mapping after a guest fill", p, d, Shared(p, d), fill);
          }
        }
      }
      if (filled == CmdEnd::kRefused) return;
      Command sum{gmt::kOpSum, static_cast<uint32_t>(Gpa(s.page)), dwords, 0};
      if (Cmd(sum, &v) != CmdEnd::kAnswered) return;
      if (v != static_cast<uint32_t>(fill * dwords))
        ctx_.Fail("guest sum after fill", Hex(static_cast<uint32_t>(fill * dwords)), Hex(v),
                  "a fill then a sum of the same range gives value * dwords");
      return;
    }
    case kSum: {
      const uint32_t dwords = static_cast<uint32_t>(s.npages * kDwords);
      uint32_t want = 0;
      for (uint64_t p = s.page; p < s.page + s.npages; p++)
        for (uint64_t d = 0; d < kDwords; d++) want += Expected(p, d);
      Command c{gmt::kOpSum, static_cast<uint32_t>(Gpa(s.page)), dwords, 0};
      if (Cmd(c, &v) != CmdEnd::kAnswered) return;
      if (v != want)
        ctx_.Fail("guest sum", Hex(want), Hex(v),
                  "the sum of private pages as last written (zero after a punch) and shared pages "
                  "as the host's mapping holds them");
      return;
    }
    case kPunch:
      // Never free a page the injector is about to poison by its pfn.
      AwaitPoison(s.gpage, s.gpages);
      if (Falloc(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, s.gpage, s.gpages)) {
        // A fresh, zeroed page replaces a poisoned one.
        std::fill(priv_.begin() + s.gpage * kDwords, priv_.begin() + (s.gpage + s.gpages) * kDwords,
                  0);
        for (uint64_t g = s.gpage; g < s.gpage + s.gpages; g++) {
          poison_[g] = Poison::kClean;
          may_map_[g] = false;
        }
      }
      return;
    case kAllocate:
      Falloc(FALLOC_FL_KEEP_SIZE, s.gpage, s.gpages);
      return;
    case kConvert:
      Convert(s.page, s.npages, s.priv);
      return;
    case kHostWrite: {
      const uint32_t val = NextValue(false);
      std::memcpy(shared_.data() + s.page * kPage + s.dword * 4, &val, 4);
      return;
    }
    case kPreFault: {
      const PoisonedPages poisoned = Poisoned();
      const PreFaultCall c{Gpa(s.page), s.npages * kPage, 0, false};
      if (fuzz::PreFault(ctx_, vcpufd_.get(), c, true, &poisoned) == EHWPOISON)
        Refused(c.gpa, false);
      return;
    }
    case kRebind:
      if (Unbind()) Bind(s.offset_pages);
      return;
    case kNewGmem: {
      // Close the file while a private page is bound through it: the
      // guest's next private access must fail with a memory fault.  (Not
      // while the injector holds the file open.)
      AwaitPoison(0, kCheckGmemPages);
      if (!Ensure(s.page, 1, true)) return;
      gmemfd_.reset();
      int r = gmem_->fd.Close();
      if (!ctx_.Check("close(guest_memfd)", r, ExpectClose())) return;
      {
        std::lock_guard<std::mutex> busy(vcpu_->busy);
        Command c{gmt::kOpRead, static_cast<uint32_t>(Gpa(s.page) + 4 * s.dword), 1, 0};
        CommandEnd end = RunCommand(ctx_, *vcpu_, vcpufd_.get(), -1, c, FaultPolicy::kAbandon);
        if (end.kind == CommandEnd::kAnswered)
          ctx_.Fail("guest read after close(guest_memfd)", "a memory-fault exit",
                    "answer " + Hex(end.value),
                    "a closed guest_memfd backs nothing: private accesses exit to userspace");
        if (end.kind != CommandEnd::kAbandoned) return;
      }
      if (!Unbind() || !NewGmem()) return;
      Bind(0);
      return;
    }
    case kScan:
      for (uint64_t p = 0; p < kCheckPages; p++) {
        for (uint64_t d = 0; d < kDwords; d++) {
          const uint32_t tag = Shared(p, d) & kTagMask;
          if (tag == kPrivateTag || tag == kPoisonTag) {
            ctx_.Fail("shared mapping scan", "no private data", Hex(Shared(p, d)),
                      "private data never appears in the shared backing (page " +
                          std::to_string(p) + " dword " + std::to_string(d) + ")");
            return;
          }
        }
      }
      return;
    case kPoison:
      OfferPoison(s);
      return;
    case kNumActions:
      return;
  }
}

bool Checker::ProbePoisoned(const Step& s) {
  const PoisonedPages poisoned = Poisoned();
  if (poisoned.maybe.empty()) return false;
  auto it = poisoned.maybe.lower_bound(Gpa(s.page));
  if (it == poisoned.maybe.end()) it = poisoned.maybe.begin();
  const uint64_t page = (*it - kCheckGpa) / kPage;
  Command c{gmt::kOpRead, static_cast<uint32_t>(Gpa(page) + 4 * s.dword), 1, 0};
  uint32_t v = 0;
  switch (Cmd(c, &v)) {
    case CmdEnd::kAnswered: {
      const uint32_t want = Expected(page, s.dword);
      if (v != want) Mismatch("guest read of a poisoned page", page, s.dword, v, want);
      outcome_ = "probe:answered";
      break;
    }
    case CmdEnd::kRefused:
      outcome_ = "probe:hwpoison";
      break;
    case CmdEnd::kFailed:
      break;
  }
  return true;
}

void Checker::OfferPoison(const Step& s) {
  Poisoner* injector = ctx_.run.poisoner;
  if (!ctx_.env().hwpoison) {
    outcome_ = "skip:no-hwpoison";
    return;
  }
  if (!injector) {
    outcome_ = "skip:no-injector";
    return;
  }
  const uint64_t g = off_ + s.page;
  std::string why = "skip:poisoned";
  const uint64_t ticket = poison_[g] == Poison::kClean ? injector->Claim(&why) : 0;
  if (!ticket) {
    if (!ProbePoisoned(s)) outcome_ = why;
    return;
  }
  // The whole page gets a tag no other page holds: the injector finds the
  // page's pfn by it.
  const uint32_t tag = Poisoner::NewTag();
  Command c{gmt::kOpFill, static_cast<uint32_t>(Gpa(s.page)), static_cast<uint32_t>(kDwords), tag};
  uint32_t v = 0;
  if (!Ensure(s.page, 1, true) || Cmd(c, &v) != CmdEnd::kAnswered) {
    injector->Unclaim(ticket);
    return;
  }
  for (uint64_t d = 0; d < kDwords; d++) Priv(s.page, d) = tag;
  gmt::UniqueFd file(fcntl(gmemfd_.get(), F_DUPFD_CLOEXEC, 3));
  if (!file.valid()) {
    injector->Unclaim(ticket);
    return;
  }
  ticket_ = ticket;
  pending_page_ = g;
  poison_[g] = Poison::kPending;
  may_map_[g] = true;
  ctx_.Trace("tag " + Hex(tag) + " to the injector");
  injector->Submit(ticket, tag, std::move(file),
                   "vm#" + std::to_string(vm_->id) + " g#" + std::to_string(gmem_->id) +
                       " file page " + std::to_string(g) + " (gpa " + Hex(Gpa(s.page)) + ")");
  outcome_ = "offered";
}

void Checker::Run() {
  while (!ctx_.Stopping()) {
    Step s = Draw(ctx_.rng);
    if (!ready_ || vm_ != ctx_.world().Vm(vmi_) || !bound_ || !gmemfd_.valid()) {
      // (Re)build the region, on the VM that is current now.
      ctx_.Begin("chk_setup", "vm" + std::to_string(vmi_), 0);
      TearDown();
      bool ok = SetUp();
      ctx_.End(ok ? "0" : "failed");
      if (!ok) continue;
    }
    const char* name = kNames[s.a];
    ctx_.Begin(name, Describe(s), s.noise_us);
    if (ctx_.run.opts.skip.count(name)) {
      ctx_.End("skip:option");
      continue;
    }
    const uint64_t failures = ctx_.failures();
    outcome_.clear();
    CollectPoison(false);
    Do(s);
    ctx_.End(ctx_.failures() != failures ? "failed" : outcome_.empty() ? "ok" : outcome_);
  }
  TearDown();
}

}  // namespace

std::string DrawCheckerStep(Rng& rng) {
  Step s = Draw(rng);
  std::string d = std::string(kNames[s.a]) + " " + Describe(s);
  if (s.noise_us) d += " noise=" + std::to_string(s.noise_us) + "us";
  return d;
}

void CheckerThread(ThreadCtx& ctx, unsigned vm_index) {
  Checker c(ctx, vm_index);
  c.Run();
}

}  // namespace fuzz
