#include "tools/patchq/patch.h"

#include <strings.h>

#include <cstdlib>
#include <regex>

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/git.h"
#include "tools/patchq/subprocess.h"

namespace patchq {
namespace {

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// "@@ -a[,b] +c[,d] @@": the old and new line counts.
bool ParseHunkHeader(const std::string& line, long* old_n, long* new_n) {
  static const std::regex re(R"(^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@.*$)");
  std::smatch m;
  if (!std::regex_match(line, m, re)) return false;
  *old_n = m[2].matched ? std::strtol(m[2].str().c_str(), nullptr, 10) : 1;
  *new_n = m[4].matched ? std::strtol(m[4].str().c_str(), nullptr, 10) : 1;
  return true;
}

DiffFile DiffPaths(const std::string& line, int lineno) {
  // "diff --git a/OLD b/NEW"; a name with " b/" in it is ambiguous, take the
  // last split.
  DiffFile f;
  f.line = lineno;
  const std::string rest = line.substr(11);
  size_t pos = rest.rfind(" b/");
  if (rest.rfind("a/", 0) != 0 || pos == std::string::npos) {
    f.old_path = f.path = rest;
    f.quoted = true;
    return f;
  }
  f.old_path = rest.substr(2, pos - 2);
  f.path = rest.substr(pos + 3);
  return f;
}

}  // namespace

std::string Patch::HeaderValue(const std::string& name) const {
  for (const auto& h : headers) {
    if (strcasecmp(h.name.c_str(), name.c_str()) == 0) return h.value;
  }
  return "";
}

int Patch::HeaderLine(const std::string& name) const {
  for (const auto& h : headers) {
    if (strcasecmp(h.name.c_str(), name.c_str()) == 0) return h.line;
  }
  return 0;
}

std::string StripSubjectTags(const std::string& subject) {
  std::string s = subject;
  while (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos) break;
    s = s.substr(close + 1);
    size_t b = s.find_first_not_of(' ');
    s = b == std::string::npos ? "" : s.substr(b);
  }
  return s;
}

// RFC 2047 encoded words are decoded by git mailinfo, as git am does; plain
// ASCII headers (every exported patch so far) need no subprocess.
static std::string MailinfoField(const std::string& header, const std::string& value, const std::string& field) {
  RunOptions ro = IsolatedGit();
  ro.input = header + ": " + value + "\n\n";
  RunResult r = Run({"git", "mailinfo", "-k", "/dev/null", "/dev/null"}, ro);
  for (const auto& l : SplitLines(r.out)) {
    if (StartsWith(l, field + ": ")) return l.substr(field.size() + 2);
  }
  return value;
}

std::string Patch::Summary() const {
  const std::string s = Subject();
  return StripSubjectTags(s.find("=?") == std::string::npos ? s : MailinfoField("Subject", s, "Subject"));
}

std::string Patch::Author() const {
  const std::string f = HeaderValue("From");
  if (f.find("=?") == std::string::npos) return f;
  return MailinfoField("From", f, "Author") + " <" + MailinfoField("From", f, "Email") + ">";
}

