#include "tools/patchq/mbox.h"

#include <charconv>
#include <ostream>

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/identity.h"
#include "tools/patchq/outbox.h"
#include "tools/patchq/recipients.h"
#include "tools/patchq/sender.h"
#include "tools/patchq/series.h"

namespace patchq {
namespace {

// "subject\n\nbody" from the cover file, with "Changes since vN-1:" added.
std::string CoverText(const std::string& cover_file, const std::string& changes_file, int version) {
  std::string text = ReadFile(cover_file);
  const std::vector<std::string> lines = SplitLines(text);
  if (lines.empty() || Trim(lines[0]).empty() || (lines.size() > 1 && !Trim(lines[1]).empty())) {
    throw Error(cover_file, 1, "expected a subject line, a blank line, then the body");
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (!changes_file.empty()) {
    std::string changes = ReadFile(changes_file);
    while (!changes.empty() && changes.back() == '\n') changes.pop_back();
    text += "\n\nChanges since v" + std::to_string(version - 1) + ":\n" + changes;
  }
  return text + "\n";
}

// change-id: after base-commit: at the end of the cover letter, where b4 puts it.
std::string AddChangeId(const std::string& cover, const std::string& change_id, const std::string& file) {
  const std::string key = "\nbase-commit: ";
  size_t at = cover.find(key);
  if (at == std::string::npos) throw Error(file, 0, "git format-patch wrote no base-commit: line");
  size_t eol = cover.find('\n', at + 1);
  return cover.substr(0, eol + 1) + "change-id: " + change_id + "\n" + cover.substr(eol + 1);
}

// The project identity must not reach a mail, in any letter case: name the
// message and line.
void RefusePlaceholder(const std::string& text, const Identity& queue, const std::string& file) {
  const std::vector<std::string> lines = SplitLines(text);
  const std::string email = AsciiLower(queue.email), name = AsciiLower(queue.name);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line = AsciiLower(lines[i]);
    if (line.find(email) != std::string::npos || line.find(name) != std::string::npos) {
      throw Error(file, static_cast<int>(i) + 1,
                  "the project identity '" + queue.Mailbox() +
                      "' (IDENTITY) would reach the mail; reword the commit message: '" + lines[i] + "'");
    }
  }
}

// git format-patch does not quote body lines starting "From " (mboxrd):
// such a line would split the message.  The queue check refuses them too.
void RefuseFromLines(const std::string& text, const std::string& file) {
  const std::vector<std::string> lines = SplitLines(text);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].rfind("From ", 0) == 0) {
      throw Error(file, static_cast<int>(i) + 1, "line starts with 'From ' (it would split the mbox; reword it)");
    }
  }
}

// git folds a From: or Subject: longer than 78 columns (a long name and
// address; "[PATCH v2 03/26] " counts); b4 0.12 (Debian 12) then fails in
// b4 am ("Header values may not contain linefeed").  One line is valid mail
// (up to 998 characters), so those headers are unfolded.
std::string UnfoldHeaders(const std::string& text) {
  const size_t end = text.find("\n\n");
  if (end == std::string::npos) return text;
  std::string out;
  bool unfolding = false;
  for (const auto& l : SplitLines(text.substr(0, end + 1))) {
    const bool continuation = !l.empty() && (l[0] == ' ' || l[0] == '\t');
    if (continuation && unfolding) {
      out.pop_back();  // the '\n'
      out += " " + Trim(l) + "\n";
      continue;
    }
    if (!continuation) unfolding = l.rfind("From: ", 0) == 0 || l.rfind("Subject: ", 0) == 0 || l.rfind("Date: ", 0) == 0;
    out += l + "\n";
  }
  return out + text.substr(end + 1);
}

}  // namespace

int ParseRerollCount(const std::string& text) {
  int v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < 1 || v > 999) {
    throw Error("-v/--reroll-count '" + text + "': expected a whole number from 1 to 999");
  }
  return v;
}

std::string Mbox(const MboxOptions& opts, std::ostream& log) {
  const int version = opts.reroll.empty() ? 1 : ParseRerollCount(opts.reroll);
  const fs::path repo(opts.repo);
  const Identity queue = ReadIdentity(opts.repo);
  const Identity sender = SenderIdentity(opts.repo, queue);  // refuse early, before any work
  const std::string series_path = (repo / "series").string();
  const Series series = ReadSeries(series_path);
  const std::string change_id = series.HeaderValue("change-id");
  if (change_id.empty()) {
    throw Error(series_path, 0, "no '# change-id: ...' header line (the series' stable id across versions; "
                                "add one, e.g. '# change-id: 20261202-topic-0123456789ab')");
  }
  const std::string base = BaseCommit(opts.tree);
  const std::string recorded = series.HeaderValue("base-tree");
  if (!recorded.empty() && recorded != base) {
    throw Error(series_path, 0, "records base-tree " + recorded + " but " + opts.tree + "'s base is " + base);
  }
  // The tree must hold exactly the series (patchq export --dry-run says why not).
  const std::string head_count = StripNewline(Git(opts.tree, {"rev-list", "--count", base + "..HEAD"}, IsolatedGit()));
  if (head_count != std::to_string(series.patches.size())) {
    throw Error(opts.tree, 0, "has " + head_count + " commits on base but " + series_path + " names " +
                                  std::to_string(series.patches.size()) + " patches (run patchq import or export)");
  }

  std::string cover_file = opts.cover_file.empty() ? (repo / "patches/cover.txt").string() : opts.cover_file;
  if (!fs::exists(cover_file)) throw Error(cover_file, 0, "no cover letter (pass --cover FILE)");
  std::string changes_file = opts.changes_file;
  if (changes_file.empty() && version > 1) {
    fs::path def = repo / "patches" / ("changes-v" + std::to_string(version) + ".txt");
    if (fs::exists(def)) changes_file = def.string();
    else log << "warning: no " << def.string() << " (or --changes FILE): the cover has no 'Changes since v"
             << version - 1 << "' section\n";
  }
  if (!changes_file.empty() && version < 2) throw Error("--changes needs -v N with N >= 2");

  Outbox outbox(opts.tree, base, queue, sender);
  Outbox::Format f;
  f.cover = CoverText(cover_file, changes_file, version);
  f.reroll = opts.reroll.empty() ? "" : std::to_string(version);
  f.to = opts.to;
  f.cc = opts.cc;
  const std::vector<fs::path> files = outbox.FormatPatch(f);

  std::vector<std::string> texts;
  Recipients all;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string text = UnfoldHeaders(ReadFile(files[i]));
    if (i == 0) text = AddChangeId(text, change_id, files[i].string());
    if (i > 0 && opts.recipients_auto) {
      const std::string script = opts.get_maintainer.empty()
                                     ? (fs::path(opts.tree) / "scripts/get_maintainer.pl").string()
                                     : fs::absolute(opts.get_maintainer).string();
      Recipients r = GetMaintainer(opts.tree, script, files[i].string());
      all.Add(r);
      text = AddRecipients(text, r);
    }
    texts.push_back(std::move(text));
  }
  if (opts.recipients_auto) texts[0] = AddRecipients(texts[0], all);

  std::string mbox;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string name = i == 0 ? cover_file : series.patches[i - 1].name + " (as mailed)";
    RefusePlaceholder(texts[i], queue, name);
    RefuseFromLines(texts[i], name);
    mbox += texts[i];
  }
  return mbox;
}

}  // namespace patchq
