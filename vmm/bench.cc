#include "vmm/bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/metric.h"
#include "vmm/lib/host_support.h"
#include "vmm/lib/machine.h"
#include "vmm/lib/size.h"

namespace gmem {
namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool IsGmemRow(const BenchRow& r) { return r.backing.rfind("gmem", 0) == 0; }

}  // namespace

Result<BenchResult> RunBench(const KvmSystem& kvm, const Capabilities& caps,
                             const RunConfig& base, const BenchPlan& plan) {
  // guest_memfd side: with --mode sw-protected, private guest_memfd in a
  // SW-protected VM (all RAM made private before the first instruction, so
  // the same work on every kernel); by default shared guest_memfd in a
  // default VM where the kernel can mmap it (6.18+), else private.  The
  // anonymous side is always a default VM.
  BenchResult res{base.mode, base.fill_limit, plan.reps, {}, {}};
  if (res.gmem_mode == Mode::kDefault &&
      !CheckModeSupported(caps, Mode::kDefault, Backing::kGuestMemfd).ok())
    res.gmem_mode = Mode::kSwProtected;
  GMEM_TRY_CTX(CheckModeSupported(caps, res.gmem_mode, Backing::kGuestMemfd),
               "benchmark: no guest_memfd for " + std::string(ModeName(res.gmem_mode)));
  for (uint64_t size : plan.sizes) {
    BenchSize& bs = res.sizes.emplace_back(BenchSize{size, {}, {}});
    if (Status s = CheckHostMemory(size); !s.ok()) {
      bs.skipped = s.error().message();
      continue;
    }
    // guest_memfd (private: converted with the VM's attributes, and in
    // place where the kernel offers it), anonymous in 4 KiB pages
    // (guest_memfd's folio size), anonymous with THP as the kernel has it.
    struct Config {
      const char* name;
      Backing backing;
      Mode mode;
      Conversion conversion;
      bool small_pages;
    };
    std::vector<Config> configs = {
        {"gmem", Backing::kGuestMemfd, res.gmem_mode, Conversion::kAttributes, false}};
    if (res.gmem_mode == Mode::kSwProtected && InPlaceConversionSupported(caps))
      configs.push_back(
          {"gmem-inplace", Backing::kGuestMemfd, Mode::kSwProtected, Conversion::kInPlace, false});
    else
      res.inplace_unavailable =
          res.gmem_mode != Mode::kSwProtected
              ? "the guest_memfd side is a default VM (no private memory)"
              : "no in-place conversion (KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES)";
    configs.push_back({"anon-4k", Backing::kAnonymous, Mode::kDefault, Conversion::kAuto, true});
    configs.push_back({"anon-thp", Backing::kAnonymous, Mode::kDefault, Conversion::kAuto, false});
    for (const Config& c : configs) {
      if (base.progress) base.progress("bench: " + FormatSize(size) + " " + c.name);
      RunConfig cfg = base;
      cfg.progress = nullptr;  // one line per configuration is enough
      cfg.console = nullptr;
      cfg.backing = c.backing;
      cfg.mode = c.mode;
      cfg.conversion = c.conversion;
      cfg.anon_small_pages = c.small_pages;
      cfg.ram_size = size;
      cfg.bench_only = true;
      std::vector<double> first, rate;
      uint64_t filled = 0;
      for (unsigned rep = 0; rep < plan.reps; rep++) {
        cfg.t0 = std::chrono::steady_clock::now();
        Summary r = GMEM_TRY_CTX(RunGuest(kvm, caps, cfg), "benchmark run");
        if (!r.passed)
          return Error::Msg("benchmark guest failed: " + r.verdict,
                            ErrorKind::kGuestFault);
        first.push_back(r.first_instruction_ms);
        rate.push_back(FillGiBps(r) * 1024);
        filled = r.fill_bytes;
      }
      bs.rows.push_back({c.name, Median(first), filled, Median(rate)});
    }
  }
  return res;
}

