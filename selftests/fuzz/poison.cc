#include "selftests/fuzz/poison.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <vector>

#include "selftests/lib/hwpoison.h"

namespace fuzz {
namespace {

using Clock = std::chrono::steady_clock;

// When the next claim may come, across seeds (the rate limit is per run
// of gmem_fuzz, not per seed): --poison-interval after the last claim, and
// not before the injector was idle four times as long as its last request
// took, so that scanning takes at most a fifth of a CPU on any kernel.
std::mutex rate_mu;
Clock::time_point next_claim;  // epoch: at once
constexpr int kIdlePerBusy = 4;

// Where to look.  A full scan reads the flags of every page (~2 s of CPU
// under TCG, 6-10 s on KASAN) and is the only scan that can tell that the
// tag is in one page only: every kFullEvery-th request gets one.  The
// others look nearest-first around the page found last (from pfn 0 at
// first), and stop at the first page holding the tag: guest_memfd pages
// are unmovable allocations, which the page allocator keeps close together.
constexpr uint64_t kChunkPages = 4096;  // 16 MiB, one read of 32 KiB of flags
constexpr uint64_t kFullEvery = 8;
std::mutex hint_mu;
uint64_t requests = 0;
uint64_t anchor = 0;   // the pfn found last
uint64_t end_pfn = 0;  // where /proc/kpageflags ends, 0: unknown

// For Summary().
struct ScanStats {
  std::atomic<uint64_t> n{0}, ms{0}, max_ms{0};
  void Add(uint64_t t) {
    n++;
    ms += t;
    for (uint64_t m = max_ms; t > m;)
      if (max_ms.compare_exchange_weak(m, t)) break;
  }
  std::string Format(const std::string& what) const {
    if (!n) return "";
    return ", " + std::to_string(n) + " " + what + " of " + std::to_string(ms / n) +
           " ms on average (max " + std::to_string(max_ms) + " ms)";
  }
};
ScanStats full_scans, near_scans;
std::atomic<uint64_t> injections{0};

uint64_t MsSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// The first pfn past the end of /proc/kpageflags, or 0.
uint64_t KpageflagsEnd() {
  gmt::UniqueFd f(open("/proc/kpageflags", O_RDONLY | O_CLOEXEC));
  uint64_t word;
  auto has = [&](uint64_t pfn) {
    return pread(f.get(), &word, sizeof(word), static_cast<off_t>(pfn * 8)) == sizeof(word);
  };
  if (!f.valid() || !has(0)) return 0;
  uint64_t lo = 0, hi = 1;  // has(lo), !has(hi) once the first loop ends
  while (has(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > (1ULL << 40)) return 0;
  }
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    (has(mid) ? lo : hi) = mid;
  }
  return hi;
}

// The pfns that hold |tag|, looking in chunks of memory ever farther from
// |from| (below |end|) and stopping at the first chunk that has one.
std::vector<uint64_t> ScanNearestFirst(uint32_t tag, uint64_t from, uint64_t end,
                                       const std::atomic<bool>* stop, uint64_t* chunks) {
  const uint64_t base = from / kChunkPages * kChunkPages;
  std::vector<uint64_t> pfns;
  for (uint64_t d = 0; !(stop && *stop); d++) {
    const bool up = base + d * kChunkPages < end;
    const bool down = d > 0 && d * kChunkPages <= base;
    if (!up && !down) break;
    if (up) {
      ++*chunks;
      pfns = gmt::FindPagesFilledWithIn(tag, base + d * kChunkPages, kChunkPages, stop, nullptr);
      if (!pfns.empty()) break;
    }
    if (down) {
      ++*chunks;
      pfns = gmt::FindPagesFilledWithIn(tag, base - d * kChunkPages, kChunkPages, stop, nullptr);
      if (!pfns.empty()) break;
    }
  }
  return pfns;
}

}  // namespace

