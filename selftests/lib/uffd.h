// An anonymous mapping registered with userfaultfd whose pages stay missing
// until the test says so: the way to make a kernel path block on user
// memory for as long as a test needs, e.g. to see which locks it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "selftests/lib/kvm.h"

namespace gmt {

class UserfaultRegion {
 public:
  // |len| bytes, page aligned.  Check ok()/error().
  explicit UserfaultRegion(size_t len);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  uint8_t* data() const { return map_.data(); }
  size_t size() const { return map_.size(); }
  int fd() const { return uffd_.get(); }

  // Waits up to |ms| for a fault to be reported; returns its address or 0.
  uint64_t WaitFault(int ms);
  // Makes the page at |offset| present (zero-filled); wakes the faulter.
  int Resolve(size_t offset);

 private:
  Mapping map_;
  UniqueFd uffd_;
  std::string error_;
};

}  // namespace gmt
