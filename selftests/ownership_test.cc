// Software ownership of SW-protected VMs' private memory
// (kvm.sw_protected_unmap_private): a private page that the guest uses is
// out of the kernel's direct map, so a host kernel read of it (here through
// /dev/mem, as a stray kernel access would) fails with EFAULT instead of
// returning guest data; the page is back in the direct map before it
// becomes shared or is freed.  Pages are located through a gmem-only slot
// of a mappable guest_memfd converted in place, so the kernel must be
// booted with kvm.gmem_in_place_conversion=1; elsewhere every case skips,
// by name.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "selftests/lib/hwpoison.h"
#include "selftests/lib/kvm.h"
#include "selftests/lib/owned_vm.h"
#include "selftests/lib/ownership.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/skip.h"

namespace gmt {
namespace {

using Ownership = OwnedVmTest;

// In-place conversion hands a page in use, contents and all, to the guest
// and back: out of the direct map while private, in it while shared, and
// the same physical page throughout.
TEST_F(Ownership, ConversionTakesAndGivesBackAPageInUse) {
  constexpr uint32_t kHost = 0x0a5e0001, kGuest = 0x0a5e0002;
  const uint64_t pfn = HostFill(0, kHost);
  ASSERT_NE(pfn, 0u);
  ASSERT_TRUE(Readable(pfn, kHost)) << "a shared page is the host's";

  ASSERT_EQ(Convert(0, true), 0);
  EXPECT_TRUE(Unreadable(pfn, kHost)) << "a private page in use is the guest's";
  EXPECT_TRUE(GuestReads(0, kHost)) << "contents kept, and the guest still reaches them";
  ASSERT_TRUE(GuestFills(0, kGuest));
  EXPECT_TRUE(Unreadable(pfn, kGuest));

  ASSERT_EQ(Convert(0, false), 0);
  EXPECT_TRUE(Readable(pfn, kGuest)) << "given back when made shared";
  EXPECT_EQ(HostPage(0)[0], kGuest);
  EXPECT_EQ(PfnOf(HostPage(0)), pfn) << "one copy of the page";
}

// A page that first comes into use as private (the guest's fault prepares
// it) is taken too: a scan of every page of guest_memfd through the direct
// map cannot find what the guest wrote, but visits the page.
TEST_F(Ownership, PagePreparedForTheGuestIsUnreadable) {
  if (access("/proc/kpageflags", R_OK) != 0)
    GTEST_SKIP() << "/proc/kpageflags: " << strerror(errno);
  constexpr uint64_t kOff = 4 * kPage;
  const uint32_t tag = 0x0a5e0000u | (static_cast<uint32_t>(getpid()) & 0xfff0u) | 3;
  ASSERT_EQ(Convert(kOff, true), 0) << "private before it is allocated";
  ASSERT_TRUE(GuestFills(kOff, tag));
  std::vector<uint64_t> candidates;
  std::vector<uint64_t> found = FindPagesFilledWithIn(tag, 0, ~0ULL, nullptr, &candidates);
  EXPECT_TRUE(found.empty()) << found.size() << " page(s) with the guest's private data readable";

  // Back to shared, the page shows where it was, and what it holds.
  ASSERT_EQ(Convert(kOff, false), 0);
  EXPECT_EQ(HostPage(kOff)[0], tag);
  const uint64_t pfn = PfnOf(HostPage(kOff));
  ASSERT_TRUE(PfnOk(pfn));
  EXPECT_NE(std::find(candidates.begin(), candidates.end(), pfn), candidates.end())
      << "the scan passed the page by (pfn " << std::hex << pfn << ")";
  EXPECT_TRUE(Readable(pfn, tag));
}

// The control: with ownership off, the same scan finds the guest's data,
// so the case above can fail.  Ownership can change at run time.
TEST_F(Ownership, WithoutOwnershipTheHostReadsPrivateData) {
  if (access("/proc/kpageflags", R_OK) != 0)
    GTEST_SKIP() << "/proc/kpageflags: " << strerror(errno);
  SwOwnershipScope off(false);
  constexpr uint64_t kOff = 5 * kPage;
  const uint32_t tag = 0x0a5e0000u | (static_cast<uint32_t>(getpid()) & 0xfff0u) | 5;
  ASSERT_EQ(Convert(kOff, true), 0);
  ASSERT_TRUE(GuestFills(kOff, tag));
  EXPECT_EQ(FindPagesFilledWith(tag).size(), 1u) << "a private page left in the direct map";
}

// Dropping the page cache must not drop guest memory: guest_memfd's pages
// are on no LRU and their inodes on no superblock list, so nothing is
// freed behind the guest's back (which would hand a page the guest still
// maps to the page allocator).
TEST_F(Ownership, DropCachesLeavesGuestMemoryAlone) {
  constexpr uint32_t kHost = 0x0a5e0008, kGuest = 0x0a5e0009;
  const uint64_t pfn = HostFill(7 * kPage, kHost);
  ASSERT_NE(pfn, 0u);
  ASSERT_EQ(Convert(7 * kPage, true), 0);
  ASSERT_TRUE(GuestFills(7 * kPage, kGuest));
  int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "/proc/sys/vm/drop_caches: " << strerror(errno);
  EXPECT_EQ(write(fd, "3", 1), 1) << strerror(errno);
  close(fd);
  EXPECT_TRUE(Unreadable(pfn, kGuest)) << "still the guest's";
  EXPECT_TRUE(GuestReads(7 * kPage + kPage - 4, kGuest));
  ASSERT_EQ(Convert(7 * kPage, false), 0);
  EXPECT_EQ(HostPage(7 * kPage)[0], kGuest);
  EXPECT_EQ(PfnOf(HostPage(7 * kPage)), pfn) << "the same page, never freed";
}

// Punching a hole frees the page: it is back in the direct map before the
// page allocator can hand it to anyone.
TEST_F(Ownership, PunchGivesThePageBack) {
  constexpr uint32_t kHost = 0x0a5e0006;
  const uint64_t pfn = HostFill(6 * kPage, kHost);
  ASSERT_NE(pfn, 0u);
  ASSERT_EQ(Convert(6 * kPage, true), 0);
  ASSERT_TRUE(Unreadable(pfn, kHost));
  ASSERT_EQ(fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 6 * kPage, kPage),
            0);
  static uint32_t buf[kPage / 4];
  EXPECT_EQ(ReadPhysPage(pfn, buf), 0) << "the freed page is out of the direct map";
}

// So does releasing the last reference to the file, with the VM gone.
TEST_F(Ownership, ReleaseGivesThePagesBack) {
  constexpr uint32_t kHost = 0x0a5e0007;
  std::vector<uint64_t> pfns;
  for (uint64_t off = 0; off < 8 * kPage; off += kPage) {
    pfns.push_back(HostFill(off, kHost));
    ASSERT_NE(pfns.back(), 0u);
  }
  ASSERT_EQ(SetAttributes2(gmem_.get(), 0, 8 * kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  for (uint64_t pfn : pfns) ASSERT_TRUE(Unreadable(pfn, kHost));
  view_ = Mapping();
  gmem_.reset();
  vm_.reset();
  static uint32_t buf[kPage / 4];
  for (uint64_t pfn : pfns)
    EXPECT_EQ(ReadPhysPage(pfn, buf), 0) << "pfn " << std::hex << pfn << " out of the direct map";
}

// The number of the |n| pages of the file from |off| that it holds
// (mincore() on the mapping reports the file's pages, mapped or not).
int ResidentPages(const Mapping& view, uint64_t off, int n) {
  std::vector<unsigned char> vec(n);
  if (mincore(view.data() + off, n * kPage, vec.data()) != 0) return -errno;
  return static_cast<int>(std::count_if(vec.begin(), vec.end(), [](unsigned char c) { return c & 1; }));
}

// The guest's first use of a private page prepares (allocates, zeroes and
// takes) the private pages after it in its aligned block of
// kvm.sw_protected_prepare_ahead pages, with one TLB flush for all; the
// guest finds them zeroed, and a block boundary, or a shared page, stops
// it.  With the parameter at 0, only the page used is prepared.
TEST_F(Ownership, FirstUsePreparesTheRestOfItsBlock) {
  constexpr uint64_t kBlock = 32 * kPage;  // 16-page aligned
  PrepareAheadScope ahead(16);
  if (!ahead.ok()) GTEST_SKIP() << "no kvm.sw_protected_prepare_ahead";
  ASSERT_EQ(SetAttributes2(gmem_.get(), kBlock, 32 * kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  ASSERT_EQ(SetAttributes2(gmem_.get(), kBlock + 20 * kPage, kPage, 0), 0) << "a shared hole";
  ASSERT_EQ(ResidentPages(view_, kBlock, 32), 0) << "converted before allocation";

  ASSERT_TRUE(GuestFills(kBlock + 2 * kPage, 0x0a5e0010));
  EXPECT_EQ(ResidentPages(view_, kBlock, 2), 0) << "pages before the one used";
  EXPECT_EQ(ResidentPages(view_, kBlock + 2 * kPage, 14), 14) << "the rest of the block";
  EXPECT_EQ(ResidentPages(view_, kBlock + 16 * kPage, 16), 0) << "the next block";
  EXPECT_TRUE(GuestReads(kBlock + 9 * kPage + 100, 0)) << "zeroed";

  ASSERT_TRUE(GuestFills(kBlock + 16 * kPage, 0x0a5e0011));
  EXPECT_EQ(ResidentPages(view_, kBlock + 16 * kPage, 4), 4);
  EXPECT_EQ(ResidentPages(view_, kBlock + 20 * kPage, 12), 0) << "stops at the shared page";

  // Back to shared: the pages prepared ahead come back zeroed, the used
  // ones with the guest's data.
  ASSERT_EQ(SetAttributes2(gmem_.get(), kBlock, 32 * kPage, 0), 0);
  EXPECT_EQ(HostPage(kBlock + 2 * kPage)[0], 0x0a5e0010u);
  EXPECT_EQ(HostPage(kBlock + 15 * kPage)[kPage / 4 - 1], 0u);
  const uint64_t pfn = PfnOf(HostPage(kBlock + 15 * kPage));
  ASSERT_TRUE(PfnOk(pfn));
  EXPECT_TRUE(Readable(pfn, 0)) << "given back";
}

TEST_F(Ownership, WithoutPrepareAheadOnlyThePageUsedIsPrepared) {
  constexpr uint64_t kBlock = 64 * kPage;
  PrepareAheadScope ahead(0);
  if (!ahead.ok()) GTEST_SKIP() << "no kvm.sw_protected_prepare_ahead";
  ASSERT_EQ(SetAttributes2(gmem_.get(), kBlock, 16 * kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  ASSERT_TRUE(GuestFills(kBlock, 0x0a5e0012));
  EXPECT_EQ(ResidentPages(view_, kBlock, 16), 1);
}

}  // namespace
}  // namespace gmt
