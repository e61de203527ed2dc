// Compile-time check of common/uapi/kvm.h against a kernel's exported uapi
// headers: every number, size and offset our header defines must equal the
// reference's.  Not a Bazel target: common/uapi/check.sh compiles it with
// -isystem REF/include, once for Debian's 6.12 and once for the patched tree.
//
// How: the reference's definitions are snapshotted first (namespace ref),
// then every name common/uapi/kvm.h guards is #undef'd and the header is
// included again inside namespace ours, where none of its #ifndef guards
// holds, so all of our definitions are compiled and compared.  check.sh fails
// if a name the header guards is missing from the #undef list below.
//
// GMEM_UAPI_REQUIRE_ALL (the patched tree) also checks the 6.18 names, which
// 6.12 lacks.
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/types.h>
#include <stddef.h>
#include <string.h>

#if GMEM_UAPI_REQUIRE_ALL || defined(KVM_CAP_GUEST_MEMFD_FLAGS)
#define GMEM_UAPI_CHECK_6_18 1
#else
#define GMEM_UAPI_CHECK_6_18 0
#endif
// The in-place conversion posting's names: only the patched tree has them.
#if GMEM_UAPI_REQUIRE_ALL || defined(KVM_SET_MEMORY_ATTRIBUTES2)
#define GMEM_UAPI_CHECK_POSTED 1
#else
#define GMEM_UAPI_CHECK_POSTED 0
#endif
// SEV-SNP's launch ABI (6.11+): 6.12 has it, the patched 6.1 tree does not.
// TDX (6.16) is in neither reference: kvm.h pins its numbers and sizes.
#if defined(KVM_SEV_SNP_PAGE_TYPE_NORMAL)
#define GMEM_UAPI_CHECK_SNP 1
#else
#define GMEM_UAPI_CHECK_SNP 0
#endif

// Every number, by name.
#define GMEM_UAPI_NUMBERS(X)       \
  X(KVM_CAP_EXIT_HYPERCALL)        \
  X(KVM_CAP_USER_MEMORY2)          \
  X(KVM_CAP_MEMORY_FAULT_INFO)     \
  X(KVM_CAP_MEMORY_ATTRIBUTES)     \
  X(KVM_CAP_GUEST_MEMFD)           \
  X(KVM_CAP_VM_TYPES)              \
  X(KVM_CAP_PRE_FAULT_MEMORY)      \
  X(KVM_X86_DEFAULT_VM)            \
  X(KVM_X86_SW_PROTECTED_VM)       \
  X(KVM_MEM_GUEST_MEMFD)           \
  X(KVM_SET_USER_MEMORY_REGION2)   \
  X(KVM_SET_MEMORY_ATTRIBUTES)     \
  X(KVM_MEMORY_ATTRIBUTE_PRIVATE)  \
  X(KVM_CREATE_GUEST_MEMFD)        \
  X(KVM_PRE_FAULT_MEMORY)          \
  X(KVM_EXIT_MEMORY_FAULT)         \
  X(KVM_MEMORY_EXIT_FLAG_PRIVATE)  \
  X(KVM_HC_MAP_GPA_RANGE)          \
  X(KVM_MAP_GPA_RANGE_PAGE_SZ_4K)  \
  X(KVM_MAP_GPA_RANGE_PAGE_SZ_2M)  \
  X(KVM_MAP_GPA_RANGE_PAGE_SZ_1G)  \
  X(KVM_MAP_GPA_RANGE_ENCRYPTED)   \
  X(KVM_MAP_GPA_RANGE_DECRYPTED)
#define GMEM_UAPI_NUMBERS_6_18(X)  \
  X(KVM_CAP_GUEST_MEMFD_FLAGS)     \
  X(GUEST_MEMFD_FLAG_MMAP)         \
  X(GUEST_MEMFD_FLAG_INIT_SHARED)
#define GMEM_UAPI_NUMBERS_POSTED(X)          \
  X(KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES)   \
  X(KVM_SET_MEMORY_ATTRIBUTES2)              \
  X(GUEST_MEMFD_FLAG_NO_DIRECT_MAP)

