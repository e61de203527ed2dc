#include "vmm/lib/vcpu.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstring>
#include <string>
#include <vector>

#include "vmm/lib/long_mode.h"
#include "vmm/lib/size.h"
#include "vmm/lib/vm.h"
#include "common/uapi/kvm.h"

namespace gmem {
Result<Vcpu> Vcpu::Create(const KvmSystem& kvm, const Vm& vm, int id) {
  int fd = ::ioctl(vm.fd(), KVM_CREATE_VCPU, id);
  if (fd < 0) return Error::Sys("KVM_CREATE_VCPU", errno);
  return Adopt(kvm, UniqueFd(fd));
}

Result<Vcpu> Vcpu::Adopt(const KvmSystem& kvm, UniqueFd vfd) {
  int size = GMEM_TRY(kvm.VcpuMmapSize());
  const int fd = vfd.get();
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

  kvm_regs regs{};
  LongModeRegisters(s, &sregs, &regs);
  if (::ioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0)
    return Error::Sys("KVM_SET_SREGS", errno,
                      "the vCPU rejected the 64-bit boot state");

  if (::ioctl(fd_.get(), KVM_SET_REGS, &regs) < 0)
    return Error::Sys("KVM_SET_REGS", errno);
  return Ok{};
}

Result<VcpuExit> Vcpu::RunOnce() {
  kvm_run* r = run();
  while (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
    int err = errno;
    if (err == EAGAIN) continue;
    if (err == EINTR) return VcpuExit{InterruptedExit{}};
    // A memory fault is an exit for userspace to service, reported as
    // -EFAULT (or -EHWPOISON) with exit_reason set.
    if ((err == EFAULT || err == EHWPOISON) &&
        r->exit_reason == KVM_EXIT_MEMORY_FAULT)
      break;
    return Error::Sys("KVM_RUN", err,
                      err == EFAULT ? "guest memory could not be faulted in"
                                    : "");
  }
  switch (r->exit_reason) {
    case KVM_EXIT_IO: {
      auto* data = reinterpret_cast<uint8_t*>(r) + r->io.data_offset;
      return VcpuExit{IoExit{r->io.port, r->io.direction == KVM_EXIT_IO_IN,
                             r->io.size, r->io.count,
                             {data, size_t{r->io.size} * r->io.count}}};
    }
    case KVM_EXIT_HYPERCALL:
      return VcpuExit{HypercallExit{
          r->hypercall.nr,
          {r->hypercall.args[0], r->hypercall.args[1], r->hypercall.args[2]},
          reinterpret_cast<uint64_t*>(&r->hypercall.ret)}};
    case KVM_EXIT_MEMORY_FAULT: {
      const gmem_memory_fault_exit f = gmem_read_memory_fault(r);
      return VcpuExit{MemoryFaultExit{
          f.gpa, f.size, (f.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE) != 0}};
    }
    case KVM_EXIT_HLT:
      return VcpuExit{HaltExit{}};
    case KVM_EXIT_SHUTDOWN:
      return VcpuExit{ShutdownExit{}};
    case KVM_EXIT_SYSTEM_EVENT:
      return VcpuExit{OtherExit{r->exit_reason, r->system_event.type,
                                r->system_event.ndata ? r->system_event.data[0] : 0}};
    case KVM_EXIT_FAIL_ENTRY:
      return Error::Msg("KVM_RUN: entry failed, hardware reason " +
                        Hex(r->fail_entry.hardware_entry_failure_reason));
    case KVM_EXIT_INTERNAL_ERROR:
      return Error::Msg("KVM_RUN: internal error, suberror " +
                        std::to_string(r->internal.suberror));
  }
  return VcpuExit{OtherExit{r->exit_reason}};
}

Result<kvm_regs> Vcpu::Regs() const {
  kvm_regs regs{};
  if (::ioctl(fd_.get(), KVM_GET_REGS, &regs) < 0)
    return Error::Sys("KVM_GET_REGS", errno);
  return regs;
}

}  // namespace gmem
