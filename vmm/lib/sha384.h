// SHA-384 (FIPS 180-4), for the launch measurements the VMM predicts: the
// SEV-SNP launch digest and the TDX MRTD.  Small, own implementation: no
// crypto library is part of the Bazel workspace.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace gmem {

using Digest384 = std::array<uint8_t, 48>;

class Sha384 {
 public:
  Sha384();
  void Update(std::span<const uint8_t> data);
  Digest384 Final();  // the object is spent afterwards

 private:
  void Block(const uint8_t* p);
  std::array<uint64_t, 8> h_;
  std::array<uint8_t, 128> buf_{};
  size_t used_ = 0;
  uint64_t total_ = 0;  // bytes (inputs here are far below 2^61)
};

Digest384 Sha384Of(std::span<const uint8_t> data);
std::string Hex(std::span<const uint8_t> bytes);

}  // namespace gmem
