#include "selftests/lib/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

extern "C" const uint8_t gmt_guest_start[], gmt_guest_end[];

namespace gmt {

long Ioctl(int fd, unsigned long req, const void* arg) {
  long r = ioctl(fd, req, arg);
  return r < 0 ? -errno : r;
}

long Ioctl(int fd, unsigned long req, unsigned long arg) {
  long r = ioctl(fd, req, arg);
  return r < 0 ? -errno : r;
}

UniqueFd OpenKvm() { return UniqueFd(open("/dev/kvm", O_RDWR | O_CLOEXEC)); }

long CheckExtension(int fd, long cap) {
  return Ioctl(fd, KVM_CHECK_EXTENSION, static_cast<unsigned long>(cap));
}

bool VmTypeSupported(int kvm, unsigned type) {
  long types = CheckExtension(kvm, KVM_CAP_VM_TYPES);
  if (types <= 0) return type == 0;
  return (types >> type) & 1;
}

long SetRegion2(int vm, const Region2& r) {
  kvm_userspace_memory_region2 region = {};
  region.slot = r.slot;
  region.flags = r.flags;
  region.guest_phys_addr = r.gpa;
  region.memory_size = r.size;
  region.userspace_addr = r.hva;
  region.guest_memfd_offset = r.gmem_offset;
  region.guest_memfd = static_cast<uint32_t>(r.gmem_fd);
  return Ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &region);
}

long CreateGuestMemfd(int vm, uint64_t size, uint64_t flags) {
  kvm_create_guest_memfd args = {};
  args.size = size;
  args.flags = flags;
  return Ioctl(vm, KVM_CREATE_GUEST_MEMFD, &args);
}

long SetAttributes(int vm, uint64_t gpa, uint64_t size, uint64_t attrs, uint64_t flags) {
  kvm_memory_attributes args = {gpa, size, attrs, flags};
  return Ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &args);
}

long SetAttributes2(int gmem, uint64_t offset, uint64_t size, uint64_t attrs,
                    uint64_t* error_offset) {
  kvm_memory_attributes2 a = {};
  a.offset = offset;
  a.size = size;
  a.attributes = attrs;
  a.error_offset = ~0ULL;
  long r = Ioctl(gmem, KVM_SET_MEMORY_ATTRIBUTES2, &a);
  if (error_offset) *error_offset = a.error_offset;
  return r;
}

Region2 GmemSlot(uint32_t slot, uint64_t gpa, uint64_t size, const void* hva, int gmem_fd) {
  Region2 r;
  r.slot = slot;
  r.flags = KVM_MEM_GUEST_MEMFD;
  r.gpa = gpa;
  r.size = size;
  r.hva = reinterpret_cast<uint64_t>(hva);
  r.gmem_fd = gmem_fd;
  return r;
}

namespace {

// Where InstallGuest() puts the guest's code, inside the boot slot.
constexpr uint64_t kCodeGpa = 0x1000;

std::string Errno(const char* what, long r) {
  return std::string(what) + ": " + std::strerror(static_cast<int>(-r));
}

kvm_segment FlatSegment(uint16_t selector, uint8_t type) {
  kvm_segment s = {};
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.s = 1;
  s.db = 1;
  s.g = 1;
  return s;
}

}  // namespace

long InstallGuest(int vm, const Mapping& boot) {
  constexpr uint64_t kCodeOffset = kCodeGpa - kBootGpa;
  std::memcpy(boot.data() + kCodeOffset, gmt_guest_start, gmt_guest_end - gmt_guest_start);
  kvm_userspace_memory_region region = {};
  region.slot = kBootSlot;
  region.guest_phys_addr = kBootGpa;
  region.memory_size = kBootSize;
  region.userspace_addr = reinterpret_cast<uint64_t>(boot.data());
  return Ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
}

long EnterGuest(int vcpu) {
  kvm_sregs sregs = {};
  long r = Ioctl(vcpu, KVM_GET_SREGS, &sregs);
  if (r < 0) return r;
  sregs.cr0 |= 1;  // PE: flat 32-bit protected mode, no paging
  sregs.cs = FlatSegment(0x8, 0xb);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = FlatSegment(0x10, 0x3);
  r = Ioctl(vcpu, KVM_SET_SREGS, &sregs);
  if (r < 0) return r;
  kvm_regs regs = {};
  regs.rip = kCodeGpa;
  regs.rflags = 0x2;
  return Ioctl(vcpu, KVM_SET_REGS, &regs);
}

