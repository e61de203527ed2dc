// The guest_memfd KVM userspace ABI, for every C++ program of the project.
//
// Debian 12's <linux/kvm.h> is the 6.1 uapi and lacks all of it.  Every name
// and value here is upstream's (include/uapi/linux/kvm.h and
// arch/x86/include/uapi/asm/kvm.h, Linux 6.8-6.18, which the series uses to
// the number), each behind its own #ifndef so newer system headers win.
// common/uapi/check.sh compiles common/uapi/kvm_check.cc, which
// static_asserts every number, size and offset here against 6.12's exported
// headers and the patched tree's (6.18 names against the patched tree only).
//
// Two things are the project's own (gmem_ prefix), for C++: the exit union's
// memory_fault member, which the 6.1 kvm_run does not name, and the CPUID
// ioctls, whose numbers <asm/kvm.h> computes wrongly in C++.
#pragma once

#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/types.h>
#include <stddef.h>
#include <string.h>

// ---- capabilities ---------------------------------------------------------
#ifndef KVM_CAP_EXIT_HYPERCALL
#define KVM_CAP_EXIT_HYPERCALL 201
#endif
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif
#ifndef KVM_CAP_MEMORY_FAULT_INFO
#define KVM_CAP_MEMORY_FAULT_INFO 232
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD 234
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_CAP_PRE_FAULT_MEMORY
#define KVM_CAP_PRE_FAULT_MEMORY 236
#endif
#ifndef KVM_CAP_GUEST_MEMFD_FLAGS
#define KVM_CAP_GUEST_MEMFD_FLAGS 244  // 6.18: the supported flag mask
#endif
#ifndef KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES
// The in-place conversion posting (KVM x86 queue, not in a release yet):
// the attributes KVM_SET_MEMORY_ATTRIBUTES2 accepts on a guest_memfd.
#define KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES 250
#endif

// ---- VM types (x86, KVM_CREATE_VM's argument) -------------------------------
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#endif
#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM 1
#endif

// ---- KVM_SET_USER_MEMORY_REGION2 ------------------------------------------
#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD (1UL << 2)
#endif
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
  __u32 slot;
  __u32 flags;
  __u64 guest_phys_addr;
  __u64 memory_size;
  __u64 userspace_addr;
  __u64 guest_memfd_offset;
  __u32 guest_memfd;
  __u32 pad1;
  __u64 pad2[14];
};
#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif

// ---- KVM_SET_MEMORY_ATTRIBUTES --------------------------------------------
#ifndef KVM_SET_MEMORY_ATTRIBUTES
struct kvm_memory_attributes {
  __u64 address;
  __u64 size;
  __u64 attributes;
  __u64 flags;
};
#define KVM_SET_MEMORY_ATTRIBUTES _IOW(KVMIO, 0xd2, struct kvm_memory_attributes)
#endif
#ifndef KVM_MEMORY_ATTRIBUTE_PRIVATE
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)
#endif

// ---- KVM_CREATE_GUEST_MEMFD -----------------------------------------------
#ifndef KVM_CREATE_GUEST_MEMFD
struct kvm_create_guest_memfd {
  __u64 size;
  __u64 flags;
  __u64 reserved[6];
};
#define KVM_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)
#endif
#ifndef GUEST_MEMFD_FLAG_MMAP
#define GUEST_MEMFD_FLAG_MMAP (1ULL << 0)  // 6.18
#endif
#ifndef GUEST_MEMFD_FLAG_INIT_SHARED
#define GUEST_MEMFD_FLAG_INIT_SHARED (1ULL << 1)  // 6.18
#endif
#ifndef GUEST_MEMFD_FLAG_NO_DIRECT_MAP
#define GUEST_MEMFD_FLAG_NO_DIRECT_MAP (1ULL << 2)  // posted (direct map removal v11/v12)
#endif

