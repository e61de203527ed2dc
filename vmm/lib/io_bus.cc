#include "vmm/lib/io_bus.h"

#include <cassert>
#include <cstring>

namespace gmem {

void PortIoBus::Register(uint16_t port, OutHandler handler) {
  [[maybe_unused]] bool added = out_.emplace(port, std::move(handler)).second;
  assert(added);
}

Status PortIoBus::Dispatch(const IoExit& io) const {
  if (io.in) {
    std::memset(io.data.data(), 0xff, io.data.size());
    return Ok{};
  }
  auto it = out_.find(io.port);
  if (it == out_.end()) return Ok{};
  return it->second(io.data, io.size);
}

}  // namespace gmem
