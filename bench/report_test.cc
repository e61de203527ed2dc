#include "bench/report.h"

#include <gtest/gtest.h>

namespace bench {
namespace {

TEST(MetricLine, ParsesNumbersNaAndErrors) {
  auto m = ParseMetricLine("METRIC fallocate MiB/s 312.5\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "fallocate");
  EXPECT_EQ(m->unit, "MiB/s");
  EXPECT_EQ(m->value, "312.5");
  EXPECT_EQ(NumericValue(m->value), 312.5);

  m = ParseMetricLine("METRIC prefault_private MiB/s n/a no KVM_CAP_PRE_FAULT_MEMORY (cap 236)");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->value, "n/a no KVM_CAP_PRE_FAULT_MEMORY (cap 236)");
  EXPECT_FALSE(NumericValue(m->value));

  EXPECT_FALSE(ParseMetricLine("# METRIC a b 1"));
  EXPECT_FALSE(ParseMetricLine("METRIC a b"));
  EXPECT_FALSE(ParseMetricLine("METRIC a b   "));
  EXPECT_FALSE(ParseMetricLine("METRICS a b 1"));
}

TEST(NumericValue, WholeTextOnly) {
  EXPECT_EQ(NumericValue("1e3"), 1000.0);
  EXPECT_EQ(NumericValue("-0.5"), -0.5);
  EXPECT_FALSE(NumericValue("12abc"));
  EXPECT_FALSE(NumericValue(""));
  EXPECT_FALSE(NumericValue("nan"));
  EXPECT_FALSE(NumericValue("inf"));
  EXPECT_FALSE(NumericValue("n/a"));
}

TEST(Median, OddEvenAndUnsorted) {
  EXPECT_EQ(Median({5}), 5);
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(Median({10, 10, 1, 1000, 10}), 10);
}

TEST(Csv, QuotesWhatNeedsIt) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  Row r{"ours", 3, "attr_private_4G", "ms/call", "n/a no SW VMs, type 1 (\"sw\")"};
  std::string line = FormatCsvRow(r);
  EXPECT_EQ(line, "ours,3,attr_private_4G,ms/call,\"n/a no SW VMs, type 1 (\"\"sw\"\")\"");
  auto back = ParseCsvRow(line + "\r");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kernel, "ours");
  EXPECT_EQ(back->round, 3);
  EXPECT_EQ(back->metric, r.metric);
  EXPECT_EQ(back->unit, r.unit);
  EXPECT_EQ(back->value, r.value);
}

TEST(Csv, RejectsMalformedRows) {
  EXPECT_FALSE(ParseCsvRow(std::string(kCsvHeader)));  // round is not a number
  EXPECT_FALSE(ParseCsvRow("ours,1,m,u"));             // four columns
  EXPECT_FALSE(ParseCsvRow("ours,1,m,u,1,extra"));
  EXPECT_FALSE(ParseCsvRow("ours,0,m,u,1"));
  EXPECT_FALSE(ParseCsvRow("ours,1.5,m,u,1"));
  EXPECT_FALSE(ParseCsvRow("ours,1,m,u,\"open"));
  EXPECT_FALSE(ParseCsvRow("ours,1,m,u,\"a\"b"));
  EXPECT_FALSE(ParseCsvRow(",1,m,u,1"));
  auto empty_value = ParseCsvRow("ours,1,m,u,");
  ASSERT_TRUE(empty_value);
  EXPECT_EQ(empty_value->value, "");
}

TEST(Better, FromTheUnit) {
  EXPECT_EQ(BetterFor("MiB/s"), Better::kHigher);
  EXPECT_EQ(BetterFor("pages/s"), Better::kHigher);
  EXPECT_EQ(BetterFor("cycles/s"), Better::kHigher);
  EXPECT_EQ(BetterFor("ms/call"), Better::kLower);
  EXPECT_EQ(BetterFor("ms"), Better::kLower);
  EXPECT_EQ(BetterFor("x"), Better::kLower);
}

