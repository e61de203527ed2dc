// gmem-vmm: launch the guest_memfd self-check guest and summarise the run.
// The only place that turns results and error kinds into exit statuses.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "vmm/bench.h"
#include "vmm/lib/cli.h"
#include "vmm/lib/embedded_payload.h"
#include "vmm/lib/host_support.h"
#include "vmm/lib/kvm_system.h"
#include "vmm/lib/machine.h"
#include "vmm/lib/machine_coco.h"
#include "vmm/lib/summary.h"

namespace gmem {
namespace {

// Documented in vmm/README.md and --help; 4 is the kselftest skip, which
// the harness and scripts/test.sh report as skipped.
enum ExitStatus : int {
  kExitPass = 0,
  kExitGuestFailed = 1,
  kExitUsage = 2,        // bad option, bad size, corrupt payload, too big
  kExitHostError = 3,    // an ioctl/syscall failed unexpectedly
  kExitUnsupported = 4,  // SKIP: the running kernel lacks what the mode needs
};

int ExitStatusFor(ErrorKind k) {
  switch (k) {
    case ErrorKind::kUnsupported: return kExitUnsupported;
    case ErrorKind::kInvalidArgument: return kExitUsage;
    case ErrorKind::kResourceExhausted: return kExitUsage;
    case ErrorKind::kGuestFault: return kExitGuestFailed;
    case ErrorKind::kHostFailure: return kExitHostError;
  }
  return kExitHostError;
}

void PrintJson(const Json& j) { std::fputs((j.dump(2) + "\n").c_str(), stdout); }

// One line on stderr, always; with --json also a JSON document on stdout.
int Fail(const Error& e, bool json) {
  std::fprintf(stderr, "gmem-vmm: %s\n", e.What().c_str());
  const int status = ExitStatusFor(e.kind());
  if (json)
    PrintJson({{"schema_version", kJsonSchemaVersion},
               {"error",
                {{"kind", ErrorKindName(e.kind())},
                 {"message", e.message()},
                 {"hint", e.hint().empty() ? Json(nullptr) : Json(e.hint())},
                 {"errno", e.err() ? Json(e.err()) : Json(nullptr)},
                 {"exit_status", status}}}});
  return status;
}

int Probe(const Capabilities& caps, bool json) {
  Json modes = Json::object();
  std::string text = caps.Describe() + "\n";
  text += std::string("in-place conversion (sw-protected): ") +
          (InPlaceConversionSupported(caps) ? "supported" : "not supported") + "\n";
  for (Mode m : {Mode::kDefault, Mode::kSwProtected, Mode::kSnp, Mode::kTdx}) {
    Status s = CheckModeSupported(caps, m, Backing::kGuestMemfd);
    text += std::string("mode ") + ModeName(m) + ": " +
            (s.ok() ? "supported" : s.error().message()) + "\n";
    modes[ModeName(m)] = {
        {"supported", s.ok()},
        {"reason", s.ok() ? Json(nullptr) : Json(s.error().message())}};
  }
  if (!json) {
    std::fputs(text.c_str(), stdout);
    return kExitPass;
  }
  PrintJson({{"schema_version", kJsonSchemaVersion},
             {"capabilities",
              {{"api_version", caps.api_version},
               {"user_memory2", caps.user_memory2},
               {"guest_memfd", caps.guest_memfd},
               {"guest_memfd_flags", caps.guest_memfd_flags},
               {"vm_types", caps.vm_types},
               {"memory_attributes", caps.memory_attributes},
               {"exit_hypercall", caps.exit_hypercall},
               {"gmem_memory_attributes", caps.gmem_memory_attributes},
               {"sev_device", caps.sev_device},
               {"tdx_module", caps.tdx_module}}},
             {"modes", modes}});
  return kExitPass;
}

int Main(int argc, char** argv) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> args(argv + 1, argv + argc);
  auto opts_r = ParseOptions(args);
  if (!opts_r.ok())  // --json may be among what did not parse
    return Fail(opts_r.error(),
                std::find(args.begin(), args.end(), "--json") != args.end());
  const Options& o = opts_r.value();
  if (o.help) {
    std::fputs(UsageText("gmem-vmm").c_str(), stdout);
    return kExitPass;
  }
  // Everything the command line can get wrong, before touching KVM.
  auto cfg_r = ToRunConfig(o, o.mode == Mode::kSnp   ? EmbeddedSnpPayload()
                             : o.mode == Mode::kTdx ? EmbeddedTdxPayload()
                                                    : EmbeddedPayload());
  if (!cfg_r.ok()) return Fail(cfg_r.error(), o.json);
  RunConfig& cfg = cfg_r.value();
  cfg.t0 = t0;
  cfg.progress = [&](const std::string& s) {
    if (!o.quiet) std::fprintf(stderr, "gmem-vmm: %s\n", s.c_str());
  };
  if (o.verbose)
    cfg.console = [](const std::string& s) {
      std::fprintf(stderr, "guest> %s\n", s.c_str());
    };

