// One memslot, removed again when the object goes away.
#pragma once

#include <cstdint>

#include "vmm/lib/result.h"

namespace gmem {

class Vm;

struct MemslotSpec {
  uint32_t slot = 0;
  uint64_t gpa = 0;
  uint64_t size = 0;
  void* host = nullptr;   // userspace_addr: the shared view
  int gmem_fd = -1;       // >= 0: KVM_MEM_GUEST_MEMFD, private view
  uint64_t gmem_offset = 0;
};

class Memslot {
 public:
  static Result<Memslot> Add(const Vm& vm, const MemslotSpec& spec);
  Memslot(Memslot&& o) noexcept;
  Memslot& operator=(Memslot&&) = delete;
  Memslot(const Memslot&) = delete;
  ~Memslot();

 private:
  Memslot(const Vm* vm, MemslotSpec spec) : vm_(vm), spec_(spec) {}
  const Vm* vm_;
  MemslotSpec spec_;
};

}  // namespace gmem
