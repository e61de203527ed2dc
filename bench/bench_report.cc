// The benchmark's bookkeeping for scripts/bench.sh:
//
//   bench_report csv KERNEL ROUND < LOG
//       the METRIC lines of a log (a harness console or gmem_bench's output)
//       as results.csv rows (no header) on stdout; exit 1 if there is none
//   bench_report report --csv FILE --out DIR [--ours KERNEL] [--upstream KERNEL]
//                       [--ours-label TEXT] [--upstream-label TEXT] [--preamble TEXT]
//       DIR/results.md (per metric: median and min-max per kernel, ratio
//       ours/upstream, which way is better) and, per plot group,
//       DIR/<group>.dat and DIR/<group>.gp (gnuplot, writes DIR/<group>.png);
//       prints the .gp paths, one a line.  KERNEL defaults: ours, upstream.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/report.h"

namespace {

int Usage() {
  std::fprintf(
      stderr,
      "usage: bench_report csv KERNEL ROUND < LOG\n"
      "       bench_report report --csv FILE --out DIR [--ours KERNEL] [--upstream KERNEL]\n"
      "                           [--ours-label TEXT] [--upstream-label TEXT] [--preamble TEXT]\n");
  return 2;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    std::fprintf(stderr, "bench_report: writing %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

int Csv(const std::string& kernel, const std::string& round_text) {
  auto round = bench::NumericValue(round_text);
  if (kernel.empty() || kernel.find_first_of(",\"") != std::string::npos || !round || *round < 1) {
    std::fprintf(stderr, "bench_report csv: bad kernel name or round '%s' '%s'\n", kernel.c_str(),
                 round_text.c_str());
    return 2;
  }
  int n = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    auto m = bench::ParseMetricLine(line);
    if (!m) continue;
    bench::Row r{kernel, static_cast<int>(*round), m->name, m->unit, m->value};
    std::cout << bench::FormatCsvRow(r) << "\n";
    n++;
  }
  if (n == 0) {
    std::fprintf(stderr, "bench_report csv: no METRIC lines in the input (%s round %s)\n",
                 kernel.c_str(), round_text.c_str());
    return 1;
  }
  return 0;
}

int Report(int argc, char** argv) {
  std::string csv, out, ours = "ours", upstream = "upstream";
  bench::ReportLabels labels;
  bool ours_label = false, upstream_label = false;
  for (int i = 0; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (a == "--csv")
      csv = v;
    else if (a == "--out")
      out = v;
    else if (a == "--ours")
      ours = v;
    else if (a == "--upstream")
      upstream = v;
    else if (a == "--ours-label")
      labels.ours = v, ours_label = true;
    else if (a == "--upstream-label")
      labels.upstream = v, upstream_label = true;
    else if (a == "--preamble")
      labels.preamble = v;
    else
      return Usage();
  }
  if (csv.empty() || out.empty()) return Usage();
  if (!ours_label) labels.ours = ours;
  if (!upstream_label) labels.upstream = upstream;

  std::ifstream in(csv);
  if (!in) {
    std::fprintf(stderr, "bench_report: %s: %s\n", csv.c_str(), std::strerror(errno));
    return 1;
  }
  std::vector<bench::Row> rows;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    lineno++;
    if (line.empty() || line == bench::kCsvHeader) continue;
    auto r = bench::ParseCsvRow(line);
    if (!r) {
      std::fprintf(stderr, "bench_report: %s:%d: not a results row: %s\n", csv.c_str(), lineno,
                   line.c_str());
      return 1;
    }
    rows.push_back(*r);
  }
  if (rows.empty()) {
    std::fprintf(stderr, "bench_report: %s has no results\n", csv.c_str());
    return 1;
  }
  auto cmp = bench::Compare(rows, ours, upstream);
  if (!WriteFile(out + "/results.md", bench::MarkdownReport(cmp, labels))) return 1;
  for (const auto& p : bench::Plots(cmp, labels, out)) {
    if (!WriteFile(out + "/" + p.group + ".dat", p.data)) return 1;
    if (!WriteFile(out + "/" + p.group + ".gp", p.script)) return 1;
    std::cout << out << "/" << p.group << ".gp\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  if (cmd == "csv" && argc == 4) return Csv(argv[2], argv[3]);
  if (cmd == "report") return Report(argc - 2, argv + 2);
  return Usage();
}
