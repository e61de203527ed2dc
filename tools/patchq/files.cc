#include "tools/patchq/files.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tools/patchq/error.h"

namespace patchq {

bool ReadFileIfExists(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(p.string(), 0, "read error");
  *out = ss.str();
  return true;
}

std::string ReadFile(const fs::path& p) {
  std::string s;
  if (!ReadFileIfExists(p, &s)) throw Error(p.string(), 0, "cannot open: " + std::string(std::strerror(errno)));
  return s;
}

void WriteFile(const fs::path& p, const std::string& data) {
  // A device, pipe or terminal (-o /dev/stdout) is written to, never
  // replaced by a regular file.
  std::error_code st;
  if (fs::exists(p, st) && !fs::is_regular_file(p, st)) {
    std::ofstream out(p, std::ios::binary);
    if (!out) throw Error(p.string(), 0, "cannot open: " + std::string(std::strerror(errno)));
    out << data;
    out.flush();
    if (!out) throw Error(p.string(), 0, "write error");
    return;
  }
  fs::path tmp = p;
  tmp += ".patchq-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(tmp.string(), 0, "cannot create: " + std::string(std::strerror(errno)));
    out << data;
    out.flush();
    if (!out) {
      out.close();
      std::error_code ec;
      fs::remove(tmp, ec);  // no half-written file left behind
      throw Error(tmp.string(), 0, "write error");
    }
  }
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error(p.string(), 0, "cannot replace: " + ec.message());
  }
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) {
      lines.push_back(s.substr(pos));
      break;
    }
    lines.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

TempDir::TempDir(const std::string& tag) {
  const char* base = getenv("TEST_TMPDIR");
  if (!base || !*base) base = getenv("TMPDIR");
  if (!base || !*base) base = "/tmp";
  std::string templ = std::string(base) + "/" + tag + ".XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw Error(templ, 0, "mkdtemp: " + std::string(std::strerror(errno)));
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace patchq
