// kvm_smoke: the smallest proof that KVM runs guest code on this kernel.
// Creates a VM with one page of RAM, runs 16-bit code that adds two numbers,
// writes the sum to an I/O port and halts; checks both exits.  Exit 0 on
// success, 4 (skip) without /dev/kvm, 1 on any other failure.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "common/fd.h"

namespace {

using common::Mapping;
using common::UniqueFd;

int fail(const char* what) {
  std::fprintf(stderr, "kvm_smoke: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main() {
  UniqueFd kvm(open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (kvm.get() < 0) {
    std::fprintf(stderr, "kvm_smoke: /dev/kvm: %s (skip)\n", std::strerror(errno));
    return 4;
  }
  std::printf("kvm_smoke: KVM API version %d\n", ioctl(kvm.get(), KVM_GET_API_VERSION, 0));
  UniqueFd vm(ioctl(kvm.get(), KVM_CREATE_VM, 0));
  if (vm.get() < 0) return fail("KVM_CREATE_VM");

  constexpr size_t kRamSize = 0x1000;
  constexpr uint64_t kGuestBase = 0x1000;
  Mapping ram = Mapping::Map(kRamSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (!ram.valid()) return fail("mmap guest RAM");
  // mov $0x3f8,%dx; add %bl,%al; add $'0',%al; out %al,(%dx); hlt
  const uint8_t code[] = {0xba, 0xf8, 0x03, 0x00, 0xd8, 0x04, '0', 0xee, 0xf4};
  std::memcpy(ram.data(), code, sizeof(code));

  kvm_userspace_memory_region region = {};
  region.slot = 0;
  region.guest_phys_addr = kGuestBase;
  region.memory_size = kRamSize;
  region.userspace_addr = reinterpret_cast<uint64_t>(ram.data());
  if (ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0)
    return fail("KVM_SET_USER_MEMORY_REGION");

  UniqueFd vcpu(ioctl(vm.get(), KVM_CREATE_VCPU, 0));
  if (vcpu.get() < 0) return fail("KVM_CREATE_VCPU");
  int run_size = ioctl(kvm.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) return fail("KVM_GET_VCPU_MMAP_SIZE");
  Mapping run_map = Mapping::Map(run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.get(), 0);
  if (!run_map.valid()) return fail("mmap kvm_run");
  auto* run = reinterpret_cast<kvm_run*>(run_map.data());

  kvm_sregs sregs;
  if (ioctl(vcpu.get(), KVM_GET_SREGS, &sregs) < 0) return fail("KVM_GET_SREGS");
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  if (ioctl(vcpu.get(), KVM_SET_SREGS, &sregs) < 0) return fail("KVM_SET_SREGS");
  kvm_regs regs = {};
  regs.rip = kGuestBase;
  regs.rax = 2;
  regs.rbx = 3;
  regs.rflags = 0x2;
  if (ioctl(vcpu.get(), KVM_SET_REGS, &regs) < 0) return fail("KVM_SET_REGS");

  char out = 0;
  for (int exits = 0; exits < 16; exits++) {
    if (ioctl(vcpu.get(), KVM_RUN, 0) < 0) return fail("KVM_RUN");
    switch (run->exit_reason) {
      case KVM_EXIT_IO:
        if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x3f8 && run->io.size == 1)
          out = *(reinterpret_cast<char*>(run) + run->io.data_offset);
        break;
      case KVM_EXIT_HLT:
        if (out != '5') {
          std::fprintf(stderr, "kvm_smoke: guest wrote '%c', expected '5'\n", out ? out : '?');
          return 1;
        }
        std::printf("kvm_smoke: guest computed 2+3=%c and halted\n", out);
        return 0;
      default:
        std::fprintf(stderr, "kvm_smoke: unexpected exit reason %u\n", run->exit_reason);
        return 1;
    }
  }
  std::fprintf(stderr, "kvm_smoke: guest did not halt\n");
  return 1;
}
