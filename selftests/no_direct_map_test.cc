// GUEST_MEMFD_FLAG_NO_DIRECT_MAP (the posted direct map removal ABI): the
// memory of such a guest_memfd, shared and private, is out of the kernel's
// direct map from its first use until it is freed, for any VM type.
// Userspace and the guest use it as usual; what needs the kernel to reach
// a page itself fails cleanly: a read through the direct map (/dev/mem,
// as a stray kernel access would) gets EFAULT and none of the data,
// get_user_pages() on the mapping fails (/proc/self/mem, vmsplice()), and
// KVM's gfn-to-pfn caches cannot use it (a kvmclock page there is not
// written).  Each case has a control on an ordinary guest_memfd, so that
// it can fail.  Skips by name on kernels without the flag.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "selftests/lib/kvm.h"
#include "selftests/lib/ownership.h"
#include "selftests/lib/private_vm.h"
#include "selftests/lib/skip.h"

namespace gmt {
namespace {

constexpr uint64_t kNoDirectMap = GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
constexpr uint64_t kShared = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
constexpr uint32_t kMsrKvmSystemTimeNew = 0x4b564d01;

bool Has(int fd, uint64_t flag) {
  long r = CheckExtension(fd, KVM_CAP_GUEST_MEMFD_FLAGS);
  return r > 0 && (static_cast<uint64_t>(r) & flag);
}

#define GMT_REQUIRE_NO_DIRECT_MAP(kvm)                                    \
  do {                                                                    \
    if (!Has((kvm), kNoDirectMap))                                        \
      GTEST_SKIP() << "no GUEST_MEMFD_FLAG_NO_DIRECT_MAP on this kernel"; \
  } while (0)

// Reading page |pfn| through the direct map: 0 and the data, or -errno.
int ReadThroughDirectMap(uint64_t pfn, std::vector<uint32_t>* out) {
  out->assign(kPage / 4, 0);
  return ReadPhysPage(pfn, out->data());
}

TEST(NoDirectMapFlag, EveryVmTypeAcceptsIt) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_NO_DIRECT_MAP(kvm.get());
  for (unsigned type : {KVM_X86_DEFAULT_VM, KVM_X86_SW_PROTECTED_VM}) {
    if (!VmTypeSupported(kvm.get(), type)) continue;
    TestVm vm(type);
    GMT_ASSERT_VM(vm);
    EXPECT_TRUE(Has(vm.vm(), kNoDirectMap)) << "VM type " << type;
    const uint64_t caps = static_cast<uint64_t>(CheckExtension(vm.vm(), KVM_CAP_GUEST_MEMFD_FLAGS));
    std::vector<uint64_t> combos = {kNoDirectMap, kNoDirectMap | GUEST_MEMFD_FLAG_MMAP};
    if (caps & GUEST_MEMFD_FLAG_INIT_SHARED) combos.push_back(kNoDirectMap | kShared);
    for (uint64_t flags : combos) {
      long fd = CreateGuestMemfd(vm.vm(), 4 * kPage, flags);
      EXPECT_GE(fd, 0) << "VM type " << type << " flags " << std::hex << flags << ": "
                       << strerror(static_cast<int>(-fd));
      if (fd >= 0) close(static_cast<int>(fd));
    }
  }
}

// A default VM with a gmem-only slot of a mappable, shared guest_memfd,
// with or without the flag.
class NoDirectMap : public testing::TestWithParam<bool> {
 protected:
  static constexpr uint64_t kGpa = 0x200000;
  static constexpr uint64_t kSize = 2 << 20;
  static constexpr uint32_t kSlot = 1;

  void SetUp() override {
    UniqueFd kvm = OpenKvm();
    GMT_REQUIRE_KVM(kvm);
    GMT_REQUIRE_NO_DIRECT_MAP(kvm.get());
    if (access("/dev/mem", R_OK) != 0) GTEST_SKIP() << "/dev/mem: " << strerror(errno);
    vm_ = std::make_unique<TestVm>(KVM_X86_DEFAULT_VM);
    GMT_ASSERT_VM(*vm_);
    long fd = CreateGuestMemfd(vm_->vm(), kSize, kShared | (hidden() ? kNoDirectMap : 0));
    ASSERT_GE(fd, 0) << strerror(static_cast<int>(-fd));
    gmem_.reset(static_cast<int>(fd));
    view_ = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, gmem_.get(), 0);
    ASSERT_TRUE(view_.valid()) << strerror(errno);
    ASSERT_EQ(SetRegion2(vm_->vm(), GmemSlot(kSlot, kGpa, kSize, view_.data(), gmem_.get())), 0)
        << strerror(errno);
  }