#define GMEM_UAPI_NUMBERS_SNP(X)          \
  X(KVM_X86_SNP_VM)                       \
  X(KVM_SEV_INIT2)                        \
  X(KVM_SEV_SNP_LAUNCH_START)             \
  X(KVM_SEV_SNP_LAUNCH_UPDATE)            \
  X(KVM_SEV_SNP_LAUNCH_FINISH)            \
  X(KVM_SEV_SNP_PAGE_TYPE_NORMAL)         \
  X(KVM_SEV_SNP_PAGE_TYPE_ZERO)           \
  X(KVM_SEV_SNP_PAGE_TYPE_UNMEASURED)     \
  X(KVM_SEV_SNP_PAGE_TYPE_SECRETS)        \
  X(KVM_SEV_SNP_PAGE_TYPE_CPUID)

#define GMEM_SNAPSHOT(name) constexpr unsigned long long name##_v = (name);

namespace ref {
GMEM_UAPI_NUMBERS(GMEM_SNAPSHOT)
#if GMEM_UAPI_CHECK_6_18
GMEM_UAPI_NUMBERS_6_18(GMEM_SNAPSHOT)
#endif
#if GMEM_UAPI_CHECK_POSTED
GMEM_UAPI_NUMBERS_POSTED(GMEM_SNAPSHOT)
#endif
#if GMEM_UAPI_CHECK_SNP
GMEM_UAPI_NUMBERS_SNP(GMEM_SNAPSHOT)
#endif
// The CPUID ioctls, which common/uapi/kvm.h defines under gmem_ names: the
// reference's numbers are wrong in C++ (see there), so compare the parts.
constexpr unsigned long long kGetSupportedCpuid = KVM_GET_SUPPORTED_CPUID;
constexpr unsigned long long kSetCpuid2 = KVM_SET_CPUID2;
constexpr unsigned long long kSetMsrs = KVM_SET_MSRS;
using memory_fault = decltype(::kvm_run::memory_fault);
}  // namespace ref

// Every name common/uapi/kvm.h defines behind #ifndef (check.sh keeps this
// list complete).
#undef KVM_CAP_EXIT_HYPERCALL
#undef KVM_CAP_USER_MEMORY2
#undef KVM_CAP_MEMORY_FAULT_INFO
#undef KVM_CAP_MEMORY_ATTRIBUTES
#undef KVM_CAP_GUEST_MEMFD
#undef KVM_CAP_VM_TYPES
#undef KVM_CAP_PRE_FAULT_MEMORY
#undef KVM_CAP_GUEST_MEMFD_FLAGS
#undef KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES
#undef KVM_SET_MEMORY_ATTRIBUTES2
#undef KVM_X86_DEFAULT_VM
#undef KVM_X86_SW_PROTECTED_VM
#undef KVM_MEM_GUEST_MEMFD
#undef KVM_SET_USER_MEMORY_REGION2
#undef KVM_SET_MEMORY_ATTRIBUTES
#undef KVM_MEMORY_ATTRIBUTE_PRIVATE
#undef KVM_CREATE_GUEST_MEMFD
#undef GUEST_MEMFD_FLAG_MMAP
#undef GUEST_MEMFD_FLAG_INIT_SHARED
#undef GUEST_MEMFD_FLAG_NO_DIRECT_MAP
#undef KVM_PRE_FAULT_MEMORY
#undef KVM_EXIT_MEMORY_FAULT
#undef KVM_MEMORY_EXIT_FLAG_PRIVATE
#undef KVM_HC_MAP_GPA_RANGE
#undef KVM_MAP_GPA_RANGE_PAGE_SZ_4K
#undef KVM_MAP_GPA_RANGE_PAGE_SZ_2M
#undef KVM_MAP_GPA_RANGE_PAGE_SZ_1G
#undef KVM_MAP_GPA_RANGE_ENCRYPTED
#undef KVM_MAP_GPA_RANGE_DECRYPTED
#undef KVM_X86_SNP_VM
#undef KVM_X86_TDX_VM
#undef KVM_SEV_SNP_PAGE_TYPE_NORMAL
#undef KVM_SEV_SNP_PAGE_TYPE_ZERO
#undef KVM_SEV_SNP_PAGE_TYPE_UNMEASURED
#undef KVM_SEV_SNP_PAGE_TYPE_SECRETS
#undef KVM_SEV_SNP_PAGE_TYPE_CPUID
#undef KVM_TDX_MEASURE_MEMORY_REGION

