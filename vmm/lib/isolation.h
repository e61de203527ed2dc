// Mode 2: show that the host cannot see private guest memory.
#pragma once

#include <cstdint>
#include <string>

namespace gmem {

class GuestMemfd;

// gpa: a private page the guest has filled with abi::FillPattern(gpa, seed)
// (memslot offset 0 == GPA 0).  Tries read() and mmap() of guest_memfd at
// that offset and looks in the shared view (shared[0] is GPA 0).  Returns a
// one-line account; *isolated is false if any of them shows guest data.
std::string HostIsolationCheck(const GuestMemfd& gmem, const uint8_t* shared,
                               uint64_t gpa, uint64_t seed, bool* isolated);

}  // namespace gmem
