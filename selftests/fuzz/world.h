// The objects the fuzzer's threads share: a few SW-protected VMs, each with
// tables of guest_memfd files and vCPUs, and the model of its memslots.
//
// Every fd lives in a Handle.  A thread that uses an object takes its own
// dup() of the fd for that one op, so another thread may close the object
// at any moment (its fd number is closed at once, the file lives on until
// the last user's dup is closed) without anyone ever acting on a reused fd
// number.  Objects are held by shared_ptr; when a VM's fd is closed, the
// next op that needs it may replace the VM with a fresh one.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "selftests/fuzz/model.h"
#include "selftests/lib/kvm.h"

namespace fuzz {

// Guest physical layout of every VM.
constexpr uint64_t kWindowGpa = 16ULL << 20;    // where the fuzz threads' slots go
constexpr uint64_t kWindowPages = 4096;         // 16 MiB
constexpr uint64_t kFarGpa = 4ULL << 30;        // slot-less attribute ranges, far slots
constexpr uint64_t kFarPages = 1ULL << 18;      // 1 GiB
constexpr uint64_t kSharedBytes = 32ULL << 20;  // the VM's shared backing for slots
constexpr unsigned kGmemsPerVm = 6;
constexpr unsigned kVcpusPerVm = 3;
constexpr uint32_t kMaxFuzzSlot = 12;  // fuzz threads use slot ids 1..12
// With in-place conversion, guest_memfd 1 of every new VM (bound at slot 2)
// is mappable and starts shared, guest_memfd 5 is mappable and starts
// private; the others are not mappable.
constexpr unsigned kSharedGmem = 1, kPrivateGmem = 5;
// Where a new VM's slot 2 binds the first kPopulatedPages of guest_memfd 1.
constexpr uint64_t kPopulatedPages = 64;
constexpr uint64_t kSlot2Gpa = kWindowGpa + (kWindowPages / 2) * kPage;
// The host maps at most this much of a mappable guest_memfd.
constexpr uint64_t kGmemMapBytes = 4ULL << 20;

class Handle {
 public:
  explicit Handle(gmt::UniqueFd fd) : fd_(std::move(fd)) {}
  // A private duplicate for one op; invalid once Close() ran.
  gmt::UniqueFd Dup() const;
  // Closes the fd.  Returns close()'s errno, or -1 if it was closed already.
  int Close();
  bool closed() const;

 private:
  mutable std::mutex mu_;
  gmt::UniqueFd fd_;
};

struct GmemObj {
  GmemObj(uint64_t id, uint64_t size, uint64_t flags, gmt::UniqueFd fd, gmt::Mapping map)
      : id(id), size(size), flags(flags), fd(std::move(fd)), map(std::move(map)) {}
  const uint64_t id;
  const uint64_t size;
  const uint64_t flags;  // KVM_CREATE_GUEST_MEMFD's
  Handle fd;
  // A file created with GUEST_MEMFD_FLAG_MMAP: its first kGmemMapBytes (at
  // most) mapped shared, for host accesses.  The mapping keeps the file
  // open after |fd| is closed, until the last user lets go of the object.
  const gmt::Mapping map;
};

// steady_clock now, in ns: the time base of VcpuObj's run records.
inline int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct VcpuObj {
  VcpuObj(uint64_t id, uint64_t vcpu_id, gmt::UniqueFd fd, gmt::Mapping run)
      : id(id), vcpu_id(vcpu_id), fd(std::move(fd)), run_map(std::move(run)) {}
  kvm_run* run() const { return reinterpret_cast<kvm_run*>(run_map.data()); }
  const uint64_t id;
  const uint64_t vcpu_id;
  Handle fd;
  const gmt::Mapping run_map;
  // Held by the one thread that runs a guest command on this vCPU.
  std::mutex busy;
  gmt::GuestChannel channel;  // guarded by busy
  // When the latest KVM_RUN of a guest command started and ended
  // (steady_clock ns; end 0 while it runs), and the latest one that took
  // longer than a second.  KVM_RUN holds the vCPU's mutex, so another
  // thread's vCPU ioctl waits behind it.
  std::atomic<int64_t> run_start_ns{0};
  std::atomic<int64_t> run_end_ns{0};
  std::atomic<int64_t> long_run_start_ns{0};
  std::atomic<int64_t> long_run_end_ns{0};
};

class VmObj {
 public:
  VmObj(uint64_t id, gmt::UniqueFd fd) : id(id), fd(std::move(fd)) {}
  const uint64_t id;
  Handle fd;
  gmt::Mapping boot;    // the guest's code, slot 0
  gmt::Mapping shared;  // kSharedBytes that slots' userspace_addr point into

  // The objects the fuzz threads share, guarded by mu.
  std::mutex mu;
  std::array<std::shared_ptr<GmemObj>, kGmemsPerVm> gmems;
  std::array<std::shared_ptr<VcpuObj>, kVcpusPerVm> vcpus;

  // Held across every memslot call and vCPU creation, so the model is exact.
  std::mutex slots_mu;
  Memslots slots;
  std::set<uint64_t> vcpu_ids;  // of every vCPU created, closed or not
  uint64_t next_vcpu_id = 0;
};

class World {
 public:
  // Opens /dev/kvm and creates |nvms| VMs, each with its guest_memfds and
  // vCPUs and two guest_memfd slots in the window, all drawn from |seed|;
  // check error().
  World(const Env& env, unsigned nvms, uint64_t seed);
  const std::string& error() const { return error_; }
  const Env& env() const { return env_; }
  unsigned nvms() const { return static_cast<unsigned>(vms_.size()); }

  // The current VM of slot |i| (its fd may be closed).
  std::shared_ptr<VmObj> Vm(unsigned i);
  // Replaces VM |i| with a new, populated one if |dead| is still current;
  // returns the current VM.  If a call failed, |err| is its errno and
  // |step| names it; else |err| is 0.
  std::shared_ptr<VmObj> Replace(unsigned i, const std::shared_ptr<VmObj>& dead, int* err,
                                 const char** step);

  // Creates a guest_memfd of |size| in |vm_fd| (and maps it if |flags| say
  // it is mappable); -errno on failure.
  long CreateGmem(int vm_fd, uint64_t size, uint64_t flags, bool reserved,
                  std::shared_ptr<GmemObj>* out);
  // Creates vCPU |vcpu_id| in |vm_fd| at the guest's entry; -errno on
  // failure.  *step says which call failed.
  long CreateVcpu(int vm_fd, uint64_t vcpu_id, std::shared_ptr<VcpuObj>* out, const char** step);

  uint64_t NextId() { return next_id_.fetch_add(1) + 1; }
  // Open files that are not guest_memfds, for "not a guest_memfd" calls.
  int devnull() const { return devnull_.get(); }
  int memfd() const { return memfd_.get(); }
  int kvm() const { return kvm_.get(); }

 private:
  long NewVm(std::shared_ptr<VmObj>* out);
  // Creates the objects a VM starts with.  Returns 0 or -errno of the
  // call that |step| names.
  long Populate(VmObj& vm, uint64_t seed, const char** step);

  const Env env_;
  gmt::UniqueFd kvm_, devnull_, memfd_;
  long run_size_ = 0;
  std::atomic<uint64_t> next_id_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<VmObj>> vms_;
  std::string error_;
};

}  // namespace fuzz