  bool hidden() const { return GetParam(); }
  uint32_t* Page(uint64_t off) { return reinterpret_cast<uint32_t*>(view_.data() + off); }
  // The host fills page |off| with |value|; its pfn (0 on failure).
  uint64_t HostFill(uint64_t off, uint32_t value) {
    std::fill(Page(off), Page(off) + kPage / 4, value);
    uint64_t pfn = PfnOf(Page(off));
    EXPECT_TRUE(PfnOk(pfn)) << "pagemap: " << static_cast<int64_t>(pfn);
    return PfnOk(pfn) ? pfn : 0;
  }
  // The direct map shows page |pfn| with |value| (an ordinary file), or
  // refuses it with EFAULT and none of the data (the flag).
  ::testing::AssertionResult AsTheFlagSays(uint64_t pfn, uint32_t value) {
    std::vector<uint32_t> buf;
    int r = ReadThroughDirectMap(pfn, &buf);
    const bool leaked = std::find(buf.begin(), buf.end(), value) != buf.end();
    if (hidden() && (r != -EFAULT || leaked))
      return ::testing::AssertionFailure()
             << "pfn " << std::hex << pfn << " is in the direct map: "
             << (r ? strerror(-r) : "read") << (leaked ? ", data leaked" : "");
    if (!hidden() && (r != 0 || buf[0] != value))
      return ::testing::AssertionFailure() << "control: pfn " << std::hex << pfn << ": "
                                           << (r ? strerror(-r) : "wrong data");
    return ::testing::AssertionSuccess();
  }

  std::unique_ptr<TestVm> vm_;
  UniqueFd gmem_;
  Mapping view_;
};

// The host and the guest share memory through the mapping and the slot,
// while the kernel's direct map does not show it.
TEST_P(NoDirectMap, SharedMemoryWorksOutsideTheDirectMap) {
  constexpr uint32_t kHost = 0x0d1e0001, kGuest = 0x0d1e0002;
  const uint64_t pfn = HostFill(0, kHost);
  ASSERT_NE(pfn, 0u);
  EXPECT_TRUE(AsTheFlagSays(pfn, kHost));
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa + 8)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, kHost) << "the guest sees what the host wrote";

  res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa + kPage), kPage / 4, kGuest, 1});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(Page(kPage)[kPage / 4 - 1], kGuest) << "the host sees what the guest wrote";
  const uint64_t gpfn = PfnOf(Page(kPage));
  ASSERT_TRUE(PfnOk(gpfn));
  EXPECT_TRUE(AsTheFlagSays(gpfn, kGuest));
}

// get_user_pages() on the mapping fails: the kernel would reach a pinned
// page through the direct map.  Plain copies through the mapping work.
TEST_P(NoDirectMap, PinningFails) {
  constexpr uint32_t kHost = 0x0d1e0003;
  ASSERT_NE(HostFill(2 * kPage, kHost), 0u);
  uint32_t buf[16] = {};
  UniqueFd mem(open("/proc/self/mem", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(mem.valid()) << strerror(errno);
  ssize_t n = pread(mem.get(), buf, sizeof(buf), reinterpret_cast<uintptr_t>(Page(2 * kPage)));
  if (hidden()) {
    EXPECT_EQ(n, -1);
    EXPECT_EQ(errno, EIO) << "/proc/self/mem";
    EXPECT_EQ(buf[0], 0u);
  } else {
    EXPECT_EQ(n, static_cast<ssize_t>(sizeof(buf))) << strerror(errno);
    EXPECT_EQ(buf[0], kHost);
  }

  int pfd[2];
  ASSERT_EQ(pipe2(pfd, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd rd(pfd[0]), wr(pfd[1]);
  iovec iov = {Page(2 * kPage), kPage};
  n = vmsplice(wr.get(), &iov, 1, SPLICE_F_NONBLOCK);
  if (hidden()) {
    EXPECT_EQ(n, -1);
    EXPECT_EQ(errno, EFAULT) << "vmsplice()";
  } else {
    EXPECT_EQ(n, static_cast<ssize_t>(kPage)) << strerror(errno);
  }

  // A copy through the user mapping is no pin.
  UniqueFd null(open("/dev/null", O_WRONLY | O_CLOEXEC));
  EXPECT_EQ(write(null.get(), Page(2 * kPage), kPage), static_cast<ssize_t>(kPage));
}

// KVM's gfn-to-pfn caches reach guest memory through the direct map, so
// they cannot use such memory: a kvmclock page there is never written,
// and nothing else happens (no WARN, no crash).  The control shows the
// page written.
TEST_P(NoDirectMap, KvmClockCannotUseIt) {
  constexpr uint64_t kClock = 3 * kPage;
  std::fill(Page(kClock), Page(kClock) + kPage / 4, 0u);
  // KVM_SET_MSRS with one entry (GMEM_SET_MSRS: see common/uapi/kvm.h).
  struct {
    gmem_msrs_header hdr;
    kvm_msr_entry entry;
  } msrs = {};
  msrs.hdr.nmsrs = 1;
  msrs.entry.index = kMsrKvmSystemTimeNew;
  msrs.entry.data = (kGpa + kClock) | 1;
  ASSERT_EQ(Ioctl(vm_->vcpu(), GMEM_SET_MSRS, &msrs), 1) << "MSR_KVM_SYSTEM_TIME_NEW";
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa)});
  ASSERT_TRUE(res.ok) << res.what;
  const uint32_t version = Page(kClock)[0];
  if (hidden())
    EXPECT_EQ(version, 0u) << "the kvmclock page was written through the direct map";
  else
    EXPECT_NE(version, 0u) << "control: KVM never wrote the kvmclock page";
  // Turn it off again before the VM goes.
  msrs.entry.data = 0;
  EXPECT_EQ(Ioctl(vm_->vcpu(), GMEM_SET_MSRS, &msrs), 1);
}

// Freeing a page puts it back in the direct map, zeroed (for the flag),
// for its next user: a hole punched over it, and the release of the whole
// file.
TEST_P(NoDirectMap, FreedPagesAreBackInTheDirectMap) {
  constexpr uint32_t kHost = 0x0d1e0004;
  std::vector<uint64_t> pfns;
  for (uint64_t off = 4 * kPage; off < 8 * kPage; off += kPage) {
    pfns.push_back(HostFill(off, kHost));
    ASSERT_NE(pfns.back(), 0u);
    ASSERT_TRUE(AsTheFlagSays(pfns.back(), kHost));
  }
  ASSERT_EQ(fallocate(gmem_.get(), FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 4 * kPage, kPage),
            0);
  std::vector<uint32_t> buf;
  EXPECT_EQ(ReadThroughDirectMap(pfns[0], &buf), 0) << "punched page out of the direct map";
  if (hidden()) {
    EXPECT_TRUE(std::find(buf.begin(), buf.end(), kHost) == buf.end())
        << "the freed page still holds what the file held";
  }
  view_ = Mapping();
  gmem_.reset();
  vm_.reset();
  for (uint64_t pfn : pfns)
    EXPECT_EQ(ReadThroughDirectMap(pfn, &buf), 0)
        << "pfn " << std::hex << pfn << " out of the direct map after release";
}

INSTANTIATE_TEST_SUITE_P(, NoDirectMap, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool>& i) {
                           return i.param ? std::string("NoDirectMap") : std::string("Control");
                         });

