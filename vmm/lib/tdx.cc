#include "vmm/lib/tdx.h"

#include <cstring>

namespace gmem::tdx {

kvm_tdx_cmd Cmd(uint32_t id, uint32_t flags, uint64_t data) {
  kvm_tdx_cmd c{};
  c.id = id;
  c.flags = flags;
  c.data = data;
  return c;
}

namespace {
std::vector<uint64_t> Buffer(size_t header, uint32_t entries) {
  return std::vector<uint64_t>((header + entries * sizeof(CpuidEntry) + 7) / 8, 0);
}
}  // namespace

std::vector<uint64_t> CapabilitiesBuffer(uint32_t max_entries) {
  auto buf = Buffer(sizeof(kvm_tdx_capabilities), max_entries);
  reinterpret_cast<kvm_tdx_capabilities*>(buf.data())->cpuid.nent = max_entries;
  return buf;
}

const kvm_tdx_capabilities& Caps(const std::vector<uint64_t>& buf) {
  return *reinterpret_cast<const kvm_tdx_capabilities*>(buf.data());
}

std::span<const CpuidEntry> CapsCpuid(const std::vector<uint64_t>& buf) {
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data()) + sizeof(kvm_tdx_capabilities);
  const size_t room = (buf.size() * 8 - sizeof(kvm_tdx_capabilities)) / sizeof(CpuidEntry);
  const size_t n = std::min<size_t>(Caps(buf).cpuid.nent, room);
  return {reinterpret_cast<const CpuidEntry*>(p), n};
}

std::vector<uint64_t> InitVmBuffer(uint64_t attributes, uint64_t xfam,
                                   std::span<const CpuidEntry> cpuid) {
  auto buf = Buffer(sizeof(kvm_tdx_init_vm), static_cast<uint32_t>(cpuid.size()));
  auto* iv = reinterpret_cast<kvm_tdx_init_vm*>(buf.data());
  iv->attributes = attributes;
  iv->xfam = xfam;
  iv->cpuid.nent = static_cast<uint32_t>(cpuid.size());
  if (!cpuid.empty())
    std::memcpy(reinterpret_cast<uint8_t*>(buf.data()) + sizeof(kvm_tdx_init_vm),
                cpuid.data(), cpuid.size_bytes());
  return buf;
}

const kvm_tdx_init_vm& InitVm(const std::vector<uint64_t>& buf) {
  return *reinterpret_cast<const kvm_tdx_init_vm*>(buf.data());
}

std::span<const CpuidEntry> InitVmCpuid(const std::vector<uint64_t>& buf) {
  const auto* p = reinterpret_cast<const uint8_t*>(buf.data()) + sizeof(kvm_tdx_init_vm);
  return {reinterpret_cast<const CpuidEntry*>(p), InitVm(buf).cpuid.nent};
}

std::vector<CpuidEntry> TdCpuid(std::span<const CpuidEntry> configurable,
                                std::span<const CpuidEntry> supported) {
  std::vector<CpuidEntry> out;
  for (const CpuidEntry& c : configurable) {
    for (const CpuidEntry& s : supported) {
      if (s.function != c.function || s.index != c.index) continue;
      CpuidEntry e = c;
      e.eax &= s.eax;
      e.ebx &= s.ebx;
      e.ecx &= s.ecx;
      e.edx &= s.edx;
      out.push_back(e);
      break;
    }
  }
  CpuidEntry* gpaw = nullptr;
  for (CpuidEntry& e : out)
    if (e.function == 0x80000008 && e.index == 0) gpaw = &e;
  if (!gpaw) {
    CpuidEntry e{};
    e.function = 0x80000008;
    out.push_back(e);
    gpaw = &out.back();
  }
  gpaw->eax = (gpaw->eax & ~0x00ff0000u) | (kGuestPhysBits << 16);
  return out;
}

uint32_t GuestPhysBits(const CpuidEntry& e) { return (e.eax >> 16) & 0xff; }

std::vector<CpuidEntry> WithX2apic(std::span<const CpuidEntry> cpuid) {
  std::vector<CpuidEntry> out(cpuid.begin(), cpuid.end());
  for (CpuidEntry& e : out)
    if (e.function == 1 && e.index == 0) {
      e.ecx |= kCpuid1EcxX2apic;
      return out;
    }
  CpuidEntry e{};
  e.function = 1;
  e.ecx = kCpuid1EcxX2apic;
  out.push_back(e);
  return out;
}

kvm_tdx_init_mem_region MemRegion(const void* src, uint64_t gpa, uint64_t pages) {
  kvm_tdx_init_mem_region r{};
  r.source_addr = reinterpret_cast<uintptr_t>(src);
  r.gpa = gpa;
  r.nr_pages = pages;
  return r;
}

namespace {
std::array<uint8_t, 128> Record(const char* what, uint64_t gpa) {
  std::array<uint8_t, 128> r{};
  std::memcpy(r.data(), what, std::strlen(what));  // at most 16 bytes
  for (int i = 0; i < 8; ++i) r[16 + i] = static_cast<uint8_t>(gpa >> (8 * i));
  return r;
}
}  // namespace

void Mrtd::AddPage(uint64_t gpa) { sha_.Update(Record("MEM.PAGE.ADD", gpa)); }

void Mrtd::Extend(uint64_t gpa, std::span<const uint8_t, 256> chunk) {
  sha_.Update(Record("MR.EXTEND", gpa));
  sha_.Update(chunk);
}

void Mrtd::AddRegion(uint64_t gpa, std::span<const uint8_t> data, bool measured) {
  for (uint64_t off = 0; off + 4096 <= data.size(); off += 4096) {
    AddPage(gpa + off);
    if (!measured) continue;
    for (uint64_t c = 0; c < 4096; c += 256)
      Extend(gpa + off + c, std::span<const uint8_t, 256>(data.data() + off + c, 256));
  }
}

std::vector<uint8_t> ResetPage(uint32_t entry32) {
  std::vector<uint8_t> page(4096, 0xf4);  // hlt
  constexpr uint32_t kResetIp = 0xfffffff0u;
  const uint32_t rel = entry32 - (kResetIp + 5);  // wraps modulo 2^32, as EIP
  page[0xff0] = 0xe9;                             // jmp rel32
  for (int i = 0; i < 4; ++i) page[0xff1 + i] = static_cast<uint8_t>(rel >> (8 * i));
  return page;
}

Digest384 Mrtd::Value() const {
  Sha384 copy = sha_;
  return copy.Final();
}

}  // namespace gmem::tdx