uint32_t Poisoner::NewTag() {
  // Unique within the process; the random start keeps two processes apart.
  static std::atomic<uint32_t> next{static_cast<uint32_t>(
      Clock::now().time_since_epoch().count() ^ (static_cast<uint32_t>(getpid()) << 12))};
  return kPoisonTag | (next.fetch_add(1) & 0x00ffffffu);
}

std::string Poisoner::Summary() {
  if (!full_scans.n && !near_scans.n) return "";
  return "memory failure: " + std::to_string(injections) + " injection(s)" +
         near_scans.Format("nearest-first scan(s)") + full_scans.Format("full scan(s)");
}

uint64_t Poisoner::Claim(std::string* why) {
  static std::atomic<uint64_t> tickets{0};
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || claims_stopped_) {
    *why = "skip:seed-end";
    return 0;
  }
  if (claimed_) {
    *why = "skip:busy";
    return 0;
  }
  std::lock_guard<std::mutex> rate(rate_mu);
  const auto now = Clock::now();
  if (now < next_claim) {
    *why = "skip:rate";
    return 0;
  }
  next_claim =
      now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval_));
  claimed_ = tickets.fetch_add(1) + 1;
  return claimed_;
}

void Poisoner::Unclaim(uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  if (claimed_ == ticket && !submitted_) claimed_ = 0;
}

void Poisoner::Submit(uint64_t ticket, uint32_t tag, gmt::UniqueFd gmem, std::string what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || claimed_ != ticket) {
    results_[ticket] = Result::kNotPoisoned;
    if (claimed_ == ticket) claimed_ = 0;
    return;
  }
  submitted_ = true;
  tag_ = tag;
  gmem_ = std::move(gmem);
  what_ = std::move(what);
  cv_.notify_all();
}

Poisoner::Result Poisoner::Poll(uint64_t ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = results_.find(ticket);
  if (it == results_.end()) return Result::kPending;
  Result r = it->second;
  results_.erase(it);
  return r;
}

Poisoner::Result Poisoner::Wait(uint64_t ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return results_.count(ticket) > 0; });
  Result r = results_[ticket];
  results_.erase(ticket);
  return r;
}

void Poisoner::Run(ThreadCtx& ctx) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return submitted_; });
    if (!submitted_) {
      if (ctx.Stopping()) break;
      continue;
    }
    const uint64_t ticket = claimed_;
    const uint32_t tag = tag_;
    const std::string what = what_;
    lock.unlock();
    const Result r = Serve(ctx, tag, what);
    lock.lock();
    // Only now may the checker punch the page or close the file.
    gmem_.reset();
    submitted_ = false;
    claimed_ = 0;
    served_ = true;
    served_at_ = Clock::now();
    results_[ticket] = r;
    cv_.notify_all();
  }
  closed_ = true;
  if (claimed_ && !submitted_) claimed_ = 0;
}

void Poisoner::StopClaims() {
  std::lock_guard<std::mutex> lock(mu_);
  claims_stopped_ = true;
}

bool Poisoner::Holding() {
  std::lock_guard<std::mutex> lock(mu_);
  return claimed_ != 0 || (served_ && Clock::now() - served_at_ < std::chrono::seconds(2));
}

