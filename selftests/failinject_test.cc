// Error paths, driven by allocation-failure injection: every guest_memfd,
// memory attribute and memslot operation is run with its 1st, 2nd, 3rd ...
// slab or page allocation failing (fail-nth, see selftests/lib/failnth.h)
// until it completes without reaching the injected failure.  The ioctls
// that update a range (bind, attributes, create, fallocate) are swept a
// second time with the n-th and every later allocation failing: a single
// failure is often absorbed by a retry (xas_nomem()), so only persistent
// failure reaches the code that unwinds a half-done update.  Persistent
// sweeps are limited to calls that return to code whose memory is already
// mapped: a user-mode page fault cannot fail, it would retry for good.
// After each injected failure:
//  - the operation failed with a clean errno (ENOMEM), or succeeded anyway
//    (some allocations have fallbacks);
//  - nothing is left half done: the state is what it was before a failure
//    (or after a success), checked through the ABI, and the same operation
//    succeeds once injection stops;
//  - the kernel reports nothing (KASAN, kmemleak, lockdep, WARN: the
//    harness reads dmesg).
// Needs a kernel with CONFIG_FAILSLAB and CONFIG_FAIL_PAGE_ALLOC (the KASAN
// test kernel); skips by name elsewhere.  The in-place conversion cases
// (KVM_SET_MEMORY_ATTRIBUTES2, FailInjectInPlace) also need the kernel booted
// with kvm.gmem_in_place_conversion=1 and skip, by name, without it.
#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>

#include "selftests/lib/failnth.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/signals.h"

namespace gmt {
namespace {

constexpr int kMaxNth = 2000;

class FailInject : public PrivateVmTest {
 protected:
  void SetUp() override {
    std::string why = FailNthSetUp();
    if (!why.empty()) GTEST_SKIP() << "no fail-nth injection: " << why;
    PrivateVmTest::SetUp();
  }

  // Runs |op| with its n-th allocation failing, for n = 1, 2, ... until
  // it no longer reaches the n-th allocation.  After each run, |check| is
  // called with op's result (0 or -errno) and must verify the state and
  // restore the initial one.  Returns the number of failure points.
  int Sweep(const char* name, const std::function<long()>& op,
            const std::function<void(long)>& check, bool allocates = true,
            FailMode mode = FailMode::kOnce) {
    int points = 0, failed = 0;
    for (int nth = 1; nth <= kMaxNth; nth++) {
      FailNthArm(nth, mode);
      long r = op();
      bool injected = FailNthDisarm();
      if (!injected) {
        EXPECT_EQ(r, 0) << name << " failed without an injected failure: "
                        << strerror(static_cast<int>(-r));
        check(r);
        break;
      }
      points++;
      if (r != 0) failed++;
      EXPECT_TRUE(r == 0 || r == -ENOMEM)
          << name << " with allocation " << nth << " failing: " << strerror(static_cast<int>(-r));
      check(r);
      if (HasFatalFailure()) break;
    }
    printf("%-34s %3d allocation(s) failed %s, the call failed %d time(s)\n", name, points,
           mode == FailMode::kOnce ? "one at a time" : "from the n-th on", failed);
    if (allocates) {
      EXPECT_GT(points, 0) << name << ": no allocation could be made to fail";
    }
    return points;
  }

  uint32_t Gpa(uint64_t off) const { return static_cast<uint32_t>(kGpa + off); }