Patch ParsePatch(const std::string& text, const std::string& file) {
  Patch p;
  p.file = file;
  p.text = text;
  std::vector<std::string> lines = SplitLines(text);
  if (lines.empty()) throw Error(file, 0, "empty file (expected a git format-patch mail)");
  for (const auto& l : lines) {
    if (!l.empty() && l.back() == '\r') {
      throw Error(file, 0, "CRLF line endings (expected LF only)");
    }
  }

  size_t i = 0;
  if (StartsWith(lines[0], "From ")) {
    p.mbox_from_line = lines[0];
    i = 1;
  }
  // Mail headers up to the first empty line; continuation lines start with
  // white space.
  static const std::regex header_re(R"(^([A-Za-z0-9-]+):[ \t]?(.*)$)");
  for (; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const int lineno = static_cast<int>(i) + 1;
    if (l.empty()) break;
    if ((l[0] == ' ' || l[0] == '\t')) {
      if (p.headers.empty()) throw Error(file, lineno, "continuation line before any header");
      p.headers.back().value += l;
      continue;
    }
    std::smatch m;
    if (!std::regex_match(l, m, header_re)) {
      throw Error(file, lineno, "expected a mail header 'Name: value' or an empty line, got '" + l + "'");
    }
    p.headers.push_back({m[1].str(), m[2].str(), lineno});
  }
  if (p.headers.empty()) {
    throw Error(file, 1, "no mail headers (expected From:, Date:, Subject: as git format-patch writes)");
  }
  if (i >= lines.size()) throw Error(file, static_cast<int>(lines.size()), "headers never end (expected an empty line and a body)");
  for (const char* need : {"From", "Subject"}) {
    if (p.HeaderValue(need).empty()) {
      throw Error(file, 1, std::string("no '") + need + ":' header");
    }
  }
  ++i;  // the blank line
  p.body_line = static_cast<int>(i) + 1;
  {
    size_t off = 0;
    for (size_t k = 0; k < i; ++k) off += lines[k].size() + 1;
    p.body = off <= text.size() ? text.substr(off) : "";
  }

  // Commit message up to "---" (or the first diff when there is none).
  for (; i < lines.size(); ++i) {
    if (lines[i] == "---" || StartsWith(lines[i], "diff --git ")) break;
    p.message.push_back(lines[i]);
  }
  if (i >= lines.size()) {
    throw Error(file, static_cast<int>(lines.size()), "no '---' separator and no diff (expected a diff after the message)");
  }

  // The diff: file sections with complete hunks.
  long old_left = 0, new_left = 0;
  int hunk_line = 0;
  bool in_file = false;
  bool after_hunk = false;  // a hunk of this file section is complete
  for (; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const int lineno = static_cast<int>(i) + 1;
    if (old_left > 0 || new_left > 0) {
      char c = l.empty() ? ' ' : l[0];
      if (c == ' ') {
        --old_left;
        --new_left;
      } else if (c == '-') {
        --old_left;
      } else if (c == '+') {
        --new_left;
      } else if (c == '\\') {
        // "\ No newline at end of file"
      } else {
        throw Error(file, lineno, "hunk starting at line " + std::to_string(hunk_line) +
                    " ends early: expected " + std::to_string(old_left) + " more old and " +
                    std::to_string(new_left) + " more new lines");
      }
      if (old_left < 0 || new_left < 0) {
        throw Error(file, lineno, "hunk starting at line " + std::to_string(hunk_line) +
                    " has more lines than its header says");
      }
      continue;
    }
    if (StartsWith(l, "diff --git ")) {
      p.files.push_back(DiffPaths(l, lineno));
      in_file = true;
      after_hunk = false;
      continue;
    }
    if (l == "-- ") break;  // mail signature
    if (after_hunk && !l.empty() && (l[0] == '+' || l[0] == '-' || l[0] == ' ')) {
      throw Error(file, lineno, "hunk starting at line " + std::to_string(hunk_line) +
                  " has more lines than its header says");
    }
    if (StartsWith(l, "@@ ")) {
      if (!in_file) throw Error(file, lineno, "hunk before any 'diff --git' line");
      if (!ParseHunkHeader(l, &old_left, &new_left)) {
        throw Error(file, lineno, "malformed hunk header (expected '@@ -a,b +c,d @@')");
      }
      hunk_line = lineno;
      after_hunk = true;
      continue;
    }
  }
  if (old_left > 0 || new_left > 0) {
    throw Error(file, static_cast<int>(lines.size()), "file ends inside the hunk starting at line " +
                std::to_string(hunk_line) + ": expected " + std::to_string(old_left) + " more old and " +
                std::to_string(new_left) + " more new lines");
  }
  if (p.files.empty()) throw Error(file, 0, "no 'diff --git' section (expected a git diff)");
  return p;
}

std::string NormalizePatchDate(const std::string& text) {
  size_t header_end = text.find("\n\n");
  if (header_end == std::string::npos) return text;
  // Header lines only: search "\nDate: " up to the blank line.
  std::string head = "\n" + text.substr(0, header_end + 1);
  size_t pos = head.find("\nDate: ");
  const std::string fixed = std::string("Date: ") + kFixedDate;
  if (pos == std::string::npos) {
    return text.substr(0, header_end + 1) + fixed + "\n" + text.substr(header_end + 1);
  }
  // pos in head is the start of the line in text (head has one extra char).
  size_t eol = text.find('\n', pos);
  return text.substr(0, pos) + fixed + text.substr(eol);
}

Patch ReadPatch(const std::string& path) { return ParsePatch(ReadFile(path), path); }

}  // namespace patchq
