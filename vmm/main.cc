// gmem-vmm: launch the guest_memfd self-check guest and summarise the run.
#include <cstdio>
#include <string>
#include <vector>

#include "vmm/bench.h"
#include "vmm/lib/embedded_payload.h"
#include "vmm/lib/kvm_system.h"
#include "vmm/lib/machine.h"
#include "vmm/lib/options.h"
#include "vmm/lib/payload.h"
#include "vmm/lib/summary.h"

namespace gmem {
namespace {

int Fail(const Error& e) {
  std::fprintf(stderr, "gmem-vmm: %s\n", e.What().c_str());
  return e.code();
}

int Main(int argc, char** argv) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> args(argv + 1, argv + argc);
  auto opts_r = ParseOptions(args);
  if (!opts_r.ok()) return Fail(opts_r.error());
  const Options& o = opts_r.value();
  if (o.help) {
    std::fputs(UsageText("gmem-vmm").c_str(), stdout);
    return kExitPass;
  }
  if (Status v = ValidateOptions(o); !v.ok()) return Fail(v.error());

  std::vector<uint8_t> file;
  std::span<const uint8_t> payload = EmbeddedPayload();
  if (!o.payload_path.empty()) {
    auto f = ReadFile(o.payload_path);
    if (!f.ok()) return Fail(f.error());
    file = std::move(f).value();
    payload = file;
  }
  // Reject a corrupt payload before touching KVM.
  if (auto p = ParsePayload(payload, 0, ~0ull); !p.ok()) return Fail(p.error());

  auto kvm_r = KvmSystem::Open(o.kvm_path);
  if (!kvm_r.ok()) return Fail(kvm_r.error());
  const KvmSystem& kvm = kvm_r.value();
  const Capabilities caps = kvm.Probe();
  if (o.probe) {
    std::printf("%s\n", caps.Describe().c_str());
    for (Mode m : {Mode::kDefault, Mode::kSwProtected}) {
      Status s = CheckModeSupported(caps, m, Backing::kGuestMemfd);
      std::printf("mode %s: %s\n", ModeName(m),
                  s.ok() ? "supported" : s.error().message().c_str());
    }
    return kExitPass;
  }

  auto progress = [&](const std::string& s) {
    if (!o.quiet) std::fprintf(stderr, "gmem-vmm: %s\n", s.c_str());
  };
  if (o.bench) {
    auto r = RunBench(kvm, caps, o, payload, progress);
    if (!r.ok()) return Fail(r.error());
    std::fputs(r.value().c_str(), stdout);
    return kExitPass;
  }

  if (Status s = CheckModeSupported(caps, o.mode, o.backing); !s.ok())
    return Fail(s.error());
  if (Status s = CheckHostMemory(o.ram_size); !s.ok()) return Fail(s.error());

  RunConfig cfg;
  cfg.mode = o.mode;
  cfg.backing = o.backing;
  cfg.ram_size = o.ram_size;
  cfg.payload_file = payload;
  cfg.timeout_s = o.timeout_s;
  cfg.hypercall = o.hypercall;
  cfg.t0 = t0;
  cfg.progress = progress;
  if (o.verbose)
    cfg.console = [](const std::string& s) {
      std::fprintf(stderr, "guest> %s\n", s.c_str());
    };
  auto r = RunGuest(kvm, caps, cfg);
  if (!r.ok()) return Fail(r.error());
  const Summary& sum = r.value();
  std::fputs((o.json ? FormatJson(sum) : FormatTable(sum)).c_str(), stdout);
  return sum.passed ? kExitPass : kExitGuestFailed;
}

}  // namespace
}  // namespace gmem

int main(int argc, char** argv) { return gmem::Main(argc, argv); }
