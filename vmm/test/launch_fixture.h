// Shared by the launch tests: a boot image in a staging buffer laid out as
// a launch plan wants it, and the fake KVM.
#pragma once

#include <sys/mman.h>

#include <cstring>
#include <span>
#include <vector>

#include "vmm/guest/abi.h"
#include "vmm/lib/boot_image.h"
#include "vmm/lib/launch.h"
#include "vmm/lib/launch_plan.h"
#include "vmm/lib/unique_fd.h"
#include "vmm/test/fake_kvm.h"

namespace gmem::test {

inline Payload TinyPayload() {
  Payload p;
  p.load_gpa = abi::kPayloadGpa;
  p.entry_gpa = abi::kPayloadGpa;
  p.image.assign(5000, 0x90);  // two pages
  p.image.back() = 0xf4;
  return p;
}

struct Staged {
  LaunchPlan plan;
  Mapping mem;  // the staging buffer: page-aligned, as memslots need
  BootImage image{};
  std::span<uint8_t> staging() { return {static_cast<uint8_t*>(mem.data()), mem.size()}; }
};

inline Staged Stage(CocoKind kind, uint64_t ram = 16ull << 20) {
  const Payload payload = TinyPayload();
  Staged s{PlanLaunch(kind, ram, payload.image.size()), {}, {}};
  s.mem = Mapping::Map(s.plan.gmem_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  auto r = WriteBootImage(s.staging().first(ram), payload, BootParams{});
  if (r.ok()) s.image = r.value();
  return s;
}

}  // namespace gmem::test