  // What the guest reads at |off|; fails the test if it cannot.
  uint32_t GuestRead(uint64_t off) {
    auto res = vm_->Command(kOpRead, {Gpa(off)});
    EXPECT_TRUE(res.ok) << res.what;
    return res.value;
  }
};

constexpr FailMode kBothModes[] = {FailMode::kOnce, FailMode::kPersistent};

TEST_F(FailInject, ModesDoWhatTheySay) {
  // The machinery itself: once, only the first open() of two fails;
  // persistent, both do.  Each open() allocates (names_cache, struct file).
  auto two_opens = [](FailMode mode, int* first_errno, int* second_errno) {
    FailNthArm(1, mode);
    int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
    *first_errno = a < 0 ? errno : 0;
    int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
    *second_errno = b < 0 ? errno : 0;
    bool injected = FailNthDisarm();
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    return injected;
  };
  int e1 = -1, e2 = -1;
  ASSERT_TRUE(two_opens(FailMode::kOnce, &e1, &e2));
  EXPECT_EQ(e1, ENOMEM);
  EXPECT_EQ(e2, 0) << "once: a later allocation failed too";
  ASSERT_TRUE(two_opens(FailMode::kPersistent, &e1, &e2));
  EXPECT_EQ(e1, ENOMEM);
  EXPECT_EQ(e2, ENOMEM) << "persistent: a later allocation succeeded";
  // And disarmed, nothing fails.
  UniqueFd f(open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(f.valid()) << strerror(errno);
}

TEST_F(FailInject, CreateGuestMemfd) {
  for (FailMode mode : kBothModes) Sweep(
      "KVM_CREATE_GUEST_MEMFD",
      [&]() -> long {
        long fd = CreateGuestMemfd(vm_->vm(), 1 << 20, 0);
        if (fd < 0) return fd;
        close(static_cast<int>(fd));
        return 0;
      },
      [&](long) {
        // A file can be created afterwards and works.
        UniqueFd f(static_cast<int>(CreateGuestMemfd(vm_->vm(), 1 << 20, 0)));
        ASSERT_TRUE(f.valid());
        ASSERT_EQ(fallocate(f.get(), FALLOC_FL_KEEP_SIZE, 0, kPage), 0);
      },
      /*allocates=*/true, mode);
}

TEST_F(FailInject, BindGuestMemfdSlot) {
  // The fixture's slot holds [0, 2M) of its file; a second file is bound
  // and unbound here.  A failed bind must leave no binding behind: the
  // very same range binds afterwards (a leftover would make it EEXIST,
  // and would point at a freed memslot).
  UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm_->vm(), 8 << 20, 0)));
  ASSERT_TRUE(gmem.valid());
  Mapping shared = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  Region2 r;
  r.slot = 5;
  r.flags = KVM_MEM_GUEST_MEMFD;
  r.gpa = 0x1000000;
  r.size = kSize;
  r.hva = reinterpret_cast<uint64_t>(shared.data());
  r.gmem_fd = gmem.get();
  // An offset that is not 2M aligned: the range is stored as several
  // multi-index xarray entries.  (xa_store_range() allocates only for its
  // first store and for the path to |last|, both before any entry is
  // stored, so on a fresh range even persistent failure finds no partial
  // store to unwind; the series unwinds one anyway, and this checks that
  // every failing bind leaves nothing bound.)
  r.gmem_offset = 3 * kPage;
  Region2 del;
  del.slot = 5;
  for (FailMode mode : kBothModes) Sweep(
      "KVM_SET_USER_MEMORY_REGION2 (bind)", [&] { return SetRegion2(vm_->vm(), r); },
      [&](long res) {
        if (res == 0) {
          ASSERT_EQ(SetRegion2(vm_->vm(), del), 0);
        }
        ASSERT_EQ(fallocate(gmem.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, 8 << 20), 0);
        ASSERT_EQ(SetRegion2(vm_->vm(), r), 0) << "the range stayed bound after a failed bind";
        ASSERT_EQ(fallocate(gmem.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, 8 << 20), 0);
        ASSERT_EQ(SetRegion2(vm_->vm(), del), 0);
      },
      /*allocates=*/true, mode);
  // And closing the file after all that is clean.
  gmem.reset();
}

TEST_F(FailInject, DeleteGuestMemfdSlot) {
  const Region2 r = DataSlot();
  Region2 del;
  del.slot = kSlot;
  Sweep(
      "KVM_SET_USER_MEMORY_REGION2 (delete)", [&] { return SetRegion2(vm_->vm(), del); },
      [&](long res) {
        if (res != 0) {
          ASSERT_EQ(SetRegion2(vm_->vm(), del), 0);
        }
        ASSERT_EQ(SetRegion2(vm_->vm(), r), 0);
      });
}

