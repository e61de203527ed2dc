// Allocation-failure injection for the calling thread, fail-nth style
// (Documentation/fault-injection/fault-injection.rst): with CONFIG_FAILSLAB
// and CONFIG_FAIL_PAGE_ALLOC, /proc/thread-self/fail-nth = N makes the N-th
// slab or page allocation of this thread fail.
#pragma once

#include <string>

namespace gmt {

// Empty if fail-nth injection works here (and configures failslab and
// fail_page_alloc so that GFP_KERNEL allocations of any order can fail, and
// quietly), otherwise what is missing (a reason to skip).
std::string FailNthSetUp();

// Arms the thread's counter: the |nth| allocation from now on fails.
void FailNthArm(int nth);
// Disarms it.  Returns true if the armed failure was injected, i.e. the
// code under test made at least |nth| allocations.
bool FailNthDisarm();

}  // namespace gmt
