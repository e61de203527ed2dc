// The SEV-SNP variant of the self-check payload.  Small on purpose: it
// cannot run here (no SNP hardware) and was never run on SNP hardware.
//
// An SNP guest has no #VC handler here, so it must not execute what would
// raise one (port I/O, CPUID, ...).  It talks to the host through the GHCB
// MSR protocol only (GHCB spec, section 2.3.1):
//  - page-state change request 0x014 (GHCBData[63:52] = 1 private, 2
//    shared; [51:12] = GFN), answered by 0x015 with the error in [63:32];
//    KVM (6.11+) hands it to the VMM as KVM_HC_MAP_GPA_RANGE;
//  - termination request 0x100 with reason set abi::kSnpTermSet and the
//    failing Step (0: passed) as reason code: the verdict.
// Memory the launch did not load is private but not validated: the guest
// validates each page (PVALIDATE) after asking for it private, and
// rescinds the validation before giving a page to the host.
#include "vmm/guest/abi.h"
#include "vmm/guest/selfcheck.h"

using namespace gmem::abi;
namespace guest = gmem::guest;

namespace {

constexpr uint32_t kGhcbMsr = 0xc0010130;
BootInfo* const boot = reinterpret_cast<BootInfo*>(kBootInfoGpa);

inline uint64_t Rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}
inline void Wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" : : "c"(msr), "a"(static_cast<uint32_t>(v)),
               "d"(static_cast<uint32_t>(v >> 32)) : "memory");
}
// VMGEXIT is "rep; vmmcall" (F3 0F 01 D9).
inline void Vmgexit() { asm volatile("rep; vmmcall" : : : "memory"); }

[[noreturn]] void Terminate(uint32_t step) {
  Wrmsr(kGhcbMsr, 0x100 | (uint64_t{kSnpTermSet} << 12) | (uint64_t{step & 0xff} << 16));
  Vmgexit();
  for (;;) asm volatile("hlt");
}

bool PageState(uint64_t gpa, bool to_private) {
  constexpr uint64_t kGfnMask = 0x000ffffffffff000ull;
  Wrmsr(kGhcbMsr, ((to_private ? 1ull : 2ull) << 52) | (gpa & kGfnMask) | 0x014);
  Vmgexit();
  const uint64_t r = Rdmsr(kGhcbMsr);
  return (r & 0xfff) == 0x015 && (r >> 32) == 0;
}

// PVALIDATE (F2 0F 01 FF): rax = the page's virtual address, ecx = 0 (4 KiB),
// edx = 1 validate / 0 rescind; eax = 0 on success, CF set if nothing changed.
bool Pvalidate(uint64_t va, bool validate) {
  uint64_t rax = va;
  asm volatile(".byte 0xf2, 0x0f, 0x01, 0xff" /* pvalidate */
               : "+a"(rax) : "c"(0), "d"(validate ? 1 : 0) : "memory", "cc");
  return static_cast<uint32_t>(rax) == 0;
}

bool ToPrivate(uint64_t base, uint64_t size) {
  for (uint64_t p = base; p < base + size; p += 4096)
    if (!PageState(p, true) || !Pvalidate(p, true)) return false;
  return true;
}

bool ToShared(uint64_t base, uint64_t size) {
  for (uint64_t p = base; p < base + size; p += 4096)
    if (!Pvalidate(p, false) || !PageState(p, false)) return false;
  return true;
}

// The C-bit of the 2 MiB leaf holding va: the one bit beyond its address.
void SetLeafPrivate(uint64_t va, bool on, uint64_t cbit) {
  volatile uint64_t* e = guest::LeafEntry(va);
  *e = on ? (*e | cbit) : (*e & ~cbit);
  guest::FlushTlb();
}

}  // namespace

extern "C" void guest_main() {
  if (boot->magic != kBootMagic || boot->version != 1 || boot->mode != kModeSnp)
    Terminate(kStepBootInfo);
  const uint64_t work = boot->work_gpa, size = boot->work_size, seed = boot->fill_seed;
  const uint64_t cbit = *guest::LeafEntry(work) & 0x000fffffffe00000ull & ~(work & ~0x1fffffull);
  if (!cbit) Terminate(kStepBootInfo);

  // 1. Accept all of work RAM as private, fill it and check it.
  if (!ToPrivate(work, size)) Terminate(kStepFill);
  const uint64_t sum = guest::Fill(work, size, seed, [](uint64_t) {});
  bool ok;
  if (guest::Checksum(work, size, seed, &ok) != sum || !ok) Terminate(kStepFill);

  // 2. Round trip: private -> shared (C-bit clear) -> private, usable in
  //    each state.  The range sits in one 2 MiB leaf; nothing else of that
  //    leaf is touched while its C-bit is clear.
  const uint64_t rt = work + kRoundTripOff;
  if (!ToShared(rt, kRoundTripSize)) Terminate(kStepRoundTrip);
  SetLeafPrivate(rt, false, cbit);
  if (!guest::WriteAndVerify(rt, kRoundTripSize, seed + 1)) Terminate(kStepRoundTrip);
  SetLeafPrivate(rt, true, cbit);
  if (!ToPrivate(rt, kRoundTripSize)) Terminate(kStepToPrivate);
  if (!guest::WriteAndVerify(rt, kRoundTripSize, seed + 2)) Terminate(kStepToPrivate);

  Terminate(0);  // passed
}
