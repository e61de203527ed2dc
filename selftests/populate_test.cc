// Loading a SW-protected VM's initial image through kvm_gmem_populate(),
// driven from the VM's debugfs directory (sw_populate / sw_measurement,
// which the series adds for this VM type only; debugfs is not ABI).
//
// What must hold: pages allocated with fallocate() beforehand can be
// populated (no "create only" semantics); the guest sees exactly what was
// populated and zeroes in allocated-but-unpopulated pages; a page that is
// already prepared (populated or faulted in) is refused with EEXIST; shared
// gfns and gfns without guest_memfd are refused; a bad source changes
// nothing; punching a hole makes a page populatable again; and the
// post_populate callback saw the right bytes at the right gfn (checked
// through its FNV-1a measurement).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>
#include <string>
#include <vector>

#include "selftests/lib/private_vm.h"
#include "selftests/lib/uffd.h"

namespace gmt {
namespace {

constexpr uint64_t kFnvInit = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t Fnv(uint64_t h, const uint8_t* p, size_t n) {
  while (n--) {
    h ^= *p++;
    h *= kFnvPrime;
  }
  return h;
}

// What the kernel's post_populate folds in for one page.
uint64_t MeasurePage(uint64_t h, uint64_t gfn, const uint8_t* page) {
  uint8_t le[8];
  for (int i = 0; i < 8; i++) le[i] = static_cast<uint8_t>(gfn >> (8 * i));
  h = Fnv(h, le, sizeof(le));
  return Fnv(h, page, kPage);
}

// A page-aligned source buffer: populate takes whole pages.
class PageBuf {
 public:
  explicit PageBuf(size_t len)
      : map_(Mapping::Map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {}
  uint8_t* data() const { return map_.data(); }

 private:
  Mapping map_;
};

class Populate : public PrivateVmTest {
 protected:
  static constexpr uint64_t kGfn = kGpa / kPage;

  void SetUp() override {
    PrivateVmTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    dir_ = "/sys/kernel/debug/kvm/" + std::to_string(getpid()) + "-" +
           std::to_string(vm_->vm());
    if (access((dir_ + "/sw_populate").c_str(), W_OK) != 0)
      GTEST_SKIP() << dir_ << "/sw_populate: " << strerror(errno)
                   << " (kernel without the SW-protected populate path, or no debugfs)";
  }

  // Writes "<gfn> <npages> <src>"; returns 0 or -errno.
  int Write(const std::string& line) {
    UniqueFd f(open((dir_ + "/sw_populate").c_str(), O_WRONLY | O_CLOEXEC));
    if (!f.valid()) return -errno;
    ssize_t n = write(f.get(), line.data(), line.size());
    if (n < 0) return -errno;
    return n == static_cast<ssize_t>(line.size()) ? 0 : -EIO;
  }
  int Pop(uint64_t gfn, uint64_t npages, const void* src) {
    char buf[80];
    snprintf(buf, sizeof(buf), "%llx %llx %llx", static_cast<unsigned long long>(gfn),
             static_cast<unsigned long long>(npages),
             static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(src)));
    return Write(buf);
  }

  struct Measurement {
    uint64_t hash = 0, pages = 0;
    bool ok = false;
  };
  Measurement Measure() {
    Measurement m;
    FILE* f = fopen((dir_ + "/sw_measurement").c_str(), "re");
    if (!f) return m;
    unsigned long long h, p;
    m.ok = fscanf(f, "%llx %llu", &h, &p) == 2;
    fclose(f);
    m.hash = h;
    m.pages = p;
    return m;
  }

  // A page whose dwords are seed, seed+1, ...; returns their 32-bit sum.
  static uint32_t Fill(uint8_t* page, uint32_t seed) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < kPage / 4; i++) {
      uint32_t v = seed + i;
      std::memcpy(page + 4 * i, &v, 4);
      sum += v;
    }
    return sum;
  }

