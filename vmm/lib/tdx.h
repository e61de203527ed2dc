// TDX launch: the KVM_MEMORY_ENCRYPT_OP command buffers (upstream's ABI,
// Linux 6.16) and the MRTD the TDX module accumulates, both pure.  The
// sequence that issues them is launch_tdx.cc.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/uapi/kvm.h"
#include "vmm/lib/sha384.h"

namespace gmem::tdx {

// kvm_cpuid_entry2 (40 bytes), as KVM_TDX_INIT_VM and KVM_SET_CPUID2 take it.
using CpuidEntry = kvm_cpuid_entry2;
static_assert(sizeof(CpuidEntry) == 40);

// TD attribute SEPT_VE_DISABLE (TDX module spec, ATTRIBUTES bit 28).
constexpr uint64_t kAttrSeptVeDisable = 1ull << 28;

// XFAM: x87 and SSE are mandatory for a TD (TDX module spec).
constexpr uint64_t kXfamX87Sse = 0x3;

kvm_tdx_cmd Cmd(uint32_t id, uint32_t flags, uint64_t data);

// A kvm_tdx_capabilities buffer with room for max_entries CPUID entries
// (cpuid.nent set to it), 8-byte aligned.
std::vector<uint64_t> CapabilitiesBuffer(uint32_t max_entries);
const kvm_tdx_capabilities& Caps(const std::vector<uint64_t>& buf);
std::span<const CpuidEntry> CapsCpuid(const std::vector<uint64_t>& buf);

// The KVM_TDX_INIT_VM argument: attributes (must be within the
// capabilities' supported_attrs), xfam, no MRCONFIGID/MROWNER, and the
// TD's CPUID configuration: each configurable entry the capabilities
// report, with only the bits the host also supports.
std::vector<uint64_t> InitVmBuffer(uint64_t attributes, uint64_t xfam,
                                   std::span<const CpuidEntry> cpuid);
const kvm_tdx_init_vm& InitVm(const std::vector<uint64_t>& buf);
std::span<const CpuidEntry> InitVmCpuid(const std::vector<uint64_t>& buf);
// configurable & supported, entry by entry (function, index), and the
// TD's guest physical address width: KVM_TDX_INIT_VM takes it from CPUID
// 0x80000008 EAX[23:16] and refuses the TD unless it is 48 or 52 (6.16
// setup_tdparams_eptp_controls), so that entry is always there, with 48
// (4-level EPT, which every TDX host has).
std::vector<CpuidEntry> TdCpuid(std::span<const CpuidEntry> configurable,
                                std::span<const CpuidEntry> supported);
constexpr uint32_t kGuestPhysBits = 48;
uint32_t GuestPhysBits(const CpuidEntry& leaf_80000008);

// What KVM_SET_CPUID2 gets before KVM_TDX_INIT_VCPU: KVM_TDX_INIT_VCPU puts
// the local APIC in x2APIC mode and fails (EINVAL) unless the vCPU's CPUID
// has x2APIC (CPUID 1 ECX[21]); cpuid with that bit set (leaf 1 added if
// missing).
std::vector<CpuidEntry> WithX2apic(std::span<const CpuidEntry> cpuid);
constexpr uint32_t kCpuid1EcxX2apic = 1u << 21;

kvm_tdx_init_mem_region MemRegion(const void* src, uint64_t gpa, uint64_t pages);

// MRTD (TDX module spec, TDH.MEM.PAGE.ADD and TDH.MR.EXTEND): one running
// SHA-384 over 128-byte records: "MEM.PAGE.ADD" + GPA for each page added,
// then, for a measured page, "MR.EXTEND" + GPA and the 256 bytes of each
// chunk.  KVM_TDX_INIT_MEM_REGION adds page by page, extending each page
// right after adding it when KVM_TDX_MEASURE_MEMORY_REGION is set.
class Mrtd {
 public:
  void AddPage(uint64_t gpa);
  void Extend(uint64_t gpa, std::span<const uint8_t, 256> chunk);
  // What KVM_TDX_INIT_MEM_REGION does for [gpa, gpa + pages) from data.
  void AddRegion(uint64_t gpa, std::span<const uint8_t> data, bool measured);
  Digest384 Value() const;  // TDH.MR.FINALIZE's result for what was added

 private:
  Sha384 sha_;
};

// The page at kTdxResetPageGpa (0xFFFFF000): a TD's vCPUs start at
// 0xFFFFFFF0 in 32-bit protected mode, paging off, flat segments; the page
// holds a near jump from there to entry32 (the payload's 32-bit entry) and
// HLT everywhere else.
std::vector<uint8_t> ResetPage(uint32_t entry32);

}  // namespace gmem::tdx
