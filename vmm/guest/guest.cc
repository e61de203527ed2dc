// The freestanding self-check payload.  No libc, no exceptions, no RTTI;
// everything it needs to know arrives in the boot-info block.
#include "vmm/guest/abi.h"
#include "vmm/guest/selfcheck.h"

using namespace gmem::abi;

namespace {

inline void Out32(uint16_t port, uint32_t v) {
  asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}
inline void Out8(uint16_t port, uint8_t v) {
  asm volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

BootInfo* const boot = reinterpret_cast<BootInfo*>(kBootInfoGpa);

void Signal(Event e) { Out32(kPortEvent, e); }

void Puts(const char* s) {
  while (*s) Out8(kPortConsole, static_cast<uint8_t>(*s++));
}

bool IsAmd() {
  uint32_t a = 0, b, c, d;
  asm volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
  return b == 0x68747541;  // "Auth"enticAMD
}

bool g_amd;

uint64_t Hypercall3(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2) {
  uint64_t ret;
  if (boot->flags & kFlagHypercallPort) {
    boot->hc_nr = nr;
    boot->hc_args[0] = a0;
    boot->hc_args[1] = a1;
    boot->hc_args[2] = a2;
    Out32(kPortHypercall, 1);
    return *reinterpret_cast<volatile uint64_t*>(&boot->hc_ret);
  }
  if (g_amd)
    asm volatile("vmmcall" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2)
                 : "memory");
  else
    asm volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2)
                 : "memory");
  return ret;
}

constexpr uint64_t kMapGpaRange = 12;
constexpr uint64_t kEncrypted = 1 << 4;  // i.e. private
constexpr uint64_t kDecrypted = 0;       // i.e. shared

bool MapGpaRange(uint64_t gpa, uint64_t size, bool to_private) {
  if (!(boot->flags & kFlagHypercallExits)) return true;  // nobody to ask
  uint64_t r = Hypercall3(kMapGpaRange, gpa, size >> 12,
                          to_private ? kEncrypted : kDecrypted);
  if (r != 0) boot->hc_failures++;
  return r == 0;
}

// Every word of a page holds FillPattern(page address, seed); see
// selfcheck.h, which the confidential variants share.
using gmem::guest::Checksum;
using gmem::guest::WriteAndVerify;

uint64_t Fill(uint64_t base, uint64_t size, uint64_t seed, bool progress) {
  constexpr uint64_t kStep = 256ull << 20;
  return gmem::guest::Fill(base, size, seed, [&](uint64_t done) {
    if (progress && done % kStep == 0) {
      boot->progress = done;
      Signal(kEvFillProgress);
    }
  });
}

char* AppendHex(char* p, uint64_t v) {
  for (int i = 60; i >= 0; i -= 4) *p++ = "0123456789abcdef"[(v >> i) & 15];
  return p;
}

void Fail(Step step, uint64_t detail) {
  boot->fail_step = step;
  boot->fail_detail = detail;
  Puts("guest: self-check FAILED\n");
  Signal(kEvDone);
}

}  // namespace

extern "C" void guest_main() {
  g_amd = IsAmd();
  if (boot->magic != kBootMagic || boot->version != 1)
    return Fail(kStepBootInfo, boot->magic);
  Puts("guest: long mode, boot info ok\n");

  const uint64_t work = boot->work_gpa, size = boot->work_size;
  const uint64_t seed = boot->fill_seed;

  // 1. Fill all of work RAM and checksum it.
  Signal(kEvFillBegin);
  uint64_t sum = Fill(work, size, seed, true);
  Signal(kEvFillEnd);
  bool ok;
  if (Checksum(work, size, seed, &ok) != sum || !ok)
    return Fail(kStepFill, sum);
  boot->checksum = sum;
  Puts("guest: fill and checksum ok\n");
  if (boot->bench_only) {
    boot->verdict = kPassMagic;
    return Signal(kEvDone);
  }

  // 2. Share a range and leave a message there for the host.
  const uint64_t msg = work + kSharedMsgOff;
  if (!MapGpaRange(msg, kSharedMsgSize, false)) return Fail(kStepToShared, msg);
  char* p = reinterpret_cast<char*>(msg);
  for (const char* s = kMessagePrefix; *s;) *p++ = *s++;
  p = AppendHex(p, sum);
  *p = 0;
  Signal(kEvMessage);  // the host reads it and writes its ack
  boot->host_ack = *reinterpret_cast<volatile uint64_t*>(msg + kHostAckOff);
  if (boot->host_ack != kHostAckMagic) return Fail(kStepHostAck, boot->host_ack);
  Puts("guest: host read the shared message and answered\n");

  // 3. Round trip: private -> shared -> private, usable in each state.
  const uint64_t rt = work + kRoundTripOff;
  if (!MapGpaRange(rt, kRoundTripSize, false)) return Fail(kStepRoundTrip, 1);
  if (!WriteAndVerify(rt, kRoundTripSize, seed + 1)) return Fail(kStepRoundTrip, 2);
  if (!MapGpaRange(rt, kRoundTripSize, true)) return Fail(kStepRoundTrip, 3);
  if (!WriteAndVerify(rt, kRoundTripSize, seed + 2)) return Fail(kStepRoundTrip, 4);
  Puts("guest: round trip private->shared->private ok\n");

  // 4. Implicit conversion: share a range, then touch it as private memory
  //    without asking; a kernel that tracks the access type exits with
  //    KVM_EXIT_MEMORY_FAULT and the VMM converts it back.
  const uint64_t im = work + kImplicitOff;
  if (!MapGpaRange(im, kImplicitSize, false)) return Fail(kStepImplicit, 1);
  if (!WriteAndVerify(im, kImplicitSize, seed + 3)) return Fail(kStepImplicit, 2);
  Signal(kEvImplicit);

  // 5. Give the message range back to private and check it is usable.
  if (!MapGpaRange(msg, kSharedMsgSize, true)) return Fail(kStepToPrivate, 1);
  if (!WriteAndVerify(msg, kSharedMsgSize, seed + 4)) return Fail(kStepToPrivate, 2);

  Puts("guest: self-check passed\n");
  boot->verdict = kPassMagic;
  Signal(kEvDone);
}
