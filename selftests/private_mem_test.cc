// Private memory in a SW-protected VM: guest accesses follow the attribute,
// private data lives only in guest_memfd, and a private access that
// guest_memfd cannot back exits with KVM_EXIT_MEMORY_FAULT.  That punching a
// hole discards private data is the series' guest_memfd_lifetime_test's.
#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "selftests/lib/private_vm.h"
#include "selftests/lib/stats.h"

namespace gmt {
namespace {

class PrivateMem : public PrivateVmTest {};

constexpr uint32_t kA = 0xa1a1a1a1, kB = 0xb2b2b2b2, kS = 0x55aa55aa;

TEST_F(PrivateMem, PrivateWritesStayOutOfSharedMemory) {
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  const uint32_t dwords = kSize / 4;
  auto res = vm_->Command(kOpFill, {static_cast<uint32_t>(kGpa), dwords, kA, 1});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, dwords);
  res = vm_->Command(kOpSum, {static_cast<uint32_t>(kGpa), dwords});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, static_cast<uint32_t>(kA * dwords));
  for (uint64_t off = 0; off < kSize; off += kPage) ASSERT_EQ(SharedWord(off), 0u) << off;
}

// kOpTouch writes the first dword of each page and nothing else (the
// benchmark's re-touch after a conversion relies on it).
TEST_F(PrivateMem, TouchWritesOneWordPerPage) {
  const uint32_t pages = kSize / kPage;
  auto res = vm_->Command(kOpTouch, {static_cast<uint32_t>(kGpa + kPage), pages - 1, kB});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, pages - 1);
  EXPECT_EQ(SharedWord(0), 0u);
  for (uint64_t off = kPage; off < kSize; off += kPage) {
    ASSERT_EQ(SharedWord(off), kB) << off;
    ASSERT_EQ(SharedWord(off + 4), 0u) << off;
    ASSERT_EQ(SharedWord(off + kPage - 4), 0u) << off;
  }
}

TEST_F(PrivateMem, ConversionsSwitchBackingWithoutCopying) {
  const uint32_t gpa = static_cast<uint32_t>(kGpa);
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  ASSERT_TRUE(vm_->Command(kOpWrite, {gpa, kA}).ok);
  // To shared: the guest now sees the shared page, which the host wrote.
  std::memcpy(shared_.data(), &kS, sizeof(kS));
  ASSERT_EQ(MakeShared(0, kPage), 0);
  auto res = vm_->Command(kOpRead, {gpa});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, kS);
  // Back to private: guest_memfd kept the private data.
  ASSERT_EQ(MakePrivate(0, kPage), 0);
  res = vm_->Command(kOpRead, {gpa});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, kA);
  EXPECT_EQ(SharedWord(0), kS);
}

TEST_F(PrivateMem, PreallocatedMemoryIsUsed) {
  // fallocate before the guest runs must work: no "create only" semantics.
  ASSERT_EQ(Allocate(0, kSize), 0);
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  auto res = vm_->Command(kOpWrite, {static_cast<uint32_t>(kGpa + kSize - 4), kB});
  ASSERT_TRUE(res.ok) << res.what;
  res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa + kSize - 4)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, kB);
}

