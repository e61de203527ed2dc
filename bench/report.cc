#include "bench/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace bench {

namespace {

std::string_view TrimEol(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Next space-separated word of |s|, consumed.
std::string_view Word(std::string_view& s) {
  size_t b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) {
    s = {};
    return {};
  }
  s.remove_prefix(b);
  size_t e = s.find(' ');
  std::string_view w = s.substr(0, e);
  s.remove_prefix(e == std::string_view::npos ? s.size() : e);
  return w;
}

std::string Printf(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Family of a metric for plotting: its first word, except that the two
// file operations go together.
std::string Family(std::string_view metric) {
  if (metric.starts_with("fallocate") || metric.starts_with("punch_hole")) return "gmem_file";
  if (metric.starts_with("first_touch")) return "first_touch";
  size_t u = metric.find('_');
  return std::string(metric.substr(0, u));
}

std::string Sanitize(std::string_view s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return out;
}

// The first word of a note ("n/a", "error"), for table cells; the whole
// note goes under the table.
std::string NoteWord(const std::string& note) { return note.substr(0, note.find(' ')); }

std::string StatsCell(const Stats& s) {
  if (s.n == 0) return s.note.empty() ? "-" : NoteWord(s.note);
  std::string cell = FormatValue(s.median);
  if (s.n > 1) cell += " (" + FormatValue(s.min) + "-" + FormatValue(s.max) + ")";
  if (s.n < s.total)
    cell += " [" + std::to_string(s.n) + " of " + std::to_string(s.total) + " rounds]";
  return cell;
}

// Markdown table cells must not contain '|'.
std::string Cell(std::string s) {
  std::replace(s.begin(), s.end(), '|', '/');
  return s;
}

// gnuplot string literal in single quotes (a quote is doubled).
std::string GpString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::optional<MetricLine> ParseMetricLine(std::string_view line) {
  line = TrimEol(line);
  if (!line.starts_with("METRIC ")) return std::nullopt;
  line.remove_prefix(7);
  MetricLine m;
  m.name = Word(line);
  m.unit = Word(line);
  size_t b = line.find_first_not_of(' ');
  if (b == std::string_view::npos || m.name.empty() || m.unit.empty()) return std::nullopt;
  line.remove_prefix(b);
  while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
  m.value = line;
  return m;
}

std::optional<double> NumericValue(std::string_view value) {
  if (value.empty() || value.size() > 64) return std::nullopt;
  std::string s(value);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string CsvField(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string FormatCsvRow(const Row& r) {
  return CsvField(r.kernel) + "," + std::to_string(r.round) + "," + CsvField(r.metric) + "," +
         CsvField(r.unit) + "," + CsvField(r.value);
}

std::optional<std::vector<std::string>> SplitCsvLine(std::string_view line) {
  line = TrimEol(line);
  std::vector<std::string> fields;
  std::string cur;
  size_t i = 0;
  for (;;) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      i++;
      for (;;) {
        if (i >= line.size()) return std::nullopt;  // unterminated
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cur += line[i++];
      }
      if (i < line.size() && line[i] != ',') return std::nullopt;  // junk after a quote
    } else {
      while (i < line.size() && line[i] != ',') cur += line[i++];
    }
    fields.push_back(cur);
    if (i >= line.size()) break;
    i++;  // the comma
  }
  return fields;
}

std::optional<Row> ParseCsvRow(std::string_view line) {
  auto f = SplitCsvLine(line);
  if (!f || f->size() != 5) return std::nullopt;
  auto round = NumericValue((*f)[1]);
  if (!round || *round < 1 || *round != std::floor(*round)) return std::nullopt;
  Row r;
  r.kernel = (*f)[0];
  r.round = static_cast<int>(*round);
  r.metric = (*f)[2];
  r.unit = (*f)[3];
  r.value = (*f)[4];
  if (r.kernel.empty() || r.metric.empty()) return std::nullopt;
  return r;
}

Better BetterFor(std::string_view unit) {
  return unit.ends_with("/s") ? Better::kHigher : Better::kLower;
}

const char* BetterName(Better b) { return b == Better::kHigher ? "higher" : "lower"; }

Stats Summarize(const std::vector<std::string>& values) {
  Stats s;
  std::vector<double> nums;
  for (const auto& v : values) {
    if (auto d = NumericValue(v)) {
      nums.push_back(*d);
    } else if (std::find(s.notes.begin(), s.notes.end(), v) == s.notes.end()) {
      s.notes.push_back(v);
      if (s.note.empty() || (v.starts_with("error") && !s.note.starts_with("error"))) s.note = v;
    }
  }
  s.n = static_cast<int>(nums.size());
  s.total = static_cast<int>(values.size());
  if (s.n == 0) return s;
  s.median = Median(nums);
  auto [lo, hi] = std::minmax_element(nums.begin(), nums.end());
  s.min = *lo;
  s.max = *hi;
  return s;
}

std::vector<Comparison> Compare(const std::vector<Row>& rows, std::string_view ours,
                                std::string_view upstream) {
  std::vector<std::string> order;
  std::map<std::string, std::string> unit;
  std::map<std::string, std::vector<std::string>> a, b;
  for (const Row& r : rows) {
    if (!unit.count(r.metric)) {
      order.push_back(r.metric);
      unit[r.metric] = r.unit;
    }
    if (r.kernel == ours) a[r.metric].push_back(r.value);
    if (r.kernel == upstream) b[r.metric].push_back(r.value);
  }
  std::vector<Comparison> out;
  for (const auto& m : order) {
    Comparison c;
    c.metric = m;
    c.unit = unit[m];
    c.better = BetterFor(c.unit);
    c.ours = Summarize(a[m]);
    c.upstream = Summarize(b[m]);
    c.verdict = "-";
    if (c.ours.n && c.upstream.n) {
      if (c.upstream.median != 0) c.ratio = c.ours.median / c.upstream.median;
      bool overlap = c.ours.min <= c.upstream.max && c.upstream.min <= c.ours.max;
      bool ours_higher = c.ours.median > c.upstream.median;
      if (overlap)
        c.verdict = "within noise";
      else if (ours_higher == (c.better == Better::kHigher))
        c.verdict = "ours better";
      else
        c.verdict = "upstream better";
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string FormatValue(double v) {
  double a = std::fabs(v);
  if (a >= 1e9) return Printf("%.3g", v);
  if (a >= 100) return Printf("%.0f", v);
  if (a >= 10) return Printf("%.1f", v);
  if (a >= 1) return Printf("%.2f", v);
  if (a == 0) return "0";
  return Printf("%.3g", v);
}

std::string MarkdownReport(const std::vector<Comparison>& cmp, const ReportLabels& labels) {
  std::string out = "# guest_memfd benchmark: " + labels.ours + " vs " + labels.upstream + "\n\n";
  if (!labels.preamble.empty()) out += labels.preamble + "\n\n";
  out += "Median over rounds (min-max in parentheses). The ratio is " + labels.ours + " / " +
         labels.upstream +
         " of the medians; the verdict says \"within noise\" when the two ranges overlap.\n\n";
  out += "| metric | unit | better | " + Cell(labels.ours) + " | " + Cell(labels.upstream) +
         " | ratio | verdict |\n|---|---|---|---|---|---|---|\n";
  for (const auto& c : cmp) {
    out += "| " + Cell(c.metric) + " | " + Cell(c.unit) + " | " + BetterName(c.better) + " | " +
           Cell(StatsCell(c.ours)) + " | " + Cell(StatsCell(c.upstream)) + " | " +
           (c.ratio ? FormatValue(*c.ratio) + "x" : std::string("-")) + " | " + c.verdict + " |\n";
  }
  // Why a kernel has no number: each reason once, with its metrics.
  std::vector<std::pair<std::string, std::vector<std::string>>> notes;
  for (const auto& c : cmp) {
    const std::pair<const std::string*, const Stats*> sides[] = {{&labels.ours, &c.ours},
                                                                 {&labels.upstream, &c.upstream}};
    for (const auto& [label, st] : sides) {
      for (const auto& note : st->notes) {
        std::string key = *label + ": " + note;
        auto it =
            std::find_if(notes.begin(), notes.end(), [&](const auto& n) { return n.first == key; });
        if (it == notes.end()) it = notes.insert(notes.end(), {key, {}});
        it->second.push_back(c.metric);
      }
    }
  }
  if (!notes.empty()) {
    out += "\nNot measured:\n\n";
    for (const auto& [key, metrics] : notes) {
      out += "- " + key + ": ";
      for (size_t k = 0; k < metrics.size(); k++) out += (k ? ", " : "") + metrics[k];
      out += "\n";
    }
  }
  return out;
}

std::string PlotGroup(std::string_view metric, std::string_view unit) {
  return Family(metric) + "-" + Sanitize(unit);
}

std::vector<Plot> Plots(const std::vector<Comparison>& cmp, const ReportLabels& labels,
                        const std::string& dir) {
  std::vector<Plot> plots;
  std::map<std::string, size_t> index;
  std::map<std::string, std::pair<double, double>> range;  // smallest and largest positive value
  for (const auto& c : cmp) {
    if (!c.ours.n && !c.upstream.n) continue;  // nothing to draw
    std::string g = PlotGroup(c.metric, c.unit);
    if (!index.count(g)) {
      index[g] = plots.size();
      plots.push_back({g, c.unit, "", ""});
      range[g] = {0, 0};
    }
    Plot& p = plots[index[g]];
    auto cols = [](const Stats& s) {
      if (!s.n) return std::string(" NaN NaN NaN");
      return Printf(" %.6g", s.median) + Printf(" %.6g", s.min) + Printf(" %.6g", s.max);
    };
    p.data += "\"" + c.metric + "\"" + cols(c.ours) + cols(c.upstream) + "\n";
    for (const Stats* s : {&c.ours, &c.upstream}) {
      if (!s->n || s->min <= 0) continue;
      auto& [lo, hi] = range[g];
      lo = lo == 0 ? s->min : std::min(lo, s->min);
      hi = std::max(hi, s->max);
    }
  }
  for (auto& p : plots) {
    auto [lo, hi] = range[p.group];
    std::string base = dir + "/" + p.group;
    std::string s;
    s += "set terminal png noenhanced size 1000,560\n";
    s += "set output " + GpString(base + ".png") + "\n";
    s += "set title " +
         GpString(p.group + ": " + labels.ours + " vs " + labels.upstream +
                  " (median, bars: min-max; " + BetterName(BetterFor(p.unit)) + " is better)") +
         "\n";
    s += "set ylabel " + GpString(p.unit) + "\n";
    s += "set datafile missing 'NaN'\n";
    s += "set style data histogram\n";
    s += "set style histogram errorbars gap 2 lw 1\n";
    s += "set style fill solid 0.6 border -1\n";
    s += "set key top left\n";
    s += "set xtics rotate by -30\n";
    s += "set grid ytics\n";
    s += "set bmargin 8\n";
    if (lo > 0 && hi / lo > 100)
      s += "set logscale y\n";
    else
      s += "set yrange [0:*]\n";
    s += "plot " + GpString(base + ".dat") + " using 2:3:4:xtic(1) title " + GpString(labels.ours) +
         ", '' using 5:6:7 title " + GpString(labels.upstream) + "\n";
    p.script = s;
  }
  return plots;
}

}  // namespace bench
