#include "vmm/lib/options.h"

#include <cctype>
#include <cstdio>

#include "vmm/guest/abi.h"

namespace gmem {

const char* ModeName(Mode m) {
  return m == Mode::kDefault ? "default" : "sw-protected";
}
const char* BackingName(Backing b) {
  return b == Backing::kGuestMemfd ? "guest_memfd" : "anonymous";
}

const char* HcChannelName(HcChannel c) {
  switch (c) {
    case HcChannel::kAuto: return "auto";
    case HcChannel::kInstruction: return "instruction";
    case HcChannel::kPort: return "port";
  }
  return "?";
}

Result<uint64_t> ParseSize(const std::string& s) {
  auto bad = [&] {
    return Error::Msg("bad size '" + s + "' (use e.g. 64M, 1G, 4096K)",
                      kExitUsage);
  };
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return bad();
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); i++) {
    if (v > (~0ull - 9) / 10) return bad();
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  std::string suffix = s.substr(i);
  unsigned shift = 0;
  if (suffix.empty() || suffix == "B") shift = 0;
  else if (suffix == "K" || suffix == "KiB" || suffix == "k") shift = 10;
  else if (suffix == "M" || suffix == "MiB" || suffix == "m") shift = 20;
  else if (suffix == "G" || suffix == "GiB" || suffix == "g") shift = 30;
  else if (suffix == "T" || suffix == "TiB" || suffix == "t") shift = 40;
  else return bad();
  if (shift && v > (~0ull >> shift)) return bad();
  return v << shift;
}

std::string FormatSize(uint64_t b) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (u < 4 && b >= 1024 && b % 1024 == 0) {
    b /= 1024;
    u++;
  }
  return std::to_string(b) + " " + units[u];
}

Result<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); i++) {
    std::string a = args[i], val;
    bool has_val = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      val = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_val = true;
    }
    static const char* const kTakesValue[] = {
        "--mode", "--ram", "--backing", "--hypercall", "--payload", "--kvm",
        "--bench-sizes", "--bench-fill", "--bench-reps", "--timeout"};
    std::string v;  // the option's value, when it takes one
    for (const char* name : kTakesValue) {
      if (a != name) continue;
      if (has_val) {
        v = val;
      } else if (i + 1 < args.size()) {
        v = args[++i];
      } else {
        return Error::Msg(a + " needs a value", kExitUsage);
      }
    }
    if (has_val && v.empty() && !val.empty())
      return Error::Msg(a + " takes no value", kExitUsage);
    if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (a == "--mode") {
      const std::string& m = v;
      if (m == "default") o.mode = Mode::kDefault;
      else if (m == "sw-protected") o.mode = Mode::kSwProtected;
      else return Error::Msg("unknown mode '" + m + "' (default, sw-protected)",
                             kExitUsage);
    } else if (a == "--ram") {
      o.ram_size = GMEM_TRY_CTX(ParseSize(v), "--ram");
    } else if (a == "--backing") {
      const std::string& b = v;
      if (b == "gmem" || b == "guest_memfd") o.backing = Backing::kGuestMemfd;
      else if (b == "anon" || b == "anonymous") o.backing = Backing::kAnonymous;
      else return Error::Msg("unknown backing '" + b + "' (gmem, anon)",
                             kExitUsage);
    } else if (a == "--hypercall") {
      const std::string& h = v;
      if (h == "auto") o.hypercall = HcChannel::kAuto;
      else if (h == "insn" || h == "instruction") o.hypercall = HcChannel::kInstruction;
      else if (h == "port") o.hypercall = HcChannel::kPort;
      else return Error::Msg("unknown hypercall channel '" + h +
                             "' (auto, insn, port)", kExitUsage);
    } else if (a == "--payload") {
      o.payload_path = v;
    } else if (a == "--kvm") {
      o.kvm_path = v;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else if (a == "--probe") {
      o.probe = true;
    } else if (a == "--bench") {
      o.bench = true;
    } else if (a == "--bench-sizes") {
      const std::string& list = v;
      o.bench_sizes.clear();
      size_t start = 0;
      while (start <= list.size()) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        o.bench_sizes.push_back(GMEM_TRY_CTX(
            ParseSize(list.substr(start, comma - start)), "--bench-sizes"));
        start = comma + 1;
      }
    } else if (a == "--bench-fill") {
      o.bench_fill = GMEM_TRY_CTX(ParseSize(v), "--bench-fill");
    } else if (a == "--bench-reps") {
      const std::string& t = v;
      char* end = nullptr;
      unsigned long v = std::strtoul(t.c_str(), &end, 10);
      if (t.empty() || *end || v == 0 || v > 100)
        return Error::Msg("--bench-reps: 1..100", kExitUsage);
      o.bench_reps = static_cast<unsigned>(v);
    } else if (a == "--timeout") {
      const std::string& t = v;
      char* end = nullptr;
      unsigned long v = std::strtoul(t.c_str(), &end, 10);
      if (t.empty() || *end || v == 0 || v > 86400)
        return Error::Msg("--timeout: seconds, 1..86400", kExitUsage);
      o.timeout_s = static_cast<unsigned>(v);
    } else {
      return Error::Msg("unknown argument '" + args[i] + "' (see --help)",
                        kExitUsage);
    }
  }
  return o;
}

