// The one place where a GPA range changes between private and shared.
//
// Backends:
//  - SharedOnly: a default VM has no private memory.  Requests are recorded
//    (and counted in the summary) but memory stays shared.
//  - AttributesPunch: KVM_SET_MEMORY_ATTRIBUTES, then free the side that is
//    no longer used: punch a hole in guest_memfd when going shared, drop the
//    shared (anonymous) pages when going private.
//  - InPlace: KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd, which holds
//    all of guest RAM, shared and private, once; nothing to free.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "vmm/lib/result.h"

namespace gmem {

class Vm;
class GuestMemfd;

// Pure: per-4KiB-page private/shared state of guest RAM.
class PageStates {
 public:
  explicit PageStates(uint64_t ram_size) : private_(ram_size >> 12, false) {}
  // Returns the number of pages whose state changed.
  uint64_t Set(uint64_t gpa, uint64_t size, bool is_private);
  bool IsPrivate(uint64_t gpa) const { return private_.at(gpa >> 12); }
  uint64_t CountPrivate() const;
  uint64_t pages() const { return private_.size(); }
  bool Contains(uint64_t gpa, uint64_t size) const {
    return size <= (pages() << 12) && gpa <= (pages() << 12) - size;
  }

 private:
  std::vector<bool> private_;
};

class ConversionBackend {
 public:
  explicit ConversionBackend(uint64_t ram_size) : states_(ram_size) {}
  virtual ~ConversionBackend() = default;
  virtual const char* name() const = 0;
  // Make [gpa, gpa + size) private or shared.
  virtual Status Convert(uint64_t gpa, uint64_t size, bool to_private) = 0;
  const PageStates& states() const { return states_; }

 protected:
  PageStates states_;
};

std::unique_ptr<ConversionBackend> MakeSharedOnlyBackend(uint64_t ram_size);
// gmem: created with GUEST_MEMFD_FLAG_MMAP | INIT_SHARED, all of guest RAM.
std::unique_ptr<ConversionBackend> MakeInPlaceBackend(const GuestMemfd& gmem,
                                                      uint64_t ram_size);
// host_shared: the memslot's userspace_addr mapping (covers all RAM).
std::unique_ptr<ConversionBackend> MakeAttributesPunchBackend(
    const Vm& vm, const GuestMemfd& gmem, uint8_t* host_shared,
    uint64_t ram_size);

}  // namespace gmem