  uint32_t GuestSum(uint64_t page_index) {
    auto res = vm_->Command(kOpSum, {static_cast<uint32_t>(kGpa + page_index * kPage),
                                     static_cast<uint32_t>(kPage / 4)});
    EXPECT_TRUE(res.ok) << res.what;
    return res.value;
  }

  std::string dir_;
};

TEST_F(Populate, FreshMeasurementIsEmpty) {
  auto m = Measure();
  ASSERT_TRUE(m.ok);
  EXPECT_EQ(m.hash, kFnvInit);
  EXPECT_EQ(m.pages, 0u);
}

TEST_F(Populate, PreallocatedPagesArePopulatedAndSeenByTheGuest) {
  // fallocate() first: populate must use the allocated pages as they are.
  ASSERT_EQ(Allocate(0, kSize), 0);
  ASSERT_EQ(MakePrivate(0, 4 * kPage), 0);
  PageBuf img(3 * kPage);
  uint32_t sums[3];
  uint64_t expect = kFnvInit;
  for (int i = 0; i < 3; i++) {
    sums[i] = Fill(img.data() + i * kPage, 0x1000u * (i + 1));
    expect = MeasurePage(expect, kGfn + i, img.data() + i * kPage);
  }
  ASSERT_EQ(Pop(kGfn, 3, img.data()), 0);
  auto m = Measure();
  EXPECT_EQ(m.pages, 3u);
  EXPECT_EQ(m.hash, expect) << "post_populate saw other bytes or gfns than were written";
  for (int i = 0; i < 3; i++) EXPECT_EQ(GuestSum(i), sums[i]) << "page " << i;
  // Allocated but never populated: prepared (zeroed) on the guest's fault.
  EXPECT_EQ(GuestSum(3), 0u);
  // Nothing leaked into the shared backing.
  for (uint64_t off = 0; off < 4 * kPage; off += 4) ASSERT_EQ(SharedWord(off), 0u) << off;
}

TEST_F(Populate, PopulatedPageCannotBePopulatedAgain) {
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  PageBuf img(kPage);
  const uint32_t sum = Fill(img.data(), 7);
  ASSERT_EQ(Pop(kGfn, 1, img.data()), 0);
  const auto before = Measure();
  Fill(img.data(), 99);
  EXPECT_EQ(Pop(kGfn, 1, img.data()), -EEXIST);
  const auto after = Measure();
  EXPECT_EQ(after.hash, before.hash);
  EXPECT_EQ(after.pages, before.pages);
  EXPECT_EQ(GuestSum(0), sum) << "a refused populate must not change the page";
}

TEST_F(Populate, PageTheGuestTouchedCannotBePopulated) {
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  ASSERT_TRUE(vm_->Command(kOpWrite, {static_cast<uint32_t>(kGpa), 0x1234}).ok);
  PageBuf img(kPage);
  Fill(img.data(), 1);
  EXPECT_EQ(Pop(kGfn, 1, img.data()), -EEXIST);
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0x1234u);
}

TEST_F(Populate, ShortCountStopsAtTheFirstBadPage) {
  ASSERT_EQ(MakePrivate(0, 4 * kPage), 0);
  // Page 2 is already prepared, so only pages 0 and 1 get populated.
  ASSERT_TRUE(vm_->Command(kOpWrite, {static_cast<uint32_t>(kGpa + 2 * kPage), 5}).ok);
  PageBuf img(4 * kPage);
  uint32_t sums[2];
  uint64_t expect = kFnvInit;
  for (int i = 0; i < 4; i++) {
    uint32_t s = Fill(img.data() + i * kPage, 0x100u * (i + 1));
    if (i < 2) {
      sums[i] = s;
      expect = MeasurePage(expect, kGfn + i, img.data() + i * kPage);
    }
  }
  EXPECT_EQ(Pop(kGfn, 4, img.data()), -EEXIST);
  auto m = Measure();
  EXPECT_EQ(m.pages, 2u);
  EXPECT_EQ(m.hash, expect);
  EXPECT_EQ(GuestSum(0), sums[0]);
  EXPECT_EQ(GuestSum(1), sums[1]);
  EXPECT_EQ(GuestSum(3), 0u) << "pages after the failure must stay unpopulated";
}