TEST_F(FailInject, SetMemoryAttributes) {
  // Shared memory holds a marker; private memory reads zero.  A failed
  // conversion must leave the page shared (all or nothing).
  const uint32_t marker = 0x5a5a0001;
  std::memcpy(shared_.data(), &marker, sizeof(marker));
  std::memcpy(shared_.data() + kSize - kPage, &marker, sizeof(marker));
  for (FailMode mode : kBothModes) Sweep(
      "KVM_SET_MEMORY_ATTRIBUTES", [&] { return MakePrivate(0, kSize); },
      [&](long res) {
        uint32_t want = res == 0 ? 0 : marker;
        EXPECT_EQ(GuestRead(0), want);
        EXPECT_EQ(GuestRead(kSize - kPage), want);
        ASSERT_EQ(MakeShared(0, kSize), 0);
        ASSERT_EQ(Punch(0, kSize), 0);
        EXPECT_EQ(GuestRead(0), marker);
      },
      /*allocates=*/true, mode);
}

TEST_F(FailInject, SetMemoryAttributesAcrossChunks) {
  // From the data slot to beyond 256 MiB: the end of one 128 MiB chunk of
  // attributes (a new bitmap), a whole chunk (a value) and the start of a
  // third (another bitmap), each with a slot to reserve.  All or nothing.
  const uint32_t marker = 0x5a5a0002;
  std::memcpy(shared_.data(), &marker, sizeof(marker));
  const uint64_t len = (256ULL << 20) + kPage;
  for (FailMode mode : kBothModes) Sweep(
      "KVM_SET_MEMORY_ATTRIBUTES, 3 chunks", [&] { return MakePrivate(0, len); },
      [&](long res) {
        EXPECT_EQ(GuestRead(0), res == 0 ? 0 : marker);
        ASSERT_EQ(MakeShared(0, len), 0);
        ASSERT_EQ(Punch(0, kSize), 0);
        EXPECT_EQ(GuestRead(0), marker);
      },
      /*allocates=*/true, mode);
}

TEST_F(FailInject, FallocateAndPunch) {
  for (FailMode mode : kBothModes) Sweep(
      "fallocate (allocate)", [&]() -> long { return Allocate(0, 64 * kPage) ? -errno : 0; },
      [&](long) {
        ASSERT_EQ(Allocate(0, 64 * kPage), 0);
        ASSERT_EQ(Punch(0, kSize), 0);
      },
      /*allocates=*/true, mode);
  ASSERT_EQ(Allocate(0, kSize), 0);
  Sweep(
      "fallocate (punch hole)", [&]() -> long { return Punch(0, kSize) ? -errno : 0; },
      [&](long) {
        ASSERT_EQ(Punch(0, kSize), 0);
        ASSERT_EQ(Allocate(0, kSize), 0);
      },
      /*allocates=*/false);
}

TEST_F(FailInject, GuestFaultOnPrivateMemory) {
  // The vCPU thread is this thread, so KVM_RUN's own allocations (the
  // MMU's caches, the guest_memfd page) fail one at a time.
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  Sweep(
      "KVM_RUN (private fault)",
      [&]() -> long {
        auto res = vm_->Command(kOpWrite, {Gpa(0), 0x77});
        return res.ok ? 0 : -res.err;
      },
      [&](long r) {
        // A failed KVM_RUN left the guest at its write: resuming it
        // without injection completes the command.
        if (r != 0) {
          auto res = vm_->Resume();
          ASSERT_TRUE(res.ok) << res.what;
        }
        EXPECT_EQ(GuestRead(0), 0x77u);
        ASSERT_EQ(Punch(0, kSize), 0);
      });
}