Status ValidateOptions(const Options& o) {
  auto check = [](uint64_t ram, const std::string& what) -> Status {
    if (ram == 0) return Error::Msg(what + " is 0", kExitUsage);
    if (ram % abi::kRamAlign)
      return Error::Msg(what + " " + std::to_string(ram) +
                        " bytes is not a multiple of 2 MiB", kExitUsage);
    if (ram < abi::kMinRam)
      return Error::Msg(what + " " + FormatSize(ram) + " is below the " +
                        FormatSize(abi::kMinRam) + " minimum", kExitUsage);
    return Ok{};
  };
  if (o.bench) {
    for (uint64_t s : o.bench_sizes) GMEM_TRY(check(s, "benchmark size"));
    return Ok{};
  }
  GMEM_TRY(check(o.ram_size, "RAM size"));
  if (o.backing == Backing::kAnonymous && o.mode != Mode::kDefault)
    return Error::Msg("--backing anon is only for --mode default", kExitUsage);
  return Ok{};
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
                        KVM_EXIT_MEMORY_FAULT (attributes + punch hole)
  --ram SIZE            guest RAM, multiple of 2 MiB, >= 8 MiB (default 32M)
  --backing gmem|anon   default mode only: anon = ordinary anonymous memory,
                        for comparison (default gmem)
  --hypercall auto|insn|port
                        how the guest sends MAP_GPA_RANGE: the VMCALL/VMMCALL
                        instruction (KVM_EXIT_HYPERCALL) or an I/O-port
                        mailbox; auto = port only on a PVM host, whose KVM
                        cannot deliver the instruction (default auto)
  --payload FILE        guest payload file (default: the embedded one)
  --json                print the summary as JSON on stdout
  -q, --quiet           no progress lines on stderr
  -v, --verbose         echo the guest's console on stderr
  --probe               print the kernel's guest_memfd capabilities and exit
  --bench               benchmark guest_memfd vs anonymous backing
  --bench-sizes LIST    sizes for --bench (default 1G,4G)
  --bench-fill SIZE     fill only this much of each benchmark guest (default:
                        all of it; for hosts that emulate guest code)
  --bench-reps N         runs per configuration, medians reported (default 3)
  --timeout SECONDS     give up on a stuck guest (default 120)
  --kvm PATH            KVM device (default /dev/kvm)
  -h, --help            this text

Exit status: 0 self-check passed, 1 guest failed, 2 usage or bad input,
3 host error, 4 mode not supported by the running kernel (skip).
)";
}

}  // namespace gmem
