#include <gtest/gtest.h>

#include "vmm/lib/host_support.h"
#include "common/uapi/kvm.h"

namespace gmem {
namespace {

Capabilities Host618() {  // this machine's 6.18 host kernel
  Capabilities c;
  c.user_memory2 = true;
  c.guest_memfd = true;
  c.guest_memfd_flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;
  c.vm_types = 1u << KVM_X86_DEFAULT_VM;
  c.exit_hypercall = 1u << KVM_HC_MAP_GPA_RANGE;
  return c;
}

TEST(ModeSupport, DefaultModeOnUpstream618) {
  EXPECT_TRUE(CheckModeSupported(Host618(), Mode::kDefault, Backing::kGuestMemfd).ok());
}

TEST(ModeSupport, KernelWithoutGuestMemfdIsASkip) {
  Capabilities c;  // e.g. plain 6.1
  c.user_memory2 = true;
  auto s = CheckModeSupported(c, Mode::kDefault, Backing::kGuestMemfd);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kUnsupported);
  EXPECT_NE(s.error().message().find("KVM_CAP_GUEST_MEMFD"), std::string::npos);
  EXPECT_NE(s.error().message().find("GUEST_MEMFD_FLAG_MMAP"), std::string::npos);
  // Anonymous backing needs none of it.
  EXPECT_TRUE(CheckModeSupported(c, Mode::kDefault, Backing::kAnonymous).ok());
}

TEST(ModeSupport, SwProtectedNeedsTypeAttributesAndExits) {
  auto s = CheckModeSupported(Host618(), Mode::kSwProtected, Backing::kGuestMemfd);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kUnsupported);
  EXPECT_NE(s.error().message().find("KVM_X86_SW_PROTECTED_VM"), std::string::npos);
  EXPECT_NE(s.error().message().find("KVM_MEMORY_ATTRIBUTE_PRIVATE"), std::string::npos);
  Capabilities c = Host618();
  c.vm_types |= 1u << KVM_X86_SW_PROTECTED_VM;
  c.memory_attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
  EXPECT_TRUE(CheckModeSupported(c, Mode::kSwProtected, Backing::kGuestMemfd).ok());
  c.exit_hypercall = 0;
  EXPECT_FALSE(CheckModeSupported(c, Mode::kSwProtected, Backing::kGuestMemfd).ok());
}

Capabilities WithInPlace() {  // our kernel, kvm.gmem_in_place_conversion=1
  Capabilities c = Host618();
  c.vm_types |= 1u << KVM_X86_SW_PROTECTED_VM;
  c.memory_attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
  c.gmem_memory_attributes = KVM_MEMORY_ATTRIBUTE_PRIVATE;
  return c;
}

TEST(ConversionChoice, AutoIsInPlaceWhereTheKernelOffersIt) {
  auto r = ResolveConversion(WithInPlace(), Mode::kSwProtected, Conversion::kAuto);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), Conversion::kInPlace);
  EXPECT_TRUE(InPlaceConversionSupported(WithInPlace()));
  // The attributes backend can still be asked for.
  r = ResolveConversion(WithInPlace(), Mode::kSwProtected, Conversion::kAttributes);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), Conversion::kAttributes);
}

TEST(ConversionChoice, WithoutCap250AutoFallsBackAndInPlaceIsASkip) {
  Capabilities c = WithInPlace();
  c.gmem_memory_attributes = 0;
  EXPECT_FALSE(InPlaceConversionSupported(c));
  auto r = ResolveConversion(c, Mode::kSwProtected, Conversion::kAuto);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), Conversion::kAttributes);
  r = ResolveConversion(c, Mode::kSwProtected, Conversion::kInPlace);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnsupported);
  EXPECT_NE(r.error().What().find("kvm.gmem_in_place_conversion"), std::string::npos)
      << r.error().What();
  // INIT_SHARED is part of it: the file starts shared for the boot image.
  c = WithInPlace();
  c.guest_memfd_flags = GUEST_MEMFD_FLAG_MMAP;
  EXPECT_FALSE(InPlaceConversionSupported(c));
}

TEST(ConversionChoice, DefaultModeConvertsNothing) {
  auto r = ResolveConversion(WithInPlace(), Mode::kDefault, Conversion::kAuto);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), Conversion::kAttributes);
}

TEST(ModeSupport, ExplicitHypercallChannelWins) {
  EXPECT_EQ(ResolveHcChannel(HcChannel::kPort, Mode::kSwProtected), HcChannel::kPort);
  EXPECT_EQ(ResolveHcChannel(HcChannel::kInstruction, Mode::kDefault),
            HcChannel::kInstruction);
  EXPECT_EQ(ResolveHcChannel(HcChannel::kAuto, Mode::kSwProtected),
            HcChannel::kInstruction);
}

}  // namespace
}  // namespace gmem
