#include "vmm/lib/sev_snp.h"

#include <cstring>

namespace gmem::snp {

const char* PageTypeName(PageType t) {
  switch (t) {
    case PageType::kNormal: return "normal";
    case PageType::kVmsa: return "vmsa";
    case PageType::kZero: return "zero";
    case PageType::kUnmeasured: return "unmeasured";
    case PageType::kSecrets: return "secrets";
    case PageType::kCpuid: return "cpuid";
  }
  return "?";
}

kvm_sev_init Init2() {
  kvm_sev_init i{};
  i.ghcb_version = kGhcbVersion;
  return i;
}

kvm_sev_snp_launch_start LaunchStart(uint64_t policy) {
  kvm_sev_snp_launch_start s{};
  s.policy = policy;
  return s;
}

kvm_sev_snp_launch_update LaunchUpdate(uint64_t gpa, const void* src,
                                       uint64_t len, PageType type) {
  kvm_sev_snp_launch_update u{};
  u.gfn_start = gpa >> 12;
  u.uaddr = type == PageType::kZero ? 0 : reinterpret_cast<uintptr_t>(src);
  u.len = len;
  u.type = static_cast<uint8_t>(type);
  return u;
}

kvm_sev_snp_launch_finish LaunchFinish() { return kvm_sev_snp_launch_finish{}; }

kvm_sev_cmd Cmd(uint32_t id, const void* data, int sev_fd) {
  kvm_sev_cmd c{};
  c.id = id;
  c.data = reinterpret_cast<uintptr_t>(data);
  c.sev_fd = static_cast<uint32_t>(sev_fd);
  return c;
}

std::array<uint8_t, 0x70> PageInfo(const Digest384& so_far,
                                   const Digest384& contents, PageType type,
                                   uint64_t gpa) {
  std::array<uint8_t, 0x70> p{};
  std::memcpy(p.data() + 0x00, so_far.data(), 48);    // DIGEST_CUR
  std::memcpy(p.data() + 0x30, contents.data(), 48);  // CONTENTS
  p[0x60] = 0x70;                                     // LENGTH (LE 16)
  p[0x61] = 0x00;
  p[0x62] = static_cast<uint8_t>(type);               // PAGE_TYPE
  // 0x63 IMI_PAGE, 0x64-0x66 VMPL3/2/1 permissions, 0x67 reserved: 0
  for (int i = 0; i < 8; ++i) p[0x68 + i] = static_cast<uint8_t>(gpa >> (8 * i));
  return p;
}

void LaunchDigest::Page(PageType type, uint64_t gpa, const Digest384& contents) {
  ld_ = Sha384Of(PageInfo(ld_, contents, type, gpa));
  ++pages_;
}

void LaunchDigest::AddRange(uint64_t gpa, std::span<const uint8_t> data,
                            uint64_t len, PageType type) {
  const bool hashed = type == PageType::kNormal || type == PageType::kVmsa;
  for (uint64_t off = 0; off < len; off += 4096) {
    Digest384 contents{};
    if (hashed) contents = Sha384Of(data.subspan(off, 4096));
    Page(type, gpa + off, contents);
  }
}

void LaunchDigest::AddVmsa(std::span<const uint8_t, 4096> vmsa) {
  Page(PageType::kVmsa, kVmsaGpa, Sha384Of(vmsa));
}

Termination DecodeTermination(uint64_t msr) {
  return {(msr & 0xfff) == 0x100, static_cast<uint32_t>((msr >> 12) & 0xf),
          static_cast<uint32_t>((msr >> 16) & 0xff)};
}

std::vector<uint8_t> CpuidPage(std::span<const CpuidFunction> fns) {
  if (fns.size() > kCpuidMaxFunctions) return {};
  std::vector<uint8_t> page(4096, 0);
  const uint32_t n = static_cast<uint32_t>(fns.size());
  std::memcpy(page.data(), &n, 4);
  if (!fns.empty()) std::memcpy(page.data() + 16, fns.data(), fns.size_bytes());
  return page;
}

}  // namespace gmem::snp
