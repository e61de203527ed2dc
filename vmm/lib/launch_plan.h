// Pure: where a confidential guest's memory is and what the launch loads
// into it, for SEV-SNP and TDX.  The same boot image as the other modes
// (GDT, boot info, identity map, stack, payload in the first 4 MiB), made
// private and handed to the firmware region by region; TDX also gets the
// reset-vector page below 4 GiB, where a TD starts.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/lib/page_tables.h"
#include "vmm/lib/sev_snp.h"

namespace gmem {

enum class CocoKind { kSnp, kTdx };

struct LaunchSlot {
  uint32_t slot;
  uint64_t gpa, size;
  uint64_t gmem_offset;  // in the one guest_memfd; also the staging offset
};

// One LAUNCH_UPDATE (SNP) or INIT_MEM_REGION (TDX): page-aligned.
struct LaunchRegion {
  uint64_t gpa, size;
  snp::PageType snp_type;  // SNP: the page type
  bool measured;           // TDX: KVM_TDX_MEASURE_MEMORY_REGION
  std::string what;
};

struct LaunchPlan {
  CocoKind kind;
  uint64_t ram_size;
  uint64_t gmem_size;  // the guest_memfd (and staging buffer) size
  std::vector<LaunchSlot> slots;
  std::vector<LaunchRegion> regions;  // in the order they are issued
  // Made private (KVM_SET_MEMORY_ATTRIBUTES) before any region is loaded:
  // every slot, whole.  The guest validates / accepts the rest itself.
};

// GPAs of the pages only SNP has (in the boot region's free space).
constexpr uint64_t kSnpSecretsGpa = 0x3000;
constexpr uint64_t kSnpCpuidGpa = 0x4000;
// TDX: the reset vector page (a TD starts at 0xFFFFFFF0 in 32-bit mode).
constexpr uint64_t kTdxResetPageGpa = 0xFFFFF000ull;

// OR mask into every leaf (2 MiB) entry of the identity map: the SEV
// C-bit, so that the guest's data accesses are private from the start.
void SetLeafBits(std::span<uint8_t> mem, const PageTableLayout& l, uint64_t mask);

// payload_size: bytes of the payload image at abi::kPayloadGpa.
LaunchPlan PlanLaunch(CocoKind kind, uint64_t ram_size, uint64_t payload_size);
// The staging offset of gpa (gmem offset), or UINT64_MAX outside the slots.
uint64_t StagingOffset(const LaunchPlan& plan, uint64_t gpa);

}  // namespace gmem
