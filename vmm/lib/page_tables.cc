#include "vmm/lib/page_tables.h"

#include <cstring>

#include "vmm/lib/size.h"

namespace gmem {
namespace {

constexpr uint64_t k4K = 4096, k2M = 2ull << 20, k1G = 1ull << 30;
constexpr uint64_t kAddrMask = 0x000ffffffffff000ull;

void Put64(std::span<uint8_t> mem, uint64_t gpa, uint64_t v) {
  std::memcpy(mem.data() + gpa, &v, 8);
}
uint64_t Get64(std::span<const uint8_t> mem, uint64_t gpa) {
  uint64_t v;
  std::memcpy(&v, mem.data() + gpa, 8);
  return v;
}

}  // namespace

Result<PageTableLayout> PlanIdentityMap(uint64_t base_gpa, uint64_t limit_gpa,
                                        uint64_t ram_size) {
  if (ram_size == 0 || ram_size % k2M)
    return Error::Msg("identity map: RAM size must be a non-zero multiple "
                      "of 2 MiB", ErrorKind::kInvalidArgument);
  if (base_gpa % k4K)
    return Error::Msg("identity map: tables must be 4 KiB aligned", ErrorKind::kInvalidArgument);
  PageTableLayout l{};
  l.pml4_gpa = base_gpa;
  l.pdpt_gpa = base_gpa + k4K;
  l.pd_gpa = base_gpa + 2 * k4K;
  l.num_pds = (ram_size + k1G - 1) / k1G;
  if (l.num_pds > 512)
    return Error::Msg("identity map: more than 512 GiB", ErrorKind::kInvalidArgument);
  l.end_gpa = l.pd_gpa + l.num_pds * k4K;
  if (l.end_gpa > limit_gpa)
    return Error::Msg("identity map: " + std::to_string(l.num_pds) +
                      " page directories do not fit below GPA " +
                      Hex(limit_gpa),
                      ErrorKind::kInvalidArgument, "ask for less guest RAM");
  return l;
}

Status WriteIdentityMap(std::span<uint8_t> mem, const PageTableLayout& l) {
  if (l.end_gpa > mem.size())
    return Error::Msg("identity map: tables outside guest memory");
  std::memset(mem.data() + l.pml4_gpa, 0, l.end_gpa - l.pml4_gpa);
  const uint64_t rw = kPtePresent | kPteWritable;
  Put64(mem, l.pml4_gpa, l.pdpt_gpa | rw);
  for (uint64_t i = 0; i < l.num_pds; i++) {
    uint64_t pd = l.pd_gpa + i * k4K;
    Put64(mem, l.pdpt_gpa + i * 8, pd | rw);
    for (uint64_t j = 0; j < 512; j++)
      Put64(mem, pd + j * 8, (i * k1G + j * k2M) | rw | kPteLarge);
  }
  return Ok{};
}

Result<uint64_t> Translate(std::span<const uint8_t> mem, uint64_t cr3,
                           uint64_t va) {
  auto entry = [&](uint64_t table, unsigned idx) -> Result<uint64_t> {
    uint64_t gpa = (table & kAddrMask) + idx * 8;
    if (gpa + 8 > mem.size()) return Error::Msg("walk left guest memory");
    uint64_t e = Get64(mem, gpa);
    if (!(e & kPtePresent)) return Error::Msg("not present");
    return e;
  };
  uint64_t e4 = GMEM_TRY(entry(cr3, (va >> 39) & 511));
  uint64_t e3 = GMEM_TRY(entry(e4, (va >> 30) & 511));
  if (e3 & kPteLarge) return (e3 & kAddrMask & ~(k1G - 1)) | (va & (k1G - 1));
  uint64_t e2 = GMEM_TRY(entry(e3, (va >> 21) & 511));
  if (e2 & kPteLarge) return (e2 & kAddrMask & ~(k2M - 1)) | (va & (k2M - 1));
  uint64_t e1 = GMEM_TRY(entry(e2, (va >> 12) & 511));
  return (e1 & kAddrMask) | (va & (k4K - 1));
}

uint64_t GdtEntry(bool code) {
  // base 0, limit 0xfffff, G=1, P=1, S=1, DPL 0.
  uint64_t e = 0xffffull | (0xfull << 48);  // limit
  e |= 1ull << 55;                          // G
  e |= 1ull << 47;                          // P
  e |= 1ull << 44;                          // S
  if (code) {
    e |= 0xbull << 40;  // execute/read, accessed
    e |= 1ull << 53;    // L
  } else {
    e |= 0x3ull << 40;  // read/write, accessed
    e |= 1ull << 54;    // D/B
  }
  return e;
}

Status WriteGdt(std::span<uint8_t> mem, uint64_t gdt_gpa) {
  if (gdt_gpa + kGdtLimit + 1 > mem.size())
    return Error::Msg("GDT outside guest memory");
  Put64(mem, gdt_gpa, 0);
  Put64(mem, gdt_gpa + 8, GdtEntry(true));
  Put64(mem, gdt_gpa + 16, GdtEntry(false));
  return Ok{};
}

}  // namespace gmem
