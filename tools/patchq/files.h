// Small file and text helpers: whole-file read/write, write-if-changed, line
// splitting, and an RAII temporary directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace patchq {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p);  // throws Error naming the file
bool ReadFileIfExists(const fs::path& p, std::string* out);
// Writes via a temporary file and rename, so readers never see half a file;
// a path that exists and is no regular file (a device, a pipe) is written to.
void WriteFile(const fs::path& p, const std::string& data);

// Without leading and trailing spaces, tabs, CRs and newlines.
std::string Trim(const std::string& s);

// With ASCII letters in lower case (mail addresses compare that way).
std::string AsciiLower(std::string s);

// Splits into lines without their '\n' (a final line without '\n' counts).
std::vector<std::string> SplitLines(const std::string& s);

// A directory under $TMPDIR (or $TEST_TMPDIR) removed with its contents on
// destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "patchq");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace patchq
