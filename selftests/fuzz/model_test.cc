// Unit tests of gmem_fuzz's model: that its rules say what model.cc's
// comments claim, for the cases the fuzzer relies on most.
#include "selftests/fuzz/model.h"

#include <gtest/gtest.h>
#include <linux/falloc.h>

#include <cerrno>

#include "common/uapi/kvm.h"

namespace fuzz {
namespace {

constexpr uint64_t kHva = 0x7f0000000000ULL;

RegionCall GmemSlot(uint32_t slot, uint64_t gpa, uint64_t pages, uint64_t gmem_id,
                    uint64_t offset = 0) {
  RegionCall c;
  c.slot = slot;
  c.flags = KVM_MEM_GUEST_MEMFD;
  c.gpa = gpa;
  c.size = pages * kPage;
  c.hva = kHva;
  c.gmem_offset = offset;
  c.fd = GmemFd::kOwn;
  c.gmem_id = gmem_id;
  c.gmem_size = 64 * kPage;
  return c;
}

TEST(Model, ValidBindingMayOnlySucceedOrRunOutOfMemory) {
  Env env;
  Memslots m;
  Expect e = ExpectRegion(env, GmemSlot(1, 0x100000, 16, 7), m);
  EXPECT_EQ(e.ok.ToString(), "{0,ENOMEM}");
}

TEST(Model, ArgumentErrorsAreEinvalOnly) {
  Env env;
  Memslots m;
  RegionCall c = GmemSlot(1, 0x100000 + 0x800, 16, 7);
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{EINVAL}");
  c = GmemSlot(1, ~0ULL - kPage + 1, 2, 7);  // wraps
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{EINVAL}");
  c = GmemSlot(1, 0x100000, 16, 7);
  c.flags |= KVM_MEM_LOG_DIRTY_PAGES;
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{EINVAL}");
  c = GmemSlot(1 | (1U << 16), 0x100000, 16, 7);  // SMM address space
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{EINVAL}");
}

TEST(Model, V1TakesNoGuestMemfd) {
  Env env;
  Memslots m;
  RegionCall c = GmemSlot(1, 0x100000, 16, 7);
  c.v1 = true;
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{EINVAL}");
}

TEST(Model, OverlapsAndBindings) {
  Env env;
  Memslots m;
  ApplyRegion(GmemSlot(1, 0x100000, 16, 7), m);
  // Another slot over the same gfns.
  EXPECT_EQ(ExpectRegion(env, GmemSlot(2, 0x108000, 16, 8), m).ok.ToString(), "{ENOMEM,EEXIST}");
  // The same file pages at other gfns: EEXIST, as upstream since 7.2.
  EXPECT_EQ(ExpectRegion(env, GmemSlot(2, 0x200000, 4, 7, 8 * kPage), m).ok.ToString(),
            "{ENOMEM,EEXIST}");
  // Other pages of the file are free.
  EXPECT_EQ(ExpectRegion(env, GmemSlot(2, 0x200000, 4, 7, 16 * kPage), m).ok.ToString(),
            "{0,ENOMEM}");
  // Past the end of the file.
  EXPECT_EQ(ExpectRegion(env, GmemSlot(2, 0x200000, 4, 7, 62 * kPage), m).ok.ToString(),
            "{ENOMEM,EINVAL}");
  // Both at once: either answer.
  RegionCall c = GmemSlot(2, 0x108000, 16, 7);
  c.fd = GmemFd::kBad;
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{EBADF,ENOMEM,EEXIST}");
}

TEST(Model, GuestMemfdSlotsCanOnlyBeDeleted) {
  Env env;
  Memslots m;
  ApplyRegion(GmemSlot(1, 0x100000, 16, 7), m);
  RegionCall move = GmemSlot(1, 0x300000, 16, 7);
  EXPECT_EQ(ExpectRegion(env, move, m).ok.ToString(), "{ENOMEM,EINVAL}");
  RegionCall del;
  del.slot = 1;
  EXPECT_EQ(ExpectRegion(env, del, m).ok.ToString(), "{0,ENOMEM}");
  ApplyRegion(del, m);
  EXPECT_EQ(ExpectRegion(env, del, m).ok.ToString(), "{ENOMEM,EINVAL}");
}

TEST(Model, PlainSlotsMoveAndToggleDirtyLogging) {
  Env env;
  Memslots m;
  RegionCall c;
  c.slot = 3;
  c.gpa = 0x100000;
  c.size = 4 * kPage;
  c.hva = kHva;
  ApplyRegion(c, m);
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{0,ENOMEM}");  // no change
  c.flags = KVM_MEM_LOG_DIRTY_PAGES;
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{0,ENOMEM}");
  c.flags = KVM_MEM_READONLY;
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{ENOMEM,EINVAL}");
  c.flags = 0;
  c.gpa = 1ULL << 52;  // beyond MAXPHYADDR
  EXPECT_EQ(ExpectRegion(env, c, m).ok.ToString(), "{ENOMEM,EINVAL}");
}

TEST(Model, AttributesNeverFailWithEintr) {
  AttrCall c{0x100000, 4 * kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE, 0};
  Expect e = ExpectAttributes(c);
  EXPECT_FALSE(e.ok.Has(EINTR));
  EXPECT_EQ(e.ok.ToString(), "{0,ENOMEM}");
  c.attrs = 1;
  EXPECT_EQ(ExpectAttributes(c).ok.ToString(), "{EINVAL}");
}

TEST(Model, Fallocate) {
  const uint64_t size = 16 * kPage;
  FallocCall alloc{FALLOC_FL_KEEP_SIZE, 0, static_cast<int64_t>(size)};
  EXPECT_EQ(ExpectFallocate(alloc, size, false).ok.ToString(), "{0,ENOMEM}");
  EXPECT_EQ(ExpectFallocate(alloc, size, true).ok.ToString(), "{0,EINTR,ENOMEM}");
  FallocCall punch{FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, static_cast<int64_t>(2 * size)};
  EXPECT_EQ(ExpectFallocate(punch, size, true).ok.ToString(), "{0}");
  alloc.len = static_cast<int64_t>(2 * size);
  EXPECT_EQ(ExpectFallocate(alloc, size, false).ok.ToString(), "{EINVAL}");
  FallocCall zero{0, 0, static_cast<int64_t>(kPage)};
  EXPECT_EQ(ExpectFallocate(zero, size, false).ok.ToString(), "{EOPNOTSUPP}");
  FallocCall nokeep{FALLOC_FL_PUNCH_HOLE, 0, static_cast<int64_t>(kPage)};
  EXPECT_EQ(ExpectFallocate(nokeep, size, false).ok.ToString(), "{EOPNOTSUPP}");
  FallocCall big{FALLOC_FL_KEEP_SIZE, INT64_MAX - 4095, 8192};
  EXPECT_EQ(ExpectFallocate(big, size, false).ok.ToString(), "{EFBIG}");
}

TEST(Model, PreFaultProgress) {
  PreFaultCall c{0x100000, 4 * kPage, 0, false};
  EXPECT_EQ(CheckPreFaultProgress(c, 0x100000 + 4 * kPage, 0, 0), "");
  EXPECT_EQ(CheckPreFaultProgress(c, 0x100000 + kPage, 3 * kPage, 0), "");
  EXPECT_NE(CheckPreFaultProgress(c, 0x100000, 4 * kPage, 0), "");
  EXPECT_NE(CheckPreFaultProgress(c, 0x100000 + kPage, 3 * kPage, ENOENT), "");
  EXPECT_NE(CheckPreFaultProgress(c, 0x100000 + kPage, 2 * kPage, 0), "");
  // An invalid call hands back its unaligned input untouched.
  PreFaultCall bad{0x100000, 0x1234, 0, false};
  EXPECT_EQ(CheckPreFaultProgress(bad, 0x100000, 0x1234, EINVAL), "");
  EXPECT_FALSE(ExpectPreFault(Env{}, c, false).ok.Has(EINTR));
  EXPECT_TRUE(ExpectPreFault(Env{}, c, true).ok.Has(EINTR));
}

TEST(Model, RunStops) {
  std::string why;
  RunStop s;
  s.err = EFAULT;
  s.exit_reason = KVM_EXIT_MEMORY_FAULT;
  s.fault_flags = KVM_MEMORY_EXIT_FLAG_PRIVATE;
  s.fault_gpa = 0x101000;
  s.fault_size = kPage;
  EXPECT_EQ(ClassifyStop(s, 0x101ffc, 0x102004, &why), StopKind::kMemoryFault);
  s.fault_gpa = 0x200000;
  EXPECT_EQ(ClassifyStop(s, 0x101ffc, 0x102004, &why), StopKind::kIllegal);
  s = RunStop{};
  s.err = EINTR;
  s.exit_reason = KVM_EXIT_INTR;
  EXPECT_EQ(ClassifyStop(s, 0, 4, &why), StopKind::kIllegal);  // no signal
  s.signalled = true;
  EXPECT_EQ(ClassifyStop(s, 0, 4, &why), StopKind::kInterrupted);
  s = RunStop{};
  s.exit_reason = KVM_EXIT_MMIO;
  s.mmio_addr = 0x1000;
  s.mmio_len = 4;
  EXPECT_EQ(ClassifyStop(s, 0x1000, 0x1004, &why), StopKind::kMmio);
  EXPECT_EQ(ClassifyStop(s, 0x2000, 0x2004, &why), StopKind::kIllegal);
  s.err = EIO;
  EXPECT_EQ(ClassifyStop(s, 0x1000, 0x1004, &why), StopKind::kIllegal);
}

TEST(Model, HwpoisonOnlyFromPagesTheFuzzerPoisoned) {
  std::string why;
  RunStop s;
  s.err = EHWPOISON;
  s.exit_reason = KVM_EXIT_MEMORY_FAULT;
  s.fault_flags = KVM_MEMORY_EXIT_FLAG_PRIVATE;
  s.fault_gpa = 0x101000;
  s.fault_size = kPage;
  // Without poisoned pages EHWPOISON is never legal.
  EXPECT_EQ(ClassifyStop(s, 0x100000, 0x103000, &why), StopKind::kIllegal);
  PoisonedPages p;
  p.maybe = {0x102000};
  EXPECT_EQ(ClassifyStop(s, 0x100000, 0x103000, &why, &p), StopKind::kIllegal);
  p.maybe.insert(0x101000);
  EXPECT_EQ(ClassifyStop(s, 0x100000, 0x103000, &why, &p), StopKind::kPoisoned);
  // Outside the command's range, not private, or without the exit: illegal.
  EXPECT_EQ(ClassifyStop(s, 0x102000, 0x103000, &why, &p), StopKind::kIllegal);
  s.fault_flags = 0;
  EXPECT_EQ(ClassifyStop(s, 0x100000, 0x103000, &why, &p), StopKind::kIllegal);
  s.fault_flags = KVM_MEMORY_EXIT_FLAG_PRIVATE;
  s.exit_reason = KVM_EXIT_MMIO;
  EXPECT_EQ(ClassifyStop(s, 0x100000, 0x103000, &why, &p), StopKind::kIllegal);
}

TEST(Model, RefusedPoisonedPagesAreNeverAnswered) {
  PoisonedPages p;
  p.maybe = {0x101000, 0x102000};
  p.refused = {0x102000};
  EXPECT_EQ(CheckAnswered(0x100000, 0x102000, &p), "");  // maybe: may still be mapped
  EXPECT_NE(CheckAnswered(0x101ffc, 0x102004, &p), "");
  EXPECT_EQ(CheckAnswered(0x101ffc, 0x102004, nullptr), "");
}

TEST(Model, BackedPreFaultAndPoison) {
  PoisonedPages p;
  p.maybe = {0x101000, 0x105000};
  p.refused = {0x105000};
  EXPECT_EQ(ExpectBackedPreFault(false, &p, 0x100000).ok.ToString(), "{0,ENOMEM}");
  EXPECT_EQ(ExpectBackedPreFault(false, &p, 0x101000).ok.ToString(), "{0,ENOMEM,EHWPOISON}");
  // A refused first page cannot be mapped: no success.
  EXPECT_EQ(ExpectBackedPreFault(true, &p, 0x105000).ok.ToString(), "{EINTR,ENOMEM,EHWPOISON}");
  const PreFaultCall c{0x100000, 4 * kPage, 0, false};
  // Whole, or stopped at a poisoned page.
  EXPECT_EQ(CheckBackedPreFault(c, 0x104000, 0, 0, false, &p), "");
  EXPECT_EQ(CheckBackedPreFault(c, 0x101000, 3 * kPage, 0, false, &p), "");
  EXPECT_NE(CheckBackedPreFault(c, 0x102000, 2 * kPage, 0, false, &p), "");
  EXPECT_EQ(CheckBackedPreFault(c, 0x102000, 2 * kPage, 0, true, &p), "");
  EXPECT_NE(CheckBackedPreFault(c, 0x102000, 2 * kPage, 0, false, nullptr), "");
  // Never through a page that must be refused.
  p.refused.insert(0x101000);
  EXPECT_NE(CheckBackedPreFault(c, 0x104000, 0, 0, false, &p), "");
}

// KVM_SET_MEMORY_ATTRIBUTES2 on a mappable file of 16 pages.
Attr2Call Convert(uint64_t offset, uint64_t size, uint64_t attrs) {
  Attr2Call c;
  c.offset = offset;
  c.size = size;
  c.attrs = attrs;
  c.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
  c.gmem_size = 16 * kPage;
  return c;
}

Env InPlaceEnv() {
  Env env;
  env.gmem_attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
  return env;
}

TEST(Model, InitSharedNeedsMmapInVmsWithPrivateMemory) {
  Env env = InPlaceEnv();
  env.gmem_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
  GmemCall c{16 * kPage, GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED, false};
  EXPECT_EQ(ExpectCreateGmem(env, c).ok.ToString(), "{0,ENOMEM}");
  c.flags = GUEST_MEMFD_FLAG_INIT_SHARED;
  EXPECT_EQ(ExpectCreateGmem(env, c).ok.ToString(), "{EINVAL}");
  // Without in-place conversion the capability lacks INIT_SHARED.
  env.gmem_flags = GUEST_MEMFD_FLAG_MMAP;
  c.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
  EXPECT_EQ(ExpectCreateGmem(env, c).ok.ToString(), "{EINVAL}");
}

TEST(Model, Attributes2WithoutInPlaceConversionIsEnotty) {
  // The parameter off: guest_memfd has no ioctls, whatever the argument.
  const Env off;
  EXPECT_EQ(ExpectAttributes2(off, Convert(0, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE)).ok.ToString(),
            "{ENOTTY}");
  Attr2Call c = Convert(1, 0, 1ULL << 60);
  c.flags = 1;
  c.bad_arg = true;
  EXPECT_EQ(ExpectAttributes2(off, c).ok.ToString(), "{ENOTTY}");
  // On the VM fd it is no ioctl either way.
  c = Convert(0, kPage, 0);
  c.on_vm = true;
  EXPECT_EQ(ExpectAttributes2(InPlaceEnv(), c).ok.ToString(), "{ENOTTY}");
}

TEST(Model, Attributes2ArgumentErrors) {
  const Env env = InPlaceEnv();
  auto errs = [&](const Attr2Call& c) { return ExpectAttributes2(env, c).ok.ToString(); };
  Attr2Call c = Convert(0, kPage, 0);
  c.bad_arg = true;
  c.flags = 1;  // never read
  EXPECT_EQ(errs(c), "{EFAULT}");
  c = Convert(0, kPage, 0);
  c.flags = 1ULL << 63;
  EXPECT_EQ(errs(c), "{EINVAL}");
  c = Convert(0, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE);
  c.reserved = true;
  EXPECT_EQ(errs(c), "{EINVAL}");
  EXPECT_EQ(errs(Convert(0, kPage, 1)), "{EINVAL}") << "unknown attribute";
  EXPECT_EQ(errs(Convert(0, 0, 0)), "{EINVAL}") << "size zero";
  EXPECT_EQ(errs(Convert(0x800, kPage, 0)), "{EINVAL}") << "offset unaligned";
  EXPECT_EQ(errs(Convert(0, kPage + 1, 0)), "{EINVAL}") << "size unaligned";
  EXPECT_EQ(errs(Convert(16 * kPage, kPage, 0)), "{EINVAL}") << "starts at the end";
  EXPECT_EQ(errs(Convert(15 * kPage, 2 * kPage, 0)), "{EINVAL}") << "ends past the end";
  EXPECT_EQ(errs(Convert(~0ULL - kPage + 1, 2 * kPage, 0)), "{EINVAL}") << "wraps";
  EXPECT_EQ(errs(Convert(kPage, ~0ULL - kPage + 1, 0)), "{EINVAL}") << "offset + size wraps";
  c = Convert(0, kPage, 0);
  c.gmem_flags = 0;
  EXPECT_EQ(errs(c), "{EINVAL}") << "a file that cannot be mapped";
  // With in-place conversion off in the VM's eyes, any attribute is unknown.
  Env none;
  none.gmem_attributes = 0;
  EXPECT_EQ(ExpectAttributes2(none, Convert(0, kPage, 0)).ok.ToString(), "{ENOTTY}");
}

TEST(Model, Attributes2ValidCalls) {
  const Env env = InPlaceEnv();
  // The whole file, either way.  Only making memory private checks
  // references (EAGAIN); neither ever fails with EINTR.
  EXPECT_EQ(ExpectAttributes2(env, Convert(0, 16 * kPage, 0)).ok.ToString(), "{0,ENOMEM}");
  Attr2Call c = Convert(15 * kPage, kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE);
  EXPECT_EQ(ExpectAttributes2(env, c).ok.ToString(), "{0,EAGAIN,ENOMEM}");
  // error_offset cannot be written: EFAULT takes EAGAIN's place.
  c.readonly_arg = true;
  EXPECT_EQ(ExpectAttributes2(env, c).ok.ToString(), "{0,ENOMEM,EFAULT}");
  // Making memory shared never writes it.
  c.attrs = 0;
  EXPECT_EQ(ExpectAttributes2(env, c).ok.ToString(), "{0,ENOMEM}");
}

TEST(Model, Attributes2ErrorOffsetNamesAPageOfTheRange) {
  const Attr2Call c = Convert(4 * kPage, 3 * kPage, KVM_MEMORY_ATTRIBUTE_PRIVATE);
  EXPECT_EQ(CheckAttributes2(c, EAGAIN, 4 * kPage), "");
  EXPECT_EQ(CheckAttributes2(c, EAGAIN, 6 * kPage), "");
  EXPECT_NE(CheckAttributes2(c, EAGAIN, 7 * kPage), "");
  EXPECT_NE(CheckAttributes2(c, EAGAIN, 3 * kPage), "");
  EXPECT_NE(CheckAttributes2(c, EAGAIN, 5 * kPage + 8), "");
  EXPECT_NE(CheckAttributes2(c, EAGAIN, ~0ULL), "") << "left as it was";
  // Only EAGAIN reports an offset.
  EXPECT_EQ(CheckAttributes2(c, 0, ~0ULL), "");
  EXPECT_EQ(CheckAttributes2(c, ENOMEM, ~0ULL), "");
}

TEST(Model, HostAccessToGuestMemfdMemory) {
  // Without in-place conversion a SW-protected VM's mappable file is
  // private for good: the host never gets through.
  EXPECT_EQ(ExpectHostAccess(Env{}, GUEST_MEMFD_FLAG_MMAP).ok.ToString(), "{ENOMEM,EFAULT}");
  // With it, pages change sides under the access.
  EXPECT_EQ(ExpectHostAccess(InPlaceEnv(), GUEST_MEMFD_FLAG_MMAP).ok.ToString(),
            "{0,ENOMEM,EFAULT}");
  EXPECT_EQ(ExpectHostAccess(InPlaceEnv(), GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED)
                .ok.ToString(),
            "{0,ENOMEM,EFAULT}");
  EXPECT_FALSE(HostAccessMayBeShort(Env{}));
  EXPECT_TRUE(HostAccessMayBeShort(InPlaceEnv()));
  // /proc/self/mem reports a page it cannot reach as EIO.
  EXPECT_EQ(ExpectHostAccess(Env{}, GUEST_MEMFD_FLAG_MMAP, true).ok.ToString(), "{EIO,ENOMEM}");
  EXPECT_EQ(ExpectHostAccess(InPlaceEnv(), GUEST_MEMFD_FLAG_MMAP, true).ok.ToString(),
            "{0,EIO,ENOMEM}");
  // Out of the direct map, pinning fails whatever the page's side; plain
  // copies through the mapping work as before.
  constexpr uint64_t kNoDirectMap =
      GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED | GUEST_MEMFD_FLAG_NO_DIRECT_MAP;
  EXPECT_EQ(ExpectHostAccess(InPlaceEnv(), kNoDirectMap, true).ok.ToString(), "{EIO,ENOMEM}");
  EXPECT_EQ(ExpectHostAccess(InPlaceEnv(), kNoDirectMap, false, true).ok.ToString(),
            "{ENOMEM,EFAULT}");
  EXPECT_EQ(ExpectHostAccess(InPlaceEnv(), kNoDirectMap).ok.ToString(), "{0,ENOMEM,EFAULT}");
}

TEST(Model, InjectionOnAGuestMemfdPage) {
  EXPECT_EQ(ExpectInjection().ok.ToString(), "{0,EBUSY}");
}

}  // namespace
}  // namespace fuzz