// ---- KVM_SET_MEMORY_ATTRIBUTES2 (a guest_memfd ioctl; in-place conversion
// posting, numbers as queued in the KVM x86 tree) -----------------------------
#ifndef KVM_SET_MEMORY_ATTRIBUTES2
struct kvm_memory_attributes2 {
  union {
    __u64 address;
    __u64 offset;
  };
  __u64 size;
  __u64 attributes;
  __u64 flags;
  __u64 error_offset;  // out: the page that failed with EAGAIN
  __u64 reserved[11];
};
#define KVM_SET_MEMORY_ATTRIBUTES2 _IOWR(KVMIO, 0xd2, struct kvm_memory_attributes2)
#endif

// ---- KVM_PRE_FAULT_MEMORY (vCPU ioctl) --------------------------------------
#ifndef KVM_PRE_FAULT_MEMORY
struct kvm_pre_fault_memory {
  __u64 gpa;
  __u64 size;
  __u64 flags;
  __u64 padding[5];
};
#define KVM_PRE_FAULT_MEMORY _IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory)
#endif

// ---- KVM_EXIT_MEMORY_FAULT --------------------------------------------------
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif
#ifndef KVM_MEMORY_EXIT_FLAG_PRIVATE
#define KVM_MEMORY_EXIT_FLAG_PRIVATE (1ULL << 3)
#endif

// kvm_run.memory_fault upstream: the exit union's member for
// KVM_EXIT_MEMORY_FAULT.  The 6.1 kvm_run does not name it; read it with
// gmem_read_memory_fault() whatever the system header.
struct gmem_memory_fault_exit {
  __u64 flags;
  __u64 gpa;
  __u64 size;
};

// Read from the start of the exit union (its padding member spans it all).
static inline struct gmem_memory_fault_exit gmem_read_memory_fault(const struct kvm_run* run) {
  struct gmem_memory_fault_exit f;
  memcpy(&f, run->padding, sizeof(f));
  return f;
}

// ---- KVM_HC_MAP_GPA_RANGE (with KVM_CAP_EXIT_HYPERCALL) -------------------
#ifndef KVM_HC_MAP_GPA_RANGE
#define KVM_HC_MAP_GPA_RANGE 12
#endif
#ifndef KVM_MAP_GPA_RANGE_PAGE_SZ_4K
#define KVM_MAP_GPA_RANGE_PAGE_SZ_4K 0
#endif
#ifndef KVM_MAP_GPA_RANGE_PAGE_SZ_2M
#define KVM_MAP_GPA_RANGE_PAGE_SZ_2M (1 << 0)
#endif
#ifndef KVM_MAP_GPA_RANGE_PAGE_SZ_1G
#define KVM_MAP_GPA_RANGE_PAGE_SZ_1G (1 << 1)
#endif
#ifndef KVM_MAP_GPA_RANGE_ENCRYPTED
#define KVM_MAP_GPA_RANGE_ENCRYPTED (1 << 4)
#endif
#ifndef KVM_MAP_GPA_RANGE_DECRYPTED
#define KVM_MAP_GPA_RANGE_DECRYPTED (0 << 4)
#endif

// ---- CPUID ------------------------------------------------------------------
// <asm/kvm.h> declares kvm_cpuid2.entries with __DECLARE_FLEX_ARRAY, which
// in C++ adds an empty struct and makes sizeof 12, not 8: the ioctl numbers
// computed from it are wrong in C++.  These use the C layout's size.
struct gmem_cpuid2_header {
  __u32 nent;
  __u32 padding;
};
#define GMEM_GET_SUPPORTED_CPUID _IOWR(KVMIO, 0x05, struct gmem_cpuid2_header)
#define GMEM_SET_CPUID2 _IOW(KVMIO, 0x90, struct gmem_cpuid2_header)
// kvm_msrs has the same flexible array, and the same problem.
struct gmem_msrs_header {
  __u32 nmsrs;
  __u32 pad;
};
#define GMEM_SET_MSRS _IOW(KVMIO, 0x89, struct gmem_msrs_header)