TEST_F(PrivateMem, PrivateAccessWithoutGuestMemfdExits) {
  // A plain slot (no guest_memfd) whose pages are marked private.
  Mapping plain = Mapping::Map(kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(plain.valid());
  constexpr uint64_t kPlainGpa = kGpa + kSize;
  Region2 r;
  r.slot = kSlot + 1;
  r.gpa = kPlainGpa;
  r.size = kSize;
  r.hva = reinterpret_cast<uint64_t>(plain.data());
  ASSERT_EQ(SetRegion2(vm_->vm(), r), 0);
  ASSERT_EQ(SetAttributes(vm_->vm(), kPlainGpa, kSize, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);

  auto res = vm_->Command(kOpWrite, {static_cast<uint32_t>(kPlainGpa + 0x1234), kA});
  ASSERT_FALSE(res.ok);
  ASSERT_EQ(res.err, EFAULT) << res.what;
  ASSERT_EQ(res.exit_reason, static_cast<uint32_t>(KVM_EXIT_MEMORY_FAULT));
  gmem_memory_fault_exit f = gmem_read_memory_fault(vm_->run());
  EXPECT_EQ(f.flags, KVM_MEMORY_EXIT_FLAG_PRIVATE);
  EXPECT_EQ(f.gpa, kPlainGpa + 0x1000);
  EXPECT_EQ(f.size, kPage);

  // Userspace resolves it by converting to shared; the guest then finishes.
  ASSERT_EQ(SetAttributes(vm_->vm(), f.gpa, f.size, 0), 0);
  res = vm_->Resume();
  ASSERT_TRUE(res.ok) << res.what;
  uint32_t seen;
  std::memcpy(&seen, plain.data() + 0x1234, sizeof(seen));
  EXPECT_EQ(seen, kA);
}

TEST_F(PrivateMem, PrefaultPrivateMemory) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_PRE_FAULT_MEMORY);
  ASSERT_EQ(MakePrivate(0, kSize), 0);
  kvm_pre_fault_memory pf = {};
  pf.gpa = kGpa;
  pf.size = kSize;
  long r = Ioctl(vm_->vcpu(), KVM_PRE_FAULT_MEMORY, &pf);
  ASSERT_EQ(r, 0);
  EXPECT_EQ(pf.size, 0u);
  EXPECT_EQ(pf.gpa, kGpa + kSize);
  pf = {};
  pf.gpa = kGpa;
  pf.size = kPage;
  pf.flags = 1;
  EXPECT_EQ(Ioctl(vm_->vcpu(), KVM_PRE_FAULT_MEMORY, &pf), -EINVAL);
  auto res = vm_->Command(kOpRead, {static_cast<uint32_t>(kGpa)});
  ASSERT_TRUE(res.ok) << res.what;
  EXPECT_EQ(res.value, 0u);
}

// The AnonHugePages of the mapping that contains |p|, in KiB (smaps), or -1.
long AnonHugeKiB(const void* p) {
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (!f) return -1;
  const auto addr = reinterpret_cast<uintptr_t>(p);
  char line[512];
  bool in = false;
  long kib = -1;
  while (std::fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (std::sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
      in = addr >= lo && addr < hi;
      continue;
    }
    if (in && std::sscanf(line, "AnonHugePages: %ld kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

// KVM_PRE_FAULT_MEMORY on memory that the host backs with 2 MiB pages maps
// it 2 MiB at a time: 4 MiB of transparent huge pages become two 2 MiB
// mappings and no 4 KiB ones, and a request that starts inside the first
// hugepage ends with the cursor at the end of the range.
TEST(PreFault, HugePagesAreMappedWhole) {
  UniqueFd kvm = OpenKvm();
  GMT_REQUIRE_KVM(kvm);
  GMT_REQUIRE_CAP(kvm.get(), KVM_CAP_PRE_FAULT_MEMORY);
  TestVm vm(KVM_X86_DEFAULT_VM);
  ASSERT_TRUE(vm.ok()) << vm.error();
  constexpr uint64_t k2M = 2ULL << 20, kSize = 2 * k2M, kBase = 1ULL << 30;
  Mapping m = Mapping::Map(kSize + k2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(m.valid());
  uint8_t* p = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(m.data()) + k2M - 1) & ~(k2M - 1));
  ASSERT_EQ(madvise(p, kSize, MADV_HUGEPAGE), 0) << std::strerror(errno);
  std::memset(p, 1, kSize);
  if (AnonHugeKiB(p) < static_cast<long>(kSize >> 10))
    GTEST_SKIP() << "no transparent huge pages for the test memory (AnonHugePages "
                 << AnonHugeKiB(p) << " kB)";
  Region2 r;
  r.slot = 1;
  r.gpa = kBase;
  r.size = kSize;
  r.hva = reinterpret_cast<uint64_t>(p);
  ASSERT_EQ(SetRegion2(vm.vm(), r), 0);
  auto before_2m = ReadStat(vm.vm(), "pages_2m");
  auto before_4k = ReadStat(vm.vm(), "pages_4k");
  if (!before_2m || !before_4k) GTEST_SKIP() << "no pages_2m/pages_4k VM statistics";

  kvm_pre_fault_memory pf = {};
  pf.gpa = kBase + kPage;  // inside the first hugepage
  pf.size = kSize - kPage;
  ASSERT_EQ(Ioctl(vm.vcpu(), KVM_PRE_FAULT_MEMORY, &pf), 0);
  EXPECT_EQ(pf.size, 0u);
  EXPECT_EQ(pf.gpa, kBase + kSize);
  EXPECT_EQ(*ReadStat(vm.vm(), "pages_2m") - *before_2m, 2u);
  EXPECT_EQ(*ReadStat(vm.vm(), "pages_4k"), *before_4k);
}

}  // namespace
}  // namespace gmt
