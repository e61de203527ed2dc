#include "tools/patchq/import.h"

#include <algorithm>

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/identity.h"
#include "tools/patchq/patch.h"
#include "tools/patchq/sender.h"
#include "tools/patchq/series.h"

namespace patchq {
namespace {

struct Item {
  std::string name;   // for messages
  std::string where;  // "series:5" or the mbox file
  int line = 0;
  std::string text;
};

// The series' patches, each checked to exist and parse.
std::vector<Item> FromSeries(const fs::path& repo) {
  const std::string series_path = (repo / "series").string();
  const Series series = ReadSeries(series_path);
  std::vector<Item> items;
  for (const auto& e : series.patches) {
    fs::path p = repo / "patches" / e.name;
    if (!fs::exists(p)) {
      throw Error(series_path, e.line, "names '" + e.name + "' but " + p.string() + " does not exist");
    }
    ReadPatch(p.string());
    items.push_back({e.name, series_path, e.line, ReadFile(p)});
  }
  return items;
}

// "Name <email>" -> Identity.
Identity ParseMailbox(const std::string& s) {
  size_t lt = s.rfind(" <"), gt = s.rfind('>');
  if (lt == std::string::npos || gt == std::string::npos || gt < lt) {
    throw Error("--sender '" + s + "': expected 'Name <email>'");
  }
  return {Trim(s.substr(0, lt)), s.substr(lt + 2, gt - lt - 2)};
}

// The address of a From: value: what is between the last '<' and '>', or
// the whole value (an address alone).
std::string Address(const std::string& value) {
  size_t lt = value.rfind('<'), gt = value.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt) return value.substr(lt + 1, gt - lt - 1);
  return Trim(value);
}

// The headers with a From: of the sender given back to the project
// identity.  The sender is known by address: mail quotes a name with a dot
// ("Jane Q. Hacker"), may encode one that is not ASCII, and may fold it.
std::string FromQueue(const std::string& head, const Identity& queue, const Identity& sender) {
  std::string out;
  bool replaced = false;  // skipping the continuation lines of a replaced From:
  const std::vector<std::string> lines = SplitLines(head);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const bool continuation = !l.empty() && (l[0] == ' ' || l[0] == '\t');
    if (continuation && replaced) continue;
    replaced = false;
    if (!continuation && l.rfind("From: ", 0) == 0) {
      std::string value = l.substr(6);
      for (size_t j = i + 1; j < lines.size() && !lines[j].empty() && (lines[j][0] == ' ' || lines[j][0] == '\t'); ++j)
        value += " " + Trim(lines[j]);
      if (AsciiLower(Address(value)) == AsciiLower(sender.email)) {
        out += "From: " + queue.Mailbox() + "\n";
        replaced = true;
        continue;
      }
    }
    out += l + "\n";
  }
  return out;
}

// The mbox's patches (git mailsplit; messages without a diff, like a cover
// letter, are skipped), From: and Signed-off-by: of the sender given back to
// the project identity.
std::vector<Item> FromMbox(const std::string& mbox, const Identity& queue, const Identity& sender,
                           const fs::path& dir) {
  fs::create_directories(dir);
  RunChecked({"git", "mailsplit", "-o" + dir.string(), mbox}, IsolatedGit());
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Item> items;
  for (const auto& f : files) {
    std::string text = ReadFile(f);
    if (text.find("\ndiff --git ") == std::string::npos) continue;
    const size_t end = text.find("\n\n");
    if (end == std::string::npos) throw Error(mbox, 0, "a message without a body");
    const std::string head = FromQueue(text.substr(0, end + 1), queue, sender);
    // git mailsplit keeps no "From " line; git am wants headers only.
    text = head + MessageForQueue(text.substr(end + 1), queue, sender);
    const Patch p = ParsePatch(text, mbox);
    items.push_back({p.Summary(), mbox, 0, text});
  }
  if (items.empty()) throw Error(mbox, 0, "no patches in the mbox");
  return items;
}

}  // namespace

std::string Import(const ImportOptions& opts, std::ostream& log) {
  const fs::path repo(opts.repo);
  const Identity identity = ReadIdentity(opts.repo);
  const std::string base = BaseCommit(opts.tree);
  const RunOptions git = IsolatedGit();
  TempDir tmp("patchq-import");

  std::vector<Item> items;
  if (opts.mbox.empty()) {
    const std::string series_path = (repo / "series").string();
    const std::string recorded = ReadSeries(series_path).HeaderValue("base-tree");
    if (!recorded.empty() && recorded != base) {
      log << "warning: " << opts.tree << ": base is " << base << " but " << series_path
          << " records base-tree " << recorded << "; commit ids will differ\n";
    }
    items = FromSeries(repo);
  } else {
    const Identity sender = opts.sender.empty() ? SenderIdentity(opts.repo, identity) : ParseMailbox(opts.sender);
    items = FromMbox(opts.mbox, identity, sender, tmp.path() / "split");
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
  int k = 0;
  for (const auto& e : items) {
    const std::string fixed = NormalizePatchDate(e.text);
    if (fixed != e.text && opts.mbox.empty()) log << "note: " << e.name << ": Date: taken as " << kFixedDate << "\n";
    const std::string path = (tmp.path() / ("patch-" + std::to_string(++k))).string();
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
      throw Error(e.where, e.line, "'" + e.name + "' does not apply with git am (tree reset to base):\n" + msg);
    }
    log << "applied " << e.name << "\n";
  }
  std::string head = StripNewline(Git(opts.tree, {"rev-parse", "HEAD"}, git));
  log << items.size() << " patches on base " << base.substr(0, 12) << ", HEAD " << head << "\n";
  return head;
}

}  // namespace patchq
