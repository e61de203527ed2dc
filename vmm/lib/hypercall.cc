#include "vmm/lib/hypercall.h"

#include "common/uapi/kvm.h"

namespace gmem {

Result<MapGpaRange> DecodeMapGpaRange(uint64_t nr, const uint64_t args[3]) {
  if (nr != KVM_HC_MAP_GPA_RANGE)
    return Error::Msg("hypercall " + std::to_string(nr) + " is not MAP_GPA_RANGE");
  const uint64_t gpa = args[0], npages = args[1], attrs = args[2];
  const uint64_t known = KVM_MAP_GPA_RANGE_PAGE_SZ_2M |
                         KVM_MAP_GPA_RANGE_PAGE_SZ_1G |
                         KVM_MAP_GPA_RANGE_ENCRYPTED;
  if (attrs & ~known) return Error::Msg("MAP_GPA_RANGE: unknown attribute bits");
  if ((attrs & KVM_MAP_GPA_RANGE_PAGE_SZ_2M) &&
      (attrs & KVM_MAP_GPA_RANGE_PAGE_SZ_1G))
    return Error::Msg("MAP_GPA_RANGE: two page sizes");
  if (gpa & 0xfff) return Error::Msg("MAP_GPA_RANGE: GPA not page aligned");
  if (npages == 0) return Error::Msg("MAP_GPA_RANGE: empty range");
  if (npages > (~0ull >> 12) || gpa + (npages << 12) < gpa)
    return Error::Msg("MAP_GPA_RANGE: range overflows");
  MapGpaRange r;
  r.gpa = gpa;
  r.size = npages << 12;
  r.to_private = attrs & KVM_MAP_GPA_RANGE_ENCRYPTED;
  r.page_size = (attrs & KVM_MAP_GPA_RANGE_PAGE_SZ_1G)   ? 1ull << 30
                : (attrs & KVM_MAP_GPA_RANGE_PAGE_SZ_2M) ? 2ull << 20
                                                         : 4096;
  return r;
}

}  // namespace gmem
