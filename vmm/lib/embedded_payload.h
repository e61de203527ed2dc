// The payload built from vmm/guest, compiled into the binary so a static
// gmem-vmm is self-contained (initramfs).
#pragma once

#include <cstdint>
#include <span>

namespace gmem {
std::span<const uint8_t> EmbeddedPayload();
}