// ---- confidential VM types and their launch commands ---------------------
// KVM_MEMORY_ENCRYPT_OP (ioctl 0xba, in 6.1 already) carries them.
#ifndef KVM_X86_SNP_VM
#define KVM_X86_SNP_VM 4
#endif
// TDX: upstream Linux 6.16, arch/x86/include/uapi/asm/kvm.h (the first
// release with TDX; Debian's 6.12 headers lack it, so kvm_check.cc has no
// reference to compare with: the numbers and layouts are recorded here once,
// from 6.16, and pinned by the static_asserts below).
#ifndef KVM_X86_TDX_VM
#define KVM_X86_TDX_VM 5
#endif

// SEV-SNP (upstream 6.11+; Debian's 6.12 headers carry it and kvm_check.cc
// compares).  The command ids are enumerators upstream, so the whole block is
// guarded by a macro that arrived with them.
#ifndef KVM_SEV_SNP_PAGE_TYPE_NORMAL
#define KVM_SEV_SNP_PAGE_TYPE_NORMAL 0x1
enum gmem_sev_cmd_id_snp {
  KVM_SEV_INIT2 = 22,
  KVM_SEV_SNP_LAUNCH_START = 100,
  KVM_SEV_SNP_LAUNCH_UPDATE = 101,
  KVM_SEV_SNP_LAUNCH_FINISH = 102,
};
struct kvm_sev_init {
  __u64 vmsa_features;
  __u32 flags;
  __u16 ghcb_version;
  __u16 pad1;
  __u32 pad2[8];
};
struct kvm_sev_snp_launch_start {
  __u64 policy;
  __u8 gosvw[16];
  __u16 flags;
  __u8 pad0[6];
  __u64 pad1[4];
};
struct kvm_sev_snp_launch_update {
  __u64 gfn_start;
  __u64 uaddr;
  __u64 len;  // in: bytes; out: what is left after an error
  __u8 type;  // KVM_SEV_SNP_PAGE_TYPE_*
  __u8 pad0;
  __u16 flags;
  __u32 pad1;
  __u64 pad2[4];
};
struct kvm_sev_snp_launch_finish {
  __u64 id_block_uaddr;
  __u64 id_auth_uaddr;
  __u8 id_block_en;
  __u8 auth_key_en;
  __u8 vcek_disabled;
  __u8 host_data[32];
  __u8 pad0[3];
  __u16 flags;
  __u64 pad1[4];
};
#endif
#ifndef KVM_SEV_SNP_PAGE_TYPE_ZERO
#define KVM_SEV_SNP_PAGE_TYPE_ZERO 0x3
#endif
#ifndef KVM_SEV_SNP_PAGE_TYPE_UNMEASURED
#define KVM_SEV_SNP_PAGE_TYPE_UNMEASURED 0x4
#endif
#ifndef KVM_SEV_SNP_PAGE_TYPE_SECRETS
#define KVM_SEV_SNP_PAGE_TYPE_SECRETS 0x5
#endif
#ifndef KVM_SEV_SNP_PAGE_TYPE_CPUID
#define KVM_SEV_SNP_PAGE_TYPE_CPUID 0x6
#endif

