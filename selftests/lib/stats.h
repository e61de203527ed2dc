// Reading one counter from a KVM binary statistics fd (KVM_GET_STATS_FD),
// e.g. a vCPU's "pf_taken", so tests can assert that a path was (not) taken.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gmt {

// The value of the statistic |name| of the VM or vCPU |fd|, or nullopt if
// the kernel has no stats fd or no such statistic.
std::optional<uint64_t> ReadStat(int fd, const std::string& name);

}  // namespace gmt
