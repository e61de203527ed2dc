#include "tools/patchq/check.h"

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>

#include "tools/patchq/changelog.h"
#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/identity.h"
#include "tools/patchq/lint.h"
#include "tools/patchq/patch.h"
#include "tools/patchq/series.h"

namespace patchq {
namespace {

// The tree's base in a temporary directory.  Full: a detached git worktree
// (removed with its git metadata on destruction), needed to build.  Sparse:
// only the given paths that exist in base, from git archive; enough for
// quilt, and seconds instead of a minute on a kernel tree.
class ScratchTree {
 public:
  ScratchTree(const std::string& tree, const std::string& base, const fs::path& dir)
      : tree_(tree), dir_(dir), worktree_(true) {
    Git(tree_, {"worktree", "add", "--quiet", "--detach", dir_.string(), base}, IsolatedGit());
  }
  ScratchTree(const std::string& tree, const std::string& base, const fs::path& dir,
              const std::set<std::string>& paths)
      : tree_(tree), dir_(dir), worktree_(false) {
    fs::create_directories(dir_);
    std::vector<std::string> ls = {"--literal-pathspecs", "ls-tree", "-r", "-z", "--name-only", base, "--"};
    ls.insert(ls.end(), paths.begin(), paths.end());
    std::vector<std::string> existing;
    std::string out = paths.empty() ? "" : Git(tree_, ls, IsolatedGit());
    for (size_t pos = 0; pos < out.size();) {
      size_t nul = out.find('\0', pos);
      if (nul == std::string::npos) nul = out.size();
      existing.push_back(out.substr(pos, nul - pos));
      pos = nul + 1;
    }
    if (existing.empty()) return;
    const std::string tar = (dir_.parent_path() / "base.tar").string();
    std::vector<std::string> archive = {"--literal-pathspecs", "archive", "--format=tar", "-o", tar, base, "--"};
    archive.insert(archive.end(), existing.begin(), existing.end());
    Git(tree_, archive, IsolatedGit());
    RunChecked({"tar", "-xf", tar, "-C", dir_.string()});
    fs::remove(tar);
  }
  ScratchTree(const ScratchTree&) = delete;
  ScratchTree& operator=(const ScratchTree&) = delete;
  ~ScratchTree() {
    if (!worktree_) return;  // the TempDir removes the files
    try {
      GitTry(tree_, {"worktree", "remove", "--force", dir_.string()}, IsolatedGit());
      GitTry(tree_, {"worktree", "prune"}, IsolatedGit());
    } catch (...) {
    }
  }
  const fs::path& dir() const { return dir_; }

