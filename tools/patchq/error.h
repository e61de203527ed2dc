// Error type for patchq: every error carries where it happened (a file and
// line when there is one) and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace patchq {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  // "file:line: message" (line 0 leaves it out).
  Error(const std::string& file, int line, const std::string& what)
      : std::runtime_error(Where(file, line) + what) {}

 private:
  static std::string Where(const std::string& file, int line) {
    if (file.empty()) return "";
    if (line <= 0) return file + ": ";
    return file + ":" + std::to_string(line) + ": ";
  }
};

}  // namespace patchq
