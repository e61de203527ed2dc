// Memory failure for gmem_fuzz: one thread per seed poisons guest_memfd
// pages that the checkers offer, through the hwpoison injector
// (selftests/lib/hwpoison.h).  Finding a page's pfn means reading the page
// flags of memory (all of it: 2-3 s under TCG, 6-10 s on KASAN; usually
// only 16-64 MiB around the page found last: 20-400 ms), so it serves one
// request at a time, at most one every --poison-interval seconds in the
// whole process, and only after being idle four times as long as its last
// request took.
//
// Only pages whose content the fuzzer controls are poisoned: a checker has
// its guest fill one of its private pages with a tag that no other page
// holds, hands over the tag and a dup of its guest_memfd (which keeps the
// page in the file), and goes on with its steps, while this thread finds the
// one page that holds the tag, checks all of it, injects the failure and
// checks that the page is marked poisoned.  Until the result is in, the
// checker neither writes that page nor punches it nor closes its file (see
// checker.cc), so the pfn stays the guest_memfd page it was.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "selftests/fuzz/context.h"

namespace fuzz {

// Tags that the guest writes into pages it offers for poisoning, 0xc3 in
// the top byte: neither a checker's private (0xa5) nor shared (0x5a) values.
constexpr uint32_t kPoisonTag = 0xc3000000;

class Poisoner {
 public:
  enum class Result { kPending, kPoisoned, kNotPoisoned };

  explicit Poisoner(double interval_seconds) : interval_(interval_seconds) {}

  // A tag no page holds yet.
  static uint32_t NewTag();
  // "memory failure: N injections, scans of X ms on average (max Y ms)"
  // for the whole process, or "" if there was no scan.
  static std::string Summary();

  // Claims the injector for one request: it must be idle, and the process's
  // last claim must be --poison-interval ago.  Returns a ticket, or 0 and
  // the outcome to count in |why| ("skip:rate", "skip:busy", ...).
  uint64_t Claim(std::string* why);
  // Gives a claim back unused.
  void Unclaim(uint64_t ticket);
  // Asks for the page filled with |tag|, of the guest_memfd |gmem| (a dup
  // the injector keeps until it is done), to be poisoned.  |what| describes
  // the page for the journal.
  void Submit(uint64_t ticket, uint32_t tag, gmt::UniqueFd gmem, std::string what);
  // kPoisoned: memory failure was injected into the page (it is poisoned,
  // or the run is failing); kNotPoisoned: nothing was injected.
  Result Poll(uint64_t ticket);
  Result Wait(uint64_t ticket);

  // The injector thread: serves requests until the run stops.  Requests
  // that come after that get kNotPoisoned at once.
  void Run(ThreadCtx& ctx);

  // The seed's time is up: no more claims.  The seed still runs while
  // Holding(): a request is in flight, or was served less than 2 s ago (so
  // that the checker gets to see the poisoned page).
  void StopClaims();
  bool Holding();

 private:
  Result Serve(ThreadCtx& ctx, uint32_t tag, const std::string& what);

  const double interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  bool claims_stopped_ = false;
  bool served_ = false;
  std::chrono::steady_clock::time_point served_at_;
  uint64_t claimed_ = 0;  // the ticket in flight, 0: idle
  bool submitted_ = false;
  uint32_t tag_ = 0;
  gmt::UniqueFd gmem_;
  std::string what_;
  std::map<uint64_t, Result> results_;
};

}  // namespace fuzz