// A SW-protected VM converting the memory in place: the page stays out of
// the direct map on both sides (the arch's giving back of a page made
// shared does not put it back), and keeps its contents.
TEST(NoDirectMapInPlace, ConversionKeepsThePageOut) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_NO_DIRECT_MAP(kvm.get());
  GMT_REQUIRE_VM_TYPE(kvm.get(), KVM_X86_SW_PROTECTED_VM);
  if (CheckExtension(kvm.get(), KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES) !=
      static_cast<long>(KVM_MEMORY_ATTRIBUTE_PRIVATE))
    GTEST_SKIP() << "no in-place conversion (boot with kvm.gmem_in_place_conversion=1)";
  if (access("/dev/mem", R_OK) != 0) GTEST_SKIP() << "/dev/mem: " << strerror(errno);
  constexpr uint64_t kGpa = 0x200000, kSize = 1 << 20;
  constexpr uint32_t kHost = 0x0d1e0005, kGuest = 0x0d1e0006;
  TestVm vm(KVM_X86_SW_PROTECTED_VM);
  GMT_ASSERT_VM(vm);
  UniqueFd gmem(static_cast<int>(CreateGuestMemfd(vm.vm(), kSize, kShared | kNoDirectMap)));
  ASSERT_TRUE(gmem.valid());
  Mapping view = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_SHARED, gmem.get(), 0);
  ASSERT_TRUE(view.valid());
  ASSERT_EQ(SetRegion2(vm.vm(), GmemSlot(1, kGpa, kSize, view.data(), gmem.get())), 0);
  auto* page = reinterpret_cast<uint32_t*>(view.data());
  std::fill(page, page + kPage / 4, kHost);
  const uint64_t pfn = PfnOf(page);
  ASSERT_TRUE(PfnOk(pfn));
  std::vector<uint32_t> buf;
  EXPECT_EQ(ReadThroughDirectMap(pfn, &buf), -EFAULT) << "shared";

  ASSERT_EQ(SetAttributes2(gmem.get(), 0, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
  EXPECT_EQ(ReadThroughDirectMap(pfn, &buf), -EFAULT) << "private";
  auto res = vm.Command(kOpRead, {static_cast<uint32_t>(kGpa)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, kHost) << "contents kept";
  res = vm.Command(kOpFill, {static_cast<uint32_t>(kGpa), kPage / 4, kGuest, 1});
  ASSERT_TRUE(res.ok) << res.what;

  ASSERT_EQ(SetAttributes2(gmem.get(), 0, kPage, 0), 0);
  EXPECT_EQ(ReadThroughDirectMap(pfn, &buf), -EFAULT) << "shared again";
  EXPECT_TRUE(std::find(buf.begin(), buf.end(), kGuest) == buf.end()) << "guest data leaked";
  EXPECT_EQ(page[0], kGuest);
  EXPECT_EQ(PfnOf(page), pfn) << "one copy of the page";
}

}  // namespace
}  // namespace gmt