TEST_F(FailInject, PreFaultPrivateMemory) {
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  if (CheckExtension(vm_->vm(), KVM_CAP_PRE_FAULT_MEMORY) <= 0) GTEST_SKIP() << "no pre-fault";
  Sweep(
      "KVM_PRE_FAULT_MEMORY (private)",
      [&]() -> long {
        kvm_pre_fault_memory r = {};
        r.gpa = kGpa;
        r.size = 16 * kPage;
        long ret = Ioctl(vm_->vcpu(), KVM_PRE_FAULT_MEMORY, &r);
        // Partial progress is success; finish without injection.
        return ret;
      },
      [&](long) {
        kvm_pre_fault_memory r = {};
        r.gpa = kGpa;
        r.size = 16 * kPage;
        while (r.size) ASSERT_EQ(Ioctl(vm_->vcpu(), KVM_PRE_FAULT_MEMORY, &r), 0);
        ASSERT_EQ(Punch(0, kSize), 0);
      });
}

TEST_F(FailInject, PopulateThroughDebugfs) {
  std::string dir = "/sys/kernel/debug/kvm/" + std::to_string(getpid()) + "-" +
                    std::to_string(vm_->vm());
  if (access((dir + "/sw_populate").c_str(), W_OK) != 0) GTEST_SKIP() << "no sw_populate";
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  Mapping src = Mapping::Map(4 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  std::memset(src.data(), 0x3c, src.size());
  char line[96];
  snprintf(line, sizeof(line), "%llx 4 %llx", static_cast<unsigned long long>(kGpa / kPage),
           static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(src.data())));
  auto populate = [&]() -> long {
    UniqueFd f(open((dir + "/sw_populate").c_str(), O_WRONLY | O_CLOEXEC));
    if (!f.valid()) return -errno;
    return write(f.get(), line, strlen(line)) < 0 ? -errno : 0;
  };
  Sweep("sw_populate (kvm_gmem_populate)", populate, [&](long res) {
    // A partial population leaves prepared pages behind (EEXIST on the
    // next attempt): start from a clean file each time.
    (void)res;
    ASSERT_EQ(Punch(0, kSize), 0);
    ASSERT_EQ(populate(), 0);
    EXPECT_EQ(GuestRead(0), 0x3c3c3c3cu);
    EXPECT_EQ(GuestRead(3 * kPage), 0x3c3c3c3cu);
    ASSERT_EQ(Punch(0, kSize), 0);
  });
}

TEST_F(FailInject, CloseGuestMemfdAndVm) {
  // Release paths: closing a bound guest_memfd, then the VM.
  Sweep(
      "close (guest_memfd, VM)",
      [&]() -> long {
        auto vm = std::make_unique<TestVm>(KVM_X86_SW_PROTECTED_VM);
        if (!vm->ok()) return -ENOMEM;
        int fd = static_cast<int>(CreateGuestMemfd(vm->vm(), kSize, 0));
        if (fd < 0) return fd;
        Region2 r = DataSlot();
        r.gmem_fd = fd;
        long ret = SetRegion2(vm->vm(), r);
        close(fd);
        return ret;
      },
      [&](long) {});
}

TEST_F(FailInject, GuestFaultOnGmemOnlyMemory) {
  // A default VM whose memory slot is gmem-only: shared faults come from
  // guest_memfd too, with the same error handling.
  if (!(CheckExtension(vm_->kvm(), KVM_CAP_GUEST_MEMFD_FLAGS) & GUEST_MEMFD_FLAG_INIT_SHARED))
    GTEST_SKIP() << "no GUEST_MEMFD_FLAG_INIT_SHARED";
  TestVm vm(KVM_X86_DEFAULT_VM);
  ASSERT_TRUE(vm.ok()) << vm.error();
  UniqueFd gmem(static_cast<int>(
      CreateGuestMemfd(vm.vm(), kSize, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)));
  ASSERT_TRUE(gmem.valid());
  Mapping map = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, gmem.get(), 0);
  ASSERT_TRUE(map.valid());
  Region2 r;
  r.slot = 1;
  r.flags = KVM_MEM_GUEST_MEMFD;
  r.gpa = kGpa;
  r.size = kSize;
  r.hva = reinterpret_cast<uint64_t>(map.data());
  r.gmem_fd = gmem.get();
  ASSERT_EQ(SetRegion2(vm.vm(), r), 0);
  Sweep(
      "KVM_RUN (gmem-only fault)",
      [&]() -> long {
        auto res = vm.Command(kOpWrite, {Gpa(0), 0x88});
        return res.ok ? 0 : -res.err;
      },
      [&](long ret) {
        if (ret != 0) {
          auto res = vm.Resume();
          ASSERT_TRUE(res.ok) << res.what;
        }
        uint32_t v;
        std::memcpy(&v, map.data(), sizeof(v));
        EXPECT_EQ(v, 0x88u) << "the host sees the guest's write";
        ASSERT_EQ(fallocate(gmem.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, kSize), 0);
      });
}