// TDX (upstream 6.16, see above).  kvm_cpuid2 at the end of two structures
// is gmem_cpuid2_header here: the C layout (8 bytes), entries follow.
#ifndef KVM_TDX_MEASURE_MEMORY_REGION
#define KVM_TDX_MEASURE_MEMORY_REGION (1UL << 0)
enum gmem_tdx_cmd_id {
  KVM_TDX_CAPABILITIES = 0,  // vm
  KVM_TDX_INIT_VM = 1,       // vm, before any vCPU
  KVM_TDX_INIT_VCPU = 2,     // vcpu, data = the vCPU's initial RCX
  KVM_TDX_INIT_MEM_REGION = 3,  // vcpu, ranges already private
  KVM_TDX_FINALIZE_VM = 4,   // vm
  KVM_TDX_GET_CPUID = 5,     // vcpu
};
struct kvm_tdx_cmd {
  __u32 id;
  __u32 flags;
  __u64 data;      // an immediate or a user pointer
  __u64 hw_error;  // out: the TDX module's status
};
struct kvm_tdx_capabilities {
  __u64 supported_attrs;
  __u64 supported_xfam;
  __u64 kernel_tdvmcallinfo_1_r11;
  __u64 user_tdvmcallinfo_1_r11;
  __u64 kernel_tdvmcallinfo_1_r12;
  __u64 user_tdvmcallinfo_1_r12;
  __u64 reserved[250];
  struct gmem_cpuid2_header cpuid;  // in: room (nent); out: configurable bits
};
struct kvm_tdx_init_vm {
  __u64 attributes;
  __u64 xfam;
  __u64 mrconfigid[6];
  __u64 mrowner[6];
  __u64 mrownerconfig[6];
  __u64 reserved[12];
  struct gmem_cpuid2_header cpuid;  // the TD's CPUID configuration follows
};
struct kvm_tdx_init_mem_region {
  __u64 source_addr;
  __u64 gpa;
  __u64 nr_pages;
};
#endif

// ---- layouts ----------------------------------------------------------------
// Pinned here as well, so a typo fails every build, not only kvm_check.cc.
static_assert(sizeof(struct kvm_userspace_memory_region2) == 160, "region2 size");
static_assert(offsetof(struct kvm_userspace_memory_region2, guest_memfd_offset) == 32,
              "region2 layout");
static_assert(offsetof(struct kvm_userspace_memory_region2, guest_memfd) == 40,
              "region2 layout");
static_assert(sizeof(struct kvm_memory_attributes) == 32, "attributes size");
static_assert(sizeof(struct kvm_memory_attributes2) == 128, "attributes2 size");
static_assert(offsetof(struct kvm_memory_attributes2, error_offset) == 32, "attributes2 layout");
static_assert(sizeof(struct kvm_create_guest_memfd) == 64, "create_guest_memfd size");
static_assert(sizeof(struct kvm_pre_fault_memory) == 64, "pre_fault_memory size");
static_assert(sizeof(struct gmem_cpuid2_header) == 8, "kvm_cpuid2 header size");
static_assert(offsetof(struct kvm_run, padding) == 32, "kvm_run exit union offset");
static_assert(sizeof(struct gmem_memory_fault_exit) <= sizeof(((struct kvm_run*)0)->padding),
              "memory_fault fits the exit union");
static_assert(sizeof(struct kvm_sev_cmd) == 24, "kvm_sev_cmd size");
static_assert(sizeof(struct kvm_sev_init) == 48, "kvm_sev_init size");
static_assert(sizeof(struct kvm_sev_snp_launch_start) == 64, "snp_launch_start size");
static_assert(sizeof(struct kvm_sev_snp_launch_update) == 64, "snp_launch_update size");
static_assert(offsetof(struct kvm_sev_snp_launch_update, type) == 24, "snp_launch_update layout");
static_assert(sizeof(struct kvm_sev_snp_launch_finish) == 88, "snp_launch_finish size");
static_assert(offsetof(struct kvm_sev_snp_launch_finish, flags) == 54, "snp_launch_finish layout");
static_assert(sizeof(struct kvm_tdx_cmd) == 24, "kvm_tdx_cmd size");
static_assert(offsetof(struct kvm_tdx_capabilities, cpuid) == 2048, "tdx_capabilities layout");
static_assert(sizeof(struct kvm_tdx_capabilities) == 2056, "tdx_capabilities size");
static_assert(offsetof(struct kvm_tdx_init_vm, cpuid) == 256, "tdx_init_vm layout");
static_assert(sizeof(struct kvm_tdx_init_vm) == 264, "tdx_init_vm size");
static_assert(sizeof(struct kvm_tdx_init_mem_region) == 24, "tdx_init_mem_region size");
