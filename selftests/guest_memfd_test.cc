// KVM_CREATE_GUEST_MEMFD: the file's own ABI (size, flags, fallocate, what
// it refuses) and memslot binding, on our kernel and on the host's upstream
// one.  Bad bindings and the close orders of file, memslot and VM are the
// series' guest_memfd_lifetime_test's.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>

#include <cstring>
#include <utility>

#include "selftests/lib/abi_version.h"
#include "selftests/lib/kvm.h"
#include "selftests/lib/skip.h"

namespace gmt {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kGmemSize = 4 << 20;
constexpr uint64_t kDataGpa = 0x100000;

// A VM that may bind guest_memfd: SW-protected where the kernel has it
// (6.8+ and our series), else the default type (upstream 6.18+).
unsigned GmemVmType(int kvm) {
  return VmTypeSupported(kvm, KVM_X86_SW_PROTECTED_VM) ? KVM_X86_SW_PROTECTED_VM
                                                       : KVM_X86_DEFAULT_VM;
}

class GuestMemfd : public testing::Test {
 protected:
  void SetUp() override {
    kvm_ = OpenKvm();
    GMT_REQUIRE_KVM(kvm_);
    GMT_REQUIRE_CAP(kvm_.get(), KVM_CAP_GUEST_MEMFD);
    vm_.reset(static_cast<int>(Ioctl(kvm_.get(), KVM_CREATE_VM, GmemVmType(kvm_.get()))));
    ASSERT_TRUE(vm_.valid());
  }
  UniqueFd Create(uint64_t size, uint64_t flags = 0) {
    return UniqueFd(static_cast<int>(CreateGuestMemfd(vm_.get(), size, flags)));
  }
  UniqueFd kvm_, vm_;
};

TEST_F(GuestMemfd, BadSizesAreRejected) {
  EXPECT_EQ(CreateGuestMemfd(vm_.get(), 0, 0), -EINVAL);
  EXPECT_EQ(CreateGuestMemfd(vm_.get(), kPage - 1, 0), -EINVAL);
  EXPECT_EQ(CreateGuestMemfd(vm_.get(), kPage + 1, 0), -EINVAL);
  EXPECT_EQ(CreateGuestMemfd(vm_.get(), ~0ULL & ~(kPage - 1), 0), -EINVAL);  // negative loff_t
}

TEST_F(GuestMemfd, UnknownFlagsAreRejected) {
  long supported = CheckExtension(kvm_.get(), KVM_CAP_GUEST_MEMFD_FLAGS);
  if (supported < 0) supported = 0;
  for (int bit = 0; bit < 64; bit++) {
    uint64_t flag = 1ULL << bit;
    if (supported & flag) continue;
    EXPECT_EQ(CreateGuestMemfd(vm_.get(), kPage, flag), -EINVAL) << "flag bit " << bit;
  }
}

TEST_F(GuestMemfd, ReservedFieldsAreIgnored) {
  // Upstream does not check reserved[], and neither does our series.
  for (int i = 0; i < 6; i++) {
    kvm_create_guest_memfd args = {};
    args.size = kPage;
    args.reserved[i] = 1;
    long r = Ioctl(vm_.get(), KVM_CREATE_GUEST_MEMFD, &args);
    if (r >= 0) close(static_cast<int>(r));
    EXPECT_GE(r, 0) << "reserved[" << i << "]: " << strerror(static_cast<int>(-r));
  }
}

TEST_F(GuestMemfd, SizeIsFixedAndVisible) {
  UniqueFd f = Create(kGmemSize);
  ASSERT_TRUE(f.valid());
  struct stat st;
  ASSERT_EQ(fstat(f.get(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kGmemSize);
  EXPECT_EQ(static_cast<uint64_t>(st.st_blksize), kPage);
  EXPECT_NE(ftruncate(f.get(), kGmemSize * 2), 0);
  EXPECT_NE(ftruncate(f.get(), kPage), 0);
  ASSERT_EQ(fstat(f.get(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kGmemSize);
}

TEST_F(GuestMemfd, ReadAndWriteAreRefused) {
  UniqueFd f = Create(kGmemSize);
  ASSERT_TRUE(f.valid());
  char buf[64] = {};
  EXPECT_LT(read(f.get(), buf, sizeof(buf)), 0);
  EXPECT_LT(write(f.get(), buf, sizeof(buf)), 0);
  EXPECT_LT(pread(f.get(), buf, sizeof(buf), 0), 0);
  EXPECT_LT(pwrite(f.get(), buf, sizeof(buf), 0), 0);
}

TEST_F(GuestMemfd, MmapIsRefusedWithoutTheMmapFlag) {
  UniqueFd f = Create(kGmemSize);
  ASSERT_TRUE(f.valid());
  Mapping m = Mapping::Map(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, f.get(), 0);
  EXPECT_FALSE(m.valid());
}

TEST_F(GuestMemfd, FallocateModes) {
  UniqueFd f = Create(kGmemSize);
  ASSERT_TRUE(f.valid());
  // Only KEEP_SIZE allocation and PUNCH_HOLE are offered.
  EXPECT_NE(fallocate(f.get(), 0, 0, kPage), 0);
  EXPECT_EQ(errno, EOPNOTSUPP);
  EXPECT_NE(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE, 0, kPage), 0);
  EXPECT_EQ(errno, EOPNOTSUPP);
  EXPECT_NE(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_COLLAPSE_RANGE, 0, kPage), 0);
  // Unaligned ranges are invalid.
  EXPECT_NE(fallocate(f.get(), FALLOC_FL_KEEP_SIZE, 1, kPage), 0);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(fallocate(f.get(), FALLOC_FL_KEEP_SIZE, 0, kPage - 1), 0);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, kPage / 2, kPage), 0);
  EXPECT_EQ(errno, EINVAL);
  // Allocation past the end does not grow the file.
  EXPECT_NE(fallocate(f.get(), FALLOC_FL_KEEP_SIZE, kGmemSize - kPage, 2 * kPage), 0);
  EXPECT_EQ(errno, EINVAL);
  // Valid allocate and punch, repeatedly, in any order.
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(fallocate(f.get(), FALLOC_FL_KEEP_SIZE, 0, kGmemSize), 0) << strerror(errno);
    EXPECT_EQ(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, kPage, kPage), 0)
        << strerror(errno);
    EXPECT_EQ(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, kGmemSize), 0)
        << strerror(errno);
  }
  // Punching a hole that was never allocated is fine too, and so is one at
  // or past the end; allocating there is not.
  EXPECT_EQ(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, kPage), 0);
  EXPECT_EQ(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, kGmemSize, kPage), 0);
  EXPECT_EQ(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, kGmemSize + kPage,
                      kPage),
            0);
  EXPECT_NE(fallocate(f.get(), FALLOC_FL_KEEP_SIZE, kGmemSize, kPage), 0);
  EXPECT_NE(fallocate(f.get(), FALLOC_FL_KEEP_SIZE, kGmemSize + kPage, kPage), 0);
  // Every misaligned hole is EINVAL.
  const std::pair<off_t, off_t> misaligned[] = {
      {0, 1}, {0, kPage - 1}, {0, kPage + 1}, {1, 1}, {1, kPage - 1},
      {1, kPage}, {1, kPage + 1}, {kPage, 1}, {kPage, kPage - 1}, {kPage, kPage + 1}};
  for (auto [off, len] : misaligned) {
    errno = 0;
    EXPECT_EQ(fallocate(f.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off, len), -1)
        << off << "+" << len;
    EXPECT_EQ(errno, EINVAL) << off << "+" << len;
  }
  struct stat st;
  ASSERT_EQ(fstat(f.get(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kGmemSize);
}

TEST_F(GuestMemfd, EveryFileIsItsOwnInode) {
  UniqueFd a = Create(kGmemSize), b = Create(kGmemSize);
  ASSERT_TRUE(a.valid() && b.valid());
  struct stat sa, sb;
  ASSERT_EQ(fstat(a.get(), &sa), 0);
  ASSERT_EQ(fstat(b.get(), &sb), 0);
  EXPECT_NE(sa.st_ino, sb.st_ino);
}

class GuestMemfdBinding : public GuestMemfd {
 protected:
  void SetUp() override {
    GuestMemfd::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    gmem_ = Create(kGmemSize);
    ASSERT_TRUE(gmem_.valid());
    shared_ = Mapping::Map(kGmemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(shared_.valid());
    // Probe: may this VM bind guest_memfd at all?
    Region2 r = Slot(1, 0, kGmemSize);
    long probe = SetRegion2(vm_.get(), r);
    if (probe == -EINVAL) GTEST_SKIP() << "this kernel binds guest_memfd only to other VM types";
    ASSERT_EQ(probe, 0);
    r.size = 0;
    r.flags = 0;
    ASSERT_EQ(SetRegion2(vm_.get(), r), 0);
  }
  Region2 Slot(uint32_t slot, uint64_t offset, uint64_t size, uint64_t gpa = kDataGpa) {
    Region2 r;
    r.slot = slot;
    r.flags = KVM_MEM_GUEST_MEMFD;
    r.gpa = gpa;
    r.size = size;
    r.hva = reinterpret_cast<uint64_t>(shared_.data());
    r.gmem_offset = offset;
    r.gmem_fd = gmem_.get();
    return r;
  }
  UniqueFd gmem_;
  Mapping shared_;
};

TEST_F(GuestMemfdBinding, RangesOfOneFileMayNotOverlap) {
  constexpr uint64_t kHalf = kGmemSize / 2;
  ASSERT_EQ(SetRegion2(vm_.get(), Slot(1, 0, kHalf)), 0);
  // Same file range at another GPA: refused.
  EXPECT_EQ(SetRegion2(vm_.get(), Slot(2, 0, kHalf, kDataGpa + kGmemSize)), AlreadyBoundErrno());
  EXPECT_EQ(SetRegion2(vm_.get(), Slot(2, kHalf - kPage, kHalf, kDataGpa + kGmemSize)),
            AlreadyBoundErrno());
  // The other half is free.
  EXPECT_EQ(SetRegion2(vm_.get(), Slot(2, kHalf, kHalf, kDataGpa + kGmemSize)), 0);
  // Deleting a slot frees its range for a new binding.
  Region2 del = Slot(1, 0, 0);
  del.flags = 0;
  ASSERT_EQ(SetRegion2(vm_.get(), del), 0);
  EXPECT_EQ(SetRegion2(vm_.get(), Slot(3, 0, kHalf, kDataGpa + 2 * kGmemSize)), 0);
}

TEST_F(GuestMemfdBinding, GuestMemfdSlotsCannotBeMovedOrChanged) {
  ASSERT_EQ(SetRegion2(vm_.get(), Slot(1, 0, kGmemSize)), 0);
  Region2 moved = Slot(1, 0, kGmemSize, kDataGpa + kGmemSize);
  EXPECT_EQ(SetRegion2(vm_.get(), moved), -EINVAL);
  Region2 dirty = Slot(1, 0, kGmemSize);
  dirty.flags |= KVM_MEM_LOG_DIRTY_PAGES;
  EXPECT_EQ(SetRegion2(vm_.get(), dirty), -EINVAL);
  Region2 readonly = Slot(2, 0, kPage, kDataGpa + kGmemSize);
  readonly.flags |= KVM_MEM_READONLY;
  EXPECT_EQ(SetRegion2(vm_.get(), readonly), -EINVAL);
}

TEST_F(GuestMemfdBinding, RebindAfterDelete) {
  for (int i = 0; i < 8; i++) {
    ASSERT_EQ(SetRegion2(vm_.get(), Slot(1, 0, kGmemSize)), 0) << "round " << i;
    Region2 del = Slot(1, 0, 0);
    del.flags = 0;
    ASSERT_EQ(SetRegion2(vm_.get(), del), 0) << "round " << i;
  }
}

TEST_F(GuestMemfdBinding, ManyFilesManySlots) {
  std::vector<UniqueFd> files;
  for (uint32_t i = 0; i < 16; i++) {
    files.push_back(Create(kPage * 4));
    ASSERT_TRUE(files.back().valid());
    Region2 r = Slot(10 + i, 0, kPage * 4, kDataGpa + i * kPage * 4);
    r.gmem_fd = files.back().get();
    ASSERT_EQ(SetRegion2(vm_.get(), r), 0) << i;
  }
  // Close half the files, then the VM, then the rest.
  for (size_t i = 0; i < files.size(); i += 2) files[i].reset();
  vm_.reset();
  files.clear();
}

}  // namespace
}  // namespace gmt
