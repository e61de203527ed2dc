#include "vmm/test/fake_kvm.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/uapi/kvm.h"

namespace gmem::test {
namespace {

std::string Hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
template <typename T>
T Read(uintptr_t arg) {
  T v;
  std::memcpy(&v, reinterpret_cast<const void*>(arg), sizeof v);
  return v;
}
template <typename T>
void Write(uintptr_t arg, const T& v) {
  std::memcpy(reinterpret_cast<void*>(arg), &v, sizeof v);
}
bool PageAligned(uint64_t v) { return (v & 4095) == 0; }

}  // namespace

FakeKvm::FakeKvm() {
  tdx::CpuidEntry e{};
  e.function = 1;
  e.eax = 0xffffffff;
  e.ecx = 0xffffffff;
  e.edx = 0xffffffff;
  tdx_configurable.push_back(e);
  e.function = 7;
  e.ebx = 0xffffffff;
  tdx_configurable.push_back(e);
  // KVM reports the guest physical address width (EAX[23:16]) as
  // configurable; it is KVM's interface for the TD's GPAW.
  e = {};
  e.function = 0x80000008;
  e.eax = 0x00ff0000;
  tdx_configurable.push_back(e);
}

std::vector<std::string> FakeKvm::Names() const {
  std::vector<std::string> out;
  for (const std::string& l : log) {
    const size_t a = l.find(' ');
    const size_t b = l.find(' ', a + 1);
    out.push_back(l.substr(0, b));
  }
  return out;
}

// Logs the call; an injected failure answers here.
long FakeKvm::Record(const std::string& line) {
  log.push_back(line);
  if (!fail_prefix.empty() && line.rfind(fail_prefix, 0) == 0) {
    fail_prefix.clear();
    return -fail_errno;
  }
  return 0;
}

long FakeKvm::System(unsigned long req, uintptr_t arg) {
  if (req == KVM_CREATE_VM) {
    if (long f = Record("SYS KVM_CREATE_VM " + std::to_string(arg))) return f;
    if (vm_type_ >= 0) return -EBUSY;  // one VM per fake
    if (arg >= 64 || !((vm_types >> arg) & 1)) return -EINVAL;
    vm_type_ = static_cast<int>(arg);
    return next_fd_++;
  }
  Record("SYS ? " + Hex(req));
  return -ENOTTY;
}

long FakeKvm::CheckPopulate(uint64_t gpa, uint64_t pages) const {
  for (uint64_t i = 0; i < pages; ++i) {
    const uint64_t a = gpa + i * 4096;
    bool in_gmem = false;
    for (const auto& [n, s] : slots_)
      if (a >= s.gpa && a - s.gpa < s.size && s.gmem_fd >= 0) in_gmem = true;
    if (!in_gmem || !private_.count(a >> 12)) return -EINVAL;
    if (populated_.count(a >> 12)) return -EEXIST;
  }
  return 0;
}

void FakeKvm::MarkPopulated(uint64_t gpa, uint64_t pages) {
  for (uint64_t i = 0; i < pages; ++i) populated_.insert((gpa >> 12) + i);
}

long FakeKvm::Vm(unsigned long req, uintptr_t arg) {
  if (vm_type_ < 0) {
    Record("VM ? no VM");
    return -EBADF;
  }
  const bool snp = vm_type_ == KVM_X86_SNP_VM, td = vm_type_ == KVM_X86_TDX_VM;
  switch (req) {
    case KVM_ENABLE_CAP: {
      const auto c = Read<kvm_enable_cap>(arg);
      if (long f = Record("VM KVM_ENABLE_CAP " + std::to_string(c.cap) + " " + Hex(c.args[0])))
        return f;
      if (c.flags) return -EINVAL;
      if (c.cap == KVM_CAP_EXIT_HYPERCALL) {
        if (c.args[0] & ~(1ull << KVM_HC_MAP_GPA_RANGE)) return -EINVAL;
        exit_hypercall_ = c.args[0];
        return 0;
      }
      if (c.cap == KVM_CAP_SPLIT_IRQCHIP) {
        if (!vcpus_.empty() || split_irqchip_) return -EINVAL;
        split_irqchip_ = true;
        return 0;
      }
      return -EINVAL;
    }
    case KVM_CREATE_GUEST_MEMFD: {
      const auto g = Read<kvm_create_guest_memfd>(arg);
      if (long f = Record("VM KVM_CREATE_GUEST_MEMFD " + Hex(g.size) + " " + Hex(g.flags)))
        return f;
      // No GUEST_MEMFD_FLAG_MMAP for VMs with private memory upstream.
      if (!g.size || !PageAligned(g.size) || g.flags) return -EINVAL;
      gmem_[next_fd_] = {g.size, g.flags};
      return next_fd_++;
    }
    case KVM_SET_USER_MEMORY_REGION2: {
      const auto r = Read<kvm_userspace_memory_region2>(arg);
      if (long f = Record("VM KVM_SET_USER_MEMORY_REGION2 slot=" + std::to_string(r.slot) +
                          " gpa=" + Hex(r.guest_phys_addr) + " size=" + Hex(r.memory_size) +
                          " gmem_offset=" + Hex(r.guest_memfd_offset)))
        return f;
      if (!PageAligned(r.guest_phys_addr) || !PageAligned(r.memory_size) ||
          !PageAligned(r.userspace_addr) || !r.userspace_addr || slots_.count(r.slot))
        return -EINVAL;
      int fd = -1;
      if (r.flags & KVM_MEM_GUEST_MEMFD) {
        auto it = gmem_.find(static_cast<int>(r.guest_memfd));
        if (it == gmem_.end()) return -EBADF;
        if (!PageAligned(r.guest_memfd_offset) ||
            r.guest_memfd_offset + r.memory_size > it->second.size)
          return -EINVAL;
        fd = it->first;
      }
      for (const auto& [n, s] : slots_) {
        if (r.guest_phys_addr < s.gpa + s.size && s.gpa < r.guest_phys_addr + r.memory_size)
          return -EEXIST;
        if (fd >= 0 && s.gmem_fd == fd &&
            r.guest_memfd_offset < s.gmem_offset + s.size &&
            s.gmem_offset < r.guest_memfd_offset + r.memory_size)
          return -EINVAL;  // a guest_memfd range is bound once
      }
      slots_[r.slot] = {r.guest_phys_addr, r.memory_size, r.guest_memfd_offset, fd};
      return 0;
    }
    case KVM_SET_MEMORY_ATTRIBUTES: {
      const auto a = Read<kvm_memory_attributes>(arg);
      if (long f = Record("VM KVM_SET_MEMORY_ATTRIBUTES " + Hex(a.address) + " " +
                          Hex(a.size) + " " + Hex(a.attributes)))
        return f;
      if (!PageAligned(a.address) || !a.size || !PageAligned(a.size) || a.flags ||
          (a.attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE))
        return -EINVAL;
      for (uint64_t g = a.address >> 12; g < (a.address + a.size) >> 12; ++g) {
        if (a.attributes) private_.insert(g);
        else private_.erase(g);
      }
      return 0;
    }
    case KVM_CREATE_VCPU: {
      if (long f = Record("VM KVM_CREATE_VCPU " + std::to_string(arg))) return f;
      if (vcpus_.count(static_cast<int>(arg))) return -EEXIST;
      if (td && !tdx_init_) return -EIO;           // 6.16: TD not initialized
      if (td && !split_irqchip_) return -EINVAL;   // TDX needs the split IRQ chip
      if (snp && !sev_init_) return -EINVAL;       // the VMSA needs SEV state first
      vcpus_.insert(static_cast<int>(arg));
      return next_fd_++;
    }
    case KVM_MEMORY_ENCRYPT_OP:
      if (snp) return SevOp(arg);
      if (td) return TdxVmOp(arg);
      Record("VM KVM_MEMORY_ENCRYPT_OP");
      return -ENOTTY;
    default:
      Record("VM ? " + Hex(req));
      return -ENOTTY;
  }
}

long FakeKvm::SevOp(uintptr_t arg) {
  auto cmd = Read<kvm_sev_cmd>(arg);
  switch (cmd.id) {
    case KVM_SEV_INIT2: {
      const auto i = Read<kvm_sev_init>(cmd.data);
      if (long f = Record("VM SEV_INIT2 ghcb=" + std::to_string(i.ghcb_version))) return f;
      if (sev_init_ || !vcpus_.empty() || static_cast<int>(cmd.sev_fd) < 0) return -EINVAL;
      if (i.flags || i.vmsa_features || i.ghcb_version > 2 || i.pad1) return -EINVAL;
      sev_init_ = true;
      return 0;
    }
    case KVM_SEV_SNP_LAUNCH_START: {
      const auto s = Read<kvm_sev_snp_launch_start>(cmd.data);
      if (long f = Record("VM SNP_LAUNCH_START policy=" + Hex(s.policy))) return f;
      if (!sev_init_ || snp_started_ || s.flags) return -EINVAL;
      if ((s.policy & ~snp::kPolicyValidMask) || !(s.policy & snp::kPolicyReservedMbo) ||
          !(s.policy & snp::kPolicySmt))
        return -EINVAL;
      snp_started_ = true;
      return 0;
    }
    case KVM_SEV_SNP_LAUNCH_UPDATE: {
      auto u = Read<kvm_sev_snp_launch_update>(cmd.data);
      const uint64_t gpa = u.gfn_start << 12;
      if (long f = Record("VM SNP_LAUNCH_UPDATE gpa=" + Hex(gpa) + " len=" + Hex(u.len) +
                          " type=" + snp::PageTypeName(static_cast<snp::PageType>(u.type))))
        return f;
      if (!snp_started_ || snp_finished_) return -EINVAL;
      if (!u.len || !PageAligned(u.len) || u.flags) return -EINVAL;
      using T = snp::PageType;
      const auto t = static_cast<T>(u.type);
      if (t != T::kNormal && t != T::kZero && t != T::kUnmeasured && t != T::kSecrets &&
          t != T::kCpuid)
        return -EINVAL;
      if (t == T::kZero ? u.uaddr != 0 : (!u.uaddr || !PageAligned(u.uaddr))) return -EINVAL;
      uint64_t pages = u.len >> 12;
      if (snp_update_max_pages && pages > snp_update_max_pages) pages = snp_update_max_pages;
      if (long e = CheckPopulate(gpa, pages)) return e;
      populated.push_back({gpa, pages, true, u.type});
      const uint64_t bytes = pages << 12;
      const std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(u.uaddr),
                                          t == T::kZero ? 0 : bytes);
      snp_digest.AddRange(gpa, data, bytes, t);
      MarkPopulated(gpa, pages);
      u.gfn_start += pages;
      u.uaddr = u.uaddr ? u.uaddr + bytes : 0;
      u.len -= bytes;
      Write(cmd.data, u);
      return 0;
    }
    case KVM_SEV_SNP_LAUNCH_FINISH: {
      const auto fin = Read<kvm_sev_snp_launch_finish>(cmd.data);
      if (long f = Record("VM SNP_LAUNCH_FINISH")) return f;
      if (!snp_started_ || snp_finished_ || fin.flags || fin.id_block_en) return -EINVAL;
      if (vcpus_.empty() || regs_set_.size() != vcpus_.size()) return -EINVAL;
      snp_finished_ = true;
      return 0;
    }
    default:
      Record("VM SEV_OP " + std::to_string(cmd.id));
      cmd.error = 0;
      return -EINVAL;
  }
}

