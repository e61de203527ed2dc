// Allocation-failure injection for the calling thread, fail-nth style
// (Documentation/fault-injection/fault-injection.rst): with CONFIG_FAILSLAB
// and CONFIG_FAIL_PAGE_ALLOC, /proc/thread-self/fail-nth = N makes the N-th
// slab or page allocation of this thread fail.
//
// One failure is often absorbed: xarray stores, for one, retry a failed
// atomic allocation with a sleeping one (xas_nomem()).  The persistent mode
// makes the N-th allocation and every later one of the thread fail until
// disarmed (fail-nth counts down to N; then the capabilities' task filter,
// probability 100 and /proc/thread-self/make-it-fail fail the rest), which
// is what a partial update under memory pressure looks like.
#pragma once

#include <string>

namespace gmt {

// Empty if fail-nth injection works here (and configures failslab and
// fail_page_alloc so that GFP_KERNEL allocations of any order can fail, and
// quietly), otherwise what is missing (a reason to skip).
std::string FailNthSetUp();

enum class FailMode {
  kOnce,        // only the |nth| allocation fails
  kPersistent,  // the |nth| and every later one, until disarmed
};

// Arms the thread's counter: the |nth| allocation from now on fails (and,
// persistent, every one after it).
void FailNthArm(int nth, FailMode mode = FailMode::kOnce);
// Disarms it.  Returns true if the armed failure was injected, i.e. the
// code under test made at least |nth| allocations.
bool FailNthDisarm();

}  // namespace gmt
