#include "tools/patchq/export.h"

#include <algorithm>
#include <regex>
#include <set>

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/patch.h"
#include "tools/patchq/series.h"

namespace patchq {

namespace {

// Options that pin every knob of format-patch's output that a config or a
// default could otherwise change (see /work/shared/notes/patch-queue-facts.md).
std::vector<std::string> FormatPatchArgs(const std::string& outdir, const std::string& range) {
  return {"-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "-c", "diff.renames=true",
          "-c", "core.quotePath=true", "-c", "format.useAutoBase=false",
          "format-patch", "--quiet", "--zero-commit", "--no-signature", "--full-index",
          "--no-numbered", "--subject-prefix=PATCH", "--no-cover-letter", "--no-thread",
          "--no-attach", "--no-to", "--no-cc", "--no-base", "--no-notes",
          "--filename-max-length=64", "--suffix=.patch", "--diff-algorithm=myers",
          "--unified=3", "--inter-hunk-context=0", "--indent-heuristic", "-o", outdir, range};
}

bool IsNumberedPatchName(const std::string& name) {
  static const std::regex re(R"(^[0-9]{4}-.*\.patch$)");
  return std::regex_match(name, re);
}

}  // namespace

int Export(const ExportOptions& opts, std::ostream& log) {
  const std::string base = BaseCommit(opts.tree);
  const RunOptions git = IsolatedGit();
  std::string merges = Git(opts.tree, {"rev-list", "--merges", base + "..HEAD"}, git);
  if (!merges.empty()) {
    throw Error(opts.tree, 0, "base..HEAD contains merge commits (expected a linear series): " +
                StripNewline(merges));
  }
  // HEAD must descend from base, or base..HEAD silently drops commits.
  if (!GitTry(opts.tree, {"merge-base", "--is-ancestor", base, "HEAD"}, git).ok()) {
    throw Error(opts.tree, 0, "HEAD does not descend from the base tag");
  }

  TempDir tmp("patchq-export");
  const std::string outdir = (tmp.path() / "out").string();
  RunOptions fp = git;
  fp.env["GIT_COMMITTER_DATE"] = "2000-01-01T00:00:00Z";
  Git(opts.tree, FormatPatchArgs(outdir, base + "..HEAD"), fp);

  std::vector<std::string> names;
  if (fs::exists(outdir)) {
    for (const auto& e : fs::directory_iterator(outdir)) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());  // 0001-, 0002-, ... in order

  const fs::path repo(opts.repo);
  const fs::path patches = repo / "patches";
  const fs::path series_path = repo / "series";
  Series old_series;
  std::string old_series_text;
  bool have_series = ReadFileIfExists(series_path, &old_series_text);
  if (have_series) old_series = ParseSeries(old_series_text, series_path.string());

  int changed = 0;
  const char* wrote_verb = opts.dry_run ? "would write" : "wrote";
  if (!opts.dry_run) fs::create_directories(patches);
  for (const auto& name : names) {
    std::string data = NormalizePatchDate(ReadFile(fs::path(outdir) / name));
    std::string old;
    bool same = ReadFileIfExists(patches / name, &old) && old == data;
    if (same) {
      log << "unchanged " << name << "\n";
      continue;
    }
    ++changed;
    if (!opts.dry_run) WriteFile(patches / name, data);
    log << wrote_verb << " " << name << "\n";
  }

  // Remove patches that left the series: those the old series named and any
  // stray numbered patch file.
  std::set<std::string> keep(names.begin(), names.end());
  std::set<std::string> stale;
  for (const auto& e : old_series.patches) {
    if (!keep.count(e.name)) stale.insert(e.name);
  }
  if (fs::is_directory(patches)) {
    for (const auto& e : fs::directory_iterator(patches)) {
      std::string n = e.path().filename().string();
      if (IsNumberedPatchName(n) && !keep.count(n)) stale.insert(n);
    }
  }
  for (const auto& n : stale) {
    if (!fs::exists(patches / n)) continue;
    ++changed;
    if (!opts.dry_run) fs::remove(patches / n);
    log << (opts.dry_run ? "would remove " : "removed ") << n << "\n";
  }

  Series s;
  s.header = old_series.header;
  s.SetHeaderValue("base-tree", base);
  for (const auto& n : names) s.patches.push_back({n, 0});
  std::string text = s.Render();
  if (have_series && text == old_series_text) {
    log << "unchanged series\n";
  } else {
    ++changed;
    if (!opts.dry_run) WriteFile(series_path, text);
    log << wrote_verb << " series\n";
  }
  log << names.size() << " patches, " << changed << (opts.dry_run ? " would change" : " changed") << "\n";
  return changed;
}

}  // namespace patchq
