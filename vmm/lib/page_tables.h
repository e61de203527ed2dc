// Pure: the identity map and GDT the VMM writes before the first
// instruction.  Everything is computed into a byte span standing for guest
// memory, so it is unit-testable without KVM.
#pragma once

#include <cstdint>
#include <span>

#include "vmm/lib/result.h"

namespace gmem {

struct PageTableLayout {
  uint64_t pml4_gpa;
  uint64_t pdpt_gpa;
  uint64_t pd_gpa;    // first of num_pds contiguous page directories
  uint64_t num_pds;   // each maps 1 GiB with 2 MiB pages
  uint64_t end_gpa;   // first byte after the tables
};

// Entry bits.
constexpr uint64_t kPtePresent = 1ull << 0;
constexpr uint64_t kPteWritable = 1ull << 1;
constexpr uint64_t kPteLarge = 1ull << 7;  // PS: 2 MiB page in a PD

// Tables mapping [0, ram_size) 1:1, starting at base_gpa and ending before
// limit_gpa.  ram_size must be a non-zero multiple of 2 MiB.
Result<PageTableLayout> PlanIdentityMap(uint64_t base_gpa, uint64_t limit_gpa,
                                        uint64_t ram_size);
// Writes the tables into guest memory (mem[0] is GPA 0).
Status WriteIdentityMap(std::span<uint8_t> mem, const PageTableLayout& l);
// Software walk of the tables: the GPA that va maps to, or an error.
Result<uint64_t> Translate(std::span<const uint8_t> mem, uint64_t cr3,
                           uint64_t va);

// Flat 64-bit GDT: null, code (selector 0x8), data (0x10).
constexpr uint16_t kGdtLimit = 3 * 8 - 1;
uint64_t GdtEntry(bool code);
Status WriteGdt(std::span<uint8_t> mem, uint64_t gdt_gpa);

}  // namespace gmem
