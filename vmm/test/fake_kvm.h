// A fake KVM for the confidential launch sequences: it records every ioctl
// (one line each) and refuses, with KVM's errno, what KVM (6.12 for SNP,
// 6.16 for TDX) refuses: commands out of order, bad arguments, and
// LAUNCH_UPDATE / INIT_MEM_REGION on memory that is not private and
// backed by guest_memfd, or already populated.  It also plays the
// firmware's part in measurement: what it was given, in order, page by page.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vmm/lib/kvm_ioctl.h"
#include "vmm/lib/sev_snp.h"
#include "vmm/lib/tdx.h"

namespace gmem::test {

class FakeKvm final : public KvmIoctl {
 public:
  FakeKvm();
  long System(unsigned long req, uintptr_t arg) override;
  long Vm(unsigned long req, uintptr_t arg) override;
  long Vcpu(int id, unsigned long req, uintptr_t arg) override;

  // Configuration.
  uint64_t vm_types = (1u << 0) | (1u << KVM_X86_SNP_VM) | (1u << KVM_X86_TDX_VM);
  uint64_t tdx_supported_attrs = 0;
  uint64_t tdx_supported_xfam = 0x2e7;
  std::vector<tdx::CpuidEntry> tdx_configurable;  // KVM_TDX_CAPABILITIES' cpuid
  // SNP_LAUNCH_UPDATE does at most this many pages per call and succeeds
  // with the rest left in len, as KVM does at a memslot's end or on a
  // signal (0: no limit).
  uint64_t snp_update_max_pages = 0;
  // The next call whose log line starts with fail_prefix fails with -fail_errno.
  std::string fail_prefix;
  int fail_errno = 0;

  // What happened.
  std::vector<std::string> log;        // every call, "TARGET NAME details"
  std::vector<std::string> Names() const;  // log without details
  snp::LaunchDigest snp_digest;        // the "firmware's" digest
  tdx::Mrtd mrtd;                      // the "TDX module's" MRTD
  struct Populated {
    uint64_t gpa, pages;
    bool private_and_gmem;  // checked for every page at the time of the call
    uint8_t type;           // SNP page type, or TDX measured (1) / not (0)
  };
  std::vector<Populated> populated;
  bool IsPrivate(uint64_t gpa) const { return private_.count(gpa >> 12) != 0; }
  bool finished() const { return snp_finished_ || tdx_finalized_; }
  int vcpus() const { return static_cast<int>(vcpus_.size()); }

 private:
  long Fail(long err) { return -err; }
  long Record(const std::string& line);
  long SevOp(uintptr_t arg);
  long TdxVmOp(uintptr_t arg);
  long TdxVcpuOp(int id, uintptr_t arg);
  // -EINVAL unless every page of [gpa, gpa + pages) is in a guest_memfd
  // slot, private, and not yet populated (-EEXIST then).
  long CheckPopulate(uint64_t gpa, uint64_t pages) const;
  void MarkPopulated(uint64_t gpa, uint64_t pages);

  int vm_type_ = -1;
  int next_fd_ = 100;
  struct Gmem { uint64_t size, flags; };
  std::map<int, Gmem> gmem_;
  struct Slot { uint64_t gpa, size, gmem_offset; int gmem_fd; };
  std::map<uint32_t, Slot> slots_;
  std::set<uint64_t> private_;    // gfns
  std::set<uint64_t> populated_;  // gfns
  std::set<int> vcpus_;
  std::set<int> regs_set_;
  uint64_t exit_hypercall_ = 0;
  bool split_irqchip_ = false;
  bool sev_init_ = false, snp_started_ = false, snp_finished_ = false;
  bool tdx_caps_ = false, tdx_init_ = false, tdx_finalized_ = false;
  std::set<int> tdx_vcpu_init_;
  std::set<int> x2apic_cpuid_;  // vCPUs whose KVM_SET_CPUID2 had x2APIC
};

}  // namespace gmem::test
