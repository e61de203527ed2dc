// NUMA policy of guest_memfd memory (upstream 6.19's ABI): mbind() on a
// mapping sets a policy that belongs to the file, get_mempolicy() reports
// it, and every allocation (host fault, fallocate, guest fault) follows it.
// Needs at least two NUMA nodes (harness/run.sh --numa 2); skips by name
// with fewer, unless GMT_REQUIRE_NUMA is set, which makes that a failure.
#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "selftests/lib/kvm.h"
#include "selftests/lib/skip.h"

namespace gmt {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kShared = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;

int NumaNodes() {
  int n = 0;
  DIR* d = opendir("/sys/devices/system/node");
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9') n++;
  }
  closedir(d);
  return n;
}

long Mbind(void* addr, size_t len, int mode, unsigned long nodemask, unsigned flags = 0) {
  long r = syscall(SYS_mbind, addr, len, mode, mode == MPOL_DEFAULT ? nullptr : &nodemask,
                   mode == MPOL_DEFAULT ? 0 : 8 * sizeof(nodemask) + 1, flags);
  return r < 0 ? -errno : r;
}

// The policy that covers |addr|: mode and node mask.
std::pair<int, unsigned long> PolicyAt(void* addr) {
  int mode = -1;
  unsigned long mask = 0;
  if (syscall(SYS_get_mempolicy, &mode, &mask, 8 * sizeof(mask) + 1, addr, MPOL_F_ADDR) != 0)
    return {-errno, 0};
  return {mode, mask};
}

// The node of each page of [addr, addr + n pages), -errno where it is not
// mapped in this process.
std::vector<int> NodesOf(uint8_t* addr, size_t n) {
  std::vector<void*> pages(n);
  std::vector<int> status(n, -1);
  for (size_t i = 0; i < n; i++) pages[i] = addr + i * kPage;
  if (syscall(SYS_move_pages, 0, n, pages.data(), nullptr, status.data(), 0) != 0)
    return std::vector<int>(n, -errno);
  return status;
}

class GmemNuma : public testing::Test {
 protected:
  void SetUp() override {
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    if (!(CheckExtension(kvm.get(), KVM_CAP_GUEST_MEMFD_FLAGS) & GUEST_MEMFD_FLAG_MMAP))
      GTEST_SKIP() << "no GUEST_MEMFD_FLAG_MMAP on this kernel";
    if (NumaNodes() < 2) {
      if (getenv("GMT_REQUIRE_NUMA")) FAIL() << "GMT_REQUIRE_NUMA is set but there is one node";
      GTEST_SKIP() << "fewer than two NUMA nodes";
    }
    vm_ = std::make_unique<TestVm>(KVM_X86_DEFAULT_VM);
    GMT_ASSERT_VM(*vm_);
  }
  // A fresh guest_memfd of |pages| pages, mapped.
  void Make(uint64_t pages) {
    size_ = pages * kPage;
    gmem_ = UniqueFd(static_cast<int>(CreateGuestMemfd(vm_->vm(), size_, kShared)));
    ASSERT_TRUE(gmem_.valid());
    map_ = Mapping::Map(size_, PROT_READ | PROT_WRITE, MAP_SHARED, gmem_.get(), 0);
    ASSERT_TRUE(map_.valid());
  }
  int Punch(uint64_t off, uint64_t len) {
    return fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off, len);
  }
  std::unique_ptr<TestVm> vm_;
  UniqueFd gmem_;
  Mapping map_;
  uint64_t size_ = 0;
};

