// Memory failure on guest_memfd pages, without a test hook in the kernel:
// the page to poison is found by its content (/proc/kpageflags narrows the
// search to unevictable page-cache pages, /dev/mem reads them; the test
// kernel has DEVMEM without STRICT_DEVMEM), then poisoned through the
// hwpoison injector (/sys/kernel/debug/hwpoison/corrupt-pfn).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gmt {

// Empty if this kernel can inject memory failure the way described above,
// otherwise what is missing (a reason to skip).
std::string HwpoisonUnavailable();

// Every pfn of an unevictable, in-use page whose first 64 bytes are the
// 32-bit |value| repeated.
std::vector<uint64_t> FindPagesFilledWith(uint32_t value);

// Injects a memory failure at |pfn|; 0 or -errno.
int InjectMemoryFailure(uint64_t pfn);

}  // namespace gmt
