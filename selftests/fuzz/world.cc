#include "selftests/fuzz/world.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "selftests/fuzz/rng.h"

namespace fuzz {

gmt::UniqueFd Handle::Dup() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!fd_.valid()) return gmt::UniqueFd();
  // Above 2: fd 0 is reserved for the KVM_SET_USER_MEMORY_REGION calls.
  return gmt::UniqueFd(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 3));
}

int Handle::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!fd_.valid()) return -1;
  return close(fd_.release()) == 0 ? 0 : errno;
}

bool Handle::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !fd_.valid();
}

World::World(const Env& env, unsigned nvms, uint64_t seed) : env_(env) {
  kvm_ = gmt::OpenKvm();
  if (!kvm_.valid()) {
    error_ = std::string("/dev/kvm: ") + std::strerror(errno);
    return;
  }
  run_size_ = gmt::Ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, 0UL);
  devnull_.reset(open("/dev/null", O_RDWR | O_CLOEXEC));
  memfd_.reset(static_cast<int>(syscall(SYS_memfd_create, "gmem_fuzz", MFD_CLOEXEC)));
  if (run_size_ <= 0 || !devnull_.valid() || !memfd_.valid() ||
      ftruncate(memfd_.get(), 1 << 20) != 0) {
    error_ = "setting up /dev/null, a memfd and the kvm_run size failed";
    return;
  }
  for (unsigned i = 0; i < nvms; i++) {
    std::shared_ptr<VmObj> vm;
    long r = NewVm(&vm);
    if (r < 0) {
      error_ = std::string("creating a SW-protected VM: ") + std::strerror(static_cast<int>(-r));
      return;
    }
    const char* step = "";
    r = Populate(*vm, seed * 64 + i, &step);
    if (r < 0) {
      error_ = std::string(step) + ": " + std::strerror(static_cast<int>(-r));
      return;
    }
    vms_.push_back(std::move(vm));
  }
}

