// guest_memfd and confidential-memory KVM ABI (upstream 6.18 numbering).
//
// Debian 12's <linux/kvm.h> is the 6.1 uapi and lacks everything below.
// These are our own definitions of the upstream ABI, checked field by field
// against include/uapi/linux/kvm.h; the static_asserts pin the layout so a
// typo cannot silently change the ioctl numbers (which encode the sizes).
#pragma once

#include <linux/kvm.h>
#include <linux/types.h>
#include <stddef.h>

// ---- capabilities -------------------------------------------------------
#ifndef KVM_CAP_EXIT_HYPERCALL
#define KVM_CAP_EXIT_HYPERCALL 201
#endif
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
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
#ifndef KVM_CAP_GUEST_MEMFD_FLAGS
#define KVM_CAP_GUEST_MEMFD_FLAGS 244  // returns the supported flag mask
#endif

// ---- VM types (x86) -----------------------------------------------------
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#endif
#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM 1
#endif

// ---- KVM_SET_USER_MEMORY_REGION2 ----------------------------------------
#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD (1u << 2)
#endif

struct gmem_userspace_memory_region2 {
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
static_assert(sizeof(gmem_userspace_memory_region2) == 160);
static_assert(offsetof(gmem_userspace_memory_region2, guest_memfd_offset) == 32);
static_assert(offsetof(gmem_userspace_memory_region2, guest_memfd) == 40);
#define GMEM_SET_USER_MEMORY_REGION2 \
  _IOW(KVMIO, 0x49, struct gmem_userspace_memory_region2)

// ---- KVM_SET_MEMORY_ATTRIBUTES --------------------------------------------
struct gmem_memory_attributes {
  __u64 address;
  __u64 size;
  __u64 attributes;
  __u64 flags;
};
static_assert(sizeof(gmem_memory_attributes) == 32);
#define GMEM_SET_MEMORY_ATTRIBUTES \
  _IOW(KVMIO, 0xd2, struct gmem_memory_attributes)
#ifndef KVM_MEMORY_ATTRIBUTE_PRIVATE
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ull << 3)
#endif

// ---- KVM_CREATE_GUEST_MEMFD ---------------------------------------------
struct gmem_create_guest_memfd {
  __u64 size;
  __u64 flags;
  __u64 reserved[6];
};
static_assert(sizeof(gmem_create_guest_memfd) == 64);
#define GMEM_CREATE_GUEST_MEMFD \
  _IOWR(KVMIO, 0xd4, struct gmem_create_guest_memfd)
#ifndef GUEST_MEMFD_FLAG_MMAP
#define GUEST_MEMFD_FLAG_MMAP (1ull << 0)
#endif
#ifndef GUEST_MEMFD_FLAG_INIT_SHARED
#define GUEST_MEMFD_FLAG_INIT_SHARED (1ull << 1)
#endif

// ---- exits ----------------------------------------------------------------
// KVM_EXIT_HYPERCALL is 3 (already in the 6.1 header); 9 is FAIL_ENTRY.
static_assert(KVM_EXIT_HYPERCALL == 3);
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif
#ifndef KVM_MEMORY_EXIT_FLAG_PRIVATE
#define KVM_MEMORY_EXIT_FLAG_PRIVATE (1ull << 3)
#endif

// kvm_run.memory_fault sits in the exit union (offset 32 in kvm_run), which
// the 6.1 header does not name; read it through this overlay.
struct gmem_memory_fault_exit {
  __u64 flags;
  __u64 gpa;
  __u64 size;
};
static_assert(offsetof(struct kvm_run, hw) == 32);
static_assert(offsetof(struct kvm_run, hypercall) == 32);
static_assert(sizeof(((struct kvm_run*)0)->hypercall) == 72);

// ---- hypercalls -----------------------------------------------------------
#ifndef KVM_HC_MAP_GPA_RANGE
#define KVM_HC_MAP_GPA_RANGE 12
#endif
#ifndef KVM_MAP_GPA_RANGE_PAGE_SZ_4K
#define KVM_MAP_GPA_RANGE_PAGE_SZ_4K 0
#define KVM_MAP_GPA_RANGE_PAGE_SZ_2M (1 << 0)
#define KVM_MAP_GPA_RANGE_PAGE_SZ_1G (1 << 1)
#define KVM_MAP_GPA_RANGE_ENCRYPTED (1 << 4)
#define KVM_MAP_GPA_RANGE_DECRYPTED (0 << 4)
#endif

// ---- CPUID ----------------------------------------------------------------
// <asm/kvm.h> declares kvm_cpuid2.entries with __DECLARE_FLEX_ARRAY, which
// in C++ adds an empty struct and makes sizeof 12, not 8: the ioctl numbers
// computed from it are wrong in C++.  Use the C layout's size.
struct gmem_cpuid2_header {
  __u32 nent;
  __u32 padding;
};
static_assert(sizeof(gmem_cpuid2_header) == 8);
#define GMEM_GET_SUPPORTED_CPUID _IOWR(KVMIO, 0x05, struct gmem_cpuid2_header)
#define GMEM_SET_CPUID2 _IOW(KVMIO, 0x90, struct gmem_cpuid2_header)
