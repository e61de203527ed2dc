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
