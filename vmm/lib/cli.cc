#include "vmm/lib/cli.h"

#include <algorithm>
#include <utility>

#include <CLI/CLI.hpp>

#include "vmm/guest/abi.h"
#include "vmm/lib/payload.h"
#include "vmm/lib/size.h"

namespace gmem {
namespace {

// CLI11 transform: "64M" -> "67108864", so the option parses as a number.
std::string SizeToBytes(std::string& s) {
  auto r = ParseSize(s);
  if (!r.ok()) return r.error().message();
  s = std::to_string(r.value());
  return {};
}

// CLI11 transform: a name from the list -> its enum value (as a number,
// which CLI11 then parses into the enum); anything else is refused with the
// list of names.
template <typename E>
CLI::Validator Choice(std::vector<std::pair<std::string, E>> names) {
  return CLI::Validator(
      [names](std::string& s) -> std::string {
        std::string list;
        for (const auto& [name, value] : names) {
          if (s == name) {
            s = std::to_string(static_cast<int>(value));
            return {};
          }
          list += (list.empty() ? "" : ", ") + name;
        }
        return "unknown value '" + s + "' (" + list + ")";
      },
      "");
}

}  // namespace

Result<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  CLI::App app{"gmem-vmm"};
  app.set_help_flag();  // UsageText() is the help
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  const CLI::Validator size(SizeToBytes, "SIZE");
  const auto modes = Choice<Mode>(
      {{"default", Mode::kDefault}, {"sw-protected", Mode::kSwProtected},
       {"snp", Mode::kSnp}, {"tdx", Mode::kTdx}});
  const auto backings = Choice<Backing>(
      {{"gmem", Backing::kGuestMemfd}, {"guest_memfd", Backing::kGuestMemfd},
       {"anon", Backing::kAnonymous}, {"anonymous", Backing::kAnonymous}});
  const auto conversions = Choice<Conversion>(
      {{"auto", Conversion::kAuto}, {"in-place", Conversion::kInPlace},
       {"attributes", Conversion::kAttributes}});
  const auto channels = Choice<HcChannel>(
      {{"auto", HcChannel::kAuto}, {"insn", HcChannel::kInstruction},
       {"instruction", HcChannel::kInstruction}, {"port", HcChannel::kPort}});

  app.add_flag("-h,--help", o.help);
  app.add_option("--mode", o.mode)->transform(modes);
  app.add_option("--ram", o.ram_size)->transform(size);
  app.add_option("--backing", o.backing)->transform(backings);
  app.add_option("--hypercall", o.hypercall)->transform(channels);
  app.add_option("--conversion", o.conversion)->transform(conversions);
  app.add_option("--payload", o.payload_path);
  app.add_option("--kvm", o.kvm_path);
  app.add_flag("--json", o.json);
  app.add_flag("-q,--quiet", o.quiet);
  app.add_flag("-v,--verbose", o.verbose);
  app.add_flag("--probe", o.probe);
  app.add_flag("--bench", o.bench);
  app.add_flag("--bench-metrics", o.bench_metrics);
  app.add_option_function<std::string>("--bench-sizes", [&o](const std::string& v) {
    auto r = ParseSizeList(v);
    if (!r.ok()) throw CLI::ValidationError("--bench-sizes", r.error().message());
    o.bench_sizes = std::move(r).value();
  });
  app.add_option("--bench-fill", o.bench_fill)->transform(size);
  app.add_option("--bench-reps", o.bench_reps)->check(CLI::Range(1u, 100u));
  app.add_option("--timeout", o.timeout_s)->check(CLI::Range(1u, 86400u));

  std::vector<std::string> rev(args.rbegin(), args.rend());  // CLI11's order
  try {
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    return Error::Msg(what + " (see --help)", ErrorKind::kInvalidArgument);
  }
  if (o.bench_metrics) o.bench = true;
  return o;
}

Status ValidateOptions(const Options& o) {
  auto check = [](uint64_t ram, const std::string& what) -> Status {
    const auto bad = ErrorKind::kInvalidArgument;
    if (ram == 0) return Error::Msg(what + " is 0", bad);
    if (ram % abi::kRamAlign)
      return Error::Msg(what + " " + std::to_string(ram) +
                        " bytes is not a multiple of 2 MiB", bad);
    if (ram < abi::kMinRam)
      return Error::Msg(what + " " + FormatSize(ram) + " is below the " +
                        FormatSize(abi::kMinRam) + " minimum", bad);
    return Ok{};
  };
  if (o.bench) {
    for (uint64_t s : o.bench_sizes) GMEM_TRY(check(s, "benchmark size"));
    return Ok{};
  }
  GMEM_TRY(check(o.ram_size, "RAM size"));
  if (o.backing == Backing::kAnonymous && o.mode != Mode::kDefault)
    return Error::Msg("--backing anon is only for --mode default",
                      ErrorKind::kInvalidArgument);
  if (o.conversion != Conversion::kAuto && o.mode != Mode::kSwProtected)
    return Error::Msg(std::string("--conversion ") + ConversionName(o.conversion) +
                          " is only for --mode sw-protected (a default VM has "
                          "no private memory)",
                      ErrorKind::kInvalidArgument);
  return Ok{};
}

