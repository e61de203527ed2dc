// Pure: the payload file format and the loader.
//
// A payload file is a 48-byte header followed by the flat image:
//   magic "GMEMPAY1", u32 version (1), u32 header size (48),
//   u64 load GPA, u64 entry GPA, u64 image size, u32 memory size beyond the
//   image that must be zero (bss), u32 FNV-1a 32 checksum of the image.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vmm/lib/result.h"

namespace gmem {

struct PayloadHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_size;
  uint64_t load_gpa;
  uint64_t entry_gpa;
  uint64_t image_size;
  uint32_t bss_size;
  uint32_t checksum;
};
static_assert(sizeof(PayloadHeader) == 48);

constexpr char kPayloadMagic[8] = {'G', 'M', 'E', 'M', 'P', 'A', 'Y', '1'};

struct Payload {
  uint64_t load_gpa = 0;
  uint64_t entry_gpa = 0;
  uint64_t bss_size = 0;
  std::vector<uint8_t> image;
};

uint32_t Fnv1a32(std::span<const uint8_t> bytes);
// Serialises a payload (used by the build-time packer and by tests).
std::vector<uint8_t> PackPayload(const Payload& p);
// Validates everything: magic, version, sizes, checksum, entry in image,
// and that it fits in [min_gpa, max_gpa).
Result<Payload> ParsePayload(std::span<const uint8_t> file, uint64_t min_gpa,
                             uint64_t max_gpa);
Result<std::vector<uint8_t>> ReadFile(const std::string& path);
// Copies the image into guest memory (mem[0] is GPA 0) and zeroes the bss.
Status LoadPayload(std::span<uint8_t> mem, const Payload& p);

}  // namespace gmem
