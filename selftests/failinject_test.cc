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
// test kernel); skips by name elsewhere.
#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>

#include "selftests/lib/failnth.h"
#include "selftests/lib/private_vm.h"

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
    int points = 0;
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
      EXPECT_TRUE(r == 0 || r == -ENOMEM)
          << name << " with allocation " << nth << " failing: " << strerror(static_cast<int>(-r));
      check(r);
      if (HasFatalFailure()) break;
    }
    printf("%-34s %3d allocation(s) failed %s\n", name, points,
           mode == FailMode::kOnce ? "one at a time" : "from the n-th on");
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

}  // namespace
}  // namespace gmt
