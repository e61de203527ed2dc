// The arithmetic and file formats of the benchmark: METRIC lines as
// gmem_bench prints them, the results CSV (kernel,round,metric,unit,value),
// medians and spreads per kernel, the ratio ours/upstream, and the Markdown
// table and gnuplot inputs that scripts/bench.sh writes under out/bench/.
// No I/O here beyond formatting strings, so that all of it is unit-tested.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// "METRIC <name> <unit> <value...>": value is a number, or "n/a <reason>"
// (the running kernel lacks the ABI), or "error <what>" (the measurement
// failed).  Trailing CR/LF (serial consoles) is dropped.
struct MetricLine {
  std::string name, unit, value;
};
std::optional<MetricLine> ParseMetricLine(std::string_view line);

// The value as a finite number, if it is one (whole text, no trailing junk).
std::optional<double> NumericValue(std::string_view value);

// Median of a non-empty sample; the mean of the two middle values when the
// count is even.
double Median(std::vector<double> v);

// One row of results.csv.
struct Row {
  std::string kernel;
  int round = 0;
  std::string metric, unit, value;
};
constexpr std::string_view kCsvHeader = "kernel,round,metric,unit,value";
// RFC 4180 quoting: a field with a comma, quote, CR or LF is quoted, quotes doubled.
std::string CsvField(std::string_view field);
std::string FormatCsvRow(const Row& row);
// Splits one CSV line (quoted fields may hold commas and doubled quotes,
// not line breaks); nullopt for an unterminated quote.
std::optional<std::vector<std::string>> SplitCsvLine(std::string_view line);
// A data row (not the header), or nullopt if it does not have the five
// columns or the round is not a positive number.
std::optional<Row> ParseCsvRow(std::string_view line);

// Which way is better for a unit: rates ("/s") higher, everything else
// (ms, ms/call, x of guest RAM) lower.
enum class Better { kHigher, kLower };
Better BetterFor(std::string_view unit);
const char* BetterName(Better b);

struct Stats {
  int n = 0;      // numeric samples
  int total = 0;  // samples, numeric or not
  double median = 0, min = 0, max = 0;
  std::string note;                // the first error, else the first n/a reason, if any
  std::vector<std::string> notes;  // every distinct non-numeric sample, in order
};
Stats Summarize(const std::vector<std::string>& values);

struct Comparison {
  std::string metric, unit;
  Better better = Better::kHigher;
  Stats ours, upstream;
  std::optional<double> ratio;  // median ours / median upstream
  std::string verdict;          // ours better / upstream better / within noise / -
};
// One Comparison per metric, in order of first appearance in |rows|.
std::vector<Comparison> Compare(const std::vector<Row>& rows, std::string_view ours,
                                std::string_view upstream);

// A number for tables: three significant digits at most, no exponent below 1e9.
std::string FormatValue(double v);

struct ReportLabels {
  std::string ours = "ours", upstream = "upstream";  // column titles
  std::string preamble;                              // free text under the title (kernels, rounds)
};
std::string MarkdownReport(const std::vector<Comparison>& cmp, const ReportLabels& labels);

// Plots: metrics of one family and one unit share a plot.
std::string PlotGroup(std::string_view metric, std::string_view unit);
struct Plot {
  std::string group, unit;
  std::string data;    // gnuplot data: metric, ours median/min/max, upstream median/min/max
  std::string script;  // gnuplot script reading <group>.dat, writing <group>.png
};
// |dir| is where the .dat and .png files live (the script names them by path).
std::vector<Plot> Plots(const std::vector<Comparison>& cmp, const ReportLabels& labels,
                        const std::string& dir);

}  // namespace bench
