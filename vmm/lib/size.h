// Byte sizes as people write them ("64M", "1G", "4096K", "2097152") and
// addresses as they read them ("0x100000").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vmm/lib/result.h"

namespace gmem {

// -> bytes (suffixes B, K/KiB, M/MiB, G/GiB, T/TiB, any case of the letter).
// 0 is accepted here; callers that need more say so.
Result<uint64_t> ParseSize(const std::string& s);
// "16M,2G" -> sizes; an empty element is an error.
Result<std::vector<uint64_t>> ParseSizeList(const std::string& s);
std::string FormatSize(uint64_t bytes);  // "64 MiB", "1 GiB", "3 KiB", "17 B"
std::string Hex(uint64_t v);             // "0x1f"

}  // namespace gmem