Result<RunConfig> ToRunConfig(const Options& o,
                              std::span<const uint8_t> embedded_payload) {
  GMEM_TRY(ValidateOptions(o));
  std::vector<uint8_t> file;
  std::span<const uint8_t> bytes = embedded_payload;
  if (!o.payload_path.empty()) {
    file = GMEM_TRY(ReadFile(o.payload_path));
    bytes = file;
  }
  RunConfig cfg;
  cfg.payload = GMEM_TRY(ParsePayload(bytes, abi::kPayloadGpa,
                                      abi::kPayloadGpa + abi::kPayloadMax));
  cfg.mode = o.mode;
  cfg.backing = o.backing;
  cfg.conversion = o.conversion;
  cfg.ram_size = o.ram_size;
  cfg.bench_only = o.bench;
  cfg.fill_limit = o.bench_fill;
  cfg.timeout_s = o.timeout_s;
  cfg.hypercall = o.hypercall;
  return cfg;
}

std::string UsageText(const std::string& argv0) {
  return "usage: " + argv0 + R"( [options]

Launch a 64-bit guest whose memory lives in guest_memfd, run its
self-check (fill + checksum, private<->shared conversions with
KVM_HC_MAP_GPA_RANGE, a message through shared memory) and summarise.

  --mode default        default VM; all RAM in one guest_memfd created with
                        GUEST_MEMFD_FLAG_MMAP|INIT_SHARED (Linux 6.18+) (default)
  --mode sw-protected   KVM_X86_SW_PROTECTED_VM; work RAM private in
                        guest_memfd, converted on KVM_EXIT_HYPERCALL and
                        KVM_EXIT_MEMORY_FAULT
  --mode snp            AMD SEV-SNP guest (KVM_X86_SNP_VM, upstream Linux 6.11+,
                        /dev/sev): KVM_SEV_INIT2, SNP_LAUNCH_START/UPDATE/
                        FINISH; page-state changes serviced as MAP_GPA_RANGE
  --mode tdx            Intel TDX guest (KVM_X86_TDX_VM, upstream Linux 6.16+):
                        KVM_TDX_INIT_VM/INIT_VCPU/INIT_MEM_REGION/FINALIZE_VM;
                        MapGPA serviced as MAP_GPA_RANGE.  Both exit 4 (skip)
                        with the reason on a host without the hardware
  --conversion auto|in-place|attributes
                        sw-protected only: convert in place inside
                        guest_memfd (KVM_SET_MEMORY_ATTRIBUTES2, one copy of
                        RAM) or with the VM's attributes + punch hole (shared
                        copy in anonymous memory); auto = in place where the
                        kernel offers it (default auto)
  --ram SIZE            guest RAM, multiple of 2 MiB, >= 8 MiB (default 32M)
  --backing gmem|anon   default mode only: anon = ordinary anonymous memory,
                        for comparison (default gmem)
  --hypercall auto|insn|port
                        how the guest sends MAP_GPA_RANGE: the VMCALL/VMMCALL
                        instruction (KVM_EXIT_HYPERCALL) or an I/O-port
                        mailbox; auto = port only on a PVM host, whose KVM
                        cannot deliver the instruction (default auto)
  --payload FILE        guest payload file (default: the embedded one)
  --json                print the result (run, --probe, --bench or error) as
                        JSON on stdout, with a schema_version
  -q, --quiet           no progress lines on stderr
  -v, --verbose         echo the guest's console on stderr
  --probe               print the kernel's guest_memfd capabilities and exit
  --bench               benchmark guest_memfd vs anonymous backing
  --bench-sizes LIST    sizes for --bench (default 1G,4G)
  --bench-fill SIZE     fill only this much of each benchmark guest (default:
                        all of it; for hosts that emulate guest code)
  --bench-reps N        runs per configuration, medians reported (default 3)
  --bench-metrics       print --bench as METRIC lines (bench/gmem_bench's
                        format, which scripts/bench.sh collects)
  --timeout SECONDS     give up on a stuck guest (default 120)
  --kvm PATH            KVM device (default /dev/kvm)
  -h, --help            this text

Exit status: 0 self-check passed, 1 guest failed, 2 usage or bad input,
3 host error, 4 mode not supported by the running kernel (skip).
)";
}

}  // namespace gmem
