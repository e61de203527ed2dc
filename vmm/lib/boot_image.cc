#include "vmm/lib/boot_image.h"

#include <cstring>

#include "vmm/guest/abi.h"

namespace gmem {

Result<BootImage> WriteBootImage(std::span<uint8_t> mem, const Payload& payload,
                                 const BootParams& params) {
  const uint64_t ram = mem.size();
  if (ram < abi::kMinRam)
    return Error::Msg("boot image: guest RAM below the minimum",
                      ErrorKind::kInvalidArgument);
  BootImage img{};
  img.page_tables =
      GMEM_TRY(PlanIdentityMap(abi::kPageTableGpa, abi::kPageTableEnd, ram));
  GMEM_TRY(WriteIdentityMap(mem, img.page_tables));
  GMEM_TRY(WriteGdt(mem, abi::kGdtGpa));
  GMEM_TRY(LoadPayload(mem, payload));

  img.boot_info_gpa = abi::kBootInfoGpa;
  img.work_gpa = abi::kWorkGpa;
  img.work_size = ram - abi::kWorkGpa;
  if (params.bench_only && params.fill_limit && params.fill_limit < img.work_size)
    img.work_size = params.fill_limit;
  img.fill_seed = 0x5eed0000ull + ram;

  abi::BootInfo bi{};
  bi.magic = abi::kBootMagic;
  bi.version = 1;
  bi.mode = params.abi_mode;
  bi.ram_size = ram;
  bi.work_gpa = img.work_gpa;
  bi.work_size = img.work_size;
  bi.fill_seed = img.fill_seed;
  bi.bench_only = params.bench_only;
  bi.flags = params.flags;
  std::memcpy(mem.data() + img.boot_info_gpa, &bi, sizeof bi);

  img.cpu = {img.page_tables.pml4_gpa, abi::kGdtGpa, kGdtLimit,
             payload.entry_gpa, abi::kStackTop};
  return img;
}

}  // namespace gmem