long FakeKvm::TdxVmOp(uintptr_t arg) {
  auto cmd = Read<kvm_tdx_cmd>(arg);
  switch (cmd.id) {
    case KVM_TDX_CAPABILITIES: {
      if (long f = Record("VM TDX_CAPABILITIES")) return f;
      if (cmd.flags || cmd.hw_error) return -EINVAL;
      auto* caps = reinterpret_cast<kvm_tdx_capabilities*>(cmd.data);
      const uint32_t room = caps->cpuid.nent;
      if (room < tdx_configurable.size()) {
        caps->cpuid.nent = static_cast<uint32_t>(tdx_configurable.size());
        return -E2BIG;
      }
      std::memset(caps, 0, sizeof *caps);
      caps->supported_attrs = tdx_supported_attrs;
      caps->supported_xfam = tdx_supported_xfam;
      caps->cpuid.nent = static_cast<uint32_t>(tdx_configurable.size());
      std::memcpy(reinterpret_cast<uint8_t*>(caps) + sizeof *caps, tdx_configurable.data(),
                  tdx_configurable.size() * sizeof(tdx::CpuidEntry));
      tdx_caps_ = true;
      return 0;
    }
    case KVM_TDX_INIT_VM: {
      const auto* iv = reinterpret_cast<const kvm_tdx_init_vm*>(cmd.data);
      if (long f = Record("VM TDX_INIT_VM attributes=" + Hex(iv->attributes) +
                          " xfam=" + Hex(iv->xfam) + " cpuid=" + std::to_string(iv->cpuid.nent)))
        return f;
      if (cmd.flags || tdx_init_ || !vcpus_.empty()) return -EINVAL;
      if ((iv->attributes & ~tdx_supported_attrs) || (iv->xfam & ~tdx_supported_xfam))
        return -EINVAL;
      const auto* e = reinterpret_cast<const tdx::CpuidEntry*>(
          reinterpret_cast<const uint8_t*>(iv) + sizeof *iv);
      // 6.16 setup_tdparams_eptp_controls: the GPAW from CPUID 0x80000008
      // EAX[23:16], 48 or 52, or no TD.
      bool gpaw = false;
      for (uint32_t i = 0; i < iv->cpuid.nent; ++i)
        if (e[i].function == 0x80000008 && e[i].index == 0)
          gpaw = tdx::GuestPhysBits(e[i]) == 48 || tdx::GuestPhysBits(e[i]) == 52;
      if (!gpaw) return -EINVAL;
      for (uint32_t i = 0; i < iv->cpuid.nent; ++i) {
        bool ok = false;
        for (const tdx::CpuidEntry& c : tdx_configurable)
          if (c.function == e[i].function && c.index == e[i].index &&
              !(e[i].eax & ~c.eax) && !(e[i].ebx & ~c.ebx) && !(e[i].ecx & ~c.ecx) &&
              !(e[i].edx & ~c.edx))
            ok = true;
        if (!ok) return -EINVAL;
      }
      tdx_init_ = true;
      return 0;
    }
    case KVM_TDX_FINALIZE_VM:
      if (long f = Record("VM TDX_FINALIZE_VM")) return f;
      if (cmd.flags || cmd.data || !tdx_init_ || tdx_finalized_) return -EINVAL;
      tdx_finalized_ = true;
      return 0;
    default:
      Record("VM TDX_OP " + std::to_string(cmd.id));
      return -EINVAL;  // vCPU commands on the VM, unknown ids
  }
}