 private:
  std::string tree_;
  fs::path dir_;
  bool worktree_;
};

std::vector<std::string> LastLines(const std::string& text, size_t n, const std::string& indent) {
  std::vector<std::string> lines = SplitLines(text);
  std::vector<std::string> out;
  size_t from = lines.size() > n ? lines.size() - n : 0;
  for (size_t i = from; i < lines.size(); ++i) out.push_back(indent + lines[i]);
  return out;
}

struct Verdict {
  std::vector<std::string> reasons;  // one line each
  std::vector<std::string> details;  // printed indented under the FAIL line
  std::vector<std::string> warnings;  // printed indented under PASS or FAIL
};

void RunCheckpatch(const std::string& checkpatch, const fs::path& file, const std::string& name,
                   const fs::path& confdir, Verdict* v) {
  RunOptions ro;
  ro.merge_stderr = true;
  // checkpatch reads .checkpatch.conf from the working directory and $HOME:
  // point both at an empty directory so the verdict is the same for everyone.
  ro.cwd = confdir.string();
  ro.env["HOME"] = confdir.string();
  // FILE_PATH_CHANGES ("does MAINTAINERS need updating?") fires for every
  // new file, even where an existing MAINTAINERS pattern (virt/kvm/*) covers
  // it: reviewers judge that, not the script.
  RunResult r = Run({"perl", checkpatch, "--strict", "--no-tree", "--terse", "--no-summary", "--show-types",
                     "--ignore", "FILE_PATH_CHANGES", "--color=never", file.string()},
                    ro);
  std::vector<std::string> lines;
  for (const auto& l : SplitLines(r.out)) {
    if (!l.empty()) lines.push_back(l);
  }
  if (r.ok() && lines.empty()) return;
  int errors = 0, warnings = 0, checks = 0;
  for (auto& l : lines) {
    if (l.find(": ERROR:") != std::string::npos) ++errors;
    if (l.find(": WARNING:") != std::string::npos) ++warnings;
    if (l.find(": CHECK:") != std::string::npos) ++checks;
    // checkpatch names the file by the path we gave it; show the patch name.
    if (l.rfind(file.string(), 0) == 0) l = name + l.substr(file.string().size());
    v->details.push_back("checkpatch: " + l);
  }
  std::ostringstream s;
  s << "checkpatch --strict: " << errors << " errors, " << warnings << " warnings, " << checks << " checks";
  if (!r.ok() && errors + warnings + checks == 0) s << " (exit " << r.status << ")";
  v->reasons.push_back(s.str());
}

}  // namespace

std::vector<std::string> SplitCommand(const std::string& cmd) {
  std::vector<std::string> argv;
  std::istringstream in(cmd);
  std::string w;
  while (in >> w) argv.push_back(w);
  return argv;
}

CheckResult Check(const CheckOptions& opts, std::ostream& out, std::ostream& log) {
  const fs::path repo(opts.repo);
  const std::string series_path = (repo / "series").string();
  const Series series = ReadSeries(series_path);
  const Identity identity = ReadIdentity(opts.repo);
  const std::string base = BaseCommit(opts.tree);
  const std::string checkpatch = fs::absolute(
      opts.checkpatch.empty() ? fs::path(opts.tree) / "scripts/checkpatch.pl" : fs::path(opts.checkpatch)).string();
  if (!fs::exists(checkpatch)) throw Error(checkpatch, 0, "checkpatch not found (expected the tree's scripts/checkpatch.pl)");

  TempDir tmp("patchq-check");
  const fs::path qpatches = tmp.path() / "patches";
  fs::create_directories(qpatches);
  fs::create_directories(tmp.path() / "conf");
  // The quilt series lists the patches that exist; a missing one is a FAIL.
  std::string qseries;
  for (const auto& e : series.patches) {
    if (fs::exists(repo / "patches" / e.name)) {
      fs::copy_file(repo / "patches" / e.name, qpatches / e.name);
      qseries += e.name + "\n";
    }
  }
  WriteFile(qpatches / "series", qseries);
  // Without a build, the files the patches touch are all quilt needs; a
  // patch that does not parse or names a quoted path gets the full tree.
  std::set<std::string> paths;
  bool sparse = opts.build.empty();
  for (const auto& e : series.patches) {
    if (!sparse) break;
    const fs::path f = repo / "patches" / e.name;
    if (!fs::exists(f)) continue;
    try {
      for (const auto& d : ReadPatch(f.string()).files) {
        if (d.quoted) sparse = false;
        paths.insert(d.old_path);
        paths.insert(d.path);
      }
    } catch (const Error&) {
      sparse = false;
    }
  }
  log << "scratch tree: " << (tmp.path() / "src").string() << " at base " << base.substr(0, 12)
      << (sparse ? " (only the " + std::to_string(paths.size()) + " paths the patches touch)" : " (full worktree)")
      << "\n";
  std::unique_ptr<ScratchTree> scratch_ptr =
      sparse ? std::make_unique<ScratchTree>(opts.tree, base, tmp.path() / "src", paths)
             : std::make_unique<ScratchTree>(opts.tree, base, tmp.path() / "src");
  const ScratchTree& scratch = *scratch_ptr;

  RunOptions quilt;
  quilt.cwd = scratch.dir().string();
  quilt.env["QUILT_PATCHES"] = qpatches.string();
  quilt.env["QUILT_SERIES"] = (qpatches / "series").string();
  quilt.env["LC_ALL"] = "C";
  quilt.merge_stderr = true;

  // Patch files that the series does not name are worth a note, not a FAIL.
  if (fs::is_directory(repo / "patches")) {
    std::vector<std::string> unlisted;
    for (const auto& f : fs::directory_iterator(repo / "patches")) {
      const std::string n = f.path().filename().string();
      if (f.path().extension() != ".patch") continue;
      bool listed = false;
      for (const auto& e : series.patches) listed = listed || e.name == n;
      if (!listed) unlisted.push_back(n);
    }
    std::sort(unlisted.begin(), unlisted.end());
    for (const auto& n : unlisted) log << "note: patches/" << n << " is not in the series\n";
  }

  CheckResult result;
  std::string stopped_at;  // first patch quilt could not push
  for (const auto& e : series.patches) {
    Verdict v;
    const fs::path file = repo / "patches" / e.name;
    if (!fs::exists(file)) {
      v.reasons.push_back(series_path + ":" + std::to_string(e.line) + ": file patches/" + e.name +
                          " does not exist");
    } else {
      try {
        Patch p = ReadPatch(file.string());
        for (const auto& problem : LintPatch(p, identity)) v.reasons.push_back(problem);
        for (const auto& problem : ChangelogProblems(p)) {
          (opts.strict_changelog ? v.reasons : v.warnings).push_back(problem);
        }
      } catch (const Error& err) {
        v.reasons.push_back(std::string("malformed: ") + err.what());
      }
      RunCheckpatch(checkpatch, fs::absolute(file), e.name, tmp.path() / "conf", &v);

      if (!stopped_at.empty()) {
        v.reasons.push_back("not applied: quilt stopped at " + stopped_at);
      } else {
        RunResult r = Run({"quilt", "--quiltrc", "/dev/null", "push", "--fuzz=0"}, quilt);
        if (!r.ok()) {
          stopped_at = e.name;
          v.reasons.push_back("does not apply with quilt push --fuzz=0");
          for (const auto& l : LastLines(r.out, 12, "quilt: ")) v.details.push_back(l);
        } else if (!opts.build.empty()) {
          std::vector<std::string> argv;
          const std::vector<std::pair<std::string, std::string>> subst = {
              {"{dir}", scratch.dir().string()}, {"{out}", (tmp.path() / "build").string()}, {"{patch}", e.name}};
          for (std::string a : opts.build) {
            for (const auto& [key, val] : subst) {
              size_t pos;
              while ((pos = a.find(key)) != std::string::npos) a.replace(pos, key.size(), val);
            }
            argv.push_back(a);
          }
          fs::create_directories(tmp.path() / "build");
          log << "building after " << e.name << ": " << CommandLine(argv) << "\n";
          log.flush();
          RunOptions b;
          b.cwd = opts.repo;
          b.merge_stderr = true;
          RunResult br;
          try {
            br = Run(argv, b);
          } catch (const Error& err) {
            br.status = 127;
            br.out = err.what();
          }
          if (!br.ok()) {
            v.reasons.push_back("build failed after this patch (exit " + std::to_string(br.status) + ")");
            for (const auto& l : LastLines(br.out, 20, "build: ")) v.details.push_back(l);
          }
        }
      }
    }
    if (v.reasons.empty()) {
      ++result.passed;
      out << "PASS " << e.name << "\n";
      for (const auto& w : v.warnings) out << "    warning: " << w << "\n";
    } else {
      ++result.failed;
      out << "FAIL " << e.name << ": ";
      for (size_t i = 0; i < v.reasons.size(); ++i) out << (i ? "; " : "") << v.reasons[i];
      out << "\n";
      for (const auto& d : v.details) out << "    " << d << "\n";
      for (const auto& w : v.warnings) out << "    warning: " << w << "\n";
    }
    result.warnings += static_cast<int>(v.warnings.size());
    out.flush();
  }
  if (result.warnings > 0) {
    out << result.warnings << " changelog warnings (not failures; --strict-changelog makes them failures)\n";
  }
  out << result.passed << " passed, " << result.failed << " failed\n";
  return result;
}

}  // namespace patchq
