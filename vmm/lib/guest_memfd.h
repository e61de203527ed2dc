// A guest_memfd file: create, map (when the kernel allows), punch holes.
#pragma once

#include <cstdint>

#include "vmm/lib/result.h"
#include "vmm/lib/unique_fd.h"

namespace gmem {

class Vm;

class GuestMemfd {
 public:
  static Result<GuestMemfd> Create(const Vm& vm, uint64_t size, uint64_t flags);

  int fd() const { return fd_.get(); }
  uint64_t size() const { return size_; }

  // mmap() of the whole file, shared; needs GUEST_MEMFD_FLAG_MMAP.
  Result<Mapping> Map() const;
  Status PunchHole(uint64_t offset, uint64_t len) const;
  // KVM_SET_MEMORY_ATTRIBUTES2: converts [offset, offset + len) in place.
  // EAGAIN (a page still referenced from elsewhere, at *error_offset) is
  // returned as such, for the caller to retry.
  Status SetAttributes(uint64_t offset, uint64_t len, uint64_t attributes,
                       uint64_t* error_offset = nullptr) const;

 private:
  GuestMemfd(UniqueFd fd, uint64_t size) : fd_(std::move(fd)), size_(size) {}
  UniqueFd fd_;
  uint64_t size_;
};

}  // namespace gmem
