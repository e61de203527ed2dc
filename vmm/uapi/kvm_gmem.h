// Forwards to the project's one guest_memfd uapi header, common/uapi/kvm.h.
// The gmem_ spellings below are the VMM's older names for upstream's
// definitions; new code uses upstream's names (and gmem_read_memory_fault()
// for kvm_run.memory_fault) directly.
#pragma once

#include "common/uapi/kvm.h"

using gmem_userspace_memory_region2 = kvm_userspace_memory_region2;
using gmem_memory_attributes = kvm_memory_attributes;
using gmem_create_guest_memfd = kvm_create_guest_memfd;
#define GMEM_SET_USER_MEMORY_REGION2 KVM_SET_USER_MEMORY_REGION2
#define GMEM_SET_MEMORY_ATTRIBUTES KVM_SET_MEMORY_ATTRIBUTES
#define GMEM_CREATE_GUEST_MEMFD KVM_CREATE_GUEST_MEMFD

// The VMM reads kvm_run.memory_fault through the hypercall member, at the
// same offset.
static_assert(offsetof(struct kvm_run, hypercall) == offsetof(struct kvm_run, padding));
