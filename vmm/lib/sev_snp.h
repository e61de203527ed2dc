// SEV-SNP launch: the KVM_MEMORY_ENCRYPT_OP command buffers (upstream's
// ABI, Linux 6.11+) and the launch digest the firmware computes, both
// pure.  The sequence that issues them is launch_snp.cc.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/uapi/kvm.h"
#include "vmm/lib/sha384.h"

namespace gmem::snp {

// SNP firmware page types (SNP ABI spec, SNP_LAUNCH_UPDATE): KVM's
// KVM_SEV_SNP_PAGE_TYPE_* use the same values; VMSA pages are KVM's own.
enum class PageType : uint8_t {
  kNormal = KVM_SEV_SNP_PAGE_TYPE_NORMAL,
  kVmsa = 0x2,
  kZero = KVM_SEV_SNP_PAGE_TYPE_ZERO,
  kUnmeasured = KVM_SEV_SNP_PAGE_TYPE_UNMEASURED,
  kSecrets = KVM_SEV_SNP_PAGE_TYPE_SECRETS,
  kCpuid = KVM_SEV_SNP_PAGE_TYPE_CPUID,
};
const char* PageTypeName(PageType t);

// Guest policy (SNP ABI spec, GUEST_POLICY): bit 17 must be one, bit 16
// allows SMT (KVM refuses a policy without it), ABI major/minor 0.
constexpr uint64_t kPolicySmt = 1ull << 16;
constexpr uint64_t kPolicyReservedMbo = 1ull << 17;
constexpr uint64_t kPolicyDebug = 1ull << 19;
constexpr uint64_t kDefaultPolicy = kPolicySmt | kPolicyReservedMbo;
// What KVM accepts (6.12 sev.c): API minor/major, SMT, MBO, debug, single
// socket is refused.
constexpr uint64_t kPolicyValidMask = 0xffffull | kPolicySmt | kPolicyReservedMbo |
                                      kPolicyDebug;

// GHCB protocol version an SNP guest needs (2: page-state changes).
constexpr uint16_t kGhcbVersion = 2;

kvm_sev_init Init2();
kvm_sev_snp_launch_start LaunchStart(uint64_t policy);
// gpa and len page-aligned; src is ignored for kZero (KVM passes no source).
kvm_sev_snp_launch_update LaunchUpdate(uint64_t gpa, const void* src,
                                       uint64_t len, PageType type);
kvm_sev_snp_launch_finish LaunchFinish();
// The KVM_MEMORY_ENCRYPT_OP argument around any of the above.
kvm_sev_cmd Cmd(uint32_t id, const void* data, int sev_fd);

// The PAGE_INFO structure (SNP ABI spec, SNP_LAUNCH_UPDATE): 0x70 bytes
// hashed into the launch digest for each page.
std::array<uint8_t, 0x70> PageInfo(const Digest384& digest_so_far,
                                   const Digest384& contents, PageType type,
                                   uint64_t gpa);

// The launch digest the firmware accumulates over SNP_LAUNCH_UPDATE: it
// starts as 48 zero bytes and becomes SHA-384(PAGE_INFO) per page, in the
// order the pages were given.  NORMAL and VMSA pages contribute the
// SHA-384 of their contents, ZERO, UNMEASURED, SECRETS and CPUID pages
// 48 zero bytes (their PAGE_INFO is still folded in: the type and GPA are
// measured, the contents are not).
class LaunchDigest {
 public:
  // Adds the pages of [gpa, gpa + len) as type; data is len bytes for
  // kNormal/kVmsa and ignored otherwise.
  void AddRange(uint64_t gpa, std::span<const uint8_t> data, uint64_t len,
                PageType type);
  // A vCPU's VMSA (KVM builds it from the vCPU's state at LAUNCH_FINISH;
  // the firmware measures it at GPA 0xFFFFFFFFF000 whatever the vCPU).
  void AddVmsa(std::span<const uint8_t, 4096> vmsa);
  const Digest384& digest() const { return ld_; }
  uint64_t pages() const { return pages_; }

 private:
  void Page(PageType type, uint64_t gpa, const Digest384& contents);
  Digest384 ld_{};
  uint64_t pages_ = 0;
};
constexpr uint64_t kVmsaGpa = 0xFFFFFFFFF000ull;

// The CPUID page (SNP ABI spec, CPUID_FUNCTION table): the firmware checks
// each entry against what the hardware allows and refuses the page (KVM
// copies the corrected table back) when one is out of bounds.
struct CpuidFunction {
  uint32_t eax_in, ecx_in;
  uint64_t xcr0_in, xss_in;
  uint32_t eax, ebx, ecx, edx;
  uint64_t reserved;
};
static_assert(sizeof(CpuidFunction) == 48);
constexpr size_t kCpuidMaxFunctions = 64;
// A 4 KiB page: count, reserved, then the functions.  More than 64 is an
// error (returns an empty vector).
std::vector<uint8_t> CpuidPage(std::span<const CpuidFunction> fns);

// The GHCB MSR protocol's termination request (GHCB spec, MSR protocol,
// 0x100): what KVM hands to userspace as KVM_SYSTEM_EVENT_SEV_TERM.
struct Termination {
  bool is_request;  // GHCBInfo 0x100
  uint32_t reason_set;   // bits 15:12
  uint32_t reason_code;  // bits 23:16
};
Termination DecodeTermination(uint64_t ghcb_msr);
constexpr uint64_t TerminationRequest(uint32_t set, uint32_t code) {
  return 0x100 | (uint64_t{set & 0xf} << 12) | (uint64_t{code & 0xff} << 16);
}

// The C-bit: CPUID 0x8000001F EBX[5:0] gives its position.
constexpr uint64_t CBitMask(uint32_t cpuid_8000001f_ebx) {
  return 1ull << (cpuid_8000001f_ebx & 0x3f);
}

}  // namespace gmem::snp