TEST(Summarize, NumbersWinOverNotes) {
  Stats s = Summarize({"3", "n/a gone", "1", "2"});
  EXPECT_EQ(s.n, 3);
  EXPECT_EQ(s.median, 2);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 3);
  EXPECT_EQ(s.total, 4);
  EXPECT_EQ(s.note, "n/a gone");  // listed under the table
  s = Summarize({"n/a no cap", "n/a no cap"});
  EXPECT_EQ(s.n, 0);
  EXPECT_EQ(s.note, "n/a no cap");
  EXPECT_EQ(s.notes, std::vector<std::string>{"n/a no cap"});
  s = Summarize({"n/a no cap", "error EIO", "n/a no cap", "error EIO", "error ENOMEM"});
  EXPECT_EQ(s.note, "error EIO");  // an error outweighs n/a
  EXPECT_EQ(s.notes, (std::vector<std::string>{"n/a no cap", "error EIO", "error ENOMEM"}));
}

std::vector<Row> Sample() {
  return {
      {"ours", 1, "fallocate", "MiB/s", "100"},
      {"upstream", 1, "fallocate", "MiB/s", "300"},
      {"ours", 2, "fallocate", "MiB/s", "110"},
      {"upstream", 2, "fallocate", "MiB/s", "320"},
      {"ours", 3, "fallocate", "MiB/s", "106"},
      {"upstream", 3, "fallocate", "MiB/s", "297"},
      {"ours", 1, "attr_private_4G", "ms/call", "2"},
      {"upstream", 1, "attr_private_4G", "ms/call", "400"},
      {"ours", 1, "punch_hole", "MiB/s", "500"},
      {"upstream", 1, "punch_hole", "MiB/s", "480"},
      {"ours", 2, "punch_hole", "MiB/s", "470"},
      {"upstream", 2, "punch_hole", "MiB/s", "510"},
      {"ours", 1, "first_touch_shared_gmem", "MiB/s", "900"},
      {"upstream", 1, "first_touch_shared_gmem", "MiB/s", "n/a no GUEST_MEMFD_FLAG_MMAP"},
      {"other", 1, "fallocate", "MiB/s", "1"},
  };
}

TEST(Compare, MediansRatiosAndVerdicts) {
  auto cmp = Compare(Sample(), "ours", "upstream");
  ASSERT_EQ(cmp.size(), 4u);
  EXPECT_EQ(cmp[0].metric, "fallocate");  // order of first appearance
  EXPECT_EQ(cmp[0].ours.n, 3);            // the "other" kernel is not counted
  EXPECT_EQ(cmp[0].ours.median, 106);
  EXPECT_EQ(cmp[0].ours.min, 100);
  EXPECT_EQ(cmp[0].upstream.median, 300);
  ASSERT_TRUE(cmp[0].ratio);
  EXPECT_NEAR(*cmp[0].ratio, 106.0 / 300, 1e-12);
  EXPECT_EQ(cmp[0].verdict, "upstream better");

  EXPECT_EQ(cmp[1].metric, "attr_private_4G");
  EXPECT_EQ(cmp[1].better, Better::kLower);
  EXPECT_NEAR(*cmp[1].ratio, 0.005, 1e-12);
  EXPECT_EQ(cmp[1].verdict, "ours better");  // lower is better

  EXPECT_EQ(cmp[2].metric, "punch_hole");
  EXPECT_EQ(cmp[2].ours.median, 485);
  EXPECT_EQ(cmp[2].verdict, "within noise");  // 470-500 overlaps 480-510

  EXPECT_EQ(cmp[3].upstream.n, 0);
  EXPECT_EQ(cmp[3].upstream.note, "n/a no GUEST_MEMFD_FLAG_MMAP");
  EXPECT_FALSE(cmp[3].ratio);
  EXPECT_EQ(cmp[3].verdict, "-");
}

TEST(FormatValue, ThreeDigitsAtMost) {
  EXPECT_EQ(FormatValue(123456.7), "123457");
  EXPECT_EQ(FormatValue(42.42), "42.4");
  EXPECT_EQ(FormatValue(4.242), "4.24");
  EXPECT_EQ(FormatValue(0.012345), "0.0123");
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(2.5e9), "2.5e+09");
}

