#include "tools/patchq/mbox.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/identity.h"
#include "tools/patchq/mime.h"
#include "tools/patchq/patch.h"
#include "tools/patchq/series.h"

namespace patchq {
namespace {

uint64_t Fnv1a(const std::string& data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// "Sat, 1 Jan 2000 HH:MM:SS +0000": message k is k seconds after the fixed
// epoch, so mail clients sort the series in order.
std::string MessageDate(int k) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "Sat, 1 Jan 2000 %02d:%02d:%02d +0000", (k / 3600) % 24, (k / 60) % 60, k % 60);
  return buf;
}

std::string Domain(const std::string& email) {
  size_t at = email.rfind('@');
  return at == std::string::npos ? "patchq.invalid" : email.substr(at + 1);
}

struct Message {
  std::string subject;
  std::string msgid;  // with <>
  std::string body;
};

}  // namespace

std::string ContentHash(const std::string& data) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx",
                static_cast<unsigned long long>(Fnv1a(data, 0xcbf29ce484222325ULL)),
                static_cast<unsigned long long>(Fnv1a(data, 0x84222325cbf29ce4ULL)));
  return buf;
}

std::string Diffstat(const std::vector<std::string>& patch_files) {
  if (patch_files.empty()) return " 0 files changed\n";
  std::vector<std::string> argv = {"git", "apply", "--numstat"};
  argv.insert(argv.end(), patch_files.begin(), patch_files.end());
  RunOptions ro = IsolatedGit();
  ro.cwd = "/";
  std::string out = RunChecked(argv, ro);
  struct Stat {
    long add = 0, del = 0;
    bool binary = false;
  };
  std::map<std::string, Stat> stats;  // sorted by path, as git diff --stat
  for (const auto& l : SplitLines(out)) {
    std::istringstream in(l);
    std::string a, d, path;
    if (!std::getline(in, a, '\t') || !std::getline(in, d, '\t') || !std::getline(in, path)) continue;
    Stat& s = stats[path];
    if (a == "-") {
      s.binary = true;
    } else {
      s.add += std::stol(a);
      s.del += std::stol(d);
    }
  }
  size_t name_w = 0, max_total = 0;
  long adds = 0, dels = 0;
  for (const auto& [p, s] : stats) {
    name_w = std::max(name_w, p.size());
    max_total = std::max(max_total, static_cast<size_t>(s.add + s.del));
    adds += s.add;
    dels += s.del;
  }
  const size_t count_w = std::to_string(max_total).size();
  const size_t graph_w = 40;
  std::ostringstream o;
  for (const auto& [p, s] : stats) {
    o << " " << p << std::string(name_w - p.size(), ' ') << " | ";
    if (s.binary) {
      o << "Bin\n";
      continue;
    }
    std::string n = std::to_string(s.add + s.del);
    o << std::string(count_w - n.size(), ' ') << n << " ";
    size_t plus = s.add, minus = s.del;
    if (max_total > graph_w) {
      plus = (s.add * graph_w + max_total - 1) / max_total;
      minus = (s.del * graph_w + max_total - 1) / max_total;
    }
    o << std::string(plus, '+') << std::string(minus, '-') << "\n";
  }
  o << " " << stats.size() << (stats.size() == 1 ? " file" : " files") << " changed";
  if (adds) o << ", " << adds << (adds == 1 ? " insertion(+)" : " insertions(+)");
  if (dels) o << ", " << dels << (dels == 1 ? " deletion(-)" : " deletions(-)");
  o << "\n";
  return o.str();
}

