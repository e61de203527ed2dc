// The debug check of CONFIG_KVM_GMEM_DEBUG_OWNERSHIP: a guest_memfd page
// that reaches the page allocator, or becomes shared, while a guest still
// owns it is reported (a WARN naming the pfn and where it went) and
// reclaimed there.  Every path by which an owned page leaves the guest is
// run twice: as is, where nothing may be reported and the page must be
// back in the direct map, and with the next reclaim skipped on purpose
// (kvm.gmem_debug_skip_reclaims=1), where the check must report exactly
// that page and path and still give the page back.
//
// The forgotten reclaims WARN on purpose, so the harness runs this test
// with --expect-report for gmem_report_owned_page's WARN (any other kernel
// report still fails it); the test itself reads /dev/kmsg to tell which
// case caused which report.  Needs kvm.gmem_in_place_conversion=1, as the
// pages are found through in-place conversion (see owned_vm.h).
#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "selftests/lib/hwpoison.h"
#include "selftests/lib/kmsg.h"
#include "selftests/lib/owned_vm.h"
#include "selftests/lib/private_vm.h"

namespace gmt {
namespace {

constexpr char kSkipParam[] = "/sys/module/kvm/parameters/gmem_debug_skip_reclaims";
constexpr char kReport[] = "kvm: guest_memfd pfn ";

// Sets the number of reclaims guest_memfd skips; 0 or -errno.
int SetSkips(unsigned n) {
  UniqueFd fd(open(kSkipParam, O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return -errno;
  std::string v = std::to_string(n);
  return write(fd.get(), v.data(), v.size()) == static_cast<ssize_t>(v.size()) ? 0 : -errno;
}

// The number of reclaims still to be skipped, or -errno.
long Skips() {
  UniqueFd fd(open(kSkipParam, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return -errno;
  char buf[32] = {};
  if (read(fd.get(), buf, sizeof(buf) - 1) <= 0) return -errno;
  return std::strtol(buf, nullptr, 10);
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%#llx", static_cast<unsigned long long>(v));
  return buf;
}

// Requires the check, and a log to read the reports from.
#define GMT_REQUIRE_RECLAIM_CHECK(watch)                                                 \
  do {                                                                                   \
    if (access(kSkipParam, W_OK) != 0)                                                   \
      GTEST_SKIP() << "no CONFIG_KVM_GMEM_DEBUG_OWNERSHIP (" << kSkipParam               \
                   << ": " << strerror(errno) << ")";                                    \
    if (!(watch).valid()) GTEST_SKIP() << (watch).error();                               \
  } while (0)

class ReclaimCheck : public OwnedVmTest {
 protected:
  static constexpr uint32_t kHost = 0x0c4e0001, kGuest = 0x0c4e0002;

  void SetUp() override {
    OwnedVmTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    GMT_REQUIRE_RECLAIM_CHECK(kmsg_);
  }
  void TearDown() override { SetSkips(0); }

  // A page at |off| that the guest owns and wrote: its pfn, after checking
  // that it is out of the direct map (0 with a failure otherwise).
  uint64_t OwnedPage(uint64_t off) {
    const uint64_t pfn = HostFill(off, kHost);
    if (!pfn) return 0;
    EXPECT_EQ(Convert(off, true), 0);
    EXPECT_TRUE(GuestFills(off, kGuest));
    EXPECT_TRUE(Unreadable(pfn, kGuest)) << "the guest does not own the page";
    return HasFailure() ? 0 : pfn;
  }

  // Runs |path| on the owned page |pfn|, with its reclaim forgotten if
  // |forget|.  As is, nothing is reported; forgotten, the check reports
  // that |pfn| reached |where|, once.  Either way the page ends up back
  // in the direct map (which the caller checks: it may be free by then).
  void Run(uint64_t pfn, bool forget, const std::string& where,
           const std::function<void()>& path) {
    kmsg_.NewMessages();
    if (forget) {
      ASSERT_EQ(SetSkips(1), 0) << strerror(errno);
    }
    path();
    if (forget) {
      EXPECT_EQ(Skips(), 0) << "the path never reclaimed anything";
    }
    SetSkips(0);
    std::vector<std::string> reports = kmsg_.NewMessagesWith(kReport);
    if (!forget) {
      EXPECT_TRUE(reports.empty()) << "reported without a forgotten reclaim: " << reports[0];
      return;
    }
    const std::string want = kReport + Hex(pfn) + " reached " + where + " while a guest owned it";
    ASSERT_EQ(reports.size(), 1u) << "want one report: " << want;
    EXPECT_EQ(reports[0], want);
  }

  // The page |pfn| can be read through the direct map again.
  static ::testing::AssertionResult BackInTheDirectMap(uint64_t pfn) {
    static uint32_t buf[kPage / 4];
    int r = ReadPhysPage(pfn, buf);
    if (r)
      return ::testing::AssertionFailure() << "pfn " << std::hex << pfn
                                           << " is still out of the direct map: " << strerror(-r);
    return ::testing::AssertionSuccess();
  }

  int Punch(uint64_t off) {
    return fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, off, kPage);
  }

  KmsgWatch kmsg_;
};

// Punching a hole over a private page frees it.
TEST_F(ReclaimCheck, PunchHole) {
  for (bool forget : {false, true}) {
    SCOPED_TRACE(forget ? "reclaim forgotten" : "as is");
    const uint64_t off = (forget ? 1 : 0) * kPage;
    const uint64_t pfn = OwnedPage(off);
    ASSERT_NE(pfn, 0u);
    Run(pfn, forget, "the page allocator", [&] { ASSERT_EQ(Punch(off), 0) << strerror(errno); });
    EXPECT_TRUE(BackInTheDirectMap(pfn));
  }
}

// In-place conversion to shared hands the page, contents and all, to the
// host: the host reads what the guest wrote, in the same page.
TEST_F(ReclaimCheck, InPlaceConversionToShared) {
  for (bool forget : {false, true}) {
    SCOPED_TRACE(forget ? "reclaim forgotten" : "as is");
    const uint64_t off = (forget ? 3 : 2) * kPage;
    const uint64_t pfn = OwnedPage(off);
    ASSERT_NE(pfn, 0u);
    Run(pfn, forget, "an in-place conversion to shared", [&] { ASSERT_EQ(Convert(off, false), 0); });
    EXPECT_TRUE(Readable(pfn, kGuest));
    EXPECT_EQ(HostPage(off)[0], kGuest);
    EXPECT_EQ(PfnOf(HostPage(off)), pfn);
  }
}

// Deleting the memslot leaves the page in the file, still the guest's;
// punching it out afterwards frees it.
TEST_F(ReclaimCheck, MemslotDeleteThenPunch) {
  const uint64_t pfn0 = OwnedPage(4 * kPage), pfn1 = OwnedPage(5 * kPage);
  ASSERT_NE(pfn0, 0u);
  ASSERT_NE(pfn1, 0u);
  Region2 gone = GmemSlot(kSlot, kGpa, 0, nullptr, -1);
  ASSERT_EQ(SetRegion2(vm_->vm(), gone), 0) << strerror(errno);
  EXPECT_TRUE(Unreadable(pfn0, kGuest)) << "the memslot's deletion frees nothing";
  Run(pfn0, false, "the page allocator", [&] { ASSERT_EQ(Punch(4 * kPage), 0); });
  EXPECT_TRUE(BackInTheDirectMap(pfn0));
  Run(pfn1, true, "the page allocator", [&] { ASSERT_EQ(Punch(5 * kPage), 0); });
  EXPECT_TRUE(BackInTheDirectMap(pfn1));
}

// Releasing the file (its fd and mapping first, then the VM) frees its
// pages as the inode is evicted.
TEST_F(ReclaimCheck, Release) {
  const uint64_t pfn = OwnedPage(6 * kPage);
  ASSERT_NE(pfn, 0u);
  Run(pfn, false, "the page allocator", [&] {
    view_ = Mapping();
    gmem_.reset();
    vm_.reset();
  });
  EXPECT_TRUE(BackInTheDirectMap(pfn));
}

TEST_F(ReclaimCheck, ReleaseForgotten) {
  const uint64_t pfn = OwnedPage(6 * kPage);
  ASSERT_NE(pfn, 0u);
  Run(pfn, true, "the page allocator", [&] {
    view_ = Mapping();
    gmem_.reset();
    vm_.reset();
  });
  EXPECT_TRUE(BackInTheDirectMap(pfn));
}

// Closing the VM first: the file keeps the VM, and the guest keeps its
// pages, until the file goes too.
TEST_F(ReclaimCheck, VmDestroy) {
  const uint64_t pfn = OwnedPage(7 * kPage);
  ASSERT_NE(pfn, 0u);
  vm_.reset();
  EXPECT_TRUE(Unreadable(pfn, kGuest)) << "the file still holds the VM";
  Run(pfn, false, "the page allocator", [&] {
    view_ = Mapping();
    gmem_.reset();
  });
  EXPECT_TRUE(BackInTheDirectMap(pfn));
}

TEST_F(ReclaimCheck, VmDestroyForgotten) {
  const uint64_t pfn = OwnedPage(7 * kPage);
  ASSERT_NE(pfn, 0u);
  vm_.reset();
  Run(pfn, true, "the page allocator", [&] {
    view_ = Mapping();
    gmem_.reset();
  });
  EXPECT_TRUE(BackInTheDirectMap(pfn));
}

// Memory failure on an owned page: the page is poisoned and never used
// again, so it is not reported when it is freed, even with its reclaim
// forgotten (and it is not put back in the direct map, where nobody may
// touch it); its neighbour, punched out with it, is reclaimed.
TEST_F(ReclaimCheck, MemoryFailureThenPunch) {
  if (std::string why = HwpoisonUnavailable(); !why.empty()) GTEST_SKIP() << why;
  const uint64_t bad = OwnedPage(8 * kPage), good = OwnedPage(9 * kPage);
  ASSERT_NE(bad, 0u);
  ASSERT_NE(good, 0u);
  int r = InjectMemoryFailure(bad);
  ASSERT_TRUE(r == 0 || r == -EBUSY) << strerror(-r);
  ASSERT_TRUE(PagePoisoned(bad));
  kmsg_.NewMessages();
  ASSERT_EQ(SetSkips(1), 0);
  // The poisoned page comes first in the file, so it takes the skip.
  ASSERT_EQ(fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 8 * kPage,
                      2 * kPage),
            0)
      << strerror(errno);
  EXPECT_EQ(Skips(), 0);
  SetSkips(0);
  std::vector<std::string> reports = kmsg_.NewMessagesWith(kReport);
  EXPECT_TRUE(reports.empty()) << reports[0];
  EXPECT_TRUE(BackInTheDirectMap(good));
}

// The attributes path of conversion (KVM_SET_MEMORY_ATTRIBUTES on the VM,
// then a hole punched in guest_memfd): a slot with guest_memfd for private
// memory and anonymous memory for shared.  The private page's pfn is not
// visible to userspace here, so only the report tells it.
class AttributesReclaimCheck : public PrivateVmTest {
 protected:
  void SetUp() override {
    PrivateVmTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    GMT_REQUIRE_RECLAIM_CHECK(kmsg_);
    if (SwOwnership() != 1) GTEST_SKIP() << "software ownership is off or missing";
  }
  void TearDown() override { SetSkips(0); }

  // The guest writes private page |off|, then it is converted to shared
  // and punched out; what the check reported meanwhile.
  std::vector<std::string> ConvertAndPunch(uint64_t off, bool forget) {
    EXPECT_EQ(MakePrivate(off, kPage), 0);
    auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(gpa_ + off), kPage / 4, 0x0c4e0003, 1});
    EXPECT_TRUE(res.ok) << res.what;
    kmsg_.NewMessages();
    if (forget) {
      EXPECT_EQ(SetSkips(1), 0);
    }
    EXPECT_EQ(MakeShared(off, kPage), 0);
    EXPECT_EQ(Punch(off, kPage), 0) << strerror(errno);
    if (forget) {
      EXPECT_EQ(Skips(), 0);
    }
    SetSkips(0);
    return kmsg_.NewMessagesWith(kReport);
  }

  KmsgWatch kmsg_;
};

TEST_F(AttributesReclaimCheck, ConversionToShared) {
  std::vector<std::string> reports = ConvertAndPunch(0, false);
  EXPECT_TRUE(reports.empty()) << reports[0];
}

TEST_F(AttributesReclaimCheck, ConversionToSharedForgotten) {
  std::vector<std::string> reports = ConvertAndPunch(kPage, true);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find(" reached the page allocator while a guest owned it"),
            std::string::npos)
      << reports[0];
}

}  // namespace
}  // namespace gmt