TEST_F(GmemNuma, PolicyIsSetAndReported) {
  Make(4);
  uint8_t* m = map_.data();
  EXPECT_EQ(Mbind(m, 2 * kPage, MPOL_INTERLEAVE, 0x3), 0);
  EXPECT_EQ(Mbind(m + 2 * kPage, 2 * kPage, MPOL_BIND, 0x2), 0);
  EXPECT_EQ(PolicyAt(m), std::make_pair(static_cast<int>(MPOL_INTERLEAVE), 0x3UL));
  EXPECT_EQ(PolicyAt(m + kPage), std::make_pair(static_cast<int>(MPOL_INTERLEAVE), 0x3UL));
  EXPECT_EQ(PolicyAt(m + 2 * kPage), std::make_pair(static_cast<int>(MPOL_BIND), 0x2UL));
  EXPECT_EQ(PolicyAt(m + 3 * kPage), std::make_pair(static_cast<int>(MPOL_BIND), 0x2UL));
  // The policy is the file's: a second mapping sees it too.
  Mapping again = Mapping::Map(size_, PROT_READ | PROT_WRITE, MAP_SHARED, gmem_.get(), 0);
  ASSERT_TRUE(again.valid());
  EXPECT_EQ(PolicyAt(again.data() + 3 * kPage), std::make_pair(static_cast<int>(MPOL_BIND), 0x2UL));
  EXPECT_EQ(Mbind(m, size_, MPOL_DEFAULT, 0), 0);
  EXPECT_EQ(PolicyAt(m).first, MPOL_DEFAULT);
  EXPECT_EQ(PolicyAt(m + 3 * kPage).first, MPOL_DEFAULT);
  EXPECT_EQ(Mbind(m, kPage, 999, 0x1), -EINVAL) << "invalid mode";
}

TEST_F(GmemNuma, HostFaultsFollowThePolicy) {
  Make(4);
  uint8_t* m = map_.data();
  ASSERT_EQ(Mbind(m, 2 * kPage, MPOL_BIND, 0x2), 0);
  ASSERT_EQ(Mbind(m + 2 * kPage, 2 * kPage, MPOL_BIND, 0x1), 0);
  memset(m, 1, size_);
  EXPECT_EQ(NodesOf(m, 4), (std::vector<int>{1, 1, 0, 0}));
  // Fresh pages after a punch follow a changed policy.
  ASSERT_EQ(Punch(0, size_), 0);
  ASSERT_EQ(Mbind(m, 2 * kPage, MPOL_BIND, 0x1), 0);
  ASSERT_EQ(Mbind(m + 2 * kPage, 2 * kPage, MPOL_BIND, 0x2), 0);
  memset(m, 2, size_);
  EXPECT_EQ(NodesOf(m, 4), (std::vector<int>{0, 0, 1, 1}));
}

TEST_F(GmemNuma, FallocateFollowsThePolicy) {
  Make(8);
  uint8_t* m = map_.data();
  ASSERT_EQ(Mbind(m, size_, MPOL_BIND, 0x2), 0);
  ASSERT_EQ(fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE, 0, size_), 0);
  for (uint64_t off = 0; off < size_; off += kPage) (void)*(volatile uint8_t*)(m + off);
  EXPECT_EQ(NodesOf(m, 8), std::vector<int>(8, 1));
}

TEST_F(GmemNuma, GuestFaultsFollowThePolicy) {
  // A gmem-only slot: the guest touches the memory first.
  constexpr uint64_t kGpa = 0x200000;
  Make(512);
  uint8_t* m = map_.data();
  ASSERT_EQ(Mbind(m, size_, MPOL_BIND, 0x2), 0);
  Region2 r;
  r.slot = 1;
  r.flags = KVM_MEM_GUEST_MEMFD;
  r.gpa = kGpa;
  r.size = size_;
  r.hva = reinterpret_cast<uint64_t>(m);
  r.gmem_fd = gmem_.get();
  ASSERT_EQ(SetRegion2(vm_->vm(), r), 0);
  auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), static_cast<uint32_t>(size_ / 4),
                                    0x33333333, 1});
  ASSERT_TRUE(res.ok) << res.what;
  // Mapping the guest's pages into this process does not allocate.
  for (uint64_t off = 0; off < size_; off += kPage) ASSERT_EQ(m[off], 0x33) << off;
  EXPECT_EQ(NodesOf(m, 512), std::vector<int>(512, 1));
}

