#include "vmm/lib/guest_memory.h"

#include <sys/mman.h>

#include "vmm/lib/size.h"
#include "vmm/lib/vm.h"
#include "common/uapi/kvm.h"

namespace gmem {

Result<MemoryPlan> PlanGuestMemory(Mode mode, Backing backing, uint64_t size,
                                   bool anon_small_pages) {
  MemoryPlan p;
  p.size = size;
  p.guest_memfd = backing == Backing::kGuestMemfd;
  p.anon_small_pages = anon_small_pages;
  if (mode == Mode::kSwProtected) {
    if (!p.guest_memfd)
      return Error::Msg(std::string("mode sw-protected needs guest_memfd "
                                    "backing, not ") + BackingName(backing) +
                            ": its private memory lives only there",
                        ErrorKind::kInvalidArgument);
    // Private file, shared copy in anonymous memory.
    p.private_memory = true;
    return p;
  }
  if (p.guest_memfd) {
    // No private memory in a default VM: all of it shared, in the file.
    p.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
    p.view_from_gmem = true;
  }
  return p;
}

Result<GuestMemory> GuestMemory::Create(const Vm& vm, const MemoryPlan& plan) {
  const uint64_t size = plan.size;
  std::unique_ptr<GuestMemfd> gmem;
  if (plan.guest_memfd)
    gmem = std::make_unique<GuestMemfd>(
        GMEM_TRY_CTX(GuestMemfd::Create(vm, size, plan.gmem_flags),
                     "creating guest_memfd of " + FormatSize(size)));

  Mapping view;
  if (plan.view_from_gmem) {
    view = GMEM_TRY_CTX(gmem->Map(), "mapping guest_memfd");
  } else {
    // 2 MiB aligned, so that transparent hugepages can back it everywhere.
    view = Mapping::MapAnonAligned(size, 2 << 20, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_NORESERVE);
    if (!view.valid())
      return Error::Sys("mmap(anonymous, " + FormatSize(size) + ")", errno,
                        "ask for less guest RAM", ErrorKind::kResourceExhausted);
    if (plan.anon_small_pages && ::madvise(view.data(), size, MADV_NOHUGEPAGE) < 0)
      return Error::Sys("madvise(MADV_NOHUGEPAGE)", errno);
  }

  MemslotSpec spec;
  spec.slot = 0;
  spec.gpa = 0;
  spec.size = size;
  spec.host = view.data();
  if (gmem) spec.gmem_fd = gmem->fd();
  Memslot slot = GMEM_TRY_CTX(Memslot::Add(vm, spec), "adding the memslot");

  std::unique_ptr<ConversionBackend> conv =
      plan.private_memory
          ? MakeAttributesPunchBackend(vm, *gmem, view.data(), size)
          : MakeSharedOnlyBackend(size);
  return GuestMemory(std::move(gmem), std::move(view), std::move(slot),
                     std::move(conv), plan.private_memory);
}

}  // namespace gmem
