// Memory failure on guest_memfd pages, without a test hook in the kernel:
// the page to poison is found by its content (/proc/kpageflags narrows the
// search to unevictable page-cache pages, /dev/mem reads them; the test
// kernel has DEVMEM without STRICT_DEVMEM), then poisoned through the
// hwpoison injector (/sys/kernel/debug/hwpoison/corrupt-pfn).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace gmt {

// Empty if this kernel can inject memory failure the way described above,
// otherwise what is missing (a reason to skip).
std::string HwpoisonUnavailable();

// Every pfn of an up-to-date, unevictable page-cache page that no process
// maps and that is not shmem, slab or free, whose first 64 bytes are the 32-bit |value|
// repeated: that is where guest_memfd keeps the pages a guest wrote.  The
// scan reads every page's flags (a second or two under TCG); once |*stop|
// is true it gives up and returns what it found so far.
std::vector<uint64_t> FindPagesFilledWith(uint32_t value,
                                          const std::atomic<bool>* stop = nullptr);

// The same over pfns [first, first + count) only; every pfn that passes the
// flag filter (a page that may be guest_memfd's) is added to |candidates|
// if that is not null.
std::vector<uint64_t> FindPagesFilledWithIn(uint32_t value, uint64_t first, uint64_t count,
                                            const std::atomic<bool>* stop,
                                            std::vector<uint64_t>* candidates);

// True if all of page |pfn| is the 32-bit |value| repeated (read through
// /dev/mem).
bool PageFilledWith(uint64_t pfn, uint32_t value);

// The /proc/kpageflags word of |pfn| (for diagnostics), or ~0 on error.
uint64_t PageFlags(uint64_t pfn);

// True if |pfn| is marked as poisoned.
bool PagePoisoned(uint64_t pfn);

// Injects a memory failure at |pfn|; 0 or -errno.  On 6.1, memory failure
// reports EBUSY for a page-cache page that stays in its file, which is
// what guest_memfd does with a poisoned page (it refuses it to the guest
// until a hole is punched); the page is poisoned all the same.
int InjectMemoryFailure(uint64_t pfn);

}  // namespace gmt