TEST_F(GmemNuma, InterleaveSpreadsPages) {
  Make(64);
  uint8_t* m = map_.data();
  ASSERT_EQ(Mbind(m, size_, MPOL_INTERLEAVE, 0x3), 0);
  memset(m, 4, size_);
  std::vector<int> nodes = NodesOf(m, 64);
  int on[2] = {0, 0};
  for (int n : nodes) {
    ASSERT_TRUE(n == 0 || n == 1) << n;
    on[n]++;
  }
  EXPECT_EQ(on[0], 32);
  EXPECT_EQ(on[1], 32);
  // Consecutive pages alternate.
  for (size_t i = 1; i < nodes.size(); i++) EXPECT_NE(nodes[i], nodes[i - 1]) << i;
}

TEST_F(GmemNuma, TaskPolicyAppliesWithoutAFilePolicy) {
  // Without a policy of the file's own, the allocating task's policy
  // (set_mempolicy) decides, as for any other memory.
  Make(8);
  unsigned long node1 = 0x2;
  ASSERT_EQ(syscall(SYS_set_mempolicy, MPOL_BIND, &node1, 8 * sizeof(node1) + 1), 0)
      << strerror(errno);
  memset(map_.data(), 5, size_);
  std::vector<int> nodes = NodesOf(map_.data(), 8);
  ASSERT_EQ(syscall(SYS_set_mempolicy, MPOL_DEFAULT, nullptr, 0), 0);
  EXPECT_EQ(nodes, std::vector<int>(8, 1));
  // A file policy, once set, wins over the task's.
  ASSERT_EQ(Punch(0, size_), 0);
  ASSERT_EQ(Mbind(map_.data(), size_, MPOL_BIND, 0x1), 0);
  ASSERT_EQ(syscall(SYS_set_mempolicy, MPOL_BIND, &node1, 8 * sizeof(node1) + 1), 0);
  memset(map_.data(), 6, size_);
  nodes = NodesOf(map_.data(), 8);
  ASSERT_EQ(syscall(SYS_set_mempolicy, MPOL_DEFAULT, nullptr, 0), 0);
  EXPECT_EQ(nodes, std::vector<int>(8, 0));
}

TEST_F(GmemNuma, ExistingPagesStayWhereTheyAre) {
  // guest_memfd memory cannot migrate (KVM may map it at any time): a new
  // policy applies to pages allocated afterwards, MPOL_MF_MOVE leaves the
  // file's pages in place, and MPOL_MF_STRICT reports that as EIO.
  Make(4);
  uint8_t* m = map_.data();
  ASSERT_EQ(Mbind(m, size_, MPOL_BIND, 0x1), 0);
  memset(m, 7, size_);
  ASSERT_EQ(NodesOf(m, 4), std::vector<int>(4, 0));
  EXPECT_EQ(Mbind(m, size_, MPOL_BIND, 0x2, MPOL_MF_MOVE), 0);
  EXPECT_EQ(NodesOf(m, 4), std::vector<int>(4, 0));
  EXPECT_EQ(PolicyAt(m), std::make_pair(static_cast<int>(MPOL_BIND), 0x2UL));
  EXPECT_EQ(Mbind(m, size_, MPOL_BIND, 0x2, MPOL_MF_MOVE | MPOL_MF_STRICT), -EIO);
  EXPECT_EQ(NodesOf(m, 4), std::vector<int>(4, 0));
  for (uint64_t off = 0; off < size_; off++) ASSERT_EQ(m[off], 7) << off;
  ASSERT_EQ(Punch(0, size_), 0);
  memset(m, 8, size_);
  EXPECT_EQ(NodesOf(m, 4), std::vector<int>(4, 1)) << "new pages follow the new policy";
}

}  // namespace
}  // namespace gmt