// ---- In-place conversion: KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd ----
//
// A conversion checks references and allocates the nodes of the file's tree
// of private ranges before it changes anything (api.rst 4.142: "changes
// nothing" on failure).  So after each injected failure every page must be
// on the side it was, with its data: a shared page still readable by the
// host with what it held, a private one still SIGBUS for the host and
// holding what the guest wrote.  Which side a page is on is read through
// both views, the host's mapping and the guest.

// A second data slot in the fixture's VM, gmem-only: a mappable guest_memfd
// created shared (INIT_SHARED), mapped at the slot's userspace_addr, holds
// every page once and says which are private.
class FailInjectInPlace : public FailInject {
 protected:
  static constexpr uint64_t kViewGpa = kGpa + kSize;  // after the fixture's slot
  static constexpr uint64_t kViewSize = 2 << 20;
  static constexpr uint32_t kViewSlot = kSlot + 1;
  static constexpr uint64_t kPrivate = KVM_MEMORY_ATTRIBUTE_PRIVATE;

  void SetUp() override {
    FailInject::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Without kvm.gmem_in_place_conversion=1 the capability is 0 (or
    // unknown) and the ioctl ENOTTY: the faults stage boots without it.
    long attrs = CheckExtension(vm_->vm(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
    if (attrs != static_cast<long>(kPrivate))
      GTEST_SKIP() << "no in-place conversion: KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES is " << attrs
                   << ", not KVM_MEMORY_ATTRIBUTE_PRIVATE (boot with "
                      "kvm.gmem_in_place_conversion=1)";
    long fd = CreateGuestMemfd(vm_->vm(), kViewSize,
                               GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED);
    ASSERT_GE(fd, 0) << strerror(static_cast<int>(-fd));
    file_.reset(static_cast<int>(fd));
    view_ = Mapping::Map(kViewSize, PROT_READ | PROT_WRITE, MAP_SHARED, file_.get(), 0);
    ASSERT_TRUE(view_.valid()) << strerror(errno);
    ASSERT_EQ(
        SetRegion2(vm_->vm(), GmemSlot(kViewSlot, kViewGpa, kViewSize, view_.data(), file_.get())),
        0);
  }

  static uint64_t P(uint64_t page) { return page * kPage; }
  static uint32_t Marker(uint64_t page) { return 0x1a7e0000u | static_cast<uint32_t>(page); }

  // KVM_SET_MEMORY_ATTRIBUTES2 on the file: 0 or -errno.
  long Convert(uint64_t first_page, uint64_t pages, uint64_t attrs) {
    return SetAttributes2(file_.get(), P(first_page), P(pages), attrs);
  }
  int PunchView(uint64_t first_page, uint64_t pages) {
    return fallocate(file_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, P(first_page),
                     P(pages));
  }

  // The host's view.  A shared page is readable and holds |want|; reading
  // one that is not allocated allocates it (zeroed).
  ::testing::AssertionResult HostShared(uint64_t page, uint32_t want) {
    int sig = AccessSignal(view_.data() + P(page), false);
    if (sig != 0)
      return ::testing::AssertionFailure()
             << "page " << page << " should be shared, the host's read got signal " << sig;
    uint32_t v;
    std::memcpy(&v, view_.data() + P(page), sizeof(v));
    if (v != want)
      return ::testing::AssertionFailure() << "page " << page << " is shared but the host reads "
                                           << std::hex << v << ", want " << want;
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult HostPrivate(uint64_t page) {
    int sig = AccessSignal(view_.data() + P(page), false);
    if (sig != SIGBUS)
      return ::testing::AssertionFailure()
             << "page " << page << " should be private (SIGBUS), the host's read got "
             << (sig ? "signal " + std::to_string(sig) : std::string("through"));
    return ::testing::AssertionSuccess();
  }
  void HostWrite(uint64_t page, uint32_t v) { std::memcpy(view_.data() + P(page), &v, sizeof(v)); }

  // The guest's view of the slot.
  ::testing::AssertionResult GuestSees(uint64_t page, uint32_t want) {
    auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kViewGpa + P(page))});
    if (!res.ok)
      return ::testing::AssertionFailure() << "guest read of page " << page << ": " << res.what;
    if (res.value != want)
      return ::testing::AssertionFailure() << "guest reads " << std::hex << res.value
                                           << " in page " << std::dec << page << ", want "
                                           << std::hex << want;
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult GuestWrite(uint64_t page, uint32_t v) {
    auto res = vm_->Command(kOpWrite, {static_cast<uint32_t>(kViewGpa + P(page)), v});
    if (!res.ok)
      return ::testing::AssertionFailure() << "guest write of page " << page << ": " << res.what;
    return ::testing::AssertionSuccess();
  }

  // Pages [first, first + 2 * pairs): every other one private, so that the
  // file's tree holds many ranges (several levels of maple nodes) and
  // stores into it split and rebalance nodes.
  void Interleave(uint64_t first, uint64_t pairs) {
    for (uint64_t i = 0; i < pairs; i++) ASSERT_EQ(Convert(first + 2 * i, 1, kPrivate), 0) << i;
  }
  void ExpectInterleaved(uint64_t first) {
    EXPECT_TRUE(HostPrivate(first));
    EXPECT_TRUE(HostShared(first + 1, 0));
    ASSERT_EQ(PunchView(first + 1, 1), 0);
  }

  UniqueFd file_;
  Mapping view_;
};

TEST_F(FailInjectInPlace, SharedToPrivate) {
  // [0, 64) shared: pages the host wrote (allocated and mapped in the host:
  // the conversion must unmap them, more than one mmu_gather batch), one the
  // guest wrote (mapped in the guest as shared) and holes.  Page 70, outside
  // the range, keeps its side and data whatever happens.
  constexpr uint64_t kPages = 64, kGuestPage = 40, kHole = 20, kOutside = 70;
  const std::initializer_list<uint64_t> host_pages = {0, 1, 2, 3, 4, 5, 6, 7, 9, 31,
                                                       48, 49, 50, 51, 52, 63};
  auto populate = [&] {
    for (uint64_t p : host_pages) HostWrite(p, Marker(p));
    ASSERT_TRUE(GuestWrite(kGuestPage, Marker(kGuestPage)));
  };
  ASSERT_NO_FATAL_FAILURE(populate());
  HostWrite(kOutside, Marker(kOutside));
  for (FailMode mode : kBothModes) Sweep(
      "KVM_SET_MEMORY_ATTRIBUTES2 (to private)", [&] { return Convert(0, kPages, kPrivate); },
      [&](long res) {
        if (res == 0) {
          for (uint64_t p : host_pages) EXPECT_TRUE(HostPrivate(p));
          EXPECT_TRUE(HostPrivate(kGuestPage));
          EXPECT_TRUE(HostPrivate(kHole));
          // A SW-protected VM keeps its mappings and the contents.
          EXPECT_TRUE(GuestSees(0, Marker(0))) << "contents are kept";
          EXPECT_TRUE(GuestSees(kGuestPage, Marker(kGuestPage)));
        } else {
          // Unmapped from the host maybe, but still shared, with its data.
          for (uint64_t p : host_pages) EXPECT_TRUE(HostShared(p, Marker(p)));
          EXPECT_TRUE(HostShared(kGuestPage, Marker(kGuestPage)));
          EXPECT_TRUE(HostShared(kHole, 0));
          EXPECT_TRUE(GuestSees(0, Marker(0)));
          EXPECT_TRUE(GuestSees(kGuestPage, Marker(kGuestPage)));
        }
        EXPECT_TRUE(HostShared(kOutside, Marker(kOutside)));
        // Back to the start: all shared, the same pages allocated.
        ASSERT_EQ(Convert(0, kPages, 0), 0);
        ASSERT_EQ(PunchView(0, kPages), 0);
        populate();
      },
      /*allocates=*/true, mode);
}

TEST_F(FailInjectInPlace, PrivateToShared) {
  // [0, 64) private, with pages the guest wrote (allocated, prepared and
  // mapped in the guest as private) and holes; page 70 outside is shared.
  constexpr uint64_t kPages = 64, kHole = 20, kOutside = 70;
  const std::initializer_list<uint64_t> guest_pages = {0, 1, 2, 7, 9, 31, 48, 52, 63};
  auto populate = [&] {
    for (uint64_t p : guest_pages) ASSERT_TRUE(GuestWrite(p, Marker(p)));
  };
  ASSERT_EQ(Convert(0, kPages, kPrivate), 0);
  ASSERT_NO_FATAL_FAILURE(populate());
  HostWrite(kOutside, Marker(kOutside));
  for (FailMode mode : kBothModes) Sweep(
      "KVM_SET_MEMORY_ATTRIBUTES2 (to shared)", [&] { return Convert(0, kPages, 0); },
      [&](long res) {
        if (res == 0) {
          for (uint64_t p : guest_pages)
            EXPECT_TRUE(HostShared(p, Marker(p))) << "what the guest wrote, shared now";
          EXPECT_TRUE(HostShared(kHole, 0));
          EXPECT_TRUE(GuestSees(0, Marker(0)));
        } else {
          for (uint64_t p : guest_pages) {
            EXPECT_TRUE(HostPrivate(p));
            EXPECT_TRUE(GuestSees(p, Marker(p))) << "a private page keeps its data";
          }
          EXPECT_TRUE(HostPrivate(kHole));
        }
        EXPECT_TRUE(HostShared(kOutside, Marker(kOutside)));
        ASSERT_EQ(Convert(0, kPages, kPrivate), 0);
        ASSERT_EQ(PunchView(0, kPages), 0);
        populate();
      },
      /*allocates=*/true, mode);
}

TEST_F(FailInjectInPlace, SplitPrivateRange) {
  // One private range [0, 64) in a tree that holds 128 more (every other
  // page of [128, 384)); [16, 32) becomes shared, so the tree must split
  // the range in three.  The guest's data in and around the middle part.
  constexpr uint64_t kPages = 64, kFirst = 16, kLen = 16, kMiddle = 20;
  const std::initializer_list<uint64_t> kept = {8, 15, 32, 40, 63};
  ASSERT_NO_FATAL_FAILURE(Interleave(128, 128));
  ASSERT_EQ(Convert(0, kPages, kPrivate), 0);
  auto populate = [&] {
    for (uint64_t p : kept) ASSERT_TRUE(GuestWrite(p, Marker(p)));
    ASSERT_TRUE(GuestWrite(kMiddle, Marker(kMiddle)));
  };
  ASSERT_NO_FATAL_FAILURE(populate());
  for (FailMode mode : kBothModes) Sweep(
      "KVM_SET_MEMORY_ATTRIBUTES2 (split)", [&] { return Convert(kFirst, kLen, 0); },
      [&](long res) {
        if (res == 0) {
          EXPECT_TRUE(HostShared(kMiddle, Marker(kMiddle)));
          EXPECT_TRUE(HostShared(kFirst, 0));
          EXPECT_TRUE(HostShared(kFirst + kLen - 1, 0));
          EXPECT_TRUE(GuestSees(kMiddle, Marker(kMiddle)));
        } else {
          EXPECT_TRUE(HostPrivate(kMiddle));
          EXPECT_TRUE(HostPrivate(kFirst));
          EXPECT_TRUE(HostPrivate(kFirst + kLen - 1));
          EXPECT_TRUE(GuestSees(kMiddle, Marker(kMiddle)));
        }
        // Either way the rest of the range stays private, with its data.
        for (uint64_t p : kept) {
          EXPECT_TRUE(HostPrivate(p));
          EXPECT_TRUE(GuestSees(p, Marker(p)));
        }
        ASSERT_NO_FATAL_FAILURE(ExpectInterleaved(128));
        ASSERT_NO_FATAL_FAILURE(ExpectInterleaved(382));
        // Merge the middle back (one range again) and start it over.
        ASSERT_EQ(Convert(kFirst, kLen, kPrivate), 0);
        ASSERT_EQ(PunchView(kFirst, kLen), 0);
        ASSERT_TRUE(GuestWrite(kMiddle, Marker(kMiddle)));
      },
      /*allocates=*/true, mode);
}

TEST_F(FailInjectInPlace, MergeManyRanges) {
  // Every other page of [0, 256) private: converting all of it to private
  // merges 128 ranges into one (a store that spans several tree nodes),
  // converting it to shared drops them all.  Both directions, each swept.
  constexpr uint64_t kPairs = 128, kPages = 2 * kPairs;
  const std::initializer_list<uint64_t> probes = {0, 1, 64, 65, 254, 255};
  auto interleave = [&] {
    ASSERT_NO_FATAL_FAILURE(Interleave(0, kPairs));
    for (uint64_t p : probes) {
      if (p % 2)
        HostWrite(p, Marker(p));
      else
        ASSERT_TRUE(GuestWrite(p, Marker(p)));
    }
  };
  auto expect_interleaved = [&] {
    for (uint64_t p : probes) {
      if (p % 2) {
        EXPECT_TRUE(HostShared(p, Marker(p)));
      } else {
        EXPECT_TRUE(HostPrivate(p));
        EXPECT_TRUE(GuestSees(p, Marker(p)));
      }
    }
  };
  auto reset = [&] {
    ASSERT_EQ(Convert(0, kPages, 0), 0);
    ASSERT_EQ(PunchView(0, kPages), 0);
  };
  ASSERT_NO_FATAL_FAILURE(interleave());
  for (FailMode mode : kBothModes) Sweep(
      "KVM_SET_MEMORY_ATTRIBUTES2 (merge)", [&] { return Convert(0, kPages, kPrivate); },
      [&](long res) {
        if (res == 0) {
          for (uint64_t p : probes) EXPECT_TRUE(HostPrivate(p));
          EXPECT_TRUE(GuestSees(0, Marker(0))) << "a private page made private keeps its data";
          EXPECT_TRUE(GuestSees(1, Marker(1))) << "a shared page made private keeps its data";
        } else {
          expect_interleaved();
        }
        ASSERT_NO_FATAL_FAILURE(reset());
        ASSERT_NO_FATAL_FAILURE(interleave());
      },
      /*allocates=*/true, mode);
  for (FailMode mode : kBothModes) Sweep(
      "KVM_SET_MEMORY_ATTRIBUTES2 (drop)", [&] { return Convert(0, kPages, 0); },
      [&](long res) {
        if (res == 0) {
          for (uint64_t p : probes) EXPECT_TRUE(HostShared(p, Marker(p)));
        } else {
          expect_interleaved();
        }
        ASSERT_NO_FATAL_FAILURE(reset());
        ASSERT_NO_FATAL_FAILURE(interleave());
      },
      /*allocates=*/true, mode);
}

}  // namespace
}  // namespace gmt
