#include "tools/patchq/series.h"

#include <set>

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"

namespace patchq {
namespace {

bool IsCommentOrBlank(const std::string& line) {
  std::string t = Trim(line);
  return t.empty() || t[0] == '#';
}

}  // namespace

std::string Series::HeaderValue(const std::string& key) const {
  const std::string prefix = "# " + key + ":";
  for (const auto& l : header) {
    if (l.rfind(prefix, 0) == 0) return Trim(l.substr(prefix.size()));
  }
  return "";
}

void Series::SetHeaderValue(const std::string& key, const std::string& value) {
  const std::string prefix = "# " + key + ":";
  const std::string line = prefix + " " + value;
  for (auto& l : header) {
    if (l.rfind(prefix, 0) == 0) {
      l = line;
      return;
    }
  }
  // After the last comment line, so trailing blank lines stay trailing.
  size_t at = header.size();
  while (at > 0 && Trim(header[at - 1]).empty()) --at;
  header.insert(header.begin() + static_cast<long>(at), line);
}

std::string Series::Render() const {
  std::string out;
  for (const auto& l : header) out += l + "\n";
  for (const auto& p : patches) out += p.name + "\n";
  return out;
}

Series ParseSeries(const std::string& text, const std::string& file) {
  Series s;
  std::set<std::string> seen;
  std::vector<std::string> lines = SplitLines(text);
  bool in_header = true;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int lineno = static_cast<int>(i) + 1;
    const std::string& raw = lines[i];
    if (IsCommentOrBlank(raw)) {
      if (in_header) s.header.push_back(raw);
      continue;
    }
    in_header = false;
    std::string t = Trim(raw);
    size_t hash = t.find(" #");
    if (hash != std::string::npos) t = Trim(t.substr(0, hash));
    std::string name = t, opts;
    size_t sp = t.find_first_of(" \t");
    if (sp != std::string::npos) {
      name = t.substr(0, sp);
      opts = Trim(t.substr(sp));
    }
    if (!opts.empty() && opts != "-p1") {
      throw Error(file, lineno, "unsupported patch option '" + opts + "' (expected none or -p1)");
    }
    if (name.find('/') != std::string::npos) {
      throw Error(file, lineno, "patch name '" + name + "' has a directory part (expected a file in patches/)");
    }
    if (!seen.insert(name).second) {
      throw Error(file, lineno, "patch '" + name + "' is listed twice");
    }
    s.patches.push_back({name, lineno});
  }
  return s;
}

Series ReadSeries(const std::string& path) { return ParseSeries(ReadFile(path), path); }

}  // namespace patchq
