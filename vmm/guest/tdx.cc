// The TDX variant of the self-check payload.  Small on purpose: it cannot
// run here (no TDX hardware) and was never run on TDX hardware.
//
// A TD has no #VE handler here, so it must not execute what would raise
// one (port I/O, CPUID, HLT before the end, ...).  It talks to the host
// with TDCALL (66 0F 01 CC; GHCI spec):
//  - TDG.VP.INFO (leaf 1): GPAW, hence the shared bit (GPA bit GPAW-1);
//  - TDG.MEM.PAGE.ACCEPT (leaf 6): accept a private page on first use;
//  - TDG.VP.VMCALL (leaf 0) <MapGPA> (0x10001): KVM (6.16) hands it to the
//    VMM as KVM_HC_MAP_GPA_RANGE; <Instruction.IO> (30): an ordinary port
//    write for the VMM (console, and the verdict on abi::kPortVerdict).
#include "vmm/guest/abi.h"
#include "vmm/guest/selfcheck.h"

using namespace gmem::abi;
namespace guest = gmem::guest;

namespace {

BootInfo* const boot = reinterpret_cast<BootInfo*>(kBootInfoGpa);
uint64_t g_shared_bit;

struct TdcallOut {
  uint64_t rax, rcx, r10, r11;
};

// TDCALL with rax = leaf and the registers the leaf takes.
TdcallOut Tdcall(uint64_t leaf, uint64_t rcx, uint64_t r10, uint64_t r11, uint64_t r12,
                 uint64_t r13, uint64_t r14, uint64_t r15) {
  register uint64_t r10_ asm("r10") = r10;
  register uint64_t r11_ asm("r11") = r11;
  register uint64_t r12_ asm("r12") = r12;
  register uint64_t r13_ asm("r13") = r13;
  register uint64_t r14_ asm("r14") = r14;
  register uint64_t r15_ asm("r15") = r15;
  uint64_t rax = leaf;
  asm volatile(".byte 0x66, 0x0f, 0x01, 0xcc" /* tdcall */
               : "+a"(rax), "+c"(rcx), "+r"(r10_), "+r"(r11_), "+r"(r12_), "+r"(r13_),
                 "+r"(r14_), "+r"(r15_)
               : : "memory", "rdx", "r8", "r9");
  return {rax, rcx, r10_, r11_};
}

// TDG.VP.VMCALL: rcx names the registers handed to the VMM (r10-r15).
constexpr uint64_t kVmcallRegs = 0xfc00;

void OutPort(uint16_t port, uint32_t v, uint64_t size) {
  Tdcall(0, kVmcallRegs, 0, 30 /* Instruction.IO */, size, 1 /* out */, port, v);
}

void Puts(const char* s) {
  while (*s) OutPort(kPortConsole, static_cast<uint8_t>(*s++), 1);
}

[[noreturn]] void Verdict(uint32_t step) {
  Puts(step ? "guest (tdx): self-check FAILED\n" : "guest (tdx): self-check passed\n");
  OutPort(kPortVerdict, step, 4);
  for (;;) asm volatile("hlt");
}

// MapGPA; KVM answers RETRY (1) with the GPA to go on from in r11.
bool MapGpa(uint64_t gpa, uint64_t size, bool to_private) {
  const uint64_t end = gpa + size;
  uint64_t at = gpa;
  for (int tries = 0; tries < 100000 && at < end; ++tries) {
    const uint64_t bit = to_private ? 0 : g_shared_bit;
    const TdcallOut o = Tdcall(0, 0x3c00, 0, 0x10001 /* MapGPA */, at | bit, end - at, 0, 0);
    if (o.r10 == 0) return true;
    if (o.r10 != 1) return false;
    at = o.r11 & ~g_shared_bit;
  }
  return false;
}

bool Accept(uint64_t base, uint64_t size) {
  constexpr uint64_t kAlreadyAccepted = 0x00000b0a00000000ull;
  for (uint64_t p = base; p < base + size; p += 4096) {
    const TdcallOut o = Tdcall(6, p /* | level 0: 4 KiB */, 0, 0, 0, 0, 0, 0);
    if (o.rax != 0 && (o.rax & 0xffffffff00000000ull) != kAlreadyAccepted) return false;
  }
  return true;
}

// TDG.MR.REPORT (leaf 4): the TD's TDREPORT_STRUCT (1024 bytes, 1 KiB
// aligned) for 64 bytes of report data (zeros).  Its TDINFO_STRUCT starts
// at byte 512: ATTRIBUTES, XFAM, then MRTD (48 bytes) at 528.  The MRTD goes
// to the VMM a byte at a time.
void SendMrtd(uint64_t scratch) {
  uint8_t* report = reinterpret_cast<uint8_t*>(scratch);
  uint8_t* data = reinterpret_cast<uint8_t*>(scratch + 0x400);
  for (int i = 0; i < 64; ++i) data[i] = 0;
  register uint64_t r8 asm("r8") = 0;  // subtype 0
  uint64_t rax = 4, rcx = scratch, rdx = scratch + 0x400;
  asm volatile(".byte 0x66, 0x0f, 0x01, 0xcc" /* tdcall */
               : "+a"(rax), "+c"(rcx), "+d"(rdx), "+r"(r8) : : "memory");
  if (rax != 0) return;
  for (int i = 0; i < 48; ++i) OutPort(kPortMeasurement, report[528 + i], 1);
}

// The shared alias of the 2 MiB leaf holding va: the shared bit in the
// leaf's address.
void SetLeafShared(uint64_t va, bool shared) {
  volatile uint64_t* e = guest::LeafEntry(va);
  *e = shared ? (*e | g_shared_bit) : (*e & ~g_shared_bit);
  guest::FlushTlb();
}

}  // namespace

extern "C" void guest_main() {
  if (boot->magic != kBootMagic || boot->version != 1 || boot->mode != kModeTdx)
    Verdict(kStepBootInfo);
  const TdcallOut info = Tdcall(1 /* TDG.VP.INFO */, 0, 0, 0, 0, 0, 0, 0);
  const uint64_t gpaw = info.rcx & 0x3f;
  if (info.rax != 0 || (gpaw != 48 && gpaw != 52)) Verdict(kStepBootInfo);
  g_shared_bit = 1ull << (gpaw - 1);
  Puts("guest (tdx): long mode, boot info ok\n");

  // 1. Accept all of work RAM (private, pending), fill it and check it.
  const uint64_t work = boot->work_gpa, size = boot->work_size, seed = boot->fill_seed;
  if (!Accept(work, size)) Verdict(kStepFill);
  const uint64_t sum = guest::Fill(work, size, seed, [](uint64_t) {});
  bool ok;
  if (guest::Checksum(work, size, seed, &ok) != sum || !ok) Verdict(kStepFill);

  // 2. Round trip: private -> shared (through the shared alias) -> private,
  //    accepted again and usable.
  const uint64_t rt = work + kRoundTripOff;
  if (!MapGpa(rt, kRoundTripSize, false)) Verdict(kStepRoundTrip);
  SetLeafShared(rt, true);
  if (!guest::WriteAndVerify(rt, kRoundTripSize, seed + 1)) Verdict(kStepRoundTrip);
  SetLeafShared(rt, false);
  if (!MapGpa(rt, kRoundTripSize, true) || !Accept(rt, kRoundTripSize))
    Verdict(kStepToPrivate);
  if (!guest::WriteAndVerify(rt, kRoundTripSize, seed + 2)) Verdict(kStepToPrivate);

  SendMrtd(work + kImplicitOff);  // accepted private scratch, 1 KiB aligned
  Verdict(0);
}