long FakeKvm::TdxVcpuOp(int id, uintptr_t arg) {
  auto cmd = Read<kvm_tdx_cmd>(arg);
  const std::string v = "VCPU" + std::to_string(id);
  switch (cmd.id) {
    case KVM_TDX_INIT_VCPU:
      if (long f = Record(v + " TDX_INIT_VCPU rcx=" + Hex(cmd.data))) return f;
      if (cmd.flags || !tdx_init_ || tdx_vcpu_init_.count(id)) return -EINVAL;
      // kvm_apic_set_base(x2APIC) refuses a vCPU whose CPUID lacks x2APIC.
      if (!x2apic_cpuid_.count(id)) return -EINVAL;
      tdx_vcpu_init_.insert(id);
      return 0;
    case KVM_TDX_GET_CPUID: {
      if (long f = Record(v + " TDX_GET_CPUID")) return f;
      if (!tdx_vcpu_init_.count(id)) return -EINVAL;
      auto* h = reinterpret_cast<gmem_cpuid2_header*>(cmd.data);
      if (h->nent < tdx_configurable.size()) return -E2BIG;
      h->nent = static_cast<uint32_t>(tdx_configurable.size());
      std::memcpy(h + 1, tdx_configurable.data(), h->nent * sizeof(tdx::CpuidEntry));
      return 0;
    }
    case KVM_TDX_INIT_MEM_REGION: {
      auto m = Read<kvm_tdx_init_mem_region>(cmd.data);
      const bool measured = cmd.flags & KVM_TDX_MEASURE_MEMORY_REGION;
      if (long f = Record(v + " TDX_INIT_MEM_REGION gpa=" + Hex(m.gpa) + " pages=" +
                          std::to_string(m.nr_pages) + (measured ? " measured" : "")))
        return f;
      if (!tdx_vcpu_init_.count(id) || tdx_finalized_) return -EINVAL;
      if (cmd.flags & ~KVM_TDX_MEASURE_MEMORY_REGION) return -EINVAL;
      if (!m.nr_pages || !PageAligned(m.gpa) || !PageAligned(m.source_addr) || !m.source_addr)
        return -EINVAL;
      if (long e = CheckPopulate(m.gpa, m.nr_pages)) return e;
      populated.push_back({m.gpa, m.nr_pages, true, measured});
      mrtd.AddRegion(m.gpa, {reinterpret_cast<const uint8_t*>(m.source_addr),
                             m.nr_pages * 4096}, measured);
      MarkPopulated(m.gpa, m.nr_pages);
      m.source_addr += m.nr_pages * 4096;
      m.gpa += m.nr_pages * 4096;
      m.nr_pages = 0;
      Write(cmd.data, m);
      return 0;
    }
    default:
      Record(v + " TDX_OP " + std::to_string(cmd.id));
      return -EINVAL;
  }
}

