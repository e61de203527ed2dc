// The checker: one thread per VM that owns a region of it (a slot id, a
// range of guest physical addresses, a guest_memfd, a vCPU and a shared
// mapping) which no fuzz thread touches, so it knows exactly what the guest
// must see there while everything around it changes.  It checks that
//  - a private page reads back what the guest last wrote to it, and zero
//    after a hole was punched over it (also after pre-faults, conversions
//    both ways, allocations and re-binding the slot elsewhere in the file);
//  - a shared page reads what the host's mapping holds, and a guest write
//    to it lands there;
//  - Fill then Sum gives the right sum, over private or shared pages;
//  - private data never appears in the shared mapping;
//  - after its guest_memfd is closed, a private access fails with a
//    memory-fault exit instead of reaching freed memory;
//  - a page it offered for memory failure (poison.h) refuses private
//    accesses and pre-faults with EHWPOISON once poisoned (or, through a
//    mapping made before, reads what was last written, until that mapping
//    is gone), and reads zero after a punched hole.
// Its calls are checked against the model like every other call.
#pragma once

#include "selftests/fuzz/context.h"

namespace fuzz {

// Guest physical layout of the checker's region in every VM.
constexpr uint64_t kCheckGpa = 64ULL << 20;
constexpr uint64_t kCheckPages = 64;
constexpr uint64_t kCheckGmemPages = 2 * kCheckPages;
constexpr uint32_t kCheckSlot = 100;

// Runs the checker of VM |vm_index| until the run stops.
void CheckerThread(ThreadCtx& ctx, unsigned vm_index);

// Draws a checker's next step from |rng| and describes it ("chk_read page
// 3 dword 17"), as --dry-run prints it.
std::string DrawCheckerStep(Rng& rng);

}  // namespace fuzz
