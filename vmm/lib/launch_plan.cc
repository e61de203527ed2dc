#include "vmm/lib/launch_plan.h"

#include <cstdint>
#include <cstring>

#include "vmm/guest/abi.h"

namespace gmem {
namespace {
constexpr uint64_t kPage = 4096;
uint64_t PageUp(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }
}  // namespace

LaunchPlan PlanLaunch(CocoKind kind, uint64_t ram_size, uint64_t payload_size) {
  const bool snp = kind == CocoKind::kSnp;
  LaunchPlan p{kind, ram_size, ram_size, {}, {}};
  p.slots.push_back({0, 0, ram_size, 0});
  if (!snp) {
    p.slots.push_back({1, kTdxResetPageGpa, kPage, ram_size});
    p.gmem_size += kPage;
  }
  using T = snp::PageType;
  auto add = [&](uint64_t gpa, uint64_t size, T type, bool measured, const char* what) {
    p.regions.push_back({gpa, size, type, measured, what});
  };
  // GDT and boot info share [0x1000, 0x3000).
  add(abi::kGdtGpa, abi::kBootInfoGpa + kPage - abi::kGdtGpa, T::kNormal, true,
      "gdt+boot info");
  if (snp) {
    add(kSnpSecretsGpa, kPage, T::kSecrets, false, "secrets");
    add(kSnpCpuidGpa, kPage, T::kCpuid, false, "cpuid");
  }
  add(abi::kPageTableGpa, abi::kPageTableEnd - abi::kPageTableGpa, T::kNormal, true,
      "page tables");
  add(abi::kPageTableEnd, abi::kStackTop - abi::kPageTableEnd, T::kZero, false, "stack");
  add(abi::kPayloadGpa, PageUp(payload_size ? payload_size : 1), T::kNormal, true,
      "payload");
  if (!snp) add(kTdxResetPageGpa, kPage, T::kNormal, true, "reset vector");
  return p;
}

void SetLeafBits(std::span<uint8_t> mem, const PageTableLayout& l, uint64_t mask) {
  for (uint64_t i = 0; i < l.num_pds * 512; ++i) {
    const uint64_t at = l.pd_gpa + i * 8;
    if (at + 8 > mem.size()) return;
    uint64_t e;
    std::memcpy(&e, mem.data() + at, 8);
    if (!(e & kPtePresent)) continue;
    e |= mask;
    std::memcpy(mem.data() + at, &e, 8);
  }
}

uint64_t StagingOffset(const LaunchPlan& plan, uint64_t gpa) {
  for (const LaunchSlot& s : plan.slots)
    if (gpa >= s.gpa && gpa - s.gpa < s.size) return s.gmem_offset + (gpa - s.gpa);
  return UINT64_MAX;
}

}  // namespace gmem