Poisoner::Result Poisoner::Serve(ThreadCtx& ctx, uint32_t tag, const std::string& what) {
  ctx.Begin("poison_inject", what + " tag " + Hex(tag), 0);
  const auto start = Clock::now();
  // The scan is CPU time in the kernel (/proc/kpageflags): take it at a
  // high weight, so that it does not last five times as long among the busy
  // fuzz threads, holding up the checker and the seed.
  const int tid = static_cast<int>(syscall(SYS_gettid));
  const bool boosted = setpriority(PRIO_PROCESS, tid, -10) == 0;
  bool full = false;
  uint64_t from = 0, end = 0;
  {
    std::lock_guard<std::mutex> lock(hint_mu);
    if (!end_pfn) end_pfn = KpageflagsEnd();
    full = requests++ % kFullEvery == kFullEvery - 1 || !end_pfn;
    from = anchor;
    end = end_pfn;
  }
  std::vector<uint64_t> pfns;
  auto found = [&pfns] {
    std::string s;
    for (uint64_t pfn : pfns) s += " " + Hex(pfn);
    return s.empty() ? " nothing" : s;
  };
  if (full) {
    std::vector<uint64_t> candidates;
    pfns = gmt::FindPagesFilledWithIn(tag, 0, ~0ULL, &ctx.run.stop, &candidates);
    const uint64_t ms = MsSince(start);
    if (!ctx.run.stop) full_scans.Add(ms);
    ctx.Trace("all memory in " + std::to_string(ms) + " ms (" + std::to_string(candidates.size()) +
              " pages may be guest_memfd's):" + found());
  } else {
    uint64_t chunks = 0;
    pfns = ScanNearestFirst(tag, from, end, &ctx.run.stop, &chunks);
    const uint64_t ms = MsSince(start);
    if (!ctx.run.stop) near_scans.Add(ms);
    ctx.Trace(std::to_string(chunks) + " x 16 MiB around " + Hex(from) + " in " +
              std::to_string(ms) + " ms:" + found());
  }
  if (pfns.size() == 1) {
    std::lock_guard<std::mutex> lock(hint_mu);
    anchor = pfns[0];
  }
  if (boosted) setpriority(PRIO_PROCESS, tid, 0);
  {
    std::lock_guard<std::mutex> rate(rate_mu);
    next_claim = std::max(next_claim, Clock::now() + kIdlePerBusy * (Clock::now() - start));
  }
  if (ctx.run.stop) {
    ctx.End("skip:stopped");
    return Result::kNotPoisoned;
  }
  // Safety before strictness: inject only into the one page that holds the
  // tag, all of it, or into nothing.  LENIENT: a miss is no failure; the
  // kernel may hide the page from the scan's flag filter for a moment (it
  // is briefly on an LRU list without the unevictable flag).
  if (pfns.empty()) {
    ctx.End("skip:not-found");
    return Result::kNotPoisoned;
  }
  // The tag is unique and guest_memfd pages never move (no migration), so
  // a second copy is private data outside its guest_memfd.  (A full scan
  // sees every copy; a nearest-first one those in the chunk where it stops.)
  if (pfns.size() > 1) {
    ctx.Fail("finding the page by its tag", "one page", std::to_string(pfns.size()) + " pages",
             "private data lives only in its guest_memfd page");
    ctx.End("failed");
    return Result::kNotPoisoned;
  }
  const uint64_t pfn = pfns[0];
  // The checker does not write the page while the request is pending.
  if (!gmt::PageFilledWith(pfn, tag)) {
    ctx.Fail("reading pfn " + Hex(pfn) + " through /dev/mem", "the tag in all of the page",
             "other data", "the guest filled the page with the tag, and nobody writes it since");
    ctx.End("failed");
    return Result::kNotPoisoned;
  }
  ctx.Trace("kpageflags " + Hex(gmt::PageFlags(pfn)));
  const int err = -gmt::InjectMemoryFailure(pfn);
  injections++;
  bool ok = ctx.Check("corrupt-pfn", err, ExpectInjection());
  const uint64_t flags = gmt::PageFlags(pfn);
  if (!gmt::PagePoisoned(pfn)) {
    ctx.Fail("/proc/kpageflags after memory failure", "KPF_HWPOISON set", Hex(flags),
             "memory failure marks a guest_memfd page poisoned, also when it reports EBUSY");
    ok = false;
  }
  ctx.End(ok ? "poisoned" : "failed");
  // Whatever was reported, the failure was injected: the page may be
  // poisoned.
  return Result::kPoisoned;
}

}  // namespace fuzz