namespace ours {
#include "common/uapi/kvm.h"

GMEM_UAPI_NUMBERS(GMEM_SNAPSHOT)
GMEM_UAPI_NUMBERS_6_18(GMEM_SNAPSHOT)
GMEM_UAPI_NUMBERS_POSTED(GMEM_SNAPSHOT)
GMEM_UAPI_NUMBERS_SNP(GMEM_SNAPSHOT)
constexpr unsigned long long kGetSupportedCpuid = GMEM_GET_SUPPORTED_CPUID;
constexpr unsigned long long kSetCpuid2 = GMEM_SET_CPUID2;
constexpr unsigned long long kSetMsrs = GMEM_SET_MSRS;
}  // namespace ours

#define GMEM_SAME_NUMBER(name) \
  static_assert(ref::name##_v == ours::name##_v, #name " differs from the reference");
GMEM_UAPI_NUMBERS(GMEM_SAME_NUMBER)
#if GMEM_UAPI_CHECK_6_18
GMEM_UAPI_NUMBERS_6_18(GMEM_SAME_NUMBER)
#endif
#if GMEM_UAPI_CHECK_POSTED
GMEM_UAPI_NUMBERS_POSTED(GMEM_SAME_NUMBER)
#endif
#if GMEM_UAPI_CHECK_SNP
GMEM_UAPI_NUMBERS_SNP(GMEM_SAME_NUMBER)
#endif

// Structures: same size, and each field at the same offset with the same size.
#define GMEM_SAME_SIZE(ref_type, our_type) \
  static_assert(sizeof(ref_type) == sizeof(our_type), "sizeof(" #our_type ") differs");
#define GMEM_SAME_FIELD(ref_type, our_type, field)                                    \
  static_assert(offsetof(ref_type, field) == offsetof(our_type, field),               \
                "offsetof(" #our_type ", " #field ") differs");                       \
  static_assert(sizeof(static_cast<ref_type*>(nullptr)->field) ==                      \
                    sizeof(static_cast<our_type*>(nullptr)->field),                    \
                "sizeof(" #our_type "::" #field ") differs");
#define GMEM_SAME_STRUCT_FIELD(type, field) GMEM_SAME_FIELD(::type, ours::type, field)

GMEM_SAME_SIZE(::kvm_userspace_memory_region2, ours::kvm_userspace_memory_region2)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, slot)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, flags)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, guest_phys_addr)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, memory_size)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, userspace_addr)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, guest_memfd_offset)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, guest_memfd)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, pad1)
GMEM_SAME_STRUCT_FIELD(kvm_userspace_memory_region2, pad2)

GMEM_SAME_SIZE(::kvm_memory_attributes, ours::kvm_memory_attributes)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes, address)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes, size)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes, attributes)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes, flags)

#if GMEM_UAPI_CHECK_POSTED
GMEM_SAME_SIZE(::kvm_memory_attributes2, ours::kvm_memory_attributes2)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes2, address)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes2, offset)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes2, size)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes2, attributes)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes2, flags)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes2, error_offset)
GMEM_SAME_STRUCT_FIELD(kvm_memory_attributes2, reserved)
#endif

GMEM_SAME_SIZE(::kvm_create_guest_memfd, ours::kvm_create_guest_memfd)
GMEM_SAME_STRUCT_FIELD(kvm_create_guest_memfd, size)
GMEM_SAME_STRUCT_FIELD(kvm_create_guest_memfd, flags)
GMEM_SAME_STRUCT_FIELD(kvm_create_guest_memfd, reserved)

