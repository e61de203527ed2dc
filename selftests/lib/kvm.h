// Small RAII helpers for the ABI tests: file descriptors, mappings, a VM
// with a vCPU that runs 32-bit flat protected-mode code, and the ioctls the
// tests poke at.  Failures return -errno so tests can assert exact errnos.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "common/fd.h"
#include "common/uapi/kvm.h"

namespace gmt {

using common::Mapping;
using common::UniqueFd;

// -errno of the last failing call, or the call's non-negative result.
long Ioctl(int fd, unsigned long req, const void* arg);
long Ioctl(int fd, unsigned long req, unsigned long arg);

// /dev/kvm, or an invalid UniqueFd if it cannot be opened.
UniqueFd OpenKvm();
long CheckExtension(int fd, long cap);
// True when KVM_CAP_VM_TYPES lists |type|.
bool VmTypeSupported(int kvm, unsigned type);

struct Region2 {
  uint32_t slot = 0;
  uint32_t flags = 0;
  uint64_t gpa = 0;
  uint64_t size = 0;
  uint64_t hva = 0;
  uint64_t gmem_offset = 0;
  int gmem_fd = -1;
};
long SetRegion2(int vm, const Region2& r);
long CreateGuestMemfd(int vm, uint64_t size, uint64_t flags);
long SetAttributes(int vm, uint64_t gpa, uint64_t size, uint64_t attrs, uint64_t flags = 0);
// KVM_SET_MEMORY_ATTRIBUTES2 on guest_memfd |gmem| (in-place conversion);
// *error_offset gets what the kernel left there (~0 if it wrote nothing).
long SetAttributes2(int gmem, uint64_t offset, uint64_t size, uint64_t attrs,
                    uint64_t* error_offset = nullptr);
// A memory slot bound to guest_memfd |gmem_fd| from offset 0, with
// userspace_addr |hva| (for a gmem-only slot, the file's own mapping).
Region2 GmemSlot(uint32_t slot, uint64_t gpa, uint64_t size, const void* hva, int gmem_fd);

// A guest that loops serving commands from port kCmdPort: the host answers
// each IN with the next word of the current command; see lib/guest.S.
enum GuestOp : uint32_t {
  kOpHalt = 0,
  kOpWrite = 1,  // addr, value: *addr = value; OUT ack
  kOpRead = 2,   // addr: OUT *addr
  kOpFill = 3,   // addr, dwords, value, passes: write value over the range
                 // |passes| times, then OUT the number of dwords written
  kOpSum = 4,    // addr, dwords: OUT the 32-bit sum of the range
  kOpTouch = 5,  // addr, pages, value: write value to the first dword of
                 // each 4 KiB page, then OUT the number of pages touched
};
constexpr uint16_t kCmdPort = 0x20;

// The guest's code and stack live in a 64 KiB anonymous "boot" slot at
// kBootGpa; tests add their own slots above it.
constexpr uint64_t kBootGpa = 0x0;
constexpr uint64_t kBootSize = 0x10000;
constexpr uint32_t kBootSlot = 0;

// Copies the guest into |boot| (a kBootSize read-write mapping) and makes it
// slot kBootSlot of |vm|.  Returns 0 or -errno.
long InstallGuest(int vm, const Mapping& boot);
// Puts |vcpu| at the guest's entry point in flat 32-bit protected mode, as
// after creation: any command in progress is forgotten.  Only safe while no
// exit awaits completion (after creation, a memory-fault exit or EINTR).
// Returns 0 or -errno.
long EnterGuest(int vcpu);
// Whether |rip| lies within the guest's code (a vCPU outside it went astray).
bool GuestRipInCode(uint64_t rip);

// How a guest command ended.
struct CommandResult {
  bool ok = false;  // the guest answered |value|
  uint32_t value = 0;
  uint32_t exit_reason = 0;
  int err = 0;  // errno of KVM_RUN, if it failed
  std::string what;
};

// The host side of the command protocol for one vCPU: feeds the words of
// the command in progress to the guest's INs and returns at its OUT.
class GuestChannel {
 public:
  void Start(GuestOp op, std::initializer_list<uint32_t> args);
  // Forgets the command in progress (the vCPU was put back at the entry).
  void Reset() { npending_ = next_ = 0; }
  // Runs |vcpu| until the guest answers or stops for another reason; call
  // again to continue after the caller handled that exit.
  CommandResult Run(int vcpu, kvm_run* run);

 private:
  uint32_t pending_[8] = {};
  unsigned npending_ = 0, next_ = 0;
};

class TestVm {
 public:
  // Creates a VM of |type| with the boot slot and one vCPU in flat 32-bit
  // protected mode.  Check ok()/error() before use.
  explicit TestVm(unsigned type = 0);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int kvm() const { return kvm_.get(); }
  int vm() const { return vm_.get(); }
  int vcpu() const { return vcpu_.get(); }
  kvm_run* run() const { return reinterpret_cast<kvm_run*>(run_map_.data()); }

  // Runs one command.  |ok| with the value the guest OUTs, or !ok with
  // the exit filled in when the guest stopped for another reason.
  using Result = CommandResult;
  Result Command(GuestOp op, std::initializer_list<uint32_t> args) {
    channel_.Start(op, args);
    return channel_.Run(vcpu_.get(), run());
  }
  // Continues a command after the host handled an exit (e.g. memory fault).
  Result Resume() { return channel_.Run(vcpu_.get(), run()); }

 private:
  UniqueFd kvm_, vm_, vcpu_;
  Mapping boot_, run_map_;
  GuestChannel channel_;
  std::string error_;
};

}  // namespace gmt
