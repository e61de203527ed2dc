#include "vmm/lib/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "vmm/lib/size.h"
#include "vmm/lib/vm.h"
#include "common/uapi/kvm.h"

namespace gmem {

namespace {

// /proc/meminfo's Unevictable, in bytes (0 if unreadable).
uint64_t UnevictableBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  uint64_t kib = 0;
  while (in >> key >> kib >> unit)
    if (key == "Unevictable:") return kib << 10;
  return 0;
}

// Resident pages of [p, p + len), by mincore(): for a file mapping, pages
// in the file's page cache, mapped or not.
Result<uint64_t> ResidentBytes(const uint8_t* p, uint64_t len) {
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((len + page - 1) / page);
  if (::mincore(const_cast<uint8_t*>(p), len, vec.data()) < 0)
    return Error::Sys("mincore(guest RAM)", errno);
  uint64_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n * page;
}

}  // namespace

Result<MemoryPlan> PlanGuestMemory(Mode mode, Backing backing, uint64_t size,
                                   bool anon_small_pages, Conversion conversion) {
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
    p.private_memory = true;
    if (conversion == Conversion::kInPlace) {
      // One file for all of RAM, mapped for the host's (shared) view; the
      // boot region stays shared, the rest is converted before the guest
      // runs.
      p.in_place = true;
      p.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
      p.view_from_gmem = true;
    }
    // Otherwise a private file and the shared copy in anonymous memory.
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
  const uint64_t unevictable = UnevictableBytes();
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
      !plan.private_memory ? MakeSharedOnlyBackend(size)
      : plan.in_place      ? MakeInPlaceBackend(*gmem, size)
                           : MakeAttributesPunchBackend(vm, *gmem, view.data(), size);
  return GuestMemory(std::move(gmem), std::move(view), std::move(slot),
                     std::move(conv), plan, unevictable);
}

Result<Footprint> GuestMemory::MeasureFootprint() const {
  Footprint f;
  const uint64_t resident = GMEM_TRY(ResidentBytes(view_.data(), view_.size()));
  if (view_from_gmem_) {
    f.gmem_bytes = resident;
    f.how = "mincore";
    return f;
  }
  f.anon_bytes = resident;
  if (gmem_) {
    const uint64_t now = UnevictableBytes();
    f.gmem_bytes = now > unevictable_at_start_ ? now - unevictable_at_start_ : 0;
    f.how = "Unevictable growth";
  }
  return f;
}

}  // namespace gmem