TEST_F(Populate, SharedAndNonGuestMemfdGfnsAreRefused) {
  PageBuf img(kPage);
  Fill(img.data(), 3);
  EXPECT_EQ(Pop(kGfn, 1, img.data()), -EINVAL) << "shared gfn";
  EXPECT_EQ(Pop(kBootGpa / kPage, 1, img.data()), -EINVAL) << "slot without guest_memfd";
  EXPECT_EQ(Pop(0x40000000 / kPage, 1, img.data()), -EINVAL) << "no memslot";
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  EXPECT_EQ(Pop(kGfn, 1, img.data() + 8), -EINVAL) << "source not page aligned";
  auto m = Measure();
  EXPECT_EQ(m.pages, 0u);
  EXPECT_EQ(m.hash, kFnvInit);
  // The shared gfn is still an ordinary shared page.
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0u);
}

TEST_F(Populate, PopulatingPastTheSlotEndIsPartial) {
  ASSERT_EQ(MakePrivate(kSize - kPage, kPage), 0);
  PageBuf img(2 * kPage);
  const uint32_t sum = Fill(img.data(), 11);
  EXPECT_EQ(Pop(kGfn + kSize / kPage - 1, 2, img.data()), -EINVAL);
  EXPECT_EQ(Measure().pages, 1u);
  EXPECT_EQ(GuestSum(kSize / kPage - 1), sum);
}

TEST_F(Populate, BadSourceChangesNothing) {
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  // An address that is not mapped in this process.
  Mapping hole = Mapping::Map(kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(hole.valid());
  EXPECT_EQ(Pop(kGfn, 1, hole.data()), -EFAULT);
  auto m = Measure();
  EXPECT_EQ(m.pages, 0u);
  EXPECT_EQ(m.hash, kFnvInit);
  // The page was not marked prepared: a good populate still works.
  PageBuf img(kPage);
  const uint32_t sum = Fill(img.data(), 21);
  ASSERT_EQ(Pop(kGfn, 1, img.data()), 0);
  EXPECT_EQ(GuestSum(0), sum);
}

TEST_F(Populate, NullSourcePopulatesZeroes) {
  ASSERT_EQ(Allocate(0, kPage), 0);
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  ASSERT_EQ(Pop(kGfn, 1, nullptr), 0);
  std::vector<uint8_t> zero(kPage, 0);
  auto m = Measure();
  EXPECT_EQ(m.pages, 1u);
  EXPECT_EQ(m.hash, MeasurePage(kFnvInit, kGfn, zero.data()));
  EXPECT_EQ(GuestSum(0), 0u);
}

TEST_F(Populate, PunchHoleMakesAPagePopulatableAgain) {
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  PageBuf img(kPage);
  Fill(img.data(), 1);
  ASSERT_EQ(Pop(kGfn, 1, img.data()), 0);
  ASSERT_EQ(Punch(0, kPage), 0);
  const uint32_t sum = Fill(img.data(), 0x777);
  ASSERT_EQ(Pop(kGfn, 1, img.data()), 0);
  EXPECT_EQ(GuestSum(0), sum);
  EXPECT_EQ(Measure().pages, 2u);
}

// populate against punch-hole and guest faults on the same pages, for 2 s:
// every populate either fills pages or finds them prepared (EEXIST), the
// kernel stays quiet (the harness checks dmesg), and afterwards a clean
// populate is exactly what the guest sees.
TEST_F(Populate, RacesWithPunchHoleAndFaults) {
  constexpr uint64_t kPages = 8;
  ASSERT_EQ(MakePrivate(0, kPages * kPage), 0);
  PageBuf img(kPages * kPage);
  uint32_t sums[kPages];
  for (uint64_t i = 0; i < kPages; i++) sums[i] = Fill(img.data() + i * kPage, 0x10000u * (i + 1));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> punches{0};
  std::thread puncher([&] {
    uint64_t n = 0;
    while (!stop.load()) {
      if (Punch((n++ % kPages) * kPage, kPage) != 0) break;
      punches++;
    }
  });
  uint64_t filled = 0, refused = 0, faults = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < end) {
    int r = Pop(kGfn, kPages, img.data());
    if (r == 0) {
      filled++;
    } else {
      ASSERT_EQ(r, -EEXIST);
      refused++;
    }
    auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa + (faults % kPages) * kPage)});
    ASSERT_TRUE(res.ok) << res.what;
    faults++;
  }
  stop = true;
  puncher.join();
  EXPECT_GT(punches.load(), 0u);
  EXPECT_GT(filled + refused, 1u);
  ASSERT_EQ(Punch(0, kPages * kPage), 0);
  ASSERT_EQ(Pop(kGfn, kPages, img.data()), 0);
  for (uint64_t i = 0; i < kPages; i++) EXPECT_EQ(GuestSum(i), sums[i]) << "page " << i;
  std::printf("populate race: %llu filled, %llu refused, %llu guest reads, %llu punches\n",
              static_cast<unsigned long long>(filled), static_cast<unsigned long long>(refused),
              static_cast<unsigned long long>(faults),
              static_cast<unsigned long long>(punches.load()));
}