GMEM_SAME_SIZE(::kvm_pre_fault_memory, ours::kvm_pre_fault_memory)
GMEM_SAME_STRUCT_FIELD(kvm_pre_fault_memory, gpa)
GMEM_SAME_STRUCT_FIELD(kvm_pre_fault_memory, size)
GMEM_SAME_STRUCT_FIELD(kvm_pre_fault_memory, flags)
GMEM_SAME_STRUCT_FIELD(kvm_pre_fault_memory, padding)

// kvm_run.memory_fault: where gmem_read_memory_fault() reads it (the exit
// union's start), and the same fields.
static_assert(offsetof(::kvm_run, memory_fault) == offsetof(::kvm_run, padding),
              "kvm_run.memory_fault is not at the exit union's start");
GMEM_SAME_SIZE(ref::memory_fault, ours::gmem_memory_fault_exit)
GMEM_SAME_FIELD(ref::memory_fault, ours::gmem_memory_fault_exit, flags)
GMEM_SAME_FIELD(ref::memory_fault, ours::gmem_memory_fault_exit, gpa)
GMEM_SAME_FIELD(ref::memory_fault, ours::gmem_memory_fault_exit, size)

// CPUID: same direction, type and number as the reference; the size is
// kvm_cpuid2's header in C, 8 (the reference's number in C++ carries 12).
constexpr unsigned long long kIocSizeBits = (unsigned long long)_IOC_SIZEMASK << _IOC_SIZESHIFT;
static_assert(_IOC_SIZE(ours::kGetSupportedCpuid) == 8 && _IOC_SIZE(ours::kSetCpuid2) == 8,
              "gmem_cpuid2_header is not kvm_cpuid2's C header");
static_assert((ref::kGetSupportedCpuid & ~kIocSizeBits) == (ours::kGetSupportedCpuid & ~kIocSizeBits),
              "KVM_GET_SUPPORTED_CPUID differs");
static_assert((ref::kSetCpuid2 & ~kIocSizeBits) == (ours::kSetCpuid2 & ~kIocSizeBits),
              "KVM_SET_CPUID2 differs");
// KVM_SET_MSRS likewise: kvm_msrs's header is 8 bytes in C.
static_assert(_IOC_SIZE(ours::kSetMsrs) == 8, "gmem_msrs_header is not kvm_msrs's C header");
static_assert((ref::kSetMsrs & ~kIocSizeBits) == (ours::kSetMsrs & ~kIocSizeBits),
              "KVM_SET_MSRS differs");

#if GMEM_UAPI_CHECK_SNP
GMEM_SAME_SIZE(::kvm_sev_init, ours::kvm_sev_init)
GMEM_SAME_STRUCT_FIELD(kvm_sev_init, vmsa_features)
GMEM_SAME_STRUCT_FIELD(kvm_sev_init, flags)
GMEM_SAME_STRUCT_FIELD(kvm_sev_init, ghcb_version)
GMEM_SAME_STRUCT_FIELD(kvm_sev_init, pad1)
GMEM_SAME_STRUCT_FIELD(kvm_sev_init, pad2)

GMEM_SAME_SIZE(::kvm_sev_snp_launch_start, ours::kvm_sev_snp_launch_start)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_start, policy)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_start, gosvw)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_start, flags)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_start, pad0)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_start, pad1)

GMEM_SAME_SIZE(::kvm_sev_snp_launch_update, ours::kvm_sev_snp_launch_update)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_update, gfn_start)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_update, uaddr)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_update, len)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_update, type)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_update, pad0)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_update, flags)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_update, pad1)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_update, pad2)

GMEM_SAME_SIZE(::kvm_sev_snp_launch_finish, ours::kvm_sev_snp_launch_finish)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, id_block_uaddr)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, id_auth_uaddr)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, id_block_en)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, auth_key_en)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, vcek_disabled)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, host_data)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, pad0)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, flags)
GMEM_SAME_STRUCT_FIELD(kvm_sev_snp_launch_finish, pad1)
#endif
