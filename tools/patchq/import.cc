#include "tools/patchq/import.h"

#include <iostream>

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/identity.h"
#include "tools/patchq/patch.h"
#include "tools/patchq/series.h"

namespace patchq {

std::string Import(const ImportOptions& opts, std::ostream& log) {
  const fs::path repo(opts.repo);
  const std::string series_path = (repo / "series").string();
  const Series series = ReadSeries(series_path);
  const Identity identity = ReadIdentity(opts.repo);
  const std::string base = BaseCommit(opts.tree);
  const RunOptions git = IsolatedGit();

  const std::string recorded = series.HeaderValue("base-tree");
  if (!recorded.empty() && recorded != base) {
    log << "warning: " << opts.tree << ": base is " << base << " but " << series_path
        << " records base-tree " << recorded << "; commit ids will differ\n";
  }
  // Every patch must exist and parse before the tree is touched.
  for (const auto& e : series.patches) {
    fs::path p = repo / "patches" / e.name;
    if (!fs::exists(p)) {
      throw Error(series_path, e.line, "names '" + e.name + "' but " + p.string() + " does not exist");
    }
    ReadPatch(p.string());
  }

  const fs::path git_dir = StripNewline(Git(opts.tree, {"rev-parse", "--absolute-git-dir"}, git));
  const bool am_in_progress = fs::exists(git_dir / "rebase-apply");
  const std::string dirty = Git(opts.tree, {"status", "--porcelain", "--untracked-files=no"}, git);
  if (!opts.force && (am_in_progress || !dirty.empty())) {
    throw Error(opts.tree, 0, std::string(am_in_progress ? "a git am/rebase is in progress"
                                                         : "uncommitted changes:\n" + dirty) +
                                  "\n(import resets the tree to base; commit or stash first, or pass --force)");
  }
  if (am_in_progress) {
    if (!GitTry(opts.tree, {"am", "--abort"}, git).ok()) {
      GitTry(opts.tree, {"rebase", "--abort"}, git);
    }
  }
  Git(opts.tree, {"reset", "--quiet", "--hard", base}, git);

  // Committer = the project identity, committer date = the patch's Date:
  // (export writes a fixed one), so the commit ids do not depend on when or
  // by whom import runs.
  RunOptions am = git;
  am.env["GIT_COMMITTER_NAME"] = identity.name;
  am.env["GIT_COMMITTER_EMAIL"] = identity.email;
  // git am takes the author date from Date:; a patch not written by export
  // gets the fixed date too, so the import is reproducible either way.
  TempDir tmp("patchq-import");
  for (const auto& e : series.patches) {
    const std::string text = ReadFile(repo / "patches" / e.name);
    const std::string fixed = NormalizePatchDate(text);
    if (fixed != text) log << "note: " << e.name << ": Date: taken as " << kFixedDate << "\n";
    const std::string path = (tmp.path() / e.name).string();
    WriteFile(path, fixed);
    RunResult r = GitTry(opts.tree,
                         {"-c", "am.keepcr=false", "-c", "am.threeWay=false", "-c", "am.messageid=false",
                          "-c", "core.autocrlf=false", "am", "--quiet", "--no-3way", "--no-keep-cr",
                          "--no-scissors", "--committer-date-is-author-date", path},
                         am);
    if (!r.ok()) {
      GitTry(opts.tree, {"am", "--abort"}, git);
      Git(opts.tree, {"reset", "--quiet", "--hard", base}, git);
      std::string msg = StripNewline(r.err.empty() ? r.out : r.err);
      throw Error(series_path, e.line, "'" + e.name + "' does not apply with git am (tree reset to base):\n" + msg);
    }
    log << "applied " << e.name << "\n";
  }
  std::string head = StripNewline(Git(opts.tree, {"rev-parse", "HEAD"}, git));
  log << series.patches.size() << " patches on base " << base.substr(0, 12) << ", HEAD " << head << "\n";
  return head;
}

}  // namespace patchq
