// Port I/O devices: a handler per port, looked up on every KVM_EXIT_IO.
// OUT to an unclaimed port is ignored; IN reads all ones (no device here
// answers reads), as on a bus with nothing behind it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>

#include "vmm/lib/result.h"
#include "vmm/lib/vcpu_exit.h"

namespace gmem {

class PortIoBus {
 public:
  // data: size * count bytes the guest wrote.
  using OutHandler =
      std::function<Status(std::span<const uint8_t> data, uint8_t size)>;

  // One handler per port; registering a port twice is a programming error.
  void Register(uint16_t port, OutHandler handler);
  Status Dispatch(const IoExit& io) const;

 private:
  std::map<uint16_t, OutHandler> out_;
};

}  // namespace gmem
