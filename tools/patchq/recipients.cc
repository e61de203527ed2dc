#include "tools/patchq/recipients.h"

#include <algorithm>
#include <cctype>

#include "tools/patchq/error.h"
#include "tools/patchq/files.h"
#include "tools/patchq/subprocess.h"

namespace patchq {
namespace {

// The address part, lowercased, for comparisons ("A <x@y>" -> "x@y").
std::string Key(const std::string& addr) {
  size_t lt = addr.rfind('<'), gt = addr.rfind('>');
  std::string k = lt != std::string::npos && gt != std::string::npos && gt > lt ? addr.substr(lt + 1, gt - lt - 1)
                                                                                : Trim(addr);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  return k;
}

bool Contains(const std::vector<std::string>& list, const std::string& addr) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& a) { return Key(a) == Key(addr); });
}

// Splits a header value on commas outside quotes and <>.
std::vector<std::string> SplitAddresses(const std::string& value) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  int angle = 0;
  for (char c : value) {
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '<') ++angle;
    if (!quoted && c == '>') --angle;
    if (c == ',' && !quoted && angle == 0) {
      if (!Trim(cur).empty()) out.push_back(Trim(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!Trim(cur).empty()) out.push_back(Trim(cur));
  return out;
}

}  // namespace

void Recipients::Add(const Recipients& other) {
  for (const auto& a : other.to) {
    if (!Contains(to, a)) to.push_back(a);
  }
  for (const auto& a : other.cc) {
    if (!Contains(to, a) && !Contains(cc, a)) cc.push_back(a);
  }
  // Promoted to To: by another patch: not in Cc: as well.
  std::erase_if(cc, [&](const std::string& a) { return Contains(to, a); });
}

Recipients ParseGetMaintainer(const std::string& output) {
  Recipients r;
  for (const auto& raw : SplitLines(output)) {
    const std::string line = Trim(raw);
    if (line.empty()) continue;
    // The role is in the parentheses after the address.
    size_t gt = line.find('>');
    size_t open = line.find(" (", gt == std::string::npos ? 0 : gt);
    std::string addr = Trim(open == std::string::npos ? line : line.substr(0, open));
    std::string role = open == std::string::npos ? "" : line.substr(open + 2);
    role = role.substr(0, role.find_first_of(":)"));
    if (addr.find('@') == std::string::npos) continue;
    Recipients one;
    if (role == "maintainer" || role == "supporter" || role == "odd fixer" || role == "chief penguin") {
      one.to.push_back(addr);
    } else {
      one.cc.push_back(addr);
    }
    r.Add(one);
  }
  return r;
}

Recipients GetMaintainer(const std::string& tree, const std::string& script, const std::string& patch_file) {
  if (!fs::exists(script)) {
    throw Error(script, 0, "get_maintainer.pl not found (expected the kernel tree's scripts/get_maintainer.pl)");
  }
  TempDir home("patchq-home");
  RunOptions ro;
  ro.cwd = tree;
  ro.env["HOME"] = home.path().string();
  RunResult res = Run({"perl", script, "--no-git", "--no-git-fallback", patch_file}, ro);
  if (!res.ok()) {
    throw Error(patch_file, 0, "get_maintainer.pl failed (exit " + std::to_string(res.status) + "): " + Trim(res.err));
  }
  return ParseGetMaintainer(res.out);
}

std::string AddRecipients(const std::string& message, const Recipients& r) {
  const size_t end = message.find("\n\n");
  if (end == std::string::npos) throw Error("a message without a header/body separator");
  // Each header with its continuation lines, as written.
  std::vector<std::string> headers;
  for (const auto& l : SplitLines(message.substr(0, end + 1))) {
    if (!headers.empty() && !l.empty() && (l[0] == ' ' || l[0] == '\t')) {
      headers.back() += "\n" + l;
    } else {
      headers.push_back(l);
    }
  }
  auto is = [](const std::string& h, const char* name) { return h.rfind(name, 0) == 0; };
  auto value = [](const std::string& h) {
    std::string v;
    for (const auto& l : SplitLines(h.substr(h.find(':') + 1))) v += " " + Trim(l);
    return v;
  };
  Recipients merged;
  for (const auto& h : headers) {
    if (is(h, "To: ")) merged.to = SplitAddresses(value(h));
    if (is(h, "Cc: ")) merged.cc = SplitAddresses(value(h));
  }
  merged.Add(r);
  auto render = [](const char* name, const std::vector<std::string>& list) {
    std::string s = std::string(name) + ": ";
    for (size_t i = 0; i < list.size(); ++i) s += (i ? ",\n    " : "") + list[i];
    return s + "\n";
  };
  std::string out;
  bool wrote_to = false, wrote_cc = false;
  for (const auto& h : headers) {
    if (is(h, "To: ")) {
      if (!merged.to.empty()) out += render("To", merged.to);
      wrote_to = true;
    } else if (is(h, "Cc: ")) {
      if (!merged.cc.empty()) out += render("Cc", merged.cc);
      wrote_cc = true;
    } else {
      out += h + "\n";
    }
  }
  // Headers git did not write go last, before the body.
  if (!wrote_to && !merged.to.empty()) out += render("To", merged.to);
  if (!wrote_cc && !merged.cc.empty()) out += render("Cc", merged.cc);
  return out + message.substr(end + 1);
}

}  // namespace patchq
