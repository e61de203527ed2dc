// A SW-protected VM with one data slot backed by guest_memfd (private) and
// anonymous memory (shared), for the private-memory and race tests.
#pragma once

#include <fcntl.h>
#include <linux/falloc.h>

#include <cstring>
#include <memory>

#include "selftests/lib/kvm.h"
#include "selftests/lib/skip.h"

namespace gmt {

constexpr uint64_t kPage = 4096;

class PrivateVmTest : public testing::Test {
 protected:
  static constexpr uint64_t kGpa = 0x200000;
  static constexpr uint64_t kSize = 2 << 20;
  static constexpr uint32_t kSlot = 1;

  void SetUp() override { SetUpAt(kGpa, kSize); }

  // The VM with its data slot of |size| bytes at |gpa|, for fixtures that
  // need another layout than kGpa and kSize.
  void SetUpAt(uint64_t gpa, uint64_t size) {
    gpa_ = gpa;
    size_ = size;
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_GUEST_MEMFD);
    GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_MEMORY_ATTRIBUTES);
    GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
    vm_ = std::make_unique<TestVm>(KVM_X86_SW_PROTECTED_VM);
    ASSERT_TRUE(vm_->ok()) << vm_->error();
    gmem_.reset(static_cast<int>(CreateGuestMemfd(vm_->vm(), size, 0)));
    ASSERT_TRUE(gmem_.valid());
    shared_ = Mapping::Map(size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(shared_.valid());
    ASSERT_EQ(SetRegion2(vm_->vm(), DataSlot()), 0);
  }

  // The data slot: guest_memfd for private memory, shared_ for shared.
  Region2 DataSlot() const { return GmemSlot(kSlot, gpa_, size_, shared_.data(), gmem_.get()); }

  long MakePrivate(uint64_t off, uint64_t len) {
    return SetAttributes(vm_->vm(), gpa_ + off, len, KVM_MEMORY_ATTRIBUTE_PRIVATE);
  }
  long MakeShared(uint64_t off, uint64_t len) { return SetAttributes(vm_->vm(), gpa_ + off, len, 0); }
  int Punch(uint64_t off, uint64_t len) {
    return fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off, len);
  }
  int Allocate(uint64_t off, uint64_t len) {
    return fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE, off, len);
  }
  uint32_t SharedWord(uint64_t off) const {
    uint32_t v;
    std::memcpy(&v, shared_.data() + off, sizeof(v));
    return v;
  }

  uint64_t gpa_ = kGpa;
  uint64_t size_ = kSize;
  std::unique_ptr<TestVm> vm_;
  UniqueFd gmem_;
  Mapping shared_;
};

}  // namespace gmt