long FakeKvm::Vcpu(int id, unsigned long req, uintptr_t arg) {
  const std::string v = "VCPU" + std::to_string(id);
  if (!vcpus_.count(id)) {
    Record(v + " ? no such vCPU");
    return -EBADF;
  }
  const bool td = vm_type_ == KVM_X86_TDX_VM;
  switch (req) {
    case KVM_MEMORY_ENCRYPT_OP:
      if (td) return TdxVcpuOp(id, arg);
      Record(v + " KVM_MEMORY_ENCRYPT_OP");
      return -ENOTTY;
    case KVM_GET_SREGS:
    case KVM_SET_SREGS:
    case KVM_SET_REGS: {
      const char* n = req == KVM_GET_SREGS ? "KVM_GET_SREGS"
                      : req == KVM_SET_SREGS ? "KVM_SET_SREGS" : "KVM_SET_REGS";
      if (long f = Record(v + " " + n)) return f;
      // A TD's and a launched SNP guest's state is protected.
      if (td || snp_finished_) return -EINVAL;
      if (req == KVM_GET_SREGS) {
        Write(arg, kvm_sregs{});
      } else if (req == KVM_SET_REGS) {
        if (Read<kvm_regs>(arg).rip == 0) return -EINVAL;  // not an entry state
        regs_set_.insert(id);
      }
      return 0;
    }
    case GMEM_SET_CPUID2: {
      if (long f = Record(v + " KVM_SET_CPUID2")) return f;
      const auto* h = reinterpret_cast<const gmem_cpuid2_header*>(arg);
      const auto* e = reinterpret_cast<const tdx::CpuidEntry*>(h + 1);
      bool x2apic = false;
      for (uint32_t i = 0; i < h->nent; ++i)
        if (e[i].function == 1 && e[i].index == 0 && (e[i].ecx & tdx::kCpuid1EcxX2apic))
          x2apic = true;
      if (x2apic) x2apic_cpuid_.insert(id);
      else x2apic_cpuid_.erase(id);
      return 0;
    }
    case KVM_RUN:
      if (long f = Record(v + " KVM_RUN")) return f;
      return finished() ? 0 : -EINVAL;
    default:
      Record(v + " ? " + Hex(req));
      return -ENOTTY;
  }
}

}  // namespace gmem::test
