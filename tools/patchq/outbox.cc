#include "tools/patchq/outbox.h"

#include <algorithm>

#include "tools/patchq/error.h"
#include "tools/patchq/git.h"
#include "tools/patchq/sender.h"

namespace patchq {
namespace {

// Committer and (for rewritten commits) author = the sender; no fixed dates.
RunOptions SenderEnv(const Identity& sender) {
  RunOptions ro = IsolatedGit();
  ro.env["GIT_COMMITTER_NAME"] = sender.name;
  ro.env["GIT_COMMITTER_EMAIL"] = sender.email;
  ro.unset_env.push_back("GIT_COMMITTER_DATE");
  ro.unset_env.push_back("GIT_AUTHOR_DATE");
  return ro;
}

// "Name <email>" of a raw commit header line "author Name <email> 946684800 +0000".
Identity HeaderIdentity(const std::string& line) {
  size_t sp = line.find(' '), lt = line.find(" <"), gt = line.find('>', lt == std::string::npos ? 0 : lt);
  if (sp == std::string::npos || lt == std::string::npos || gt == std::string::npos) return {};
  return {line.substr(sp + 1, lt - sp - 1), line.substr(lt + 2, gt - lt - 2)};
}

}  // namespace

Outbox::Outbox(const std::string& tree, const std::string& base, const Identity& queue, const Identity& sender)
    : base_(base), sender_(sender) {
  const RunOptions iso = IsolatedGit();
  const std::string objects = StripNewline(Git(tree, {"rev-parse", "--path-format=absolute", "--git-common-dir"}, iso)) +
                              "/objects";
  RunChecked({"git", "init", "-q", "--bare", GitDir()}, iso);
  WriteFile(fs::path(GitDir()) / "objects/info/alternates", objects + "\n");
  const std::string merges = Git(tree, {"rev-list", "--merges", base + "..HEAD"}, iso);
  if (!merges.empty()) throw Error(tree, 0, "base..HEAD contains merge commits (expected a linear series)");

  const RunOptions env = SenderEnv(sender);
  std::string parent = base;
  for (const auto& c : SplitLines(Git(tree, {"rev-list", "--reverse", base + "..HEAD"}, iso))) {
    // The raw commit: headers, a blank line, the message exactly.
    const std::string raw = Git(tree, {"cat-file", "commit", c}, iso);
    const size_t split = raw.find("\n\n");
    if (split == std::string::npos) throw Error(tree, 0, "commit " + c + " has no message");
    Identity author;
    for (const auto& l : SplitLines(raw.substr(0, split))) {
      if (l.rfind("author ", 0) == 0) author = HeaderIdentity(l);
    }
    if (author == queue) author = sender;  // the placeholder never reaches a mail
    RunOptions ro = env;
    ro.env["GIT_AUTHOR_NAME"] = author.name;
    ro.env["GIT_AUTHOR_EMAIL"] = author.email;
    ro.input = MessageForSender(raw.substr(split + 2), queue, sender);
    const std::string tree_sha = StripNewline(Git(tree, {"rev-parse", c + "^{tree}"}, iso));
    parent = StripNewline(Git(GitDir(), {"commit-tree", tree_sha, "-p", parent, "-F", "-"}, ro));
    ++count_;
  }
  if (count_ == 0) throw Error(tree, 0, "no commits in base..HEAD (patchq import first)");
  Git(GitDir(), {"update-ref", "refs/heads/series", parent}, iso);
}

std::vector<fs::path> Outbox::FormatPatch(const Format& f) const {
  const RunOptions env = SenderEnv(sender_);
  // The cover letter's subject and body come from the branch description.
  Git(GitDir(), {"config", "branch.series.description", f.cover}, IsolatedGit());
  const fs::path out = tmp_.path() / "mail";
  std::vector<std::string> args = {"-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
                                   "format-patch", "--quiet", "--cover-letter", "--cover-from-description=subject",
                                   "--thread=shallow", "--base=" + base_, "--from=" + sender_.Mailbox(),
                                   "-o", out.string()};
  if (!f.reroll.empty()) args.push_back("--reroll-count=" + f.reroll);
  for (const auto& a : f.to) args.push_back("--to=" + a);
  for (const auto& a : f.cc) args.push_back("--cc=" + a);
  args.push_back(base_ + "..series");
  Git(GitDir(), args, env);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path());
  std::sort(files.begin(), files.end());  // [vN-]0000-cover-letter.patch, 0001-..., in order
  if (files.size() != count_ + 1) {
    throw Error(out.string(), 0, "git format-patch wrote " + std::to_string(files.size()) + " files, expected " +
                                     std::to_string(count_ + 1));
  }
  return files;
}

}  // namespace patchq
