// Owning file descriptor and owning mmap() mapping, for every C++ program of
// the project (the VMM, the selftests, gmem_fuzz, the benchmarks, kvm_smoke
// and patchq).  Both are move-only; neither touches errno on success paths,
// so a caller can report why the call that produced an invalid one failed.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace common {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Owns |fd|; a negative value (a failed open()/ioctl()) makes it invalid.
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing, e.g. to close() it and check that.
  int release() { return std::exchange(fd_, -1); }
  // Closes the descriptor held, if any, and owns |fd| instead.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

class Mapping {
 public:
  Mapping() = default;
  // Owns the |size| bytes mapped at |addr|; nullptr or MAP_FAILED make it
  // invalid.
  Mapping(void* addr, size_t size)
      : addr_(addr == MAP_FAILED ? nullptr : addr), size_(addr_ ? size : 0) {}
  // mmap(NULL, size, prot, flags, fd, offset); invalid, with errno set, if
  // that fails.
  static Mapping Map(size_t size, int prot, int flags, int fd, off_t offset) {
    return Mapping(::mmap(nullptr, size, prot, flags, fd, offset), size);
  }
  // Anonymous memory at an address aligned to |align| (a power of two), as a
  // VMM wants guest RAM: aligned to 2 MiB, transparent hugepages can back it
  // on kernels that do not align large anonymous mappings themselves (before
  // 6.7).  mmap(NULL, size, prot, flags | MAP_ANONYMOUS, -1, 0) otherwise;
  // invalid, with errno set, if that fails.
  static Mapping MapAnonAligned(size_t size, size_t align, int prot, int flags) {
    Mapping whole = Map(size + align, prot, flags | MAP_ANONYMOUS, -1, 0);
    if (!whole.valid()) return whole;
    const auto base = reinterpret_cast<uintptr_t>(whole.data());
    const uintptr_t start = (base + align - 1) & ~(uintptr_t{align} - 1);
    void* addr = whole.release();
    // Give back the head (if any) and the tail, keep the aligned middle.
    if (start > base) Mapping(addr, start - base).reset();
    Mapping(reinterpret_cast<void*>(start + size), base + align - start).reset();
    return Mapping(reinterpret_cast<void*>(start), size);
  }
  Mapping(Mapping&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      addr_ = std::exchange(o.addr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
  size_t size() const { return size_; }
  bool valid() const { return addr_ != nullptr; }
  // Forgets the mapping without unmapping it; returns its address.
  void* release() {
    size_ = 0;
    return std::exchange(addr_, nullptr);
  }
  // Unmaps, if anything is mapped.
  void reset() {
    if (addr_) ::munmap(addr_, size_);
    addr_ = nullptr;
    size_ = 0;
  }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace common
