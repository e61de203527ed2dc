// One patch file as git format-patch writes it: mail headers, the commit
// message, "---", a diffstat and the diff.  Parsing checks the structure
// (headers present, hunks complete); the project rules are in lint.h.
#pragma once

#include <string>
#include <vector>

namespace patchq {

struct Header {
  std::string name;   // as written ("Subject")
  std::string value;  // unfolded
  int line = 0;
};

struct DiffFile {
  std::string old_path;  // a/ side without the prefix
  std::string path;      // b/ side without the prefix
  int line = 0;          // line of its "diff --git"
  // Git quotes unusual names ("diff --git \"a/x y\" ..."); those are kept
  // as written and flagged.
  bool quoted = false;
};

struct Patch {
  std::string file;             // path used in messages
  std::string text;             // the whole file
  std::string mbox_from_line;   // "From <sha> <date>" or "" when absent
  std::vector<Header> headers;  // in order
  int body_line = 0;            // line of the first body line
  std::string body;             // everything after the header's blank line
  std::vector<std::string> message;  // commit message body lines (before "---")
  std::vector<DiffFile> files;

  // Value of the first header called name (case-insensitive), or "".
  std::string HeaderValue(const std::string& name) const;
  int HeaderLine(const std::string& name) const;  // 0 when absent
  std::string Subject() const { return HeaderValue("Subject"); }
  // Subject decoded (RFC 2047) without leading "[PATCH ...]" tags.
  std::string Summary() const;
  // From: decoded ("Name <email>").
  std::string Author() const;
};

// Throws Error("file:line: ...") when the text is not a well-formed patch.
Patch ParsePatch(const std::string& text, const std::string& file);
Patch ReadPatch(const std::string& path);

// The fixed Date: every exported patch carries; import makes it the author
// and committer date, so the commits are the same on every machine.
inline constexpr const char* kFixedDate = "Sat, 1 Jan 2000 00:00:00 +0000";

// Sets the Date: mail header to kFixedDate (adding one when there is none).
std::string NormalizePatchDate(const std::string& text);

// Removes leading "[...]" tags and the space after them.
std::string StripSubjectTags(const std::string& subject);

}  // namespace patchq
