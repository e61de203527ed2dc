#include "vmm/lib/long_mode.h"

namespace gmem {

void LongModeRegisters(const LongModeState& s, kvm_sregs* sregs, kvm_regs* regs) {
  kvm_segment code{};
  code.base = 0;
  code.limit = 0xffffffff;
  code.selector = 0x8;
  code.type = 0xb;  // execute/read, accessed
  code.present = 1;
  code.dpl = 0;
  code.s = 1;
  code.l = 1;
  code.g = 1;
  kvm_segment data = code;
  data.selector = 0x10;
  data.type = 0x3;  // read/write, accessed
  data.l = 0;
  data.db = 1;
  sregs->cs = code;
  sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;

  sregs->gdt.base = s.gdt_base;
  sregs->gdt.limit = s.gdt_limit;
  sregs->cr3 = s.cr3;
  sregs->cr4 = 1u << 5;                                  // PAE
  sregs->cr0 = (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 16) |
               (1u << 31);                               // PE MP ET NE WP PG
  sregs->efer = (1u << 8) | (1u << 10);                  // LME LMA

  *regs = kvm_regs{};
  regs->rip = s.rip;
  regs->rsp = s.rsp;
  regs->rflags = 0x2;
}

}  // namespace gmem
