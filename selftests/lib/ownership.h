// Software ownership of the private memory of SW-protected VMs
// (kvm.sw_protected_unmap_private): a private page that the guest uses is
// not in the kernel's direct map, so a host kernel access to it faults.
// Tests observe it through /dev/mem, which reads RAM through the direct map
// (the test kernel has DEVMEM without STRICT_DEVMEM).
#pragma once

#include <cstdint>
#include <string>

namespace gmt {

// 1 if ownership is on, 0 if off, -errno if this kernel has no such
// parameter (then private memory stays in the direct map).
int SwOwnership();

// Turns ownership on or off; 0 or -errno.  Pages taken earlier are given
// back as usual either way.
int SetSwOwnership(bool on);

// Sets ownership for its lifetime, then restores what it found.  Does
// nothing on a kernel without the parameter.
class SwOwnershipScope {
 public:
  explicit SwOwnershipScope(bool on);
  ~SwOwnershipScope();
  SwOwnershipScope(const SwOwnershipScope&) = delete;
  SwOwnershipScope& operator=(const SwOwnershipScope&) = delete;

 private:
  int saved_;
};

// Sets kvm.sw_protected_prepare_ahead (how many private pages, in aligned
// blocks, a guest's first use of one prepares together) for its lifetime,
// then restores it; ok() is false on a kernel without the parameter.
class PrepareAheadScope {
 public:
  explicit PrepareAheadScope(unsigned pages);
  ~PrepareAheadScope();
  PrepareAheadScope(const PrepareAheadScope&) = delete;
  PrepareAheadScope& operator=(const PrepareAheadScope&) = delete;
  bool ok() const { return ok_; }

 private:
  std::string saved_;
  bool ok_ = false;
};

// The pfn that backs |addr| in this process (/proc/self/pagemap, which
// shows pfns to CAP_SYS_ADMIN only), 0 if no page is mapped there, or
// -errno cast to uint64_t on error: check with PfnOk().
uint64_t PfnOf(const void* addr);
inline bool PfnOk(uint64_t pfn) { return pfn != 0 && pfn < (1ULL << 55); }

// Reads the 4096 bytes of page |pfn| into |buf| through the kernel's
// direct map: 0, or -errno (-EFAULT: the page is not in the direct map).
int ReadPhysPage(uint64_t pfn, void* buf);

}  // namespace gmt