std::string FormatBenchTable(const BenchResult& r) {
  char line[256];
  std::string out =
      std::string("gmem-vmm benchmark (guest_memfd: ") +
      (r.gmem_mode == Mode::kDefault ? "shared, default VM"
                                     : "private, SW-protected VM") +
      "; anonymous: default VM; one vCPU; fill = guest writes " +
      (r.fill_limit ? "the first " + FormatSize(r.fill_limit) + " of RAM above 4 MiB"
                    : std::string("all RAM above 4 MiB")) +
      " once with rep stosq; median of " + std::to_string(r.reps) + " runs)\n";
  std::snprintf(line, sizeof line, "%-8s %-12s %14s %12s %14s\n", "RAM",
                "backing", "first insn ms", "filled", "fill MiB/s");
  out += line;
  std::string ratios = "ratios gmem/anonymous:\n";
  for (const BenchSize& bs : r.sizes) {
    const std::string size = FormatSize(bs.ram);
    if (bs.rows.empty()) {
      out += size + ": skipped, " + bs.skipped + "\n";
      continue;
    }
    for (const BenchRow& row : bs.rows) {
      std::snprintf(line, sizeof line, "%-8s %-12s %14.3f %12s %14.1f\n",
                    size.c_str(), row.backing.c_str(), row.first_ms,
                    FormatSize(row.filled).c_str(), row.mibps);
      out += line;
    }
    for (const BenchRow& g : bs.rows) {
      if (!IsGmemRow(g)) continue;
      for (const BenchRow& row : bs.rows) {
        if (IsGmemRow(row)) continue;
        std::snprintf(line, sizeof line,
                      "  %-8s %-12s vs %-8s first instruction %.2fx, fill throughput %.2fx\n",
                      size.c_str(), g.backing.c_str(), row.backing.c_str(),
                      g.first_ms / row.first_ms, g.mibps / row.mibps);
        ratios += line;
      }
    }
  }
  return out + ratios;
}

std::string FormatBenchMetrics(const BenchResult& r) {
  std::string out;
  char line[256];
  for (const BenchSize& bs : r.sizes) {
    const std::string prefix = "vmm_first_insn_" + common::MetricSizeTag(bs.ram);
    if (bs.rows.empty()) {
      for (const char* b : {"gmem", "gmem-inplace", "anon-4k"})
        out += "METRIC " + prefix + "_" + b + " ms n/a " + bs.skipped + "\n";
      continue;
    }
    if (!r.inplace_unavailable.empty()) {
      // Every kernel reports the same metrics: n/a where it lacks the ABI.
      out += "METRIC " + prefix + "_gmem-inplace ms n/a " + r.inplace_unavailable + "\n";
      for (const BenchRow& row : bs.rows)
        if (!IsGmemRow(row))
          out += "METRIC " + prefix + "_gmem-inplace_vs_" + row.backing + " x n/a " +
                 r.inplace_unavailable + "\n";
    }
    for (const BenchRow& row : bs.rows) {
      std::snprintf(line, sizeof line, "METRIC %s_%s ms %.3f\n", prefix.c_str(),
                    row.backing.c_str(), row.first_ms);
      out += line;
    }
    for (const BenchRow& g : bs.rows) {
      if (!IsGmemRow(g)) continue;
      for (const BenchRow& row : bs.rows) {
        if (IsGmemRow(row) || row.first_ms <= 0) continue;
        std::snprintf(line, sizeof line, "METRIC %s_%s_vs_%s x %.3f\n", prefix.c_str(),
                      g.backing.c_str(), row.backing.c_str(), g.first_ms / row.first_ms);
        out += line;
      }
    }
  }
  return out;
}

Json BenchJson(const BenchResult& r) {
  Json sizes = Json::array();
  for (const BenchSize& bs : r.sizes) {
    Json rows = Json::array();
    for (const BenchRow& row : bs.rows)
      rows.push_back({{"backing", row.backing},
                      {"first_instruction_ms", JsonMs(row.first_ms)},
                      {"fill_bytes", row.filled},
                      {"fill_mib_per_s", std::round(row.mibps * 10) / 10}});
    sizes.push_back({{"ram_bytes", bs.ram},
                     {"skipped", bs.rows.empty() ? Json(bs.skipped) : Json(nullptr)},
                     {"runs", rows}});
  }
  return Json{{"schema_version", kJsonSchemaVersion},
              {"bench",
               {{"gmem_mode", ModeName(r.gmem_mode)},
                {"fill_limit_bytes", r.fill_limit ? Json(r.fill_limit) : Json(nullptr)},
                {"reps", r.reps},
                {"sizes", sizes}}}};
}

}  // namespace gmem