TestVm::TestVm(unsigned type) {
  kvm_ = OpenKvm();
  if (!kvm_.valid()) {
    error_ = std::string("/dev/kvm: ") + std::strerror(errno);
    return;
  }
  long r = Ioctl(kvm_.get(), KVM_CREATE_VM, static_cast<unsigned long>(type));
  if (r < 0) {
    error_ = Errno("KVM_CREATE_VM", r);
    return;
  }
  vm_.reset(static_cast<int>(r));

  boot_ = Mapping::Map(kBootSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (!boot_.valid()) {
    error_ = Errno("mmap boot slot", -errno);
    return;
  }
  r = InstallGuest(vm_.get(), boot_);
  if (r < 0) {
    error_ = Errno("KVM_SET_USER_MEMORY_REGION (boot slot)", r);
    return;
  }

  r = Ioctl(vm_.get(), KVM_CREATE_VCPU, 0UL);
  if (r < 0) {
    error_ = Errno("KVM_CREATE_VCPU", r);
    return;
  }
  vcpu_.reset(static_cast<int>(r));
  long run_size = Ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, 0UL);
  if (run_size <= 0) {
    error_ = Errno("KVM_GET_VCPU_MMAP_SIZE", run_size);
    return;
  }
  run_map_ = Mapping::Map(run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_.get(), 0);
  if (!run_map_.valid()) {
    error_ = Errno("mmap kvm_run", -errno);
    return;
  }
  r = EnterGuest(vcpu_.get());
  if (r < 0) error_ = Errno("entering the guest (KVM_SET_SREGS/KVM_SET_REGS)", r);
}

void GuestChannel::Start(GuestOp op, std::initializer_list<uint32_t> args) {
  npending_ = 0;
  next_ = 0;
  pending_[npending_++] = op;
  for (uint32_t a : args) {
    if (npending_ < sizeof(pending_) / sizeof(pending_[0])) pending_[npending_++] = a;
  }
}

// What the vCPU was doing when it stopped for a reason the protocol does
// not expect: where, on which exit, and the exception in flight, so that a
// guest that shut down (a triple fault) says why.
static std::string DescribeStop(int vcpu, const kvm_run* r) {
  char buf[256];
  std::string s;
  kvm_regs regs = {};
  if (ioctl(vcpu, KVM_GET_REGS, &regs) == 0) {
    snprintf(buf, sizeof(buf), " (rip %#llx, rsi %#llx, rdi %#llx, rcx %#llx", (unsigned long long)regs.rip,
             (unsigned long long)regs.rsi, (unsigned long long)regs.rdi, (unsigned long long)regs.rcx);
    s += buf;
  }
  kvm_vcpu_events ev = {};
  if (ioctl(vcpu, KVM_GET_VCPU_EVENTS, &ev) == 0) {
    snprintf(buf, sizeof(buf), "; exception injected %u pending %u nr %u error %#x; triple fault %u",
             ev.exception.injected, ev.exception.pending, ev.exception.nr, ev.exception.error_code,
             (ev.flags & KVM_VCPUEVENT_VALID_TRIPLE_FAULT) ? ev.triple_fault.pending : 0);
    s += buf;
  }
  switch (r->exit_reason) {
    case KVM_EXIT_IO:
      snprintf(buf, sizeof(buf), "; io port %#x size %u dir %u", r->io.port, r->io.size, r->io.direction);
      s += buf;
      break;
    case KVM_EXIT_MMIO:
      snprintf(buf, sizeof(buf), "; mmio %#llx len %u write %u", (unsigned long long)r->mmio.phys_addr,
               r->mmio.len, r->mmio.is_write);
      s += buf;
      break;
    case KVM_EXIT_INTERNAL_ERROR:
      snprintf(buf, sizeof(buf), "; internal error suberror %u ndata %u", r->internal.suberror, r->internal.ndata);
      s += buf;
      for (unsigned i = 0; i < r->internal.ndata && i < 8; i++) {
        snprintf(buf, sizeof(buf), " %#llx", (unsigned long long)r->internal.data[i]);
        s += buf;
      }
      break;
    default:
      break;
  }
  if (!s.empty()) s += ")";
  return s;
}

CommandResult GuestChannel::Run(int vcpu, kvm_run* r) {
  CommandResult res;
  for (int exits = 0; exits < 64; exits++) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      res.err = errno;
      res.exit_reason = r->exit_reason;
      res.what = std::string("KVM_RUN: ") + std::strerror(errno);
      return res;
    }
    if (r->exit_reason != KVM_EXIT_IO || r->io.port != kCmdPort || r->io.size != 4) {
      res.exit_reason = r->exit_reason;
      res.what = "exit reason " + std::to_string(r->exit_reason) + DescribeStop(vcpu, r);
      return res;
    }
    auto* data = reinterpret_cast<uint32_t*>(reinterpret_cast<uint8_t*>(r) + r->io.data_offset);
    if (r->io.direction == KVM_EXIT_IO_IN) {
      *data = next_ < npending_ ? pending_[next_++] : kOpHalt;
      continue;
    }
    res.ok = true;
    res.value = *data;
    res.exit_reason = r->exit_reason;
    return res;
  }
  res.what = "guest did not answer within 64 exits";
  return res;
}

bool GuestRipInCode(uint64_t rip) {
  return rip >= kCodeGpa && rip < kCodeGpa + (gmt_guest_end - gmt_guest_start);
}

}  // namespace gmt
