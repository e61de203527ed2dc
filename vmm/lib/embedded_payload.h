// The payload built from vmm/guest, compiled into the binary so a static
// gmem-vmm is self-contained (initramfs).
#pragma once

#include <cstdint>
#include <span>

namespace gmem {
std::span<const uint8_t> EmbeddedPayload();     // default and sw-protected
std::span<const uint8_t> EmbeddedSnpPayload();  // --mode snp (guest/snp.cc)
std::span<const uint8_t> EmbeddedTdxPayload();  // --mode tdx (guest/tdx.cc)
}
