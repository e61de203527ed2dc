// Guest RAM: the backing (guest_memfd or anonymous memory), the host's view
// of it, the memslot that gives it to the VM and the conversion backend that
// moves pages between private and shared.  One slot at GPA 0, file offset 0.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "vmm/lib/config.h"
#include "vmm/lib/conversion.h"
#include "vmm/lib/guest_memfd.h"
#include "vmm/lib/memslot.h"
#include "vmm/lib/result.h"
#include "vmm/lib/unique_fd.h"

namespace gmem {

class Vm;

// Pure: how a mode and backing are laid out.  The combinations that cannot
// work are refused here (sw-protected memory is private, which only
// guest_memfd can hold), so GuestMemory never meets them.
struct MemoryPlan {
  uint64_t size = 0;
  bool guest_memfd = false;    // RAM in a guest_memfd file
  uint64_t gmem_flags = 0;     // KVM_CREATE_GUEST_MEMFD flags
  bool view_from_gmem = false; // host view: mmap of the file (else anonymous)
  bool anon_small_pages = false;  // anonymous view: MADV_NOHUGEPAGE
  bool private_memory = false; // some RAM private (else shared-only backend)
  bool in_place = false;       // private memory converted inside the file
};
// conversion: resolved (ResolveConversion), used with private memory only.
Result<MemoryPlan> PlanGuestMemory(Mode mode, Backing backing, uint64_t size,
                                   bool anon_small_pages,
                                   Conversion conversion = Conversion::kAttributes);

// How much memory the guest's RAM holds on the host right now.
struct Footprint {
  uint64_t gmem_bytes = 0;  // pages in guest_memfd, private and shared
  uint64_t anon_bytes = 0;  // resident anonymous pages of the host view
  std::string how;          // how gmem_bytes was measured
};

class GuestMemory {
 public:
  // vm must outlive the GuestMemory.
  static Result<GuestMemory> Create(const Vm& vm, const MemoryPlan& plan);

  // The host's (shared) view, also the memslot's userspace_addr: host()[0]
  // is GPA 0.
  std::span<uint8_t> host() const { return {view_.data(), view_.size()}; }
  uint64_t size() const { return view_.size(); }
  const GuestMemfd* gmem() const { return gmem_.get(); }  // null: anonymous
  // Some of it can be private (and then lives only in gmem()).
  bool has_private_memory() const { return private_; }
  ConversionBackend& conversion() { return *conv_; }
  // mincore() of the mappings; for a guest_memfd that cannot be mapped, the
  // growth of the host's unevictable memory since Create() (guest_memfd
  // pages are unevictable), which counts anything else that grew it too.
  Result<Footprint> MeasureFootprint() const;
  const ConversionBackend& conversion() const { return *conv_; }

 private:
  GuestMemory(std::unique_ptr<GuestMemfd> gmem, Mapping view, Memslot slot,
              std::unique_ptr<ConversionBackend> conv, const MemoryPlan& plan,
              uint64_t unevictable_at_start)
      : gmem_(std::move(gmem)),
        view_(std::move(view)),
        slot_(std::move(slot)),
        conv_(std::move(conv)),
        private_(plan.private_memory),
        view_from_gmem_(plan.view_from_gmem),
        unevictable_at_start_(unevictable_at_start) {}

  // Destroyed in reverse: the backend, then the slot, then what it pointed
  // at.  The file is on the heap so the backend's reference to it survives
  // a move.
  std::unique_ptr<GuestMemfd> gmem_;
  Mapping view_;
  Memslot slot_;
  std::unique_ptr<ConversionBackend> conv_;
  bool private_;
  bool view_from_gmem_;
  uint64_t unevictable_at_start_;  // bytes, /proc/meminfo
};

}  // namespace gmem