// A source page that takes forever to fault in (userfaultfd, never
// resolved) must not hold any guest_memfd lock while populate waits for it:
// a hole punch in the same file goes through.  The wait ends when the task
// is killed (6.1's user accesses from the kernel stop only for fatal
// signals), so the populating task is a child process.
TEST_F(Populate, SourceFaultHoldsNoLockAndIsKillable) {
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  int faulted[2];
  ASSERT_EQ(pipe(faulted), 0);
  const std::string line_prefix = std::to_string(kGfn + 1);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    UserfaultRegion src(kPage);
    if (!src.ok()) _exit(2);
    std::thread watcher([&] {
      if (src.WaitFault(10000)) {
        char c = 1;
        (void)!write(faulted[1], &c, 1);
      }
    });
    watcher.detach();
    char buf[80];
    snprintf(buf, sizeof(buf), "%llx 1 %llx", static_cast<unsigned long long>(kGfn + 1),
             static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(src.data())));
    UniqueFd f(open((dir_ + "/sw_populate").c_str(), O_WRONLY | O_CLOEXEC));
    (void)!write(f.get(), buf, strlen(buf));
    _exit(3);  // populate came back without the page: it should not
  }
  close(faulted[1]);
  pollfd p = {faulted[0], POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1) << "populate never touched its source";

  // The punch runs on its own thread: on a kernel that holds the
  // invalidate_lock across the source fault it would block until the
  // child dies.
  std::atomic<int> punched{1};
  std::thread puncher([&] { punched = Punch(0, kSize) ? -errno : 0; });
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (punched.load() == 1 && std::chrono::steady_clock::now() < end) {
  }
  bool punch_done = punched.load() != 1;

  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  pid_t r = 0;
  const auto dead_by = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((r = waitpid(child, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < dead_by)
    usleep(10000);
  puncher.join();
  close(faulted[0]);
  EXPECT_TRUE(punch_done) << "punch-hole waited for a populate that waits for userspace";
  EXPECT_EQ(punched.load(), 0);
  ASSERT_EQ(r, child) << "the populating task did not die of SIGKILL";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(Measure().pages, 0u) << "nothing was populated";
}

TEST_F(Populate, MalformedRequestsAreRejected) {
  EXPECT_EQ(Write("nonsense"), -EINVAL);
  EXPECT_EQ(Write("200 0 0"), -EINVAL) << "zero pages";
  EXPECT_EQ(Write("ffffffffffffffff 2 0"), -EINVAL) << "gfn range wraps";
  EXPECT_EQ(Write(std::string(200, '1')), -EINVAL) << "overlong line";
  EXPECT_EQ(Measure().pages, 0u);
}

}  // namespace
}  // namespace gmt
