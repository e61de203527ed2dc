// Pure: decoding KVM_EXIT_HYPERCALL for KVM_HC_MAP_GPA_RANGE.
#pragma once

#include <cstdint>

#include "vmm/lib/result.h"

namespace gmem {

struct MapGpaRange {
  uint64_t gpa;
  uint64_t size;      // bytes
  bool to_private;    // ENC_STAT: encrypted == private
  uint64_t page_size; // 4K, 2M or 1G granule the guest asked for
};

// nr and args as in kvm_run.hypercall.  Errors: wrong nr, unaligned or
// empty range, overflow, unknown attribute bits.
Result<MapGpaRange> DecodeMapGpaRange(uint64_t nr, const uint64_t args[3]);

// Values for kvm_run.hypercall.ret.
constexpr uint64_t kHcOk = 0;
constexpr uint64_t kHcEinval = static_cast<uint64_t>(-22);  // -KVM_EINVAL
constexpr uint64_t kHcEnosys = static_cast<uint64_t>(-1000);  // -KVM_ENOSYS

}  // namespace gmem