std::string Mbox(const MboxOptions& opts) {
  if (opts.version < 1) throw Error("--version must be 1 or more");
  const fs::path repo(opts.repo);
  const std::string series_path = (repo / "series").string();
  const Series series = ReadSeries(series_path);
  if (series.patches.empty()) throw Error(series_path, 0, "no patches in the series");
  const Identity submitter = GitUserIdentity(opts.repo);

  std::string base;
  if (!opts.tree.empty() && fs::exists(opts.tree)) base = BaseCommit(opts.tree);
  if (base.empty()) base = series.HeaderValue("base-tree");
  if (base.empty()) {
    throw Error(series_path, 0, "no base: neither a tree with a 'base' tag (--tree) nor a '# base-tree:' line");
  }

  std::vector<Patch> patches;
  std::vector<std::string> files;
  for (const auto& e : series.patches) {
    fs::path f = repo / "patches" / e.name;
    if (!fs::exists(f)) throw Error(series_path, e.line, "names '" + e.name + "' but " + f.string() + " does not exist");
    patches.push_back(ReadPatch(f.string()));
    files.push_back(fs::absolute(f).string());
    const Patch& p = patches.back();
    // A body line "From " would split the message in the mbox.
    std::vector<std::string> body = SplitLines(p.body);
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i].rfind("From ", 0) == 0) {
        throw Error(p.file, p.body_line + static_cast<int>(i), "line starts with 'From ' (it would split the mbox; reword it)");
      }
    }
  }

  const int m = static_cast<int>(patches.size());
  const std::string v = "v" + std::to_string(opts.version);
  const std::string domain = Domain(submitter.email);
  auto tag = [&](int k) { return "[PATCH " + v + " " + std::to_string(k) + "/" + std::to_string(m) + "] "; };

  std::vector<Message> msgs(static_cast<size_t>(m) + 1);
  for (int k = 1; k <= m; ++k) {
    const Patch& p = patches[static_cast<size_t>(k - 1)];
    Message& msg = msgs[static_cast<size_t>(k)];
    msg.subject = tag(k) + p.Summary();
    const std::string author = p.Author();
    if (author != submitter.Mailbox()) msg.body = "From: " + author + "\n\n";
    msg.body += p.body;
    if (msg.body.empty() || msg.body.back() != '\n') msg.body += "\n";
    msg.msgid = "<patchq-" + v + "-" + std::to_string(k) + "-" + std::to_string(m) + "-" +
                ContentHash(msg.subject + "\n" + msg.body) + "@" + domain + ">";
  }

  // Cover letter.
  std::string cover_subject, cover_body;
  if (!opts.cover_file.empty()) {
    std::vector<std::string> lines = SplitLines(ReadFile(opts.cover_file));
    size_t i = 0;
    while (i < lines.size() && lines[i].empty()) ++i;
    if (i >= lines.size()) throw Error(opts.cover_file, 0, "empty cover letter (expected a subject line, a blank line, a body)");
    cover_subject = lines[i++];
    while (i < lines.size() && lines[i].empty()) ++i;
    for (; i < lines.size(); ++i) cover_body += lines[i] + "\n";
  } else {
    std::string based_on = series.HeaderValue("base");
    cover_subject = "Patch series" + (based_on.empty() ? std::string() : " for " + based_on);
    std::ostringstream b;
    b << "This series has " << m << (m == 1 ? " patch" : " patches") << " on top of "
      << (based_on.empty() ? "the base tree" : based_on) << ".\n\n";
    // Shortlog, grouped by author in order of first appearance.
    std::vector<std::string> authors;
    std::map<std::string, std::vector<std::string>> by_author;
    for (const auto& p : patches) {
      std::string a = p.Author();
      size_t lt = a.find(" <");
      std::string name = lt == std::string::npos ? a : a.substr(0, lt);
      if (!by_author.count(name)) authors.push_back(name);
      by_author[name].push_back(p.Summary());
    }
    for (const auto& a : authors) {
      b << a << " (" << by_author[a].size() << "):\n";
      for (const auto& s : by_author[a]) b << "  " << s << "\n";
      b << "\n";
    }
    b << Diffstat(files);
    cover_body = b.str();
  }
  if (!cover_body.empty() && cover_body.back() != '\n') cover_body += "\n";
  if (cover_body.find("\nbase-commit: ") == std::string::npos && cover_body.rfind("base-commit: ", 0) != 0) {
    cover_body += "\nbase-commit: " + base + "\n";
  }
  msgs[0].subject = tag(0) + cover_subject;
  msgs[0].body = cover_body;
  {
    std::string ids;
    for (int k = 1; k <= m; ++k) ids += msgs[static_cast<size_t>(k)].msgid + "\n";
    msgs[0].msgid = "<patchq-" + v + "-0-" + std::to_string(m) + "-" +
                    ContentHash(msgs[0].subject + "\n" + msgs[0].body + ids) + "@" + domain + ">";
  }
  for (size_t i = 0; i < msgs.size(); ++i) {
    for (const auto& l : SplitLines(msgs[i].body)) {
      if (l.rfind("From ", 0) == 0) {
        throw Error(i == 0 ? opts.cover_file : series.patches[i - 1].name, 0,
                    "a line starts with 'From ' (it would split the mbox)");
      }
    }
  }

  std::ostringstream o;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const Message& msg = msgs[i];
    o << "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n";
    o << "From: " << EncodeMailbox(submitter.name, submitter.email) << "\n";
    o << "Date: " << MessageDate(static_cast<int>(i)) << "\n";
    o << "Subject: " << EncodeHeader(msg.subject) << "\n";
    o << "Message-Id: " << msg.msgid << "\n";
    if (i > 0) {
      o << "In-Reply-To: " << msgs[0].msgid << "\n";
      o << "References: " << msgs[0].msgid << "\n";
    }
    auto list = [&](const char* name, const std::vector<std::string>& addrs) {
      if (addrs.empty()) return;
      o << name << ": ";
      for (size_t j = 0; j < addrs.size(); ++j) o << (j ? ",\n " : "") << addrs[j];
      o << "\n";
    };
    list("To", opts.to);
    list("Cc", opts.cc);
    o << "MIME-Version: 1.0\n";
    o << "Content-Type: text/plain; charset=UTF-8\n";
    o << "Content-Transfer-Encoding: 8bit\n";
    o << "\n" << msg.body << "\n";
  }
  return o.str();
}

}  // namespace patchq
