// Skip helpers: a test whose kernel lacks the ABI it needs skips, naming it.
#pragma once

#include <gtest/gtest.h>

#include "selftests/lib/kvm.h"

#define GMT_REQUIRE_KVM(fd)                                             \
  do {                                                                  \
    if (!(fd).valid()) GTEST_SKIP() << "/dev/kvm: " << strerror(errno); \
  } while (0)

#define GMT_REQUIRE_CAP(fd, cap)                                        \
  do {                                                                  \
    if (gmt::CheckExtension((fd), (cap)) <= 0)                          \
      GTEST_SKIP() << #cap " not supported by this kernel";             \
  } while (0)

#define GMT_REQUIRE_VM_TYPE(kvmfd, type)                                \
  do {                                                                  \
    if (!gmt::VmTypeSupported((kvmfd), (type)))                         \
      GTEST_SKIP() << "VM type " #type " not supported by this kernel"; \
  } while (0)

#define GMT_ASSERT_VM(tvm) ASSERT_TRUE((tvm).ok()) << (tvm).error()