long World::NewVm(std::shared_ptr<VmObj>* out) {
  long r =
      gmt::Ioctl(kvm_.get(), KVM_CREATE_VM, static_cast<unsigned long>(KVM_X86_SW_PROTECTED_VM));
  if (r < 0) return r;
  auto vm = std::make_shared<VmObj>(NextId(), gmt::UniqueFd(static_cast<int>(r)));
  gmt::UniqueFd fd = vm->fd.Dup();
  vm->boot =
      gmt::Mapping::Map(gmt::kBootSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  vm->shared = gmt::Mapping::Map(kSharedBytes, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (!fd.valid() || !vm->boot.valid() || !vm->shared.valid()) return -ENOMEM;
  r = gmt::InstallGuest(fd.get(), vm->boot);
  if (r < 0) return r;
  SlotState boot;
  boot.gpa = gmt::kBootGpa;
  boot.size = gmt::kBootSize;
  boot.hva = reinterpret_cast<uint64_t>(vm->boot.data());
  vm->slots.Set(gmt::kBootSlot, boot);
  *out = std::move(vm);
  return 0;
}

long World::Populate(VmObj& vm, uint64_t seed, const char** step) {
  Rng rng(seed, 0x5eed);
  gmt::UniqueFd fd = vm.fd.Dup();
  *step = "KVM_CREATE_GUEST_MEMFD";
  // With in-place conversion, two of the files are mappable: their memory
  // changes sides under the other ops (slot 2 binds the shared one).
  const bool in_place = env_.gmem_attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE;
  for (unsigned i = 0; i < kGmemsPerVm; i++) {
    uint64_t flags = 0;
    if (in_place && i == kSharedGmem) flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
    if (in_place && i == kPrivateGmem) flags = GUEST_MEMFD_FLAG_MMAP;
    long r = CreateGmem(fd.get(), rng.Range(64, 512) * kPage, flags, false, &vm.gmems[i]);
    if (r < 0) return r;
  }
  for (unsigned i = 0; i < kVcpusPerVm; i++) {
    long r = CreateVcpu(fd.get(), i, &vm.vcpus[i], step);
    if (r < 0) return r;
    vm.vcpu_ids.insert(i);
  }
  vm.next_vcpu_id = kVcpusPerVm;
  // Slots 1 and 2: the first 64 pages of guest_memfds 0 and 1, at the
  // start and in the middle of the window.
  *step = "KVM_SET_USER_MEMORY_REGION2";
  for (uint32_t i = 0; i < 2; i++) {
    const GmemObj& g = *vm.gmems[i];
    gmt::UniqueFd gfd = g.fd.Dup();
    gmt::Region2 r;
    r.slot = 1 + i;
    r.flags = KVM_MEM_GUEST_MEMFD;
    r.gpa = i ? kSlot2Gpa : kWindowGpa;
    r.size = kPopulatedPages * kPage;
    r.hva = reinterpret_cast<uint64_t>(vm.shared.data()) + r.gpa - kWindowGpa;
    r.gmem_fd = gfd.get();
    long e = gmt::SetRegion2(fd.get(), r);
    if (e < 0) return e;
    SlotState s;
    s.gpa = r.gpa;
    s.size = r.size;
    s.hva = r.hva;
    s.flags = r.flags;
    s.gmem_id = g.id;
    vm.slots.Set(r.slot, s);
  }
  return 0;
}

std::shared_ptr<VmObj> World::Vm(unsigned i) {
  std::lock_guard<std::mutex> lock(mu_);
  return vms_[i];
}

std::shared_ptr<VmObj> World::Replace(unsigned i, const std::shared_ptr<VmObj>& dead, int* err,
                                      const char** step) {
  *err = 0;
  *step = "KVM_CREATE_VM";
  std::lock_guard<std::mutex> lock(mu_);
  if (vms_[i] != dead) return vms_[i];
  std::shared_ptr<VmObj> vm;
  long r = NewVm(&vm);
  if (r == 0) r = Populate(*vm, vm->id, step);
  if (r < 0) {
    *err = static_cast<int>(-r);
    return vms_[i];
  }
  vms_[i] = std::move(vm);
  return vms_[i];
}

long World::CreateGmem(int vm_fd, uint64_t size, uint64_t flags, bool reserved,
                       std::shared_ptr<GmemObj>* out) {
  kvm_create_guest_memfd args = {};
  args.size = size;
  args.flags = flags;
  if (reserved) args.reserved[5] = 1;
  long r = gmt::Ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &args);
  if (r < 0) return r;
  gmt::UniqueFd fd(static_cast<int>(r));
  // Move it above fd 2, where every object the fuzzer owns lives.
  if (fd.get() < 3) fd = gmt::UniqueFd(fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
  gmt::Mapping map;
  if (flags & GUEST_MEMFD_FLAG_MMAP)
    map = gmt::Mapping::Map(std::min(size, kGmemMapBytes), PROT_READ | PROT_WRITE, MAP_SHARED,
                            fd.get(), 0);
  *out = std::make_shared<GmemObj>(NextId(), size, flags, std::move(fd), std::move(map));
  return 0;
}

long World::CreateVcpu(int vm_fd, uint64_t vcpu_id, std::shared_ptr<VcpuObj>* out,
                       const char** step) {
  *step = "KVM_CREATE_VCPU";
  long r = gmt::Ioctl(vm_fd, KVM_CREATE_VCPU, static_cast<unsigned long>(vcpu_id));
  if (r < 0) return r;
  gmt::UniqueFd fd(static_cast<int>(r));
  *step = "mmap(kvm_run)";
  gmt::Mapping run = gmt::Mapping::Map(run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (!run.valid()) return -errno;
  *step = "KVM_SET_SREGS/KVM_SET_REGS";
  r = gmt::EnterGuest(fd.get());
  if (r < 0) return r;
  *out = std::make_shared<VcpuObj>(NextId(), vcpu_id, std::move(fd), std::move(run));
  return 0;
}

}  // namespace fuzz