TEST(Markdown, OneRowPerMetric) {
  ReportLabels l{"ours 6.1", "upstream 6.12", "3 rounds"};
  std::string md = MarkdownReport(Compare(Sample(), "ours", "upstream"), l);
  EXPECT_NE(md.find("| metric | unit | better | ours 6.1 | upstream 6.12 | ratio | verdict |"),
            std::string::npos);
  EXPECT_NE(md.find("| fallocate | MiB/s | higher | 106 (100-110) | 300 (297-320) | 0.353x | "
                    "upstream better |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| attr_private_4G | ms/call | lower | 2.00 | 400 | 0.005x | ours better |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 900 | n/a | - | - |"), std::string::npos) << md;
  EXPECT_NE(md.find("\nNot measured:\n\n- upstream 6.12: n/a no GUEST_MEMFD_FLAG_MMAP: "
                    "first_touch_shared_gmem\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("3 rounds"), std::string::npos);
}

TEST(Markdown, EachReasonOnceWithItsMetrics) {
  std::vector<Row> rows = {
      {"ours", 1, "a", "x", "n/a no SW VMs"},
      {"upstream", 1, "a", "x", "1"},
      {"ours", 1, "b", "x", "n/a no SW VMs"},
      {"upstream", 1, "b", "x", "error KVM_RUN: EIO"},
      {"ours", 2, "b", "x", "n/a no SW VMs"},
      {"upstream", 2, "b", "x", "2"},
      {"ours", 1, "c", "MiB/s", "error mmap: ENOMEM"},
      {"upstream", 1, "c", "MiB/s", "3"},
  };
  std::string md = MarkdownReport(Compare(rows, "ours", "upstream"), {});
  EXPECT_NE(md.find("| b | x | lower | n/a | 2.00 [1 of 2 rounds] | - | - |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| c | MiB/s | higher | error | 3.00 | - | - |"), std::string::npos) << md;
  EXPECT_NE(md.find("Not measured:\n\n- ours: n/a no SW VMs: a, b\n"
                    "- upstream: error KVM_RUN: EIO: b\n- ours: error mmap: ENOMEM: c\n"),
            std::string::npos)
      << md;
}

TEST(Plots, GroupedByFamilyAndUnit) {
  EXPECT_EQ(PlotGroup("fallocate", "MiB/s"), "gmem_file-MiB_s");
  EXPECT_EQ(PlotGroup("punch_hole", "MiB/s"), "gmem_file-MiB_s");
  EXPECT_EQ(PlotGroup("first_touch_anon_4k", "MiB/s"), "first_touch-MiB_s");
  EXPECT_EQ(PlotGroup("attr_private_64M", "ms/call"), "attr-ms_call");
  EXPECT_EQ(PlotGroup("attr_private_64M_rate", "pages/s"), "attr-pages_s");
  EXPECT_EQ(PlotGroup("footprint_private_shared", "x"), "footprint-x");

  auto plots = Plots(Compare(Sample(), "ours", "upstream"), {}, "/tmp/b");
  ASSERT_EQ(plots.size(), 3u);
  EXPECT_EQ(plots[0].group, "gmem_file-MiB_s");
  EXPECT_EQ(plots[0].data,
            "\"fallocate\" 106 100 110 300 297 320\n\"punch_hole\" 485 470 500 495 480 510\n");
  EXPECT_NE(plots[0].script.find("set output '/tmp/b/gmem_file-MiB_s.png'"), std::string::npos);
  EXPECT_NE(plots[0].script.find("plot '/tmp/b/gmem_file-MiB_s.dat' using 2:3:4:xtic(1)"),
            std::string::npos);
  EXPECT_NE(plots[0].script.find("set yrange [0:*]"), std::string::npos);
  EXPECT_EQ(plots[1].group, "attr-ms_call");
  EXPECT_NE(plots[1].script.find("set logscale y"), std::string::npos);  // 2 vs 400
  EXPECT_EQ(plots[2].data, "\"first_touch_shared_gmem\" 900 900 900 NaN NaN NaN\n");
}

}  // namespace
}  // namespace bench
