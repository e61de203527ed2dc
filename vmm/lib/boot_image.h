// Pure: what the guest finds in memory before its first instruction (GDT,
// identity map, boot-info block, payload), written into a byte span that
// stands for guest RAM (mem[0] is GPA 0), and the CPU state to enter it.
#pragma once

#include <cstdint>
#include <span>

#include "vmm/lib/page_tables.h"
#include "vmm/lib/payload.h"
#include "vmm/lib/result.h"

namespace gmem {

// The 64-bit state the vCPU starts in.
struct LongModeState {
  uint64_t cr3;       // PML4
  uint64_t gdt_base;  // GDT: null, code64 (0x8), data (0x10)
  uint16_t gdt_limit;
  uint64_t rip;
  uint64_t rsp;
};

struct BootParams {
  uint32_t abi_mode = 0;    // abi::Mode
  uint32_t flags = 0;       // abi::kFlag*
  bool bench_only = false;  // fill and report, no conversions
  uint64_t fill_limit = 0;  // bench_only: fill at most this much (0 = all)
};

struct BootImage {
  LongModeState cpu;
  PageTableLayout page_tables;
  uint64_t boot_info_gpa;
  uint64_t work_gpa;   // the self-check's RAM: [work_gpa, work_gpa + work_size)
  uint64_t work_size;
  uint64_t fill_seed;  // abi::FillPattern's seed
};

Result<BootImage> WriteBootImage(std::span<uint8_t> mem, const Payload& payload,
                                 const BootParams& params);

}  // namespace gmem
