/* The self-check's memory work, shared by every payload variant (default
 * and SW-protected: guest.cc; SEV-SNP: snp.cc; TDX: tdx.cc): every word of
 * a page holds FillPattern(page address, seed); a page at a time with
 * string instructions, one instruction per page. */
#pragma once

#include "vmm/guest/abi.h"

namespace gmem::guest {

inline void FillPage(uint64_t page, uint64_t v) {
  uint64_t dst = page, cnt = 512;
  asm volatile("rep stosq" : "+D"(dst), "+c"(cnt) : "a"(v) : "memory");
}

inline bool PageIs(uint64_t page, uint64_t v) {
  uint64_t src = page, cnt = 512;
  bool ne;
  asm volatile("repe scasq" : "+D"(src), "+c"(cnt), "=@ccnz"(ne) : "a"(v) : "memory");
  return !ne;
}

inline uint64_t Mix(uint64_t sum, uint64_t v) { return (sum ^ v) * 0x100000001b3ull; }

/* Fill [base, base + size); on_page(bytes done) after each page. */
template <typename OnPage>
uint64_t Fill(uint64_t base, uint64_t size, uint64_t seed, OnPage on_page) {
  uint64_t sum = 0;
  for (uint64_t off = 0; off < size; off += 4096) {
    const uint64_t v = abi::FillPattern(base + off, seed);
    FillPage(base + off, v);
    sum = Mix(sum, v);
    on_page(off + 4096);
  }
  return sum;
}

inline uint64_t Checksum(uint64_t base, uint64_t size, uint64_t seed, bool* ok) {
  uint64_t sum = 0;
  *ok = true;
  for (uint64_t off = 0; off < size; off += 4096) {
    const uint64_t v = abi::FillPattern(base + off, seed);
    if (!PageIs(base + off, v)) *ok = false;
    sum = Mix(sum, v);
  }
  return sum;
}

inline bool WriteAndVerify(uint64_t base, uint64_t size, uint64_t seed) {
  const uint64_t a = Fill(base, size, seed, [](uint64_t) {});
  bool ok;
  const uint64_t b = Checksum(base, size, seed, &ok);
  return ok && a == b;
}

/* The identity map's 2 MiB leaf for va (cr3 -> PML4 -> PDPT -> PD). */
inline volatile uint64_t* LeafEntry(uint64_t va) {
  constexpr uint64_t kAddr = 0x000ffffffffff000ull;
  uint64_t cr3;
  asm volatile("mov %%cr3, %0" : "=r"(cr3));
  const uint64_t* pml4 = reinterpret_cast<const uint64_t*>(cr3 & kAddr);
  const uint64_t* pdpt = reinterpret_cast<const uint64_t*>(pml4[(va >> 39) & 511] & kAddr);
  auto* pd = reinterpret_cast<volatile uint64_t*>(pdpt[(va >> 30) & 511] & kAddr);
  return &pd[(va >> 21) & 511];
}

inline void FlushTlb() {
  uint64_t cr3;
  asm volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

}  // namespace gmem::guest