  auto kvm_r = KvmSystem::Open(o.kvm_path);
  if (!kvm_r.ok()) return Fail(kvm_r.error(), o.json);
  const KvmSystem& kvm = kvm_r.value();
  const Capabilities caps = kvm.Probe();
  if (o.probe) return Probe(caps, o.json);

  if (o.bench) {
    auto r = RunBench(kvm, caps, cfg, {o.bench_sizes, o.bench_reps});
    if (!r.ok()) return Fail(r.error(), o.json);
    if (o.json) PrintJson(BenchJson(r.value()));
    else if (o.bench_metrics) std::fputs(FormatBenchMetrics(r.value()).c_str(), stdout);
    else std::fputs(FormatBenchTable(r.value()).c_str(), stdout);
    return kExitPass;
  }

  if (Status s = CheckModeSupported(caps, o.mode, o.backing); !s.ok())
    return Fail(s.error(), o.json);
  if (IsConfidential(o.mode)) {
    if (Status s = CheckHostMemory(o.ram_size); !s.ok()) return Fail(s.error(), o.json);
    auto r = RunConfidentialGuest(kvm, cfg);
    if (!r.ok()) return Fail(r.error(), o.json);
    const CocoSummary& cs = r.value();
    if (o.json)
      PrintJson({{"schema_version", kJsonSchemaVersion},
                 {"mode", ModeName(o.mode)},
                 {"vm_type", VmTypeName(o.mode)},
                 {"passed", cs.passed},
                 {"verdict", cs.verdict},
                 {"expected_measurement", {{"what", cs.expected_what}, {"sha384", cs.expected}}},
                 {"firmware_measurement",
                  cs.reported.empty() ? Json(nullptr) : Json(cs.reported)},
                 {"pages_to_private", cs.to_private},
                 {"pages_to_shared", cs.to_shared},
                 {"exits", cs.exits}});
    else
      std::fputs(FormatCocoSummary(cfg, cs).c_str(), stdout);
    return r.value().passed ? kExitPass : kExitGuestFailed;
  }
  if (auto c = ResolveConversion(caps, o.mode, o.conversion); !c.ok())
    return Fail(c.error(), o.json);
  if (Status s = CheckHostMemory(o.ram_size); !s.ok()) return Fail(s.error(), o.json);
  auto r = RunGuest(kvm, caps, cfg);
  if (!r.ok()) return Fail(r.error(), o.json);
  const Summary& sum = r.value();
  std::fputs((o.json ? FormatJson(sum) : FormatTable(sum)).c_str(), stdout);
  return sum.passed ? kExitPass : kExitGuestFailed;
}

}  // namespace
}  // namespace gmem

int main(int argc, char** argv) { return gmem::Main(argc, argv); }
