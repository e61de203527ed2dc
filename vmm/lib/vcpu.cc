#include "vmm/lib/vcpu.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <memory>
#include <vector>

#include "vmm/lib/vm.h"
#include "vmm/uapi/kvm_gmem.h"

namespace gmem {

Result<Vcpu> Vcpu::Create(const KvmSystem& kvm, const Vm& vm, int id) {
  int size = GMEM_TRY(kvm.VcpuMmapSize());
  int fd = ::ioctl(vm.fd(), KVM_CREATE_VCPU, id);
  if (fd < 0) return Error::Sys("KVM_CREATE_VCPU", errno);
  UniqueFd vfd(fd);
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return Error::Sys("mmap(kvm_run)", errno);
  return Vcpu(std::move(vfd), Mapping(p, static_cast<size_t>(size)));
}

Status Vcpu::SetCpuidFromHost(const KvmSystem& kvm) const {
  constexpr int kMax = 256;
  size_t bytes = sizeof(gmem_cpuid2_header) + kMax * sizeof(kvm_cpuid_entry2);
  std::vector<uint64_t> buf((bytes + 7) / 8, 0);
  auto* cpuid = reinterpret_cast<gmem_cpuid2_header*>(buf.data());
  cpuid->nent = kMax;
  if (::ioctl(kvm.fd(), GMEM_GET_SUPPORTED_CPUID, cpuid) < 0)
    return Error::Sys("KVM_GET_SUPPORTED_CPUID", errno);
  if (::ioctl(fd_.get(), GMEM_SET_CPUID2, cpuid) < 0)
    return Error::Sys("KVM_SET_CPUID2", errno);
  return Ok{};
}

Status Vcpu::EnterLongMode(const LongModeState& s) const {
  kvm_sregs sregs{};
  if (::ioctl(fd_.get(), KVM_GET_SREGS, &sregs) < 0)
    return Error::Sys("KVM_GET_SREGS", errno);

  kvm_segment code{};
  code.base = 0;
  code.limit = 0xffffffff;
  code.selector = 0x8;
  code.type = 0xb;  // execute/read, accessed
  code.present = 1;
  code.dpl = 0;
  code.s = 1;
  code.l = 1;
  code.g = 1;
  kvm_segment data = code;
  data.selector = 0x10;
  data.type = 0x3;  // read/write, accessed
  data.l = 0;
  data.db = 1;
  sregs.cs = code;
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;

  sregs.gdt.base = s.gdt_base;
  sregs.gdt.limit = s.gdt_limit;
  sregs.cr3 = s.cr3;
  sregs.cr4 = 1u << 5;                                  // PAE
  sregs.cr0 = (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 16) |
              (1u << 31);                               // PE MP ET NE WP PG
  sregs.efer = (1u << 8) | (1u << 10);                  // LME LMA
  if (::ioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0)
    return Error::Sys("KVM_SET_SREGS", errno,
                      "the vCPU rejected the 64-bit boot state");

  kvm_regs regs{};
  regs.rip = s.rip;
  regs.rsp = s.rsp;
  regs.rflags = 0x2;
  if (::ioctl(fd_.get(), KVM_SET_REGS, &regs) < 0)
    return Error::Sys("KVM_SET_REGS", errno);
  return Ok{};
}

Status Vcpu::Run() const {
  while (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
    if (errno == EAGAIN) continue;
    int err = errno;
    if (err == EINTR) return Error::Sys("KVM_RUN", err);  // caller decides
    // A memory fault is an exit for userspace to service, reported as
    // -EFAULT (or -EHWPOISON) with exit_reason set.
    if ((err == EFAULT || err == EHWPOISON) &&
        run()->exit_reason == KVM_EXIT_MEMORY_FAULT)
      return Ok{};
    return Error::Sys("KVM_RUN", err,
                      err == EFAULT ? "guest memory could not be faulted in"
                                    : "");
  }
  return Ok{};
}

Result<kvm_regs> Vcpu::Regs() const {
  kvm_regs regs{};
  if (::ioctl(fd_.get(), KVM_GET_REGS, &regs) < 0)
    return Error::Sys("KVM_GET_REGS", errno);
  return regs;
}

}  // namespace gmem
