// The kernel's log as a test sees it: the records that arrive while a test
// runs, read from /dev/kmsg without consuming them (the harness still
// collects and judges every one).
#pragma once

#include <string>
#include <vector>

#include "selftests/lib/kvm.h"

namespace gmt {

class KmsgWatch {
 public:
  // Starts at the end of the log; valid() is false if /dev/kmsg cannot
  // be read (error() says why).
  KmsgWatch();
  bool valid() const { return fd_.valid(); }
  const std::string& error() const { return error_; }

  // The message text of every record logged since the last call (or since
  // construction), oldest first.
  std::vector<std::string> NewMessages();

  // The new messages that contain |needle| (consumes all new messages).
  std::vector<std::string> NewMessagesWith(const std::string& needle);

 private:
  UniqueFd fd_;
  std::string error_;
};

}  // namespace gmt
