#include "tools/patchq/identity.h"

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"

namespace patchq {

Identity ParseIdentity(const std::string& text, const std::string& file) {
  Identity id;
  std::vector<std::string> lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string t = Trim(lines[i]);
    if (t.empty() || t[0] == '#') continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) {
      throw Error(file, static_cast<int>(i) + 1, "expected 'key = value'");
    }
    std::string key = Trim(t.substr(0, eq)), value = Trim(t.substr(eq + 1));
    // The first definition wins, as in scripts/lib.sh.
    if (key == "name" && id.name.empty()) id.name = value;
    if (key == "email" && id.email.empty()) id.email = value;
  }
  if (id.name.empty()) throw Error(file, 0, "no 'name = ...' line");
  if (id.email.empty()) throw Error(file, 0, "no 'email = ...' line");
  return id;
}

Identity ReadIdentity(const std::string& repo) {
  std::string path = repo + "/IDENTITY";
  return ParseIdentity(ReadFile(path), path);
}

}  // namespace patchq
