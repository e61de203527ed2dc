// SHA-384, the SEV-SNP launch digest (PAGE_INFO chaining) and the TDX
// MRTD (PAGE.ADD / MR.EXTEND records), and the command buffers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "vmm/lib/sev_snp.h"
#include "vmm/lib/sha384.h"
#include "vmm/lib/tdx.h"

namespace gmem {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Sha384, Fips180Vectors) {
  EXPECT_EQ(Hex(Sha384Of(Bytes("abc"))),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(Hex(Sha384Of(Bytes(""))),
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
            "274edebfe76f65fbd51ad2f14898b95b");
  EXPECT_EQ(Hex(Sha384Of(Bytes("abcdefghbcdefghicdefghijdefghijkefghijklfghijklm"
                               "ghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                               "mnopqrstnopqrstu"))),
            "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
            "fcc7c71a557e2db966c3e9fa91746039");
}

TEST(Sha384, PiecewiseEqualsWhole) {
  std::vector<uint8_t> data;
  for (int i = 0; i < 40; ++i)
    for (int b = 0; b < 256; ++b) data.push_back(static_cast<uint8_t>(b));
  // python3: hashlib.sha384(bytes(range(256))*40).hexdigest()
  const std::string want =
      "4ef24cf93ff930e285e3dc8cb285c86dcd1690b847c58180bbabae021717d183"
      "bfa7b99f4b2b1703e93f157a65de7aeb";
  EXPECT_EQ(Hex(Sha384Of(data)), want);
  Sha384 s;
  size_t off = 0;
  for (size_t n : {1u, 127u, 128u, 129u, 1000u, 3u}) {
    s.Update({data.data() + off, n});
    off += n;
  }
  s.Update({data.data() + off, data.size() - off});
  EXPECT_EQ(Hex(s.Final()), want);
}

TEST(SnpDigest, PageInfoLayout) {
  Digest384 cur, contents;
  for (int i = 0; i < 48; ++i) {
    cur[i] = static_cast<uint8_t>(i);
    contents[i] = static_cast<uint8_t>(0x80 + i);
  }
  auto p = snp::PageInfo(cur, contents, snp::PageType::kCpuid, 0x1122334455667000ull);
  EXPECT_EQ(p.size(), 0x70u);
  EXPECT_EQ(0, std::memcmp(p.data(), cur.data(), 48));
  EXPECT_EQ(0, std::memcmp(p.data() + 0x30, contents.data(), 48));
  EXPECT_EQ(p[0x60], 0x70);
  EXPECT_EQ(p[0x61], 0x00);
  EXPECT_EQ(p[0x62], 6);  // CPUID
  for (int i = 0x63; i < 0x68; ++i) EXPECT_EQ(p[i], 0) << i;  // IMI, VMPL perms
  EXPECT_EQ(p[0x68], 0x00);
  EXPECT_EQ(p[0x69], 0x70);
  EXPECT_EQ(p[0x6f], 0x11);
}

TEST(SnpDigest, ChainsPageByPage) {
  std::vector<uint8_t> page(4096, 0x5a);
  // By hand: start at zero, one NORMAL page, then one ZERO page.
  Digest384 ld{};
  ld = Sha384Of(snp::PageInfo(ld, Sha384Of(page), snp::PageType::kNormal, 0x1000));
  ld = Sha384Of(snp::PageInfo(ld, Digest384{}, snp::PageType::kZero, 0x2000));

  snp::LaunchDigest d;
  d.AddRange(0x1000, page, 4096, snp::PageType::kNormal);
  d.AddRange(0x2000, {}, 4096, snp::PageType::kZero);
  EXPECT_EQ(d.digest(), ld);
  EXPECT_EQ(d.pages(), 2u);
  // UNMEASURED: type and GPA are folded in, the contents are not.
  ld = Sha384Of(snp::PageInfo(ld, Digest384{}, snp::PageType::kUnmeasured, 0x3000));
  snp::LaunchDigest a = d, b = d;
  std::vector<uint8_t> other(4096, 0x77);
  a.AddRange(0x3000, page, 4096, snp::PageType::kUnmeasured);
  b.AddRange(0x3000, other, 4096, snp::PageType::kUnmeasured);
  EXPECT_EQ(a.digest(), ld);
  EXPECT_EQ(b.digest(), ld);
  d.AddRange(0x5000, {}, 4096, snp::PageType::kSecrets);
  EXPECT_NE(d.digest(), ld);
}

TEST(SnpCommands, Buffers) {
  EXPECT_EQ(snp::Init2().ghcb_version, 2);
  EXPECT_EQ(snp::Init2().vmsa_features, 0u);
  EXPECT_EQ(snp::LaunchStart(snp::kDefaultPolicy).policy, 0x30000u);
  uint8_t buf[4096] alignas(4096);
  auto u = snp::LaunchUpdate(0x200000, buf, 0x3000, snp::PageType::kNormal);
  EXPECT_EQ(u.gfn_start, 0x200u);
  EXPECT_EQ(u.uaddr, reinterpret_cast<uintptr_t>(buf));
  EXPECT_EQ(u.len, 0x3000u);
  EXPECT_EQ(u.type, KVM_SEV_SNP_PAGE_TYPE_NORMAL);
  EXPECT_EQ(snp::LaunchUpdate(0, buf, 4096, snp::PageType::kZero).uaddr, 0u);
  auto c = snp::Cmd(KVM_SEV_SNP_LAUNCH_UPDATE, &u, 9);
  EXPECT_EQ(c.id, 101u);
  EXPECT_EQ(c.data, reinterpret_cast<uintptr_t>(&u));
  EXPECT_EQ(c.sev_fd, 9u);
  EXPECT_EQ(KVM_SEV_SNP_LAUNCH_START, 100);
  EXPECT_EQ(KVM_SEV_SNP_LAUNCH_FINISH, 102);
  EXPECT_EQ(KVM_X86_SNP_VM, 4);
}

TEST(SnpCommands, CpuidPage) {
  std::vector<snp::CpuidFunction> fns(3);
  fns[2].eax_in = 7;
  fns[2].edx = 0xabcd;
  auto page = snp::CpuidPage(fns);
  ASSERT_EQ(page.size(), 4096u);
  EXPECT_EQ(page[0], 3);
  uint32_t eax_in, edx;
  std::memcpy(&eax_in, page.data() + 16 + 2 * 48, 4);
  std::memcpy(&edx, page.data() + 16 + 2 * 48 + 36, 4);
  EXPECT_EQ(eax_in, 7u);
  EXPECT_EQ(edx, 0xabcdu);
  EXPECT_TRUE(snp::CpuidPage(std::vector<snp::CpuidFunction>(65)).empty());
}

TEST(TdxMrtd, RecordsAndChunks) {
  std::vector<uint8_t> page(4096);
  for (size_t i = 0; i < page.size(); ++i) page[i] = static_cast<uint8_t>(i * 7);
  // By hand: one stream of 128-byte records.
  Sha384 s;
  auto record = [&](const char* what, uint64_t gpa) {
    uint8_t r[128] = {};
    std::memcpy(r, what, std::strlen(what));
    std::memcpy(r + 16, &gpa, 8);  // little-endian host
    s.Update(r);
  };
  record("MEM.PAGE.ADD", 0x5000);
  for (uint64_t c = 0; c < 4096; c += 256) {
    record("MR.EXTEND", 0x5000 + c);
    s.Update({page.data() + c, 256});
  }
  record("MEM.PAGE.ADD", 0x6000);  // unmeasured: added only
  const Digest384 want = s.Final();

  tdx::Mrtd m;
  m.AddRegion(0x5000, page, true);
  m.AddRegion(0x6000, page, false);
  EXPECT_EQ(m.Value(), want);
  EXPECT_EQ(m.Value(), want);  // Value() does not consume
}

TEST(TdxCommands, Buffers) {
  auto c = tdx::Cmd(KVM_TDX_INIT_MEM_REGION, KVM_TDX_MEASURE_MEMORY_REGION, 0x1234);
  EXPECT_EQ(c.id, 3u);
  EXPECT_EQ(c.flags, 1u);
  EXPECT_EQ(c.data, 0x1234u);
  EXPECT_EQ(c.hw_error, 0u);
  EXPECT_EQ(KVM_X86_TDX_VM, 5);
  EXPECT_EQ(KVM_TDX_FINALIZE_VM, 4);

  auto caps = tdx::CapabilitiesBuffer(10);
  EXPECT_EQ(caps.size() * 8, sizeof(kvm_tdx_capabilities) + 10 * 40);
  EXPECT_EQ(tdx::Caps(caps).cpuid.nent, 10u);

  tdx::CpuidEntry e[2] = {};
  e[0].function = 1;
  e[1].function = 7;
  e[1].ebx = 0x55;
  auto iv = tdx::InitVmBuffer(0x10000000, 0x3, e);
  EXPECT_EQ(tdx::InitVm(iv).attributes, 0x10000000u);
  EXPECT_EQ(tdx::InitVm(iv).xfam, 3u);
  ASSERT_EQ(tdx::InitVmCpuid(iv).size(), 2u);
  EXPECT_EQ(tdx::InitVmCpuid(iv)[1].ebx, 0x55u);

  auto r = tdx::MemRegion(reinterpret_cast<void*>(0x7000), 0xfffff000, 1);
  EXPECT_EQ(r.source_addr, 0x7000u);
  EXPECT_EQ(r.gpa, 0xfffff000u);
  EXPECT_EQ(r.nr_pages, 1u);
}

TEST(TdxCommands, TdCpuidIsConfigurableAndSupported) {
  tdx::CpuidEntry conf[2] = {};
  conf[0].function = 1;
  conf[0].ecx = 0xff00;
  conf[1].function = 7;
  conf[1].ebx = 0xffffffff;
  tdx::CpuidEntry host[1] = {};
  host[0].function = 1;
  host[0].ecx = 0x0ff0;
  auto td = tdx::TdCpuid(conf, host);
  ASSERT_EQ(td.size(), 2u);  // leaf 7 is not the host's; the GPAW leaf is added
  EXPECT_EQ(td[0].ecx, 0x0f00u);
  EXPECT_EQ(td[1].function, 0x80000008u);
  EXPECT_EQ(tdx::GuestPhysBits(td[1]), 48u);
}

TEST(TdxCommands, TdCpuidSetsTheGpawWhateverTheHostSays) {
  tdx::CpuidEntry conf[1] = {};
  conf[0].function = 0x80000008;
  conf[0].eax = 0x00ff00ff;
  tdx::CpuidEntry host[1] = {};
  host[0].function = 0x80000008;
  host[0].eax = 0x002e302e;  // 46 physical bits, GuestPhysBits 46: KVM refuses 46
  auto td = tdx::TdCpuid(conf, host);
  ASSERT_EQ(td.size(), 1u);
  EXPECT_EQ(td[0].eax, 0x0030002eu);
}

TEST(TdxCommands, WithX2apic) {
  tdx::CpuidEntry host[2] = {};
  host[0].function = 7;
  host[1].function = 1;
  host[1].ecx = 0x1;
  auto c = tdx::WithX2apic(host);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].ecx, 0x1u | (1u << 21));
  auto d = tdx::WithX2apic({});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].function, 1u);
  EXPECT_EQ(d[0].ecx, 1u << 21);
}

}  // namespace
}  // namespace gmem
